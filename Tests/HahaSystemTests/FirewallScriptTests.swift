import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

enum NetworkNamespace {
    static let available: Bool = {
        let present = ["/usr/bin/unshare", "/usr/sbin/iptables"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
        if geteuid() != 0 || !present { print("skipped: FirewallScriptTests, because they need root, unshare and iptables") }
        return geteuid() == 0 && present
    }()
}

/// The rendered Galera firewall, run for real with iptables inside a network namespace of its own (`unshare --net`),
/// so the machine's own rules are never touched. Needs root, `unshare` and `iptables`.
@Suite(.enabled(if: NetworkNamespace.available, "needs root, unshare and iptables (a network namespace of its own)"))
struct FirewallScriptTests {
    /// Runs `body` (shell) in a new network namespace, with the rendered script at `$script` and the removal at
    /// `$removal`; returns what it printed.
    func inNamespace(_ spec: ClusterSpec, _ body: String) async throws -> CommandResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("haha-fw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try GaleraFirewall.script(spec).write(toFile: "\(directory)/script", atomically: true, encoding: .utf8)
        try GaleraFirewall.removal.write(toFile: "\(directory)/removal", atomically: true, encoding: .utf8)
        return try await LocalRunner().run(
            Command(
                [
                    "unshare", "--net", "sh", "-c",
                    // An address of its own, as a node has: without one the resolver answers no name (AI_ADDRCONFIG).
                    "ip link set lo up && ip addr add 198.51.100.1/32 dev lo && "
                        + "script='sh \(directory)/script'; removal='sh \(directory)/removal'; " + body,
                ],
                timeout: 60))
    }

    @Test func onlyTheDataNodesReachGaleraAndASecondRunChangesNothing() async throws {
        // localhost stands for a node given by host name: it resolves to 127.0.0.1 without a network.
        let spec = Fixtures.spec(arbiters: ["n3"]) { spec in
            spec.nodes[0].address = "192.0.2.11"
            spec.nodes[1].address = "localhost"
            spec.nodes[2].address = "192.0.2.13"
        }
        let result = try await inNamespace(
            spec,
            """
            echo "first: $($script)"; echo "second: $($script)"; iptables -S HAHA-GALERA; iptables -S DOCKER-USER
            """)
        #expect(result.succeeded, "\(result.tail(lines: 20))")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.prefix(2) == ["first: changed", "second: "])
        #expect(
            lines.filter { $0.hasPrefix("-A HAHA-GALERA") } == [
                "-A HAHA-GALERA -i docker_gwbridge -j RETURN", "-A HAHA-GALERA -s 192.0.2.11/32 -j RETURN",
                "-A HAHA-GALERA -s 127.0.0.1/32 -j RETURN", "-A HAHA-GALERA -j DROP",
            ])
        #expect(
            lines.filter { $0.hasPrefix("-A DOCKER-USER") }.sorted()
                == [4444, 4567, 4568, 4569].map {
                    "-A DOCKER-USER -p tcp -m tcp --dport \($0) -m conntrack --ctstate DNAT -j HAHA-GALERA"
                })
    }

    /// A node added to the spec is let in by the next run, which rebuilds the chain; the removal leaves nothing.
    @Test func aChangedNodeListRebuildsTheChainAndTheRemovalLeavesNothing() async throws {
        let before = Fixtures.spec { spec in
            for index in spec.nodes.indices { spec.nodes[index].address = "192.0.2.1\(index + 1)" }
        }
        var after = before
        after.nodes.append(.init(name: "n4", address: "192.0.2.14"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("haha-fw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try GaleraFirewall.script(after).write(toFile: "\(directory)/after", atomically: true, encoding: .utf8)
        let result = try await inNamespace(
            before,
            """
            $script >/dev/null; echo "grown: $(sh \(directory)/after)"; iptables -S HAHA-GALERA | grep -c RETURN
            $removal; iptables -S HAHA-GALERA >/dev/null 2>&1 && echo "chain left"; iptables -S DOCKER-USER | grep -c HAHA || true
            """)
        #expect(result.succeeded, "\(result.tail(lines: 20))")
        #expect(result.output.split(separator: "\n").map(String.init) == ["grown: changed", "5", "0"])
    }
}

extension RenderingSteps {
    /// The node scripts' installation on scripted nodes: the data nodes get the firewall and the Swarm retry, an
    /// arbiter (no Galera member) only the retry; each script runs after it is written; a second run where no script
    /// changes a rule changes nothing.
    @Suite struct NodeScriptsSetupTests {
        @Test func eachNodeGetsItsScriptsAndRunsThemAndASecondRunChangesNothing() async throws {
            let spec = Fixtures.spec(arbiters: ["n3"])
            let files = try Renderer(spec: spec, secrets: SecretValues([:]), phase: .steady).render()
            let paths = [GaleraFirewall.scriptPath, GaleraFirewall.cronPath, SwarmRetry.scriptPath, SwarmRetry.cronPath]
            let (cluster, runners) = Fixtures.cluster(spec) { _, runner in
                for path in paths {
                    runner.on({ $0 == ["cat", path] }) { _ in
                        runner.written(path).map { .scripted(stdout: $0) } ?? .scripted(exit: 1, stderr: "cat: \(path): No such file\n")
                    }
                }
                // The firewall reports a change the first time it runs only.
                runner.on({ $0 == [GaleraFirewall.scriptPath] }) { _ in
                    .scripted(stdout: runner.commands.filter { $0.arguments == [GaleraFirewall.scriptPath] }.count == 1 ? "changed\n" : "")
                }
            }
            let setup = NodeScriptsSetup(cluster: cluster)
            #expect(try await setup.converge(files: files) == true)
            for name in ["n1", "n2", "n3"] {
                let runner = try #require(runners[name])
                let expected: [(String, String)] =
                    (name == "n3"
                        ? [] : [(GaleraFirewall.scriptPath, GaleraFirewall.script(spec)), (GaleraFirewall.cronPath, GaleraFirewall.cron)])
                    + [(SwarmRetry.scriptPath, SwarmRetry.script(spec)), (SwarmRetry.cronPath, SwarmRetry.cron)]
                for (path, contents) in expected { #expect(runner.written(path) == contents, "\(name): \(path)") }
                #expect(name != "n3" || runner.written(GaleraFirewall.scriptPath) == nil, "the arbiter got the firewall")
                for (path, _) in expected where !path.hasPrefix("/etc/") {
                    let ran = runner.commands.firstIndex { $0.arguments == [path] }
                    let wrote = runner.commands.firstIndex { $0.arguments.last?.contains("cat > \(shellQuote(path)).haha-tmp") == true }
                    #expect(ran != nil && wrote != nil && wrote! < ran!, "\(name): \(path) runs after it is written")
                }
            }
            #expect(try await setup.converge(files: files) == false)
        }
    }
}
