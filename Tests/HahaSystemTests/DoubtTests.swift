import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// Every probe whose answer decides a destructive step: when it fails (ssh 255, timeout 124, garbage), haha stops
/// with a doubt naming the node and the command, and nothing destructive runs on any node.
@Suite struct DoubtTests {
    /// Three scripted nodes; `script` adds answers per node before the defaults (first match wins).
    static func cluster(_ script: (String, ScriptedRunner) -> Void) -> (Cluster, [String: ScriptedRunner]) {
        let (cluster, runners) = Fixtures.cluster(Fixtures.spec(), script)
        for runner in runners.values {
            // A deploy that gets this far fails at once: no test waits for a bootstrap that cannot happen.
            runner.on({ $0.last?.contains("docker stack deploy") == true }, exit: 1, stderr: "scripted stop")
        }
        let pool =
            "UUID\tHostname\tState\n" + ["n2", "n3"].map { "u-\($0)\t\(address($0))\tConnected" }.joined(separator: "\n")
            + "\nu-n1\tlocalhost\tConnected\n"
        runners["n1"]?.on({ $0.starts(with: ["gluster", "pool", "list"]) }, stdout: pool)
        return (cluster, runners)
    }

    static func address(_ node: String) -> String { Fixtures.spec().nodes.first { $0.name == node }?.address ?? "" }

    static let destructive = [
        "setfattr", "volume create", "rm -rf", "stack deploy", "service scale", "grastate.dat.haha-tmp",
        "--wsrep-recover", "volume rm",
    ]

    static func destructiveCommands(_ runners: [String: ScriptedRunner]) -> [String] {
        runners.values.flatMap(\.commands).map(\.pretty).filter { command in destructive.contains { command.contains($0) } }
    }

    static let failures: [(exit: Int32, stdout: String, stderr: String)] = [
        (255, "", "ssh: connect to host 10.1.0.11 port 22: Connection timed out"),
        (124, "", ""),
        (0, "Connection failed. Please check if gluster daemon is operational.", ""),
        (1, "", "sudo: a password is required"),
    ]

    // MARK: Gluster

    @Test(arguments: 0..<4)
    func aVolumeProbeWithoutAnAnswerTouchesNoBrick(_ index: Int) async throws {
        let failure = Self.failures[index]
        let (cluster, runners) = Self.cluster { name, runner in
            if name == "n1" {
                runner.on(
                    { $0 == ["gluster", "volume", "info", "haha"] }, exit: failure.exit, stdout: failure.stdout, stderr: failure.stderr)
            }
        }
        let error = await #expect(throws: HahaError.self) { try await Storage(cluster: cluster).converge(facts: [:]) }
        #expect(error?.code == .doubt)
        #expect(error?.message.contains("Gluster volume haha exists on scripted") == true)
        #expect(error?.message.contains("gluster volume info haha") == true)
        #expect(Self.destructiveCommands(runners) == [])
    }

    @Test func aBrickOfAnotherVolumeIsRefused() async throws {
        let (cluster, runners) = Self.cluster { name, runner in
            guard name == "n1" else { return }
            runner.on({ $0 == ["gluster", "volume", "info", "haha"] }, exit: 1, stderr: "Volume haha does not exist")
            runner.on(
                { $0 == ["gluster", "volume", "info", "all"] },
                stdout: "Volume Name: photos\nBricks:\nBrick1: 10.1.0.12:/var/lib/haha/brick\n")
        }
        let error = await #expect(throws: HahaError.self) { try await Storage(cluster: cluster).converge(facts: [:]) }
        #expect(error?.message.contains("10.1.0.12:/var/lib/haha/brick already belongs to the Gluster volume photos") == true)
        #expect(Self.destructiveCommands(runners) == [])
    }

    @Test func aVolumeGlusterSaysIsMissingIsCreated() async throws {
        // The control: with a definite "no", the old brick identity is cleared and the volume created.
        let (cluster, runners) = Self.cluster { name, runner in
            guard name == "n1" else { return }
            runner.on({ $0 == ["gluster", "volume", "info", "haha"] }, exit: 1, stderr: "Volume haha does not exist")
            runner.on({ $0 == ["gluster", "volume", "info", "all"] }, stdout: "No volumes present\n")
        }
        _ = try? await Storage(cluster: cluster).converge(facts: [:])
        let commands = runners.values.flatMap(\.commands).map(\.pretty)
        #expect(commands.contains { $0.contains("setfattr -x trusted.glusterfs.volume-id") })
        #expect(commands.contains { $0.hasPrefix("gluster volume create haha replica 3") })
    }

    // MARK: Galera

