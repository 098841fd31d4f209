import ArgumentParser
import HahaSystem

struct LabImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Build the lab's service images (offline stand-ins of the official ones) and load them into the nodes.")

    @OptionGroup var lab: LabOptions

    @Option(help: "Only these recipes (mariadb, mosquitto, haproxy, homeassistant).")
    var only: [String] = []

    @Flag(help: "Build only; do not load into the nodes.")
    var noLoad = false

    func run() async throws {
        let steps = StepPrinter()
        let names = only.isEmpty ? ["mariadb", "mosquitto", "haproxy", "homeassistant"] : only
        let tags = try await steps.step("Images built: \(names.joined(separator: ", "))") {
            try await lab.images().services(names)
        }
        if !noLoad {
            let driver = try await lab.existing()
            try await steps.step("Images loaded into \(driver.layout.nodes.map(\.name).joined(separator: ", "))") {
                try await driver.load(tags.values.sorted())
            }
        }
        for tag in tags.values.sorted() { Console.out(tag) }
    }
}
