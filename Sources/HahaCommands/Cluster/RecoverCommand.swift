import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Start the database from the member you choose, when `haha up` refuses to guess which one holds every commit.",
        discussion: """
            Shows what each member holds and what starting from NODE would discard on the others, asks for confirmation \
            (or --yes), then bootstraps Galera from NODE; the others receive a full copy of its data. To read the \
            positions, members that are not serving (no Primary Component runs) are stopped first.
            """)

    @OptionGroup var spec: SpecOptions

    @Option(help: "The member to start from (a data node's name).")
    var from: String

    @Flag(help: "Do not ask: accept what would be discarded.")
    var yes = false

    @Flag(help: "Print what each member holds as JSON (nothing is bootstrapped without --yes).")
    var json = false

    func run() async throws {
        let workspace = try spec.loadValid()
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let deploy = Deploy(cluster: cluster, secrets: try workspace.readSecrets())
        let steps = StepPrinter()
        try await ClusterLock.holding(cluster, command: "recover") {
            let (members, report) = try await steps.step("Reading every member's position") {
                try await deploy.forcedBootstrapReport(from: from)
            }
            if json {
                try Console.json(RecoverReport(members: members, report: report))
            } else {
                for member in members { Console.out(MemberLine(member).text) }
                Console.out(
                    report.losses.isEmpty
                        ? "starting from \(from) (seqno \(report.seqno)) discards nothing"
                        : "starting from \(from) (seqno \(report.seqno)) discards:\n"
                            + report.losses.map { "  - \($0)" }.joined(separator: "\n"))
            }
            guard
                try Confirmation.typed(
                    from, yes: yes, to: "bootstrap from \(from)\(report.losses.isEmpty ? "" : " and discard the above")", mayAsk: !json)
            else {
                Console.error("nothing was bootstrapped; the members read are stopped until `haha up` or `haha recover --from NODE --yes`")
                throw ExitCode(2)
            }
            try await steps.step("Bootstrapping Galera from \(from); the others join it") {
                try await deploy.forceBootstrap(report, members: members)
            }
            Console.error("Galera runs from \(from); run `haha up` to check the rest of the cluster")
        }
    }
}
