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
                if try await runner.run(Command(["docker", "image", "inspect", "--format", "{{.Id}}", image], timeout: 30)).succeeded { continue }
                try await runner.check(["docker", "pull", image], timeout: 1800,
                                       hint: "the node cannot pull \(image); on the lab run `haha lab images` to load the lab's images")
                changed = true
            }
            return changed
        }
        return pulled.values.contains(true)
    }

    // MARK: Stack

    /// Renders the stack for a phase, copies it to the primary node and deploys it. Returns false when the
    /// same stack was already deployed and every service runs (nothing to do).
    @discardableResult
    public func deploy(_ phase: Renderer.DeployPhase) async throws -> Bool {
        let files = try Renderer(spec: spec, secrets: secrets, phase: phase).render()
        let digest = SHA512.hex(Array(SHA512.hash(Array(files.map { $0.path + "\n" + $0.contents }.joined(separator: "\n").utf8)).prefix(16)))
        let primary = cluster.runner(cluster.primary)
        let deployed = try await primary.run(Command(["cat", "\(Self.directory)/stack.digest"], timeout: 30)).output
        if deployed.trimmingCharacters(in: .whitespacesAndNewlines) == digest, try await allServicesConverged(primary) {
            return false
        }
        try await primary.shell("rm -rf \(Self.directory).new && mkdir -p \(Self.directory).new && chmod 700 \(Self.directory).new", timeout: 30)
        for file in files {
            try await cluster.write(file.contents, to: "\(Self.directory).new/\(file.path)", mode: file.isSecret ? "0600" : "0644", on: primary)
        }
        try await primary.shell("rm -rf \(Self.directory) && mv \(Self.directory).new \(Self.directory)", timeout: 30)
        try await primary.shell("cd \(Self.directory) && docker stack deploy --prune --resolve-image never -c stack.yml \(shellQuote(stack))", timeout: 300)
        try await cluster.write(digest + "\n", to: "\(Self.directory)/stack.digest", on: primary)
        return true
    }

    /// Every service of the stack has as many running tasks as it wants.
    func allServicesConverged(_ manager: any CommandRunner) async throws -> Bool {
        let result = try await manager.run(Command(["docker", "service", "ls", "--filter", "label=com.docker.stack.namespace=\(stack)", "--format", "{{.Replicas}}"], timeout: 30))
        guard result.succeeded else { return false }
        let lines = result.output.split(separator: "\n")
        return !lines.isEmpty && lines.allSatisfy { line in
            let parts = line.split(separator: " ")[0].split(separator: "/")
            return parts.count == 2 && parts[0] == parts[1]
        }
    }

    // MARK: Galera

    /// The container of a service's task on a node, if one is running there.
    func container(_ service: String, on runner: any CommandRunner, healthy: Bool = false) async throws -> String? {
        var args = ["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name=\(service)"]
        if healthy { args += ["--filter", "health=healthy"] }
        let id = try await runner.output(args, timeout: 30).split(separator: "\n").first.map(String.init)
        return id?.isEmpty == false ? id : nil
    }

    /// `SHOW STATUS` of a running member, through its own container (the root password never leaves it).
    func wsrepStatus(_ container: String, on runner: any CommandRunner) async throws -> [String: String] {
        let sql = "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_local_state','wsrep_cluster_size','wsrep_last_committed')"
        let result = try await runner.run(Command(["docker", "exec", container, "sh", "-c",
            "mariadb -uroot -p\"$(cat /run/secrets/\(SecretCatalog.mariadbRoot))\" -N -B -e \"\(sql)\""], timeout: 30))
        var values: [String: String] = [:]
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }

    /// Where a member's data volume lives on its node, or nil when the volume does not exist.
    func volumePath(_ node: String, on runner: any CommandRunner) async throws -> String? {
        let result = try await runner.run(Command(["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", galeraVolume(node)], timeout: 30))
        return result.succeeded ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// What each member's node says: data present, grastate, running status.
    public func members() async throws -> [GaleraMember] {
        var members: [GaleraMember] = []
        for (order, node) in spec.dataNodes.enumerated() {
            let runner = cluster.runner(node)
            var member = GaleraMember(node: node.name, order: order)
            let path: String?
            do {
                path = try await volumePath(node.name, on: runner)
            } catch {
                member.reachable = false
                members.append(member)
                continue
            }
            if let path {
                let grastate = try await runner.run(Command(["cat", "\(path)/grastate.dat"], timeout: 30))
                member.hasData = try await runner.run(Command(["test", "-d", "\(path)/mysql"], timeout: 30)).succeeded
                if grastate.succeeded { member.grastate = GraState.parse(grastate.output) }
            }
            if let id = try await container(service(Renderer.Names.galera(node.name)), on: runner) {
                let status = try await wsrepStatus(id, on: runner)
                member.running = !status.isEmpty
                member.clusterStatus = status["wsrep_cluster_status"]
                member.localState = status["wsrep_local_state"].flatMap { Int($0) }
                member.clusterSize = status["wsrep_cluster_size"].flatMap { Int($0) }
                member.recovered = status["wsrep_last_committed"].flatMap { Int64($0) }
            }
            members.append(member)
        }
        return members
    }

    /// `mariadbd --wsrep-recover` on a stopped member's data: its last committed seqno.
    func recoverPosition(_ node: ClusterSpec.Node) async throws -> Int64? {
        let runner = cluster.runner(node)
        let result = try await runner.run(Command([
            "docker", "run", "--rm", "--network", "none", "-v", "\(galeraVolume(node.name)):/var/lib/mysql",
            "--entrypoint", "mariadbd", spec.images.mariadb,
            "--user=mysql", "--wsrep-on=ON", "--wsrep-provider=/usr/lib/galera/libgalera_smm.so",
            "--binlog-format=ROW", "--default-storage-engine=InnoDB", "--innodb-autoinc-lock-mode=2",
            "--wsrep-cluster-address=gcomm://", "--wsrep-recover",
        ], timeout: 300))
        let log = result.output + result.errorOutput
        if let position = GaleraRecovery.parseRecoveredPosition(log) { return position.seqno }
        cluster.log("\(node.name): --wsrep-recover gave no position (exit \(result.exitCode)):\n" + log.split(separator: "\n").suffix(6).joined(separator: "\n"))
        return nil
    }

    /// Brings Galera to a Primary Component of every data node, bootstrapping only from the most advanced member.
    public func convergeGalera() async throws -> Bool {
        var members = try await members()
        var plan = GaleraRecovery.plan(members)
        if case .needRecovery(let nodes) = plan {
            // Stop the stale members before reading their data.
            for name in nodes {
                guard let node = spec.nodes.first(where: { $0.name == name }) else { continue }
                cluster.log("finding \(name)'s last committed transaction (mariadbd --wsrep-recover)")
                _ = try await cluster.runner(cluster.primary).run(Command(["docker", "service", "scale", "-d", "\(service(Renderer.Names.galera(name)))=0"], timeout: 60))
                try await waitUntil("\(name)'s database to stop", timeout: 180) {
                    try await container(service(Renderer.Names.galera(name)), on: cluster.runner(node)) == nil
                }
                if let index = members.firstIndex(where: { $0.node == name }) {
                    members[index].recovered = try await recoverPosition(node)
                    members[index].running = false
                }
            }
            plan = GaleraRecovery.plan(members)
        }
        switch plan {
        case .healthy:
            return try await deploy(.steady)
        case .blocked(let reason):
            throw HahaError(.invalidState, "Galera cannot be started safely: \(reason)")
        case .needRecovery(let nodes):
            throw HahaError(.invalidState, "the last committed transaction of \(nodes.joined(separator: ", ")) is still unknown after --wsrep-recover",
                            next: "look at the member's log (`docker service logs \(service("galera-" + (nodes.first ?? "")))`)")
        case .bootstrapNew(let from):
            cluster.log("new Galera cluster: bootstrapping from \(from)")
            try await bootstrap(from: from)
            return true
        case .recover(let from, let seqno, let markSafe):
            cluster.log("Galera recovery: \(from) has the most recent commit (seqno \(seqno)); bootstrapping from it")
            if let node = spec.nodes.first(where: { $0.name == from }), let member = members.first(where: { $0.node == from }) {
                // Bootstrap from the recovered position: a crashed member's grastate says seqno -1 and
                // safe_to_bootstrap 0; without its real position Galera would start a new history.
                var edits: [String] = []
                if markSafe { edits.append("-e 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/'") }
                if member.grastate?.seqno == -1 { edits.append("-e 's/^seqno:.*/seqno:   \(seqno)/'") }
                let runner = cluster.runner(node)
                if !edits.isEmpty, let path = try await volumePath(from, on: runner) {
                    try await runner.shell("sed -i \(edits.joined(separator: " ")) \(shellQuote(path))/grastate.dat", timeout: 30)
                }
            }
            try await bootstrap(from: from)
            return true
        }
    }

    /// Bootstrap → the others join → the bootstrap flag removed, each phase waited for.
    func bootstrap(from member: String) async throws {
        guard let node = spec.nodes.first(where: { $0.name == member }) else { return }
        let runner = cluster.runner(node)
        let memberService = service(Renderer.Names.galera(member))
        try await deploy(.bootstrap(member: member))
        try await waitUntil("\(member) to bootstrap a Primary Component", timeout: 600, interval: 2) {
            guard let id = try await container(memberService, on: runner, healthy: true) else { return false }
            return try await wsrepStatus(id, on: runner)["wsrep_cluster_status"] == "Primary"
        }
        try await deploy(.joining(member: member))
        // Joiners count in wsrep_cluster_size as soon as they connect, long before their state transfer ends:
        // wait until every member is Synced, or removing the flag would restart the donor mid-transfer.
        try await waitSynced()
        try await deploy(.steady)
        try await waitSynced()
    }

    /// Every member runs, is healthy and sees the whole cluster.
    public func waitSynced() async throws {
        let size = String(spec.dataNodes.count)
        try await waitUntil("every Galera member synced in a cluster of \(size)", timeout: 900, interval: 2) {
            for node in spec.dataNodes {
                let runner = cluster.runner(node)
                guard let id = try await container(service(Renderer.Names.galera(node.name)), on: runner, healthy: true) else { return false }
                let status = try await wsrepStatus(id, on: runner)
                guard status["wsrep_cluster_size"] == size, status["wsrep_local_state"] == "4" else { return false }
            }
            return true
        }
    }
}
