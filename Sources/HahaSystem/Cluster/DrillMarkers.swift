import Foundation
import HahaCore

/// What a drill writes just before the fault and looks for afterwards (issue #8's "nothing lost"), all named by one
/// token: a row in the recorder's database (table `haha_drill`), a retained message on `haha/drill/TOKEN`, and a
/// file in Home Assistant's `/config` on the shared volume. Removed again at the end of the drill.
struct DrillMarkers: Sendable {
    let cluster: Cluster
    let token: String
    /// The broker's `homeassistant` user: the health-check user may only read `$SYS` topics (MosquittoFiles.aclFile).
    let mqttPassword: String
    let probes: ServiceProbes
    /// How long the broker may refuse the retained message, and no Galera member be Synced to read the row, before the
    /// drill gives up (seconds).
    var retainedTimeout: Double = 60
    static let mqttUser = "homeassistant"

    init(cluster: Cluster, token: String = Self.newToken(), mqttPassword: String, probes: ServiceProbes) {
        self.cluster = cluster
        self.token = token
        self.mqttPassword = mqttPassword
        self.probes = probes
    }

    static func newToken() -> String { String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }

    var spec: ClusterSpec { cluster.spec }
    var table: String { "`\(spec.database.name)`.`haha_drill`" }
    var topic: String { "haha/drill/\(token)" }
    var file: String { "\(spec.storage.mountPath)/homeassistant/.haha-drill-\(token)" }
    var locations: [LossCheck.Kind: String] {
        [
            .recorderRow: "\(spec.database.name).haha_drill", .retainedMessage: topic, .configFile: file,
            .homeAssistantOwner: "GET /api/onboarding, step user",
        ]
    }
    /// What the owner check expects to find: onboarding's `user` step done.
    static let ownerPresent = "done"

    // MARK: Before the fault

    /// Writes all three, the file through the first of `fileWriters` whose shared volume is mounted (the failed node
    /// first: that is where Home Assistant writes). Throws when one cannot be written: the drill then cuts nothing.
    func write(fileWriters: [ClusterSpec.Node], brokerHost: String) async throws {
        guard let (runner, container) = await syncedMember(among: spec.dataNodes) else {
            throw HahaError(
                .invalidState, "no Synced Galera member answers, so the drill cannot write its recorder row", next: "run `haha status`")
        }
        try await runner.check(
            [
                "docker", "exec", container, "sh", "-c",
                Deploy.asRoot(
                    "CREATE TABLE IF NOT EXISTS \(table) (token VARCHAR(64) NOT NULL PRIMARY KEY, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB; INSERT INTO \(table) (token) VALUES ('\(token)')"
                ),
            ], timeout: 30)
        // A drill may follow one whose broker is still settling (seen in CI: right after a healed partition, none
        // answered at the healed node's address): the retained message is tried again for up to `retainedTimeout`.
        let deadline = ContinuousClock.now + .seconds(retainedTimeout)
        while true {
            do {
                try await probes.publishRetained(brokerHost, spec.mqtt.port, Self.mqttUser, mqttPassword, topic, token)
                break
            } catch {
                if ContinuousClock.now >= deadline { throw error }
                try await Task.sleep(for: .seconds(2))
            }
        }
        var failures: [String] = []
        for node in fileWriters {
            let result = try await cluster.runner(node).run(
                Command(["sh", "-c", writeScript], input: Data((token + "\n").utf8), timeout: 30))
            if result.succeeded { return }
            failures.append("\(node.name): exit \(result.exitCode) \(result.tail(lines: 2))")
        }
        throw HahaError(
            .failed, "the drill could not write \(file) on any node: \(failures.joined(separator: "; "))",
            next: "run `haha status`: the shared volume must be mounted")
    }

    var mounted: String { "mountpoint -q \(shellQuote(spec.storage.mountPath))" }
    var writeScript: String {
        let path = shellQuote(file)
        return
            "\(mounted) || { echo 'the shared volume is not mounted' >&2; exit 3; }; umask 022; cat > \(path).haha-tmp && sync \(path).haha-tmp && mv \(path).haha-tmp \(path)"
    }

    // MARK: After the recovery

    /// Looks for each marker: the row through a Synced member of `readers`, the message through the first broker
    /// address that answers, the file on the first reader whose shared volume is mounted; and for Home Assistant's
    /// owner through the first of `homeAssistantHosts` that answers.
    func check(readers: [ClusterSpec.Node], brokerHosts: [String], homeAssistantHosts: [String]) async -> [LossCheck] {
        func judge(_ kind: LossCheck.Kind, _ observed: LossCheck.Observation, expected: String? = nil) -> LossCheck {
            LossCheck.judge(kind, location: locations[kind] ?? "", expected: expected ?? token, observed: observed)
        }
        return [
            judge(.recorderRow, await readRow(readers: readers)),
            judge(.retainedMessage, await readMessage(brokerHosts: brokerHosts)),
            judge(.configFile, await readFile(readers: readers)),
            judge(.homeAssistantOwner, await readOwner(hosts: homeAssistantHosts), expected: Self.ownerPresent),
        ]
    }

