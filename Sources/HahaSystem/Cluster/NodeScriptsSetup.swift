import Foundation
import HahaCore

/// The scripts haha installs on the nodes themselves, each with a cron file that runs it every minute, and runs once
/// now: `GaleraFirewall` on the data nodes (Galera's ports open to them only), `SwarmRetry` on every node (a service
/// Swarm left with no task running is scheduled again).
public struct NodeScriptsSetup: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    struct Installed {
        var script: (file: String, path: String)
        var cron: (file: String, path: String)
        var nodes: [ClusterSpec.Node]
        var purpose: String
    }

    var installed: [Installed] {
        [
            Installed(
                script: (GaleraFirewall.scriptFile, GaleraFirewall.scriptPath), cron: (GaleraFirewall.cronFile, GaleraFirewall.cronPath),
                nodes: cluster.spec.dataNodes, purpose: "Galera's ports could not be limited to the cluster's nodes"),
            Installed(
                script: (SwarmRetry.scriptFile, SwarmRetry.scriptPath), cron: (SwarmRetry.cronFile, SwarmRetry.cronPath),
                nodes: cluster.spec.nodes, purpose: "the check that schedules stuck services again failed"),
        ]
    }

    public func converge(files: [RenderedFile]) async throws -> Bool {
        var changed = false
        for item in installed {
            guard let script = files.first(where: { $0.path == item.script.file }),
                let cron = files.first(where: { $0.path == item.cron.file })
            else { continue }
            let changes = try await cluster.onAll(item.nodes) { node, runner in
                var changed = false
                for (file, path, mode) in [(script, item.script.path, "0755"), (cron, item.cron.path, "0644")] {
                    if try await runner.run(Command(["cat", path], timeout: 30)).output != file.contents {
                        try await cluster.write(file.contents, to: path, mode: mode, on: runner)
                        changed = true
                    }
                }
                let ran = try await runner.check(
                    [item.script.path], timeout: 120,
                    hint: "\(item.purpose) on \(node.name): run `sudo \(item.script.path)` there and read what it says")
                return ran.output.contains("changed") || changed
            }
            changed = changes.values.contains(true) || changed
        }
        return changed
    }
}
