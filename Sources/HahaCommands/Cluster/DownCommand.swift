import ArgumentParser
import HahaCore
import HahaSystem

struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove the stack, Swarm membership, mount, Gluster volume and peers, keepalived and cron that haha set up.",
        discussion: "Without --purge the data stays (Galera volumes, Gluster bricks) and is listed; with --purge nothing of haha remains.")

    @OptionGroup var spec: SpecOptions

    @Flag(help: "Also delete the data: Galera volumes, Gluster bricks, /var/lib/haha, and packages haha installed.")
    var purge = false

    func run() async throws {
        let workspace = try spec.loadValid(checkingSecrets: false)
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let kept = try await StepPrinter().step(
            "Removing haha from \(workspace.spec.nodes.map(\.name).joined(separator: ", "))\(purge ? " (purge)" : "")"
        ) {
            try await ClusterLock.holding(cluster, command: "down") { try await Teardown(cluster: cluster).run(purge: purge) }
        }
        if kept.isEmpty {
            Console.error("nothing of haha remains on the nodes")
        } else {
            Console.error("kept (run `haha down --purge` to delete, or `haha up` to use again):")
            for line in kept { Console.out("  \(line)") }
        }
    }
}
