import ArgumentParser

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Day two for machines: replace a dead one, add one, remove one.",
        subcommands: [NodeReplaceCommand.self, NodeAddCommand.self, NodeRemoveCommand.self])
}
