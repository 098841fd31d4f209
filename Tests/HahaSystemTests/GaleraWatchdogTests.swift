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
                trap 'if [ -f \(root)/stubborn ]; then echo ignored >> \(root)/member; else [ -f \(root)/primary-on-stop ] && echo Primary/Synced > \(root)/peers; echo stopped >> \(root)/member; exit 0; fi' TERM
                echo "running $*" >> \(root)/member
                while :; do sleep 0.1; done
                """)
            try write(
                "mariadb",
                """
                #!/bin/bash
                [ -f \(root)/slow ] && sleep 2
                host=; statement=; previous=
                for a; do
                  case "$previous" in -h) host=$a ;; -e) statement=$a ;; esac
                  previous=$a
                done
                case " $* " in *" --protocol=socket "*) f=\(root)/own ;; *) [ -n "$host" ] || exit 2; f=\(root)/host-$host ;; esac
                [ "$host" = galera ] && f=\(root)/peers
                [ -f "$f" ] || { echo "ERROR 2002: cannot connect" >&2; exit 1; }
                case "$statement" in *pc.bootstrap=YES*) echo "asked: $statement" >> \(root)/member; exit 0 ;; esac
                IFS=/ read -r status state < "$f"
                printf 'wsrep_cluster_status\\t%s\\nwsrep_local_state_comment\\t%s\\n' "$status" "$state"
                # A server always has a position: none unless the file names one.
                printf 'wsrep_local_state_uuid\\t\(GaleraRecovery.nilUUID)\\nwsrep_last_committed\\t-1\\n'
                tail -n +2 "$f"
                """)
            // `--wsrep-recover`: the position in the file `recovered`, written to the log it is given; it also
            // removes the saved view, which the watchdog puts back.
            try write(
                "mariadbd",
                """
                #!/bin/bash
                for a; do case "$a" in --log-error=*) log=${a#*=} ;; esac; done
                echo "recover $*" >> \(root)/recoveries
                rm -f \(root)/data/gvwstate.dat
                [ -f \(root)/recovered ] && echo "2026-12-05 21:00:00 0 [Note] WSREP: Recovered position: $(cat \(root)/recovered)" >> "$log"
                exit 0
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
                    // No state service of its own unless a test asks (the port is the node's in a cluster).
                    "HAHA_WATCH_STATE_PORT": "",
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

    static let history = "efe860f5-d1a2-11f0-8a5b-2b4ad1e0c0de"
    static func crashed(_ uuid: String) -> String { "# GALERA saved state\nversion: 2.1\nuuid: \(uuid)\nseqno: -1\nsafe_to_bootstrap: 0\n" }

    /// Seen on the lab after a power cut of every node: members started from no position (the image runs no
    /// `--wsrep-recover`), the component Galera re-formed had group UUID 0, and no member could join it by state
    /// transfer again. A crashed member now starts from the position its data holds; its saved view stays.
    @Test func aCrashedMemberStartsFromThePositionItsDataHolds() async throws {
        let m = try Member(
            own: "Primary/Synced", peers: nil, grastate: Self.crashed(Self.history),
            beforeStart: { root in
                try "\(Self.history):42".write(toFile: "\(root)/recovered", atomically: true, encoding: .utf8)
                try "my_uuid: 1\n".write(toFile: "\(root)/data/gvwstate.dat", atomically: true, encoding: .utf8)
            })
        #expect(try await eventually(10) { !m.history.isEmpty }, "\(m.log)")
        #expect(m.history == "running --wsrep-node-name=n1 --wsrep-start-position=\(Self.history):42\n", "\(m.log)")
        #expect(m.log.contains("this member crashed (seqno: -1); its data holds \(Self.history):42"))
        #expect((try? String(contentsOfFile: "\(m.root)/data/gvwstate.dat", encoding: .utf8)) == "my_uuid: 1\n")
        let recoveries = (try? String(contentsOfFile: "\(m.root)/recoveries", encoding: .utf8)) ?? ""
        #expect(recoveries.hasPrefix("recover --user=mysql --wsrep-recover --log-error="), "\(recoveries)")

        // Without a position found, it starts as before and says so; a member without history or a clean stop is
        // not recovered at all.
        let unknown = try Member(own: "Primary/Synced", peers: nil, grastate: Self.crashed(Self.history))
        let fresh = try Member(own: "Primary/Synced", peers: nil, grastate: Self.crashed(GaleraRecovery.nilUUID))
        let clean = try Member(
            own: "Primary/Synced", peers: nil,
            grastate: Self.lastToLeave.replacingOccurrences(of: "safe_to_bootstrap: 1", with: "safe_to_bootstrap: 0"))
        for other in [unknown, fresh, clean] {
            #expect(try await eventually(10) { !other.history.isEmpty }, "\(other.log)")
            #expect(other.history == "running --wsrep-node-name=n1\n", "\(other.log)")
        }
        #expect(unknown.log.contains("--wsrep-recover found no position: starting without one"), "\(unknown.log)")
        for other in [fresh, clean] { #expect(!FileManager.default.fileExists(atPath: "\(other.root)/recoveries")) }
    }

    /// A fake watchdog of another member: answers the state line it is given.
    static func peer(_ line: String) throws -> LoopbackServer { try LoopbackServer(reply: Array("\(line)\n".utf8)) }

    /// Seen on the lab after staged power cuts (n3, then n1 and n2): all three members came up at once, n3 with an
    /// older saved view, and Galera's own recovery formed no component ("No nodes coming from primary view") for as
    /// long as anyone watched; no server answers SQL then. Once every other member's watchdog answers, none in a
    /// primary component, the member with the most committed writes (the first in the list on a tie) restarts with
    /// --wsrep-new-cluster from its position; nobody does while a member is silent, primary, about to bootstrap as
    /// the last to leave, of another history, or when its own position is unknown.
    @Test func withNoPrimaryComponentAnywhereTheMostAdvancedMemberBootstraps() async throws {
        let h = Self.history
        var servers: [LoopbackServer] = []
        defer { for server in servers { server.stop() } }
        /// A member at `address` (n1 to n3 are 10.1.0.11 to .13) whose peers' watchdogs answer `peers` (nil: silent).
        func member(
            _ address: String, recovered: String?, peers: [String: String?], stubborn: Bool = false, primaryOnStop: Bool = false
        ) throws -> Member {
            var addresses: [String] = []
            for host in ["10.1.0.11", "10.1.0.12", "10.1.0.13"] {
                if host == address {
                    addresses.append("-")
                } else if let line = peers[host] ?? nil {
                    let server = try Self.peer(line)
                    servers.append(server)
                    addresses.append("127.0.0.1:\(server.port)")
                } else {
                    addresses.append("127.0.0.1:1")
                }
            }
            return try Member(
                own: nil, peers: nil, arguments: ["--wsrep-node-address=\(address)"], grastate: Self.crashed(h),
                environment: [
                    "HAHA_WATCH_MEMBERS": "10.1.0.11 10.1.0.12 10.1.0.13", "HAHA_WATCH_STATE_ADDRESSES": addresses.joined(separator: " "),
                    "HAHA_WATCH_NO_PRIMARY_GRACE": "2", "HAHA_WATCH_RESTART_KILL_AFTER": "2",
                ],
                beforeStart: { root in
                    if let recovered { try recovered.write(toFile: "\(root)/recovered", atomically: true, encoding: .utf8) }
                    if stubborn { try "".write(toFile: "\(root)/stubborn", atomically: true, encoding: .utf8) }
                    if primaryOnStop { try "".write(toFile: "\(root)/primary-on-stop", atomically: true, encoding: .utf8) }
                    try "my_uuid: 1\n".write(toFile: "\(root)/data/gvwstate.dat", atomically: true, encoding: .utf8)
                })
        }
        let first = try member(
            "10.1.0.11", recovered: "\(h):18", peers: ["10.1.0.12": "\(h):18 starting", "10.1.0.13": "\(h):15 starting"])
        let ahead = try member(
            "10.1.0.13", recovered: "\(h):19",
            peers: ["10.1.0.11": "\(h):18 outside", "10.1.0.12": "\(GaleraRecovery.nilUUID):-1 starting"], stubborn: true)
        let waiting: [(Member, String)] = [
            (
                try member("10.1.0.12", recovered: "\(h):18", peers: ["10.1.0.11": "\(h):18 starting", "10.1.0.13": "\(h):15 starting"]),
                "the member at 10.1.0.11 (\(h):18) bootstraps, not this one (\(h):18)"
            ),
            (
                try member("10.1.0.11", recovered: "\(h):15", peers: ["10.1.0.12": "\(h):16 starting", "10.1.0.13": "\(h):15 starting"]),
                "the member at 10.1.0.12 (\(h):16) bootstraps"
            ),
            (
                try member("10.1.0.11", recovered: "\(h):18", peers: ["10.1.0.12": "\(h):18 starting"]),
                "the watchdog of the member at 10.1.0.13 does not answer"
            ),
            (
                try member("10.1.0.11", recovered: "\(h):18", peers: ["10.1.0.12": "\(h):30 primary", "10.1.0.13": "\(h):15 starting"]),
                "the member at 10.1.0.12 is primary"
            ),
            (
                try member("10.1.0.11", recovered: "\(h):18", peers: ["10.1.0.12": "\(h):18 last", "10.1.0.13": "\(h):15 starting"]),
                "the member at 10.1.0.12 is last"
            ),
            (
                // haha up's bootstrap (a member started with --wsrep-new-cluster), even from a member behind this one.
                try member(
                    "10.1.0.11", recovered: "\(h):18", peers: ["10.1.0.12": "\(h):18 starting", "10.1.0.13": "\(h):15 bootstrapping"]),
                "the member at 10.1.0.13 is bootstrapping"
            ),
            (
                try member(
                    "10.1.0.11", recovered: "\(h):18",
                    peers: ["10.1.0.12": "1\(h.dropFirst()):30 starting", "10.1.0.13": "\(h):15 starting"]),
                "leaving it to haha up"
            ),
            (
                try member("10.1.0.11", recovered: nil, peers: ["10.1.0.12": "\(h):18 starting", "10.1.0.13": "\(h):15 starting"]),
                "this member's position is unknown"
            ),
        ]
        for (m, position) in [(first, "\(h):18"), (ahead, "\(h):19")] {
            #expect(try await eventually(20) { m.history.contains("--wsrep-new-cluster") }, "\(m.log)")
            // The second one ignores the stop and is killed 2 s later.
            let (address, stop) = m === first ? ("10.1.0.11", "stopped") : ("10.1.0.13", "ignored")
            #expect(
                m.history
                    == "running --wsrep-node-address=\(address) --wsrep-start-position=\(position)\n\(stop)\n"
                    + "running --wsrep-node-address=\(address) --wsrep-start-position=\(position) --wsrep-new-cluster\n", "\(m.log)")
            #expect(m.log.contains("this one holds the most committed writes (\(position)): restarting it to bootstrap"), "\(m.log)")
            let grastate = try String(contentsOfFile: "\(m.root)/data/grastate.dat", encoding: .utf8)
            #expect(grastate.contains("safe_to_bootstrap: 1\n"), "\(grastate)")
            #expect(!FileManager.default.fileExists(atPath: "\(m.root)/data/gvwstate.dat"))
        }
        // A primary component that formed while the member stopped is joined: it starts again without the flag.
        let late = try member(
            "10.1.0.11", recovered: "\(h):18", peers: ["10.1.0.12": "\(h):18 starting", "10.1.0.13": "\(h):15 starting"],
            primaryOnStop: true)
        #expect(try await eventually(20) { late.history.split(separator: "\n").count == 3 }, "\(late.log)")
        #expect(
            late.history
                == "running --wsrep-node-address=10.1.0.11 --wsrep-start-position=\(h):18\nstopped\nrunning --wsrep-node-address=10.1.0.11 --wsrep-start-position=\(h):18\n",
            "\(late.log)")
        #expect(late.log.contains("not bootstrapping: galera has a primary component now (Primary/Synced); joining it"), "\(late.log)")
        // So is one a peer's watchdog reports while the alias does not list it yet (its health check has not passed).
        let first12 = servers.count
        let overtaken = try member(
            "10.1.0.11", recovered: "\(h):18", peers: ["10.1.0.12": "\(h):18 starting", "10.1.0.13": "\(h):15 starting"])
        #expect(try await eventually(20) { overtaken.history.contains("stopped") }, "\(overtaken.log)")
        servers[first12].answer([Array("\(h):19 primary\n".utf8)])
        #expect(try await eventually(20) { overtaken.history.split(separator: "\n").count == 3 }, "\(overtaken.log)")
        #expect(!overtaken.history.contains("--wsrep-new-cluster"), "\(overtaken.log)")
        #expect(overtaken.log.contains("not bootstrapping: the member at 10.1.0.12 is primary; joining"), "\(overtaken.log)")
        for (m, reason) in waiting {
            #expect(try await eventually(20) { m.log.contains(reason) }, "\(m.log)")
            #expect(!m.history.contains("--wsrep-new-cluster"), "\(m.log)")
            #expect(m.process.status == nil)
        }
    }

    /// The state service itself, with socat as in the images: one line, the position and the phase.
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/socat"), "socat is not installed (scripts/host-setup installs it)"))
    func theWatchdogPublishesItsPositionAndPhase() async throws {
        let port = Int.random(in: 20_000..<40_000)
        let m = try Member(
            own: nil, peers: nil, grastate: Self.lastToLeave.replacingOccurrences(of: "safe_to_bootstrap: 1", with: "safe_to_bootstrap: 0"),
            environment: ["HAHA_WATCH_STATE_PORT": "\(port)"])
        /// Asks until the answer is `line` or 10 s passed; the last answer.
        func answer(_ line: String) async throws -> String {
            var last = ""
            for _ in 0..<20 {
                let command = "exec 3<>/dev/tcp/127.0.0.1/\(port) && printf 'state\\n' >&3 && head -n 1 <&3"
                last = (try? await LocalRunner().run(Command(["bash", "-c", command], timeout: 5)))?.output ?? ""
                if last == line { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            return last
        }
        let history = "8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3"
        #expect(try await answer("\(history):57 starting\n") == "\(history):57 starting\n", "\(m.log)")
        try "Primary/Synced\nwsrep_local_state_uuid\t\(history)\nwsrep_last_committed\t60\n".write(
            toFile: "\(m.root)/own", atomically: true, encoding: .utf8)
        #expect(try await answer("\(history):60 primary\n") == "\(history):60 primary\n", "\(m.log)")
    }
}
