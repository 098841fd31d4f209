/// The verdict of `haha status`, decided from what the probes learned: pure, so every rule has a unit test.
///
/// - `healthy`: every node reachable and a Ready, active Swarm manager; the Swarm has quorum; every service runs its
///   desired replicas; every Galera member is Synced in a Primary Component of every data node; the Gluster volume is
///   started with every brick connected and nothing pending heal; Home Assistant and the broker answer; the sensor
///   address (VIP mode) is held by exactly one node.
/// - `down`: Home Assistant or the broker does not answer, or the Swarm has no quorum, or no Galera member is in a
///   Primary Component. Only what was learned makes a cluster `down`.
/// - `degraded`: anything else, which includes every fact that could not be learned: an unknown never counts as good,
///   so it never leaves a cluster `healthy`, and never makes one `down` either. Home Assistant and the broker are asked
///   directly from this machine, so they are always known; a cluster reported `degraded` is one they serve.
public enum ClusterHealth {
    public enum Verdict: String, Sendable, Codable, CaseIterable {
        case healthy, degraded, down

        /// `haha status`'s exit status: 0 healthy, 3 degraded, 4 down (1 stays "the command failed", e.g. an invalid spec).
        public var exitCode: Int32 {
            switch self {
            case .healthy: 0
            case .degraded: 3
            case .down: 4
            }
        }
    }

    /// What the probes learned. `nil` is "not known": a probe without an answer.
    public struct Facts: Sendable, Equatable {
        public struct Node: Sendable, Equatable {
            public var name: String
            public var reachable: Bool
            /// The node as the Swarm's managers list it; nil when no listing was had (no manager answered).
            public var swarm: SwarmNode?
            public init(name: String, reachable: Bool, swarm: SwarmNode?) {
                self.name = name
                self.reachable = reachable
                self.swarm = swarm
            }
        }

        public struct SwarmNode: Sendable, Equatable {
            /// `Status.State` is `ready`.
            public var ready: Bool
            /// `Spec.Role` is `manager`.
            public var manager: Bool
            /// `Spec.Availability` is `active` (not drained or paused).
            public var active: Bool
            public init(ready: Bool, manager: Bool, active: Bool) {
                self.ready = ready
                self.manager = manager
                self.active = active
            }
        }

        public struct Service: Sendable, Equatable {
            public var name: String
            /// `running/desired` as `docker service ls` prints it.
            public var replicas: String
            public init(name: String, replicas: String) {
                self.name = name
                self.replicas = replicas
            }
        }

        public struct GaleraMember: Sendable, Equatable {
            public var node: String
            /// Whether the server answered (false for a member whose node ssh cannot reach, or not running).
            public var running: Bool
            /// `wsrep_cluster_status` is `Primary`.
            public var primary: Bool
            public var synced: Bool
            public var clusterSize: Int?
            /// `wsrep_cluster_state_uuid`: the history the component carries.
            public var clusterUUID: String?
            public init(node: String, running: Bool, primary: Bool, synced: Bool, clusterSize: Int?, clusterUUID: String? = nil) {
                self.node = node
                self.running = running
                self.primary = primary
                self.synced = synced
                self.clusterSize = clusterSize
                self.clusterUUID = clusterUUID
            }
        }

        public struct Brick: Sendable, Equatable {
            /// `host:/path`, as Gluster names it.
            public var brick: String
            public var connected: Bool
            /// Entries the brick lists as needing heal (pending, split-brain, possibly healing); nil when not counted.
            public var entries: Int?
            /// Of those, the entries in split-brain (copies that disagree with no majority to heal from); nil when not
            /// counted. Gluster does not heal them by itself.
            public var splitBrain: Int?
            public init(brick: String, connected: Bool, entries: Int?, splitBrain: Int? = nil) {
                self.brick = brick
                self.connected = connected
                self.entries = entries
                self.splitBrain = splitBrain
            }
        }

        public struct Gluster: Sendable, Equatable {
            public var volume: String
            public var started: Bool
            public var bricks: [Brick]
            public init(volume: String, started: Bool, bricks: [Brick]) {
                self.volume = volume
                self.started = started
                self.bricks = bricks
            }
        }

