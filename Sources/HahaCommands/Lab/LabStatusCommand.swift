import ArgumentParser
import HahaSystem

struct LabStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the lab's nodes.")

    @OptionGroup var lab: LabOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let states = try await lab.existing().status()
        if json { return try Console.json(states) }
        Console.out(
            Table.render(
                header: ["NODE", "CONTAINER", "ADDRESS", "ROLE", "STATE", "NETWORK"],
                rows: states.map { [$0.name, $0.container, $0.address, $0.role, $0.state, $0.partitioned ? "partitioned" : "connected"] }))
    }
}
