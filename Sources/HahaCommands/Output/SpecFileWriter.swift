import HahaCore
import HahaSystem

/// Shared by `init` and `inventory import`: write the spec (`SpecFiles`), then say what was written and what's next.
enum SpecFileWriter {
    /// Records the nodes' host keys (ssh-keyscan) unless the user opted into trust on first use; returns them for `write`.
    static func recordHostKeys(_ cluster: inout ClusterSpec, trustOnFirstUse: Bool) async throws -> String? {
        if trustOnFirstUse { return nil }
        Console.error("recording the SSH host keys of \(cluster.nodes.map(\.name).joined(separator: ", ")) (ssh-keyscan)")
        let knownHosts = try await HostKeys.scan(cluster.nodes)
        cluster.knownHostsFile = "known_hosts"
        return knownHosts
    }

    static func write(_ cluster: ClusterSpec, to path: String, force: Bool, header: [String], knownHosts: String? = nil) throws {
        let written = try SpecFiles.write(cluster, to: path, force: force, header: header, knownHosts: knownHosts)
        if let file = written.knownHostsPath {
            Console.error("recorded the nodes' host keys in \(file); a changed key is refused from now on")
        }
        for warning in written.warnings { Console.error(warning.formatted(file: path)) }
        Console.error("wrote \(path) (\(cluster.nodes.count) nodes)")
        Console.error(
            written.createdSecrets.isEmpty
                ? "secrets: kept the existing files in \(written.secretsDirectory)"
                : "secrets: created \(written.createdSecrets.count) random passwords in \(written.secretsDirectory) (mode 0600; keep this directory private and backed up)"
        )
        Console.error("next: `haha validate`, then `haha render --out out/` to see what will be deployed")
        Console.out(path)
    }
}
