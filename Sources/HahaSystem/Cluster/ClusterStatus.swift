import Foundation
import HahaCore

/// What `haha status` shows: one verdict (healthy, degraded, down) with its reasons, where the parts run (Home
/// Assistant, the broker, the Swarm leader, the sensor address), each node's SSH, Swarm and shared-volume state, the
/// stack's services, the Galera members, the Gluster bricks and what they have pending heal, and every probe that
/// gave no answer (`problems`), so a doubt is shown, never hidden. The verdict is `ClusterHealth.assess`'s.
public struct ClusterStatus: Sendable {
    public struct Report: Codable, Sendable, Equatable {
        public struct Node: Codable, Sendable, Equatable {
            public var name: String
            public var address: String
            public var reachable: Bool
            /// Docker's `Swarm.LocalNodeState` on the node (`active`, `inactive`, `pending`, …), `unknown` when not read.
            public var swarm: String
            public var mounted: Bool
            /// The node as the Swarm's managers list it (`Status.State`: `ready`, `down`, …); absent when not listed.
            public var swarmStatus: String?
            /// `leader`, `reachable` or `unreachable` for a manager, `worker` for a worker; absent when not listed.
            public var manager: String?
            /// `active`, `drain` or `pause`; absent when not listed.
            public var availability: String?
            /// Whether the node has the sensor address (VIP mode only; absent otherwise or when not read).
            public var holdsSensorAddress: Bool?
        }
        public struct Service: Codable, Sendable, Equatable {
            public var name: String
            public var replicas: String
        }
        public struct Member: Codable, Sendable, Equatable {
            public var node: String
            public var running: Bool
            public var clusterStatus: String?
            public var clusterSize: Int?
            public var synced: Bool
            /// `wsrep_cluster_state_uuid` of a running member.
            public var clusterUUID: String? = nil
        }
        public struct Brick: Codable, Sendable, Equatable {
            /// `host:/path`, as Gluster names it.
            public var brick: String
            /// The spec's node whose address the brick has.
            public var node: String?
            /// Gluster's status line for the brick (`Connected`, `Transport endpoint is not connected`, …).
            public var status: String
            public var connected: Bool
            /// Entries the brick lists as needing heal; absent when Gluster could not count them.
            public var pendingHeal: Int?
            public var splitBrain: Int?
        }
        public struct Gluster: Codable, Sendable, Equatable {
            public var volume: String
            public var started: Bool
            public var bricks: [Brick]
        }
        /// Whether a service answers from this machine, and through which address.
        public struct Endpoint: Codable, Sendable, Equatable {
            public var answering: Bool
            public var address: String?
        }
        public struct SensorAddress: Codable, Sendable, Equatable {
            /// `vip`, `mdns-hostname` or `none`.
            public var mode: String
            /// The VIP, or the mDNS host name every node announces.
            public var address: String?
            /// VIP mode: the nodes that have the address (exactly one when healthy).
            public var holders: [String]?
        }

        public var verdict: ClusterHealth.Verdict
        /// Why the verdict is not healthy, most serious first; empty when healthy.
        public var reasons: [String]
        /// The node running Home Assistant: the fence's lease holder, else the one node where its service has a running
        /// task. Absent when neither says (no holder, and several standbys or no task).
        public var active: String?
        /// The nodes where Home Assistant's service has a running task; absent when no manager could list them.
        public var homeAssistantTasks: [String]?
        /// The node holding the sensor address, when exactly one does (VIP mode).
        public var sensorAddressHolder: String?
        public var sensorAddress: SensorAddress
        /// The Swarm's raft leader.
        public var leader: String?
        /// The node running the broker's task.
        public var brokerNode: String?
        /// Entries pending heal, summed over the bricks (a file pending on two bricks counts twice); absent when a
        /// connected brick could not be counted or the volume could not be read.
        public var pendingHeal: Int?
        /// The node whose fence holds Home Assistant's lease (`/config/.haha/lease`); absent when released or unread, and
        /// always without the fence (`failover: swarm`: a lease left by the other mode is not read).
        public var leaseHolder: String?
        /// `homeAssistant.failover` of the spec: `fenced`, or `swarm` (Swarm alone moves Home Assistant; `active` is then
        /// its one task's node).
        public var failover: ClusterSpec.HomeAssistant.Failover = .fenced
        public var homeAssistant: Endpoint
        public var broker: Endpoint
        public var nodes: [Node]
        public var services: [Service]
        public var galera: [Member]
        public var gluster: Gluster?
        /// The last `haha backup`, as it recorded itself on the shared volume (`2026-12-05T01:30:00Z 12.3 MiB FILE from
        /// n2`); absent when none is recorded or the volume could not be read.
        public var lastBackup: String? = nil
        /// Probes that failed: what could not be learned, and why. Empty when the report is complete.
        public var problems: [String]

