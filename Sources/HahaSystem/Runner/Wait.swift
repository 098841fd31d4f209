import Foundation
import Synchronization

/// What a wait's checks saw last, for its timeout error: the node, the command and the tail of what it printed.
public final class Poll: Sendable {
    struct Check: Sendable {
        var target: String
        var command: String
        var outcome: String
    }

    private let last = Mutex<Check?>(nil)

    public init() {}

    /// `runner`, each command it runs remembered as the last check.
    public func on(_ runner: any CommandRunner) -> any CommandRunner { WatchedRunner(base: runner, poll: self) }

    /// Remembers a check that is not a command (an HTTP request): where it went, what it asked, what came back.
    public func saw(on target: String, _ check: String, _ outcome: String) {
        last.withLock { $0 = Check(target: target, command: check, outcome: outcome) }
    }

    func saw(on target: String, _ command: Command, _ result: CommandResult) {
        let tail = result.tail(lines: 6)
        saw(on: target, command.pretty, "exit \(result.exitCode)" + (tail.isEmpty ? "" : "\n" + tail))
    }

    /// The last check, as lines for an error message.
    var report: String? {
        last.withLock { $0 }.map { "  last check on \($0.target): \($0.command) (\($0.outcome))" }
    }
}

/// A runner that tells a `Poll` about every command it runs.
struct WatchedRunner: CommandRunner {
    let base: any CommandRunner
    let poll: Poll

    var target: String { base.target }

    func run(_ command: Command) async throws -> CommandResult {
        do {
            let result = try await base.run(command)
            poll.saw(on: target, command, result)
            return result
        } catch {
            poll.saw(on: target, command.pretty, "did not run: \(error)")
            throw error
        }
    }
}

/// Polls until `condition` holds. The condition runs its commands through `poll.on(runner)`, so that a timeout says what
/// was awaited, the node and command of the last check with the tail of its output (or the error the check threw),
/// and `next`: what the user can do about it.
public func waitUntil(
    _ what: String, timeout: Double, interval: Double = 1, next: String,
    _ condition: (Poll) async throws -> Bool
) async throws {
    let poll = Poll()
    let deadline = ContinuousClock.now + .seconds(timeout)
    while true {
        var failure: (any Error)?
        do {
            if try await condition(poll) { return }
        } catch {
            failure = error
        }
        if ContinuousClock.now > deadline {
            var message = "timed out after \(Int(timeout)) s waiting for \(what)"
            if let report = poll.report { message += "\n" + report }
            if let failure, !(failure is CommandError && poll.report != nil) {
                message += "\n  the last check failed: \(String(describing: failure).split(separator: "\n").first ?? "")"
            }
            throw HahaError(.timeout, message, next: next)
        }
        try await Task.sleep(for: .seconds(interval))
    }
}