        /// The sensor address in VIP mode: which nodes hold it, and on which nodes that could not be read; and the
        /// node whose fence holds Home Assistant's lease (nil: not known), where the address belongs.
        public struct SensorAddress: Sendable, Equatable {
            public var address: String
            public var holders: [String]
            public var unknownOn: [String]
            public var leaseHolder: String?
            public init(address: String, holders: [String], unknownOn: [String], leaseHolder: String? = nil) {
                self.address = address
                self.holders = holders
                self.unknownOn = unknownOn
                self.leaseHolder = leaseHolder
            }
        }

        public var nodes: [Node]
        public var swarmQuorum: Bool?
        public var services: [Service]?
        /// How many data nodes the spec has: the Galera cluster size wanted.
        public var dataNodes: Int
        public var galera: [GaleraMember]?
        public var gluster: Gluster?
        public var homeAssistantAnswers: Bool
        public var brokerAnswers: Bool
        /// nil when the spec has no VIP (mdns-hostname or none): no node holds an address then.
        public var sensorAddress: SensorAddress?

        public init(
            nodes: [Node], swarmQuorum: Bool?, services: [Service]?, dataNodes: Int,
            galera: [GaleraMember]?, gluster: Gluster?, homeAssistantAnswers: Bool, brokerAnswers: Bool, sensorAddress: SensorAddress?
        ) {
            self.nodes = nodes
            self.swarmQuorum = swarmQuorum
            self.services = services
            self.dataNodes = dataNodes
            self.galera = galera
            self.gluster = gluster
            self.homeAssistantAnswers = homeAssistantAnswers
            self.brokerAnswers = brokerAnswers
            self.sensorAddress = sensorAddress
        }
    }

    public struct Assessment: Sendable, Equatable {
        public var verdict: Verdict
        /// Why it is not healthy, most serious first: what makes it down, what makes it degraded, what is not known.
        public var reasons: [String]
    }

