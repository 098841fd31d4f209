import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// Gluster as a scripted cluster: a fresh one is built (pool, volume, options, fstab mount), then the same nodes,
/// now answering as converged, see no changing command on a second run.
@Suite struct StorageTests {
    static let brick = "/var/lib/haha/brick"

    /// `gluster volume info haha` as Gluster 11 prints it, with the options set so far.
    static func volumeInfo(started: Bool, options: [String]) -> String {
        """

        Volume Name: haha
        Type: Replicate
        Volume ID: 5c2a0a8e-3f1d-4c43-9a57-0c6f0d7b2f11
        Status: \(started ? "Started" : "Created")
        Snapshot Count: 0
        Number of Bricks: 1 x 3 = 3
        Transport-type: tcp
        Bricks:
        Brick1: 10.1.0.11:\(brick)
        Brick2: 10.1.0.12:\(brick)
        Brick3: 10.1.0.13:\(brick)
        Options Reconfigured:
        \((options + ["cluster.granular-entry-heal: on", "transport.address-family: inet", "nfs.disable: on"]).joined(separator: "\n"))

        """
    }

    /// Nodes that behave like Gluster: the pool grows with each `peer probe`, the volume exists after `volume create`,
    /// its options and status follow `volume set`/`volume start`, and a node is mounted once the mount script ran.
    static func glusterCluster(_ spec: ClusterSpec = Fixtures.spec()) -> (Cluster, [String: ScriptedRunner]) {
        let (cluster, runners) = Fixtures.cluster(spec)
        let primary = runners["n1"]!
        let others = spec.nodes.dropFirst().map(\.address)
        primary.on({ $0 == ["gluster", "pool", "list"] }) { _ in
            let peers = others.filter { primary.ran("gluster peer probe \($0)") }
            let lines =
                ["UUID\t\t\t\t\tHostname \tState"]
                + peers.enumerated().map { "8d3c1f0e-0b5a-4a7e-9c0d-1f2e3d4c5b6\($0.offset)\t\($0.element)\tConnected " }
                + ["0a2b6c9d-7e1f-4a3b-8c5d-6e7f8a9b0c1d\tlocalhost\tConnected "]
            return .scripted(stdout: lines.joined(separator: "\n") + "\n")
        }
        primary.on({ $0 == ["gluster", "volume", "info", "haha"] }) { _ in
            guard primary.ran("gluster volume create haha") else {
                return .scripted(exit: 1, stderr: "Volume haha does not exist\n")
            }
            let options = primary.commands.map(\.arguments).filter { $0.starts(with: ["gluster", "volume", "set", "haha"]) }.map {
                "\($0[4]): \($0[5])"
            }
            return .scripted(stdout: volumeInfo(started: primary.ran("gluster volume start haha"), options: options))
        }
        primary.on({ $0 == ["gluster", "volume", "info", "all"] }, stdout: "No volumes present\n")
        for runner in runners.values {
            // The check `grep -qxF LINE /etc/fstab && mountpoint -q PATH` holds once the mount script ran.
            runner.on({ $0.last?.hasPrefix("grep -qxF") == true }) { _ in
                runner.ran("mount /var/lib/haha/shared") ? .scripted() : .scripted(exit: 1)
            }
        }
        return (cluster, runners)
    }