        /// `verdict: degraded — n3 not reachable; 4 entries pending heal`.
        public var verdictLine: String {
            "verdict: \(verdict.rawValue)" + (reasons.isEmpty ? "" : " — " + reasons.joined(separator: "; "))
        }
    }

    let cluster: Cluster
    /// Whether Home Assistant, and the broker, answer at an address: over HTTP and MQTT from this machine, or scripted.
    let homeAssistantAnswers: @Sendable (String) async -> Bool
    let brokerAnswers: @Sendable (String) async -> Bool

    public init(cluster: Cluster) {
        let spec = cluster.spec
        let password = try? cluster.workspace.readSecrets()[SecretCatalog.mqttHealthcheck]
        self.init(
            cluster: cluster,
            homeAssistantAnswers: { await Self.homeAssistantAnswers(at: $0, port: spec.homeAssistant.port) },
            brokerAnswers: { Self.brokerAnswers(at: $0, port: spec.mqtt.port, password: password) })
    }

    init(
        cluster: Cluster, homeAssistantAnswers: @escaping @Sendable (String) async -> Bool,
        brokerAnswers: @escaping @Sendable (String) async -> Bool
    ) {
        self.cluster = cluster
        self.homeAssistantAnswers = homeAssistantAnswers
        self.brokerAnswers = brokerAnswers
    }

