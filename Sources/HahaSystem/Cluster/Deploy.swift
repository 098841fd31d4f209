import Foundation
import HahaCore

/// Images on every node, the stack deployed, and Galera bootstrapped or recovered without losing a commit.
public struct Deploy: Sendable {
    let cluster: Cluster
    let secrets: SecretValues
    public init(cluster: Cluster, secrets: SecretValues) {
        self.cluster = cluster
        self.secrets = secrets
    }

    var spec: ClusterSpec { cluster.spec }
    static let directory = "/var/lib/haha/deploy"
    var stack: String { spec.stackName }
    func service(_ name: String) -> String { "\(stack)_\(name)" }
    func galeraVolume(_ node: String) -> String { "\(stack)_\(Renderer.Names.galeraVolume(node))" }

    // MARK: Images

    /// Every image the stack runs, present on every node that may run it, so a failover never waits for a download.
    public func pullImages() async throws -> Bool {
        let dataImages = [spec.images.mariadb, spec.images.homeAssistant, spec.images.mosquitto]
        let everywhere = spec.routing == .proxy ? [spec.images.haproxy] : []
        let pulled = try await cluster.onAll { node, runner in
            var changed = false
            for image in (node.role == .data ? dataImages : []) + everywhere {
                if try await runner.run(Command(["docker", "image", "inspect", "--format", "{{.Id}}", image], timeout: 30)).succeeded {
                    continue
                }
                try await runner.check(
                    ["docker", "pull", image], timeout: 1800,
                    hint: "the node cannot pull \(image); on the lab run `haha lab images` to load the lab's images")
                changed = true
            }
            return changed
        }
        return pulled.values.contains(true)
    }

    // MARK: Stack

    /// Renders the stack for a phase, copies it to the primary node and deploys it. Returns false when the
    /// same stack was already deployed and every service runs (nothing to do). `expected`: the members that must take
    /// part (all data nodes, or the reachable ones in a forced recovery).
    @discardableResult
    public func deploy(_ phase: Renderer.DeployPhase, expected: [ClusterSpec.Node]? = nil) async throws -> Bool {
        let files = try Renderer(spec: spec, secrets: secrets, phase: phase).render()
        let digest = SHA512.prefixHex(files.map { $0.path + "\n" + $0.contents }.joined(separator: "\n").utf8, bytes: 16)
        let primary = cluster.runner(try await cluster.coordinator())
        let deployed = try await primary.run(Command(["cat", "\(Self.directory)/stack.digest"], timeout: 30)).output
        // One listing serves both questions: is everything running, and is a task stuck pending.
        let services = try? await Self.services(of: stack, on: primary)
        if deployed.trimmingCharacters(in: .whitespacesAndNewlines) == digest, let services, Self.converged(services) {
            return false
        }
        try await reschedulePending(services ?? [], on: primary)
        if deployed.trimmingCharacters(in: .whitespacesAndNewlines) == digest, let services,
            try await tasksStarting(services, on: primary)
        {
            // The same stack deployed again is not a no-op: Swarm then rolls Home Assistant's tasks (a failover for
            // nothing). Tasks on their way (a node that just joined) are waited for by the caller instead.
            return false
        }
        // Changed Galera members restart one at a time: the stack deployed at once would restart every member
        // together, and with no Primary Component left none of them could start again.
        var changed: [String] = []
        if phase == .steady {
            let wanted = Renderer(spec: spec, secrets: secrets, phase: .steady).memberDigests()
            let members = expected ?? spec.dataNodes
            changed = try await changedMembers(wanted, among: members, on: primary)
            for (index, member) in changed.enumerated().dropLast() {
                cluster.log("restarting Galera member \(member) with its new definition (one member at a time)")
                let later = Set(changed[(index + 1)...].map { Renderer.Names.galera($0) })
                try await apply(
                    try Renderer(spec: spec, secrets: secrets, phase: .steady, omitting: later).render(), prune: false, on: primary)
                try await waitMember(member, running: wanted[member] ?? "", size: members.count, manager: primary)
            }
            if let last = changed.last {
                cluster.log("restarting Galera member \(last) with its new definition (the last one, with the rest of the stack)")
                try await apply(files, prune: true, on: primary)
                try await waitMember(last, running: wanted[last] ?? "", size: members.count, manager: primary)
            }
        }
        if changed.isEmpty { try await apply(files, prune: true, on: primary) }
        try await cluster.write(digest + "\n", to: "\(Self.directory)/stack.digest", on: primary)
        try await cluster.write(phase.name + "\n", to: "\(Self.directory)/phase", on: primary)
        return true
    }

