import Foundation
import HahaCore

/// `haha up` as an ordered list of steps, the way kind creates a cluster: each step has a title the command prints
/// and converges one layer, saying whether it changed something. Every step is idempotent: a second run changes nothing.
public struct Convergence: Sendable {
    /// What a step learns for the ones after it.
    public struct State: Sendable {
        public var stackRunning = false
        public var facts: [String: Preflight.Facts] = [:]
        public init() {}
    }

    public struct Step: Sendable {
        /// The line printed while it runs.
        public var title: String
        /// The name listed under "changed:" when it changed something; nil for steps that only look.
        public var change: String?
        public var converge: @Sendable (inout State) async throws -> Bool

        public init(_ title: String, change: String?, converge: @escaping @Sendable (inout State) async throws -> Bool) {
            self.title = title
            self.change = change
            self.converge = converge
        }
    }

    public let cluster: Cluster
    public let steps: [Step]
    /// Where Home Assistant answers once the steps ran (the sensor VIP when there is one).
    public let homeAssistantURL: String
    /// Where sensors reach the broker.
    public let mqttAddress: String

    /// The steps for this cluster, in order. Reads the secrets and renders the files the steps deploy.
    public init(cluster: Cluster, homeAssistantTimeout: Double) throws {
        self.cluster = cluster
        let workspace = cluster.workspace, spec = cluster.spec
        let secrets = try workspace.readSecrets()
        let files = try Renderer(spec: spec, secrets: secrets).render()
        let primary = cluster.primary
        // Through the proxy on the first node; on the host's network Home Assistant answers only where it runs: the VIP.
        let setupAddress = spec.homeAssistant.hostNetwork ? (spec.sensorAddress.vip?.address ?? primary.address) : primary.address
        guard let url = URL(string: "http://\(setupAddress):\(spec.homeAssistant.port)/") else {
            throw HahaError.invalidArgument(
                "\(setupAddress) does not make a URL", next: "check nodes[].address in \(workspace.specPath)")
        }
        let address = spec.sensorAddress.vip?.address ?? primary.address
        homeAssistantURL = "http://\(address):\(spec.homeAssistant.port)/"
        mqttAddress = "\(address):\(spec.mqtt.port)"

        let swarm = Swarm(cluster: cluster), storage = Storage(cluster: cluster)
        let deploy = Deploy(cluster: cluster, secrets: secrets), ha = HomeAssistantSetup(baseURL: url)
        var steps: [Step] = [
            Step("Looking for an existing cluster", change: nil) { state in
                state.stackRunning = try await swarm.existingManager() != nil
                return false
            },
            Step("Preflight on \(spec.nodes.map(\.name).joined(separator: ", "))", change: nil) { state in
                state.facts = try await Preflight(cluster: cluster).run(stackRunning: state.stackRunning)
                return false
            },
            Step(
                "Gluster volume \(spec.storage.volume) (replica \(storage.brickNodes.count)) mounted at \(spec.storage.mountPath) on every node",
                change: "storage"
            ) { state in
                let changed = try await storage.converge(facts: state.facts)
                return try await storage.seed(files: files) || changed
            },
            Step("Swarm with \(NodeMembership.managerCount(spec.nodes.count)) managers, nodes labelled", change: "swarm") { _ in
                try await swarm.converge()
            },
            Step("Node scripts: Galera's ports open to the data nodes only, stuck services scheduled again", change: "node scripts") {
                _ in try await NodeScriptsSetup(cluster: cluster).converge(files: files)
            },
            // The sensor address early: every node must be able to hold it before Home Assistant may run there. A
            // new machine (node replace, node add) whose fence took the lease before keepalived ran on it left sensors
            // without an address for as long as the database took to settle (measured: 324 s).
            Step("Sensor address (\(Self.describe(spec.sensorAddress)))", change: "sensor address") { _ in
                try await SensorAddressSetup(cluster: cluster).converge(files: files)
            },
            Step("Images present on every node", change: "images") { _ in try await deploy.pullImages() },
            Step("Galera: \(spec.dataNodes.count) members synced", change: "galera") { _ in
                let changed = try await deploy.convergeGalera()
                try await deploy.waitSynced()
                return changed
            },
            Step("Stack \(spec.stackName) deployed", change: "stack") { _ in try await deploy.deploy(.steady) },
            Step("Home Assistant answers on \(ha.baseURL.absoluteString)", change: nil) { _ in
                try await ha.waitUntilUp(timeout: homeAssistantTimeout)
                return false
            },
            Step("Home Assistant owner account", change: "owner") { _ in
                try await OwnerAccount.ensure(
                    ha, password: secrets[SecretCatalog.homeAssistantOwner],
                    passwordFile: "\(workspace.secretsDirectory)/\(SecretCatalog.homeAssistantOwner)",
                    tokens: workspace.refreshTokenFile,
                    configDirectory: "\(spec.storage.mountPath)/homeassistant",
                    ownerOnVolume: { try await deploy.ownerOnVolume() },
                    restartHomeAssistant: {
                        cluster.log(
                            "Home Assistant's owner is half there (onboarding asks for it, but the volume's .storage/auth or its login provider has it): restarting Home Assistant and asking again"
                        )
                        try await deploy.restartHomeAssistant()
                        try await ha.waitUntilUp(timeout: homeAssistantTimeout)
                    },
                    setOrphanLoginAside: { try await deploy.setOrphanLoginAside() }) == .created
            },
            Step("MQTT integration connected to the cluster's broker", change: "mqtt") { _ in
                let token = try await OwnerAccount.accessToken(
                    ha, password: secrets[SecretCatalog.homeAssistantOwner], tokens: workspace.refreshTokenFile)
                return try await ha.ensureMQTT(
                    token: token, broker: Renderer.Names.mosquitto, port: spec.mqtt.port,
                    username: "homeassistant", password: secrets[SecretCatalog.mqttUser("homeassistant")])
            },
            Step("Every service of the stack runs all its tasks", change: nil) { _ in
                try await deploy.waitServicesRunning()
                return false
            },
        ]
        if spec.sensorAddress == .none { steps.removeAll { $0.change == "sensor address" } }
        self.steps = steps
    }

    static func describe(_ address: ClusterSpec.SensorAddress) -> String {
        switch address {
        case .vip(let vip): return "VIP \(vip.address) via keepalived"
        case .mdnsHostname(let name): return "\(name).local from every node"
        case .none: return "none"
        }
    }
}
