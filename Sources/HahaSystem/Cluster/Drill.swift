import Foundation
import HahaCore

/// A failover drill: take the node that runs Home Assistant out of service and measure how long until
/// Home Assistant and the broker answer again from another node. The node is put back afterwards.
public struct Drill: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    public struct Result: Sendable, Codable {
        public var failedNode: String
        public var homeAssistantNode: String
        public var homeAssistantSeconds: Double
        /// Seconds until the broker answered again through another node; nil when it ran elsewhere (unaffected).
        public var mqttSeconds: Double?
        public var brokerNode: String
        /// The most Home Assistant processes seen running at once, sampled every 100 ms from just before the node went
        /// away until 60 s after it came back (nil when the drill had no way to count them).
        public var mostHomeAssistants: Int?
        /// How many samples that count rests on.
        public var instanceSamples: Int?
    }

    /// Counts Home Assistant processes about every 100 ms while it runs; `stop` returns the highest count and the number
    /// of samples. `count` answers nil when a sample could not be taken (it is then not counted).
    final class InstanceSampler: Sendable {
        let task: Task<(most: Int, samples: Int), Never>

        init(_ count: @escaping @Sendable () async -> Int?) {
            task = Task {
                var most = 0, samples = 0
                while !Task.isCancelled {
                    if let now = await count() {
                        most = max(most, now)
                        samples += 1
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return (most, samples)
            }
        }

        func stop() async -> (most: Int, samples: Int) {
            task.cancel()
            return await task.value
        }
    }

    /// Which spec node runs a service's task, from a manager (Swarm reports host names; the `haha.node`
    /// label maps them to the spec's names, which need not be the host names).
    func node(of service: String, manager: any CommandRunner) async throws -> String? {
        let lines = try await manager.output([
            "docker", "service", "ps", service, "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}",
        ])
        guard let host = lines.split(separator: "\n").first(where: { $0.contains("Running") }).map({ String($0.split(separator: " ")[0]) })
        else { return nil }
        return try await specName(ofHost: host, manager: manager)
    }

    /// The spec name of the node whose fence holds Home Assistant's lease (it runs Home Assistant), read from the shared
    /// volume through `runner`'s node; nil when the lease is released or unreadable.
    func homeAssistantNode(through runner: any CommandRunner) async throws -> String? {
        let text = try await runner.output(["cat", FenceLease.path(cluster.spec)], timeout: 5)
        guard case .held(let host) = FenceLease(parsing: text) else { return nil }
        return try await specName(ofHost: host, manager: runner)
    }

    func specName(ofHost host: String, manager: any CommandRunner) async throws -> String {
        let label = try await manager.output([
            "docker", "node", "inspect", host, "--format", "{{index .Spec.Labels \"\(Renderer.Names.nodeLabel)\"}}",
        ])
        return label.isEmpty ? host : label
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

    /// `fail` takes the node out (drain by default, or a lab power cut); `restore` brings it back.
    public func run(
        healthcheckPassword: String,
        fail: (@Sendable (ClusterSpec.Node, any CommandRunner) async throws -> Void)? = nil,
        restore: (@Sendable (ClusterSpec.Node, any CommandRunner) async throws -> Void)? = nil,
        countHomeAssistants: (@Sendable () async -> Int?)? = nil,
        timeout: Double = 300
    ) async throws -> Result {
        let spec = cluster.spec
        // A drill starts from a whole cluster: a Swarm with a leader and every Galera member synced. Taking a node
        // away while the previous one is still rejoining loses the database's Primary Component (docs/benchmarks.md).
        let manager = try await Swarm(cluster: cluster).managerWithQuorum(purpose: "run a drill")
        cluster.log("waiting until every Galera member is synced before taking a node away")
        try await Deploy(cluster: cluster, secrets: SecretValues([:])).waitSynced()
        let ha = "\(spec.stackName)_\(Renderer.Names.homeAssistant)"
        let broker = "\(spec.stackName)_\(Renderer.Names.mosquitto)"
        guard let before = try await homeAssistantNode(through: manager), let victim = spec.nodes.first(where: { $0.name == before }) else {
            throw HahaError(.invalidState, "Home Assistant is not running", next: "run `haha up` first")
        }
        let brokerBefore = try await node(of: broker, manager: manager) ?? ""
        // Ask through a node that stays up, and through a manager that stays up.
        let observers = spec.nodes.filter { $0.name != victim.name }
        guard let observer = observers.first else {
            throw HahaError(.invalidState, "a drill needs two nodes or more", next: "add nodes to haha.yaml and run `haha up`")
        }
        let observerManager = cluster.runner(observer)
        guard let url = URL(string: "http://\(observer.address):\(spec.homeAssistant.port)/") else {
            throw HahaError(
                .invalidArgument, "\(observer.address) does not make a URL", next: "correct \(observer.name)'s address in haha.yaml")
        }
        let http = HomeAssistantSetup(baseURL: url)
        let victimID = try await swarmID(of: victim, manager: observerManager)

        cluster.log("Home Assistant runs on \(victim.name); taking \(victim.name) out")
        let sampler = countHomeAssistants.map(InstanceSampler.init)
        let start = ContinuousClock.now
        if let fail {
            try await fail(victim, cluster.runner(victim))
        } else {
            try await observerManager.check(["docker", "node", "update", "--availability", "drain", victimID], timeout: 60)
        }
        var haSeconds: Double?, mqttSeconds: Double?, haNode = ""
        let deadline = start + .seconds(timeout)
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        let brokerMoves = brokerBefore == victim.name
        while ContinuousClock.now < deadline, haSeconds == nil || (brokerMoves && mqttSeconds == nil) {
            if haSeconds == nil, let now = try? await homeAssistantNode(through: observerManager), now != victim.name,
                let status = try? await http.request("GET", "api/", timeout: 2).status, status == 401
            {
                haSeconds = seconds()
                haNode = now
            }
            if brokerMoves, mqttSeconds == nil, let now = try? await node(of: broker, manager: observerManager), now != victim.name,
                MQTTProbe.connect(host: observer.address, port: spec.mqtt.port, username: "healthcheck", password: healthcheckPassword) == 0
            {
                mqttSeconds = seconds()
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        if let restore {
            try await restore(victim, cluster.runner(victim))
        } else {
            try await observerManager.check(["docker", "node", "update", "--availability", "active", victimID], timeout: 60)
        }
        // A node that comes back (a healed partition) may still run its instance for a while: keep counting.
        if sampler != nil, haSeconds != nil {
            cluster.log("\(victim.name) is back; counting Home Assistant instances for 60 s more")
            try await Task.sleep(for: .seconds(60))
        }
        let instances = await sampler?.stop()
        guard let haSeconds, !brokerMoves || mqttSeconds != nil else {
            throw HahaError(
                .timeout, "Home Assistant or the broker did not come back within \(Int(timeout)) s after \(victim.name) went away",
                next: "look at `haha status` and `docker service ps \(ha)`")
        }
        // Whether it moved or not, the broker must accept the healthcheck user through a surviving node.
        guard MQTTProbe.connect(host: observer.address, port: spec.mqtt.port, username: "healthcheck", password: healthcheckPassword) == 0
        else {
            throw HahaError(
                .failed, "the broker does not accept logins through \(observer.name) after the drill",
                next: "look at `docker service ps \(broker)`")
        }
        return Result(
            failedNode: victim.name, homeAssistantNode: haNode, homeAssistantSeconds: haSeconds, mqttSeconds: mqttSeconds,
            brokerNode: brokerMoves ? (try await node(of: broker, manager: observerManager) ?? "") : brokerBefore,
            mostHomeAssistants: instances?.most, instanceSamples: instances?.samples)
    }

}
