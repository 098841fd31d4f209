import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Converge the cluster: storage, Swarm, images, Galera, the stack, Home Assistant and its MQTT integration.",
        discussion: "Safe to run again: a healthy cluster is left as it is. Nothing is changed when preflight finds a problem.")

    @OptionGroup var spec: SpecOptions

    @Option(help: "Seconds to wait for Home Assistant to answer.")
    var haTimeout: Double = 600

    func validate() throws {
        if !(haTimeout > 0 && haTimeout <= 86_400) { throw ValidationError("--ha-timeout must be a number of seconds above 0, at most 86400") }
    }

    func run() async throws {
        // A secret a newer haha needs (for example after an upgrade) is created, never an existing one changed;
        // the spec is valid before anything is written, and its secrets are checked after.
        let workspace = try spec.loadValid(checkingSecrets: false)
        let created = try workspace.generateMissingSecrets()
        if !created.isEmpty { Console.error("created missing secrets: \(created.joined(separator: ", "))") }
        let diagnostics = workspace.validate(checkingSecrets: true)
        if diagnostics.hasErrors { throw DiagnosticsError(file: spec.path, diagnostics: diagnostics) }
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        try await ClusterLock.holding(cluster, command: "up") { try await converge(workspace, cluster) }
    }

    func converge(_ workspace: Workspace, _ cluster: Cluster) async throws {
        let started = ContinuousClock.now
        let secrets = try workspace.readSecrets()
        let steps = StepPrinter()
        var changes: [String] = []
        func track(_ name: String, _ changed: Bool) { if changed { changes.append(name) } }

        let swarm = Swarm(cluster: cluster)
        let stackRunning = try await steps.step("Looking for an existing cluster") {
            try await swarm.manager() != nil
        }
        let facts = try await steps.step("Preflight on \(workspace.spec.nodes.map(\.name).joined(separator: ", "))") {
            try await Preflight(cluster: cluster).run(stackRunning: stackRunning)
        }
        let files = try Renderer(spec: workspace.spec, secrets: secrets).render()
        let storage = Storage(cluster: cluster)
        track("storage", try await steps.step("Gluster volume \(workspace.spec.storage.volume) (replica \(storage.brickNodes.count)) mounted at \(workspace.spec.storage.mountPath) on every node") {
            let changed = try await storage.converge(facts: facts)
            return try await storage.seed(files: files) || changed
        })
        track("swarm", try await steps.step("Swarm with \(min(workspace.spec.nodes.count, 5)) managers, nodes labelled") {
            try await swarm.converge()
        })
        let deploy = Deploy(cluster: cluster, secrets: secrets)
        track("images", try await steps.step("Images present on every node") { try await deploy.pullImages() })
        track("galera", try await steps.step("Galera: \(workspace.spec.dataNodes.count) members synced") {
            let changed = try await deploy.convergeGalera()
            try await deploy.waitSynced()
            return changed
        })
        track("stack", try await steps.step("Stack \(workspace.spec.stackName) deployed") { try await deploy.deploy(.steady) })

        let primary = cluster.primary
        guard let url = URL(string: "http://\(primary.address):\(workspace.spec.homeAssistant.port)/") else {
            throw HahaError.invalidArgument("\(primary.address) does not make a URL", next: "check nodes[].address in \(spec.path)")
        }
        let ha = HomeAssistantSetup(baseURL: url)
        try await steps.step("Home Assistant answers on \(ha.baseURL.absoluteString)") { try await ha.waitUntilUp(timeout: haTimeout) }
        let tokenPath = "\(workspace.secretsDirectory)/homeassistant-refresh-token"
        track("owner", try await steps.step("Home Assistant owner account") {
            guard try await ha.needsOwner() else { return false }
            let refresh = try await ha.createOwner(name: "Administrator", password: secrets[SecretCatalog.homeAssistantOwner])
            try writePrivateFile(tokenPath, contents: refresh + "\n")
            return true
        })
        if let refresh = try? String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) {
            track("mqtt", try await steps.step("MQTT integration connected to the cluster's broker") {
                let token = try await ha.accessToken(refreshToken: refresh)
                return try await ha.ensureMQTT(token: token, broker: Renderer.Names.mosquitto, port: workspace.spec.mqtt.port,
                                               username: "homeassistant", password: secrets[SecretCatalog.mqttUser("homeassistant")])
            })
        } else {
            steps.note("the owner existed before haha and no token is stored: add the MQTT integration in the UI (broker \(Renderer.Names.mosquitto), user homeassistant)")
        }
        if workspace.spec.sensorAddress != .none {
            track("sensor address", try await steps.step("Sensor address (\(sensorDescription(workspace.spec)))") {
                try await SensorAddressSetup(cluster: cluster).converge(files: files)
            })
        }

        let elapsed = steps.format(ContinuousClock.now - started)
        Console.error(changes.isEmpty ? "no changes: the cluster already matches \(spec.path) (\(elapsed))"
                                      : "changed: \(changes.joined(separator: ", ")) (\(elapsed))")
        let address = workspace.spec.sensorAddress.vip?.address ?? primary.address
        Console.error("""
            Home Assistant: http://\(address):\(workspace.spec.homeAssistant.port)/  (any node's address works too)
              user \(HomeAssistantSetup.ownerUsername), password in \(workspace.secretsDirectory)/\(SecretCatalog.homeAssistantOwner)
            MQTT for sensors: \(address):\(workspace.spec.mqtt.port), users and passwords in \(workspace.secretsDirectory)/mqtt-*-password
            """)
        Console.out("http://\(address):\(workspace.spec.homeAssistant.port)/")
    }

    func sensorDescription(_ spec: ClusterSpec) -> String {
        switch spec.sensorAddress {
        case .vip(let vip): return "VIP \(vip.address) via keepalived"
        case .mdnsHostname(let name): return "\(name).local from every node"
        case .none: return "none"
        }
    }
}
