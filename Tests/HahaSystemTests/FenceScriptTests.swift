import Foundation
import HahaCore
import HahaSystem
import HahaTestSupport
import Testing

/// The rendered fence script, run for real with this machine's python3 on a local directory standing in for the shared
/// volume. A lease file replaced by a FIFO makes every open of it hang, as a Gluster mount without quorum does.
@Suite(.serialized) struct FenceScriptTests {
    final class FenceProcess {
        let process: ChildProcess
        let log: String
        let pidFile: String
        let run: String

        init(_ name: String, script: String, root: String) throws {
            log = "\(root)/\(name).log"
            pidFile = "\(root)/\(name).pid"
            run = "\(root)/run-\(name)"
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            // The "Home Assistant" is a shell that records its pid and sleeps.
            process = try ChildProcess(
                ["/usr/bin/python3", script, "sh", "-c", "echo $$ > \(pidFile); exec sleep 3000"],
                environment: [
                    "HAHA_FENCE_DIR": "\(root)/volume", "HAHA_FENCE_RUN": run, "HAHA_NODE": name, "HAHA_FENCE_PORT": "1",
                ], stdout: .file(log), stderr: .file(log))
        }

        var childAlive: Bool {
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { return false }
            // A killed child whose parent is gone may linger as a zombie until something reaps it: that is not alive.
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(
                separator: " "
            ).first
            return kill(pid, 0) == 0 && state != "Z"
        }
        /// The exit status, or nil while it runs.
        var status: Int32? { process.status }
        var running: Bool { process.status == nil }
        var active: Bool { FileManager.default.fileExists(atPath: "\(run)/active") }
        var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        deinit {
            process.send(SIGKILL)
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                kill(pid, SIGKILL)
            }
        }
    }

    static var python: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") }

    static func lease(_ root: String) -> String { (try? String(contentsOfFile: "\(root)/volume/lease", encoding: .utf8)) ?? "" }

    /// Puts a FIFO in the lease's place in one rename: a reader never finds the lease missing (which frees it) in between.
    static func stall(_ root: String) -> Bool {
        mkfifo("\(root)/volume/lease.fifo", 0o644) == 0 && rename("\(root)/volume/lease.fifo", "\(root)/volume/lease") == 0
    }

    static func setUp() throws -> (root: String, script: String) {
        let root = try Fixtures.scratchDirectory("fence")
        var spec = Fixtures.spec()
        spec.storage.pingTimeout = 1  // deadline 4 s, takeover 5.5 s: a quick test
        let script = "\(root)/haha-fence.py"
        try Fence.script(spec).write(toFile: script, atomically: true, encoding: .utf8)
        return (root, script)
    }

    @Test(.enabled(if: python, "needs /usr/bin/python3 to run the fence script"))
    func aHolderThatCannotWriteKillsHomeAssistantAndAStandbyThatCannotReadNeverTakesOver() async throws {
        let (root, script) = try Self.setUp()
        let a = try FenceProcess("a", script: script, root: root)
        #expect(try await eventually(20) { a.childAlive && a.active && Self.lease(root).hasPrefix("held a ") })
        let b = try FenceProcess("b", script: script, root: root)
        #expect(try await eventually(20) { b.output.contains("standing by") })

        // The volume loses quorum for both: a's writes and b's reads hang.
        #expect(Self.stall(root))
        #expect(try await eventually(30) { !a.running })
        #expect(a.status == 75)
        #expect(!a.childAlive)
        #expect(!a.active)
        #expect(a.output.contains("FENCED"))
        // Reads that hang are no evidence that the holder is gone: b stays a standby however long it waits.
        try await Task.sleep(for: .seconds(6))
        #expect(!b.childAlive)
        #expect(!b.active)

        // Quorum is back (a's lease is gone with it): b takes over.
        try FileManager.default.removeItem(atPath: "\(root)/volume/lease")
        #expect(try await eventually(30) { b.childAlive && b.active && Self.lease(root).hasPrefix("held b ") })
    }

    /// A power cut of the holder's node: the standby's reads stall (a dead brick, for a ping-timeout), then answer with
    /// the lease it saw before. Two fresh reads longer than the takeover wait apart found it unchanged: it takes over
    /// at once, without waiting the takeover out again from the end of the stall.
    @Test(.enabled(if: python, "needs /usr/bin/python3 to run the fence script"))
    func readsThatStalledWhileTheHolderDiedDoNotRestartTheWait() async throws {
        let (root, script) = try Self.setUp()
        let a = try FenceProcess("a", script: script, root: root)
        #expect(try await eventually(20) { a.childAlive && Self.lease(root).hasPrefix("held a ") })
        let b = try FenceProcess("b", script: script, root: root)
        #expect(try await eventually(20) { b.output.contains("standing by") })

        // a dies with its node: no clean release, its lock goes with its process.
        a.process.send(SIGKILL)
        #expect(try await eventually(10) { !a.running })
        if let pid = Int32((try? String(contentsOfFile: a.pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        {
            kill(pid, SIGKILL)
        }
        try await Task.sleep(for: .seconds(1))  // b reads a's last lease
        let last = try Data(contentsOf: URL(fileURLWithPath: "\(root)/volume/lease"))
        #expect(String(decoding: last, as: UTF8.self).hasPrefix("held a "), "b took the lease before its reads stalled")
        #expect(Self.stall(root))
        try await Task.sleep(for: .seconds(6))  // longer than the 4.5 s takeover wait
        #expect(!b.childAlive, "b took over while its reads hung")

        try last.write(to: URL(fileURLWithPath: "\(root)/volume/lease.next"))
        #expect(rename("\(root)/volume/lease.next", "\(root)/volume/lease") == 0)
        let answered = ContinuousClock.now
        #expect(try await eventually(30) { b.childAlive && Self.lease(root).hasPrefix("held b ") })
        // Before this rule, the first fresh read restarted the 4.5 s wait.
        #expect(ContinuousClock.now - answered < .seconds(3.5), "b waited the lease out again after its reads answered")
    }

    @Test(.enabled(if: python, "needs /usr/bin/python3 to run the fence script"))
    func aStandbyWaitsOutALeaseThatStoppedChangingAndACleanStopReleasesItAtOnce() async throws {
        let (root, script) = try Self.setUp()
        let a = try FenceProcess("a", script: script, root: root)
        #expect(try await eventually(20) { a.childAlive && Self.lease(root).hasPrefix("held a ") })

        // a freezes: its writes stop, but it still holds the lock (as a frozen node's connections to the bricks stay up),
        // so b, once it waited out the lease, still cannot start.
        a.process.send(SIGSTOP)
        let b = try FenceProcess("b", script: script, root: root)
        #expect(try await eventually(2) { b.output.contains("standing by") })
        try await Task.sleep(for: .seconds(7))
        #expect(!b.childAlive)
        // a wakes up to a lease it did not renew for longer than its deadline: it kills its Home Assistant at once and
        // lets go of the lock; then b takes over.
        a.process.send(SIGCONT)
        #expect(try await eventually(30) { !a.running })
        #expect(a.status == 75)
        #expect(!a.childAlive)
        #expect(try await eventually(30) { b.childAlive && Self.lease(root).hasPrefix("held b ") })

        // A clean stop releases the lease: the next one starts without waiting it out.
        let c = try FenceProcess("c", script: script, root: root)
        #expect(try await eventually(10) { c.output.contains("standing by") })
        b.process.send(SIGTERM)
        #expect(try await eventually(20) { !b.running })
        #expect(b.status == 0)
        #expect(Self.lease(root).hasPrefix("released b ") || Self.lease(root).hasPrefix("held c "))
        // Sooner than the 4.5 s a standby waits out a lease that stopped changing.
        #expect(try await eventually(3) { c.childAlive && Self.lease(root).hasPrefix("held c ") })
    }
}
