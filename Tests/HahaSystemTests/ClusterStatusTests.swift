import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// `haha status` with scripted nodes: the verdict, where the parts run, and that every probe without an answer is
/// listed, never hidden.
@Suite struct ClusterStatusTests {
    let directory: String
    init() throws {
        directory = try Fixtures.scratchDirectory("status")
    }

    static let healSummary = """
        Brick 10.1.0.11:/var/lib/haha/brick
        Status: Connected
        Total Number of entries: 0
        Number of entries in heal pending: 0
        Number of entries in split-brain: 0
        Number of entries possibly healing: 0

        Brick 10.1.0.12:/var/lib/haha/brick
        Status: Connected
        Total Number of entries: 0
        Number of entries in heal pending: 0
        Number of entries in split-brain: 0
        Number of entries possibly healing: 0

        Brick 10.1.0.13:/var/lib/haha/brick
        Status: Connected
        Total Number of entries: 0
        Number of entries in heal pending: 0
        Number of entries in split-brain: 0
        Number of entries possibly healing: 0

        """

    /// `n1`…`n3` answering like a whole cluster: Home Assistant on n1, the broker and the raft leader on n2, the VIP
    /// 10.1.0.100 on n3, every Galera member synced, nothing pending heal. `change` adds answers tried before these.
    func cluster(
        secrets: Bool = true, sensorAddress: ClusterSpec.SensorAddress = .vip(.init(address: "10.1.0.100")),
        failover: ClusterSpec.HomeAssistant.Failover = .fenced, change: (String, ScriptedRunner) -> Void = { _, _ in }
    ) throws -> (Cluster, [String: ScriptedRunner]) {
        let spec = Fixtures.spec {
            $0.sensorAddress = sensorAddress
            $0.homeAssistant.failover = failover
        }
        let (cluster, runners) = Fixtures.cluster(spec, specPath: "\(directory)/haha.yaml") { name, runner in
            change(name, runner)
            let vip = name == "n3" ? "\nip: 2: eth0    inet 10.1.0.100/24 scope global secondary eth0\\       valid_lft forever" : ""
            runner.on(
                { $0.first == "sh" && $0.last?.contains("docker info") == true },
                stdout: "swarm active\nmounted\nip: 2: eth0    inet 10.1.0.1\(name.dropFirst())/24 brd 10.1.0.255 scope global eth0\(vip)\n"
            )
            runner.on({ $0.starts(with: ["docker", "node", "ls"]) }, stdout: "id1\nid2\nid3\n")
            runner.on(
                { $0.first == "sh" && $0.last?.contains("docker node inspect") == true },
                stdout: """
                    n1|host-1|ready|active|manager|false|reachable
                    n2|host-2|ready|active|manager|true|reachable
                    n3|host-3|ready|active|manager|false|reachable

                    """)
            runner.on({ $0.starts(with: ["docker", "service", "ls"]) }, stdout: "haha_homeassistant 1/1\nhaha_mosquitto 1/1\n")
            runner.on({ $0.starts(with: ["docker", "service", "ps", "haha_homeassistant"]) }, stdout: "host-1|Running 2 hours ago\n")
            runner.on({ $0.starts(with: ["docker", "service", "ps", "haha_mosquitto"]) }, stdout: "host-2|Running 2 hours ago\n")
            runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, stdout: "/var/lib/docker/volumes/galera-\(name)/_data\n")
            runner.on({ $0.first == "cat" }, stdout: "version: 2.1\nuuid: 7e2f\nseqno: -1\nsafe_to_bootstrap: 0\n")
            runner.on({ $0.starts(with: ["docker", "ps", "-q"]) }, stdout: "c-\(name)\n")
            runner.on(
                { $0.starts(with: ["docker", "exec"]) },
                stdout: "wsrep_cluster_status\tPrimary\nwsrep_local_state\t4\nwsrep_cluster_size\t3\nwsrep_last_committed\t12\n")
            runner.on(
                { $0.starts(with: ["gluster", "volume", "info"]) },
                stdout: """
                    Volume Name: haha
                    Status: Started
                    Bricks:
                    Brick1: 10.1.0.11:/var/lib/haha/brick
                    Brick2: 10.1.0.12:/var/lib/haha/brick
                    Brick3: 10.1.0.13:/var/lib/haha/brick

                    """)
            runner.on({ $0.starts(with: ["gluster", "volume", "heal"]) }, stdout: Self.healSummary)
        }
        let workspace = cluster.workspace
        if secrets { try workspace.generateMissingSecrets() }
        return (cluster, runners)
    }

    /// A status whose Home Assistant and broker answer at `answering` (every address by default), without a network.
    func status(_ cluster: Cluster, answering: @escaping @Sendable (String) -> Bool = { _ in true }) -> ClusterStatus {
        ClusterStatus(cluster: cluster, homeAssistantAnswers: { answering($0) }, brokerAnswers: { answering($0) })
    }

    @Test func aWholeClusterIsHealthyAndSaysWhereEverythingRuns() async throws {
        let report = await status(try cluster().0).probe()
        #expect(report.problems == [])
        #expect(report.verdict == .healthy && report.reasons == [], "\(report.reasons)")
        #expect(report.verdictLine == "verdict: healthy")
        #expect(report.active == "n1", "the task's host name is mapped to the spec's name through the node label")
        #expect(report.homeAssistantTasks == ["n1"])
        #expect(report.brokerNode == "n2")
        #expect(report.leader == "n2")
        #expect(report.sensorAddressHolder == "n3")
        #expect(report.sensorAddress == .init(mode: "vip", address: "10.1.0.100", holders: ["n3"]))
        #expect(report.pendingHeal == 0)
        #expect(report.leaseHolder == nil)
        #expect(report.homeAssistant == .init(answering: true, address: "10.1.0.100"), "asked through the sensor address first")
        #expect(report.nodes.map(\.manager) == ["reachable", "leader", "reachable"])
        #expect(report.nodes.allSatisfy { $0.reachable && $0.mounted && $0.swarm == "active" && $0.swarmStatus == "ready" })
        #expect(report.galera.allSatisfy { $0.running && $0.synced && $0.clusterStatus == "Primary" })
        #expect(report.gluster?.bricks.map(\.node) == ["n1", "n2", "n3"])
    }

    @Test func anUnreachableNodeIsAProblemWithItsNameAndDegradesTheCluster() async throws {
        let (cluster, _) = try cluster { name, runner in
            if name == "n2" { runner.on({ _ in true }, exit: 255, stderr: "ssh: connect to host 10.1.0.12 port 22: No route to host") }
        }
        let report = await status(cluster).probe()
        let n2 = try #require(report.nodes.first { $0.name == "n2" })
        #expect(!n2.reachable && !n2.mounted && n2.swarm == "unknown")
        #expect(report.problems.count == 1, "\(report.problems)")
        #expect(report.problems.first?.hasPrefix("n2: not reachable (exit 255)") == true, "\(report.problems)")
        #expect(report.problems.first?.contains("No route to host") == true)
        #expect(report.verdict == .degraded)
        #expect(report.reasons.contains("n2 not reachable"), "\(report.reasons)")
    }

    @Test func missingSecretsAreShownNotHiddenAndNeverHealthy() async throws {
        let report = await status(try cluster(secrets: false).0).probe()
        #expect(report.galera.isEmpty)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.hasPrefix("galera: missing secret") == true, "\(report.problems)")
        #expect(report.services.count == 2, "the rest of the report is still filled in")
        #expect(report.verdict == .degraded && report.reasons == ["Galera members not known"])
    }

    @Test func aGaleraProbeWithoutAnAnswerIsAProblem() async throws {
        let (cluster, _) = try cluster { name, runner in
            if name == "n3" { runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, exit: 1, stderr: "permission denied") }
        }
        let report = await status(cluster).probe()
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("cannot tell whether the database volume") == true, "\(report.problems)")
        #expect(report.verdict == .degraded)
    }

    @Test func homeAssistantNotAnsweringIsDown() async throws {
        let report = await ClusterStatus(
            cluster: try cluster().0, homeAssistantAnswers: { _ in false }, brokerAnswers: { _ in true }
        ).probe()
        #expect(report.verdict == .down && report.verdict.exitCode == 4)
        #expect(report.reasons == ["Home Assistant does not answer"])
        #expect(report.homeAssistant == .init(answering: false, address: nil))
        #expect(report.active == "n1", "Swarm still lists its task")
    }

    @Test func withATaskOnEveryNodeNoneIsCalledActive() async throws {
        // Standbys on every data node (the fence of issue #8): Swarm cannot say which one serves.
        let (cluster, _) = try cluster { _, runner in
            runner.on(
                { $0.starts(with: ["docker", "service", "ps", "haha_homeassistant"]) },
                stdout: "host-3|Running 2 hours ago\nhost-1|Running 2 hours ago\nhost-2|Running 2 hours ago\n")
        }
        let report = await status(cluster).probe()
        #expect(report.active == nil)
        #expect(report.homeAssistantTasks == ["n3", "n1", "n2"])
        #expect(report.verdict == .healthy, "\(report.reasons)")
    }

    @Test func theFencesLeaseHolderIsTheActiveNode() async throws {
        // The lease names the Swarm host name (host-2); the report says the spec's node (n2).
        let (cluster, _) = try cluster { _, runner in
            runner.on(
                { $0.starts(with: ["docker", "service", "ps", "haha_homeassistant"]) },
                stdout: "host-3|Running 2 hours ago\nhost-1|Running 2 hours ago\nhost-2|Running 2 hours ago\n")
            runner.on(
                { $0.first == "cat" && $0.last?.hasSuffix("/homeassistant/.haha/lease") == true }, stdout: "held host-2 8 2a32ee64 18\n")
        }
        let report = await status(cluster).probe()
        #expect(report.leaseHolder == "n2")
        #expect(report.active == "n2")
    }

    /// Without the fence (`failover: swarm`) Home Assistant's one task says where it runs; a lease left on the volume by
    /// the fenced mode is not even read, and the sensor address is not held to it.
    @Test func withoutTheFenceTheTaskNamesTheActiveNodeAndAStaleLeaseIsIgnored() async throws {
        let (cluster, runners) = try cluster(failover: .swarm) { _, runner in
            runner.on(
                { $0.first == "cat" && $0.last?.hasSuffix("/homeassistant/.haha/lease") == true }, stdout: "held host-2 8 2a32ee64 18\n")
        }
        let report = await status(cluster).probe()
        #expect(report.leaseHolder == nil)
        #expect(report.failover == .swarm)
        #expect(report.active == "n1")
        #expect(report.brokerNode == "n2")
        #expect(report.verdict == .healthy, "the VIP on n3 is not held to a lease: \(report.reasons)")
        #expect(!runners.values.contains { $0.ran("/.haha/lease") })
    }

    @Test func theLastBackupIsReadFromTheSharedVolumeAndNoneIsNil() async throws {
        let line = "2026-12-05T01:30:00Z 12.3 MiB /root/haha-backup-20261205-013000.tar from n2"
        let (recorded, _) = try cluster { _, runner in
            runner.on({ $0 == ["cat", "/var/lib/haha/shared/.haha-last-backup"] }, stdout: line + "\n")
        }
        #expect(await status(recorded).probe().lastBackup == line)
        let (none, _) = try cluster { _, runner in
            runner.on({ $0 == ["cat", "/var/lib/haha/shared/.haha-last-backup"] }, exit: 1, stderr: "cat: No such file or directory\n")
        }
        #expect(await status(none).probe().lastBackup == nil)
    }

    @Test func aReleasedLeaseNamesNobody() async throws {
        let (cluster, _) = try cluster { _, runner in
            runner.on(
                { $0.first == "cat" && $0.last?.hasSuffix("/homeassistant/.haha/lease") == true }, stdout: "released host-2 8 2a32ee64\n")
        }
        let report = await status(cluster).probe()
        #expect(report.leaseHolder == nil)
    }

    @Test func anAnswerThroughANodeWhenTheSensorAddressIsSilent() async throws {
        let report = await status(try cluster().0) { $0 == "10.1.0.12" }.probe()
        #expect(report.homeAssistant == .init(answering: true, address: "10.1.0.12"))
        #expect(report.broker == .init(answering: true, address: "10.1.0.12"))
        #expect(report.verdict == .healthy)
    }

    @Test func aSwarmWithoutALeaderIsDown() async throws {
        let (cluster, _) = try cluster { _, runner in
            runner.on(
                { $0.starts(with: ["docker", "node", "ls"]) }, exit: 1,
                stderr:
                    "Error response from daemon: rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online."
            )
        }
        let report = await status(cluster).probe()
        #expect(report.verdict == .down)
        #expect(report.reasons.first == "the Swarm has no quorum", "\(report.reasons)")
        #expect(report.leader == nil && report.active == nil)
        #expect(report.problems == [], "no quorum is an answer, not a doubt")
    }

    @Test func aSwarmNobodyCanAskIsNotKnown() async throws {
        let (cluster, _) = try cluster { _, runner in
            runner.on({ $0.starts(with: ["docker", "node", "ls"]) }, exit: 1, stderr: "Cannot connect to the Docker daemon")
        }
        let report = await status(cluster).probe()
        #expect(report.verdict == .degraded)
        #expect(report.reasons.contains("not known whether the Swarm has quorum"), "\(report.reasons)")
        #expect(report.problems.contains("swarm: no manager answered, so quorum, nodes, services and tasks are not known"))
    }

    @Test func entriesPendingHealWhileABrickIsDown() async throws {
        // What the lab's Gluster printed while n1 was power-cut.
        let summary = """
            Brick 10.1.0.11:/var/lib/haha/brick
            Status: Transport endpoint is not connected
            Total Number of entries: -
            Number of entries in heal pending: -
            Number of entries in split-brain: -
            Number of entries possibly healing: -

            Brick 10.1.0.12:/var/lib/haha/brick
            Status: Connected
            Total Number of entries: 4
            Number of entries in heal pending: 4
            Number of entries in split-brain: 0
            Number of entries possibly healing: 0

            Brick 10.1.0.13:/var/lib/haha/brick
            Status: Connected
            Total Number of entries: 4
            Number of entries in heal pending: 4
            Number of entries in split-brain: 0
            Number of entries possibly healing: 0

            """
        let (cluster, _) = try cluster { _, runner in
            runner.on({ $0.starts(with: ["gluster", "volume", "heal"]) }, stdout: summary)
        }
        let report = await status(cluster).probe()
        #expect(report.gluster?.bricks.map(\.connected) == [false, true, true])
        #expect(report.gluster?.bricks.map(\.pendingHeal) == [nil, 4, 4])
        #expect(report.pendingHeal == 8, "summed over the bricks that answered")
        #expect(report.verdict == .degraded)
        #expect(report.reasons == ["brick 10.1.0.11:/var/lib/haha/brick offline", "8 entries pending heal"])
        #expect(report.verdictLine == "verdict: degraded — brick 10.1.0.11:/var/lib/haha/brick offline; 8 entries pending heal")
    }

    @Test func glusterdThatCannotAnswerIsAskedOnTheNextNode() async throws {
        let (cluster, runners) = try cluster { name, runner in
            if name == "n1" {
                runner.on(
                    { $0.starts(with: ["gluster", "volume", "heal"]) }, exit: 251,
                    stdout: "haha: Not able to fetch volfile from glusterd\nVolume heal failed.\n")
            }
        }
        let report = await status(cluster).probe()
        #expect(report.pendingHeal == 0 && report.problems == [])
        #expect(runners["n2"]?.ran("gluster volume heal") == true)
    }

    @Test func theSensorAddressOnTwoNodesIsDegraded() async throws {
        let (cluster, _) = try cluster { name, runner in
            if name == "n1" {
                runner.on(
                    { $0.first == "sh" && $0.last?.contains("docker info") == true },
                    stdout: "swarm active\nmounted\nip: 2: eth0    inet 10.1.0.100/24\n")
            }
        }
        let report = await status(cluster).probe()
        #expect(report.sensorAddressHolder == nil)
        #expect(report.sensorAddress.holders == ["n1", "n3"])
        #expect(report.reasons == ["the sensor address 10.1.0.100 is held by n1 and n3"])
    }

    @Test func mdnsModeHoldsNoAddressAndAsksNoNode() async throws {
        let (cluster, runners) = try cluster(sensorAddress: .mdnsHostname("hacluster"))
        let report = await status(cluster).probe()
        #expect(report.sensorAddress == .init(mode: "mdns-hostname", address: "hacluster", holders: nil))
        #expect(report.sensorAddressHolder == nil)
        #expect(report.verdict == .healthy)
        #expect(runners.values.allSatisfy { !$0.ran("ip -o -4 addr show") })
        #expect(report.homeAssistant.address == "10.1.0.11", "no sensor address to ask through: the nodes")
    }

    @Test func theJSONReportCarriesTheVerdictWhereThingsRunAndProblems() async throws {
        let report = await status(try cluster(secrets: false).0).probe()
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect((object["problems"] as? [String])?.count == 1)
        #expect(object["verdict"] as? String == "degraded")
        #expect(object["reasons"] as? [String] == ["Galera members not known"])
        #expect(object["active"] as? String == "n1")
        #expect(object["sensorAddressHolder"] as? String == "n3")
        #expect(object["leader"] as? String == "n2")
        #expect(object["brokerNode"] as? String == "n2")
        #expect(object["pendingHeal"] as? Int == 0)
        #expect(object["leaseHolder"] == nil, "nothing provides a lease yet")
    }
}
