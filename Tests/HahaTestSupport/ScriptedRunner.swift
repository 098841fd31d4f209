import Foundation
import HahaSystem

/// A scripted runner: records every command and answers from a script, for testing logic without machines.
///
/// Answers are tried in the order they were added; the first whose `matches` accepts the argv wins, and a command
/// nothing matches succeeds with no output. A `reply` closure may look at what this or another runner already ran
/// (`ran`, `written`), so a script can answer as a node that changes when haha changes it.
public final class ScriptedRunner: CommandRunner, @unchecked Sendable {
    public typealias Reply = @Sendable (Command) -> CommandResult

    /// A command as it was run, with a sequence number shared by every scripted runner (order across nodes).
    public struct Recorded: Sendable {
        public var sequence: Int
        public var command: Command
    }

    public let target: String
    private let lock = NSLock()
    private var script: [(matches: @Sendable ([String]) -> Bool, reply: Reply)] = []
    private var recorded: [Recorded] = []

    public init(target: String = "scripted") { self.target = target }

    /// Answers commands that `matches` accepts with a fixed result.
    public func on(_ matches: @escaping @Sendable ([String]) -> Bool, exit: Int32 = 0, stdout: String = "", stderr: String = "") {
        let result = CommandResult(exitCode: exit, stdout: Data(stdout.utf8), stderr: Data(stderr.utf8))
        on(matches) { _ in result }
    }

    /// Answers commands that `matches` accepts with whatever `reply` computes at the time they run.
    public func on(_ matches: @escaping @Sendable ([String]) -> Bool, reply: @escaping Reply) {
        lock.withLock { script.append((matches, reply)) }
    }

    public func run(_ command: Command) async throws -> CommandResult {
        let reply: Reply? = lock.withLock {
            recorded.append(Recorded(sequence: Sequence.next(), command: command))
            return script.first { $0.matches(command.arguments) }?.reply
        }
        // Outside the lock: a reply may ask this runner what it ran.
        return reply?(command) ?? CommandResult(exitCode: 0)
    }

    /// Every command run so far, in order.
    public var commands: [Command] { lock.withLock { recorded.map(\.command) } }
    public var history: [Recorded] { lock.withLock { recorded } }

    /// Whether a command ran here whose pasteable form, or one of whose arguments (a `sh -c` script), contains `text`.
    public func ran(_ text: String) -> Bool {
        commands.contains { $0.pretty.contains(text) || $0.arguments.contains { $0.contains(text) } }
    }

    /// The last contents `Cluster.write` put at `path` on this runner, nil if it never wrote there.
    public func written(_ path: String) -> String? {
        commands.last { $0.arguments.last?.contains("cat > \(shellQuote(path)).haha-tmp") == true }?
            .input.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The shared sequence of every scripted command, so tests can check the order across nodes.
    private enum Sequence {
        nonisolated(unsafe) private static var value = 0
        private static let lock = NSLock()
        static func next() -> Int {
            lock.withLock {
                value += 1; return value
            }
        }
    }
}

extension CommandResult {
    /// A result as a script writes it.
    public static func scripted(exit: Int32 = 0, stdout: String = "", stderr: String = "") -> CommandResult {
        CommandResult(exitCode: exit, stdout: Data(stdout.utf8), stderr: Data(stderr.utf8))
    }
}
