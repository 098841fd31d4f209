import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct UpgradeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Change Home Assistant's, MariaDB's or Mosquitto's image, with a backup first and a rollback if it fails.",
        discussion: """
            Each option takes a whole image reference or only a tag (on the current image's repository). haha checks \
            that every node has the new images (pulling them where a registry answers), writes a backup beside \
            haha.yaml, writes the new images into haha.yaml (the old file kept as haha.yaml.before-upgrade) and rolls \
            them out: Galera one member at a time, keeping a Primary Component; Home Assistant's tasks one at a time. \
            When Home Assistant does not answer on its new image within --timeout, haha rolls back by itself: the old \
            images, then the backup's database, /config and broker data (what the failed upgrade left is kept as \
            ….before-restore-DATE), and exits 1. An older Home Assistant or MariaDB than the running one is refused: \
            restore the backup taken before the upgrade instead.
            """)

    @OptionGroup var spec: SpecOptions

    @Option(name: .customLong("home-assistant"), help: "Home Assistant's new image or tag.")
    var homeAssistant: String?

    @Option(help: "MariaDB's new image or tag.")
    var mariadb: String?

    @Option(help: "Mosquitto's new image or tag.")
    var mosquitto: String?

    @Flag(help: "Show the plan and change nothing.")
    var dryRun = false

    @Option(help: "Seconds Home Assistant has to answer on its new image before the rollback.")
    var timeout: Double = 600

    @Option(help: "Where to write the backup taken first (default: beside haha.yaml, haha-backup-before-upgrade-DATE.tar).")
    var backup: String?

    @Flag(help: "Print the result as JSON on stdout.")
    var json = false

    struct Report: Encodable {
        var changes: [UpgradePlan.Change]
        var backup: String?
        var dryRun: Bool
        var upgraded: Bool
        var rolledBack: Bool
        var seconds: Double
    }

    func validate() throws {
        if homeAssistant == nil && mariadb == nil && mosquitto == nil {
            throw ValidationError("name at least one image: --home-assistant, --mariadb or --mosquitto")
        }
        if !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must be a number of seconds above 0, at most 86400") }
    }

    func run() async throws {
        let started = ContinuousClock.now
        let workspace = try spec.loadValid()
        let changes = UpgradePlan.changes(
            current: workspace.spec.images, homeAssistant: homeAssistant, mariadb: mariadb, mosquitto: mosquitto)
        guard !changes.isEmpty else {
            Console.error("nothing to upgrade: haha.yaml already names these images")
            if json { try Console.json(Report(changes: [], dryRun: dryRun, upgraded: false, rolledBack: false, seconds: 0)) }
            return
        }
        let refusals = UpgradePlan.refusals(changes)
        if !refusals.isEmpty {
            throw HahaError(.invalidArgument, "not upgrading:\n" + refusals.map { "  - \($0)" }.joined(separator: "\n"))
        }
        var upgraded = workspace
        upgraded.spec.images = UpgradePlan.applying(changes, to: workspace.spec.images)
        let problems = Validator.validate(upgraded.spec)
        if problems.hasErrors { throw DiagnosticsError(file: spec.path, diagnostics: problems) }
        let directory = (spec.path as NSString).deletingLastPathComponent
        let backupPath =
            backup ?? ((directory.isEmpty ? "." : directory) + "/haha-backup-before-upgrade-\(BackupCommand.stamp(Date())).tar")
        Console.error("plan:")
        for change in changes { Console.error("  \(change.image): \(change.from) → \(change.to)") }
        Console.error(
            """
              1. the new images present on every node
              2. a backup to \(backupPath)
              3. haha.yaml names the new images; the stack rolls them out (Galera one member at a time)
              4. Home Assistant answers on its new image within \(Int(timeout)) s, else: the old images and the backup back
            """)
        var report = Report(changes: changes, backup: backupPath, dryRun: dryRun, upgraded: false, rolledBack: false, seconds: 0)
        if dryRun {
            if json { try Console.json(report) }
            return
        }
        guard !FileManager.default.fileExists(atPath: backupPath) else {
            throw HahaError.alreadyExists("\(backupPath) exists; haha never overwrites a backup", next: "choose another name with --backup")
        }
        let secrets = try workspace.readSecrets()
        let log: @Sendable (String) -> Void = { Console.error("   \($0)") }
        let before = Cluster(workspace: workspace, log: log), after = Cluster(workspace: upgraded, log: log)
        let printer = StepPrinter()
        let (failure, pins): ((any Error)?, [UpgradePlan.Change]) = try await ClusterLock.holding(before, command: "upgrade") {
            try await printer.step("The new images present on every node") {
                _ = try await Deploy(cluster: after, secrets: secrets).pullImages()
            }
            // By digest where a registry gave one: the nodes run the very image checked here, and Swarm starts a task
            // on a digest it holds without asking the registry again.
            let pins = try await printer.step("The new images pinned by digest") {
                try await Upgrade(cluster: after, secrets: secrets).pinned(changes) { Console.error("   \($0)") }
            }
            var pinned = upgraded
            pinned.spec.images = UpgradePlan.applying(pins, to: workspace.spec.images)
            let taker = Backup(cluster: before, secrets: secrets)
            let (manifest, archive) = try await printer.step("Backup before the upgrade") {
                try await taker.take(haha: Haha.configuration.version)
            }
            try BackupCommand.write(archive, to: backupPath)
            try? await taker.record(manifest, file: URL(fileURLWithPath: backupPath).standardized.path, bytes: Int64(archive.count))
            try SpecFiles.rewrite(pinned.spec, at: spec.path, keeping: "before-upgrade", by: "haha upgrade")
            let upgrade = Upgrade(cluster: Cluster(workspace: pinned, log: log), secrets: secrets)
            do {
                try await printer.step("Rolling out \(pins.map(\.to).joined(separator: ", "))") { try await upgrade.rollOut() }
                try await printer.step("Home Assistant answers on \(pinned.spec.images.homeAssistant)") {
                    try await upgrade.waitHealthy(timeout: timeout, judgeUpdate: changes.contains { $0.image == "homeAssistant" })
                }
                return (nil, pins)
            } catch {
                Console.error("the upgrade failed: \(error)")
                Console.error("rolling back to \(changes.map(\.from).joined(separator: ", ")) and the backup")
                try SpecFiles.rewrite(workspace.spec, at: spec.path, keeping: nil, by: "haha upgrade (rolled back)")
                let back = Upgrade(cluster: before, secrets: secrets)
                try await printer.step("Rolling back the images") { try await back.rollOut() }
                let restorer = Backup(cluster: before, secrets: secrets)
                let prepared = try await printer.step("Checking the backup") { try await restorer.prepare(archive: archive) }
                guard prepared.problems.isEmpty else {
                    await restorer.discard(prepared)
                    throw HahaError(
                        .failed, "the backup cannot be restored:\n" + prepared.problems.map { "  - \($0)" }.joined(separator: "\n"),
                        next: "the old images run again; restore \(backupPath) by hand with `haha restore`")
                }
                let kept = try await printer.step("Restoring the backup's database, /config and broker data") {
                    try await restorer.restore(prepared, stamp: BackupCommand.stamp(Date()))
                }
                Console.error("what the failed upgrade left is kept on \(kept.node): \(kept.paths.joined(separator: ", "))")
                try await printer.step("Home Assistant answers on \(workspace.spec.images.homeAssistant)") {
                    try await back.waitHealthy(timeout: max(timeout, 600), judgeUpdate: false)
                }
                return (error, pins)
            }
        }
        report.changes = pins
        report.upgraded = failure == nil
        report.rolledBack = failure != nil
        report.seconds = (ContinuousClock.now - started) / .seconds(1)
        if json { try Console.json(report) }
        if let failure {
            throw HahaError(
                .failed,
                "upgrade rolled back: the cluster runs \(changes.map(\.from).joined(separator: ", ")) again with the backup's data (\(backupPath)); the failure was: \(failure)",
                next: "look at the new image's log (`docker service logs \(workspace.spec.stackName)_\(Renderer.Names.homeAssistant)`)")
        }
        if !json { Console.out("upgraded: \(pins.map(\.to).joined(separator: ", ")) in \(String(format: "%.0f", report.seconds)) s") }
        Console.error("the backup taken before is \(backupPath)")
    }
}
