import Foundation
import HahaSystem
import Testing

/// Finds the built `haha` executable next to the test bundle (swift build puts them in one directory).
enum Built {
    static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["HAHA_BIN_DIR"] { return URL(fileURLWithPath: override) }
        // Bundle.main is the build directory (or the .xctest bundle inside it, depending on the platform).
        let main = Bundle.main.bundleURL
        return main.pathExtension == "xctest" ? main.deletingLastPathComponent() : main
    }

    static var haha: String { directory.appendingPathComponent("haha").path }

    static func requireHaha() throws -> String {
        try #require(
            FileManager.default.isExecutableFile(atPath: haha), "no haha executable at \(haha); run `swift build` before `swift test`")
        return haha
    }
}

/// A scratch directory removed at the end unless HAHA_KEEP_SCRATCH=1.
final class Scratch {
    let url: URL
    var path: String { url.path }

    init(_ name: String = "haha-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        if ProcessInfo.processInfo.environment["HAHA_KEEP_SCRATCH"] != "1" { try? FileManager.default.removeItem(at: url) }
    }

    func file(_ relative: String) -> String { url.appendingPathComponent(relative).path }
}

/// Runs a command in a directory and returns its result (the CLI under test, docker, ...).
func run(_ arguments: [String], in directory: String, input: String? = nil, timeout: Double = 120) async throws -> CommandResult {
    let runner = LocalRunner()
    return try await runner.run(
        Command(
            ["sh", "-c", "cd \(shellQuote(directory)) && exec \"$@\"", "sh"] + arguments,
            input: input.map { Data($0.utf8) }, timeout: timeout))
}

func commandExists(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
}

/// Runs `body` against a fresh lab named `name` and removes the lab afterwards, also when `body` fails
/// (HAHA_KEEP_LAB=1 keeps it for a look). Failures are recorded, not thrown, so the clean-up always runs.
func withLab(_ name: String, scratch: Scratch, _ body: (_ haha: String, _ lab: [String]) async throws -> Void) async throws {
    let haha = try Built.requireHaha()
    let lab = ["--name", name, "--dir", scratch.file("lab")]
    _ = try await run([haha, "lab", "down"] + lab, in: scratch.path)
    do {
        try await body(haha, lab)
    } catch {
        Issue.record(error)
    }
    if ProcessInfo.processInfo.environment["HAHA_KEEP_LAB"] != "1" {
        _ = try await run([haha, "lab", "down"] + lab, in: scratch.path, timeout: 300)
    }
}

/// The time a long lab test may take in all, shared by its steps: each command gets at most what is left, so a step
/// that hangs fails the test with its name instead of running CI past its limit. Every step is logged to stderr with
/// the time since the start, so a CI log shows where the time went.
final class Budget: Sendable {
    let name: String, total: Double
    let start = Date()

    init(_ name: String, minutes: Double) {
        self.name = name
        total = minutes * 60
    }

    var elapsed: Double { Date().timeIntervalSince(start) }

    /// Logs the start of a step: `[haha-e2e +612 s] drill --partition`.
    func step(_ title: String) {
        FileHandle.standardError.write(Data("[\(name) +\(Int(elapsed)) s] \(title)\n".utf8))
    }

    /// `wanted`, or less when less is left; throws once the budget is spent.
    func timeout(_ wanted: Double) throws -> Double {
        let left = total - elapsed
        guard left > 1 else {
            throw BudgetSpent(
                description: "\(name) spent its \(Int(total / 60)) min budget; the log's last [\(name) +… s] line is the step that ran long"
            )
        }
        return min(wanted, left)
    }
}

struct BudgetSpent: Error, CustomStringConvertible { let description: String }
