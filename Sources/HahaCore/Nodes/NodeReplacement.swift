/// `haha node replace`: the decisions, without I/O. A dead node's machine is replaced by a fresh one at the same or a
/// new address; the survivors keep quorum throughout and the new machine gets the dead one's brick, Swarm role and
/// Galera member.
public enum NodeReplacement {
    /// What the survivors and the new machine said before anything changes.
    public struct Facts: Sendable, Equatable {
        /// The node's name in the spec and its address there before the replacement.
        public var node: String
        public var oldAddress: String
        public var newAddress: String
        /// The new machine's `docker info` Swarm state (`inactive` when it is in no swarm); nil when it did not answer.
        public var newSwarmState: String?
        /// The Swarm records labelled as the node (`docker node ls --filter node.label=haha-node=NAME`), with their
        /// state (`ready`, `down`, `unknown`) as the managers see them.
        public var swarmRecords: [(id: String, state: String)]
        /// Managers in the swarm and how many of them are reachable.
        public var managers: Int
        public var reachableManagers: Int
        /// The Galera members of the other data nodes that are Synced in a Primary Component.
        public var syncedSurvivors: [String]
        /// Whether the node is a data node (it has a Galera member).
        public var isDataNode: Bool
        /// The volume's bricks (`host:/path`), and whether the volume has an arbiter brick (replica 2 + arbiter).
        public var bricks: [String]
        public var arbiterBrick: String?
        /// The trusted pool as a survivor sees it (connected means in the cluster and connected), and the name the
        /// pool knows the dead machine by (its address or its host name), nil when it is not in the pool.
        public var pool: [GlusterOutput.Peer]
        public var oldPeer: String?
        /// Whether the spec gives the node a brick, and the arbiter brick.
        public var isBrickNode: Bool
        public var isArbiterNode: Bool
        public var brickPath: String
        /// The addresses of the spec's other nodes (a brick on none of them, nor on the new address, is the dead one's).
        public var otherAddresses: [String]

        public init(
            node: String, oldAddress: String, newAddress: String, newSwarmState: String?, swarmRecords: [(id: String, state: String)],
            managers: Int, reachableManagers: Int, syncedSurvivors: [String], isDataNode: Bool, bricks: [String], arbiterBrick: String?,
            pool: [GlusterOutput.Peer], oldPeer: String?, isBrickNode: Bool, isArbiterNode: Bool, brickPath: String,
            otherAddresses: [String] = []
        ) {
            self.otherAddresses = otherAddresses
            self.node = node
            self.oldAddress = oldAddress
            self.newAddress = newAddress
            self.newSwarmState = newSwarmState
            self.swarmRecords = swarmRecords
            self.managers = managers
            self.reachableManagers = reachableManagers
            self.syncedSurvivors = syncedSurvivors
            self.isDataNode = isDataNode
            self.bricks = bricks
            self.arbiterBrick = arbiterBrick
            self.pool = pool
            self.oldPeer = oldPeer
            self.isBrickNode = isBrickNode
            self.isArbiterNode = isArbiterNode
            self.brickPath = brickPath
        }

        public static func == (a: Facts, b: Facts) -> Bool {
            a.node == b.node && a.oldAddress == b.oldAddress && a.newAddress == b.newAddress && a.newSwarmState == b.newSwarmState
                && a.swarmRecords.map(\.id) == b.swarmRecords.map(\.id) && a.swarmRecords.map(\.state) == b.swarmRecords.map(\.state)
                && a.managers == b.managers && a.reachableManagers == b.reachableManagers && a.syncedSurvivors == b.syncedSurvivors
                && a.isDataNode == b.isDataNode && a.bricks == b.bricks && a.arbiterBrick == b.arbiterBrick && a.pool == b.pool
                && a.oldPeer == b.oldPeer && a.isBrickNode == b.isBrickNode && a.isArbiterNode == b.isArbiterNode
                && a.brickPath == b.brickPath && a.otherAddresses == b.otherAddresses
        }
    }

