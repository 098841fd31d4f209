import Foundation
import HahaCore
import HahaSystem
import HahaTestSupport
import Testing

/// The rendered broker guard, run for real with `sh` (dash here; the official image's is busybox). A fake broker
/// records when it runs and when it gets SIGTERM; the test plays the fence by keeping the flag file fresh or not.
@Suite(.serialized) struct BrokerGuardTests {
    final class Guard {
        let root: String
        let process: ChildProcess
        var flag: String { "\(root)/run/active" }
        var marker: String { "\(root)/running" }

        init(stubborn: Bool = false, exits: Bool = false) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("haha-broker-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: "\(root)/run", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "\(root)/data", withIntermediateDirectories: true)
            let broker = "\(root)/broker"
            // A broker that saves and stops on TERM, ignores it (stubborn), or ends by itself after half a second.
            let onTerm = stubborn ? "echo ignored >> \(root)/events" : "echo stopped >> \(root)/events; exit 0"
            try """
            #!/bin/sh
            trap '\(onTerm)' TERM
            echo "running $*" >> \(root)/events
            echo $$ >> \(root)/pids
            \(exits ? "sleep 0.5; exit 3" : "while :; do sleep 0.1; done")
            """.write(toFile: broker, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: broker)
            let script = "\(root)/guard.sh"
            try BrokerGuard.script(Fixtures.spec()).write(toFile: script, atomically: true, encoding: .utf8)
            process = try ChildProcess(
                ["sh", script, broker, "-c", "conf"],
                environment: [
                    "HAHA_BROKER_FLAG": "\(root)/run/active", "HAHA_BROKER_MARKER": "\(root)/running", "HAHA_BROKER_DATA": "\(root)/data",
                ],
                stdout: .file("\(root)/guard.log"), stderr: .file("\(root)/guard.log"), ownGroup: true)
        }

        var events: [String] {
            ((try? String(contentsOfFile: "\(root)/events", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        var log: String { (try? String(contentsOfFile: "\(root)/guard.log", encoding: .utf8)) ?? "" }
        /// The fake brokers' process ids, in the order they started.
        var pids: [Int32] {
            ((try? String(contentsOfFile: "\(root)/pids", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        }
        var running: Bool { FileManager.default.fileExists(atPath: marker) }

        /// The fence's part: the flag written now (fresh), or with an old time, or removed.
        func touch(age: TimeInterval = 0) throws { try BrokerGuardTests.touch(flag, age: age) }
        func release() throws { try FileManager.default.removeItem(atPath: flag) }

        deinit {
            process.sendToGroup(SIGKILL)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func touch(_ flag: String, age: TimeInterval = 0) throws {
        if !FileManager.default.fileExists(atPath: flag) { _ = FileManager.default.createFile(atPath: flag, contents: Data()) }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: flag)
    }

    /// Keeps the flag fresh, as the holder's fence does every second, until the returned task is cancelled.
    static func holding(_ g: Guard) -> Task<Void, Never> {
        let flag = g.flag
        return Task {
            while !Task.isCancelled {
                try? touch(flag)
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    @Test func aStandbyRunsNoBrokerAndAStaleFlagCountsAsNone() async throws {
        let g = try Guard()
        try g.touch(age: 10)
        try await Task.sleep(for: .seconds(1.5))
        #expect(g.events.isEmpty, "\(g.log)")
        #expect(!g.running)
        #expect(g.process.status == nil)
        #expect(g.log.contains("standing by"))
    }

    @Test func theBrokerRunsWhileTheLeaseIsHeldAndStopsWhenItGoes() async throws {
        let g = try Guard()
        let fence = Self.holding(g)
        #expect(try await eventually(5) { g.events == ["running -c conf"] && g.running }, "\(g.log)")
        fence.cancel()
        try g.release()
        #expect(try await eventually(5) { g.events.last == "stopped" && !g.running }, "\(g.log)")
        #expect(g.log.contains("no longer holds the lease"))
        // The lease comes back: the broker starts again. A fence that died leaves a flag that goes stale: it stops.
        try g.touch()
        #expect(try await eventually(5) { g.events.count == 3 && g.events.last == "running -c conf" }, "\(g.log)")
        #expect(try await eventually(Double(BrokerGuard.freshSeconds + 5)) { g.events.last == "stopped" }, "\(g.log)")
        #expect(g.process.status == nil)
    }

    /// Mosquitto starts empty when it cannot open its file, and its next save replaces it: the guard waits while the
    /// volume cannot list the data or read the file it lists (a directory in the file's place stands for a Gluster file
    /// that answers EIO), and starts the broker once it can.
    @Test func noBrokerStartsWhileItsFileCannotBeRead() async throws {
        let g = try Guard()
        let data = "\(g.root)/data"
        try FileManager.default.removeItem(atPath: data)
        let fence = Self.holding(g)
        defer { fence.cancel() }
        try await Task.sleep(for: .seconds(1.5))
        #expect(g.events.isEmpty, "\(g.log)")
        try FileManager.default.createDirectory(atPath: "\(data)/mosquitto.db", withIntermediateDirectories: true)
        try await Task.sleep(for: .seconds(1.5))
        #expect(g.events.isEmpty, "\(g.log)")
        #expect(g.log.contains("cannot be read: waiting"))
        try FileManager.default.removeItem(atPath: "\(data)/mosquitto.db")
        try Data("\u{0}\u{B5}\u{0}mosquitto db".utf8).write(to: URL(fileURLWithPath: "\(data)/mosquitto.db"))
        #expect(try await eventually(5) { g.events == ["running -c conf"] && g.running }, "\(g.log)")
    }

    @Test func aBrokerThatExitsIsStartedAgainWhileTheLeaseIsHeld() async throws {
        let g = try Guard(exits: true)
        let fence = Self.holding(g)
        defer { fence.cancel() }
        #expect(try await eventually(8) { g.events.filter { $0.hasPrefix("running") }.count >= 2 }, "\(g.log)")
        #expect(g.log.contains("the broker exited with 3"))
    }

    @Test func aBrokerThatIgnoresTheStopIsKilledAndAStopOfTheContainerEndsBoth() async throws {
        let stubborn = try Guard(stubborn: true)
        let fence = Self.holding(stubborn)
        #expect(try await eventually(5) { stubborn.running }, "\(stubborn.log)")
        fence.cancel()
        try stubborn.release()
        #expect(try await eventually(5) { stubborn.events.contains("ignored") })
        // Killed after 5 s (a zombie until the guard reaps it: /proc says so).
        let first = try #require(stubborn.pids.first)
        let gone = {
            let state = (try? String(contentsOfFile: "/proc/\(first)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
            return state == nil || state == "Z"
        }
        try await Task.sleep(for: .seconds(2))
        #expect(!gone(), "still saving its messages 2 s after the stop")
        #expect(try await eventually(8) { gone() }, "\(stubborn.log)")
        try stubborn.touch()
        #expect(try await eventually(5) { stubborn.events.filter { $0.hasPrefix("running") }.count == 2 }, "\(stubborn.log)")

        let g = try Guard()
        let holder = Self.holding(g)
        defer { holder.cancel() }
        #expect(try await eventually(5) { g.running }, "\(g.log)")
        g.process.send(SIGTERM)
        #expect(try await eventually(5) { g.process.status != nil }, "\(g.log)")
        #expect(g.process.status == 0)
        #expect(g.events.last == "stopped")
    }
}
