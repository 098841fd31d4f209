import ArgumentParser
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
        if !(haTimeout > 0 && haTimeout <= 86_400) {
            throw ValidationError("--ha-timeout must be a number of seconds above 0, at most 86400")
        }
    }

    func run() async throws {
        // A secret a newer haha needs (for example after an upgrade) is created, never an existing one changed;
        // the spec is valid before anything is written, and its secrets are checked after.
        let workspace = try spec.loadValid(checkingSecrets: false)
        let created = try workspace.generateMissingSecrets()
        if !created.isEmpty { Console.error("created missing secrets: \(created.joined(separator: ", "))") }
        let diagnostics = workspace.validate(checkingSecrets: true)
        if diagnostics.hasErrors { throw DiagnosticsError(file: spec.path, diagnostics: diagnostics) }
        if let notice = Renderer.failoverNotice(workspace.spec) { Console.error(notice) }
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        try await ClusterLock.holding(cluster, command: "up") {
            try await converge(Convergence(cluster: cluster, homeAssistantTimeout: haTimeout))
        }
    }

    /// Runs the steps in order, printing each; then what changed and where Home Assistant answers.
    func converge(_ convergence: Convergence) async throws {
        let started = ContinuousClock.now
        let printer = StepPrinter()
        var state = Convergence.State()
        var changes: [String] = []
        for step in convergence.steps {
            let changed = try await printer.step(step.title) { try await step.converge(&state) }
            if changed, let name = step.change { changes.append(name) }
        }
        let elapsed = printer.format(ContinuousClock.now - started)
        Console.error(
            changes.isEmpty
                ? "no changes: the cluster already matches \(spec.path) (\(elapsed))"
                : "changed: \(changes.joined(separator: ", ")) (\(elapsed))")
        let secrets = convergence.cluster.workspace.secretsDirectory
        // On the host's network only the active node serves Home Assistant (and the VIP follows it).
        let alsoAt =
            convergence.cluster.spec.homeAssistant.hostNetwork ? "the active node's address works too" : "any node's address works too"
        Console.error(
            """
            Home Assistant: \(convergence.homeAssistantURL)  (\(alsoAt))
              user \(HomeAssistantSetup.ownerUsername), password in \(secrets)/\(SecretCatalog.homeAssistantOwner)
            MQTT for sensors: \(convergence.mqttAddress), users and passwords in \(secrets)/mqtt-*-password
            """)
        Console.out(convergence.homeAssistantURL)
    }
}
