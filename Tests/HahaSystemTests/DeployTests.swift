import Foundation
import HahaCore
import HahaTestSupport
import Synchronization
import Testing

@testable import HahaSystem

extension RenderingSteps {
    /// Images, the stack and Galera as scripted nodes: a fresh cluster gets the pulls, the deploy and the bootstrap
    /// sequence; the same nodes, now running the stack, see no changing command on a second run.
    @Suite struct DeployTests {
        static let uuid = "8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3"
        static let secrets = SecretValues([:])

        // MARK: Images

        /// Nodes whose image store holds an image once `docker pull` of it ran there.
        static func imageCluster(_ spec: ClusterSpec) -> (Cluster, [String: ScriptedRunner]) {
            Fixtures.cluster(spec) { _, runner in
                runner.on({ $0.starts(with: ["docker", "image", "inspect"]) }) { command in
                    let image = command.arguments.last ?? ""
                    return runner.ran("docker pull \(image)")
                        ? .scripted(stdout: "sha256:0f5a0c7e2d6b4c1e9a8f7d6c5b4a3928171615141312111009080706050403\n")
                        : .scripted(exit: 1, stderr: "Error response from daemon: No such image: \(image)\n")
                }
            }
        }

        @Test func everyDataNodePullsTheStackImagesOnceAndASecondRunPullsNothing() async throws {
            let (cluster, runners) = Self.imageCluster(Fixtures.spec())
            let deploy = Deploy(cluster: cluster, secrets: Self.secrets)
            #expect(try await deploy.pullImages() == true)
            let images = cluster.spec.images
            for name in ["n1", "n2", "n3"] {
                #expect(
                    Changing.commands([name: runners[name]!], Changing.images)
                        == [images.homeAssistant, images.mariadb, images.mosquitto].sorted().map { "\(name): docker pull \($0)" })
            }
            let before = Changing.commands(runners, Changing.images)
            #expect(try await deploy.pullImages() == false)
            #expect(Changing.commands(runners, Changing.images) == before)
        }

        @Test func anArbiterPullsOnlyTheProxyItRuns() async throws {
            let spec = Fixtures.spec(arbiters: ["n3"]) { $0.routing = .proxy }
            let (cluster, runners) = Self.imageCluster(spec)
            _ = try await Deploy(cluster: cluster, secrets: Self.secrets).pullImages()
            #expect(Changing.commands(["n3": runners["n3"]!], Changing.images) == ["n3: docker pull haproxy:3.2"])
            #expect(Changing.commands(["n1": runners["n1"]!], Changing.images).count == 4)
        }

        // MARK: Stack and Galera

