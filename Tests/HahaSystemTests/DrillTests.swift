import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// The drill on scripted nodes: it waits for a whole cluster, cuts the node that runs Home Assistant (found through
/// the `haha.node` label, not the host name), asks a surviving node, and always puts the node back.
/// Home Assistant never moves in these scripts, so no HTTP or MQTT probe reaches the network and the drill times out.
@Suite struct DrillTests {
    static func swarmID(_ name: String) -> String { "q7c2m9x4w1v8b5n3k6j0h\(name)" }

    /// Home Assistant runs on host `pi-2` (spec node n2), the broker on `pi-1` (n1); Galera is synced everywhere.
    static func runningCluster(homeAssistant: String? = "pi-2 Running 3 hours ago") -> (Cluster, [String: ScriptedRunner]) {
        let (cluster, runners) = Fixtures.cluster { name, runner in
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true \(swarmID(name))\n")
            runner.on(
                { $0.starts(with: ["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name=haha_galera-\(name)"]) },
                stdout: "5b1e7d2c9a40\n")
            runner.on(
                { $0.starts(with: ["docker", "exec", "5b1e7d2c9a40"]) },
                stdout: "wsrep_cluster_size\t3\nwsrep_cluster_status\tPrimary\nwsrep_local_state\t4\n")
            // The fence's lease names the node that runs Home Assistant.
            runner.on(
                { $0.first == "cat" && $0.last?.hasSuffix("/.haha/lease") == true },
                stdout: homeAssistant.map { "held \($0.split(separator: " ")[0]) 41 9f3c 7\n" } ?? "released pi-2 41 9f3c\n")
            runner.on({ $0.starts(with: ["docker", "service", "ps", "haha_mosquitto"]) }, stdout: "pi-1 Running 3 hours ago\n")
            runner.on({ $0.starts(with: ["docker", "node", "inspect"]) }) { command in
                .scripted(stdout: command.arguments[3].replacingOccurrences(of: "pi-", with: "n") + "\n")
            }
            runner.on({ $0.starts(with: ["docker", "node", "ls", "-q", "--filter"]) }) { command in
                .scripted(stdout: swarmID(command.arguments[5].replacingOccurrences(of: "node.label=haha.node=", with: "")) + "\n")
            }
        }
        return (cluster, runners)
    }

