import Foundation
import HahaCore
import HahaSystem
import HahaTestSupport
import Testing

/// The rendered Galera watchdog, run for real with bash. A fake `docker-entrypoint.sh` stands in for the member (it
/// sleeps until it gets SIGTERM and records that), a fake `mariadb` answers with the states in two files: the member's
/// own (asked over its socket) and the peers' (asked through the database alias), or fails when a file is missing.
@Suite(.serialized) struct GaleraWatchdogTests {
    final class Member {
        let root: String
        let process: ChildProcess

        init(
            own: String?, peers: String?, quietGrace: Int = 180, arguments: [String] = ["--wsrep-node-name=n1"], slowAsk: Bool = false,
            staleTransferPid: Bool = false, grastate: String? = nil, environment: [String: String] = [:],
            beforeStart: (String) throws -> Void = { _ in }
        ) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("haha-watch-\(UUID().uuidString)").path
            let bin = "\(root)/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "\(root)/data", withIntermediateDirectories: true)
            if staleTransferPid {
                try "70\n".write(toFile: "\(root)/data/wsrep_sst.pid", atomically: true, encoding: .utf8)
                try "# GALERA saved state\n".write(toFile: "\(root)/data/grastate.dat", atomically: true, encoding: .utf8)
            }
            if let grastate {
                try grastate.write(toFile: "\(root)/data/grastate.dat", atomically: true, encoding: .utf8)
            }
            func write(_ name: String, _ text: String) throws {
                try text.write(toFile: "\(bin)/\(name)", atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bin)/\(name)")
            }
            try write(
                "docker-entrypoint.sh",
                """
                #!/bin/bash
                trap 'if [ -f \(root)/stubborn ]; then echo ignored >> \(root)/member; else echo stopped >> \(root)/member; exit 0; fi' TERM
                echo "running $*" >> \(root)/member
                while :; do sleep 0.1; done
                """)
            try write(
                "mariadb",
                """
                #!/bin/bash
                [ -f \(root)/slow ] && sleep 2
                case " $* " in *" --protocol=socket "*) f=\(root)/own ;; *" -h galera "*) f=\(root)/peers ;; *) exit 2 ;; esac
                [ -f "$f" ] || { echo "ERROR 2002: cannot connect" >&2; exit 1; }
                IFS=/ read -r status state < "$f"
                printf 'wsrep_cluster_status\\t%s\\nwsrep_local_state_comment\\t%s\\n' "$status" "$state"
                """)
            if slowAsk { try "".write(toFile: "\(root)/slow", atomically: true, encoding: .utf8) }
            if let own { try own.write(toFile: "\(root)/own", atomically: true, encoding: .utf8) }
            if let peers { try peers.write(toFile: "\(root)/peers", atomically: true, encoding: .utf8) }
            try beforeStart(root)
            let script = "\(root)/watch.sh"
            try GaleraFiles.watchdog(Fixtures.spec(), grace: 3, quietGrace: quietGrace, interval: 1).write(
                toFile: script, atomically: true, encoding: .utf8)
            process = try ChildProcess(
                ["bash", script] + arguments,
                environment: [
                    "PATH": "\(bin):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")",
                    "MARIADB_ROOT_PASSWORD_FILE": "\(root)/password",
                    // The container's own processes, not this machine's (a lab may run real state transfers).
                    "HAHA_WATCH_PROC": "\(root)/proc",
                    "HAHA_WATCH_DATADIR": "\(root)/data",
                ].merging(environment) { _, given in given }, stdout: .file("\(root)/watch.log"), stderr: .file("\(root)/watch.log"),
                ownGroup: true)
        }

        /// What the fake member did, a line per event (`running ARGS`, `stopped`).
        var history: String { (try? String(contentsOfFile: "\(root)/member", encoding: .utf8)) ?? "" }
        /// Its last event, with its newline.
        var member: String { history.split(separator: "\n").last.map { "\($0)\n" } ?? "" }
        var log: String { (try? String(contentsOfFile: "\(root)/watch.log", encoding: .utf8)) ?? "" }

        deinit {
            // The whole group: the fake member the watchdog started in the background would otherwise outlive the
            // test and keep its standard output (CI's pipe) open, so that CI never ends.
            process.sendToGroup(SIGKILL)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test func aMemberOutsideThePrimaryComponentWhileThePeersHaveOneIsStopped() async throws {
        let m = try Member(own: "non-Primary/Initialized", peers: "Primary/Synced")
        // On a busy machine the stop may come before the first look: the history has both.
        #expect(try await eventually(10) { m.history.hasPrefix("running --wsrep-node-name=n1\n") })
        // Three readings of 1 s, then the stop; the watchdog ends with the member.
        #expect(try await eventually(20) { m.process.status != nil }, "\(m.log)")
        #expect(m.member == "stopped\n")
        #expect(m.process.status == 0)
        #expect(m.log.contains("outside the primary component (non-Primary/Initialized) for 3 s"))
    }

    @Test func withoutAPrimaryAnywhereOrWithoutAnAnswerOrInATransferTheMemberIsLeftAlone() async throws {
        let states: [(own: String?, peers: String?)] = [
            ("non-Primary/Initialized", nil),  // every node was cut: pc.recovery's job
            ("non-Primary/Initialized", "non-Primary/Initialized"),
            (nil, "Primary/Synced"),  // its own server does not answer
            ("non-Primary/Joining: receiving State Transfer", "Primary/Synced"),
            ("Primary/Synced", "Primary/Synced"),
        ]
        let cases = try states.map { try Member(own: $0.own, peers: $0.peers) }
        try await Task.sleep(for: .seconds(7))
        for m in cases {
            #expect(m.process.status == nil, "\(m.log)")
            #expect(m.member.hasPrefix("running"))
        }
    }

    @Test func aServerThatDoesNotAnswerIsStoppedLaterUnlessAStateTransferRuns() async throws {
        // An SST script running beside the server in its container means: wait.
        let waiting = try Member(own: nil, peers: "Primary/Synced", quietGrace: 3)
        let transfer = "\(waiting.root)/proc/4242"
        try FileManager.default.createDirectory(atPath: transfer, withIntermediateDirectories: true)
        try Data("bash\0/usr/bin/wsrep_sst_mariabackup\0--role\0joiner\0".utf8).write(to: URL(fileURLWithPath: "\(transfer)/cmdline"))
        try await Task.sleep(for: .seconds(6))
        #expect(waiting.process.status == nil, "\(waiting.log)")
        try FileManager.default.removeItem(atPath: transfer)
        #expect(try await eventually(20) { waiting.process.status != nil }, "\(waiting.log)")
        #expect(waiting.member == "stopped\n")
        #expect(waiting.log.contains("not answering, no state transfer running for 3 s"))
    }

    /// A transfer's pid file from a container that died during one is gone before the member starts (MariaDB's SST
    /// script would take a process of the new container with that pid for a transfer still running); other files stay.
    @Test func aStaleStateTransferPidFileIsRemovedBeforeTheMemberStarts() async throws {
        let m = try Member(own: "Primary/Synced", peers: "Primary/Synced", staleTransferPid: true)
        #expect(try await eventually(10) { m.history.hasPrefix("running") }, "\(m.log)")
        #expect(!FileManager.default.fileExists(atPath: "\(m.root)/data/wsrep_sst.pid"))
        #expect(FileManager.default.fileExists(atPath: "\(m.root)/data/grastate.dat"))
    }

    @Test func aStopOfTheContainerReachesTheMember() async throws {
        let m = try Member(own: "Primary/Synced", peers: "Primary/Synced")
        #expect(try await eventually(10) { m.member.hasPrefix("running") })
        m.process.send(SIGTERM)
        #expect(try await eventually(10) { m.process.status != nil })
        #expect(m.member == "stopped\n")
    }

    /// The trap that passes a stop on is set before the member starts. It was once set only after the start, and a
    /// stop in between ended the watchdog alone and left the member running (a cold CI run caught it: the stop
    /// above found the member still running). The window is too short to hit on purpose, so the order is read.
    @Test func theStopIsPassedOnFromBeforeTheMemberStarts() throws {
        let script = GaleraFiles.watchdog(Fixtures.spec())
        let trap = try #require(script.range(of: "trap '"))
        let start = try #require(script.range(of: "docker-entrypoint.sh \"${args[@]}\" &"))
        #expect(trap.lowerBound < start.lowerBound)
        #expect(script.components(separatedBy: "trap '").count == 2)
    }

    /// A stop that comes while the watchdog still asks the peers (before it started the member) waits for the
    /// answer, then ends the watchdog without starting the member.
    @Test func aStopBeforeTheMemberStartedMeansItNeverStarts() async throws {
        let m = try Member(own: nil, peers: "Primary/Synced", arguments: ["--wsrep-new-cluster"], slowAsk: true)
        try await Task.sleep(for: .milliseconds(500))
        #expect(m.history.isEmpty)
        m.process.send(SIGTERM)
        #expect(try await eventually(10) { m.process.status != nil }, "\(m.log)")
        #expect(m.process.status == 143)
        try await Task.sleep(for: .milliseconds(300))
        #expect(m.history.isEmpty, "\(m.history)")
    }

    /// A test's member dies with it: a fake member left behind kept CI's output pipe open, and CI never ended.
    @Test func nothingOfAMemberOutlivesItsTest() async throws {
        var m: Member? = try Member(own: "Primary/Synced", peers: "Primary/Synced")
        let root = try #require(m?.root)
        #expect(try await eventually(10) { m?.member.hasPrefix("running") == true })
        m = nil
        let left = { () -> [String] in
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }.compactMap {
                guard let line = try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8), line.contains(root) else {
                    return nil
                }
                return "\($0): \(line.replacingOccurrences(of: "\0", with: " "))"
            }
        }
        #expect(try await eventually(5) { left().isEmpty }, "\(left())")
    }

    /// Seen on the lab: a member whose join failed after a state transfer ignored the watchdog's stop for 9 minutes.
    /// A stop that has not ended the member after `HAHA_WATCH_KILL_AFTER` s is followed by SIGKILL.
    @Test func aMemberThatIgnoresTheStopIsKilled() async throws {
        let m = try Member(
            own: nil, peers: "Primary/Synced", quietGrace: 2, environment: ["HAHA_WATCH_KILL_AFTER": "3"],
            beforeStart: { root in try "".write(toFile: "\(root)/stubborn", atomically: true, encoding: .utf8) })
        #expect(try await eventually(30) { m.process.status != nil }, "\(m.log)")
        #expect(m.history.hasSuffix("ignored\n"), "\(m.history)")
        #expect(m.log.contains("the member ignored the stop for"), "\(m.log)")
        #expect(m.process.status == 137, "\(m.log)")
    }

    /// What Galera writes on the last member to leave the primary component cleanly.
    static let lastToLeave =
        "# GALERA saved state\nversion: 2.1\nuuid: 8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3\nseqno: 57\nsafe_to_bootstrap: 1\n"

    /// Members that left one by one and cleanly have no saved view to re-form a component from (seen on the lab: two
    /// members restarting every 40 s with "failed to reach primary view" for 15 minutes). The one Galera marked safe to
    /// bootstrap does so once every other member's group port answers; the others join it.
    @Test func theLastMemberToLeaveBootstrapsOnceEveryOtherMemberIsUp() async throws {
        let peers = try [LoopbackServer(reply: []), LoopbackServer(reply: [])]
        defer { for peer in peers { peer.stop() } }
        let m = try Member(
            own: nil, peers: nil, arguments: ["--wsrep-node-name=n1", "--wsrep-node-address=10.1.0.11"], grastate: Self.lastToLeave,
            environment: ["HAHA_WATCH_MEMBERS": "10.1.0.11 " + peers.map { "127.0.0.1:\($0.port)" }.joined(separator: " ")])
        #expect(try await eventually(15) { !m.history.isEmpty }, "\(m.log)")
        #expect(m.history == "running --wsrep-node-name=n1 --wsrep-node-address=10.1.0.11 --wsrep-new-cluster\n", "\(m.log)")
        #expect(m.log.contains("safe_to_bootstrap: 1), no peer has one and every other member is up"))
    }

    /// It does not bootstrap while a member is down (it may have gone on without it), nor without Galera's flag, nor
    /// beside a primary component; a member later in the list waits and joins the component formed meanwhile.
    @Test func noBootstrapWithAMemberDownWithoutTheFlagOrBesideAPrimaryComponent() async throws {
        let up = try LoopbackServer(reply: [])
        defer { up.stop() }
        let arguments = ["--wsrep-node-address=10.1.0.12"]
        let look = ["HAHA_WATCH_LOOK": "4", "HAHA_WATCH_STAGGER": "4"]
        // Port 1 on loopback: nothing listens there.
        let memberDown = try Member(
            own: nil, peers: nil, arguments: arguments, grastate: Self.lastToLeave,
            environment: look.merging(["HAHA_WATCH_MEMBERS": "127.0.0.1:\(up.port) 10.1.0.12 127.0.0.1:1"]) { $1 })
        let notSafe = try Member(
            own: nil, peers: nil, arguments: arguments,
            grastate: Self.lastToLeave.replacingOccurrences(of: "safe_to_bootstrap: 1", with: "safe_to_bootstrap: 0"),
            environment: look.merging(["HAHA_WATCH_MEMBERS": "127.0.0.1:\(up.port) 10.1.0.12"]) { $1 })
        let primary = try Member(
            own: nil, peers: "Primary/Synced", arguments: arguments, grastate: Self.lastToLeave,
            environment: look.merging(["HAHA_WATCH_MEMBERS": "127.0.0.1:\(up.port) 10.1.0.12"]) { $1 })
        // Second in the list: it waits 4 s after seeing everyone up, and in that time the first one's component forms.
        let second = try Member(
            own: nil, peers: nil, arguments: arguments, grastate: Self.lastToLeave,
            environment: look.merging(["HAHA_WATCH_MEMBERS": "127.0.0.1:\(up.port) 10.1.0.12"]) { $1 })
        try await Task.sleep(for: .milliseconds(1500))
        #expect(second.history.isEmpty, "\(second.log)")
        try "Primary/Synced".write(toFile: "\(second.root)/peers", atomically: true, encoding: .utf8)
        for m in [memberDown, notSafe, primary, second] {
            #expect(try await eventually(20) { !m.history.isEmpty }, "\(m.log)")
            #expect(m.history == "running --wsrep-node-address=10.1.0.12\n", "\(m.log)")
            #expect(!m.log.contains("bootstrapping"), "\(m.log)")
        }
    }

    /// A bootstrapper whose peers already have a primary component joins them (the flag is dropped); without one
    /// answering, it bootstraps. CI caught a bootstrapper that restarted after the joiners went on without it, and
    /// then failed to bootstrap forever (safe_to_bootstrap: 0).
    @Test func aBootstrapperJoinsPeersThatAlreadyHaveAPrimaryComponent() async throws {
        let joins = try Member(own: nil, peers: "Primary/Synced", arguments: ["--wsrep-node-name=n1", "--wsrep-new-cluster"])
        #expect(try await eventually(10) { joins.history.hasPrefix("running --wsrep-node-name=n1\n") }, "\(joins.history)")
        #expect(joins.log.contains("not bootstrapping: galera already has a primary component (Primary/Synced)"))
        let bootstraps = try Member(own: nil, peers: nil, arguments: ["--wsrep-node-name=n1", "--wsrep-new-cluster"])
        #expect(try await eventually(10) { bootstraps.history.hasPrefix("running --wsrep-node-name=n1 --wsrep-new-cluster\n") })
        let waiting = try Member(own: nil, peers: "non-Primary/Initialized", arguments: ["--wsrep-new-cluster"])
        #expect(try await eventually(10) { waiting.history.hasPrefix("running --wsrep-new-cluster\n") })
    }
}
