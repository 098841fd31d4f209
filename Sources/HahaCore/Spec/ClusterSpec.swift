/// The internal model of a cluster, decoded from `haha.yaml` (apiVersion `haha/v1`) with every default filled in.
public struct ClusterSpec: Sendable, Equatable, Codable {
    public static let apiVersion = "haha/v1"

    public var name: String
    public var nodes: [Node]
    public var storage: Storage
    public var database: Database
    public var mqtt: MQTT
    public var homeAssistant: HomeAssistant
    public var sensorAddress: SensorAddress
    public var images: Images
    public var routing: Routing
    public var portainer: Portainer
    /// Directory holding the secret files, relative to the spec file unless absolute.
    public var secretsDir: String
    /// A known_hosts file for the nodes' SSH host keys (default: the user's own, trusting new hosts on first use).
    public var knownHostsFile: String?

    public init(
        name: String = "haha", nodes: [Node], storage: Storage = .init(), database: Database = .init(),
        mqtt: MQTT = .init(), homeAssistant: HomeAssistant = .init(), sensorAddress: SensorAddress = .none,
        images: Images = .init(), routing: Routing = .mesh, portainer: Portainer = .init(),
        secretsDir: String = "haha-secrets"
    ) {
        self.name = name
        self.nodes = nodes
        self.storage = storage
        self.database = database
        self.mqtt = mqtt
        self.homeAssistant = homeAssistant
        self.sensorAddress = sensorAddress
        self.images = images
        self.routing = routing
        self.portainer = portainer
        self.secretsDir = secretsDir
    }

    public struct Node: Sendable, Equatable, Codable {
        public enum Role: String, Sendable, Codable, CaseIterable { case data, arbiter }
        public var name: String
        public var address: String
        public var user: String
        public var port: Int
        public var identityFile: String?
        public var role: Role

        public init(name: String, address: String, user: String = "root", port: Int = 22, identityFile: String? = nil, role: Role = .data) {
            self.name = name
            self.address = address
            self.user = user
            self.port = port
            self.identityFile = identityFile
            self.role = role
        }
    }

    public struct Storage: Sendable, Equatable, Codable {
        public var volume: String = "haha"
        public var brickPath: String = "/var/lib/haha/brick"
        public var mountPath: String = "/var/lib/haha/shared"
        /// Seconds a Gluster client waits for a dead server (`network.ping-timeout`; Gluster's default is 42).
        public var pingTimeout: Int = 2
        public init() {}
    }

    public struct Database: Sendable, Equatable, Codable {
        public var clusterName: String = "haha"
        public var name: String = "homeassistant"
        public var user: String = "homeassistant"
        public var gcacheSize: String = "128M"
        public var bufferPoolSize: String = "128M"
        public var memoryLimit: String = "512M"
        /// Encrypt the overlay network that carries database traffic (IPsec; needs the kernel's ESP support).
        public var encryptedNetwork: Bool = true
        public init() {}
    }

    public struct MQTT: Sendable, Equatable, Codable {
        public var port: Int = 1883
        /// Broker users; each gets a password file `mqtt-USER-password` in the secrets directory.
        public var users: [String] = ["homeassistant", "devices"]
        /// Topic rules for the broker's ACL file. A user with rules gets exactly those; a user without any may
        /// read and write every topic. homeassistant always may; healthcheck may only read `$SYS/#`.
        public var acl: [TopicRule] = []
        public init() {}

        public struct TopicRule: Sendable, Equatable, Codable {
            public enum Access: String, Sendable, Codable, CaseIterable { case read, write, readwrite, deny }
            public var user: String
            public var access: Access
            public var topic: String
            public init(user: String, access: Access, topic: String) {
                self.user = user
                self.access = access
                self.topic = topic
            }
        }
    }

    public struct HomeAssistant: Sendable, Equatable, Codable {
        public var timeZone: String = "UTC"
        public var port: Int = 8123
        public var name: String = "Home"
        public var memoryLimit: String = "1G"
        /// SQLAlchemy scheme of the recorder URL: `mysql` (mysqlclient, in the official image) or `mysql+pymysql`.
        public var recorderScheme: String = "mysql"
        /// Start Home Assistant with `--skip-pip` (the lab's offline image has every requirement installed).
        public var skipPip: Bool = false
        /// Run Home Assistant on its node's own network (host networking, as an official container install), so that
        /// discovery (mDNS/zeroconf, SSDP, DHCP) sees the LAN. Needs `routing: proxy`.
        public var hostNetwork: Bool = false
        /// Who moves Home Assistant when its node fails: haha's fence, or Swarm alone as the original project did.
        public var failover: Failover = .fenced
        public init() {}