    @Test(
        arguments: [
            (["docker", "volume", "inspect"], 0),
            (["docker", "volume", "inspect"], 1),
            (["docker", "volume", "inspect"], 2),
            (["test", "-d"], 1),
            (["test", "-d"], 3),
            (["cat"], 0),
            (["cat"], 1),
            (["cat"], 3),
        ] as [([String], Int)])
    func aGaleraProbeWithoutAnAnswerBootstrapsNothing(_ prefix: [String], _ index: Int) async throws {
        let failure = Self.failures[index]
        let (cluster, runners) = Self.cluster { name, runner in
            if name == "n2" { runner.on({ $0.starts(with: prefix) }, exit: failure.exit, stdout: failure.stdout, stderr: failure.stderr) }
            runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, stdout: "/var/lib/docker/volumes/x/_data\n")
            runner.on(
                { $0.starts(with: ["cat"]) },
                stdout: "uuid: 8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3\nseqno: \(name == "n1" ? 10 : 20)\nsafe_to_bootstrap: 0\n")
            // A deploy that slips through fails at once (and is caught below) instead of waiting for a bootstrap.
            runner.on({ $0.last?.contains("docker stack deploy") == true }, exit: 1, stderr: "scripted stop")
        }
        let error = await #expect(throws: HahaError.self) {
            try await Deploy(cluster: cluster, secrets: SecretValues([:])).convergeGalera()
        }
        #expect(error?.code == .doubt || error?.code == .invalidState)
        #expect(error?.description.contains("n2") == true || error?.message.contains("scripted") == true)
        #expect(Self.destructiveCommands(runners) == [])
    }

    @Test func withEveryAnswerTheMostAdvancedMemberBootstraps() async throws {
        // The control for the test above: the same script without a failure reaches the bootstrap of n2.
        let (cluster, runners) = Self.cluster { name, runner in
            runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, stdout: "/var/lib/docker/volumes/x/_data\n")
            runner.on(
                { $0.starts(with: ["cat"]) },
                stdout: "uuid: 8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3\nseqno: \(name == "n2" ? 20 : 10)\nsafe_to_bootstrap: 0\n")
            // Stop at the deploy that would follow (a real lab test goes on from here).
            runner.on({ $0.last?.contains("docker stack deploy") == true }, exit: 1, stderr: "scripted stop")
        }
        _ = try? await Deploy(cluster: cluster, secrets: SecretValues([:])).convergeGalera()
        let written = runners["n2"]!.commands.filter { $0.pretty.contains("grastate.dat.haha-tmp") }
        #expect(written.count == 1)
        #expect(written.first.flatMap { $0.input }.map { String(decoding: $0, as: UTF8.self) }?.contains("safe_to_bootstrap: 1") == true)
        #expect(runners["n1"]!.commands.filter { $0.pretty.contains("grastate.dat.haha-tmp") }.isEmpty)
    }

    @Test(arguments: [
        "Error response from daemon: volume haha_galera-NODE-data not found",
        "Error response from daemon: get haha_galera-NODE-data: no such volume",
    ])
    func aMissingVolumeIsADefiniteNoInEitherDockerWording(_ message: String) async throws {
        let (cluster, _) = Self.cluster { name, runner in
            runner.on(
                { $0.starts(with: ["docker", "volume", "inspect"]) }, exit: 1,
                stderr: message.replacingOccurrences(of: "NODE", with: name))
        }
        // No member has data: a new cluster is bootstrapped (the scripted deploy then stops it).
        let error = await #expect(throws: CommandError.self) {
            try await Deploy(cluster: cluster, secrets: SecretValues([:])).convergeGalera()
        }
        #expect(error?.command.contains("docker stack deploy") == true)
    }

    @Test func anUnreachableMemberBlocksTheRecoveryWithoutDestroying() async throws {
        let (cluster, runners) = Self.cluster { name, runner in
            if name == "n3" { runner.on({ _ in true }, exit: 255, stderr: "ssh: connect to host 10.1.0.13 port 22: No route to host") }
            runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, stdout: "/var/lib/docker/volumes/x/_data\n")
            runner.on({ $0.starts(with: ["cat"]) }, stdout: "uuid: 8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3\nseqno: 10\nsafe_to_bootstrap: 0\n")
        }
        let error = await #expect(throws: HahaError.self) {
            try await Deploy(cluster: cluster, secrets: SecretValues([:])).convergeGalera()
        }
        #expect(error?.message.contains("n3 is unreachable") == true)
        #expect(error?.message.contains("haha recover --from n1") == true)
        #expect(Self.destructiveCommands(runners) == [])
    }
}

@Suite struct SecretArgumentTests {
    /// The SQL probe as the node's shell runs it: the password reaches the client on a pipe, not in its arguments.
    @Test func theRootPasswordIsNeverAnArgumentOfTheClient() async throws {
        let script = Deploy.asRoot("SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size')")
        #expect(!script.contains(" -p"))
        #expect(script.contains("--defaults-extra-file=/dev/fd/3"))
        // Run it with a stand-in `mariadb` that prints its arguments and the option file it was given.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("haha-sql-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fake = directory.appendingPathComponent("mariadb").path
        try "#!/bin/sh\necho \"args: $*\"\ncat /dev/fd/3\n".write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let secret = directory.appendingPathComponent("secret").path
        try "s3cret-Value-0123456789\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let local = script.replacingOccurrences(of: "/run/secrets/\(SecretCatalog.mariadbRoot)", with: secret)
        let result = try await LocalRunner().run(Command(["sh", "-c", "PATH=\(directory.path):$PATH; " + local], timeout: 20))
        #expect(result.succeeded, "\(result.errorOutput)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(
            lines.first == "args: --defaults-extra-file=/dev/fd/3 -uroot -N -B -e SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size')"
        )
        #expect(lines.dropFirst() == ["[client]", "password=s3cret-Value-0123456789"])
    }
}
