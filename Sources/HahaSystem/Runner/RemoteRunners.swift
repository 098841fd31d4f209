import Foundation
import HahaCore

/// Runs commands on a node over the system OpenSSH client (so `~/.ssh/config`, keys and the agent apply).
/// Every remote command is wrapped in `timeout` on the node too: killing the local ssh does not stop it there.
public struct SSHRunner: CommandRunner {
    public var node: ClusterSpec.Node
    /// Extra `ssh` options (the lab passes its own key and known-hosts file).
    public var options: [String]
    var local: any CommandRunner

    public init(node: ClusterSpec.Node, options: [String] = [], local: any CommandRunner = LocalRunner()) {
        self.node = node
        self.options = options
        self.local = local
    }

    public var target: String { "\(node.name) (\(node.user)@\(node.address))" }

    /// The full local argv for a remote command, e.g. for error messages. The user goes after `-l` and the host
    /// after `--`, so that no value from the spec can become an ssh option.
    public func sshArguments(for command: Command) -> [String] {
        var args = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
                    // One connection per node, reused by every command for a minute: steps cost milliseconds, not handshakes.
                    "-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/haha-ssh-%C", "-o", "ControlPersist=60"]
        if node.port != 22 { args += ["-p", String(node.port)] }
        if let identity = node.identityFile { args += ["-i", expandTilde(identity)] }
        args += options
        args += ["-l", node.user, "--", node.address]
        var remote = ["timeout", "-k", "5", String(Int(command.timeout.rounded(.up)))]
        if node.user != "root" { remote = ["sudo", "-n"] + remote }
        args.append((remote + command.arguments).map(shellQuote).joined(separator: " "))
        return args
    }

    public func run(_ command: Command) async throws -> CommandResult {
        let result = try await local.run(Command(sshArguments(for: command), input: command.input, timeout: command.timeout + 15))
        if result.exitCode == 255 {
            // ssh's own failure (unreachable, refused key, host key mismatch), not the remote command's.
            var annotated = result
            annotated.stderr += Data("\n(ssh could not reach \(target); check that the node is up and `ssh -p \(node.port) -l \(node.user) -- \(node.address)` works without a password)".utf8)
            return annotated
        }
        return result
    }
}

/// Runs commands inside a local container with `docker exec` (lab fault injection, image checks).
public struct DockerExecRunner: CommandRunner {
    public var container: String
    var local: any CommandRunner

    public init(container: String, local: any CommandRunner = LocalRunner()) {
        self.container = container
        self.local = local
    }

    public var target: String { "container \(container)" }

    public func run(_ command: Command) async throws -> CommandResult {
        var args = ["docker", "exec"]
        if command.input != nil { args.append("-i") }
        args.append(container)
        return try await local.run(Command(args + command.arguments, input: command.input, timeout: command.timeout))
    }
}

func expandTilde(_ path: String) -> String {
    guard path.hasPrefix("~/") else { return path }
    return FileManager.default.homeDirectoryForCurrentUser.path + String(path.dropFirst(1))
}
