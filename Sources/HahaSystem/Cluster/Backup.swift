import Foundation
import HahaCore

/// `haha backup` and `haha restore`: one archive holding the recorder database (read from a synced Galera member in
/// one transaction), Home Assistant's `/config` and Mosquitto's persistence from the shared volume, and a manifest.
/// The archive is assembled on the node of the member read and comes back over the runner; a restore sends it to
/// such a node, checks it, and swaps the data in while Home Assistant and the broker are stopped. What it replaces
/// is kept beside it on the nodes, never deleted.
public struct Backup: Sendable {
    public var cluster: Cluster
    var deploy: Deploy
    var spec: ClusterSpec { cluster.spec }
    var mount: String { spec.storage.mountPath }

    public init(cluster: Cluster, secrets: SecretValues) {
        self.cluster = cluster
        deploy = Deploy(cluster: cluster, secrets: secrets)
    }

    /// A Galera member Synced in a Primary Component: where the database is read and written.
    public struct Member: Sendable {
        public var node: ClusterSpec.Node
        public var container: String
        public var seqno: Int64?
    }

    /// The first data node, in the spec's order, whose member is Synced in a Primary Component.
    public func syncedMember() async throws -> Member {
        for node in spec.dataNodes {
            let runner = cluster.runner(node)
            guard let id = try? await deploy.container(deploy.service(Renderer.Names.galera(node.name)), on: runner),
                let status = try? await deploy.wsrepStatus(id, on: runner),
                status["wsrep_cluster_status"] == "Primary", status["wsrep_local_state"] == "4"
            else { continue }
            return Member(node: node, container: id, seqno: status["wsrep_last_committed"].flatMap { Int64($0) })
        }
        throw HahaError(
            .invalidState, "no Galera member is Synced in a Primary Component: there is no consistent database to read or write",
            next: "run `haha status`; `haha up` brings the database back")
    }

    /// `docker exec -i CONTAINER sh -c SCRIPT`, quoted for a node's shell.
    static func exec(_ container: String, _ script: String) -> String {
        "docker exec -i \(shellQuote(container)) sh -c \(shellQuote(script))"
    }

    /// Prints the member's MariaDB `VERSION()`.
    static func version(_ container: String) -> String {
        exec(container, Deploy.asRoot("mariadb", "-N -B -e 'SELECT VERSION()'"))
    }

    /// Removes a working directory on a node, best effort (what a failed or refused run leaves).
    static func remove(_ directory: String, on runner: any CommandRunner) async {
        _ = try? await runner.run(Command(["rm", "-rf", directory], timeout: 60))
    }

    static func dump(_ container: String, database: String) -> String {
        exec(
            container,
            Deploy.asRoot(
                "mariadb-dump",
                "--single-transaction --routines --events --triggers --add-drop-database --databases \(shellQuote(database))"))
    }

    /// GNU tar of a directory on the shared volume that Home Assistant may still be writing: a file that changed while
    /// it was read (exit 1) is taken as read; anything worse fails.
    func tar(_ part: BackupPart, into file: String) -> String {
        let excluded =
            part == .config
            ? ["homeassistant/\(Fence.leaseDirectory)", "homeassistant/.haha-drill-*", "homeassistant/.ha_run.lock"]
                .map { "--exclude=\(shellQuote($0))" }.joined(separator: " ") + " " : ""
        return "{ tar -C \(shellQuote(mount)) --warning=no-file-changed \(excluded)-czf \(file) \(part.directory ?? "") || [ $? -eq 1 ]; }"
    }

    // MARK: Backup

    /// Where the last backup records itself, on the shared volume (outside `/config`, so no backup holds it).
    public static func recordPath(_ spec: ClusterSpec) -> String { "\(spec.storage.mountPath)/.haha-last-backup" }

    /// Records a written backup for `haha status`: `2026-12-05T01:30:00Z 12.3 MiB FILE from n2`.
    public func record(_ manifest: BackupManifest, file: String, bytes: Int64) async throws {
        let node = try await cluster.coordinator()
        try await cluster.write(
            "\(manifest.created) \(Self.size(bytes)) \(file) from \(manifest.databaseFrom)\n", to: Self.recordPath(spec),
            on: cluster.runner(node))
    }

