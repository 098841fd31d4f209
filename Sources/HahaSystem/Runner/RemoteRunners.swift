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
        var args = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
        // One connection per node, reused by every command for a minute: steps cost milliseconds, not handshakes. The
        // socket lives in a directory only this user can enter; without one, every command makes its own connection.
        if let directory = Self.controlDirectory {
            args += ["-o", "ControlMaster=auto", "-o", "ControlPath=\(directory)/%C", "-o", "ControlPersist=60"]
        } else {
            args += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        }
        if node.port != 22 { args += ["-p", String(node.port)] }
        if let identity = node.identityFile { args += ["-i", expandTilde(identity)] }
        args += options
        args += ["-l", node.user, "--", node.address]
        var remote = ["timeout", "-k", "5", String(Int(command.timeout.rounded(.up)))]
        if node.user != "root" { remote = ["sudo", "-n"] + remote }
        args.append((remote + command.arguments).map(shellQuote).joined(separator: " "))
        return args
    }

    /// `/tmp/haha-ssh-UID`, created 0700; nil when it exists but is not a directory of this user with mode 0700
    /// (someone else made it: their socket could stand in for ours).
    static let controlDirectory: String? = {
        let path = "/tmp/haha-ssh-\(geteuid())"
        _ = mkdir(path, 0o700)
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid(),
            (info.st_mode & 0o777) == 0o700
        else { return nil }
        return path
    }()

    public func run(_ command: Command) async throws -> CommandResult {
        let result = try await local.run(Command(sshArguments(for: command), input: command.input, timeout: command.timeout + 15))
        if result.exitCode == 255 {
            // ssh's own failure (unreachable, refused key, host key mismatch), not the remote command's.
            var annotated = result
            if result.errorOutput.contains("Host key verification failed") || result.errorOutput.contains("HOST IDENTIFICATION HAS CHANGED")
            {
                annotated.stderr += Data(
                    "\n(the SSH host key of \(target) is not the one recorded for it: if the node was reinstalled, remove its old key with `ssh-keygen -R \(node.address) -f KNOWN_HOSTS` and add the new one with `ssh-keyscan -p \(node.port) \(node.address) >> KNOWN_HOSTS`, KNOWN_HOSTS being ssh.knownHostsFile in haha.yaml; otherwise someone may be answering in its place)"
                        .utf8)
                return annotated
            }
            annotated.stderr += Data(
                "\n(ssh could not reach \(target); check that the node is up and `ssh -p \(node.port) -l \(node.user) -- \(node.address)` works without a password)"
                    .utf8)
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
