import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct NodeReplaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replace",
        abstract: "Put a fresh machine in a dead node's place: its Swarm role, Gluster brick and Galera member.",
        discussion: """
            The node's old machine is dead (or powered off for good). The new one runs Docker and SSH at the same address, \
            or at --address (haha.yaml is updated; the old file is kept as haha.yaml.before-replace). haha reads the \
            survivors first and refuses, saying why, when the swarm has no quorum, no other Galera member is Synced, a \
            Gluster peer is missing, or the new machine is already in a swarm. Then it removes the dead machine's Swarm \
            record, gives its brick to the new machine, runs `haha up` (the new machine joins the swarm, mounts the \
            volume, its Galera member copies the database from a survivor) and waits until the volume has healed. Home \
            Assistant keeps running on the others meanwhile. Asks for confirmation (or --yes); --dry-run shows the plan.
            """)

    @OptionGroup var spec: SpecOptions

    @Argument(help: "The node to replace, as named in haha.yaml.")
    var node: String

    @Option(help: "The new machine's address, when it differs from the old one's.")
    var address: String?

    @OptionGroup var change: ChangeOptions

    @Flag(help: "Print the steps and their times as JSON on stdout.")
    var json = false

    struct Report: Encodable {
        var node: String
        var oldAddress: String
        var newAddress: String
        var dryRun: Bool
        var steps: [Step]
        var seconds: Double
        struct Step: Encodable {
            var step: String
            var seconds: Double?
        }
    }

    func run() async throws {
        let started = ContinuousClock.now
        var workspace = try spec.loadValid()
        guard let index = workspace.spec.nodes.firstIndex(where: { $0.name == node }) else {
            throw HahaError.invalidArgument(
                "no node \"\(node)\" in \(spec.path)", next: "nodes are \(workspace.spec.nodes.map(\.name).joined(separator: ", "))")
        }
        let oldAddress = workspace.spec.nodes[index].address
        let original = workspace.spec
        if let address, address != oldAddress {
            workspace.spec.nodes[index].address = address
            let problems = Validator.validate(workspace.spec)
            if problems.hasErrors { throw DiagnosticsError(file: spec.path, diagnostics: problems) }
        }
        let target = workspace.spec.nodes[index]
        try await ClusterChange.recordHostKey(workspace, target)
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let replace = NodeReplace(cluster: cluster, node: target, oldAddress: oldAddress)
        let printer = StepPrinter()
        var report = Report(node: node, oldAddress: oldAddress, newAddress: target.address, dryRun: change.dryRun, steps: [], seconds: 0)
        try await ClusterLock.holding(cluster, command: "node replace") {
            let facts = try await printer.step("Reading the survivors and the new machine") {
                try await replace.facts(secrets: try workspace.readSecrets())
            }
            let steps: [NodeReplacement.Step]
            switch NodeReplacement.plan(facts) {
            case .failure(let refusal): throw HahaError(.invalidState, "not replacing \(node): \(refusal.reason)", next: refusal.next)
            case .success(let planned): steps = planned
            }
            // A run that stopped after haha.yaml got the new address finds the old one in the volume.
            let previous = NodeReplacement.resumed(facts).oldAddress
            report.oldAddress = previous
            Console.error("plan for \(node) (\(previous) → \(target.address)):")
            for (number, step) in steps.enumerated() { Console.error("  \(number + 1). \(step.summary)") }
            report.steps = steps.map { Report.Step(step: $0.summary, seconds: nil) }
            if change.dryRun { return }
            guard try Confirmation.typed(node, yes: change.yes, to: "replace \(node) with the new machine") else {
                Console.error("nothing was changed")
                throw ExitCode(2)
            }
            if workspace.spec != original { try writeSpec(workspace.spec) }
            for (number, step) in steps.enumerated() {
                let stepStart = ContinuousClock.now
                if step == .converge {
                    try await ClusterChange.converge(cluster, haTimeout: change.haTimeout)
                } else {
                    try await printer.step(step.summary) { try await replace.run(step) }
                }
                report.steps[number].seconds = (ContinuousClock.now - stepStart) / .seconds(1)
            }
        }
        report.seconds = (ContinuousClock.now - started) / .seconds(1)
        if json {
            try Console.json(report)
        } else if !change.dryRun {
            Console.out("replaced \(node) (\(target.address)) in \(String(format: "%.0f", report.seconds)) s")
            Console.error("run `haha status` to see every layer")
        }
    }

    func writeSpec(_ updated: ClusterSpec) throws {
        try SpecFiles.rewrite(updated, at: spec.path, keeping: "before-replace", by: "haha node replace \(node)")
        Console.error("updated \(spec.path) (\(node) is now at \(updated.nodes.first { $0.name == node }?.address ?? "?"))")
    }

}
