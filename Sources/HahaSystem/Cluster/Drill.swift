import Foundation
import HahaCore
import Synchronization

/// A failover drill: take a node out of service (the one a `DrillTarget` names, or every node) and measure how long
/// until Home Assistant and the broker answer again, through a surviving node and through the sensor address; then
/// check that what was written just before the fault survived. The node is put back afterwards.
public struct Drill: Sendable {
    let cluster: Cluster
    let probes: ServiceProbes
    public init(cluster: Cluster, probes: ServiceProbes = .network) {
        self.cluster = cluster
        self.probes = probes
    }

    /// How the node is broken and put back. Without `cut` it is drained and made active again (a real cluster).
    public struct Fault: Sendable {
        public typealias Action = @Sendable (ClusterSpec.Node, any CommandRunner) async throws -> Void
        public var scenario: DrillScenario
        public var cut: Action?
        public var restore: Action?
        /// Seconds after the cut at which the node is restored while the drill goes on measuring (a freeze); nil:
        /// restored once the services answered again without it (or the drill gave up).
        public var restoreAfter: Double?

        public init(scenario: DrillScenario, cut: Action? = nil, restore: Action? = nil, restoreAfter: Double? = nil) {
            self.scenario = scenario
            self.cut = cut
            self.restore = restore
            self.restoreAfter = restoreAfter
        }
    }

    public struct Options: Sendable {
        public var target: DrillTarget
        public var fault: Fault
        /// Counts the Home Assistant processes running anywhere (lab only); nil: not counted.
        public var countHomeAssistants: (@Sendable () async -> Instances?)?
        /// Seconds to wait for the services before giving up.
        public var timeout: Double
        /// Seconds of counting instances after the node is back (a healed node may still run its own).
        public var countAfterwards: Double
        /// Seconds the sensor address must keep answering for its first answer to count as the end of the outage.
        public var steady: Double

        public init(
            target: DrillTarget = .homeassistant, fault: Fault = Fault(scenario: .drain),
            countHomeAssistants: (@Sendable () async -> Instances?)? = nil, timeout: Double = 300, countAfterwards: Double = 60,
            steady: Double = 5
        ) {
            self.target = target
            self.fault = fault
            self.countHomeAssistants = countHomeAssistants
            self.timeout = timeout
            self.countAfterwards = countAfterwards
            self.steady = steady
        }
    }

    /// The Home Assistant processes one sample found, each as `pid N on NODE (STATE)`.
    public struct Instances: Sendable, Equatable {
        public var processes: [String]
        public init(processes: [String]) { self.processes = processes }
        public var count: Int { processes.count }
    }

    /// Counts Home Assistant processes about every 100 ms while it runs; `stop` returns the highest count, the number
    /// of samples, and the first sample that found more than one (seconds since the start, and the processes).
    /// `count` answers nil when a sample could not be taken (it is then not counted).
    final class InstanceSampler: Sendable {
        let task: Task<(most: Int, samples: Int, twoAtOnce: String?), Never>