    /// The verdict and its reasons; `healthy` only when every fact is known and good.
    public static func assess(_ facts: Facts) -> Assessment {
        var down: [String] = [], degraded: [String] = [], unknown: [String] = []

        if !facts.homeAssistantAnswers { down.append("Home Assistant does not answer") }
        if !facts.brokerAnswers { down.append("the broker does not answer") }
        switch facts.swarmQuorum {
        case false?: down.append("the Swarm has no quorum")
        case nil: unknown.append("not known whether the Swarm has quorum")
        case true?: break
        }

        // The first nodes are the managers, an odd number up to five (`NodeMembership.managerCount`).
        let managers = NodeMembership.managerCount(facts.nodes.count)
        for (index, node) in facts.nodes.enumerated() {
            guard node.reachable else {
                degraded.append("\(node.name) not reachable")
                continue
            }
            guard let swarm = node.swarm else {
                if facts.swarmQuorum == true { degraded.append("\(node.name) not in the Swarm") }
                continue
            }
            var missing: [String] = []
            if !swarm.ready { missing.append("not Ready") }
            if !swarm.manager && index < managers { missing.append("not a manager") }
            if !swarm.active { missing.append("drained") }
            if !missing.isEmpty { degraded.append("\(node.name) \(missing.joined(separator: ", ")) in the Swarm") }
        }

        if let services = facts.services {
            if services.isEmpty { degraded.append("no service of the stack runs") }
            for service in services where !replicasComplete(service.replicas) {
                degraded.append("\(service.name) \(service.replicas)")
            }
        } else {
            unknown.append("services not known")
        }

        if let members = facts.galera {
            let answered = members.filter(\.running)
            if !members.contains(where: \.primary) {
                // A minority cannot hold the Primary Component of every data node: when most members answered and
                // none is Primary, there is none; with fewer answers, one may run where haha cannot look.
                if answered.count * 2 > facts.dataNodes {
                    down.append("no Galera member is in a Primary Component")
                } else {
                    unknown.append(
                        "not known whether a Galera Primary Component exists (\(answered.count) of \(facts.dataNodes) members answered)")
                }
            }
            for member in members where !member.synced {
                degraded.append("Galera member \(member.node) \(member.running ? "not Synced" : "not answering")")
            }
            // A component re-formed from members that started without a position has no history (seen on the lab
            // after a power cut of every node, before the watchdog recovered positions): it serves, but no member can
            // join it by state transfer.
            let historyless = members.filter { $0.primary && $0.clusterUUID == GaleraRecovery.nilUUID }.map(\.node)
            if !historyless.isEmpty {
                degraded.append(
                    "Galera's primary component on \(historyless.joined(separator: ", ")) has no history (cluster UUID 0): "
                        + "a member that needs a state transfer cannot join it; `haha up` starts it again from the most advanced member")
            }
            let sizes = Set(answered.compactMap(\.clusterSize))
            if let size = sizes.min(), size != facts.dataNodes || sizes.count > 1 {
                degraded.append("Galera cluster size \(size), \(facts.dataNodes) data nodes")
            }
        } else {
            unknown.append("Galera members not known")
        }

        if let gluster = facts.gluster {
            if !gluster.started { degraded.append("Gluster volume \(gluster.volume) not started") }
            if gluster.bricks.isEmpty { degraded.append("Gluster volume \(gluster.volume) has no bricks") }
            for brick in gluster.bricks where !brick.connected { degraded.append("brick \(brick.brick) offline") }
            let pending = gluster.bricks.compactMap(\.entries).reduce(0, +)
            if pending > 0 { degraded.append("\(pending) \(pending == 1 ? "entry" : "entries") pending heal") }
            // A file in split-brain stays so until someone picks a copy: Mosquitto's guard, for one, will not start the
            // broker on a mosquitto.db it cannot read, so it is named here rather than left inside the count above.
            let split = gluster.bricks.filter { ($0.splitBrain ?? 0) > 0 }
            if !split.isEmpty {
                let counts = split.map { "\($0.splitBrain ?? 0) on \($0.brick)" }.joined(separator: ", ")
                degraded.append(
                    "entries in split-brain (\(counts)), which Gluster does not heal by itself: `gluster volume heal \(gluster.volume) info split-brain` names them; see the README's \"Split-brain\""
                )
            }
            let uncounted = gluster.bricks.filter { $0.connected && $0.entries == nil }
            if !uncounted.isEmpty {
                unknown.append("entries pending heal not counted on \(uncounted.map(\.brick).joined(separator: ", "))")
            }
        } else {
            unknown.append("Gluster volume not known")
        }

        if let sensor = facts.sensorAddress {
            switch sensor.holders.count {
            case 1:
                // keepalived lets only the lease holder's node hold it: elsewhere, sensors reach no Home Assistant.
                if let lease = sensor.leaseHolder, sensor.holders[0] != lease {
                    degraded.append("the sensor address \(sensor.address) is on \(sensor.holders[0]), but the lease holder is \(lease)")
                }
            case 0: degraded.append("no node holds the sensor address \(sensor.address)")
            default: degraded.append("the sensor address \(sensor.address) is held by \(sensor.holders.joined(separator: " and "))")
            }
            if !sensor.unknownOn.isEmpty {
                unknown.append("not known whether \(sensor.unknownOn.joined(separator: ", ")) holds the sensor address")
            }
        }

        let verdict: Verdict = !down.isEmpty ? .down : (degraded.isEmpty && unknown.isEmpty ? .healthy : .degraded)
        return Assessment(verdict: verdict, reasons: down + degraded + unknown)
    }

    /// `1/1`, `3/3`, `3/3 (max 1 per node)`: as many tasks running as wanted (and at least one wanted).
    static func replicasComplete(_ replicas: String) -> Bool {
        let counts = replicas.split(separator: " ").first?.split(separator: "/") ?? []
        guard counts.count == 2, let running = Int(counts[0]), let desired = Int(counts[1]) else { return false }
        return running == desired && desired > 0
    }
}
