import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

@Suite struct RunnerTests {
    @Test func sshWrapsTheRemoteCommandInTimeoutAndSudo() async throws {
        let local = ScriptedRunner()
        let node = ClusterSpec.Node(name: "n1", address: "10.1.0.11", user: "pi", port: 2222, identityFile: "/k/id")
        let ssh = SSHRunner(node: node, options: ["-o", "UserKnownHostsFile=/dev/null"], local: local)
        _ = try await ssh.run(Command(["gluster", "volume", "info", "my vol"], timeout: 30))
        let sent = try #require(local.commands.first?.arguments)
        #expect(Array(sent.prefix(1)) == ["ssh"])
        #expect(sent.contains("-p") && sent.contains("2222") && sent.contains("/k/id"))
        // The user is -l's argument and the host follows --: neither can be read as an ssh option.
        #expect(Array(sent.suffix(5)) == ["-l", "pi", "--", "10.1.0.11", "sudo -n timeout -k 5 30 gluster volume info 'my vol'"])
        #expect(!sent.contains { $0.contains("@") })
        // The control socket sits in a private directory of this user, never at a guessable path in /tmp itself.
        let control = try #require(sent.first { $0.hasPrefix("ControlPath=") })
        #expect(control == "ControlPath=/tmp/haha-ssh-\(geteuid())/%C")
        var info = stat()
        #expect(lstat("/tmp/haha-ssh-\(geteuid())", &info) == 0 && info.st_mode & 0o777 == 0o700 && info.st_uid == geteuid())
    }

    @Test func rootNeedsNoSudoAndDefaultPortIsImplicit() async throws {
        let local = ScriptedRunner()
        let ssh = SSHRunner(node: .init(name: "n1", address: "pi1.local"), local: local)
        _ = try await ssh.run(Command(["true"], timeout: 5))
        let sent = try #require(local.commands.first?.arguments)
        #expect(!sent.contains("-p"))
        #expect(Array(sent.suffix(5)) == ["-l", "root", "--", "pi1.local", "timeout -k 5 5 true"])
    }

    @Test func sshFailureIsExplainedWithTheNode() async throws {
        let local = ScriptedRunner()
        local.on({ $0.first == "ssh" }, exit: 255, stderr: "ssh: connect to host 10.1.0.11 port 22: Connection refused")
        let ssh = SSHRunner(node: .init(name: "n1", address: "10.1.0.11"), local: local)
        await #expect(throws: CommandError.self) { try await ssh.check(["docker", "info"]) }
        do {
            try await ssh.check(["docker", "info"], hint: "install Docker")
        } catch let error as CommandError {
            #expect(error.description.contains("n1 (root@10.1.0.11)"))
            #expect(error.description.contains("Connection refused"))
            #expect(error.description.contains("install Docker"))
        }
    }

    @Test func localRunnerCapturesOutputExitCodeAndInput() async throws {
        let runner = LocalRunner()
        let result = try await runner.run(Command(["sh", "-c", "cat; echo err >&2; exit 3"], input: Data("hello".utf8)))
        #expect(result.exitCode == 3)
        #expect(result.output == "hello")
        #expect(result.errorOutput == "err\n")
    }

    @Test func localRunnerKillsOnTimeout() async throws {
        let start = ContinuousClock.now
        let result = try await LocalRunner().run(Command(["sleep", "600"], timeout: 1))
        #expect(result.exitCode == 124)
        // Killed, not waited for: far below the 600 s of the command, with room for a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(300))
    }

    @Test func childrenGetOnlyTheirStandardStreamsNoBlockedSignalsAndTheEnvironmentAsked() async throws {
        // Descriptors of ours that are open while the child starts must not reach it.
        let held = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/status"))
        defer { try? held.close() }
        let runner = LocalRunner(environment: ["HAHA_PROBE": "set"])
        let listing = try await runner.run(Command(["sh", "-c", "ls /proc/$$/fd; echo \"$HAHA_PROBE\""]))
        #expect(listing.output.split(separator: "\n") == ["0", "1", "2", "set"])
        // Foundation's Process leaves every signal blocked in its children (a SIGTERM then does nothing).
        let blocked = try await runner.run(Command(["grep", "SigBlk", "/proc/self/status"]))
        #expect(blocked.output == "SigBlk:\t0000000000000000\n")
    }

    @Test func childProcessReportsSignalsAndUnknownPrograms() async throws {
        let child = try ChildProcess(["sleep", "600"])
        child.send(SIGKILL)
        #expect(await child.exit() == 128 + SIGKILL)
        #expect(child.status == 128 + SIGKILL)
        let missing = try await LocalRunner().run(Command(["haha-no-such-program"]))
        #expect(missing.exitCode == 127)
        #expect(missing.errorOutput.contains("cannot start haha-no-such-program"))
    }

    @Test func shellQuotingRoundTripsThroughSh() async throws {
        let words = ["plain", "with space", "it's", "$HOME", "a\"b", ""]
        let script = "printf '%s\\n' " + words.map(shellQuote).joined(separator: " ")
        let result = try await LocalRunner().run(Command(["sh", "-c", script]))
        #expect(result.output == words.joined(separator: "\n") + "\n")
    }
}