    /// One change, in the order they run.
    public enum Step: Sendable, Equatable {
        /// `docker node demote ID` then `docker node rm --force ID`: the dead machine's Swarm record.
        case removeSwarmRecord(id: String)
        /// `gluster volume remove-brick VOLUME replica N BRICK force`: the volume goes on with the survivors' copies.
        case removeBrick(brick: String, replica: Int)
        /// `gluster peer detach HOST force` (the address or host name the pool knows the dead machine by).
        case detachPeer(address: String)
        /// `gluster peer probe ADDRESS`.
        case probePeer(address: String)
        /// `gluster volume add-brick VOLUME replica N [arbiter 1] BRICK force`.
        case addBrick(brick: String, replica: Int, arbiter: Bool)
        /// `gluster volume replace-brick VOLUME OLD NEW commit force` (a new address: the layout stays as it is).
        case replaceBrick(old: String, new: String)
        /// `gluster volume heal VOLUME full`, then waiting until no brick lists an entry.
        case healFull
        /// `haha up`'s steps: the new machine joins the swarm, mounts the volume, gets its Galera member (a full state
        /// transfer from a synced survivor), the stack and the sensor address.
        case converge

        public var summary: String {
            switch self {
            case .removeSwarmRecord(let id): return "remove the dead machine's Swarm record \(id) (demote, then rm --force)"
            case .removeBrick(let brick, let replica): return "drop the dead brick \(brick) (the volume goes on as replica \(replica))"
            case .detachPeer(let address): return "detach the dead Gluster peer \(address)"
            case .probePeer(let address): return "add the new machine \(address) to the Gluster pool"
            case .addBrick(let brick, let replica, let arbiter):
                return "add the new brick \(brick) (replica \(replica)\(arbiter ? " with arbiter" : ""))"
            case .replaceBrick(let old, let new): return "replace the brick \(old) with \(new)"
            case .healFull: return "copy every file to the new brick (heal full) and wait until nothing is pending"
            case .converge: return "haha up: join the swarm, mount the volume, Galera member by state transfer, stack, sensor address"
            }
        }

        /// The command a survivor runs for a Gluster or Swarm step (nil for the steps that are more than one command).
        public func arguments(volume: String) -> [String]? {
            switch self {
            case .removeSwarmRecord: return nil
            case .removeBrick(let brick, let replica):
                return ["gluster", "--mode=script", "volume", "remove-brick", volume, "replica", String(replica), brick, "force"]
            case .detachPeer(let address): return ["gluster", "--mode=script", "peer", "detach", address, "force"]
            case .probePeer(let address): return ["gluster", "peer", "probe", address]
            case .addBrick(let brick, let replica, let arbiter):
                return ["gluster", "volume", "add-brick", volume, "replica", String(replica)] + (arbiter ? ["arbiter", "1"] : [])
                    + [brick, "force"]
            case .replaceBrick(let old, let new):
                return ["gluster", "volume", "replace-brick", volume, old, new, "commit", "force"]
            case .healFull: return ["gluster", "volume", "heal", volume, "full"]
            case .converge: return nil
            }
        }
    }

    public struct Refusal: Error, Sendable, Equatable {
        public var reason: String
        public var next: String
    }

