import ArgumentParser

struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "A real multi-node cluster in containers on this machine, for tests and for trying haha.",
        subcommands: [])
}
