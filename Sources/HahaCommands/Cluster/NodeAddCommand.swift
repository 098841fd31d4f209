import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct NodeAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a machine to the cluster: Swarm, the Gluster pool and mount, a Galera member (data nodes), the sensor address.",
        discussion: """
            The machine runs Docker and SSH (same user, port and key as the first node unless given). haha checks that \
            it is in no swarm, that the swarm has a quorum and the database a synced member, adds it at the end of \
            haha.yaml (the old file kept as haha.yaml.before-add) and runs `haha up`: the existing database members \
            restart one at a time with the new member list, the new one copies the database by state transfer. The \
            first nodes of the spec are the Swarm managers, an odd number up to five: a fourth node joins as a worker, \
            a fifth makes the fourth a manager. The Gluster bricks stay on the first three data nodes.
            """)

    @OptionGroup var spec: SpecOptions

    @Argument(help: "NAME=ADDRESS of the new machine.")
    var node: String

    @Option(help: "data (runs Home Assistant and a database member) or arbiter.")
    var role: String = "data"

    @Option(help: "SSH user (default: the first node's).")
    var user: String?

    @Option(help: "SSH port (default: the first node's).")
    var port: Int?

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let started = ContinuousClock.now
        let workspace = try spec.loadValid()
        let parts = node.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let nodeRole = ClusterSpec.Node.Role(rawValue: role) else {
            throw ValidationError("give the machine as NAME=ADDRESS, and --role data or arbiter")
        }
        let first = workspace.spec.nodes[0]
        let new = ClusterSpec.Node(
            name: parts[0], address: parts[1], user: user ?? first.user, port: port ?? first.port, identityFile: first.identityFile,
            role: nodeRole)
        var grown = workspace
        switch NodeMembership.adding(new, to: workspace.spec) {
        case .failure(let refusal): throw HahaError(.invalidArgument, "not adding \(new.name): \(refusal.reason)", next: refusal.next)
        case .success(let spec): grown.spec = spec
        }
        let problems = Validator.validate(grown.spec)
        if problems.hasErrors { throw DiagnosticsError(file: spec.path, diagnostics: problems) }
        Console.error(
            "plan: \(new.name) (\(new.address), \(new.role.rawValue)) joins as Swarm \(grown.spec.nodes.count <= NodeMembership.managerCount(grown.spec.nodes.count) ? "manager" : "worker"), Gluster peer with the volume mounted\(new.role == .data ? ", Galera member (the others restart one at a time)" : ""), sensor address; then `haha up`"
        )
        for warning in NodeMembership.warnings(grown.spec) { Console.error("note: \(warning)") }
        try await ClusterChange.recordHostKey(grown, new)
        let cluster = Cluster(workspace: grown, log: { Console.error("   \($0)") })
        let membership = Membership(cluster: cluster, secrets: try workspace.readSecrets())
        try await ClusterLock.holding(Cluster(workspace: workspace, log: { Console.error("   \($0)") }), command: "node add") {
            try await StepPrinter().step("Checking \(new.name) and the cluster") { try await membership.checkBeforeAdding(new) }
            if change.dryRun { return }
            guard try Confirmation.typed(new.name, yes: change.yes, to: "add \(new.name) to the cluster") else { throw ExitCode(2) }
            try SpecFiles.rewrite(grown.spec, at: spec.path, keeping: "before-add", by: "haha node add \(node)")
            try await ClusterChange.converge(cluster, haTimeout: change.haTimeout)
        }
        if !change.dryRun {
            Console.out("added \(new.name) (\(new.address)) in \(String(format: "%.0f", (ContinuousClock.now - started) / .seconds(1))) s")
        }
    }
}
