import Foundation

/// A command to run: argv plus optional standard input. `pretty` is what a user can paste into a shell.
public struct Command: Sendable, Equatable, CustomStringConvertible {
    public var arguments: [String]
    public var input: Data?
    /// Seconds before the command is killed (on the remote side too, for SSH).
    public var timeout: Double

    public init(_ arguments: [String], input: Data? = nil, timeout: Double = 120) {
        self.arguments = arguments
        self.input = input
        self.timeout = timeout
    }

    public var pretty: String { arguments.map(shellQuote).joined(separator: " ") }
    public var description: String { pretty }
}

public struct CommandResult: Sendable, Equatable {
    public var exitCode: Int32
    public var stdout: Data
    public var stderr: Data

    public init(exitCode: Int32, stdout: Data = Data(), stderr: Data = Data()) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }

    public var output: String { String(decoding: stdout, as: UTF8.self) }
    public var errorOutput: String { String(decoding: stderr, as: UTF8.self) }
    public var succeeded: Bool { exitCode == 0 }

    /// The last `lines` lines of standard error (of standard output when standard error is empty), indented for a message.
    public func tail(lines: Int) -> String {
        (errorOutput.isEmpty ? output : errorOutput).split(separator: "\n").suffix(lines).map { "    \($0)" }.joined(separator: "\n")
    }
}

/// A failed command: where it ran, what it was (pasteable), and the tail of what it said.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var target: String
    public var command: String
    public var result: CommandResult
    public var hint: String?

    public init(target: String, command: String, result: CommandResult, hint: String? = nil) {
        self.target = target
        self.command = command
        self.result = result
        self.hint = hint
    }

    public var description: String {
        let tail = result.tail(lines: 8)
        var text = "command failed on \(target) (exit \(result.exitCode)): \(command)"
        if !tail.isEmpty { text += "\n" + tail }
        if let hint { text += "\n  → \(hint)" }
        return text
    }
}

/// The one seam between haha's logic and the world: run a command somewhere (locally, over SSH, in a container).
public protocol CommandRunner: Sendable {
    /// Where commands run, for messages ("local", "n1 (root@10.1.0.11)").
    var target: String { get }
    func run(_ command: Command) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs and throws `CommandError` on a non-zero exit.
    @discardableResult
    public func check(_ arguments: [String], input: Data? = nil, timeout: Double = 120, hint: String? = nil) async throws -> CommandResult {
        let command = Command(arguments, input: input, timeout: timeout)
        let result = try await run(command)
        guard result.succeeded else { throw CommandError(target: target, command: command.pretty, result: result, hint: hint) }
        return result
    }

    /// Runs `sh -c SCRIPT` (for pipelines on nodes).
    @discardableResult
    public func shell(_ script: String, input: Data? = nil, timeout: Double = 120, hint: String? = nil) async throws -> CommandResult {
        try await check(["sh", "-c", script], input: input, timeout: timeout, hint: hint)
    }

    public func output(_ arguments: [String], timeout: Double = 120) async throws -> String {
        try await check(arguments, timeout: timeout).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// POSIX shell quoting: safe words stay bare, everything else goes in single quotes.
public func shellQuote(_ word: String) -> String {
    if !word.isEmpty, word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@+%".contains($0)) }) {
        return word
    }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