    /// Asks every node; never throws: a probe that fails becomes a line in `problems`.
    public func probe() async -> Report {
        let spec = cluster.spec
        var problems: [String] = []

        let answers = await nodes()
        var nodes = answers.map(\.entry)
        problems += answers.compactMap(\.problem)

        let swarm = await swarm(nodes)
        problems += swarm.problems
        for index in nodes.indices {
            guard let listed = swarm.nodes?.first(where: { $0.name == nodes[index].name }) else { continue }
            nodes[index].swarmStatus = listed.state
            nodes[index].manager = listed.role == "manager" ? (listed.leader ? "leader" : listed.reachability) : listed.role
            nodes[index].availability = listed.availability
        }

        var galera: [Report.Member] = []
        var galeraKnown = false
        do {
            let members = try await Deploy(cluster: cluster, secrets: cluster.workspace.readSecrets()).members()
            galera = members.map {
                .init(
                    node: $0.node, running: $0.running, clusterStatus: $0.clusterStatus, clusterSize: $0.clusterSize,
                    synced: $0.localState == GaleraMember.syncedState, clusterUUID: $0.running ? $0.recoveredUUID : nil)
            }
            galeraKnown = true
        } catch {
            problems.append("galera: \(error)")
        }

        let (gluster, glusterProblem) = await gluster(reachable: nodes.filter(\.reachable).map(\.name))
        if let glusterProblem { problems.append(glusterProblem) }

        let addresses = (spec.sensorAddress.vip.map { [$0.address] } ?? []) + spec.nodes.map(\.address)
        async let homeAssistant = answering(addresses, homeAssistantAnswers)
        async let broker = answering(addresses, brokerAnswers)
        let (homeAssistantEndpoint, brokerEndpoint) = await (homeAssistant, broker)

        let reachable = nodes.filter(\.reachable).map(\.name)
        // Without the fence nothing holds a lease; a file left by the other mode would name a stale node.
        let holder =
            spec.fenced
            ? await leaseHolder(reachable: reachable).map { host in swarm.nodes?.first { $0.hostname == host }?.name ?? host } : nil
        let sensorAddress: Report.SensorAddress
        var sensorFacts: ClusterHealth.Facts.SensorAddress?
        switch spec.sensorAddress {
        case .none:
            sensorAddress = .init(mode: "none")
        case .mdnsHostname(let name):
            sensorAddress = .init(mode: "mdns-hostname", address: name)
        case .vip(let vip):
            let holders = nodes.filter { $0.holdsSensorAddress == true }.map(\.name)
            sensorAddress = .init(mode: "vip", address: vip.address, holders: holders)
            sensorFacts = .init(
                address: vip.address, holders: holders,
                unknownOn: nodes.filter { $0.reachable && $0.holdsSensorAddress == nil }.map(\.name), leaseHolder: holder)
        }

        let facts = ClusterHealth.Facts(
            nodes: nodes.map { node in
                .init(
                    name: node.name, reachable: node.reachable,
                    swarm: swarm.nodes?.first { $0.name == node.name }.map {
                        .init(ready: $0.state == "ready", manager: $0.role == "manager", active: $0.availability == "active")
                    })
            },
            swarmQuorum: swarm.quorum, services: swarm.services?.map { .init(name: $0.name, replicas: $0.replicas) },
            dataNodes: spec.dataNodes.count,
            galera: galeraKnown
                ? galera.map {
                    .init(
                        node: $0.node, running: $0.running, primary: $0.clusterStatus == "Primary", synced: $0.synced,
                        clusterSize: $0.clusterSize, clusterUUID: $0.clusterUUID)
                } : nil,
            gluster: gluster.map {
                .init(
                    volume: $0.volume, started: $0.started,
                    bricks: $0.bricks.map {
                        .init(brick: $0.brick, connected: $0.connected, entries: $0.pendingHeal, splitBrain: $0.splitBrain)
                    })
            },
            homeAssistantAnswers: homeAssistantEndpoint.answering, brokerAnswers: brokerEndpoint.answering, sensorAddress: sensorFacts)
        let assessment = ClusterHealth.assess(facts)

        let counted = gluster?.bricks.filter(\.connected).map(\.pendingHeal)
        let lastBackup = await sharedFile(Backup.recordPath(cluster.spec), reachable: reachable)
        return Report(
            verdict: assessment.verdict, reasons: assessment.reasons,
            active: holder ?? swarm.homeAssistantNodes.flatMap { $0.count == 1 ? $0[0] : nil },
            homeAssistantTasks: swarm.homeAssistantNodes,
            sensorAddressHolder: sensorAddress.holders.flatMap { $0.count == 1 ? $0[0] : nil }, sensorAddress: sensorAddress,
            leader: swarm.nodes?.first(where: \.leader)?.name,
            brokerNode: Renderer.brokerFollowsLease(cluster.spec) ? holder : swarm.brokerNodes?.first,
            pendingHeal: counted.flatMap { $0.contains(nil) ? nil : $0.compactMap { $0 }.reduce(0, +) },
            leaseHolder: holder, failover: spec.homeAssistant.failover, homeAssistant: homeAssistantEndpoint, broker: brokerEndpoint,
            nodes: nodes, services: swarm.services ?? [], galera: galera, gluster: gluster,
            lastBackup: lastBackup?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty, problems: problems)
    }

    // MARK: Nodes

    struct NodeAnswer: Sendable {
        var entry: Report.Node
        var problem: String?
    }