    /// Writes the rendered files to the coordinator and deploys the stack. Without `prune`, services missing from the
    /// file keep running as they are.
    func apply(_ files: [RenderedFile], prune: Bool, on primary: any CommandRunner) async throws {
        try await primary.shell(
            "rm -rf \(Self.directory).new && mkdir -p \(Self.directory).new && chmod 700 \(Self.directory).new", timeout: 30)
        for file in files {
            try await cluster.write(
                file.contents, to: "\(Self.directory).new/\(file.path)", mode: file.isSecret ? "0600" : "0644", on: primary)
        }
        try await primary.shell("rm -rf \(Self.directory) && mv \(Self.directory).new \(Self.directory)", timeout: 30)
        // Swarm refuses to change a service's mode in place (a stack deployed before Home Assistant, or the broker, ran
        // on every node): such a service is removed first and the deploy creates it again.
        let modes = [
            (Renderer.Names.homeAssistant, Renderer.homeAssistantMode(spec)), (Renderer.Names.mosquitto, Renderer.brokerMode(spec)),
        ]
        for (name, wanted) in modes {
            let service = shellQuote("\(stack)_\(name)")
            try await primary.shell(
                """
                mode=$(docker service inspect --format '{{if .Spec.Mode.Global}}global{{else}}replicated{{end}}' \(service) 2>/dev/null) || exit 0
                if [ "$mode" != \(wanted) ]; then docker service rm \(service) >/dev/null; fi
                """, timeout: 60)
        }
        // Swarm keeps the secrets in its encrypted raft log once deployed: the plaintext copies go at once,
        // also when the deploy fails.
        try await primary.shell(
            "cd \(Self.directory) && { docker stack deploy\(prune ? " --prune" : "") --resolve-image never -c stack.yml \(shellQuote(stack)); status=$?; rm -rf secrets; exit $status; }",
            timeout: 300)
    }

    /// The data nodes whose Galera member runs a definition other than `wanted` (digests by node). A member whose
    /// service does not exist yet is not among them: Swarm creates it.
    func changedMembers(_ wanted: [String: String], among members: [ClusterSpec.Node], on primary: any CommandRunner) async throws
        -> [String]
    {
        var changed: [String] = []
        for node in members {
            let name = service(Renderer.Names.galera(node.name))
            let answer = try await primary.decide(
                [
                    "docker", "service", "inspect", "--format",
                    "{{index .Spec.TaskTemplate.ContainerSpec.Labels \"\(Renderer.Names.specLabel)\"}}", name,
                ], question: "the service \(name) exists",
                isNo: { $0.exitCode == 1 && $0.said.lowercased().contains("no such service") },
                check: "run `docker service ls` on the coordinator")
            guard let answer else { continue }
            if answer.output.trimmingCharacters(in: .whitespacesAndNewlines) != wanted[node.name] { changed.append(node.name) }
        }
        return changed
    }

    /// Waits until `member`'s container runs the definition with digest `running`, is healthy and Synced with every
    /// other member. Ends at once when Swarm gave the member's update up (`manager` reads its update state): the
    /// member then runs its old definition, and waiting for the new one would last the whole timeout.
    func waitMember(_ member: String, running digest: String, size: Int, manager: any CommandRunner) async throws {
        guard let node = spec.nodes.first(where: { $0.name == member }) else { return }
        let name = service(Renderer.Names.galera(member))
        var abandoned: String?
        try await waitUntil(
            "\(member)'s database to restart with its new definition and be Synced", timeout: 900, interval: 2,
            next: "read its log (`docker service logs \(name)`) and run `haha status`; then run `haha up` again"
        ) { poll in
            if let stop = SwarmUpdate.abandoned(try await poll.on(manager).output(SwarmUpdate.inspect(name), timeout: 30)) {
                abandoned = stop
                return true
            }
            let runner = poll.on(cluster.runner(node))
            guard let id = try await container(name, on: runner, healthy: true, label: "\(Renderer.Names.specLabel)=\(digest)")
            else { return false }
            return Self.synced(try await wsrepStatus(id, on: runner), size: size)
        }
        if let abandoned {
            throw HahaError(
                .failed, "Swarm gave up restarting \(member)'s database with its new definition (\(abandoned)); it runs the old one",
                next: "read its log (`docker service logs \(name)`), mend the cause, then run `haha up` again")
        }
    }

