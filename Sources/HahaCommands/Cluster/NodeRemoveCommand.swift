import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct NodeRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Retire a running machine: its database member, brick, Swarm and Gluster membership, sensor address.",
        discussion: """
            The cluster keeps at least three nodes and two data nodes. haha checks the quorum first, then stops the \
            node's database member (the others go on), moves its Gluster brick to the node that takes its place among \
            the first three data nodes and waits for the heal, removes its sensor address and mount, makes it leave \
            the swarm and the Gluster pool, writes haha.yaml without it (the old file kept as haha.yaml.before-remove) \
            and runs `haha up`. The node's database volume is kept on it (and named). For a dead machine use \
            `haha node replace`.
            """)

    @OptionGroup var spec: SpecOptions

    @Argument(help: "The node to remove, as named in haha.yaml.")
    var node: String

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let started = ContinuousClock.now
        let workspace = try spec.loadValid()
        var shrunk = workspace
        switch NodeMembership.removing(node, from: workspace.spec) {
        case .failure(let refusal): throw HahaError(.invalidArgument, "not removing \(node): \(refusal.reason)", next: refusal.next)
        case .success(let spec): shrunk.spec = spec
        }
        guard let leaving = workspace.spec.nodes.first(where: { $0.name == node }) else { return }
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let membership = Membership(cluster: cluster, secrets: try workspace.readSecrets())
        Console.error("plan: \(node) leaves the database, the Gluster volume (its brick moves if it holds one), the swarm; then `haha up`")
        for warning in NodeMembership.warnings(shrunk.spec) { Console.error("note: \(warning)") }
        try await ClusterLock.holding(cluster, command: "node remove") {
            try await StepPrinter().step("Checking the cluster's quorum without \(node)") {
                try await membership.checkQuorum(without: node)
            }
            if change.dryRun { return }
            guard try Confirmation.typed(node, yes: change.yes, to: "remove \(node) from the cluster") else { throw ExitCode(2) }
            let kept = try await StepPrinter().step("Taking \(node) out") { try await membership.remove(leaving, shrunk: shrunk.spec) }
            try SpecFiles.rewrite(shrunk.spec, at: spec.path, keeping: "before-remove", by: "haha node remove \(node)")
            try await ClusterChange.converge(Cluster(workspace: shrunk, log: { Console.error("   \($0)") }), haTimeout: change.haTimeout)
            for line in kept { Console.error("kept: \(line)") }
        }
        if !change.dryRun {
            Console.out("removed \(node) in \(String(format: "%.0f", (ContinuousClock.now - started) / .seconds(1))) s")
        }
    }
}