    /// The steps that replace the node, or why it must not be done now (every check before any change).
    public static func plan(_ given: Facts) -> Result<[Step], Refusal> {
        let facts = resumed(given)
        let name = facts.node
        guard let state = facts.newSwarmState else {
            return .failure(
                Refusal(
                    reason: "the new machine at \(facts.newAddress) did not say whether it is in a swarm (`docker info` failed)",
                    next: "install Docker on it and check that `ssh \(facts.newAddress) docker info` works"))
        }
        guard state == "inactive" else {
            return .failure(
                Refusal(
                    reason:
                        "the machine at \(facts.newAddress) is already in a swarm (state \(state)): it is not a fresh machine, and replacing would take a live node's place",
                    next:
                        "if \(name) is healthy there is nothing to replace (run `haha status`); to reuse that machine, run `docker swarm leave --force` on it first"
                ))
        }
        if let live = facts.swarmRecords.first(where: { $0.state == "ready" }) {
            return .failure(
                Refusal(
                    reason: "\(name) still answers in the swarm (node \(live.id) is ready): replace is for a dead machine",
                    next: "power \(name)'s old machine off (or take it off the network) and wait until `docker node ls` shows it Down"))
        }
        // Removing a manager's record is a raft change: a majority of the managers must answer.
        if facts.reachableManagers <= facts.managers / 2 {
            return .failure(
                Refusal(
                    reason:
                        "the swarm has \(facts.reachableManagers) of \(facts.managers) managers reachable: removing \(name)'s record needs a quorum of the others",
                    next: "bring the other managers back first (`docker node ls`), then run the command again"))
        }
        if facts.isDataNode && facts.syncedSurvivors.isEmpty {
            return .failure(
                Refusal(
                    reason:
                        "no other Galera member is Synced in a Primary Component: the new member would have nothing to copy the database from",
                    next: "run `haha status`, and `haha recover` to bring the database back first"))
        }
        let oldBrick = "\(facts.oldAddress):\(facts.brickPath)"
        let newBrick = "\(facts.newAddress):\(facts.brickPath)"
        let survivors = facts.pool.filter { $0.host != facts.oldPeer && $0.host != "localhost" && $0.host != facts.newAddress }
        if let down = survivors.first(where: { !$0.connected }) {
            return .failure(
                Refusal(
                    reason: "the Gluster peer \(down.host) is not connected: the volume's other copies must all be there",
                    next: "start glusterd on \(down.host) and check `gluster peer status`, then run the command again"))
        }
        // A new machine already in the pool (a run that stopped half way) is not probed again. (No other node of the
        // spec can have its address: the spec's validation refuses that.)
        let newInPool = facts.pool.contains { $0.host == facts.newAddress && $0.connected } && facts.oldPeer != facts.newAddress

        // At the same address the brick's name does not say whose it is: it is the new machine's once the dead one
        // left the pool and the new one joined it (a second run).
        let deadBrick =
            facts.bricks.contains(oldBrick) && !(facts.oldAddress == facts.newAddress && newInPool && facts.oldPeer == nil)
        var steps = facts.swarmRecords.map { Step.removeSwarmRecord(id: $0.id) }
        if deadBrick && facts.oldAddress != facts.newAddress {
            // Gluster moves the brick's place in the layout to the new machine; the pool forgets the old one after.
            if !newInPool { steps.append(.probePeer(address: facts.newAddress)) }
            steps.append(.replaceBrick(old: oldBrick, new: newBrick))
            if let old = facts.oldPeer { steps.append(.detachPeer(address: old)) }
        } else {
            var bricks = facts.bricks
            if deadBrick {
                // Same address: the pool must forget the dead machine's identity first, so the brick leaves the volume
                // (the survivors keep every file) and comes back as a new, empty one.
                if facts.arbiterBrick != nil && facts.arbiterBrick != oldBrick {
                    return .failure(
                        Refusal(
                            reason:
                                "\(oldBrick) is a data brick of a replica 2 + arbiter volume: Gluster cannot drop it and add it back at the same address",
                            next: "give the new machine another address: `haha node replace \(name) --address NEW`"))
                }
                bricks.removeAll { $0 == oldBrick }
                steps.append(.removeBrick(brick: oldBrick, replica: bricks.count))
            }
            if let old = facts.oldPeer { steps.append(.detachPeer(address: old)) }
            if !newInPool { steps.append(.probePeer(address: facts.newAddress)) }
            if facts.isBrickNode && !bricks.contains(newBrick) {
                // The layout is three bricks (replica 3, or 2 + arbiter): never a fourth.
                guard bricks.count < 3 else {
                    return .failure(
                        Refusal(
                            reason:
                                "the volume already has \(bricks.count) bricks (\(bricks.joined(separator: ", "))) and none on \(facts.newAddress): adding one would make it replica \(bricks.count + 1)",
                            next: "look at `gluster volume info` on a survivor; a brick on no node of haha.yaml is the dead machine's"))
                }
                steps.append(.addBrick(brick: newBrick, replica: bricks.count + 1, arbiter: facts.isArbiterNode))
            }
        }
        steps.append(.converge)
        if facts.isBrickNode { steps.append(.healFull) }
        return .success(steps)
    }

    /// A run with `--address` that stopped after haha.yaml was rewritten: the spec already names the new address, so
    /// the old one is read from the volume (the one brick on no node of the spec and not on the new address) and the
    /// dead peer is the pool's entry for it, never the new machine.
    public static func resumed(_ facts: Facts) -> Facts {
        guard facts.oldAddress == facts.newAddress, !facts.otherAddresses.isEmpty else { return facts }
        let strays = facts.bricks.compactMap { brick -> String? in
            let host = String(brick.split(separator: ":").first ?? "")
            return host == facts.newAddress || facts.otherAddresses.contains(host) ? nil : host
        }
        guard strays.count == 1 else { return facts }
        var resumed = facts
        resumed.oldAddress = strays[0]
        resumed.oldPeer = facts.pool.first { $0.host == strays[0] }?.host
        return resumed
    }
}