    /// Onboarding's `user` step, through the first of `hosts` that answers: done while Home Assistant has its owner.
    func readOwner(hosts: [String]) async -> LossCheck.Observation {
        await Self.firstAnswer(hosts, none: "no Home Assistant address to ask") { host in
            await probes.homeAssistantOwner(host, spec.homeAssistant.port)
        }
    }

    /// What the first of `hosts` that answers observed; when none does, why the last one did not (`none` without hosts).
    static func firstAnswer(
        _ hosts: [String], none: String, _ ask: (String) async -> LossCheck.Observation
    ) async -> LossCheck.Observation {
        var why = none
        for host in hosts {
            let observed = await ask(host)
            guard case .unreadable(let reason) = observed else { return observed }
            why = reason
        }
        return .unreadable(why)
    }

    func readRow(readers: [ClusterSpec.Node]) async -> LossCheck.Observation {
        // Right after a fault the healed node's rejoin may leave no member Synced for a moment (its donor desyncs; CI
        // saw it after a partition): asked again for up to `retainedTimeout`, as the message is.
        let deadline = ContinuousClock.now + .seconds(retainedTimeout)
        let members = readers.filter { $0.role == .data }
        var member = await syncedMember(among: members)
        while member == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .seconds(2))
            member = await syncedMember(among: members)
        }
        guard let (runner, container) = member else {
            return .unreadable("no Synced Galera member answered within \(Int(retainedTimeout)) s")
        }
        // wsrep_sync_wait: the read waits until this member applied everything the cluster committed before it.
        let sql = "SET SESSION wsrep_sync_wait=1; SELECT token FROM \(table) WHERE token='\(token)'"
        guard let result = try? await runner.run(Command(["docker", "exec", container, "sh", "-c", Deploy.asRoot(sql)], timeout: 30)) else {
            return .unreadable("the query could not be run")
        }
        if result.succeeded {
            let rows = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            return rows.isEmpty ? .absent : .found(rows)
        }
        // ERROR 1146: the table itself is gone.
        if result.errorOutput.contains("1146") { return .absent }
        return .unreadable("the query failed (exit \(result.exitCode)): \(result.tail(lines: 2))")
    }

    func readMessage(brokerHosts: [String]) async -> LossCheck.Observation {
        await Self.firstAnswer(brokerHosts, none: "no broker address to ask") { host in
            switch await probes.readRetained(host, spec.mqtt.port, Self.mqttUser, mqttPassword, topic) {
            case .found(let payload): return .found(payload)
            case .absent: return .absent
            case .unreadable(let reason): return .unreadable(reason)
            }
        }
    }

    func readFile(readers: [ClusterSpec.Node]) async -> LossCheck.Observation {
        let path = shellQuote(file)
        var why = "no node to ask"
        for node in readers {
            guard
                let result = try? await cluster.runner(node).run(
                    Command(["sh", "-c", "\(mounted) || exit 3; [ -e \(path) ] || exit 4; cat \(path)"], timeout: 30))
            else { continue }
            switch result.exitCode {
            case 0: return .found(result.output)
            case 4: return .absent
            case 3: why = "the shared volume is not mounted on \(node.name)"
            default: why = "\(node.name) did not answer (exit \(result.exitCode))"
            }
        }
        return .unreadable(why)
    }

    // MARK: Clean-up

    /// Removes every marker it can; says what it could not remove (the drill's result does not depend on it).
    func remove(nodes: [ClusterSpec.Node], brokerHosts: [String]) async {
        var left: [String] = []
        var dropped = false
        if let (runner, container) = await syncedMember(among: nodes.filter { $0.role == .data }) {
            let drop = Command(["docker", "exec", container, "sh", "-c", Deploy.asRoot("DROP TABLE IF EXISTS \(table)")], timeout: 30)
            dropped = (try? await runner.run(drop))?.succeeded == true
        }
        if !dropped { left.append("the table \(locations[.recorderRow] ?? "")") }
        var cleared = false
        for host in brokerHosts where !cleared {
            // An empty retained message removes the retained one.
            cleared =
                (try? await probes.publishRetained(host, spec.mqtt.port, Self.mqttUser, mqttPassword, topic, "")) != nil
        }
        if !cleared { left.append("the retained message on \(topic)") }
        var removed = false
        for node in nodes where !removed {
            removed =
                (try? await cluster.runner(node).run(
                    Command(["sh", "-c", "\(mounted) && rm -f \(shellQuote(file))"], timeout: 30)))?.succeeded == true
        }
        if !removed { left.append(file) }
        if !left.isEmpty { cluster.log("the drill could not remove \(left.joined(separator: ", ")); remove them by hand") }
    }

    /// A data node whose Galera member runs and is Synced, and that member's container.
    func syncedMember(among nodes: [ClusterSpec.Node]) async -> (any CommandRunner, String)? {
        let deploy = Deploy(cluster: cluster, secrets: SecretValues([:]))
        for node in nodes {
            let runner = cluster.runner(node)
            guard let id = try? await deploy.container(deploy.service(Renderer.Names.galera(node.name)), on: runner),
                let status = try? await deploy.wsrepStatus(id, on: runner), status["wsrep_local_state"] == "4"
            else { continue }
            return (runner, id)
        }
        return nil
    }
}
