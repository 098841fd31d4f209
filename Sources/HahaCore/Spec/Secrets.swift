/// The secret files a cluster needs, all in the secrets directory (mode 0700), each mode 0600.
public enum SecretCatalog {
    public static let mariadbRoot = "mariadb-root-password"
    public static let recorder = "recorder-password"
    public static let galeraSST = "galera-sst-password"
    public static let mqttHealthcheck = "mqtt-healthcheck-password"
    public static let homeAssistantOwner = "homeassistant-owner-password"
    /// Only with a VIP: keepalived's VRRP password is derived from it (`vrrpAuthPass`).
    public static let vrrp = "vrrp-password"
    /// Only with Portainer: the shared secret its agents require from the server (`AGENT_SECRET`).
    public static let portainerAgent = "portainer-agent-secret"

    public static func mqttUser(_ user: String) -> String { "mqtt-\(user)-password" }

    /// Every secret file the spec needs, in a stable order.
    public static func required(for spec: ClusterSpec) -> [String] {
        var names = [mariadbRoot, recorder, galeraSST, homeAssistantOwner, mqttHealthcheck] + spec.mqtt.users.map(mqttUser)
        if case .vip = spec.sensorAddress { names.append(vrrp) }
        if spec.portainer.enabled { names.append(portainerAgent) }
        return names
    }

    public static let passwordLength = 40
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// A password of `passwordLength` characters drawn uniformly from 62 letters and digits (≈ 238 bits).
    /// Letters and digits only, so it needs no quoting in URLs, option files or YAML.
    public static func generatePassword<G: RandomNumberGenerator>(using generator: inout G) -> String {
        String((0..<passwordLength).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// keepalived's `auth_pass` takes at most 8 characters and VRRP sends it in clear on the LAN: 8 letters and
    /// digits drawn from HMAC-SHA512 of the `vrrp-password` secret, so what the wire shows reveals nothing of it.
    public static func vrrpAuthPass(_ secret: String, cluster: String) -> String {
        derive(from: secret, purpose: "haha vrrp auth_pass \(cluster)", length: 8)
    }

    /// `length` characters of the alphabet from HMAC-SHA512(secret, purpose), without modulo bias:
    /// bytes of 248 and above (248 = 4 × 62) are skipped, and a counter extends the stream if needed.
    static func derive(from secret: String, purpose: String, length: Int) -> String {
        var out: [Character] = []
        var counter = 0
        while out.count < length {
            let block = SHA512.hmac(key: Array(secret.utf8), message: Array("\(purpose) \(counter)".utf8))
            for byte in block where byte < 248 && out.count < length {
                out.append(alphabet[Int(byte) % alphabet.count])
            }
            counter += 1
        }
        return String(out)
    }
}

/// What the system layer found in the secrets directory; validation judges it without touching files.
public struct SecretsSnapshot: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        public var exists: Bool
        public var mode: UInt16?
        public var isEmpty: Bool
        /// The file's text, when it could be read, for the validator to judge (blank, alphabet, length). Never printed.
        public var value: String?
        public init(exists: Bool, mode: UInt16? = nil, isEmpty: Bool = false, value: String? = nil) {
            self.exists = exists
            self.mode = mode
            self.isEmpty = isEmpty
            self.value = value
        }
    }

    public var directory: String
    public var directoryExists: Bool
    public var directoryMode: UInt16?
    public var files: [String: File]

    public init(directory: String, directoryExists: Bool, directoryMode: UInt16? = nil, files: [String: File] = [:]) {
        self.directory = directory
        self.directoryExists = directoryExists
        self.directoryMode = directoryMode
        self.files = files
    }
}

/// The secret values, read by the system layer, handed to renderers. Never printed.
public struct SecretValues: Sendable {
    private var values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public subscript(name: String) -> String {
        values[name] ?? ""
    }

    public func contains(_ name: String) -> Bool { values[name] != nil }

    public var all: [String] { Array(values.values) }
}