        public enum Failover: String, Sendable, Equatable, Codable, CaseIterable {
            /// The fence: Home Assistant runs only on the node that holds the lease on the shared volume; the broker
            /// (routing: proxy) and the sensor address follow it; Gluster (and, on the routing mesh, Swarm) detects a dead node
            /// within seconds (`SwarmHeartbeat`).
            case fenced
            /// For comparison with the original project: Swarm alone restarts Home Assistant and the broker (one replica
            /// each), with Swarm's 5 s heartbeat and Gluster's own timeouts. No fence: two Home Assistants are possible
            /// during a partition; failover takes about a minute.
            case swarm
        }
    }

    public enum SensorAddress: Sendable, Equatable, Codable {
        case none
        /// A floating address (VRRP via keepalived) that follows a live node.
        case vip(VIP)
        /// The original project's mode: every node announces the same mDNS host name; avahi restarts every minute.
        case mdnsHostname(String)

        public struct VIP: Sendable, Equatable, Codable {
            /// The prefix lengths a VIP can have (a /0 network is no subnet to share).
            public static let prefixLengths = 1...32
            /// What `init(parsing:)` accepts, for messages.
            public static let syntax = "an IPv4 ADDRESS or ADDRESS/PREFIX with a prefix length of 1...32"

            /// Why a text or a built VIP is not one.
            public enum ParseError: Error, Equatable, CustomStringConvertible {
                /// Not `ADDRESS[/PREFIX]` with a whole-number prefix.
                case syntax(String)
                case prefixLength(Int)
                case address(String)

                public var description: String {
                    switch self {
                    case .syntax(let text): return "\"\(text)\" is not \(VIP.syntax)"
                    case .prefixLength(let length): return "the prefix length /\(length) is out of range: a VIP is \(VIP.syntax)"
                    case .address(let address): return "\"\(address)\" is not an IPv4 address"
                    }
                }
            }

            /// The one parser of a VIP, for `haha.yaml`, `--vip` and the validator alike: `ADDRESS[/PREFIX]`, prefix 24 when
            /// left out, the address four decimal octets, the prefix in 1...32.
            public init(parsing text: String, interface: String = SensorAddress.defaultInterface, mdnsName: String? = nil)
                throws(ParseError)
            {
                let parts = text.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count <= 2 else { throw .syntax(text) }
                var prefixLength = 24
                if parts.count == 2 {
                    guard !parts[1].isEmpty, parts[1].allSatisfy(\.isASCIIDigit), let parsed = Int(parts[1]) else { throw .syntax(text) }
                    prefixLength = parsed
                }
                self.init(address: String(parts[0]), prefixLength: prefixLength, interface: interface, mdnsName: mdnsName)
                _ = try checked()
            }

            /// The address and prefix length as the parser accepts them; a VIP built in code is judged here too.
            public func checked() throws(ParseError) -> (address: IPv4Address, prefixLength: Int) {
                guard Self.prefixLengths.contains(prefixLength) else { throw .prefixLength(prefixLength) }
                guard let parsed = IPv4Address(address) else { throw .address(address) }
                return (parsed, prefixLength)
            }

            public var address: String
            public var prefixLength: Int
            public var interface: String
            public var mdnsName: String?
            public init(
                address: String, prefixLength: Int = 24, interface: String = SensorAddress.defaultInterface, mdnsName: String? = nil
            ) {
                self.address = address
                self.prefixLength = prefixLength
                self.interface = interface
                self.mdnsName = mdnsName
            }
        }

        /// The `mode` of each case in `haha.yaml`.
        public static let modes = ["vip", "mdns-hostname", "none"]
        /// The name every node announces in mdns-hostname mode unless the spec names one (the original project's).
        public static let defaultHostname = "hacluster"
        /// The interface that carries a VIP unless the spec names one.
        public static let defaultInterface = "eth0"

        public var vip: VIP? {
            if case .vip(let vip) = self { return vip }
            return nil
        }
    }

    public struct Images: Sendable, Equatable, Codable {
        public var homeAssistant = "ghcr.io/home-assistant/home-assistant:2026.11.0"
        public var mariadb = "mariadb:11.8"
        public var mosquitto = "eclipse-mosquitto:2"
        public var haproxy = "haproxy:3.2"
        public var portainer = "portainer/portainer-ce:2.33.3"
        public var portainerAgent = "portainer/agent:2.33.3"
        public init() {}
    }

    /// How clients reach Home Assistant and the broker through any node.
    public enum Routing: String, Sendable, Equatable, Codable, CaseIterable {
        /// Swarm's ingress routing mesh (needs IPVS in the nodes' kernels).
        case mesh
        /// HAProxy on every node with host-mode ports, health-checked (works without IPVS).
        case proxy
    }

    public struct Portainer: Sendable, Equatable, Codable {
        public var enabled = false
        public var port = 9443
        public init() {}
    }

    // MARK: Derived facts

    public var dataNodes: [Node] { nodes.filter { $0.role == .data } }
    public var arbiter: Node? { nodes.first { $0.role == .arbiter } }
    /// Whether haha's fence runs Home Assistant (`homeAssistant.failover: fenced`).
    public var fenced: Bool { homeAssistant.failover == .fenced }

    /// Swarm stack name.
    public var stackName: String { name }
}
