import ArgumentParser
import HahaSystem

/// One node argument, one fault: `haha lab kill n2`.
protocol LabNodeCommand: AsyncParsableCommand {
    var lab: LabOptions { get }
    var node: String { get }
    func act(_ driver: LabDriver) async throws
    var done: String { get }
}

extension LabNodeCommand {
    func run() async throws {
        let driver = try await lab.existing()
        try await act(driver)
        Console.error("\(node): \(done)")
    }
}

struct LabKillCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Power-cut a node: drop all its traffic, then kill it.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.kill(node) }
    var done: String { "power cut (start it again with `haha lab start \(node)`)" }
}

struct LabStopCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Shut a node down cleanly.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.stop(node) }
    var done: String { "stopped" }
}

struct LabStartCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped or killed node.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.start(node) }
    var done: String { "started" }
}

struct LabWipeCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(
        commandName: "wipe", abstract: "A dead disk: remove a node's container and volumes; `haha lab up` makes it again, empty.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.wipe(node) }
    var done: String {
        "wiped: `haha lab up` makes it again as a fresh machine, then `haha node replace \(node) --config …/haha.yaml` gives it its place"
    }
}

struct LabPartitionCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(
        commandName: "partition", abstract: "Cut a node off the lab network without stopping it.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.partition(node) }
    var done: String { "cut off the network (undo with `haha lab heal \(node)`)" }
}

struct LabHealCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "heal", abstract: "Reconnect a partitioned node.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.heal(node) }
    var done: String { "reconnected" }
}

struct LabPauseCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze every process of a node (docker pause).")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.pause(node) }
    var done: String { "frozen (resume it with `haha lab unpause \(node)`)" }
}

struct LabUnpauseCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Resume a frozen node.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.unpause(node) }
    var done: String { "resumed" }
}
