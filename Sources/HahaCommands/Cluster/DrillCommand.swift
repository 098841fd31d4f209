import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Take a node away and measure how long until Home Assistant and the broker answer again; check nothing was lost.",
        discussion: """
            By default the node running Home Assistant is drained and made active again afterwards: safe on a real cluster. \
            With --lab NAME that lab's node gets a power cut (or --partition, --freeze, --all). A recorder row, a retained \
            MQTT message and a file in /config written just before must be there afterwards. Exit 0 when every run came \
            back in time with nothing lost; 1 after printing the report otherwise.
            """)

    @OptionGroup var spec: SpecOptions

    @Option(help: "Break a node of this lab (a power cut) instead of draining it.")
    var lab: String?

    @Option(help: "Which node fails: the one running homeassistant (default), the raft leader, the broker, or holding the vip.")
    var target: DrillTarget?

    @Flag(help: "With --lab: cut the node off the network (it keeps running) instead of a power cut.")
    var partition = false

    @Flag(help: "With --lab: freeze the node (docker pause) for 10 s instead of a power cut.")
    var freeze = false

    @Flag(help: "With --lab: power-cut every node, start them all again, and measure until the whole service is back by itself.")
    var all = false

    @Option(help: "Give up waiting after this many seconds (default 300; 600 with --all).")
    var timeout: Double?

    @Option(name: .customLong("repeat"), help: "Run the drill N times, one after the other, and sum them up (median, min, max).")
    var repetitions = 1

    @Flag(help: "Print JSON.")
    var json = false

    var scenario: DrillScenario {
        lab == nil ? .drain : partition ? .partition : freeze ? .freeze : all ? .allPowerCut : .powerCut
    }

    func validate() throws {
        if !(1...100).contains(repetitions) { throw ValidationError("--repeat must be 1 to 100") }
        if let timeout, !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--timeout must be a number of seconds above 0, at most 86400")
        }
        if [partition, freeze, all].filter({ $0 }).count > 1 { throw ValidationError("choose one of --partition, --freeze, --all") }
        if partition || freeze || all, lab == nil { throw ValidationError("--partition, --freeze and --all need --lab NAME") }
        if all, target != nil { throw ValidationError("--all cuts every node: leave out --target") }
    }

    func run() async throws {
        let workspace = try spec.loadValid()
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let secrets = try workspace.readSecrets()
        var options = Drill.Options(target: target ?? .homeassistant, timeout: timeout ?? (all ? 600 : 300))
        if let lab { try await LabDriver.prepareDrill(lab: lab, scenario: scenario, &options) }
        var reports: [DrillReport] = []
        for run in 1...repetitions {
            let title = repetitions == 1 ? "Failover drill" : "Failover drill \(run) of \(repetitions)"
            let report = try await StepPrinter().step(title) {
                try await ClusterLock.holding(cluster, command: "drill") {
                    try await Drill(cluster: cluster).run(secrets: secrets, options)
                }
            }
            if !json { Console.out(report.text) }
            reports.append(report)
        }
        let summary = DrillSummary(reports)
        if json {
            try repetitions == 1 ? Console.json(reports[0]) : Console.json(DrillRuns(runs: reports, summary: summary))
        } else if repetitions > 1 {
            Console.out(summary.text)
        }
        if summary.passed < summary.runs { throw ExitCode(1) }
    }
}

extension DrillTarget: ExpressibleByArgument {}