        /// Nodes that behave like a swarm running the stack once `docker stack deploy` ran on the primary: files written
        /// on the primary read back, services report their replicas, each member's volume, grastate.dat and container
        /// exist, and each member answers `SHOW STATUS` as Synced in a Primary Component of three.
        /// `running`: the definition digest every Galera member runs before haha deploys (nil: no member exists yet);
        /// after a deploy each runs the one rendered now.
        static func stackCluster(_ spec: ClusterSpec = Fixtures.spec(), running: String? = nil) -> (Cluster, [String: ScriptedRunner]) {
            let (cluster, runners) = Fixtures.cluster(spec)
            let primary = runners["n1"]!
            let deployed: @Sendable () -> Bool = { primary.ran("docker stack deploy") }
            let digests = Renderer(spec: spec, secrets: secrets, phase: .steady).memberDigests()
            primary.on({ $0.starts(with: ["docker", "service", "inspect", "--format"]) && $0.contains { $0.contains("org.haha.spec") } }) {
                command in
                let service = command.arguments.last ?? ""
                if deployed() { return .scripted(stdout: (digests[String(service.dropFirst("haha_galera-".count))] ?? "") + "\n") }
                guard let running else { return .scripted(exit: 1, stderr: "Error response from daemon: no such service: \(service)\n") }
                return .scripted(stdout: running + "\n")
            }
            for (name, runner) in runners {
                let volume = "haha_galera-\(name)-data"
                let path = "/var/lib/docker/volumes/\(volume)/_data"
                runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }) { _ in
                    deployed()
                        ? .scripted(stdout: path + "\n")
                        : .scripted(exit: 1, stderr: "Error response from daemon: get \(volume): no such volume\n")
                }
                runner.on(
                    { $0 == ["cat", "\(path)/grastate.dat"] },
                    stdout: "# GALERA saved state\nversion: 2.1\nuuid:    \(uuid)\nseqno:   -1\nsafe_to_bootstrap: 0\n")
                runner.on({
                    $0.starts(with: ["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name=haha_galera-\(name)"])
                }) { _ in
                    .scripted(stdout: deployed() ? "3f2a9c1b7d4e\n" : "")
                }
                runner.on(
                    { $0.starts(with: ["docker", "exec", "3f2a9c1b7d4e"]) },
                    stdout: """
                        wsrep_cluster_size\t3
                        wsrep_cluster_state_uuid\t\(uuid)
                        wsrep_cluster_status\tPrimary
                        wsrep_last_committed\t42
                        wsrep_local_state\t4

                        """)
            }
            for file in ["stack.digest", "phase"] {
                let path = "/var/lib/haha/deploy/\(file)"
                primary.on({ $0 == ["cat", path] }) { _ in
                    primary.written(path).map { .scripted(stdout: $0) }
                        ?? .scripted(exit: 1, stderr: "cat: \(path): No such file or directory\n")
                }
            }
            primary.on({ $0.starts(with: ["docker", "service", "ls"]) }) { _ in
                .scripted(
                    stdout: deployed()
                        ? "haha_galera-n1 1/1\nhaha_galera-n2 1/1\nhaha_galera-n3 1/1\nhaha_homeassistant 1/1\nhaha_mosquitto 1/1\n" : "")
            }
            return (cluster, runners)
        }

        @Test func theStackIsWrittenDeployedAndRecordedAndASecondDeployChangesNothing() async throws {
            let (cluster, runners) = Self.stackCluster()
            let deploy = Deploy(cluster: cluster, secrets: Self.secrets)
            #expect(try await deploy.deploy(.steady) == true)
            let primary = runners["n1"]!
            let rendered = try Renderer(spec: cluster.spec, secrets: Self.secrets, phase: .steady).render()
            for file in rendered {
                let path = "/var/lib/haha/deploy.new/\(file.path)"
                #expect(primary.written(path) == file.contents, "\(file.path)")
                let write = try #require(
                    primary.commands.last { $0.arguments.last?.contains("cat > \(shellQuote(path)).haha-tmp") == true })
                #expect(write.arguments.last?.contains("chmod \(file.isSecret ? "0600" : "0644")") == true, "\(file.path)")
            }
            let deploys = primary.commands.compactMap(\.arguments.last).filter { $0.contains("docker stack deploy") }
            #expect(
                deploys == [
                    "cd /var/lib/haha/deploy && { docker stack deploy --prune --resolve-image never -c stack.yml haha; status=$?; rm -rf secrets; exit $status; }"
                ])
            #expect(primary.written("/var/lib/haha/deploy/phase") == "steady\n")
            #expect(primary.written("/var/lib/haha/deploy/stack.digest")?.count == 33)
            // Nothing runs on the other nodes: the primary deploys for the swarm.
            #expect(runners["n2"]!.commands.isEmpty && runners["n3"]!.commands.isEmpty)

            let before = Changing.commands(runners, Changing.deploy)
            #expect(try await deploy.deploy(.steady) == false)
            #expect(Changing.commands(runners, Changing.deploy) == before)

            // Another stack (a changed image) is deployed again.
            var changed = cluster
            changed.workspace.spec.images.mosquitto = "eclipse-mosquitto:2.0.22"
            #expect(try await Deploy(cluster: changed, secrets: Self.secrets).deploy(.steady) == true)
            #expect(primary.commands.filter { $0.pretty.contains("docker stack deploy") }.count == 2)
        }

        /// Members running another definition restart one at a time: each deploy adds one member to the stack file
        /// (without --prune the others keep running as they are), and the next waits until it runs the new one, Synced.
        @Test func changedGaleraMembersRestartOneAtATime() async throws {
            let (cluster, runners) = Self.stackCluster(running: "0ld0ld0l")
            #expect(try await Deploy(cluster: cluster, secrets: Self.secrets).deploy(.steady) == true)
            let primary = runners["n1"]!
            let deploys = primary.history.filter { $0.command.arguments.last?.contains("docker stack deploy") == true }
            #expect(deploys.map { $0.command.arguments.last?.contains("--prune") == true } == [false, false, true])
            let digests = Renderer(spec: cluster.spec, secrets: Self.secrets, phase: .steady).memberDigests()
            // Before each later deploy, the member restarted by the one before runs its new definition.
            for (index, node) in ["n1", "n2"].enumerated() {
                let waited = runners[node]!.history.filter {
                    $0.command.arguments.contains("label=org.haha.spec=\(digests[node] ?? "")")
                }.map(\.sequence)
                #expect(waited.contains { $0 > deploys[index].sequence && $0 < deploys[index + 1].sequence }, "\(node)")
            }
            let stacks = primary.history.filter { $0.command.arguments.last?.contains("deploy.new/stack.yml") == true }
                .map { String(decoding: $0.command.input ?? Data(), as: UTF8.self) }
            #expect(
                stacks.map { text in ["n1", "n2", "n3"].filter { text.contains("  galera-\($0):\n") } } == [
                    ["n1"], ["n1", "n2"], ["n1", "n2", "n3"],
                ])
        }

        /// A member whose update Swarm rolled back runs its old definition for good: the wait ends at once with the
        /// reason, and the members after it are not restarted.
        @Test func aMemberUpdateSwarmRolledBackEndsTheWaitAtOnce() async throws {
            let (cluster, runners) = Self.stackCluster(running: "0ld0ld0l")
            let primary = runners["n1"]!
            primary.on(
                { $0 == SwarmUpdate.inspect("haha_galera-n1") },
                stdout: "rollback_completed|rollback completed: update failed, task 1 exited (1)\n")
            let error = await #expect(throws: HahaError.self) {
                try await Deploy(cluster: cluster, secrets: Self.secrets).deploy(.steady)
            }
            #expect(error?.message.contains("n1's database") == true)
            #expect(error?.message.contains("rollback_completed") == true)
            #expect(primary.commands.filter { $0.pretty.contains("docker stack deploy") }.count == 1)
        }

        /// A task left pending while its node was away is scheduled again (`--force`); one that is starting is left alone.
        @Test(arguments: [("Pending 5 minutes ago", true), ("Starting 3 seconds ago", false)])
        func aTaskLeftPendingIsScheduledAgain(state: String, rescheduled: Bool) async throws {
            let (cluster, runners) = Fixtures.cluster(Fixtures.spec()) { name, runner in
                guard name == "n1" else { return }
                runner.on(
                    { $0.starts(with: ["docker", "service", "ls"]) && $0.last == "{{.Name}} {{.Replicas}}" },
                    stdout: "haha_galera-n1 0/1\nhaha_galera-n2 1/1\nhaha_proxy 0/0\n")
                runner.on({ $0.starts(with: ["docker", "service", "ps"]) && $0.last == "haha_galera-n1" }, stdout: state + "\n")
                runner.on(
                    { $0.starts(with: ["docker", "stack", "deploy"]) || $0.last?.contains("docker stack deploy") == true },
                    exit: 1, stderr: "scripted stop")
            }
            _ = try? await Deploy(cluster: cluster, secrets: Self.secrets).deploy(.steady)
            let updates = runners["n1"]!.commands.map(\.arguments).filter { $0.starts(with: ["docker", "service", "update"]) }
            #expect(updates == (rescheduled ? [["docker", "service", "update", "--force", "--detach", "haha_galera-n1"]] : []))
            #expect(
                !runners["n1"]!.commands.contains {
                    $0.arguments.starts(with: ["docker", "service", "ps"]) && $0.arguments.last != "haha_galera-n1"
                },
                "only the service without a running task is looked at")
        }

        @Test func aStackWhoseServicesAreNotAllRunningIsDeployedAgain() async throws {
            let (cluster, runners) = Self.stackCluster()
            let primary = runners["n1"]!
            let deploy = Deploy(cluster: cluster, secrets: Self.secrets)
            try await deploy.deploy(.steady)
            // Scripts are first-match: this answer goes before the stack's own.
            let (degraded, _) = Fixtures.cluster(cluster.spec) { name, runner in
                guard name == "n1" else { return }
                runner.on(
                    { $0.starts(with: ["docker", "service", "ls"]) },
                    stdout: "haha_galera-n1 1/1\nhaha_homeassistant 0/1\nhaha_mosquitto 1/1\n")
                runner.on(
                    { $0 == ["cat", "/var/lib/haha/deploy/stack.digest"] },
                    stdout: primary.written("/var/lib/haha/deploy/stack.digest") ?? "")
                // Every member already runs its definition: only the stack is deployed again.
                let digests = Renderer(spec: cluster.spec, secrets: Self.secrets, phase: .steady).memberDigests()
                runner.on({ $0.starts(with: ["docker", "service", "inspect", "--format"]) }) { command in
                    .scripted(stdout: (digests[String((command.arguments.last ?? "").dropFirst("haha_galera-".count))] ?? "") + "\n")
                }
            }
            #expect(try await Deploy(cluster: degraded, secrets: Self.secrets).deploy(.steady) == true)
        }

        /// A node that just joined (a replaced machine) has its tasks on the way: the same stack is not deployed
        /// again, which would roll Home Assistant's tasks and move the active instance for nothing.
        @Test func tasksOnTheirWayAreWaitedForNotDeployedAgain() async throws {
            let (cluster, runners) = Self.stackCluster()
            let primary = runners["n1"]!
            try await Deploy(cluster: cluster, secrets: Self.secrets).deploy(.steady)
            for starting in [true, false] {
                let (joining, joiningRunners) = Fixtures.cluster(cluster.spec) { name, runner in
                    guard name == "n1" else { return }
                    runner.on(
                        { $0.starts(with: ["docker", "service", "ls"]) },
                        stdout: "haha_galera-n1 1/1\nhaha_galera-n2 0/1\nhaha_homeassistant 2/3\nhaha_mosquitto 1/1\n")
                    runner.on(
                        { $0 == ["cat", "/var/lib/haha/deploy/stack.digest"] },
                        stdout: primary.written("/var/lib/haha/deploy/stack.digest") ?? "")
                    runner.on({ $0.starts(with: ["docker", "service", "ps"]) && $0.last == "haha_homeassistant" }) { _ in
                        .scripted(
                            stdout:
                                "Running 3 minutes ago\nRunning 3 minutes ago\n\(starting ? "Starting 2 seconds ago" : "Rejected 2 seconds ago")\n"
                        )
                    }
                    runner.on({ $0.starts(with: ["docker", "service", "ps"]) && $0.last == "haha_galera-n2" }) { _ in
                        .scripted(stdout: "\(starting ? "Preparing" : "Failed") 1 second ago\n")
                    }
                    let digests = Renderer(spec: cluster.spec, secrets: Self.secrets, phase: .steady).memberDigests()
                    runner.on({ $0.starts(with: ["docker", "service", "inspect", "--format"]) }) { command in
                        .scripted(stdout: (digests[String((command.arguments.last ?? "").dropFirst("haha_galera-".count))] ?? "") + "\n")
                    }
                }
                let deployed = try await Deploy(cluster: joining, secrets: Self.secrets).deploy(.steady)
                #expect(deployed == !starting)
                #expect(
                    joiningRunners["n1"]!.commands.contains { $0.pretty.contains("docker stack deploy") } == !starting,
                    "starting: \(starting)")
            }
        }

        /// After a power cut of every node no member runs and each `grastate.dat` says -1: one command stops every
        /// member's service, each node reads its own position from its data, and the report starts from the most advanced.
        @Test func afterAPowerCutEveryPositionIsReadFromItsOwnNodesDataAfterOneStopForAll() async throws {
            let seqnos = ["n1": 40, "n2": 42, "n3": 41]
            let (cluster, runners) = Fixtures.cluster { name, runner in
                let path = "/var/lib/docker/volumes/haha_galera-\(name)-data/_data"
                runner.on({ $0.starts(with: ["docker", "volume", "inspect"]) }, stdout: path + "\n")
                runner.on(
                    { $0 == ["cat", "\(path)/grastate.dat"] },
                    stdout: "# GALERA saved state\nversion: 2.1\nuuid:    \(Self.uuid)\nseqno:   -1\nsafe_to_bootstrap: 0\n")
                runner.on(
                    { $0.contains("--wsrep-recover") },
                    stderr: "2026-12-05 01:00:00 0 [Note] WSREP: Recovered position: \(Self.uuid):\(seqnos[name]!)\n")
            }
            let (members, report) = try await Deploy(cluster: cluster, secrets: Self.secrets).forcedBootstrapReport(from: "n2")
            #expect(members.map(\.recovered) == [40, 42, 41])
            #expect(report.from == "n2" && report.seqno == 42 && report.losses.isEmpty)
            #expect(
                Changing.commands(runners, ["docker service scale"])
                    == ["n1: docker service scale -d haha_galera-n1=0 haha_galera-n2=0 haha_galera-n3=0"])
            for (name, runner) in runners {
                let recoveries = runner.commands.filter { $0.arguments.contains("--wsrep-recover") }
                #expect(recoveries.count == 1 && recoveries[0].arguments.contains("haha_galera-\(name)-data:/var/lib/mysql"), "\(name)")
            }
        }

        @Test func aNewGaleraClusterBootstrapsJoinsAndSettlesAndASecondRunChangesNothing() async throws {
            let (cluster, runners) = Self.stackCluster()
            let deploy = Deploy(cluster: cluster, secrets: Self.secrets)
            #expect(try await deploy.convergeGalera() == true)
            let primary = runners["n1"]!
            // Bootstrap from the first member, the others join, then the steady stack: three deploys in that order.
            let phases = primary.commands.filter { $0.arguments.last?.contains("cat > /var/lib/haha/deploy/phase.haha-tmp") == true }
                .compactMap { $0.input.map { String(decoding: $0, as: UTF8.self) } }
            #expect(phases == ["bootstrap n1\n", "joining n1\n", "steady\n"])
            #expect(primary.commands.filter { $0.pretty.contains("docker stack deploy") }.count == 3)
            // A new cluster touches no member's grastate.dat and recovers nothing.
            #expect(Changing.commands(runners, ["grastate.dat.haha-tmp", "--wsrep-recover", "docker service scale"]) == [])
            // Every member was asked whether it is Synced.
            for name in ["n1", "n2", "n3"] {
                #expect(runners[name]!.commands.contains { $0.arguments.starts(with: ["docker", "exec", "3f2a9c1b7d4e"]) }, "\(name)")
            }

            let before = Changing.commands(runners, Changing.deploy)
            #expect(try await deploy.convergeGalera() == false)
            #expect(Changing.commands(runners, Changing.deploy) == before)
        }

        @Test func anInterruptedBootstrapIsFinishedNotRestarted() async throws {
            let (cluster, runners) = Self.stackCluster()
            let deploy = Deploy(cluster: cluster, secrets: Self.secrets)
            // An earlier `up` stopped after bootstrapping n2.
            try await deploy.deploy(.bootstrap(member: "n2"))
            #expect(try await deploy.convergeGalera() == true)
            let phases = runners["n1"]!.commands.filter { $0.arguments.last?.contains("cat > /var/lib/haha/deploy/phase.haha-tmp") == true }
                .compactMap { $0.input.map { String(decoding: $0, as: UTF8.self) } }
            #expect(phases == ["bootstrap n2\n", "joining n2\n", "steady\n"])
        }

        /// Swarm refuses a mode change in place: a Home Assistant or broker service deployed in the other mode (before
        /// they ran on every data node) is removed before the deploy, which creates it again (the fixture routes by the mesh).
        @Test func servicesWhoseModeChangedAreRemovedBeforeTheDeploy() async throws {
            let (cluster, runners) = Self.stackCluster()
            try await Deploy(cluster: cluster, secrets: Self.secrets).deploy(.steady)
            let scripts = runners["n1"]!.commands.compactMap(\.arguments.last).filter { $0.contains("{{if .Spec.Mode.Global}}") }
            #expect(scripts.count == 2)
            #expect(scripts.contains { $0.contains("haha_homeassistant") && $0.contains("!= replicated ];") })
            #expect(scripts.contains { $0.contains("haha_mosquitto") && $0.contains("!= replicated ];") })
        }

        /// `haha up` ends when every service runs all its tasks: a node that just joined gets its proxy task a little
        /// after the steps that wait for the database and Home Assistant (seen on the lab after `haha node add`).
        @Test func upWaitsForAGlobalTaskOnANewNode() async throws {
            let listings = Mutex(["haha_proxy 3/4\n", "haha_proxy 3/4\n", "haha_proxy 4/4\n"])
            let (cluster, runners) = Fixtures.cluster(Fixtures.spec()) { name, runner in
                guard name == "n1" else { return }
                runner.on({ $0.starts(with: ["docker", "service", "ls"]) }) { _ in
                    .scripted(stdout: "haha_homeassistant 3/3\n" + listings.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] })
                }
            }
            try await Deploy(cluster: cluster, secrets: Self.secrets).waitServicesRunning(timeout: 30)
            #expect(listings.withLock { $0 } == ["haha_proxy 4/4\n"])
            #expect(runners["n1"]!.commands.filter { $0.arguments.starts(with: ["docker", "service", "ls"]) }.count == 3)
        }

        /// One that never gets its task: the wait ends with the service that is short and where to look.
        @Test func aServiceThatStaysShortIsNamedWhenTheWaitEnds() async throws {
            let (cluster, _) = Fixtures.cluster(Fixtures.spec()) { name, runner in
                guard name == "n1" else { return }
                runner.on({ $0.starts(with: ["docker", "service", "ls"]) }, stdout: "haha_homeassistant 3/3\nhaha_proxy 3/4\n")
            }
            let error = await #expect(throws: HahaError.self) {
                try await Deploy(cluster: cluster, secrets: Self.secrets).waitServicesRunning(timeout: 0)
            }
            #expect(error?.message.contains("haha_proxy 3/4") == true)
            #expect(error?.next?.contains("docker service ps --no-trunc") == true)
        }
    }
}

