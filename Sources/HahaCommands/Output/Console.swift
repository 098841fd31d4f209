import Foundation
import HahaSystem

/// The one place output goes: results to stdout, progress and diagnostics to stderr.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Progress and errors; every secret haha read is replaced by its name (`Redaction`).
    static func error(_ text: String, terminator: String = "\n") {
        FileHandle.standardError.write(Data((Redaction.apply(text) + terminator).utf8))
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        out(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Prints ` • step`, then ` ✓ step (1.2s)` or ` ✗ step` to stderr, the way kind prints cluster creation.
struct StepPrinter: Sendable {
    var quiet = false

    @discardableResult
    func step<T: Sendable>(_ title: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        if !quiet { Console.error(" • \(title) …") }
        do {
            let value = try await body()
            if !quiet { Console.error(" ✓ \(title) (\(format(ContinuousClock.now - start)))") }
            return value
        } catch {
            Console.error(" ✗ \(title)")
            throw error
        }
    }

    func note(_ text: String) {
        if !quiet { Console.error("   \(text)") }
    }

    func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1fs", seconds)
    }
}
