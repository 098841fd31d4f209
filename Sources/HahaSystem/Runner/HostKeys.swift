import Foundation
import HahaCore

/// The nodes' SSH host keys, recorded by `haha init` so that every later run refuses a node whose key changed
/// (`StrictHostKeyChecking=yes` against the spec's `ssh.knownHostsFile`) instead of trusting whoever answers.
public enum HostKeys {
    /// `ssh-keyscan` of every node, as `known_hosts` lines; throws naming every node whose key could not be read.
    public static func scan(_ nodes: [ClusterSpec.Node], local: any CommandRunner = LocalRunner()) async throws -> String {
        var lines: [String] = []
        var failures: [String] = []
        for node in nodes {
            // Addresses and ports passed validation (no leading `-`); ssh-keyscan takes no `--`.
            let command = Command(
                ["ssh-keyscan", "-T", "5", "-p", String(node.port), "-t", "ed25519,ecdsa,rsa", node.address], timeout: 20)
            let result = try await local.run(command)
            let keys = keyLines(result.output)
            if keys.isEmpty {
                let said = result.errorOutput.split(separator: "\n").filter { !$0.hasPrefix("#") }.last.map(String.init) ?? "no answer"
                failures.append("\(node.name) (\(node.address) port \(node.port)): \(said); command: \(command.pretty)")
            }
            lines += keys
        }
        guard failures.isEmpty else {
            throw HahaError(
                .failed,
                "could not read the SSH host key of \(failures.count == 1 ? "a node" : "\(failures.count) nodes"):\n"
                    + failures.map { "  \($0)" }.joined(separator: "\n"),
                next:
                    "start sshd on those nodes and run `haha init` again, or pass --trust-on-first-use to accept whatever key answers first"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `known_hosts` with a replaced machine's keys: unchanged when one scanned key is already recorded (the same
    /// machine); otherwise every line naming one of `hosts` (bare, or `[host]:port`) is dropped and the scanned lines
    /// are added.
    public static func replacing(in knownHosts: String, hosts: [String], port: Int, with scanned: String) -> String {
        let lines = knownHosts.split(whereSeparator: \.isNewline).map(String.init)
        let new = keyLines(scanned)
        if new.contains(where: lines.contains) { return knownHosts }
        let names = Set(hosts.flatMap { [$0, "[\($0)]:\(port)"] })
        let kept = lines.filter { line in
            let field = line.split(separator: " ").first.map(String.init) ?? ""
            return !field.split(separator: ",").contains { names.contains(String($0)) }
        }
        return (kept + new).joined(separator: "\n") + "\n"
    }

    /// The key lines of `ssh-keyscan` output (comments and blank lines dropped).
    static func keyLines(_ output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).map(String.init).filter { line in
            !line.hasPrefix("#") && line.split(separator: " ").count >= 3
        }
    }
}
