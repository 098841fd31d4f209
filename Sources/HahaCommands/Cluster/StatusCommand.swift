import ArgumentParser
import HahaCore
import HahaSystem

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the cluster's verdict (healthy, degraded, down), where its parts run, and every probe.",
        discussion: """
            Exit status: 0 healthy, 3 degraded, 4 down (1: the command itself failed, e.g. an invalid haha.yaml). \
            What could not be learned is listed under NOT KNOWN and never counts as healthy: it makes the verdict at \
            least degraded, and only what was learned makes it down.
            """)

    @OptionGroup var spec: SpecOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let workspace = try spec.loadValid(checkingSecrets: false)
        let report = await ClusterStatus(cluster: Cluster(workspace: workspace)).probe()
        if json {
            try Console.json(report)
        } else {
            Console.out(StatusText.render(report))
        }
        if report.verdict != .healthy { throw ExitCode(report.verdict.exitCode) }
    }
}