    @Test func aFreshClusterIsBuiltAndASecondRunChangesNothing() async throws {
        let (cluster, runners) = Self.glusterCluster()
        let storage = Storage(cluster: cluster)
        #expect(try await storage.converge(facts: [:]) == true)

        let n1 = runners["n1"]!.commands.map(\.arguments)
        #expect(
            n1.filter { $0.starts(with: ["gluster", "peer", "probe"]) } == [
                ["gluster", "peer", "probe", "10.1.0.12"],
                ["gluster", "peer", "probe", "10.1.0.13"],
            ])
        #expect(
            n1.filter { $0.starts(with: ["gluster", "volume", "create"]) } == [
                [
                    "gluster", "volume", "create", "haha", "replica", "3",
                    "10.1.0.11:\(Self.brick)", "10.1.0.12:\(Self.brick)", "10.1.0.13:\(Self.brick)", "force",
                ]
            ])
        let set = n1.filter { $0.starts(with: ["gluster", "volume", "set", "haha"]) }.map { [$0[4], $0[5]] }
        #expect(set == GlusterVolumeOptions.wanted(cluster.spec).sorted { $0.key < $1.key }.map { [$0.key, $0.value] })
        #expect(set.contains(["auth.allow", "127.0.0.1,10.1.0.11,10.1.0.12,10.1.0.13"]))
        #expect(n1.filter { $0 == ["gluster", "volume", "start", "haha"] }.count == 1)
        // Peers before the volume, the volume before its options.
        let order = n1.compactMap { $0.count > 2 && $0[0] == "gluster" ? $0[2] : nil }.filter { ["probe", "create", "start"].contains($0) }
        #expect(order == ["probe", "probe", "create", "start"])

        let fstab =
            "localhost:/haha /var/lib/haha/shared glusterfs defaults,_netdev,backup-volfile-servers=10.1.0.11:10.1.0.12:10.1.0.13 0 0"
        for (name, runner) in runners {
            let scripts = runner.commands.compactMap { $0.arguments.last }
            // Each brick is prepared (an old volume identity cleared), then each node gets the fstab line and the mount.
            #expect(
                scripts.contains {
                    $0.hasPrefix("mkdir -p \(Self.brick)\n") && $0.contains("setfattr -x trusted.glusterfs.volume-id \(Self.brick)")
                }, "\(name)")
            let mount = try #require(scripts.first { $0.hasPrefix("mkdir -p /var/lib/haha/shared") }, "\(name) is not mounted")
            // A listed mount (the scripted node lists it) is asked to answer before mkdir, which would fail on one that does not.
            let arguments = runner.commands.map(\.arguments)
            let listed = arguments.firstIndex(of: ["grep", "-qsF", " /var/lib/haha/shared fuse.glusterfs ", "/proc/mounts"])
            let answered = arguments.firstIndex(of: ["stat", "-t", "/var/lib/haha/shared"])
            let mounted = arguments.firstIndex { $0.last == mount }
            #expect(listed != nil && answered != nil && listed! < answered! && answered! < mounted!, "\(name): \(arguments)")
            #expect(mount.contains("printf '%s\\n%s\\n' '\(Storage.fstabMarker)' '\(fstab)' >> /etc/fstab.haha-tmp"))
            #expect(mount.contains("mv /etc/fstab.haha-tmp /etc/fstab"))
            #expect(mount.hasSuffix("mountpoint -q /var/lib/haha/shared || mount /var/lib/haha/shared"))
        }

        let before = Changing.commands(runners, Changing.storage)
        #expect(try await storage.converge(facts: [:]) == false)
        #expect(Changing.commands(runners, Changing.storage) == before)
    }

    /// A mount that says "Transport endpoint is not connected" (its client reaching no brick, as after a partition) is
    /// waited for until it answers, and only then made sure of: mkdir on it would fail at once.
    @Test func aMountThatDoesNotAnswerYetIsWaitedFor() async throws {
        let (cluster, runners) = Self.glusterCluster()
        let n2 = try #require(runners["n2"])
        n2.on({ $0 == ["stat", "-t", "/var/lib/haha/shared"] }) { _ in
            let asked = n2.commands.filter { $0.arguments == ["stat", "-t", "/var/lib/haha/shared"] }.count
            return asked < 3
                ? .scripted(exit: 1, stderr: "stat: cannot statx '/var/lib/haha/shared': Transport endpoint is not connected\n")
                : .scripted()
        }
        #expect(try await Storage(cluster: cluster).converge(facts: [:]) == true)
        let arguments = n2.commands.map(\.arguments)
        let stats = arguments.indices.filter { arguments[$0] == ["stat", "-t", "/var/lib/haha/shared"] }
        let mounted = try #require(arguments.firstIndex { $0.last?.hasPrefix("mkdir -p /var/lib/haha/shared") == true })
        #expect(stats.count == 3 && stats.allSatisfy { $0 < mounted }, "\(arguments)")
    }

    @Test func aConvergedClusterSeesNoChangingCommand() async throws {
        let spec = Fixtures.spec()
        let (cluster, runners) = Fixtures.cluster(spec) { name, runner in
            guard name == "n1" else { runner.on({ $0.last?.hasPrefix("grep -qxF") == true }); return }
            runner.on(
                { $0 == ["gluster", "pool", "list"] },
                stdout: """
                    UUID\t\t\t\t\tHostname \tState
                    8d3c1f0e-0b5a-4a7e-9c0d-1f2e3d4c5b60\t10.1.0.12\tConnected
                    8d3c1f0e-0b5a-4a7e-9c0d-1f2e3d4c5b61\t10.1.0.13\tConnected
                    0a2b6c9d-7e1f-4a3b-8c5d-6e7f8a9b0c1d\tlocalhost\tConnected

                    """)
            let options = GlusterVolumeOptions.wanted(spec).map { "\($0.key): \($0.value)" }
            runner.on({ $0 == ["gluster", "volume", "info", "haha"] }, stdout: Self.volumeInfo(started: true, options: options))
            runner.on({ $0.last?.hasPrefix("grep -qxF") == true })
        }
        #expect(try await Storage(cluster: cluster).converge(facts: [:]) == false)
        #expect(Changing.commands(runners, Changing.storage) == [])
        // Only the probes ran: the pool twice (the list, then the wait), the volume once for existence and once for options.
        #expect(
            runners["n1"]!.commands.map(\.pretty).filter { $0.hasPrefix("gluster") }
                == ["gluster pool list", "gluster pool list", "gluster volume info haha", "gluster volume info haha"])
    }

    @Test func glusterIsInstalledWhereItIsMissingAndMarked() async throws {
        let (cluster, runners) = Self.glusterCluster()
        let facts = Dictionary(
            uniqueKeysWithValues: cluster.spec.nodes.map {
                (
                    $0.name,
                    Preflight.Facts(
                        dockerVersion: "26.1.5", architecture: "aarch64", freeKilobytes: 9_000_000, clock: 0,
                        hasGluster: $0.name != "n2", hasSystemd: true, listening: [22], swarmState: "inactive")
                )
            })
        _ = try await Storage(cluster: cluster).converge(facts: facts)
        #expect(
            Changing.commands(runners, ["apt-get", "touch"]) == [
                "n2: sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y glusterfs-server && (systemctl enable --now glusterd 2>/dev/null || service glusterd start)'",
                "n2: sh -c 'mkdir -p /var/lib/haha/state && touch /var/lib/haha/state/installed-glusterfs-server'",
            ])
    }

    @Test func twoDataNodesAndAnArbiterMakeAnArbiterVolume() {
        let storage = Storage(cluster: Fixtures.cluster(Fixtures.spec(arbiters: ["n3"])).0)
        #expect(
            storage.createArguments == [
                "gluster", "volume", "create", "haha", "replica", "3", "arbiter", "1",
                "10.1.0.11:\(Self.brick)", "10.1.0.12:\(Self.brick)", "10.1.0.13:\(Self.brick)", "force",
            ])
    }

    // MARK: fstabLine

    @Test func theFstabLineMountsLocallyWithTheDataNodesAsBackups() {
        let storage = Storage(cluster: Fixtures.cluster().0)
        #expect(
            storage.fstabLine
                == "localhost:/haha /var/lib/haha/shared glusterfs defaults,_netdev,backup-volfile-servers=10.1.0.11:10.1.0.12:10.1.0.13 0 0"
        )
    }

    @Test func theFstabLineNamesNoArbiterAndAtMostThreeServers() {
        let arbiter = Storage(cluster: Fixtures.cluster(Fixtures.spec(nodes: 3, arbiters: ["n2"])).0)
        #expect(arbiter.fstabLine.contains("backup-volfile-servers=10.1.0.11:10.1.0.13 0 0"))
        let five = Storage(
            cluster: Fixtures.cluster(
                Fixtures.spec(nodes: 5) {
                    $0.storage.volume = "home"
                    $0.storage.mountPath = "/srv/home"
                }
            ).0)
        #expect(
            five.fstabLine
                == "localhost:/home /srv/home glusterfs defaults,_netdev,backup-volfile-servers=10.1.0.11:10.1.0.12:10.1.0.13 0 0")
    }
}