    /// Every node at once, in the spec's order.
    func nodes() async -> [NodeAnswer] {
        let spec = cluster.spec
        let answers = await withTaskGroup(of: (String, NodeAnswer).self) { group in
            for node in spec.nodes { group.addTask { (node.name, await probe(node)) } }
            var answers: [String: NodeAnswer] = [:]
            for await (name, answer) in group { answers[name] = answer }
            return answers
        }
        return spec.nodes.compactMap { answers[$0.name] }
    }

    /// One node: Docker's Swarm state, whether the shared volume is mounted and (VIP mode) whether it has the sensor
    /// address, in one SSH round trip.
    func probe(_ node: ClusterSpec.Node) async -> NodeAnswer {
        let mount = cluster.spec.storage.mountPath
        var script =
            "echo swarm $(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null); mountpoint -q \(shellQuote(mount)) && echo mounted"
        let vip = cluster.spec.sensorAddress.vip
        if vip != nil {
            script +=
                "; if addresses=$(ip -o -4 addr show 2>&1); then printf '%s\\n' \"$addresses\" | sed 's/^/ip: /'; else echo ip-failed; fi"
        }
        var entry = Report.Node(name: node.name, address: node.address, reachable: false, swarm: "unknown", mounted: false)
        do {
            let result = try await cluster.runner(node).run(Command(["sh", "-c", script], timeout: 20))
            guard result.succeeded else {
                let said = (result.errorOutput + result.output).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n")
                    .suffix(2)
                return NodeAnswer(
                    entry: entry,
                    problem:
                        "\(node.name): not reachable (exit \(result.exitCode))\(said.isEmpty ? "" : ": " + said.joined(separator: " "))")
            }
            let lines = result.output.split(separator: "\n").map(String.init)
            entry.reachable = true
            let state = lines.first { $0.hasPrefix("swarm") }?.split(separator: " ").dropFirst().first.map(String.init)
            entry.swarm = state ?? "unknown"
            entry.mounted = lines.contains("mounted")
            var problem: String?
            if let vip {
                let ip = lines.filter { $0.hasPrefix("ip: ") }.map { String($0.dropFirst(4)) }
                if ip.isEmpty {
                    problem = "\(node.name): could not list its addresses (`ip -o -4 addr show`) to find the sensor address"
                } else {
                    entry.holdsSensorAddress = StatusOutput.holds(vip.address, ipAddresses: ip.joined(separator: "\n"))
                }
            }
            return NodeAnswer(entry: entry, problem: problem)
        } catch {
            return NodeAnswer(entry: entry, problem: "\(node.name): \(error)")
        }
    }