/// The suites whose steps render the whole stack. Rendering hashes the Mosquitto passwords (PBKDF2) and takes about
/// half a second in a debug build, so these tests run one at a time: run together they would hold every thread of
/// the test process's pool for seconds and make timing tests elsewhere (LocalRunner's timeout, FileLock) fail.
@Suite(.serialized) enum RenderingSteps {}

/// The upgrade's gate reads `docker service ps`: every task running the new image (a digest Swarm added is ignored).
@Suite struct UpgradeGateTests {
    @Test func everyTaskMustRunTheNewImage() {
        let image = "haha-lab/homeassistant:2026.2.3-second"
        #expect(Upgrade.allRunning("\(image)|Running 5 seconds ago\n\(image)@sha256:ab|Running 1 minute ago\n", image: image))
        #expect(
            !Upgrade.allRunning("\(image)|Running 5 seconds ago\nhaha-lab/homeassistant:2026.2.3|Running 2 minutes ago\n", image: image))
        #expect(!Upgrade.allRunning("\(image)|Starting 2 seconds ago\n", image: image))
        #expect(!Upgrade.allRunning("", image: image))
        let pinned = "\(image)@sha256:ab"
        #expect(Upgrade.allRunning("\(pinned)|Running 5 seconds ago\n", image: pinned))
        #expect(!Upgrade.allRunning("\(image)@sha256:cd|Running 5 seconds ago\n", image: pinned))
    }

    /// Each data node is asked for the new image's registry digests; the same one everywhere pins it, different ones
    /// stop the upgrade before anything changed.
    @Test func theNewImageIsPinnedByTheDigestEveryDataNodeHolds() async throws {
        let image = "ghcr.io/home-assistant/home-assistant:2026.12.0"
        let change = UpgradePlan.Change(image: "homeAssistant", from: "ghcr.io/home-assistant/home-assistant:2026.11.0", to: image)
        func cluster(_ digests: [String: String]) -> Cluster {
            Fixtures.cluster(Fixtures.spec(arbiters: ["n3"])) { name, runner in
                runner.on(
                    { $0.starts(with: ["docker", "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}"]) },
                    stdout: digests[name] ?? "")
            }.0
        }
        let same = ["n1": "ghcr.io/home-assistant/home-assistant@sha256:aa\n", "n2": "ghcr.io/home-assistant/home-assistant@sha256:aa\n"]
        let pinned = try await Upgrade(cluster: cluster(same), secrets: SecretValues([:])).pinned([change]) { _ in }
        #expect(pinned.map(\.to) == ["\(image)@sha256:aa"])
        var notes: [String] = []
        let local = try await Upgrade(cluster: cluster([:]), secrets: SecretValues([:])).pinned([change]) { notes.append($0) }
        #expect(local == [change] && notes.count == 1)
        let different = [
            "n1": "ghcr.io/home-assistant/home-assistant@sha256:aa\n", "n2": "ghcr.io/home-assistant/home-assistant@sha256:bb\n",
        ]
        await #expect(throws: HahaError.self) {
            _ = try await Upgrade(cluster: cluster(different), secrets: SecretValues([:])).pinned([change]) { _ in }
        }
    }

    @Test func anUpdateSwarmRolledBackOrPausedEndsTheWait() {
        #expect(
            SwarmUpdate.abandoned("rollback_completed|rollback completed: update failed, task 1 exited (1)\n")
                == "rollback_completed: rollback completed: update failed, task 1 exited (1)")
        #expect(SwarmUpdate.abandoned("paused|update paused due to failure") == "paused: update paused due to failure")
        #expect(SwarmUpdate.abandoned("rollback_started|") == "rollback_started")
        #expect(SwarmUpdate.abandoned("updating|update in progress") == nil)
        #expect(SwarmUpdate.abandoned("completed|update completed") == nil)
        #expect(SwarmUpdate.abandoned("\n") == nil)
    }
}
