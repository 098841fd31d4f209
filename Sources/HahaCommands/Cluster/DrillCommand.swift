import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Take the node running Home Assistant away and measure how long until it and the broker answer again.",
        discussion: """
            By default the node is drained (Swarm moves its services away) and made active again afterwards: safe on a
            real cluster. With --lab NAME the node of that lab gets a power cut instead (`haha lab kill`) and is started again.
            """)

    @OptionGroup var spec: SpecOptions

    @Option(help: "Power-cut the node of this lab instead of draining it.")
    var lab: String?

    @Flag(help: "With --lab: cut the node off the network (it keeps running) instead of a power cut.")
    var partition = false

    @Option(help: "Give up after this many seconds.")
    var timeout: Double = 300

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must be a number of seconds above 0, at most 86400") }
        if partition, lab == nil { throw ValidationError("--partition needs --lab NAME") }
    }

    func run() async throws {
        let workspace = try spec.loadValid()
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let secrets = try workspace.readSecrets()
        var fail: (@Sendable (ClusterSpec.Node, any CommandRunner) async throws -> Void)?
        var restore: (@Sendable (ClusterSpec.Node, any CommandRunner) async throws -> Void)?
        var count: (@Sendable () async -> Int?)?
        if let lab {
            guard let layout = try await LabDriver.discover(name: lab) else {
                throw HahaError.notFound("no lab named \(lab)", next: "leave out --lab on a real cluster")
            }
            let driver = LabDriver(layout: layout, directory: URL(fileURLWithPath: "."))
            let partition = partition
            fail = { node, _ in try await partition ? driver.partition(node.name) : driver.kill(node.name) }
            restore = { node, _ in try await partition ? driver.heal(node.name) : driver.start(node.name) }
            count = { await driver.homeAssistantProcesses() }
        }
        let result = try await StepPrinter().step("Failover drill") {
            try await ClusterLock.holding(cluster, command: "drill") {
                try await Drill(cluster: cluster).run(
                    healthcheckPassword: secrets[SecretCatalog.mqttHealthcheck], fail: fail, restore: restore,
                    countHomeAssistants: count, timeout: timeout)
            }
        }
        if json { return try Console.json(result) }
        let broker =
            result.mqttSeconds.map { String(format: "the broker after %.1f s on %@", $0, result.brokerNode) }
            ?? "the broker ran on \(result.brokerNode) and kept answering"
        Console.out(
            String(
                format: "%@ went away (%@): Home Assistant answered again after %.1f s on %@; ",
                result.failedNode, lab == nil ? "drained" : partition ? "cut off the network" : "power cut", result.homeAssistantSeconds,
                result.homeAssistantNode) + broker
                + (result.mostHomeAssistants.map {
                    "; at most \($0) Home Assistant at once (\(result.instanceSamples ?? 0) samples, 100 ms apart)"
                } ?? ""))
    }
}