    /// `docker service ls --format '{{.Name}} {{.Replicas}}'`, one service a line.
    static func parseServices(_ output: String) -> [Report.Service] {
        output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard let name = parts.first else { return nil }
            return .init(name: String(name), replicas: parts.count > 1 ? String(parts[1]) : "?")
        }
    }

    // MARK: Swarm

    struct SwarmAnswer: Sendable {
        var quorum: Bool?
        var nodes: [StatusOutput.SwarmNode]?
        var services: [Report.Service]?
        var homeAssistantNodes: [String]?
        var brokerNodes: [String]?
        var problems: [String] = []
    }

    /// Quorum, nodes, services and where Home Assistant and the broker run, from the first manager that lists nodes.
    /// No quorum is a fact only when a manager says so ("does not have a leader") or no reachable node is in a swarm.
    func swarm(_ nodes: [Report.Node]) async -> SwarmAnswer {
        let spec = cluster.spec
        var answer = SwarmAnswer()
        var manager: (any CommandRunner)?
        var noLeader = false
        for entry in nodes where entry.reachable && !["inactive", "unknown"].contains(entry.swarm) {
            guard let node = spec.nodes.first(where: { $0.name == entry.name }) else { continue }
            let runner = cluster.runner(node)
            do {
                let result = try await runner.run(Command(["docker", "node", "ls", "-q"], timeout: 20))
                if result.succeeded {
                    manager = runner
                    break
                }
                if result.said.contains("does not have a leader") {
                    noLeader = true
                } else if !result.said.contains("not a swarm manager") {
                    answer.problems.append(
                        "swarm: \(node.name): `docker node ls` exited \(result.exitCode): \(result.tail(lines: 1).trimmingCharacters(in: .whitespaces))"
                    )
                }
            } catch {
                answer.problems.append("swarm: \(node.name): \(error)")
            }
        }
        guard let manager else {
            let allOutside = nodes.allSatisfy { $0.reachable && $0.swarm == "inactive" }
            answer.quorum = noLeader || allOutside ? false : nil
            if answer.quorum == nil {
                answer.problems.append("swarm: no manager answered, so quorum, nodes, services and tasks are not known")
            }
            return answer
        }
        answer.quorum = true
        do {
            let format = StatusOutput.swarmNodeFormat(label: Renderer.Names.nodeLabel)
            answer.nodes = StatusOutput.swarmNodes(
                try await manager.output(
                    ["sh", "-c", "docker node inspect --format \(shellQuote(format)) $(docker node ls -q)"], timeout: 30))
        } catch {
            answer.problems.append("swarm nodes: \(error)")
        }
        do {
            answer.services = try await Deploy.services(of: spec.stackName, on: manager)
        } catch {
            answer.problems.append("services: \(error)")
        }
        let names = Dictionary((answer.nodes ?? []).map { ($0.hostname, $0.name) }, uniquingKeysWith: { first, _ in first })
        for service in [Renderer.Names.homeAssistant, Renderer.Names.mosquitto] {
            do {
                let output = try await manager.output(
                    [
                        "docker", "service", "ps", "\(spec.stackName)_\(service)", "--filter", "desired-state=running",
                        "--format", StatusOutput.taskFormat,
                    ], timeout: 30)
                let running = StatusOutput.runningHosts(output).map { names[$0] ?? $0 }
                if service == Renderer.Names.homeAssistant { answer.homeAssistantNodes = running } else { answer.brokerNodes = running }
            } catch {
                answer.problems.append("tasks of \(service): \(error)")
            }
        }
        return answer
    }

    // MARK: Gluster

    /// The volume's state and each brick's entries pending heal, from the first reachable node that answers.
    /// The node whose fence holds Home Assistant's lease, read from the shared volume through the first reachable data
    /// node that answers; nil when released, unreadable or nobody could be asked. The lease names Swarm host names:
    /// a spec node of that name, else the host name as it is.
    func leaseHolder(reachable: [String]) async -> String? {
        guard let lease = await sharedFile(FenceLease.path(cluster.spec), reachable: reachable),
            case .held(let host) = FenceLease(parsing: lease)
        else { return nil }
        return host
    }

    /// A file on the shared volume, read through the first reachable data node that can; nil when none can.
    func sharedFile(_ path: String, reachable: [String]) async -> String? {
        for node in cluster.spec.dataNodes where reachable.contains(node.name) {
            guard let result = try? await cluster.runner(node).run(Command(["cat", path], timeout: 5)), result.succeeded else { continue }
            return result.output
        }
        return nil
    }

    func gluster(reachable: [String]) async -> (Report.Gluster?, String?) {
        let spec = cluster.spec
        let volume = spec.storage.volume
        var problem = "gluster: no node could be asked"
        for node in spec.nodes where reachable.contains(node.name) {
            let runner = cluster.runner(node)
            do {
                let info = try await runner.run(Command(["gluster", "volume", "info", volume], timeout: 30))
                guard info.succeeded else {
                    problem =
                        "gluster: `gluster volume info \(volume)` on \(node.name) exited \(info.exitCode): \(info.tail(lines: 1).trimmingCharacters(in: .whitespaces))"
                    continue
                }
                let started = info.output.split(whereSeparator: \.isNewline).contains {
                    $0.trimmingCharacters(in: .whitespaces) == "Status: Started"
                }
                let listed = GlusterOutput.bricks(info.output)[volume] ?? []
                var summaries: [GlusterOutput.HealSummary] = []
                if started {
                    let heal = try await runner.run(Command(["gluster", "volume", "heal", volume, "info", "summary"], timeout: 60))
                    summaries = GlusterOutput.healSummary(heal.output)
                    if summaries.isEmpty {
                        problem =
                            "gluster: `gluster volume heal \(volume) info summary` on \(node.name) listed no brick (exit \(heal.exitCode)): \(heal.tail(lines: 1).trimmingCharacters(in: .whitespaces))"
                        continue
                    }
                    summaries = try await withoutTheLease(summaries, volume: volume, on: runner)
                }
                let bricks = listed.map { name in
                    let summary = summaries.first { $0.brick == name }
                    let host = name.split(separator: ":").first.map(String.init) ?? name
                    return Report.Brick(
                        brick: name, node: spec.nodes.first { $0.address == host || $0.name == host }?.name,
                        status: summary?.status ?? (started ? "not listed by heal info" : "volume not started"),
                        connected: summary?.connected ?? false, pendingHeal: summary?.entries, splitBrain: summary?.splitBrain)
                }
                return (Report.Gluster(volume: volume, started: started, bricks: bricks), nil)
            } catch {
                problem = "gluster: \(node.name): \(error)"
            }
        }
        return (nil, problem)
    }

    /// The fence rewrites its lease every second, so Gluster often lists that one file as pending heal while a write
    /// is in flight (it is marked dirty until the write ends): it is not counted. Other entries are.
    func withoutTheLease(_ summaries: [GlusterOutput.HealSummary], volume: String, on runner: any CommandRunner) async throws
        -> [GlusterOutput.HealSummary]
    {
        guard summaries.contains(where: { ($0.entries ?? 0) > 0 }) else { return summaries }
        let listing = try await runner.run(Command(["gluster", "volume", "heal", volume, "info"], timeout: 60))
        guard listing.succeeded else { return summaries }
        let lease = "/\(BackupPart.config.directory ?? "homeassistant")/\(Fence.leaseDirectory)/lease"
        let entries = GlusterOutput.healEntries(listing.output)
        return summaries.map { summary in
            var summary = summary
            if let count = summary.entries, entries[summary.brick]?.contains(lease) == true { summary.entries = max(0, count - 1) }
            return summary
        }
    }

    // MARK: Home Assistant and the broker

    /// Asks every address at once; the first in order that answers is the one reported.
    func answering(_ addresses: [String], _ ask: @escaping @Sendable (String) async -> Bool) async -> Report.Endpoint {
        let answered = await withTaskGroup(of: (String, Bool).self) { group in
            for address in addresses { group.addTask { (address, await ask(address)) } }
            var answered: Set<String> = []
            for await (address, yes) in group where yes { answered.insert(address) }
            return answered
        }
        let address = addresses.first { answered.contains($0) }
        return .init(answering: address != nil, address: address)
    }

    /// Home Assistant answers `/api/` (401 without a token, as it does once it runs).
    static func homeAssistantAnswers(at address: String, port: Int) async -> Bool {
        guard let url = URL(string: "http://\(address):\(port)/") else { return false }
        let status = try? await HomeAssistantSetup(baseURL: url).request("GET", "api/", timeout: 3).status
        return status == 401 || status == 200
    }

    /// The broker answers an MQTT CONNECT: any CONNACK counts (a refused password still proves it serves), so the
    /// answer does not depend on the healthcheck secret being readable here.
    static func brokerAnswers(at address: String, port: Int, password: String?) -> Bool {
        MQTTProbe.connect(host: address, port: port, username: "healthcheck", password: password ?? "", timeout: 3) != nil
    }
}

extension ClusterStatus.Report.SensorAddress {
    init(mode: String, address: String? = nil) { self.init(mode: mode, address: address, holders: nil) }
}
