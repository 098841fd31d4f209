import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

/// The root command. Subcommands live one per file, grouped by noun.
public struct Haha: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "haha",
        abstract: "Highly available Home Assistant on three or more small machines.",
        discussion: """
            haha turns 3+ machines (Raspberry Pi 4/5, mini PCs) into a cluster that keeps Home Assistant running when
            any one of them dies: Docker Swarm, GlusterFS replica 3, MariaDB Galera, Mosquitto and a floating sensor address.
            Start with `haha init`, or try everything on one machine with `haha lab up`.
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, InventoryCommand.self, SecretsCommand.self, ValidateCommand.self, RenderCommand.self,
            UpCommand.self, DownCommand.self, StatusCommand.self, DrillCommand.self, RecoverCommand.self, BackupCommand.self,
            RestoreCommand.self, UpgradeCommand.self, NodeCommand.self, LabCommand.self,
        ])

    public init() {}

    /// Runs the CLI: errors become one clear message and an exit code, never a backtrace.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as DiagnosticsError {
            Console.error(error.description)
            Foundation.exit(1)
        } catch let error as HahaError {
            Console.error("error: \(error)")
            Foundation.exit(1)
        } catch let error as CommandError {
            Console.error("error: \(error)")
            Foundation.exit(1)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

/// Options every command that reads the spec shares.
struct SpecOptions: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: "The cluster spec (default: $HAHA_CONFIG or ./haha.yaml).")
    var config: String?

    var path: String {
        SpecFiles.path(option: config)
    }

    func load() throws -> Workspace { try Workspace.load(specPath: path) }

    /// Loads the spec and refuses an invalid one (every problem at once, exit 1) before anything runs;
    /// prints the warnings. Commands that use no secret pass `checkingSecrets: false`.
    func loadValid(checkingSecrets: Bool = true) throws -> Workspace {
        let workspace = try load()
        let diagnostics = workspace.validate(checkingSecrets: checkingSecrets)
        if diagnostics.hasErrors { throw DiagnosticsError(file: path, diagnostics: diagnostics) }
        for warning in diagnostics.warnings { Console.error(warning.formatted(file: path)) }
        return workspace
    }
}
