import Foundation

/// Runs commands as local processes (Foundation `Process`), with a timeout and captured output.
public struct LocalRunner: CommandRunner {
    public var target: String { "local" }
    public var environment: [String: String]?

    public init(environment: [String: String]? = nil) {
        self.environment = environment
    }

    public func run(_ command: Command) async throws -> CommandResult {
        guard let executable = command.arguments.first else {
            return CommandResult(exitCode: 127, stderr: Data("empty command".utf8))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command.arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = command.input == nil ? FileHandle.nullDevice : stdin

        let finished = AsyncStream<Int32>.makeStream()
        process.terminationHandler = {
            finished.continuation.yield($0.terminationStatus); finished.continuation.finish()
        }
        do {
            try process.run()
        } catch {
            return CommandResult(exitCode: 127, stderr: Data("cannot start \(executable): \(error)".utf8))
        }
        // Read both pipes concurrently so a chatty process never blocks on a full pipe.
        async let out = Self.readAll(stdout.fileHandleForReading)
        async let err = Self.readAll(stderr.fileHandleForReading)
        if let input = command.input {
            let writer = stdin.fileHandleForWriting
            Thread.detachNewThread {
                writer.write(input)
                try? writer.close()
            }
        }
        let pid = process.processIdentifier
        let expired = Flag()
        let timer = Task {
            try await Task.sleep(for: .seconds(command.timeout))
            expired.set()
            kill(pid, SIGTERM)
            try await Task.sleep(for: .seconds(3))
            kill(pid, SIGKILL)
        }
        var status: Int32 = -1
        for await code in finished.stream { status = code }
        timer.cancel()
        var errData = await err
        if expired.isSet { errData += Data("\n(killed after \(Int(command.timeout)) s timeout)".utf8) }
        return CommandResult(exitCode: expired.isSet ? 124 : status, stdout: await out, stderr: errData)
    }

    private static func readAll(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = handle.readDataToEndOfFile()
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