    /// Swarm leaves a task pending when its node was down as it was scheduled, even once the node is back (seen on the
    /// lab: a Galera member pending for minutes after its node returned), and deploying the same stack again changes
    /// nothing. A service of the stack with no running task and a pending one is updated with `--force`, which schedules
    /// it again; one whose node is really gone just stays pending.
    func reschedulePending(_ services: [ClusterStatus.Report.Service], on manager: any CommandRunner) async throws {
        for service in services where service.replicas.hasPrefix("0/") && service.replicas != "0/0" {
            let tasks = try await manager.run(
                Command(
                    ["docker", "service", "ps", "--filter", "desired-state=running", "--format", "{{.CurrentState}}", service.name],
                    timeout: 30))
            guard tasks.succeeded, tasks.output.split(separator: "\n").contains(where: { $0.hasPrefix("Pending") }) else { continue }
            cluster.log("\(service.name) has a task pending since its node was away: scheduling it again")
            try await manager.check(["docker", "service", "update", "--force", "--detach", service.name], timeout: 120)
        }
    }

    /// Whether Home Assistant's `.storage/auth` on the shared volume (read through a node's mount, not through Home
    /// Assistant) holds an owner. A missing file means no owner; a file that cannot be read is a doubt, never a "no".
    func ownerOnVolume() async throws -> Bool {
        let node = try await cluster.coordinator()
        let file = "\(spec.storage.mountPath)/homeassistant/.storage/auth"
        let script = "[ -e \(shellQuote(file)) ] || exit 1; grep -q '\"is_owner\": *true' \(shellQuote(file))"
        return try await cluster.runner(node).decide(
            ["sh", "-c", script], question: "whether \(file) on \(node.name) holds Home Assistant's owner",
            isNo: { $0.exitCode == 1 }, check: "run `ls -l \(file)` on \(node.name)") != nil
    }

    /// Sets `.storage/auth_provider.homeassistant` aside (renamed, never deleted) when it holds only the owner's login
    /// and `.storage/auth` neither has an owner nor links that login: what an onboarding cut off in its middle leaves
    /// (`InterruptedOnboarding`). Returns the new path; nil when the files show anything else, which stays as it is; a
    /// file that cannot be read is a doubt (thrown).
    func setOrphanLoginAside() async throws -> String? {
        let node = try await cluster.coordinator()
        let runner = cluster.runner(node)
        let storage = "\(spec.storage.mountPath)/homeassistant/.storage"
        let provider = "\(storage)/auth_provider.homeassistant"
        let authFile = "\(storage)/auth"
        // A missing file is an answer; any other failure is a doubt, and a doubt never moves a file.
        func read(_ file: String) async throws -> CommandResult? {
            try await runner.decide(
                ["cat", file], question: "what \(file) on \(node.name) holds",
                isNo: { $0.exitCode == 1 && $0.said.contains("no such file") }, check: "run `ls -l \(storage)` on \(node.name)")
        }
        guard let providerRead = try await read(provider) else { return nil }
        let authRead = try await read(authFile)
        let verdict = InterruptedOnboarding.judge(
            provider: providerRead.stdout, auth: authRead?.stdout, username: HomeAssistantSetup.ownerUsername)
        guard verdict == .orphanLogin else {
            if case .leaveAlone(let why) = verdict { cluster.log("Home Assistant's logins left as they are: \(why)") }
            return nil
        }
        let aside = "\(provider).haha-interrupted-\(Int(Date().timeIntervalSince1970))"
        try await runner.check(
            ["mv", "-n", provider, aside], timeout: 30,
            hint: "haha moves a login an interrupted onboarding left behind out of Home Assistant's way")
        cluster.log(
            "an onboarding cut off in its middle left the login \(HomeAssistantSetup.ownerUsername) without a user: \(provider) set aside to \(aside) on \(node.name); onboarding runs again"
        )
        return aside
    }

