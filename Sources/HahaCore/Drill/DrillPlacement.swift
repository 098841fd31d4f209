/// Which node a drill fails (`--target`), and what else that node was doing.
public enum DrillTarget: String, Sendable, Codable, CaseIterable {
    /// The node running Home Assistant's task.
    case homeassistant
    /// The Swarm raft leader.
    case leader
    /// The node running the broker's task.
    case broker
    /// The node holding the sensor address (the keepalived VIP).
    case vip
}

/// A part a node plays in the cluster at the moment of the fault.
public enum DrillRole: String, Sendable, Codable, CaseIterable {
    case homeassistant, leader, broker, vip

    /// How the text report names it.
    public var title: String {
        switch self {
        case .homeassistant: return "Home Assistant"
        case .leader: return "raft leader"
        case .broker: return "broker"
        case .vip: return "sensor address"
        }
    }
}

/// Where each role was just before the fault, in spec node names; nil (or empty) when nothing holds it.
public struct DrillPlacement: Sendable, Equatable, Codable {
    public var homeAssistant: String?
    public var broker: String?
    public var leader: String?
    /// The nodes holding the VIP: one normally, none without a VIP (or keepalived down), two in a VRRP split.
    public var sensorAddress: [String]

    public init(homeAssistant: String? = nil, broker: String? = nil, leader: String? = nil, sensorAddress: [String] = []) {
        self.homeAssistant = homeAssistant
        self.broker = broker
        self.leader = leader
        self.sensorAddress = sensorAddress
    }

    /// The Swarm node (host name) of a service's running task, from `docker service ps SERVICE --filter
    /// desired-state=running --format "{{.Node}} {{.CurrentState}}"`: the first task whose state is Running; nil when
    /// none is (still starting, or no task). Without the fence (`homeAssistant.failover: swarm`) this is how haha finds
    /// the node running Home Assistant: its one task's, as for a broker that follows no lease.
    public static func runningNode(inTaskList listing: String) -> String? {
        listing.split(whereSeparator: \.isNewline).first { $0.contains("Running") }
            .flatMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// The node a target names, or why there is none (a drill then cuts nothing).
    public enum Choice: Sendable, Equatable {
        case node(String)
        case unavailable(String)
    }

    public func victim(for target: DrillTarget) -> Choice {
        switch target {
        case .homeassistant:
            return homeAssistant.map(Choice.node) ?? .unavailable("Home Assistant is not running")
        case .broker:
            return broker.map(Choice.node) ?? .unavailable("the broker is not running")
        case .leader:
            return leader.map(Choice.node) ?? .unavailable("no Swarm manager is the raft leader")
        case .vip:
            switch sensorAddress.count {
            case 0: return .unavailable("no node holds the sensor address")
            case 1: return .node(sensorAddress[0])
            default:
                return .unavailable(
                    "\(sensorAddress.joined(separator: " and ")) each hold the sensor address (a VRRP split)")
            }
        }
    }

    /// The roles `node` had, in a fixed order.
    public func roles(of node: String) -> [DrillRole] {
        var roles: [DrillRole] = []
        if homeAssistant == node { roles.append(.homeassistant) }
        if leader == node { roles.append(.leader) }
        if broker == node { roles.append(.broker) }
        if sensorAddress.contains(node) { roles.append(.vip) }
        return roles
    }

    /// The Swarm id of the raft leader in `docker node ls --format '{{.ID}} {{.ManagerStatus}}'` (one node a line,
    /// the status `Leader`, `Reachable`, `Unreachable` or empty for a worker); nil when no line says `Leader`.
    public static func leaderID(inNodeList listing: String) -> String? {
        for line in listing.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.count == 2, fields[1] == "Leader" { return String(fields[0]) }
        }
        return nil
    }

    /// Whether `ip -o -4 addr show` lists `address` on this node (as `inet ADDRESS/PREFIX`, on any interface).
    public static func holds(_ address: String, ipAddresses listing: String) -> Bool {
        listing.split(separator: "\n").contains { line in
            let words = line.split(whereSeparator: \.isWhitespace)
            return zip(words, words.dropFirst()).contains { word, next in
                word == "inet" && next.split(separator: "/").first.map(String.init) == address
            }
        }
    }
}
