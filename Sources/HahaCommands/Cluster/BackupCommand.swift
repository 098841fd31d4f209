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

    @Option(help: "Write the archive into this directory as haha-backup-DATE.tar (for --keep and --schedule).")
    var dir: String?

    @Option(help: "With --dir: keep the newest N archives there and remove older haha-backup-DATE.tar files (nothing else).")
    var keep: Int?

    @Option(
        help:
            "Install a periodic backup on this machine instead of taking one: hourly, daily, weekly or five cron fields; off removes it. Needs --dir (and --keep, default 7)."
    )
    var schedule: String?

    @Flag(help: "Add haha.yaml, its secrets directory and known hosts, encrypted with the passphrase in --passphrase-file.")
    var includeSecrets = false

    @Option(help: "A file whose content is the passphrase for --include-secrets (only you should be able to read it).")
    var passphraseFile: String?

    @Flag(help: "Print the manifest as JSON on stdout.")
    var json = false

    func validate() throws {
        if out != nil && dir != nil { throw ValidationError("--out and --dir exclude each other") }
        if keep != nil && dir == nil { throw ValidationError("--keep needs --dir: it removes old archives from that directory") }
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
        if includeSecrets != (passphraseFile != nil) {
            throw ValidationError("--include-secrets and --passphrase-file go together: the secrets are only written encrypted")
        }
        if let schedule, schedule != "off", dir == nil { throw ValidationError("--schedule needs --dir: where the archives go") }
    }

    func run() async throws {
        let workspace = try spec.loadValid()
        if let schedule {
            try install(schedule, stack: workspace.spec.stackName)
            return
        }
        let path =
            dir.map { "\($0)/\(BackupSchedule.archiveName(stamp: Self.stamp(Date())))" } ?? out ?? "haha-backup-\(Self.stamp(Date())).tar"
        if let dir { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw HahaError.alreadyExists("\(path) exists; haha never overwrites a backup", next: "choose another name with --out")
        }
        let cluster = Cluster(workspace: workspace, log: { Console.error("   \($0)") })
        let backup = Backup(cluster: cluster, secrets: try workspace.readSecrets())
        let (manifest, archive) = try await ClusterLock.holding(cluster, command: "backup") {
            try await StepPrinter().step("Backing up the database, /config and the broker's data") {
                var secrets: Data?
                if let passphraseFile { secrets = try await SecretsArchive.make(workspace, passphraseFile: passphraseFile) }
                return try await backup.take(haha: Haha.configuration.version, secrets: secrets)
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
        if let dir, let keep {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            for name in BackupSchedule.expired(names, keep: keep) {
                try FileManager.default.removeItem(atPath: "\(dir)/\(name)")
                Console.error("removed \(dir)/\(name) (keeping the newest \(keep))")
            }
        }
        Console.error(
            "backup written: \(path) (\(Backup.size(Int64(archive.count)))), database from \(manifest.databaseFrom) at seqno \(manifest.databaseSeqno.map(String.init) ?? "?")"
        )
    }

    /// Where cron entries go (`HAHA_CRON_DIR` overrides it, for tests).
    static var cronDirectory: String { ProcessInfo.processInfo.environment["HAHA_CRON_DIR"] ?? "/etc/cron.d" }

    /// `--schedule`: writes (or, with `off`, removes) this cluster's cron entry on this machine.
    func install(_ schedule: String, stack: String) throws {
        let file = "\(Self.cronDirectory)/haha-backup-\(stack)"
        if schedule == "off" {
            if FileManager.default.fileExists(atPath: file) {
                try FileManager.default.removeItem(atPath: file)
                Console.error("removed the periodic backup (\(file))")
            } else {
                Console.error("no periodic backup was installed (\(file) does not exist)")
            }
            return
        }
        let minute = stack.utf8.reduce(0) { ($0 + Int($1)) % 60 }
        guard let fields = BackupSchedule.cronFields(schedule, minute: minute) else {
            throw HahaError.invalidArgument(
                "--schedule \(schedule) is not hourly, daily, weekly, off or five cron fields", next: "for example --schedule daily")
        }
        let absolute = { (path: String) in URL(fileURLWithPath: path).standardized.path }
        let haha = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? absolute(CommandLine.arguments[0])
        let text = BackupSchedule.cronFile(
            fields: fields, haha: haha, spec: absolute(spec.path), directory: absolute(dir ?? "."), keep: keep ?? 7)
        do {
            try writeFileAtomically(file, contents: text)
        } catch {
            throw HahaError(
                .io, "could not write \(file): \(error.localizedDescription)",
                next: "run it as root, or put this line in your own crontab:\n\(text.split(separator: "\n").last ?? "")")
        }
        Console.out(file)
        Console.error(
            "installed: \(fields) → \(absolute(dir ?? "."))/haha-backup-DATE.tar, keeping the newest \(keep ?? 7); cron must run on this machine. Check it once with `haha backup --dir \(dir ?? ".")`"
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
