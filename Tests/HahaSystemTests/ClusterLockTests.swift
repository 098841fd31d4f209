import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// The cluster's side of the lock lives on every node: a dead first node neither blocks haha nor lets a second
/// run in unnoticed, and a refusal releases whatever this run took.
@Suite struct ClusterLockTests {
    /// Three scripted nodes, the spec in a directory of its own (the local lock lives beside it).
    static func cluster(_ script: (String, ScriptedRunner) -> Void) throws -> (Cluster, [String: ScriptedRunner]) {
        Fixtures.cluster(Fixtures.spec(), specPath: try Fixtures.scratchDirectory("haha-lock") + "/haha.yaml", script)
    }

    static func took(_ runner: ScriptedRunner) -> Bool {
        runner.commands.contains { $0.arguments.last?.contains("mkdir /var/lib/haha/lock") == true }
    }

    static func released(_ runner: ScriptedRunner) -> Bool {
        runner.commands.contains {
            $0.arguments.last?.contains("rm -rf /var/lib/haha/lock") == true && $0.arguments.last?.hasPrefix("grep -qF") == true
        }
    }

    @Test func takenOnEveryNodeAndReleasedOnEveryNode() async throws {
        let (cluster, runners) = try Self.cluster { _, _ in }
        let ran = try await ClusterLock.holding(cluster, command: "up") { true }
        #expect(ran)
        for (name, runner) in runners {
            #expect(Self.took(runner), "\(name)")
            #expect(Self.released(runner), "\(name)")
            // The holder arrives on stdin, never in an argument.
            let take = try #require(runner.commands.first { $0.arguments.last?.contains("mkdir /var/lib/haha/lock") == true })
            #expect(String(decoding: take.input ?? Data(), as: UTF8.self).hasPrefix("haha up (pid "))
        }
    }

    @Test func aDeadFirstNodeDoesNotStopTheRun() async throws {
        let (cluster, runners) = try Self.cluster { name, runner in
            if name == "n1" { runner.on({ _ in true }, exit: 255, stderr: "ssh: connect to host 10.1.0.11 port 22: No route to host") }
        }
        let ran = try await ClusterLock.holding(cluster, command: "recover") { true }
        #expect(ran)
        #expect(Self.took(runners["n2"]!) && Self.took(runners["n3"]!))
        #expect(Self.released(runners["n2"]!) && Self.released(runners["n3"]!))
        #expect(!Self.released(runners["n1"]!), "nothing was taken on n1, so nothing is released there")
    }

    @Test func aHolderOnAnyNodeRefusesAndWhatWasTakenIsReleased() async throws {
        let (cluster, runners) = try Self.cluster { name, runner in
            if name == "n3" {
                runner.on(
                    { $0.last?.contains("mkdir /var/lib/haha/lock") == true }, exit: 3,
                    stdout: "age=12\nhaha up (pid 4242 on laptop, since 2026-12-04T10:00:00Z, token t)\n")
            }
        }
        var bodyRan = false
        do {
            try await ClusterLock.holding(cluster, command: "up") { bodyRan = true }
            Issue.record("a lock held on n3 did not refuse the run")
        } catch let error as HahaError {
            #expect(error.code == .locked)
            #expect(error.message.contains("holds the lock on n3: haha up (pid 4242 on laptop"), "\(error.message)")
        }
        #expect(!bodyRan)
        #expect(Self.released(runners["n1"]!) && Self.released(runners["n2"]!), "the locks taken on n1 and n2 stay behind")
        #expect(
            !runners["n3"]!.commands.contains { $0.arguments == ["rm", "-rf", "/var/lib/haha/lock"] }, "another run's lock was removed")
    }

    @Test func aStaleLockIsTakenOver() async throws {
        let (cluster, runners) = try Self.cluster { name, runner in
            if name == "n2" {
                runner.on(
                    { $0.last?.contains("mkdir /var/lib/haha/lock") == true }, exit: 3,
                    stdout: "age=\(Int(ClusterLock.staleAfter) + 60)\nhaha up (pid 1 on laptop, since then, token t)\n")
            }
        }
        // The scripted n2 answers "held" every time, so the run is still refused after the take-over: what counts is
        // that the stale directory was removed first, and only on n2.
        await #expect(throws: HahaError.self) { try await ClusterLock.holding(cluster, command: "up") { () } }
        #expect(runners["n2"]!.commands.contains { $0.arguments == ["rm", "-rf", "/var/lib/haha/lock"] })
        #expect(!runners["n1"]!.commands.contains { $0.arguments == ["rm", "-rf", "/var/lib/haha/lock"] })
    }
}
