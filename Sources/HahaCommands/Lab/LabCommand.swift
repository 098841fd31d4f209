import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "A real multi-node cluster in containers on this machine, for tests and for trying haha.",
        discussion: """
            Each node is a privileged container with its own Docker engine, sshd and glusterd on a private network.
            haha reaches the nodes only over SSH, as on real machines. Needs root and a Docker engine with the
            haha-lab runtime (scripts/host-setup prepares both).
            """,
        subcommands: [
            LabUpCommand.self, LabImagesCommand.self, LabStatusCommand.self, LabKillCommand.self, LabStopCommand.self,
            LabStartCommand.self, LabWipeCommand.self, LabPartitionCommand.self, LabHealCommand.self, LabPauseCommand.self,
            LabUnpauseCommand.self,
            LabDownCommand.self,
        ])
}

/// Options shared by every lab command.
struct LabOptions: ParsableArguments {
    @Option(help: "Name of the lab (prefixes its containers, volumes and network).")
    var name = "haha-lab"

    @Option(help: "Directory for the lab's haha.yaml, secrets and SSH key.")
    var dir = "haha-lab"

    @Option(help: "Cache for Debian roots and image builds.")
    var cache = "/var/cache/haha"

    @Option(
        help: ArgumentHelp(
            "Debian archive for the lab's images (default: $\(DebianMirror.environmentVariable), else this host's apt sources).",
            valueName: "url"))
    var mirror: String?

    var directory: URL { URL(fileURLWithPath: dir).standardizedFileURL }

    func images() throws -> LabImages {
        LabImages(
            cacheDirectory: URL(fileURLWithPath: cache), mirror: try DebianMirror.resolve(override: mirror),
            progress: { Console.error("   \($0)") })
    }

    /// The driver of an existing lab (its layout read back from Docker).
    func existing() async throws -> LabDriver {
        guard let layout = try await LabDriver.discover(name: name) else {
            throw HahaError.notFound("no lab named \(name) on this machine", next: "create it with `haha lab up`")
        }
        return LabDriver(layout: layout, directory: directory, progress: { Console.error("   \($0)") })
    }
}
