import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// `haha backup` / `haha restore` against scripted nodes: where the database is read, what the archive's manifest
/// says, what a restore refuses, and that Home Assistant and the broker are stopped around the swap and always
/// started again.
@Suite struct BackupTests {
    static let sha = String(repeating: "ab", count: 32)

    /// n1's member is a donor (not Synced), n2's and n3's are Synced in a Primary Component; every node answers
    /// `docker ps` for the services in `running` (a set the test changes as services stop).
    static func cluster(homeAssistantVersion: String = "2026.11.0", restoreFails: Bool = false) -> (Cluster, [String: ScriptedRunner]) {
        let (cluster, runners) = Fixtures.cluster { name, runner in
            runner.on(
                { $0.starts(with: ["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name=haha_galera-\(name)"]) },
                stdout: "c-\(name)\n")
            runner.on(
                { $0.starts(with: ["docker", "exec", "c-\(name)"]) },
                stdout: "wsrep_cluster_status\tPrimary\nwsrep_local_state\t\(name == "n1" ? 2 : 4)\nwsrep_last_committed\t77\n")
            runner.on({ $0.first == "bash" && $0.last?.contains("mariadb-dump") == true && $0.last?.contains("mktemp") == true }) { _ in
                .scripted(
                    stdout: "dir /var/lib/haha/backup.x1\n"
                        + BackupPart.allCases.map { "part \($0.file) 2048 \(sha)\n" }.joined()
                        + "ha_version 2026.11.0\nmariadb 11.8.3-MariaDB-deb13\n")
            }
            runner.on({ $0.first == "bash" && $0.contains { $0.contains("tar -C \"$1\" -cf -") } }, stdout: "ARCHIVE")
            runner.on(
                { $0.last == "mkdir -p /var/lib/haha && mktemp -d /var/lib/haha/restore.XXXXXX" }, stdout: "/var/lib/haha/restore.y2\n")
            runner.on({ $0.contains { $0.contains("cat > backup.tar") } }) { command in
                .scripted(stdout: String(decoding: command.input ?? Data(), as: UTF8.self))
            }
            runner.on({ $0 == ["cat", "/var/lib/haha/shared/homeassistant/.HA_VERSION"] }, stdout: homeAssistantVersion + "\n")
            runner.on({ $0.contains { $0.contains("SELECT VERSION()") } }, stdout: "11.8.3-MariaDB-deb13\n")
            runner.on({ $0.first == "bash" && $0.last?.contains("database-before.sql.gz") == true }, exit: restoreFails ? 1 : 0)
        }
        return (cluster, runners)
    }

    static func archive(_ manifest: BackupManifest) throws -> Data { try manifest.encoded() }

    @Test func theDatabaseIsReadFromTheFirstSyncedMemberAndTheManifestSaysWhatWasTaken() async throws {
        let (cluster, runners) = Self.cluster()
        let (manifest, archive) = try await Backup(cluster: cluster, secrets: SecretValues([:])).take(haha: "0.1.0")
        #expect(archive == Data("ARCHIVE".utf8))
        #expect(manifest.databaseFrom == "n2" && manifest.databaseSeqno == 77)
        #expect(manifest.homeAssistantVersion == "2026.11.0" && manifest.mariadbVersion == "11.8.3-MariaDB-deb13")
        #expect(manifest.parts.map(\.name) == ["database", "config", "mosquitto"] && manifest.parts.allSatisfy { $0.sha256 == Self.sha })
        // The manifest went into the archive on n2, and nothing was dumped or packed elsewhere.
        let packed = try #require(runners["n2"]!.commands.last { $0.arguments.contains { $0.contains("tar -C \"$1\" -cf -") } })
        #expect(try BackupManifest.decode(packed.input ?? Data()).get() == manifest)
        #expect(Changing.commands(runners, ["mariadb-dump"]).allSatisfy { $0.hasPrefix("n2: ") })
        // The dump reads the root password inside the container; haha's haha-lab lease and drill markers stay out.
        let script = try #require(runners["n2"]!.commands.first { $0.arguments.last?.contains("mariadb-dump") == true }?.arguments.last)
        #expect(script.contains("--single-transaction") && script.contains("/run/secrets/mariadb-root-password"))
        #expect(script.contains("--exclude=homeassistant/.haha ") && script.contains("--exclude='homeassistant/.haha-drill-*'"))
    }

    /// `--include-secrets`: the encrypted part goes to the member's working directory on stdin, is listed in the
    /// manifest with the size and checksum the node computed, and is packed with the others.
    @Test func theEncryptedSecretsAreOneMorePartOfTheArchive() async throws {
        let (cluster, runners) = Self.cluster()
        runners["n2"]!.on({ $0.contains { $0.contains("cat > \"$1/secrets.tar.enc\"") } }, stdout: "5 \(Self.sha)\n")
        let (manifest, _) = try await Backup(cluster: cluster, secrets: SecretValues([:])).take(haha: "0.1.0", secrets: Data("CRYPT".utf8))
        #expect(manifest.parts.map(\.name) == ["database", "config", "mosquitto", "secrets"])
        #expect(manifest.parts.last == .init(name: "secrets", file: "secrets.tar.enc", bytes: 5, sha256: Self.sha))
        let sent = try #require(runners["n2"]!.commands.first { $0.arguments.contains { $0.contains("cat > \"$1/secrets.tar.enc\"") } })
        #expect(sent.input == Data("CRYPT".utf8) && sent.arguments.last == "/var/lib/haha/backup.x1")
        let packed = try #require(runners["n2"]!.commands.last { $0.arguments.contains { $0.contains("tar -C \"$1\" -cf -") } })
        #expect(packed.arguments.contains { $0.hasSuffix("mosquitto.tar.gz secrets.tar.enc") })
    }

