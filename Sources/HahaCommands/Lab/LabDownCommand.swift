import ArgumentParser
import HahaCore
import HahaSystem

struct LabDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove the lab's containers, volumes, network and firewall rule (its directory and image cache stay).")

    @OptionGroup var lab: LabOptions

    func run() async throws {
        let layout = try await LabDriver.discover(name: lab.name) ?? LabLayout(name: lab.name)
        try await LabDriver(layout: layout, directory: lab.directory).down()
        Console.error("lab \(lab.name) removed (kept: \(lab.dir)/ with its haha.yaml and secrets, and the image cache in \(lab.cache))")
    }
}
