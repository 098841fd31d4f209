import Foundation

/// Probes whose answers decide destructive steps: yes, no, or a doubt that stops haha.
///
/// A failed `ssh`, a `timeout`, a daemon restarting or output that cannot be read is not an answer. Reading it
/// as "no" is how a tool wipes a live volume or bootstraps a database from a member that is behind, so every
/// such probe goes through `decide`, and a doubt throws before anything depends on it.
extension CommandRunner {
    /// Runs `arguments` and returns its result when it exits 0 and `valid` accepts it, nil when `isNo`
    /// recognises a definite "no", and throws a doubt (naming the node, the command and what to check) otherwise.
    public func decide(
        _ arguments: [String], question: String, timeout: Double = 30,
        isNo: (CommandResult) -> Bool,
        valid: (CommandResult) -> Bool = { _ in true },
        check: String
    ) async throws -> CommandResult? {
        let command = Command(arguments, timeout: timeout)
        let result = try await run(command)
        if result.succeeded && valid(result) { return result }
        if !result.succeeded && isNo(result) { return nil }
        throw doubt(question, command: command, result: result, check: check)
    }

    /// The error for a probe without an answer.
    public func doubt(_ question: String, command: Command, result: CommandResult, check: String) -> HahaError {
        let said = result.tail(lines: 4)
        let why: String
        switch result.exitCode {
        case 0: why = "it answered something haha cannot read"
        case 255: why = "ssh could not reach the node (exit 255)"
        case 124, 137: why = "it timed out (exit \(result.exitCode))"
        default: why = "it exited \(result.exitCode)"
        }
        return HahaError(
            .doubt,
            """
            cannot tell whether \(question) on \(target): \(why)
              command: \(command.pretty)\(said.isEmpty ? "" : "\n" + said)
              haha stopped before any step that depends on the answer; nothing was deleted or bootstrapped
            """, next: "\(check); then run the command again")
    }
}

extension CommandResult {
    /// What the command printed on both streams, lowercased: for recognising a definite "no".
    var said: String { (output + "\n" + errorOutput).lowercased() }
}
