import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a `haha backup` archive back: the database, Home Assistant's /config and the broker's data.",
        discussion: """
            The archive is checked first (every part against its checksum; refused when a newer Home Assistant or MariaDB \
            wrote it than the cluster runs). Then Home Assistant and the broker stop, the database is replaced (the one \
            it replaces is dumped beside the archive on that node), /config and the broker's data are swapped for the \
            archive's (the old ones renamed …before-restore-DATE), and both start again. Asks for confirmation (or --yes).
            """)

    @OptionGroup var spec: SpecOptions

    @Argument(help: "The archive `haha backup` wrote.")
    var file: String

    @Flag(help: "Do not ask: replace the cluster's data with the archive's.")
    var yes = false

    @Option(
        help:
            "Only unpack the secrets a backup taken with --include-secrets holds (haha.yaml, its secrets, known hosts) into this new directory, on this machine; the cluster is not touched."
    )
    var secretsInto: String?

    @Option(help: "With --secrets-into: the file holding the passphrase given to `haha backup --passphrase-file`.")
    var passphraseFile: String?

    func validate() throws {
        if (secretsInto != nil) != (passphraseFile != nil) {
            throw ValidationError("--secrets-into and --passphrase-file go together")
        }
    }

    func run() async throws {
        if let secretsInto, let passphraseFile {
            try await unpackSecrets(into: secretsInto, passphraseFile: passphraseFile)
            return
        }
        let workspace = try spec.loadValid()
        guard let archive = FileManager.default.contents(atPath: file) else {
            throw HahaError.notFound("cannot read \(file)", next: "give the path of an archive `haha backup` wrote")
        }
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let backup = Backup(cluster: cluster, secrets: try workspace.readSecrets())
        let steps = StepPrinter()
        try await ClusterLock.holding(cluster, command: "restore") {
            let prepared = try await steps.step("Checking \(file)") { try await backup.prepare(archive: archive) }
            let manifest = prepared.manifest
            Console.out(
                "backup of \(manifest.created): Home Assistant \(manifest.homeAssistantVersion ?? "?"), MariaDB \(manifest.mariadbVersion), database from \(manifest.databaseFrom) at seqno \(manifest.databaseSeqno.map(String.init) ?? "?")"
            )
            guard prepared.problems.isEmpty else {
                await backup.discard(prepared)
                throw HahaError(
                    .invalidState, "this backup cannot be restored here:\n" + prepared.problems.map { "  - \($0)" }.joined(separator: "\n"))
            }
            guard
                try Confirmation.typed(
                    "restore", yes: yes, to: "replace the cluster's database, /config and broker data with the archive's")
            else {
                await backup.discard(prepared)
                Console.error("nothing was restored")
                throw ExitCode(2)
            }
            let kept = try await steps.step("Restoring onto \(prepared.member.node.name); Home Assistant and the broker stop meanwhile") {
                try await backup.restore(prepared, stamp: BackupCommand.stamp(Date()))
            }
            Console.error("restored; what it replaced is kept on \(kept.node):")
            for path in kept.paths { Console.out("  \(path)") }
            Console.error("run `haha status` to see Home Assistant come back")
        }
    }

    /// A new machine to run haha from: the spec and its secrets back from the archive, nothing else.
    func unpackSecrets(into directory: String, passphraseFile: String) async throws {
        let read = try await LocalRunner().run(Command(["tar", "-xOf", file, BackupManifest.fileName], timeout: 120))
        guard read.succeeded else {
            throw HahaError.notFound(
                "cannot read \(BackupManifest.fileName) from \(file)", next: "give the path of an archive `haha backup` wrote")
        }
        let manifest: BackupManifest
        switch BackupManifest.decode(read.stdout) {
        case .success(let decoded): manifest = decoded
        case .failure(let problem): throw HahaError(.invalidState, "\(file) cannot be read: \(problem)")
        }
        let written = try await SecretsArchive.extract(archive: file, manifest: manifest, into: directory, passphraseFile: passphraseFile)
        for path in written { Console.out("\(directory)/\(path)") }
        Console.error(
            "unpacked the spec and its secrets into \(directory); `haha status --config \(directory)/…yaml` reaches the cluster from here")
    }

}