    /// Takes a backup: the database from a synced member, `/config` and the broker's data; returns the manifest and
    /// the archive (a tar of `manifest.json` and the parts).
    /// `secrets`: the encrypted spec and secrets (`SecretsArchive`), added as one more part when given.
    public func take(haha version: String, now: Date = Date(), secrets: Data? = nil) async throws -> (
        manifest: BackupManifest, archive: Data
    ) {
        let member = try await syncedMember()
        let runner = cluster.runner(member.node)
        cluster.log("reading the database from \(member.node.name) (seqno \(member.seqno.map(String.init) ?? "?")) and \(mount) there")
        let parts = BackupPart.allCases
        let script = """
            set -euo pipefail
            mkdir -p /var/lib/haha && w=$(mktemp -d /var/lib/haha/backup.XXXXXX) && echo "dir $w"
            \(Self.dump(member.container, database: spec.database.name)) | gzip -c > "$w/\(BackupPart.database.file)"
            \(tar(.config, into: "\"$w/\(BackupPart.config.file)\""))
            \(tar(.mosquitto, into: "\"$w/\(BackupPart.mosquitto.file)\""))
            cd "$w" && for f in \(parts.map(\.file).joined(separator: " ")); do echo "part $f $(stat -c %s "$f") $(sha256sum "$f" | cut -d' ' -f1)"; done
            echo "ha_version $(cat \(shellQuote(mount))/homeassistant/.HA_VERSION 2>/dev/null || true)"
            echo "mariadb $(\(Self.version(member.container)))"
            """
        let taken: CommandResult
        do {
            taken = try await runner.check(
                ["bash", "-c", script], timeout: 3600, hint: "the database dump or a tar on \(member.node.name) failed; its output is above"
            )
        } catch let error as CommandError {
            // The working directory is named on the first line; remove what was made before the failure.
            if let dir = Self.value("dir", in: error.result.output) { await Self.remove(dir, on: runner) }
            throw error
        }
        let output = taken.output
        guard let dir = Self.value("dir", in: output) else {
            throw HahaError(.failed, "the backup on \(member.node.name) did not say where it wrote its parts:\n\(output)")
        }
        var manifestParts: [BackupManifest.Part] = []
        for line in output.split(separator: "\n") where line.hasPrefix("part ") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 4, let bytes = Int64(fields[2]),
                let part = parts.first(where: { $0.file == fields[1] })
            else { continue }
            manifestParts.append(.init(name: part.rawValue, file: part.file, bytes: bytes, sha256: fields[3]))
        }
        guard manifestParts.count == parts.count else {
            await Self.remove(dir, on: runner)
            throw HahaError(.failed, "the backup on \(member.node.name) did not list all its parts:\n\(output)")
        }
        var files = parts.map(\.file)
        if let secrets {
            let written = try await runner.check(
                [
                    "bash", "-c",
                    "cat > \"$1/\(SecretsArchive.file)\" && cd \"$1\" && echo \"$(stat -c %s \(SecretsArchive.file)) $(sha256sum \(SecretsArchive.file) | cut -d' ' -f1)\"",
                    "bash", dir,
                ],
                input: secrets, timeout: 300)
            let fields = written.output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard fields.count == 2, let bytes = Int64(fields[0]) else {
                await Self.remove(dir, on: runner)
                throw HahaError(.failed, "the secrets could not be added to the backup on \(member.node.name):\n\(written.output)")
            }
            manifestParts.append(.init(name: SecretsArchive.partName, file: SecretsArchive.file, bytes: bytes, sha256: fields[1]))
            files.append(SecretsArchive.file)
        }
        let formatter = ISO8601DateFormatter()
        let manifest = BackupManifest(
            created: formatter.string(from: now), haha: version,
            images: .init(homeAssistant: spec.images.homeAssistant, mariadb: spec.images.mariadb, mosquitto: spec.images.mosquitto),
            homeAssistantVersion: Self.value("ha_version", in: output), mariadbVersion: Self.value("mariadb", in: output) ?? "",
            databaseFrom: member.node.name, databaseSeqno: member.seqno, parts: manifestParts)
        cluster.log("bringing the archive back from \(member.node.name) (\(Self.size(manifestParts.map(\.bytes).reduce(0, +))))")
        let archive = try await runner.check(
            [
                "bash", "-c",
                "trap 'rm -rf \"$1\"' EXIT; cat > \"$1/\(BackupManifest.fileName)\" && tar -C \"$1\" -cf - \(BackupManifest.fileName) \(files.joined(separator: " "))",
                "bash", dir,
            ], input: try manifest.encoded(), timeout: 3600)
        return (manifest, archive.stdout)
    }

    /// The rest of the line that starts with `key ` in a script's output; nil when absent or empty.
    static func value(_ key: String, in output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("\(key) ") }.map { String($0.dropFirst(key.count + 1)) }
            .flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
    }

    public static func size(_ bytes: Int64) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / 1_048_576) : String(format: "%.1f KiB", Double(bytes) / 1024)
    }
}
