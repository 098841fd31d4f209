/// The secret files a cluster needs, all in the secrets directory (mode 0700), each mode 0600.
public enum SecretCatalog {
    public static let mariadbRoot = "mariadb-root-password"
    public static let recorder = "recorder-password"
    public static let galeraSST = "galera-sst-password"
    public static let mqttHealthcheck = "mqtt-healthcheck-password"
    public static let homeAssistantOwner = "homeassistant-owner-password"

    public static func mqttUser(_ user: String) -> String { "mqtt-\(user)-password" }

    /// Every secret file the spec needs, in a stable order.
    public static func required(for spec: ClusterSpec) -> [String] {
        [mariadbRoot, recorder, galeraSST, homeAssistantOwner, mqttHealthcheck] + spec.mqtt.users.map(mqttUser)
    }

    public static let passwordLength = 40
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// A password of `passwordLength` characters drawn uniformly from 62 letters and digits (≈ 238 bits).
    /// Letters and digits only, so it needs no quoting in URLs, option files or YAML.
    public static func generatePassword<G: RandomNumberGenerator>(using generator: inout G) -> String {
        String((0..<passwordLength).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
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
