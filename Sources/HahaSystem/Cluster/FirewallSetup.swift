import Foundation
import HahaCore

/// Galera's ports open to the cluster's data nodes only (`GaleraFirewall`): its script and cron file on every data
/// node, and the script run there now.
public struct FirewallSetup: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    public func converge(files: [RenderedFile]) async throws -> Bool {
        guard let script = files.first(where: { $0.path == GaleraFirewall.scriptFile }),
            let cron = files.first(where: { $0.path == GaleraFirewall.cronFile })
        else { return false }
        let changes = try await cluster.onAll(cluster.spec.dataNodes) { node, runner in
            var changed = false
            for (file, path, mode) in [(script, GaleraFirewall.scriptPath, "0755"), (cron, GaleraFirewall.cronPath, "0644")] {
                if try await runner.run(Command(["cat", path], timeout: 30)).output != file.contents {
                    try await cluster.write(file.contents, to: path, mode: mode, on: runner)
                    changed = true
                }
            }
            let ran = try await runner.check(
                [GaleraFirewall.scriptPath], timeout: 60,
                hint:
                    "Galera's ports could not be limited to the cluster's nodes on \(node.name): run `sudo \(GaleraFirewall.scriptPath)` there and read what it says"
            )
            return ran.output.contains("changed") || changed
        }
        return changes.values.contains(true)
    }
}
