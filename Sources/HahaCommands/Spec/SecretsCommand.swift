import ArgumentParser
import HahaSystem

struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage the secrets directory.",
        subcommands: [SecretsGenerateCommand.self])
}

struct SecretsGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Create every missing secret file (random, mode 0600); existing ones are never changed.")

    @OptionGroup var spec: SpecOptions

    func run() async throws {
        let workspace = try spec.load()
        let created = try workspace.generateMissingSecrets()
        Console.error(
            created.isEmpty
                ? "all secrets present in \(workspace.secretsDirectory)"
                : "created \(created.joined(separator: ", ")) in \(workspace.secretsDirectory)")
    }
}