/// `homeAssistant.failover` on an existing volume: the fence's timeouts are set with it and reset to Gluster's defaults
/// without it, and a second run changes nothing, both ways.
@Suite struct GlusterFailoverOptionsTests {
    /// A started volume whose options follow every `volume set` and `volume reset` run on n1, from `initial`.
    static func volume(_ runners: [String: ScriptedRunner], initial: [String: String]) {
        let primary = runners["n1"]!
        primary.on(
            { $0 == ["gluster", "pool", "list"] },
            stdout: """
                UUID\t\t\t\t\tHostname \tState
                8d3c1f0e-0b5a-4a7e-9c0d-1f2e3d4c5b60\t10.1.0.12\tConnected
                8d3c1f0e-0b5a-4a7e-9c0d-1f2e3d4c5b61\t10.1.0.13\tConnected
                0a2b6c9d-7e1f-4a3b-8c5d-6e7f8a9b0c1d\tlocalhost\tConnected

                """)
        primary.on({ $0 == ["gluster", "volume", "info", "haha"] }) { _ in
            var options = initial
            for command in primary.commands.map(\.arguments) where command.starts(with: ["gluster", "volume"]) && command.count >= 5 {
                if command[2] == "set" { options[command[4]] = command[5] }
                if command[2] == "reset" { options[command[4]] = nil }
            }
            return .scripted(
                stdout: StorageTests.volumeInfo(started: true, options: options.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })
            )
        }
        for runner in runners.values { runner.on({ $0.last?.hasPrefix("grep -qxF") == true }) }
    }

    @Test(arguments: ClusterSpec.HomeAssistant.Failover.allCases)
    func switchingModesConvergesTheVolumesOptions(_ failover: ClusterSpec.HomeAssistant.Failover) async throws {
        let before = Fixtures.spec { $0.homeAssistant.failover = failover == .fenced ? .swarm : .fenced }
        let after = Fixtures.spec { $0.homeAssistant.failover = failover }
        let (_, runners) = Fixtures.cluster(after)
        Self.volume(runners, initial: GlusterVolumeOptions.wanted(before))
        let cluster = Cluster(workspace: Workspace(specPath: "/tmp/haha.yaml", spec: after), runners: runners)
        let storage = Storage(cluster: cluster)
        #expect(try await storage.converge(facts: [:]) == true)
        let timeouts = GlusterVolumeOptions.failoverTimeouts.sorted()
        let changes = Changing.commands(runners, Changing.storage)
        if failover == .swarm {
            #expect(changes == timeouts.map { "n1: gluster volume reset haha \($0)" })
        } else {
            let wanted = GlusterVolumeOptions.wanted(after)
            #expect(changes == timeouts.map { "n1: gluster volume set haha \($0) \(wanted[$0] ?? "?")" })
        }
        #expect(try await storage.converge(facts: [:]) == false)
        #expect(Changing.commands(runners, Changing.storage) == changes)
    }
}
