import HahaCore
import Testing

/// `haha node replace`'s plan: every refusal before a change, and the Gluster steps for each layout.
struct NodeReplacementTests {
    static let path = "/bricks/haha"

    static func facts(
        node: String = "n2", old: String = "10.0.0.12", new: String = "10.0.0.12", newState: String? = "inactive",
        records: [(id: String, state: String)] = [("abc", "down")], managers: Int = 3, reachable: Int = 2,
        synced: [String] = ["n1", "n3"], arbiter: String? = nil,
        bricks: [String] = ["10.0.0.11:\(path)", "10.0.0.12:\(path)", "10.0.0.13:\(path)"],
        pool: [GlusterOutput.Peer] = [
            .init(host: "10.0.0.12", connected: false), .init(host: "10.0.0.13", connected: true),
            .init(host: "localhost", connected: true),
        ], oldPeer: String? = "10.0.0.12", brickNode: Bool = true, arbiterNode: Bool = false
    ) -> NodeReplacement.Facts {
        NodeReplacement.Facts(
            node: node, oldAddress: old, newAddress: new, newSwarmState: newState, swarmRecords: records, managers: managers,
            reachableManagers: reachable, syncedSurvivors: synced, isDataNode: true, bricks: bricks, arbiterBrick: arbiter, pool: pool,
            oldPeer: oldPeer, isBrickNode: brickNode, isArbiterNode: arbiterNode, brickPath: path)
    }

    static func refusal(_ facts: NodeReplacement.Facts) -> String? {
        if case .failure(let refusal) = NodeReplacement.plan(facts) { return refusal.reason }
        return nil
    }