    @Test func withoutASyncedMemberNothingIsTaken() async throws {
        let (cluster, runners) = Fixtures.cluster { _, runner in runner.on({ $0.starts(with: ["docker", "ps"]) }, stdout: "") }
        await #expect(throws: HahaError.self) { try await Backup(cluster: cluster, secrets: SecretValues([:])).take(haha: "0.1.0") }
        #expect(Changing.commands(runners, ["mariadb-dump", "tar "]) == [])
    }

    @Test func aBackupFromANewerHomeAssistantIsRefusedBeforeAnythingStops() async throws {
        let (cluster, runners) = Self.cluster(homeAssistantVersion: "2026.10.1")
        let backup = Backup(cluster: cluster, secrets: SecretValues([:]))
        let prepared = try await backup.prepare(archive: Self.archive(Self.manifest))
        #expect(prepared.problems.count == 1 && prepared.problems[0].contains("Home Assistant 2026.11.0, newer than the 2026.10.1"))
        #expect(Changing.commands(runners, ["docker service update"]) == [])
    }

    @Test func aDamagedArchiveIsRefusedAndItsDirectoryRemoved() async throws {
        let (cluster, runners) = Self.cluster()
        runners["n2"]!.on({ $0.contains { $0.contains("sha256sum -c") } }, exit: 1, stdout: "config.tar.gz: FAILED\n")
        let backup = Backup(cluster: cluster, secrets: SecretValues([:]))
        await #expect(throws: HahaError.self) { try await backup.prepare(archive: Self.archive(Self.manifest)) }
        #expect(runners["n2"]!.ran("rm -rf /var/lib/haha/restore.y2"))
        let notAnArchive = Self.cluster().0
        let refused = await #expect(throws: HahaError.self) {
            try await Backup(cluster: notAnArchive, secrets: SecretValues([:])).prepare(archive: Data("{}".utf8))
        }
        #expect(refused?.message.contains("not a backup haha can restore") == true)
    }

    @Test(arguments: [false, true])
    func homeAssistantAndTheBrokerStopAroundTheSwapAndAlwaysStartAgain(restoreFails: Bool) async throws {
        let (cluster, runners) = Self.cluster(restoreFails: restoreFails)
        let backup = Backup(cluster: cluster, secrets: SecretValues([:]))
        let prepared = try await backup.prepare(archive: Self.archive(Self.manifest))
        #expect(prepared.problems.isEmpty && prepared.member.node.name == "n2")
        if restoreFails {
            await #expect(throws: CommandError.self) { try await backup.restore(prepared, stamp: "20261205-013000") }
        } else {
            let kept = try await backup.restore(prepared, stamp: "20261205-013000")
            #expect(kept.paths.contains("/var/lib/haha/shared/homeassistant.before-restore-20261205-013000"))
        }
        let history = runners.values.flatMap(\.history).sorted { $0.sequence < $1.sequence }
        let updates = history.map(\.command.pretty).filter { $0.hasPrefix("docker service update") }
        #expect(
            updates == [
                "docker service update -d --constraint-add node.labels.haha-restore==stopped haha_homeassistant",
                "docker service update -d --constraint-add node.labels.haha-restore==stopped haha_mosquitto",
                "docker service update -d --constraint-rm node.labels.haha-restore==stopped haha_homeassistant",
                "docker service update -d --constraint-rm node.labels.haha-restore==stopped haha_mosquitto",
            ])
        let swap = try #require(history.firstIndex { $0.command.arguments.last?.contains("database-before.sql.gz") == true })
        let lastStop = try #require(history.lastIndex { $0.command.pretty.contains("--constraint-add") })
        let firstStart = try #require(history.firstIndex { $0.command.pretty.contains("--constraint-rm") })
        #expect(lastStop < swap && swap < firstStart)
        let script = try #require(history[swap].command.arguments.last)
        #expect(script.contains("mv /var/lib/haha/shared/homeassistant /var/lib/haha/shared/homeassistant.before-restore-20261205-013000"))
    }

    /// A stop that fails half way (the broker's update refused) starts Home Assistant again and swaps nothing.
    @Test func aStopThatFailsHalfWayStartsEverythingAgainAndSwapsNothing() async throws {
        let (cluster, runners) = Self.cluster()
        runners["n1"]!.on(
            { $0.starts(with: ["docker", "service", "update", "-d", "--constraint-add"]) && $0.last == "haha_mosquitto" }, exit: 1,
            stderr: "Error response from daemon: rpc error: code = Unavailable\n")
        let backup = Backup(cluster: cluster, secrets: SecretValues([:]))
        let prepared = try await backup.prepare(archive: Self.archive(Self.manifest))
        await #expect(throws: CommandError.self) { try await backup.restore(prepared, stamp: "20261205-013000") }
        #expect(
            Changing.commands(runners, ["--constraint-rm"]) == [
                "n1: docker service update -d --constraint-rm node.labels.haha-restore==stopped haha_homeassistant",
                "n1: docker service update -d --constraint-rm node.labels.haha-restore==stopped haha_mosquitto",
            ])
        #expect(Changing.commands(runners, ["database-before.sql.gz"]) == [])
    }

    static let manifest = BackupManifest(
        created: "2026-12-05T01:30:00Z", haha: "0.1.0",
        images: .init(
            homeAssistant: "ghcr.io/home-assistant/home-assistant:2026.11.0", mariadb: "mariadb:11.8", mosquitto: "eclipse-mosquitto:2"),
        homeAssistantVersion: "2026.11.0", mariadbVersion: "11.8.3-MariaDB-deb13", databaseFrom: "n2", databaseSeqno: 77,
        parts: BackupPart.allCases.map { .init(name: $0.rawValue, file: $0.file, bytes: 2048, sha256: sha) })
}
