import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// Docker Swarm as scripted nodes: a fresh cluster gets one `swarm init`, a join per other node (token on stdin) and
/// its labels; the same nodes, now in the swarm, see no changing command on a second run.
@Suite struct SwarmTests {
    static let managerToken = "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx"
    static let workerToken = "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-7p73s1dx5in4tatdymyhg9hu2"
    static func nodeID(_ name: String) -> String { "x1k7v0q5m2zj8d3w9c6b4\(name)" }

    /// Nodes that behave like Docker: outside any swarm until `swarm init` or a join ran there, and a manager
    /// (n1, the primary) that reports the labels `docker node update` added.
    static func swarmCluster(_ spec: ClusterSpec = Fixtures.spec()) -> (Cluster, [String: ScriptedRunner]) {
        let (cluster, runners) = Fixtures.cluster(spec)
        let manager = runners["n1"]!
        for (name, runner) in runners {
            answerHeartbeat(runner)
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }) { _ in
                runner.ran("docker swarm init") || runner.ran("/swarm/join")
                    ? .scripted(stdout: "active true \(nodeID(name))\n")
                    : .scripted(stdout: "inactive false \n")
            }
        }
        manager.on({ $0 == ["docker", "swarm", "join-token", "-q", "manager"] }, stdout: managerToken + "\n")
        manager.on({ $0 == ["docker", "swarm", "join-token", "-q", "worker"] }, stdout: workerToken + "\n")
        manager.on({ $0.starts(with: ["docker", "node", "inspect", "--format", "{{json .Spec.Labels}}"]) }) { command in
            let id = command.arguments.last ?? ""
            guard let node = spec.nodes.first(where: { nodeID($0.name) == id }) else {
                return .scripted(exit: 1, stderr: "Error: No such node: \(id)")
            }
            return manager.ran("docker node update --label-add haha.node=\(node.name) --label-add haha.role=\(node.role.rawValue) \(id)")
                ? .scripted(stdout: "{\"haha.node\":\"\(node.name)\",\"haha.role\":\"\(node.role.rawValue)\"}\n")
                : .scripted(stdout: "{}\n")
        }
        return (cluster, runners)
    }

    /// Answers `SwarmHeartbeat.inspect` as a manager does: the heartbeat of the last `docker swarm init` or `update`
    /// that ran here, else `initial` seconds (a swarm made before).
    static func answerHeartbeat(_ runner: ScriptedRunner, initial: Int = 1) {
        runner.on({ $0 == SwarmHeartbeat.inspect }) { _ in
            let set = runner.commands.map(\.arguments).filter { $0.starts(with: ["docker", "swarm"]) }.compactMap { arguments in
                arguments.firstIndex(of: "--dispatcher-heartbeat").map { arguments[$0 + 1] }
            }
            let seconds = set.last.flatMap { Int64($0.dropLast()) } ?? Int64(initial)
            return .scripted(stdout: "\(seconds * 1_000_000_000)\n")
        }
    }

    @Test func aFreshClusterIsInitialisedOnceJoinedAndLabelledAndASecondRunChangesNothing() async throws {
        let (cluster, runners) = Self.swarmCluster()
        let swarm = Swarm(cluster: cluster)
        #expect(try await swarm.converge() == true)

        #expect(
            Changing.commands(runners, ["docker swarm init"]) == [
                "n1: docker swarm init --advertise-addr 10.1.0.11 --dispatcher-heartbeat 1s"
            ])
        for name in ["n2", "n3"] {
            let joins = try #require(runners[name]).commands.filter { $0.arguments.first == "perl" }
            try #require(joins.count == 1, "\(name) joined \(joins.count) times")
            // The token travels on stdin, never in an argument.
            #expect(!joins[0].pretty.contains("SWMTKN"))
            let body = try #require(joins[0].input.flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] })
            #expect(body["JoinToken"] as? String == Self.managerToken)
            #expect(body["RemoteAddrs"] as? [String] == ["10.1.0.11:2377"])
            #expect(body["AdvertiseAddr"] as? String == cluster.spec.nodes.first { $0.name == name }?.address)
        }
        #expect(runners["n1"]!.commands.allSatisfy { $0.arguments.first != "perl" })
        for name in ["n1", "n2", "n3"] {
            #expect(runners[name]!.ran("touch /var/lib/haha/state/swarm-joined"), "\(name) has no swarm marker")
        }
        #expect(
            Changing.commands(runners, ["docker node update"])
                == ["n1", "n2", "n3"].map {
                    "n1: docker node update --label-add haha.node=\($0) --label-add haha.role=data \(Self.nodeID($0))"
                })

        let before = Changing.commands(runners, Changing.swarm)
        #expect(try await swarm.converge() == false)
        #expect(Changing.commands(runners, Changing.swarm) == before)
    }

    @Test func aConvergedSwarmSeesNoChangingCommand() async throws {
        let (cluster, runners) = Fixtures.cluster(Fixtures.spec(arbiters: ["n3"])) { name, runner in
            Self.answerHeartbeat(runner)
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true \(Self.nodeID(name))\n")
            runner.on({ $0.starts(with: ["docker", "swarm", "join-token"]) }, stdout: Self.managerToken + "\n")
            runner.on({ $0.starts(with: ["docker", "node", "inspect"]) }) { command in
                let node = ["n1", "n2", "n3"].first { Self.nodeID($0) == command.arguments.last } ?? "?"
                return .scripted(stdout: "{\"haha.node\":\"\(node)\",\"haha.role\":\"\(node == "n3" ? "arbiter" : "data")\"}\n")
            }
        }
        #expect(try await Swarm(cluster: cluster).converge() == false)
        #expect(Changing.commands(runners, Changing.swarm) == [])
        #expect(runners["n1"]!.commands.filter { $0.arguments.starts(with: ["docker", "node", "inspect"]) }.count == 3)
    }

    @Test func aMissingRoleLabelIsAddedAlone() async throws {
        let (cluster, runners) = Fixtures.cluster(Fixtures.spec(arbiters: ["n3"])) { name, runner in
            Self.answerHeartbeat(runner)
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true \(Self.nodeID(name))\n")
            runner.on({ $0.starts(with: ["docker", "node", "inspect"]) }) { command in
                let node = ["n1", "n2", "n3"].first { Self.nodeID($0) == command.arguments.last } ?? "?"
                // n3 was labelled before it became an arbiter.
                return .scripted(stdout: "{\"haha.node\":\"\(node)\",\"haha.role\":\"data\"}\n")
            }
        }
        #expect(try await Swarm(cluster: cluster).converge() == true)
        #expect(Changing.commands(runners, Changing.swarm) == ["n1: docker node update --label-add haha.role=arbiter \(Self.nodeID("n3"))"])
    }

    @Test func aNodeOutsideTheSwarmJoinsTheRunningManager() async throws {
        // n2 manages the swarm (n1 was re-installed): nobody initialises, n1 joins n2.
        let (cluster, runners) = Fixtures.cluster { name, runner in
            Self.answerHeartbeat(runner)
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }) { _ in
                name == "n1" && !runner.ran("/swarm/join")
                    ? .scripted(stdout: "inactive false \n") : .scripted(stdout: "active true \(Self.nodeID(name))\n")
            }
            runner.on({ $0.starts(with: ["docker", "swarm", "join-token", "-q", "manager"]) }, stdout: Self.managerToken + "\n")
        }
        _ = try await Swarm(cluster: cluster).converge()
        #expect(Changing.commands(runners, ["docker swarm init"]) == [])
        let join = try #require(runners["n1"]!.commands.first { $0.arguments.first == "perl" })
        let body = try #require(join.input.flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] })
        #expect(body["RemoteAddrs"] as? [String] == ["10.1.0.12:2377"])
        #expect(runners["n2"]!.ran("docker swarm join-token -q manager"))
    }

    /// Right after a partition healed the managers may still be electing a leader: `haha up` waits for one instead of
    /// taking the stack for absent. Nodes outside any swarm are not waited for.
    @Test func aSwarmElectingALeaderIsWaitedForAndFreshNodesAreNot() async throws {
        let ls = ["docker", "node", "ls", "-q"]
        let (cluster, _) = Fixtures.cluster(Fixtures.spec()) { name, runner in
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true id-\(name)\n")
            runner.on({ $0 == ls }) { _ in
                runner.commands.filter { $0.arguments == ls }.count > 3
                    ? .scripted(stdout: "id-n1\n")
                    : .scripted(exit: 1, stderr: "Error response from daemon: The swarm does not have a leader.\n")
            }
        }
        #expect(try await Swarm(cluster: cluster).manager() == nil)
        #expect(try await Swarm(cluster: cluster).existingManager(timeout: 30) != nil)

        let (fresh, runners) = Fixtures.cluster(Fixtures.spec()) { _, runner in
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "inactive false \n")
        }
        #expect(try await Swarm(cluster: fresh).existingManager(timeout: 30) == nil)
        // Asked once by manager(), once whether it is in a swarm: no polling.
        for runner in runners.values {
            #expect(runner.commands.filter { $0.arguments.starts(with: ["docker", "info"]) }.count == 2)
        }
    }

    // MARK: The dispatcher heartbeat follows the spec's failover

    @Test func aFreshSwarmWithoutTheFenceRunsSwarmsDefaultHeartbeat() async throws {
        let (cluster, runners) = Self.swarmCluster(Fixtures.spec { $0.homeAssistant.failover = .swarm })
        #expect(try await Swarm(cluster: cluster).converge() == true)
        #expect(
            Changing.commands(runners, ["docker swarm init", "docker swarm update"]) == [
                "n1: docker swarm init --advertise-addr 10.1.0.11 --dispatcher-heartbeat 5s"
            ])
    }

    /// `haha up` on a swarm made with the other mode's heartbeat updates it once, in both directions.
    @Test(arguments: [(ClusterSpec.HomeAssistant.Failover.swarm, 1, "5s"), (.fenced, 5, "1s")])
    func anExistingSwarmConvergesToTheModesHeartbeat(_ failover: ClusterSpec.HomeAssistant.Failover, was: Int, wanted: String)
        async throws
    {
        let spec = Fixtures.spec { $0.homeAssistant.failover = failover }
        let (cluster, runners) = Fixtures.cluster(spec) { name, runner in
            Self.answerHeartbeat(runner, initial: was)
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true \(Self.nodeID(name))\n")
            runner.on({ $0.starts(with: ["docker", "node", "inspect"]) }) { command in
                let node = ["n1", "n2", "n3"].first { Self.nodeID($0) == command.arguments.last } ?? "?"
                return .scripted(stdout: "{\"haha.node\":\"\(node)\",\"haha.role\":\"data\"}\n")
            }
        }
        let swarm = Swarm(cluster: cluster)
        #expect(try await swarm.converge() == true)
        #expect(Changing.commands(runners, Changing.swarm) == ["n1: docker swarm update --dispatcher-heartbeat \(wanted)"])
        #expect(try await swarm.converge() == false)
        #expect(Changing.commands(runners, Changing.swarm) == ["n1: docker swarm update --dispatcher-heartbeat \(wanted)"])
    }
}