    @Test func aDeadNodeAtTheSameAddressLeavesTheVolumeAndComesBackEmpty() throws {
        let steps = try NodeReplacement.plan(Self.facts()).get()
        #expect(
            steps == [
                .removeSwarmRecord(id: "abc"), .removeBrick(brick: "10.0.0.12:\(Self.path)", replica: 2),
                .detachPeer(address: "10.0.0.12"), .probePeer(address: "10.0.0.12"),
                .addBrick(brick: "10.0.0.12:\(Self.path)", replica: 3, arbiter: false), .converge, .healFull,
            ])
        #expect(
            steps[1].arguments(volume: "haha")
                == ["gluster", "--mode=script", "volume", "remove-brick", "haha", "replica", "2", "10.0.0.12:\(Self.path)", "force"])
        #expect(
            steps[4].arguments(volume: "haha") == [
                "gluster", "volume", "add-brick", "haha", "replica", "3", "10.0.0.12:\(Self.path)", "force",
            ])
    }

    /// A run with --address that stopped at the brick (haha.yaml already says the new address; the new machine is in
    /// the pool): the dead brick is found in the volume and replaced, the new machine is neither detached nor given a
    /// fourth brick.
    @Test func aStoppedRunWithANewAddressGoesOnFromTheVolume() throws {
        var facts = Self.facts(
            old: "10.0.0.22", new: "10.0.0.22", records: [],
            pool: [
                .init(host: "10.0.0.12", connected: true), .init(host: "10.0.0.13", connected: true),
                .init(host: "10.0.0.22", connected: true), .init(host: "localhost", connected: true),
            ], oldPeer: "10.0.0.22")
        facts.otherAddresses = ["10.0.0.11", "10.0.0.13"]
        let steps = try NodeReplacement.plan(facts).get()
        #expect(
            steps == [
                .replaceBrick(old: "10.0.0.12:\(Self.path)", new: "10.0.0.22:\(Self.path)"), .detachPeer(address: "10.0.0.12"), .converge,
                .healFull,
            ])
        // Without the other nodes' addresses the brick's owner is unknown: never a fourth brick, never the new machine detached.
        facts.otherAddresses = []
        #expect(Self.refusal(facts)?.contains("adding one would make it replica 4") == true)
    }

    @Test func aNewAddressTakesTheBricksPlaceInTheLayout() throws {
        let steps = try NodeReplacement.plan(Self.facts(new: "10.0.0.22")).get()
        #expect(
            steps == [
                .removeSwarmRecord(id: "abc"), .probePeer(address: "10.0.0.22"),
                .replaceBrick(old: "10.0.0.12:\(Self.path)", new: "10.0.0.22:\(Self.path)"), .detachPeer(address: "10.0.0.12"), .converge,
                .healFull,
            ])
    }

    @Test func theArbiterComesBackAsAnArbiterAndADataBrickOfAnArbiterVolumeNeedsANewAddress() throws {
        let bricks = ["10.0.0.11:\(Self.path)", "10.0.0.12:\(Self.path)", "10.0.0.13:\(Self.path)"]
        let arbiter = try NodeReplacement.plan(
            Self.facts(
                node: "a1", old: "10.0.0.13", new: "10.0.0.13", arbiter: bricks[2], bricks: bricks,
                pool: [.init(host: "10.0.0.12", connected: true), .init(host: "10.0.0.13", connected: false)], oldPeer: "10.0.0.13",
                arbiterNode: true)
        )
        .get()
        #expect(arbiter.contains(.addBrick(brick: bricks[2], replica: 3, arbiter: true)))
        #expect(
            arbiter[4].arguments(volume: "v") == [
                "gluster", "volume", "add-brick", "v", "replica", "3", "arbiter", "1", bricks[2], "force",
            ])
        #expect(
            Self.refusal(Self.facts(arbiter: bricks[2], bricks: bricks))?.contains("data brick of a replica 2 + arbiter volume") == true)
        #expect(try NodeReplacement.plan(Self.facts(new: "10.0.0.22", arbiter: bricks[2], bricks: bricks)).get().contains(.healFull))
    }

    @Test func aNodeWithoutABrickOnlyChangesThePool() throws {
        let steps = try NodeReplacement.plan(
            Self.facts(
                node: "n4", old: "10.0.0.14", new: "10.0.0.14", pool: [.init(host: "10.0.0.14", connected: false)], oldPeer: "10.0.0.14",
                brickNode: false)
        )
        .get()
        #expect(steps == [.removeSwarmRecord(id: "abc"), .detachPeer(address: "10.0.0.14"), .probePeer(address: "10.0.0.14"), .converge])
    }

    /// The pool knows a peer by the host name it reported (the lab: `n2`), and a run that stopped half way goes on
    /// from where it stopped: the dead brick already dropped, the peer detached, the new machine maybe probed.
    @Test func theDeadPeerIsDetachedByItsNameInThePoolAndARunThatStoppedGoesOn() throws {
        let byName = try NodeReplacement.plan(
            Self.facts(pool: [.init(host: "n2", connected: true), .init(host: "10.0.0.13", connected: true)], oldPeer: "n2")
        ).get()
        #expect(byName.contains(.detachPeer(address: "n2")))
        let twoBricks = ["10.0.0.11:\(Self.path)", "10.0.0.13:\(Self.path)"]
        #expect(
            try NodeReplacement.plan(
                Self.facts(records: [], bricks: twoBricks, pool: [.init(host: "10.0.0.13", connected: true)], oldPeer: nil)
            )
            .get()
                == [
                    .probePeer(address: "10.0.0.12"), .addBrick(brick: "10.0.0.12:\(Self.path)", replica: 3, arbiter: false), .converge,
                    .healFull,
                ])
        #expect(
            try NodeReplacement.plan(
                Self.facts(
                    records: [], bricks: twoBricks + ["10.0.0.12:\(Self.path)"],
                    pool: [.init(host: "10.0.0.13", connected: true), .init(host: "10.0.0.12", connected: true)], oldPeer: nil)
            ).get() == [.converge, .healFull])
    }

    @Test func peerStatusNamesEveryPeerByAllItsNames() {
        let text = """
            Number of Peers: 2

            Hostname: n1
            Uuid: fdece899-61ef-4a27-90ec-c91dc3c82e6e
            State: Peer Rejected (Connected)
            Other names:
            172.30.77.11

            Hostname: 172.30.77.13
            Uuid: 4d5275f4-3236-4285-bbc4-faa32ac319b6
            State: Peer in Cluster (Connected)
            """
        let peers = GlusterOutput.peerStatus(text)
        #expect(peers.map(\.names) == [["n1", "172.30.77.11"], ["172.30.77.13"]])
        #expect(peers.map(\.healthy) == [false, true])
        #expect(peers[0].uuid == "fdece899-61ef-4a27-90ec-c91dc3c82e6e")
    }

    @Test func everyDoubtOrRiskIsRefusedBeforeAnyChange() {
        #expect(Self.refusal(Self.facts(newState: nil))?.contains("did not say whether it is in a swarm") == true)
        #expect(Self.refusal(Self.facts(newState: "active"))?.contains("already in a swarm") == true)
        #expect(Self.refusal(Self.facts(records: [("abc", "ready")]))?.contains("still answers in the swarm") == true)
        #expect(Self.refusal(Self.facts(managers: 3, reachable: 1))?.contains("1 of 3 managers") == true)
        #expect(Self.refusal(Self.facts(managers: 4, reachable: 2)) != nil)
        #expect(Self.refusal(Self.facts(synced: []))?.contains("no other Galera member is Synced") == true)
        #expect(
            Self.refusal(Self.facts(pool: [.init(host: "10.0.0.12", connected: false), .init(host: "10.0.0.13", connected: false)]))?
                .contains("peer 10.0.0.13 is not connected") == true)
        // Nothing refused: the same facts with a quorum and a synced survivor.
        #expect(Self.refusal(Self.facts()) == nil)
    }

    @Test func theArbiterBrickIsReadFromVolumeInfo() {
        let info = """
            Volume Name: haha
            Type: Replicate
            Number of Bricks: 1 x (2 + 1) = 3
            Bricks:
            Brick1: 10.0.0.11:/bricks/haha
            Brick2: 10.0.0.12:/bricks/haha
            Brick3: 10.0.0.13:/bricks/haha (arbiter)
            """
        #expect(GlusterOutput.arbiterBrick(info) == "10.0.0.13:/bricks/haha")
        #expect(GlusterOutput.bricks(info)["haha"]?.count == 3)
        #expect(GlusterOutput.arbiterBrick(info.replacingOccurrences(of: " (arbiter)", with: "")) == nil)
    }
}