    /// Restarts every Home Assistant task and returns when Swarm has replaced them all (each fence stops its instance,
    /// and the one that takes the lease again reads /config afresh).
    func restartHomeAssistant() async throws {
        let manager = cluster.runner(try await cluster.coordinator())
        try await manager.check(["docker", "service", "update", "--force", service(Renderer.Names.homeAssistant)], timeout: 900)
    }

    /// Task states on their way to running (`docker service ps` CurrentState's first word).
    static let startingStates: Set<String> = ["New", "Pending", "Assigned", "Accepted", "Preparing", "Ready", "Starting"]

    /// Whether every service short of tasks has one on its way (a node that just joined, an image being prepared):
    /// then there is nothing to deploy, only to wait. A service with none on its way (stopped, scaled to 0, rejected)
    /// needs the stack deployed again.
    func tasksStarting(_ services: [ClusterStatus.Report.Service], on manager: any CommandRunner) async throws -> Bool {
        let short = services.filter { !Self.converged([$0]) }
        guard !short.isEmpty else { return false }
        for service in short {
            let tasks = try await manager.run(
                Command(
                    ["docker", "service", "ps", "--filter", "desired-state=running", "--format", "{{.CurrentState}}", service.name],
                    timeout: 30))
            let states = tasks.output.split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first.map(String.init) }
            guard tasks.succeeded, states.contains(where: Self.startingStates.contains) else { return false }
        }
        cluster.log("tasks of \(short.map(\.name).joined(separator: ", ")) are starting: the deployed stack is already the right one")
        return true
    }

    /// Waits until every service of the stack runs as many tasks as it wants. The steps before wait for what they
    /// change (members synced, Home Assistant answering), not for a global service's task on a node that just joined
    /// (the proxy of a node `haha node add` brought): without this wait, `haha up` could return while `haha status`
    /// still says degraded.
    public func waitServicesRunning(timeout: Double = 300) async throws {
        try await waitUntil(
            "every service of the stack \(stack) running all its tasks", timeout: timeout, interval: 2,
            next:
                "run `haha status` to see which service is short, and `docker service ps --no-trunc SERVICE` on a manager for why its task does not run; then run `haha up` again"
        ) { poll in
            let manager = poll.on(cluster.runner(try await cluster.coordinator()))
            return Self.converged(try await Self.services(of: stack, on: manager))
        }
    }

    /// The stack's services with their replicas (`running/wanted`), as a manager lists them; `haha status` shows the same.
    static func services(of stack: String, on manager: any CommandRunner) async throws -> [ClusterStatus.Report.Service] {
        ClusterStatus.parseServices(
            try await manager.output(
                [
                    "docker", "service", "ls", "--filter", "label=com.docker.stack.namespace=\(stack)", "--format",
                    "{{.Name}} {{.Replicas}}",
                ],
                timeout: 30))
    }

    /// Every service of the stack has as many running tasks as it wants.
    static func converged(_ services: [ClusterStatus.Report.Service]) -> Bool {
        !services.isEmpty
            && services.allSatisfy { service in
                let parts = service.replicas.split(separator: "/")
                return parts.count == 2 && parts[0] == parts[1]
            }
    }

    // MARK: Galera

    /// The container of a service's task on a node, if one is running there.
    func container(_ service: String, on runner: any CommandRunner, healthy: Bool = false, label: String? = nil) async throws
        -> String?
    {
        var args = ["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name=\(service)"]
        if let label { args += ["--filter", "label=\(label)"] }
        if healthy { args += ["--filter", "health=healthy"] }
        let id = try await runner.output(args, timeout: 30).split(separator: "\n").first.map(String.init)
        return id?.isEmpty == false ? id : nil
    }

    /// `SHOW STATUS` of a running member, through its own container (the root password never leaves it).
    /// Empty when the server does not answer (starting, or failing to join).
    func wsrepStatus(_ container: String, on runner: any CommandRunner) async throws -> [String: String] {
        let sql =
            "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_local_state','wsrep_cluster_size','wsrep_last_committed','wsrep_cluster_state_uuid')"
        let result = try await runner.run(Command(["docker", "exec", container, "sh", "-c", Self.asRoot(sql)], timeout: 30))
        var values: [String: String] = [:]
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }

    /// A shell script that runs `sql` as MariaDB's root inside a member's container. The password goes from the
    /// secret file to the client through an option file on a pipe: never an argument that `ps` shows.
    static func asRoot(_ sql: String) -> String {
        asRoot("mariadb", "-N -B -e \(shellQuote(sql))")
    }

    /// A script that runs `program` (`mariadb`, `mariadb-dump`) with `arguments` as MariaDB's root inside a member's
    /// container, standard input and output passed through; the password reaches it on a pipe, never as an argument.
    static func asRoot(_ program: String, _ arguments: String) -> String {
        """
        \(program) --defaults-extra-file=/dev/fd/3 -uroot \(arguments) 3<<HAHA_SQL
        [client]
        password=$(cat /run/secrets/\(SecretCatalog.mariadbRoot))
        HAHA_SQL
        """
    }

    /// Where a member's data volume lives on its node, nil when Docker says it does not exist; a doubt otherwise.
    func volumePath(_ node: String, on runner: any CommandRunner) async throws -> String? {
        let volume = galeraVolume(node)
        let answer = try await runner.decide(
            ["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", volume], question: "the database volume \(volume) exists",
            // Docker 20.10 says "volume NAME not found", later engines "get NAME: no such volume".
            isNo: {
                $0.exitCode == 1 && ($0.said.contains("no such volume") || $0.said.contains("volume \(volume.lowercased()) not found"))
            },
            valid: { $0.output.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("/") },
            check: "run `docker volume ls` on \(node); the Docker engine must answer")
        return answer?.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What each member's node says: data present, grastate, running status. A node ssh cannot reach is
    /// `reachable: false` (the planner never bootstraps around it); any other probe without an answer stops.
    public func members() async throws -> [GaleraMember] {
        var members: [GaleraMember] = []
        for (order, node) in spec.dataNodes.enumerated() {
            let runner = cluster.runner(node)
            var member = GaleraMember(node: node.name, order: order)
            let path: String?
            do {
                path = try await volumePath(node.name, on: runner)
            } catch let error as HahaError where error.code == .doubt && error.message.contains("(exit 255)") {
                member.reachable = false
                members.append(member)
                continue
            }
            if let path {
                let grastate = try await runner.decide(
                    ["cat", "\(path)/grastate.dat"], question: "\(node.name)'s grastate.dat exists",
                    isNo: { $0.exitCode == 1 && $0.said.contains("no such file") },
                    check: "run `ls -l \(path)` on \(node.name)")
                member.hasData =
                    try await runner.decide(
                        ["test", "-d", "\(path)/mysql"], question: "\(node.name) holds a database",
                        // `test` says nothing; an exit 1 with words is sudo or the shell failing, not an answer.
                        isNo: { $0.exitCode == 1 && $0.errorOutput.isEmpty }, check: "run `ls -l \(path)` on \(node.name)") != nil
                if let grastate { member.grastate = GraState.parse(grastate.output) }
            }
            if let id = try await container(service(Renderer.Names.galera(node.name)), on: runner) {
                // A server that does not answer is not in a Primary Component; it is then stopped and its position
                // read from its data before anything is decided, so a wrong "not running" loses nothing.
                var status: [String: String] = [:]
                for attempt in 0..<3 {
                    status = try await wsrepStatus(id, on: runner)
                    if !status.isEmpty { break }
                    if attempt < 2 { try await Task.sleep(for: .seconds(1)) }
                }
                member.running = !status.isEmpty
                member.clusterStatus = status["wsrep_cluster_status"]
                member.localState = status["wsrep_local_state"].flatMap { Int($0) }
                member.clusterSize = status["wsrep_cluster_size"].flatMap { Int($0) }
                member.recovered = status["wsrep_last_committed"].flatMap { Int64($0) }
                member.recoveredUUID = status["wsrep_cluster_state_uuid"]
            }
            members.append(member)
        }
        return members
    }

    /// `mariadbd --wsrep-recover` on a stopped member's data: the history and last committed seqno it holds.
    func recoverPosition(_ node: ClusterSpec.Node) async throws -> (uuid: String, seqno: Int64)? {
        let runner = cluster.runner(node)
        let result = try await runner.run(
            Command(
                [
                    "docker", "run", "--rm", "--network", "none", "-v", "\(galeraVolume(node.name)):/var/lib/mysql",
                    "--entrypoint", "mariadbd", spec.images.mariadb,
                    "--user=mysql", "--wsrep-on=ON", "--wsrep-provider=/usr/lib/galera/libgalera_smm.so",
                    "--binlog-format=ROW", "--default-storage-engine=InnoDB", "--innodb-autoinc-lock-mode=2",
                    "--wsrep-cluster-address=gcomm://", "--wsrep-recover",
                ], timeout: 300))
        let log = result.output + result.errorOutput
        if let position = GaleraRecovery.parseRecoveredPosition(log) { return position }
        cluster.log(
            "\(node.name): --wsrep-recover gave no position (exit \(result.exitCode)):\n"
                + log.split(separator: "\n").suffix(6).joined(separator: "\n"))
        return nil
    }

    /// Stops the members that are not in a Primary Component and reads each one's position from its data, every
    /// node at once (after a power cut, `--wsrep-recover` on each node is most of the wait).
    func recoverPositions(_ nodes: [String], into members: inout [GaleraMember]) async throws {
        let targets = spec.nodes.filter { nodes.contains($0.name) }
        guard !targets.isEmpty else { return }
        for node in targets { cluster.log("finding \(node.name)'s last committed transaction (mariadbd --wsrep-recover)") }
        try await stopMembers(targets.map(\.name))
        let positions = try await cluster.onAll(targets) { node, _ in try await self.recoverPosition(node) }
        for node in targets {
            guard let index = members.firstIndex(where: { $0.node == node.name }) else { continue }
            let position = positions[node.name] ?? nil
            members[index].recovered = position?.seqno
            members[index].recoveredUUID = position?.uuid
            members[index].running = false
        }
    }

    /// Scales the members' services to 0 with one command and waits until no container of theirs runs.
    func stopMembers(_ names: [String]) async throws {
        let nodes = spec.nodes.filter { names.contains($0.name) }
        guard !nodes.isEmpty else { return }
        // A service may not exist (a stack removed by `haha down`); what counts is that no container runs.
        _ = try await cluster.runner(try await cluster.coordinator()).run(
            Command(["docker", "service", "scale", "-d"] + nodes.map { "\(service(Renderer.Names.galera($0.name)))=0" }, timeout: 60))
        _ = try await cluster.onAll(nodes) { node, runner in
            let member = service(Renderer.Names.galera(node.name))
            try await waitUntil(
                "\(node.name)'s database to stop", timeout: 180,
                next:
                    "look at `docker ps` on \(node.name) and `docker service ps \(member)`; stop the container by hand if it hangs, then run the command again"
            ) { poll in
                try await container(member, on: poll.on(runner)) == nil
            }
        }
    }

    /// Brings Galera to a Primary Component of every data node, bootstrapping only from the most advanced member.
    public func convergeGalera() async throws -> Bool {
        var members = try await members()
        var plan = GaleraRecovery.plan(members)
        if case .transferring(let nodes) = plan {
            cluster.log(
                "a state transfer is in progress in the Primary Component on \(nodes.joined(separator: ", ")): waiting for it to finish")
            try await waitUntil(
                "the state transfer on \(nodes.joined(separator: ", ")) to finish (a member Synced)", timeout: 900, interval: 3,
                next:
                    "look at the members' logs (`docker service logs \(service("galera-" + (nodes.first ?? "")))`), then run `haha up` again"
            ) { _ in
                members = try await self.members()
                plan = GaleraRecovery.plan(members)
                if case .transferring = plan { return false }
                return true
            }
        }
        if case .needRecovery(let nodes) = plan {
            try await recoverPositions(nodes, into: &members)
            plan = GaleraRecovery.plan(members)
        }
        switch plan {
        case .healthy(let primaryMembers):
            // An `up` stopped between bootstrap and steady left the lone bootstrapper carrying the bootstrap
            // flag: finish that sequence (the others join first) instead of restarting the only member.
            if let phase = try await deployedPhase(), phase != "steady" {
                let recorded = phase.split(separator: " ").dropFirst().first.map(String.init)
                let from = recorded.flatMap { name in primaryMembers.contains(name) ? name : nil } ?? primaryMembers[0]
                cluster.log("resuming an interrupted Galera bootstrap from \(from) (deployed phase: \(phase))")
                try await finishBootstrap(from: from)
                return true
            }
            return try await deploy(.steady)
        case .blocked(let reason):
            throw HahaError(
                .invalidState, "Galera cannot be started safely: \(reason)",
                next: "run `haha status`; `haha recover --from NODE` shows what starting from NODE would keep and lose")
        case .transferring(let nodes):
            throw HahaError(
                .invalidState, "a state transfer in the Primary Component on \(nodes.joined(separator: ", ")) did not finish",
                next:
                    "look at the members' logs (`docker service logs \(service("galera-" + (nodes.first ?? "")))`), then run `haha up` again"
            )
        case .needRecovery(let nodes):
            throw HahaError(
                .invalidState, "the last committed transaction of \(nodes.joined(separator: ", ")) is still unknown after --wsrep-recover",
                next: "look at the member's log (`docker service logs \(service("galera-" + (nodes.first ?? "")))`)")
        case .bootstrapNew(let from):
            cluster.log("new Galera cluster: bootstrapping from \(from)")
            try await bootstrap(from: from)
            return true
        case .recover(let from, let seqno, let markSafe):
            cluster.log("Galera recovery: \(from) has the most recent commit (seqno \(seqno)); bootstrapping from it")
            if let member = members.first(where: { $0.node == from }), markSafe || member.grastate?.seqno == -1 {
                try await prepareBootstrap(from, seqno: seqno)
            }
            try await bootstrap(from: from)
            return true
        }
    }

    /// Rewrites the bootstrapper's `grastate.dat` with `GaleraRecovery.grastateForBootstrap` (safe to bootstrap,
    /// and the recovered position when it says -1): read, changed in Swift, written to a temporary file with
    /// the original's owner and mode, and renamed over it.
    func prepareBootstrap(_ name: String, seqno: Int64) async throws {
        guard let node = spec.nodes.first(where: { $0.name == name }) else { return }
        let runner = cluster.runner(node)
        guard let path = try await volumePath(name, on: runner) else {
            throw HahaError(
                .invalidState, "\(name)'s database volume \(galeraVolume(name)) disappeared", next: "run `docker volume ls` on \(name)")
        }
        let file = "\(path)/grastate.dat"
        let current = try await runner.check(["cat", file], timeout: 30).output
        let updated = GaleraRecovery.grastateForBootstrap(current, seqno: seqno)
        guard updated != current else { return }
        try await runner.shell(
            """
            cat > \(shellQuote(file)).haha-tmp && chown --reference=\(shellQuote(file)) \(shellQuote(file)).haha-tmp \
              && chmod --reference=\(shellQuote(file)) \(shellQuote(file)).haha-tmp && sync \(shellQuote(file)).haha-tmp \
              && mv \(shellQuote(file)).haha-tmp \(shellQuote(file))
            """, input: Data(updated.utf8), timeout: 30)
    }

    /// The phase of the stack last deployed (`steady`, `bootstrap`, `joining`), nil before the first deploy.
    func deployedPhase() async throws -> String? {
        let coordinator = try await cluster.coordinator()
        let answer = try await cluster.runner(coordinator).decide(
            ["cat", "\(Self.directory)/phase"], question: "a Galera bootstrap was left unfinished",
            isNo: { $0.exitCode == 1 && $0.said.contains("no such file") },
            check: "run `ls -l \(Self.directory)` on \(coordinator.name)")
        return answer.map { $0.output.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Bootstrap → the others join → the bootstrap flag removed, each phase waited for. `expected` are the
    /// members that must be Synced at the end (all data nodes, or the reachable ones in a forced recovery).
    func bootstrap(from member: String, expected: [ClusterSpec.Node]? = nil) async throws {
        guard let node = spec.nodes.first(where: { $0.name == member }) else { return }
        let runner = cluster.runner(node)
        let memberService = service(Renderer.Names.galera(member))
        try await deploy(.bootstrap(member: member))
        try await waitUntil(
            "\(member) to bootstrap a Primary Component", timeout: 600, interval: 2,
            next: "read the database's log (`docker service logs \(memberService)`) and run `haha status`; then run the command again"
        ) { poll in
            let runner = poll.on(runner)
            guard let id = try await container(memberService, on: runner, healthy: true) else { return false }
            return try await wsrepStatus(id, on: runner)["wsrep_cluster_status"] == "Primary"
        }
        try await finishBootstrap(from: member, expected: expected)
    }

    /// The others join the bootstrapper; when every member is Synced the flag is removed.
    func finishBootstrap(from member: String, expected: [ClusterSpec.Node]? = nil) async throws {
        try await deploy(.joining(member: member))
        // Joiners count in wsrep_cluster_size as soon as they connect, long before their state transfer ends:
        // wait until every member is Synced, or removing the flag would restart the donor mid-transfer.
        try await waitSynced(expected)
        try await deploy(.steady, expected: expected)
        try await waitSynced(expected)
    }

    /// A member's `SHOW STATUS` says Synced, in a cluster of at least `size` members.
    static func synced(_ status: [String: String], size: Int) -> Bool {
        status["wsrep_local_state"] == "4" && (status["wsrep_cluster_size"].flatMap { Int($0) } ?? 0) >= size
    }

    /// Every expected member (default: every data node) runs, is healthy and is Synced in a cluster that size.
    public func waitSynced(_ expected: [ClusterSpec.Node]? = nil) async throws {
        let nodes = expected ?? spec.dataNodes
        let size = String(nodes.count)
        try await waitUntil(
            "every Galera member synced in a cluster of \(size)", timeout: 900, interval: 2,
            next:
                "run `haha status` to see which member is not Synced and read its log (`docker service logs`); a long state transfer may need another `haha up`"
        ) { poll in
            for node in nodes {
                let runner = poll.on(cluster.runner(node))
                guard let id = try await container(service(Renderer.Names.galera(node.name)), on: runner, healthy: true) else {
                    return false
                }
                guard Self.synced(try await wsrepStatus(id, on: runner), size: nodes.count) else { return false }
            }
            return true
        }
    }

    // MARK: Forced recovery (`haha recover --from NODE`)

    /// Reads what every member holds for a forced bootstrap from `node`: the members that are not serving are
    /// stopped and their positions read from their data. Refuses while a Primary Component runs.
    public func forcedBootstrapReport(from node: String) async throws -> (members: [GaleraMember], report: ForcedBootstrap) {
        guard spec.dataNodes.contains(where: { $0.name == node }) else {
            throw HahaError.invalidArgument(
                "\(node) is not a data node of this cluster",
                next: "choose one of \(spec.dataNodes.map(\.name).joined(separator: ", "))")
        }
        var members = try await members()
        switch GaleraRecovery.plan(members) {
        case .healthy(let primary), .transferring(let primary):
            throw HahaError(
                .invalidState,
                "a Primary Component is running on \(primary.joined(separator: ", ")): there is nothing to recover, and a second one would split the database",
                next: "run `haha up`: the other members join the running one")
        default: break
        }
        let unknown = members.filter { $0.reachable && $0.hasData && ($0.effectiveSeqno == nil || $0.running) }.map(\.node)
        try await recoverPositions(unknown, into: &members)
        guard let chosen = members.first(where: { $0.node == node }), chosen.reachable, chosen.hasData, chosen.effectiveSeqno != nil,
            let report = GaleraRecovery.forcedBootstrap(members, from: node)
        else {
            throw HahaError(
                .invalidState, "\(node) has no database whose position could be read, so it cannot be the one to start from",
                next: "choose a member that holds data (see `haha status`)")
        }
        return (members, report)
    }

    /// Bootstraps from the chosen member: every reachable member stopped, its `grastate.dat` prepared, then the
    /// usual bootstrap → join → steady, waiting for the reachable members only.
    public func forceBootstrap(_ report: ForcedBootstrap, members: [GaleraMember]) async throws {
        let reachable = members.filter(\.reachable).map(\.node)
        // The members are services: nothing can be stopped or bootstrapped until the raft has a leader again.
        _ = try await Swarm(cluster: cluster).managerWithQuorum(purpose: "start the database from \(report.from)")
        try await stopMembers(reachable)
        try await prepareBootstrap(report.from, seqno: report.seqno)
        try await bootstrap(from: report.from, expected: spec.dataNodes.filter { reachable.contains($0.name) })
    }
}

extension Renderer.DeployPhase {
    /// How the phase is recorded on the coordinating node (`/var/lib/haha/deploy/phase`): `steady`, `bootstrap n1`, `joining n1`.
    var name: String {
        switch self {
        case .steady: return "steady"
        case .bootstrap(let member): return "bootstrap \(member)"
        case .joining(let member): return "joining \(member)"
        }
    }
}
