import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// `haha status` with scripted nodes: what it shows, and that every probe without an answer is listed, never hidden.
@Suite struct ClusterStatusTests {
    let directory: String
    init() throws {
        directory = try Fixtures.scratchDirectory("status")
    }

    /// Three nodes answering like a running cluster whose Galera volumes do not exist yet; `change` edits one node's script.
    func cluster(secrets: Bool = true, change: (String, ScriptedRunner) -> Void = { _, _ in }) throws -> Cluster {
        let spec = ClusterSpec(nodes: ["n1", "n2", "n3"].enumerated().map { .init(name: $1, address: "10.1.0.1\($0 + 1)") })
        let workspace = Workspace(specPath: "\(directory)/haha.yaml", spec: spec)
        if secrets { try workspace.generateMissingSecrets() }
        var runners: [String: any CommandRunner] = [:]
        for node in spec.nodes {
            let runner = ScriptedRunner()
            change(node.name, runner)
            runner.on({ $0.first == "sh" }, stdout: "active mounted\n")
            runner.on({ $0.starts(with: ["docker", "info"]) }, stdout: "active true id-\(node.name)\n")
            runner.on({ $0.starts(with: ["docker", "service", "ls"]) }, stdout: "haha_homeassistant 1/1\nhaha_mosquitto 1/1\n")
            runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, exit: 1, stderr: "Error: no such volume")
            runners[node.name] = runner
        }
        return Cluster(workspace: workspace, runners: runners)
    }

    @Test func aHealthyClusterHasNoProblems() async throws {
        let report = await ClusterStatus(cluster: try cluster()).probe()
        #expect(report.problems == [])
        #expect(report.nodes.map(\.name) == ["n1", "n2", "n3"])
        #expect(report.nodes.allSatisfy { $0.reachable && $0.mounted && $0.swarm == "active" })
        #expect(report.services == [.init(name: "haha_homeassistant", replicas: "1/1"), .init(name: "haha_mosquitto", replicas: "1/1")])
        #expect(report.galera.map(\.node) == ["n1", "n2", "n3"])
        #expect(report.galera.allSatisfy { !$0.running && !$0.synced })
    }

    @Test func anUnreachableNodeIsAProblemWithItsName() async throws {
        let report = await ClusterStatus(
            cluster: try cluster { name, runner in
                if name == "n2" { runner.on({ _ in true }, exit: 255, stderr: "ssh: connect to host 10.1.0.12 port 22: No route to host") }
            }
        ).probe()
        let n2 = try #require(report.nodes.first { $0.name == "n2" })
        #expect(!n2.reachable && !n2.mounted && n2.swarm == "unknown")
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.hasPrefix("n2: not reachable (exit 255)") == true, "\(report.problems)")
        #expect(report.problems.first?.contains("No route to host") == true)
    }

    @Test func missingSecretsAreShownNotHidden() async throws {
        let report = await ClusterStatus(cluster: try cluster(secrets: false)).probe()
        #expect(report.galera.isEmpty)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.hasPrefix("galera: missing secret") == true, "\(report.problems)")
        #expect(report.services.count == 2, "the rest of the report is still filled in")
    }

    @Test func aGaleraProbeWithoutAnAnswerIsAProblem() async throws {
        let report = await ClusterStatus(
            cluster: try cluster { name, runner in
                if name == "n3" { runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, exit: 1, stderr: "permission denied") }
            }
        ).probe()
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("cannot tell whether the database volume") == true, "\(report.problems)")
        #expect(report.problems.first?.contains("n3") == true || report.problems.first?.contains("scripted") == true)
    }

    @Test func theJSONReportCarriesProblems() async throws {
        let report = await ClusterStatus(cluster: try cluster(secrets: false)).probe()
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect((object["problems"] as? [String])?.count == 1)
    }
}