    @Test func theNodeRunningHomeAssistantIsDrainedThroughASurvivorAndPutBack() async throws {
        let (cluster, runners) = Self.runningCluster()
        let error = await #expect(throws: HahaError.self) {
            _ = try await Drill(cluster: cluster).run(healthcheckPassword: "pw", timeout: 1)
        }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("did not come back within 1 s after n2 went away") == true)

        // The victim is n2 (label of host pi-2); the drain and the return go through n1, a node that stays up.
        #expect(
            Changing.commands(runners, ["docker node update"]) == [
                "n1: docker node update --availability active \(Self.swarmID("n2"))",
                "n1: docker node update --availability drain \(Self.swarmID("n2"))",
            ])
        let n1 = runners["n1"]!
        let drain = try #require(n1.history.first { $0.command.pretty.contains("--availability drain") }?.sequence)
        let active = try #require(n1.history.first { $0.command.pretty.contains("--availability active") }?.sequence)
        #expect(drain < active)
        // Before cutting: a manager with quorum, and every Galera member asked whether it is synced.
        let managerCheck = try #require(n1.history.first { $0.command.arguments == ["docker", "node", "ls", "-q"] }?.sequence)
        #expect(managerCheck < drain)
        for runner in runners.values {
            let synced = try #require(runner.history.first { $0.command.arguments.starts(with: ["docker", "exec"]) }?.sequence)
            #expect(synced < drain)
        }
        // While the node is out, the drill keeps asking where Home Assistant runs.
        #expect(
            n1.history.filter { $0.sequence > drain && $0.sequence < active && $0.command.pretty.contains("/.haha/lease") }
                .count >= 1)
    }

    @Test func aFailoverIsMeasuredThroughASurvivorAndTheNodeIsPutBack() async throws {
        // n1 (the observer) answers on loopback: HTTP 401 as Home Assistant does without a token, and an accepting broker.
        let http = try LoopbackServer.unauthorizedHTTP()
        let broker = try LoopbackServer.acceptingBroker()
        defer { http.stop(); broker.stop() }
        let spec = Fixtures.spec {
            $0.nodes[0].address = "127.0.0.1"
            $0.homeAssistant.port = http.port
            $0.mqtt.port = broker.port
        }
        let (cluster, runners) = Fixtures.cluster(spec)
        let n1 = runners["n1"]!
        let drained: @Sendable () -> Bool = { n1.ran("--availability drain") }
        for (name, runner) in runners {
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true \(Self.swarmID(name))\n")
            runner.on({ $0.starts(with: ["docker", "ps", "-q", "--filter"]) }, stdout: "5b1e7d2c9a40\n")
            runner.on(
                { $0.starts(with: ["docker", "exec", "5b1e7d2c9a40"]) },
                stdout: "wsrep_cluster_size\t3\nwsrep_cluster_status\tPrimary\nwsrep_local_state\t4\n")
        }
        // Both services run on pi-2 (n2) and move once it is drained: Home Assistant to pi-3, the broker to pi-1.
        n1.on({ $0.first == "cat" && $0.last?.hasSuffix("/.haha/lease") == true }) { _ in
            .scripted(stdout: drained() ? "held pi-3 41 9f3c 1\n" : "held pi-2 12 77ab 9000\n")
        }
        n1.on({ $0.starts(with: ["docker", "service", "ps", "haha_mosquitto"]) }) { _ in
            .scripted(stdout: drained() ? "pi-1 Running 1 second ago\n" : "pi-2 Running 3 hours ago\n")
        }
        n1.on({ $0.starts(with: ["docker", "node", "inspect"]) }) { command in
            .scripted(stdout: command.arguments[3].replacingOccurrences(of: "pi-", with: "n") + "\n")
        }
        n1.on({ $0 == ["docker", "node", "ls", "-q", "--filter", "node.label=haha.node=n2"] }, stdout: Self.swarmID("n2") + "\n")

        let result = try await Drill(cluster: cluster).run(healthcheckPassword: "pw", timeout: 30)
        #expect(result.failedNode == "n2")
        #expect(result.homeAssistantNode == "n3")
        #expect(result.brokerNode == "n1")
        #expect(result.mqttSeconds != nil)
        #expect(result.homeAssistantSeconds < 30)
        #expect(
            Changing.commands(runners, ["docker node update"]) == [
                "n1: docker node update --availability active \(Self.swarmID("n2"))",
                "n1: docker node update --availability drain \(Self.swarmID("n2"))",
            ])
    }

    @Test func aGivenCutAndRestoreReplaceTheDrainAndGetTheVictim() async throws {
        let (cluster, runners) = Self.runningCluster()
        let seen = Seen()
        _ = try? await Drill(cluster: cluster).run(
            healthcheckPassword: "pw",
            fail: { node, runner in seen.add("fail \(node.name) \((runner as? ScriptedRunner) === runners[node.name])") },
            restore: { node, _ in seen.add("restore \(node.name)") },
            timeout: 1)
        #expect(seen.all == ["fail n2 true", "restore n2"])
        #expect(Changing.commands(runners, ["docker node update"]) == [])
    }

    @Test func nothingIsCutWhenHomeAssistantIsNotRunning() async throws {
        let (cluster, runners) = Self.runningCluster(homeAssistant: nil)
        let error = await #expect(throws: HahaError.self) {
            _ = try await Drill(cluster: cluster).run(healthcheckPassword: "pw", timeout: 1)
        }
        #expect(error?.message == "Home Assistant is not running")
        #expect(Changing.commands(runners, ["docker node update"]) == [])
    }
}

/// What the drill's closures were called with.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