@Suite struct MQTTProbeTests {
    @Test func connectPacketIsMQTT311WithCredentials() {
        let packet = MQTTProbe.connectPacket(clientID: "c", username: "u", password: "p")
        // 0x10, remaining length 19, "MQTT", level 4, flags user+password+clean, keep-alive 60, then the three strings.
        #expect(packet == [0x10, 19, 0, 4, 77, 81, 84, 84, 4, 0xC2, 0, 60, 0, 1, 99, 0, 1, 117, 0, 1, 112])
    }

    @Test func longPacketsUseAMultiByteLength() {
        let packet = MQTTProbe.connectPacket(clientID: "c", username: "u", password: String(repeating: "p", count: 200))
        #expect(packet[1] & 0x80 != 0)
        #expect(Int(packet[1] & 0x7f) + Int(packet[2]) * 128 == packet.count - 3)
    }

    @Test func nothingListeningGivesNil() {
        #expect(MQTTProbe.connect(host: "127.0.0.1", port: 1, username: "u", password: "p", timeout: 1) == nil)
    }

    static let connack: [UInt8] = [0x20, 0x02, 0x00, 0x00]

    @Test func aRetainedPublishIsQoS1AndWaitsForThePuback() async throws {
        // PUBLISH, QoS 1, retain: topic "t/x", packet id 1, payload "ab".
        #expect(
            MQTTProbe.publishPacket(topic: "t/x", payload: Array("ab".utf8), packetID: 1) == [0x33, 9, 0, 3, 116, 47, 120, 0, 1, 97, 98])
        let broker = try LoopbackServer(conversation: [Self.connack, [0x40, 0x02, 0x00, 0x01], []])
        defer { broker.stop() }
        try await MQTTProbe.publishRetained(host: "127.0.0.1", port: broker.port, username: "u", password: "p", topic: "t/x", payload: "ab")
        let heard = broker.received
        #expect(heard.count == 3)
        #expect(heard.dropFirst().first == MQTTProbe.publishPacket(topic: "t/x", payload: Array("ab".utf8), packetID: 1))
        #expect(heard.last == [0xE0, 0x00])
    }

    @Test func aPublishWithoutPubackThrows() async throws {
        let broker = try LoopbackServer(conversation: [Self.connack])
        defer { broker.stop() }
        await #expect(throws: HahaError.self) {
            try await MQTTProbe.publishRetained(
                host: "127.0.0.1", port: broker.port, username: "u", password: "p", topic: "t", payload: "x")
        }
        let refusing = try LoopbackServer(conversation: [[0x20, 0x02, 0x00, 0x05]])
        defer { refusing.stop() }
        let error = await #expect(throws: HahaError.self) {
            try await MQTTProbe.publishRetained(
                host: "127.0.0.1", port: refusing.port, username: "u", password: "p", topic: "t", payload: "x")
        }
        #expect(error?.message.contains("refused u's login (CONNACK 5)") == true)
    }

    @Test func theRetainedMessageIsReadAfterTheSuback() async throws {
        #expect(MQTTProbe.subscribePacket(topic: "t/x", packetID: 1) == [0x82, 8, 0, 1, 0, 3, 116, 47, 120, 0])
        // SUBACK (granted QoS 0), then a retained PUBLISH of "tok" on t/x (flags 0x01: QoS 0, retain).
        let retained: [UInt8] = [0x31, 8, 0, 3, 116, 47, 120, 116, 111, 107]
        let broker = try LoopbackServer(conversation: [Self.connack, [0x90, 0x03, 0x00, 0x01, 0x00] + retained])
        defer { broker.stop() }
        let read = await MQTTProbe.readRetained(host: "127.0.0.1", port: broker.port, username: "u", password: "p", topic: "t/x", wait: 1)
        #expect(read == .found("tok"))
        #expect(broker.received.dropFirst().first == MQTTProbe.subscribePacket(topic: "t/x", packetID: 1))

        // A message that is not retained, or on another topic, is not the one looked for.
        let live: [UInt8] = [0x30, 8, 0, 3, 116, 47, 120, 116, 111, 107]
        let other = try LoopbackServer(conversation: [Self.connack, [0x90, 0x03, 0x00, 0x01, 0x00] + live])
        defer { other.stop() }
        #expect(
            await MQTTProbe.readRetained(host: "127.0.0.1", port: other.port, username: "u", password: "p", topic: "t/x", wait: 1)
                == .absent)
        #expect(
            await MQTTProbe.readRetained(host: "127.0.0.1", port: 1, username: "u", password: "p", topic: "t/x", wait: 1)
                == .unreadable("no broker answered on 127.0.0.1:1"))
    }

    @Test func aQoS1PublishCarriesAPacketIDBeforeItsPayload() {
        let packet = MQTTProbe.Packet(type: 0x30, flags: 0x03, body: [0, 1, 116, 0, 7, 104, 105])
        let parsed = MQTTProbe.parsePublish(packet)
        #expect(parsed?.topic == "t")
        #expect(parsed?.payload == Array("hi".utf8))
        #expect(parsed?.retained == true)
        #expect(MQTTProbe.parsePublish(MQTTProbe.Packet(type: 0x30, flags: 0, body: [0, 9, 116])) == nil)
    }
}
