import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// `haha down` on a scripted running cluster: the right commands on every node, in order; data kept unless purged;
/// and no `rm -rf` of anything but the brick and haha's own directory.
@Suite struct TeardownTests {
    static let brick = "/srv/gluster/haha-brick"

    /// A running cluster: n1 manages the swarm and runs the stack (gone once `docker stack rm` ran), every node has
    /// its Galera volume, brick and swarm marker; n2 is where haha installed glusterfs-server.
    /// `stubborn` names a node whose first `docker swarm leave --force` does not take (it stays `active`).
    static func running(stubborn: String? = nil, specPath: String = "/tmp/haha.yaml") -> (Cluster, [String: ScriptedRunner]) {
        let spec = Fixtures.spec { $0.storage.brickPath = brick }
        let (cluster, runners) = Fixtures.cluster(spec, specPath: specPath) { name, runner in
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }) { command in
                // Swarm state alone is what `haha down` reads back after leaving.
                guard command.arguments.last == "{{.Swarm.LocalNodeState}}" else { return .scripted(stdout: "active true id-\(name)\n") }
                let leaves = runner.commands.filter { $0.arguments == ["docker", "swarm", "leave", "--force"] }.count
                return .scripted(stdout: leaves >= (name == stubborn ? 2 : 1) ? "inactive\n" : "active\n")
            }
            runner.on({ $0 == ["test", "-e", "/var/lib/haha/state/installed-keepalived"] }, exit: 1)
            if name != "n2" { runner.on({ $0 == ["test", "-e", "/var/lib/haha/state/installed-glusterfs-server"] }, exit: 1) }
        }
        let manager = runners["n1"]!
        manager.on({ $0.starts(with: ["docker", "service", "ls", "-q"]) }) { _ in
            manager.ran("docker stack rm haha") ? .scripted() : .scripted(stdout: "kq2w1x\nm3v9c0\nz8d4e7\n")
        }
        return (cluster, runners)
    }

    /// The targets of every `rm -rf` any node ran, as argv or inside a script.
    static func removed(_ runners: [String: ScriptedRunner]) -> Set<String> {
        var targets: Set<String> = []
        for command in runners.values.flatMap(\.commands) {
            if command.arguments.starts(with: ["rm", "-rf"]) { targets.formUnion(command.arguments.dropFirst(2)) }
            for script in command.arguments where script.contains("rm -rf ") {
                for part in script.components(separatedBy: "rm -rf ").dropFirst() {
                    targets.insert(String(part.prefix { !$0.isWhitespace && $0 != ";" }))
                }
            }
        }
        return targets
    }

    static func sequence(_ runner: ScriptedRunner, _ text: String) -> [Int] {
        runner.history.filter { $0.command.pretty.contains(text) || $0.command.arguments.contains { $0.contains(text) } }.map(\.sequence)
    }

    @Test func downRemovesWhatUpCreatedInOrderAndKeepsTheData() async throws {
        let (cluster, runners) = Self.running()
        let kept = try await Teardown(cluster: cluster).run(purge: false)
        let n1 = runners["n1"]!

        #expect(
            kept == [
                "n1: Galera data in Docker volume haha_galera-n1-data", "n2: Galera data in Docker volume haha_galera-n2-data",
                "n3: Galera data in Docker volume haha_galera-n3-data",
                "n1: Home Assistant and Mosquitto files in the Gluster brick \(Self.brick)",
                "n2: Home Assistant and Mosquitto files in the Gluster brick \(Self.brick)",
                "n3: Home Assistant and Mosquitto files in the Gluster brick \(Self.brick)",
            ])
        #expect(Changing.commands(runners, ["docker stack rm"]) == ["n1: docker stack rm haha"])
        #expect(
            Changing.commands(runners, ["peer detach"]) == [
                "n1: gluster --mode=script peer detach 10.1.0.12",
                "n1: gluster --mode=script peer detach 10.1.0.13",
            ])
        #expect(Changing.commands(runners, ["docker volume rm", "apt-get"]) == [])
        #expect(Self.removed(runners) == ["/var/lib/haha/deploy", Marker.directory])
        let fstab = Storage(cluster: cluster).fstabLine
        for (name, runner) in runners {
            let scripts = runner.commands.compactMap(\.arguments.last)
            #expect(
                scripts.contains {
                    $0.contains("{ grep -vxF '\(Storage.fstabMarker)' /etc/fstab | grep -vxF '\(fstab)'; } > /etc/fstab.haha-tmp")
                }, "\(name)")
            #expect(
                runner.commands.filter { $0.arguments == ["rm", "-rf", "/var/lib/haha/deploy", Marker.directory] }.count == 1, "\(name)")
            #expect(runner.commands.filter { $0.arguments == ["docker", "swarm", "leave", "--force"] }.count == 1, "\(name)")
        }

        // The order across nodes: stack, its containers, per-node state and mounts, the volume, the pool, the swarm.
        let all = Array(runners.values)
        let stackRemoved = try #require(Self.sequence(n1, "docker stack rm").first)
        let containers = all.flatMap { Self.sequence($0, "xargs -r docker rm -f") }
        let unmounts = all.flatMap { Self.sequence($0, "umount /var/lib/haha/shared") }
        let volumeStop = try #require(Self.sequence(n1, "volume stop haha force").first)
        let volumeDelete = try #require(Self.sequence(n1, "volume delete haha").first)
        let detaches = Self.sequence(n1, "peer detach")
        let leaves = all.flatMap { Self.sequence($0, "docker swarm leave") }
        let cleanups = all.flatMap { Self.sequence($0, "rm -rf /var/lib/haha/deploy") }
        #expect(containers.count == 3 && unmounts.count == 3 && detaches.count == 2 && leaves.count == 3)
        #expect(containers.allSatisfy { $0 > stackRemoved })
        #expect(unmounts.allSatisfy { $0 > containers.max()! })
        #expect(volumeStop > unmounts.max()! && volumeDelete > volumeStop)
        #expect(detaches.allSatisfy { $0 > volumeDelete })
        #expect(leaves.allSatisfy { $0 > detaches.max()! })
        #expect(cleanups.allSatisfy { $0 > leaves.min()! })
    }

    /// Swarm removing a task's container as haha does (`removal … is already in progress`, seen in CI) is not an
    /// error: haha waits until the stack's containers are gone, and goes on.
    @Test func containersSwarmIsRemovingAreWaitedFor() async throws {
        let (cluster, runners) = Self.running()
        let n3 = runners["n3"]!
        n3.on({ $0.last?.contains("xargs -r docker rm -f") == true }) { _ in
            n3.commands.filter { $0.arguments.last?.contains("xargs -r docker rm -f") == true }.count == 1
                ? .scripted(exit: 123, stderr: "Error response from daemon: removal of container 0e4912cbadf9 is already in progress\n")
                : .scripted()
        }
        n3.on({ $0.starts(with: ["docker", "ps", "-aq"]) }) { _ in
            n3.commands.filter { $0.arguments.starts(with: ["docker", "ps", "-aq"]) }.count == 1
                ? .scripted(stdout: "0e4912cbadf9\n") : .scripted()
        }
        _ = try await Teardown(cluster: cluster).run(purge: false)
        #expect(n3.commands.filter { $0.arguments.starts(with: ["docker", "ps", "-aq"]) }.count == 2)
        #expect(n3.commands.filter { $0.arguments == ["docker", "swarm", "leave", "--force"] }.count == 1)
    }

    @Test func purgeRemovesVolumesBricksAndPackagesHahaInstalledAndNothingElse() async throws {
        let (cluster, runners) = Self.running()
        let kept = try await Teardown(cluster: cluster).run(purge: true)
        #expect(kept == [])
        #expect(
            Changing.commands(runners, ["docker volume rm"]) == ["n1", "n2", "n3"].map { "\($0): docker volume rm haha_galera-\($0)-data" })
        // Only the brick path and haha's own directory are ever removed recursively; never the mount or a parent.
        #expect(Self.removed(runners) == [Self.brick, "/var/lib/haha"])
        for runner in runners.values {
            #expect(runner.commands.filter { $0.arguments == ["rm", "-rf", Self.brick] }.count == 1)
        }
        // The bricks go only after the volume is deleted.
        let deleted = try #require(Self.sequence(runners["n1"]!, "volume delete haha").first)
        #expect(runners.values.flatMap { Self.sequence($0, "rm -rf \(Self.brick)") }.allSatisfy { $0 > deleted })
        #expect(
            Changing.commands(runners, ["apt-get"]) == ["n2: sh -c 'DEBIAN_FRONTEND=noninteractive apt-get remove -y glusterfs-server'"])
    }

    /// The refresh token haha kept beside the secrets goes with the Home Assistant that issued it (purge: its /config
    /// is gone with the bricks) and stays otherwise; the secrets always stay.
    @Test(arguments: [false, true])
    func purgeRemovesTheStoredRefreshTokenAndKeepsTheSecrets(_ purge: Bool) async throws {
        let dir = try Fixtures.scratchDirectory("teardown")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (cluster, _) = Self.running(specPath: "\(dir)/haha.yaml")
        let secrets = cluster.workspace.secretsDirectory
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        let token = cluster.workspace.refreshTokenFile.path
        let password = "\(secrets)/\(SecretCatalog.homeAssistantOwner)"
        try "token\n".write(toFile: token, atomically: true, encoding: .utf8)
        try "password\n".write(toFile: password, atomically: true, encoding: .utf8)
        _ = try await Teardown(cluster: cluster).run(purge: purge)
        #expect(FileManager.default.fileExists(atPath: token) == !purge)
        #expect(FileManager.default.fileExists(atPath: password))
    }

    @Test func aLeaveThatDidNotTakeIsRepeatedUntilTheNodeIsOutOfTheSwarm() async throws {
        let (cluster, runners) = Self.running(stubborn: "n3")
        _ = try await Teardown(cluster: cluster).run(purge: false)
        let leaves = runners.mapValues { $0.commands.filter { $0.arguments == ["docker", "swarm", "leave", "--force"] }.count }
        #expect(leaves == ["n1": 1, "n2": 1, "n3": 2])
    }

    @Test func aSwarmAndBricksHahaDidNotCreateAreLeftAlone() async throws {
        // No swarm marker, no brick directory, no Gluster volume: nothing to leave, delete or remove.
        let (cluster, runners) = Fixtures.cluster(Fixtures.spec()) { name, runner in
            runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true id-\(name)\n")
            runner.on({ $0.first == "test" }, exit: 1)
            runner.on(
                { $0.starts(with: ["docker", "volume", "inspect"]) }, exit: 1,
                stderr: "Error response from daemon: get haha_galera-\(name)-data: no such volume\n")
            runner.on({ $0 == ["gluster", "volume", "info", "haha"] }, exit: 1, stderr: "Volume haha does not exist\n")
        }
        _ = try await Teardown(cluster: cluster).run(purge: true)
        #expect(Changing.commands(runners, ["swarm leave", "volume delete", "volume stop", "docker volume rm", "apt-get"]) == [])
        #expect(Self.removed(runners) == ["/var/lib/haha"])
    }
}
