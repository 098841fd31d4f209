import Foundation

/// Runs commands as local processes (`ChildProcess`), with a timeout and captured output.
public struct LocalRunner: CommandRunner {
    public var target: String { "local" }
    public var environment: [String: String]?

    public init(environment: [String: String]? = nil) {
        self.environment = environment
    }

    public func run(_ command: Command) async throws -> CommandResult {
        let child: ChildProcess
        do {
            child = try ChildProcess(
                command.arguments, environment: environment, stdin: command.input == nil ? .null : .pipe, stdout: .pipe,
                stderr: .pipe)
        } catch {
            return CommandResult(exitCode: 127, stderr: Data("\(error)".utf8))
        }
        // Read both pipes concurrently so a chatty process never blocks on a full pipe.
        async let out = Self.readAll(child.standardOutput)
        async let err = Self.readAll(child.standardError)
        if let input = command.input, let writer = child.standardInput {
            Thread.detachNewThread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        }
        let expired = Flag()
        let timer = Task {
            try await Task.sleep(for: .seconds(command.timeout))
            expired.set()
            child.send(SIGTERM)
            try await Task.sleep(for: .seconds(3))
            child.send(SIGKILL)
        }
        let status = await child.exit()
        timer.cancel()
        var errData = await err
        if expired.isSet { errData += Data("\n(killed after \(Int(command.timeout)) s timeout)".utf8) }
        return CommandResult(exitCode: expired.isSet ? 124 : status, stdout: await out, stderr: errData)
    }

    private static func readAll(_ handle: FileHandle?) async -> Data {
        guard let handle else { return Data() }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = (try? handle.readToEnd()) ?? Data()
                continuation.resume(returning: data)
            }
        }
    }
}

/// A thread-safe one-way flag.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