        init(_ count: @escaping @Sendable () async -> Instances?) {
            let start = ContinuousClock.now
            task = Task {
                var most = 0, samples = 0
                var twoAtOnce: String?
                while !Task.isCancelled {
                    if let now = await count() {
                        most = max(most, now.count)
                        samples += 1
                        if now.count > 1, twoAtOnce == nil {
                            twoAtOnce = String(format: "+%.1f s: ", Drill.seconds(since: start)) + now.processes.joined(separator: ", ")
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return (most, samples, twoAtOnce)
            }
        }

        func stop() async -> (most: Int, samples: Int, twoAtOnce: String?) {
            task.cancel()
            return await task.value
        }
    }

    /// Set once, read from other tasks: whether the failed node is back.
    final class Latch: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// Seconds since `start`, to the millisecond.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return ((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000).rounded() / 1000
    }

    /// Once `back` found the address answering again (nil: it never did), asks `probe` every 150 ms until cancelled:
    /// the longest time without a yes, from the last yes before to the first after (or to the cancel), nil when every
    /// answer was yes. A probe that the cancel itself cut short does not count.
    static func relapses(after back: Task<Double?, Never>, _ probe: @escaping @Sendable () async -> Bool) -> Task<Double?, Never> {
        Task {
            guard await back.value != nil else { return nil }
            var lastYes = ContinuousClock.now
            var missed = false
            var longest: Double?
            func gap() -> Double { seconds(since: lastYes) }
            while !Task.isCancelled {
                let yes = await probe()
                if Task.isCancelled { break }
                if yes {
                    if missed { longest = max(longest ?? 0, gap()) }
                    missed = false
                    lastYes = .now
                } else {
                    missed = true
                }
                try? await Task.sleep(for: .milliseconds(150))
            }
            if missed { longest = max(longest ?? 0, gap()) }
            return longest
        }
    }

    /// Asks `probe` every 150 ms from `start` until it has said yes without a break for `steady` seconds (or `deadline`
    /// passes): the seconds from `start` to the first yes of that run, nil when the last answer was no. A yes just after
    /// the fault is not the end of the outage when a no follows (a drained task still stopping).
    static func answeringAgain(
        since start: ContinuousClock.Instant, until deadline: ContinuousClock.Instant, steady: Double,
        _ probe: @escaping @Sendable () async -> Bool
    ) -> Task<Double?, Never> {
        Task {
            var since: (instant: ContinuousClock.Instant, seconds: Double)?
            while ContinuousClock.now < deadline, !Task.isCancelled {
                if await probe() {
                    if since == nil { since = (.now, seconds(since: start)) }
                    if let since, ContinuousClock.now - since.instant >= .seconds(steady) { return since.seconds }
                } else {
                    since = nil
                }
                try? await Task.sleep(for: .milliseconds(150))
            }
            return since?.seconds
        }
    }

    var brokerService: String { "\(cluster.spec.stackName)_\(Renderer.Names.mosquitto)" }
    var homeAssistantService: String { "\(cluster.spec.stackName)_\(Renderer.Names.homeAssistant)" }
    var healthcheckUser: String { "healthcheck" }

    // MARK: Where things run

    /// Which spec node runs a service's task, from a manager.
    func node(of service: String, manager: any CommandRunner) async throws -> String? {
        let lines = try await manager.output([
            "docker", "service", "ps", service, "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}",
        ])
        guard let host = DrillPlacement.runningNode(inTaskList: lines) else { return nil }
        return try await label(of: host, manager: manager)
    }

    /// The node whose broker answers: the lease holder's when the broker follows the lease (every data node runs a
    /// standby task), else the node of the service's one task.
    func brokerNode(manager: any CommandRunner, homeAssistant: String? = nil) async throws -> String? {
        if Renderer.brokerFollowsLease(cluster.spec) {
            if let homeAssistant { return homeAssistant }
            return try await homeAssistantNode(through: manager)
        }
        return try await node(of: brokerService, manager: manager)
    }

    /// The spec name of a Swarm node (host name or id): Swarm reports host names, and the `haha.node` label maps them
    /// to the spec's names, which need not be the host names.
    func label(of swarmNode: String, manager: any CommandRunner) async throws -> String {
        let label = try await manager.output([
            "docker", "node", "inspect", swarmNode, "--format", "{{index .Spec.Labels \"\(Renderer.Names.nodeLabel)\"}}",
        ])
        return label.isEmpty ? swarmNode : label
    }

    /// The Swarm node id of a spec node, through its `haha.node` label.
    func swarmID(of node: ClusterSpec.Node, manager: any CommandRunner) async throws -> String {
        let id = try await manager.output(["docker", "node", "ls", "-q", "--filter", "node.label=\(Renderer.Names.nodeLabel)=\(node.name)"])
        guard !id.isEmpty else {
            throw HahaError(
                .invalidState, "no Swarm node carries the label \(Renderer.Names.nodeLabel)=\(node.name)", next: "run `haha up`")
        }
        return id
    }

    /// The spec name of the node whose fence holds Home Assistant's lease (it runs Home Assistant: every data node runs
    /// a task, standbys included), read from the shared volume through `runner`'s node; nil when the lease is released.
    /// Without the fence (`failover: swarm`) the node of its one running task, asked of `runner` as a manager (a lease
    /// left on the volume by the other mode names nobody).
    func homeAssistantNode(through runner: any CommandRunner) async throws -> String? {
        guard cluster.spec.fenced else { return try await node(of: homeAssistantService, manager: runner) }
        let text = try await runner.output(["cat", FenceLease.path(cluster.spec)], timeout: 5)
        guard case .held(let host) = FenceLease(parsing: text) else { return nil }
        return try await label(of: host, manager: runner)
    }

    /// Where to ask Home Assistant when it runs on `node`: through `observer`'s proxy, or, on the host's network (no
    /// proxy in front of it), at that node's own address.
    func homeAssistantAddress(running node: String, through observer: ClusterSpec.Node) -> String {
        guard cluster.spec.homeAssistant.hostNetwork else { return observer.address }
        return cluster.spec.nodes.first { $0.name == node }?.address ?? observer.address
    }

    /// Where Home Assistant, the broker, the raft leader and the VIP are now.
    func placement(manager: any CommandRunner) async throws -> DrillPlacement {
        let homeAssistant = try await homeAssistantNode(through: manager)
        var placement = DrillPlacement(
            homeAssistant: homeAssistant, broker: try await brokerNode(manager: manager, homeAssistant: homeAssistant))
        let listing = try await manager.output(["docker", "node", "ls", "--format", "{{.ID}} {{.ManagerStatus}}"])
        if let id = DrillPlacement.leaderID(inNodeList: listing) { placement.leader = try await label(of: id, manager: manager) }
        if let vip = cluster.spec.sensorAddress.vip {
            let listings = try await cluster.onAll { _, runner in try await runner.output(["ip", "-o", "-4", "addr", "show"], timeout: 20) }
            placement.sensorAddress = cluster.spec.nodes.map(\.name).filter {
                listings[$0].map { DrillPlacement.holds(vip.address, ipAddresses: $0) } ?? false
            }
        }
        return placement
    }

    // MARK: The drill

    public func run(secrets: SecretValues, _ options: Options = Options()) async throws -> DrillReport {
        let spec = cluster.spec
        if options.fault.scenario != .allPowerCut, options.target == .vip, spec.sensorAddress.vip == nil {
            throw HahaError.invalidArgument(
                "the sensor address is not a VIP, so --target vip names no node", next: "choose another --target")
        }
        // A drill starts from a whole cluster: a Swarm with a leader and every Galera member synced. Taking a node
        // away while the previous one is still rejoining loses the database's Primary Component (docs/benchmarks.md).
        let manager = try await Swarm(cluster: cluster).managerWithQuorum(purpose: "run a drill")
        cluster.log("waiting until every Galera member is synced before taking a node away")
        try await Deploy(cluster: cluster, secrets: SecretValues([:])).waitSynced()
        let placement = try await placement(manager: manager)
        var markers = DrillMarkers(
            cluster: cluster, mqttPassword: secrets[SecretCatalog.mqttUser(DrillMarkers.mqttUser)], probes: probes)
        markers.retainedTimeout = min(60, options.timeout)
        let healthcheck = secrets[SecretCatalog.mqttHealthcheck]
        if options.fault.scenario == .allPowerCut {
            return try await allPowerCut(options, placement: placement, markers: markers, healthcheck: healthcheck)
        }
        let victimName: String
        switch placement.victim(for: options.target) {
        case .node(let name): victimName = name
        case .unavailable(let why): throw HahaError(.invalidState, why, next: "run `haha up` first")
        }
        guard let victim = spec.nodes.first(where: { $0.name == victimName }) else {
            throw HahaError(
                .invalidState, "\(victimName) runs \(options.target.rawValue) but is no node of the spec", next: "run `haha up`")
        }
        return try await single(victim, options, placement: placement, markers: markers, healthcheck: healthcheck)
    }

    /// One node away: measured through the first other node (its address and its manager) and through the VIP.
    func single(
        _ victim: ClusterSpec.Node, _ options: Options, placement: DrillPlacement, markers: DrillMarkers, healthcheck: String
    ) async throws -> DrillReport {
        let spec = cluster.spec
        let observers = spec.nodes.filter { $0.name != victim.name }
        guard let observer = observers.first else {
            throw HahaError(.invalidState, "a drill needs two nodes or more", next: "add nodes to haha.yaml and run `haha up`")
        }
        let observerManager = cluster.runner(observer)
        let fault = options.fault
        let victimID = fault.cut == nil ? try await swarmID(of: victim, manager: observerManager) : ""
        let cut: @Sendable () async throws -> Void = {
            if let action = fault.cut { return try await action(victim, cluster.runner(victim)) }
            try await observerManager.check(["docker", "node", "update", "--availability", "drain", victimID], timeout: 60)
        }
        let restore: @Sendable () async throws -> Void = {
            if let action = fault.restore { return try await action(victim, cluster.runner(victim)) }
            try await observerManager.check(["docker", "node", "update", "--availability", "active", victimID], timeout: 60)
        }
        var report = DrillReport(
            scenario: fault.scenario, target: options.target, failedNodes: [victim.name], placement: placement,
            timeoutSeconds: options.timeout)
        report.sensorAddress = spec.sensorAddress.vip?.address

        cluster.log("writing the loss-check markers (token \(markers.token))")
        try await withMarkersRemovedOnError(markers) {
            try await markers.write(fileWriters: [victim] + observers, brokerHost: observer.address)
        }
        let had = report.roles.isEmpty ? "no role" : report.roles.map(\.title).joined(separator: ", ")
        cluster.log("\(victim.name) has \(had); \(fault.scenario.title): now")
        let sampler = options.countHomeAssistants.map(InstanceSampler.init)
        return try await withMarkersRemovedOnError(markers, sampler: sampler) {
            let start = ContinuousClock.now
            let deadline = start + .seconds(options.timeout)
            do {
                try await cut()
            } catch {
                // A fault half applied (traffic dropped, the kill refused) must not outlive the drill.
                try? await restore()
                throw error
            }
            let back = Latch()
            let restoring: Task<Void, any Error>? = fault.restoreAfter.map { delay in
                Task {
                    try await Task.sleep(for: .seconds(max(0, delay - Self.seconds(since: start))))
                    try await restore()
                    cluster.log("\(victim.name) is back after \(Int(delay)) s")
                    back.set()
                }
            }
            let vip = report.sensorAddress.map { address in
                vipProbes(address, since: start, until: deadline, steady: options.steady, healthcheck: healthcheck)
            }
            let relapses = report.sensorAddress.flatMap { address in
                vip.map { vipRelapses(address, after: $0, healthcheck: healthcheck) }
            }
            // They sample until cancelled: also when the drill ends with an error.
            defer {
                relapses?.http.cancel()
                relapses?.mqtt.cancel()
            }
            // Swarm's view through a surviving manager, and the service through a surviving node's address: the node that
            // runs it must not be the one away (a frozen node that is back may run it again).
            var haSeconds: Double?, mqttSeconds: Double?
            let brokerMoves = placement.broker == victim.name
            while ContinuousClock.now < deadline, haSeconds == nil || (brokerMoves && mqttSeconds == nil) {
                if haSeconds == nil, let now = try? await homeAssistantNode(through: observerManager),
                    now != victim.name || back.isSet,
                    await probes.homeAssistantStatus(homeAssistantAddress(running: now, through: observer), spec.homeAssistant.port) == 401
                {
                    haSeconds = Self.seconds(since: start)
                    report.homeAssistantNode = now
                }
                if brokerMoves, mqttSeconds == nil, let now = try? await brokerNode(manager: observerManager),
                    now != victim.name || back.isSet,
                    await probes.mqttLogin(observer.address, spec.mqtt.port, healthcheckUser, healthcheck) == 0
                {
                    mqttSeconds = Self.seconds(since: start)
                    report.brokerNode = now
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            report.haSeconds = haSeconds
            report.mqttSeconds = mqttSeconds
            // The sensor address is measured while the node is away: restoring it first would end the outage by hand.
            report.vipHTTPSeconds = await vip?.http.value
            report.vipMQTTSeconds = await vip?.mqtt.value
            if let restoring { try await restoring.value } else { try await restore() }
            if sampler != nil, haSeconds != nil {
                cluster.log("\(victim.name) is back; counting Home Assistant instances for \(Int(options.countAfterwards)) s more")
                try await Task.sleep(for: .seconds(options.countAfterwards))
            }
            if let instances = await sampler?.stop() {
                report.mostHomeAssistants = instances.most
                report.instanceSamples = instances.samples
                report.twoAtOnce = instances.twoAtOnce
            }
            if let relapses {
                relapses.http.cancel()
                relapses.mqtt.cancel()
                report.vipHTTPRelapseSeconds = await relapses.http.value
                report.vipMQTTRelapseSeconds = await relapses.mqtt.value
            }
            if !brokerMoves { report.brokerNode = placement.broker }
            report.problems += timeouts(report, brokerMoves: brokerMoves, after: "\(victim.name) went away")
            // Whether it moved or not, the broker must accept the healthcheck user through a surviving node.
            if await probes.mqttLogin(observer.address, spec.mqtt.port, healthcheckUser, healthcheck) != 0 {
                report.problems.append("the broker does not accept logins through \(observer.name) after the drill")
            }
            cluster.log("looking for the loss-check markers")
            report.lossChecks = await markers.check(
                readers: observers + [victim], brokerHosts: observers.map(\.address),
                homeAssistantHosts: (spec.sensorAddress.vip.map { [$0.address] } ?? []) + [observer.address]
                    + observers.map(\.address).filter { $0 != observer.address })
            await markers.remove(nodes: observers + [victim], brokerHosts: observers.map(\.address))
            report.judge()
            return report
        }
    }

    /// Every node loses its power, then all are started again; measured until the whole service is back by itself.
    func allPowerCut(_ options: Options, placement: DrillPlacement, markers: DrillMarkers, healthcheck: String) async throws -> DrillReport
    {
        let spec = cluster.spec
        guard let cut = options.fault.cut, let restore = options.fault.restore else {
            throw HahaError.invalidArgument("a power cut of every node needs a lab", next: "add --lab NAME")
        }
        var report = DrillReport(
            scenario: .allPowerCut, target: nil, failedNodes: spec.nodes.map(\.name), placement: placement, timeoutSeconds: options.timeout)
        report.sensorAddress = spec.sensorAddress.vip?.address
        let addresses = spec.nodes.map(\.address)
        cluster.log("writing the loss-check markers (token \(markers.token))")
        try await withMarkersRemovedOnError(markers) {
            try await markers.write(fileWriters: spec.dataNodes, brokerHost: addresses[0])
        }
        let sampler = options.countHomeAssistants.map(InstanceSampler.init)
        return try await withMarkersRemovedOnError(markers, sampler: sampler) {
            cluster.log("power cut of \(spec.nodes.map(\.name).joined(separator: ", ")): now")
            do {
                _ = try await cluster.onAll { node, runner in try await cut(node, runner) }
            } catch {
                _ = await cluster.eachNode { node, runner in try await restore(node, runner) }
                throw error
            }
            cluster.log("starting every node again; nobody runs `haha up` from here on")
            _ = try await cluster.onAll { node, runner in try await restore(node, runner) }
            let start = ContinuousClock.now
            let deadline = start + .seconds(options.timeout)
            let vip = report.sensorAddress.map { address in
                vipProbes(address, since: start, until: deadline, steady: options.steady, healthcheck: healthcheck)
            }
            var full = FullService()
            while ContinuousClock.now < deadline {
                let galera = await galeraSynced()
                let homeAssistant = await anyAnswers(addresses) { await probes.homeAssistantStatus($0, spec.homeAssistant.port) == 401 }
                let broker = await anyAnswers(addresses) {
                    await probes.mqttLogin($0, spec.mqtt.port, healthcheckUser, healthcheck) == 0
                }
                let now = Self.seconds(since: start)
                if galera, full.galeraSeconds == nil { full.galeraSeconds = now }
                if homeAssistant, full.homeAssistantSeconds == nil { full.homeAssistantSeconds = now }
                if broker, full.brokerSeconds == nil { full.brokerSeconds = now }
                if galera, homeAssistant, broker {
                    full.seconds = now
                    break
                }
                try await Task.sleep(for: .seconds(1))
            }
            report.fullService = full
            report.vipHTTPSeconds = await vip?.http.value
            report.vipMQTTSeconds = await vip?.mqtt.value
            if let instances = await sampler?.stop() {
                report.mostHomeAssistants = instances.most
                report.instanceSamples = instances.samples
                report.twoAtOnce = instances.twoAtOnce
            }
            if full.seconds == nil {
                var missing: [String] = []
                if full.galeraSeconds == nil { missing.append("\(spec.dataNodes.count) Synced Galera members") }
                if full.homeAssistantSeconds == nil { missing.append("Home Assistant") }
                if full.brokerSeconds == nil { missing.append("the broker") }
                report.problems.append(
                    "the whole service was not back within \(Int(options.timeout)) s after every node was started again"
                        + (missing.isEmpty ? " (each part was, but never all at once)" : "; never seen: \(missing.joined(separator: ", "))")
                )
            }
            report.problems += vipTimeouts(report, after: "every node was started again")
            cluster.log("looking for the loss-check markers")
            report.lossChecks = await markers.check(
                readers: spec.nodes, brokerHosts: addresses,
                homeAssistantHosts: (spec.sensorAddress.vip.map { [$0.address] } ?? []) + addresses)
            await markers.remove(nodes: spec.nodes, brokerHosts: addresses)
            report.judge()
            return report
        }
    }

    // MARK: Pieces

    /// `/api/` → 401 and the health-check login through the VIP, each sampled every 150 ms until it answers steadily.
    func vipProbes(
        _ address: String, since start: ContinuousClock.Instant, until deadline: ContinuousClock.Instant, steady: Double,
        healthcheck: String
    ) -> (http: Task<Double?, Never>, mqtt: Task<Double?, Never>) {
        let (probes, spec, user) = (probes, cluster.spec, healthcheckUser)
        return (
            Self.answeringAgain(since: start, until: deadline, steady: steady) {
                await probes.homeAssistantStatus(address, spec.homeAssistant.port) == 401
            },
            Self.answeringAgain(since: start, until: deadline, steady: steady) {
                await probes.mqttLogin(address, spec.mqtt.port, user, healthcheck) == 0
            }
        )
    }

    /// After each of `vipProbes` found the VIP answering again: the longest it then went without an answer.
    func vipRelapses(
        _ address: String, after back: (http: Task<Double?, Never>, mqtt: Task<Double?, Never>), healthcheck: String
    ) -> (http: Task<Double?, Never>, mqtt: Task<Double?, Never>) {
        let (probes, spec, user) = (probes, cluster.spec, healthcheckUser)
        return (
            Self.relapses(after: back.http) { await probes.homeAssistantStatus(address, spec.homeAssistant.port) == 401 },
            Self.relapses(after: back.mqtt) { await probes.mqttLogin(address, spec.mqtt.port, user, healthcheck) == 0 }
        )
    }

    /// What did not answer within the timeout, as problems.
    func timeouts(_ report: DrillReport, brokerMoves: Bool, after what: String) -> [String] {
        let within = "within \(Int(report.timeoutSeconds)) s after \(what)"
        var problems: [String] = []
        if report.haSeconds == nil { problems.append("Home Assistant did not answer again \(within)") }
        if brokerMoves, report.mqttSeconds == nil { problems.append("the broker did not answer again \(within)") }
        return problems + vipTimeouts(report, after: what)
    }

    func vipTimeouts(_ report: DrillReport, after what: String) -> [String] {
        guard let address = report.sensorAddress else { return [] }
        let within = "within \(Int(report.timeoutSeconds)) s after \(what)"
        var problems: [String] = []
        if report.vipHTTPSeconds == nil { problems.append("Home Assistant did not answer through the sensor address \(address) \(within)") }
        if report.vipMQTTSeconds == nil { problems.append("the broker did not answer through the sensor address \(address) \(within)") }
        return problems
    }

    /// Every data node's member runs, is Synced, and sees all of them in a component with a history (a component
    /// re-formed with cluster UUID 0 serves, but no member can join it again); false on any doubt (a node still
    /// booting).
    func galeraSynced() async -> Bool {
        let deploy = Deploy(cluster: cluster, secrets: SecretValues([:]))
        let nodes = cluster.spec.dataNodes
        for node in nodes {
            let runner = cluster.runner(node)
            guard let id = try? await deploy.container(deploy.service(Renderer.Names.galera(node.name)), on: runner),
                let status = try? await deploy.wsrepStatus(id, on: runner), status["wsrep_local_state"] == "4",
                let size = status["wsrep_cluster_size"].flatMap(Int.init), size >= nodes.count,
                status["wsrep_cluster_state_uuid"] != GaleraRecovery.nilUUID
            else { return false }
        }
        return true
    }

    func anyAnswers(_ addresses: [String], _ probe: (String) async -> Bool) async -> Bool {
        for address in addresses {
            if await probe(address) { return true }
        }
        return false
    }

    /// Runs `body`; when it throws, stops the sampler and removes the markers (best effort) before passing the error on.
    func withMarkersRemovedOnError<T: Sendable>(
        _ markers: DrillMarkers, sampler: InstanceSampler? = nil, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch {
            _ = await sampler?.stop()
            await markers.remove(nodes: cluster.spec.nodes, brokerHosts: cluster.spec.nodes.map(\.address))
            throw error
        }
    }
}
