import ArgumentParser
import HahaCore
import HahaSystem

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the cluster: nodes, services, Galera members.",
        discussion: "Exit status 0 when every probe answered; 1 (after printing the report) when something could not be learned.")

    @OptionGroup var spec: SpecOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let workspace = try spec.loadValid(checkingSecrets: false)
        let report = await ClusterStatus(cluster: Cluster(workspace: workspace)).probe()
        if json {
            try Console.json(report)
        } else {
            print(report)
        }
        if !report.problems.isEmpty { throw ExitCode(1) }
    }

    func print(_ report: ClusterStatus.Report) {
        Console.out(
            Table.render(
                header: ["NODE", "ADDRESS", "SSH", "SWARM", "SHARED VOLUME"],
                rows: report.nodes.map {
                    [$0.name, $0.address, $0.reachable ? "ok" : "unreachable", $0.swarm, $0.mounted ? "mounted" : "-"]
                }))
        Console.out("")
        Console.out(Table.render(header: ["SERVICE", "REPLICAS"], rows: report.services.map { [$0.name, $0.replicas] }))
        Console.out("")
        Console.out(
            Table.render(
                header: ["GALERA", "RUNNING", "STATUS", "SIZE", "SYNCED"],
                rows: report.galera.map {
                    [
                        $0.node, $0.running ? "yes" : "no", $0.clusterStatus ?? "-", $0.clusterSize.map(String.init) ?? "-",
                        $0.synced ? "yes" : "no",
                    ]
                }))
        if !report.problems.isEmpty {
            Console.out("")
            Console.out(Table.render(header: ["NOT KNOWN"], rows: report.problems.map { [$0] }))
        }
    }
}
