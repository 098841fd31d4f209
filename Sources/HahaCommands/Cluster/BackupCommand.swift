import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write one archive with the recorder database, Home Assistant's /config, the broker's data and a manifest.",
        discussion: """
            The database is read in one transaction from a Galera member that is Synced, while Home Assistant keeps \
            running. The archive is a tar: manifest.json, database.sql.gz, config.tar.gz, mosquitto.tar.gz. Secrets \
            are not in it: keep the spec's secrets directory safe on its own. `haha restore FILE` puts it back.
            """)

    @OptionGroup var spec: SpecOptions

    @Option(help: "Where to write the archive (default: ./haha-backup-DATE.tar). An existing file is never overwritten.")
    var out: String?

    @Flag(help: "Print the manifest as JSON on stdout.")
    var json = false

    func run() async throws {
        let workspace = try spec.loadValid()
        let path = out ?? "haha-backup-\(Self.stamp(Date())).tar"
        guard !FileManager.default.fileExists(atPath: path) else {
            throw HahaError.alreadyExists("\(path) exists; haha never overwrites a backup", next: "choose another name with --out")
        }
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let backup = Backup(cluster: cluster, secrets: try workspace.readSecrets())
        let (manifest, archive) = try await ClusterLock.holding(cluster, command: "backup") {
            try await StepPrinter().step("Backing up the database, /config and the broker's data") {
                try await backup.take(haha: Haha.configuration.version)
            }
        }
        try Self.write(archive, to: path)
        do {
            try await backup.record(manifest, file: URL(fileURLWithPath: path).standardized.path, bytes: Int64(archive.count))
        } catch {
            Console.error("warning: the backup is written, but `haha status` will not show it: \(error)")
        }
        if json {
            try Console.json(manifest)
        } else {
            Console.out(path)
            for part in manifest.parts { Console.out("  \(part.file)  \(Backup.size(part.bytes))") }
        }
        Console.error(
            "backup written: \(path) (\(Backup.size(Int64(archive.count)))), database from \(manifest.databaseFrom) at seqno \(manifest.databaseSeqno.map(String.init) ?? "?")"
        )
    }

    /// Writes an archive beside its final name, then renames it: a failed write never leaves a file that looks like a
    /// backup. Only its owner may read it: /config holds Home Assistant's tokens and the database the history.
    static func write(_ archive: Data, to path: String) throws {
        let partial = path + ".partial"
        do {
            let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { throw HahaError(.io, "could not create \(partial): \(String(cString: strerror(errno)))", next: nil) }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: archive)
            try handle.synchronize()
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw HahaError(.io, "could not write \(path): \(error.localizedDescription)", next: "choose a writable place with --out")
        }
    }

    /// `20261205-013000`: the archive's default name, in UTC.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }
}
