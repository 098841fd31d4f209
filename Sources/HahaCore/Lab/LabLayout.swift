/// Where everything of a lab cluster lives: names, addresses, labels and the `docker run` of each node.
/// Pure; the lab driver executes it.
public struct LabLayout: Sendable, Equatable {
    public var name: String
    public var nodeCount: Int
    public var arbiter: Bool
    /// Base of the lab network, a /24 (`172.30.77.0` gives gateway .1, nodes .11, .12, …, VIP .100).
    public var subnetBase: IPv4Address
    public var user: String

    public static let labelKey = "org.haha.lab"
    public static let nodeLabelKey = "org.haha.lab.node"
    public static let runtime = "haha-lab"

    public init(
        name: String = "haha-lab", nodeCount: Int = 3, arbiter: Bool = false,
        subnetBase: IPv4Address = IPv4Address(172 << 24 | 30 << 16 | 77 << 8), user: String = "pi"
    ) {
        self.name = name
        self.nodeCount = nodeCount
        self.arbiter = arbiter
        self.subnetBase = subnetBase
        self.user = user
    }

    public struct Node: Sendable, Equatable {
        public var name: String
        public var address: IPv4Address
        public var role: ClusterSpec.Node.Role
        public var container: String
        public var volumes: [(volume: String, path: String)]

        public static func == (a: Node, b: Node) -> Bool {
            a.name == b.name && a.address == b.address && a.role == b.role && a.container == b.container
                && a.volumes.map(\.volume) == b.volumes.map(\.volume) && a.volumes.map(\.path) == b.volumes.map(\.path)
        }
    }

    public var network: String { name }
    /// Linux bridge name (at most 15 characters).
    public var bridge: String { String("br-\(name)".prefix(15)) }
    public var subnet: String { "\(subnetBase)/24" }
    public var gateway: IPv4Address { IPv4Address(subnetBase.value + 1) }
    public var vip: IPv4Address { IPv4Address(subnetBase.value + 100) }

    public var nodes: [Node] {
        (0..<nodeCount).map { index in
            let nodeName = "n\(index + 1)"
            let container = "\(name)-\(nodeName)"
            return Node(
                name: nodeName,
                address: IPv4Address(subnetBase.value + 11 + UInt32(index)),
                role: arbiter && index == nodeCount - 1 ? .arbiter : .data,
                container: container,
                volumes: [
                    ("\(container)-docker", "/var/lib/docker"), ("\(container)-glusterd", "/var/lib/glusterd"),
                    ("\(container)-bricks", "/bricks"),
                ])
        }
    }

    public func node(named nodeName: String) -> Node? {
        nodes.first { $0.name == nodeName || $0.container == nodeName }
    }

    /// `docker run` arguments for one node. `keysPath` is the host file with the lab's public key.
    public func runArguments(for node: Node, image: String, keysPath: String) -> [String] {
        var args = [
            "docker", "run", "-d", "--name", node.container, "--hostname", node.name,
            "--runtime", Self.runtime, "--privileged",
            "--network", network, "--ip", node.address.description,
            "--tmpfs", "/run", "--tmpfs", "/tmp",
            "--label", "\(Self.labelKey)=\(name)", "--label", "\(Self.nodeLabelKey)=\(node.name)",
            "--env", "HAHA_LAB_DNS=\(gateway)",
            // Names outside the lab never resolve; fail in a second instead of timing out for twenty.
            "--dns-option", "timeout:1", "--dns-option", "attempts:1",
            "--volume", "\(keysPath):/etc/haha-lab/authorized_keys:ro",
            "--stop-timeout", "30",
        ]
        for other in nodes { args += ["--add-host", "\(other.name):\(other.address)"] }
        for (volume, path) in node.volumes { args += ["--volume", "\(volume):\(path)"] }
        args.append(image)
        return args
    }

    /// The cluster spec for this lab: proxy routing (the lab kernel has no IPVS), no IPsec (no ESP),
    /// the lab's own images, key and known-hosts file. Paths are relative to the lab directory.
    public func spec(images: ClusterSpec.Images) -> ClusterSpec {
        var spec = ClusterSpec(
            name: "haha",
            nodes: nodes.map {
                ClusterSpec.Node(
                    name: $0.name, address: $0.address.description, user: user, port: 22,
                    identityFile: "ssh/id_ed25519", role: $0.role)
            },
            sensorAddress: .vip(.init(address: vip.description, prefixLength: 24, interface: "eth0", mdnsName: "homeassistant")),
            images: images,
            routing: .proxy)
        spec.knownHostsFile = "ssh/known_hosts"
        spec.storage.brickPath = "/bricks/haha"
        spec.database.encryptedNetwork = false
        spec.homeAssistant.recorderScheme = "mysql+pymysql"
        spec.homeAssistant.skipPip = true
        return spec
    }

    /// Tags of the lab's stand-in service images (built by `haha lab images`).
    public static let serviceImages = ClusterSpec.Images(
        homeAssistant: "haha-lab/home-assistant:2026.11.0", mariadb: "haha-lab/mariadb:11.8",
        mosquitto: "haha-lab/mosquitto:2", haproxy: "haha-lab/haproxy:3.2")
}

extension ClusterSpec.Images {
    public init(homeAssistant: String, mariadb: String, mosquitto: String, haproxy: String) {
        self.init()
        self.homeAssistant = homeAssistant
        self.mariadb = mariadb
        self.mosquitto = mosquitto
        self.haproxy = haproxy
    }
}
