import Foundation
import HahaCore

extension Backup {
    /// An archive sent to a node and checked, ready to be restored.
    public struct Prepared: Sendable {
        public var manifest: BackupManifest
        public var member: Member
        /// The archive's directory on the member's node (`/var/lib/haha/restore.XXXXXX`).
        public var directory: String
        /// Reasons to refuse (a newer Home Assistant or MariaDB wrote it); empty when it may be restored.
        public var problems: [String]
    }

    /// What a restore replaced, kept on the nodes.
    public struct Kept: Sendable {
        public var node: String
        public var paths: [String]
    }

    /// Sends the archive to a synced member's node, unpacks it there, checks every part against the manifest and the
    /// versions against what the cluster runs. Changes nothing but that directory.
    public func prepare(archive: Data) async throws -> Prepared {
        let member = try await syncedMember()
        let runner = cluster.runner(member.node)
        cluster.log("sending the archive (\(Self.size(Int64(archive.count)))) to \(member.node.name)")
        let dir = try await runner.output(["sh", "-c", "mkdir -p /var/lib/haha && mktemp -d /var/lib/haha/restore.XXXXXX"], timeout: 60)
        do {
            let unpacked = try await runner.run(
                Command(
                    [
                        "sh", "-c",
                        "cd \"$1\" && cat > backup.tar && tar -xf backup.tar && rm backup.tar && cat \(BackupManifest.fileName)", "sh", dir,
                    ],
                    input: archive, timeout: 3600))
            guard unpacked.succeeded else {
                throw HahaError.invalidArgument(
                    "the file is not a haha backup: it did not unpack as a tar with a \(BackupManifest.fileName) (\(unpacked.tail(lines: 2).trimmingCharacters(in: .whitespaces)))",
                    next: "give the file `haha backup` wrote")
            }
            let manifest: BackupManifest
            switch BackupManifest.decode(unpacked.stdout) {
            case .success(let decoded): manifest = decoded
            case .failure(let problem): throw HahaError.invalidArgument("the file is not a backup haha can restore: \(problem)", next: nil)
            }
            let sums = manifest.parts.map { "\($0.sha256)  \($0.file)\n" }.joined()
            let checked = try await runner.run(
                Command(["sh", "-c", "cd \"$1\" && sha256sum -c --strict -", "sh", dir], input: Data(sums.utf8), timeout: 600))
            guard checked.succeeded, !manifest.parts.isEmpty else {
                throw HahaError.invalidArgument(
                    "the archive is damaged: a part does not match its checksum in the manifest\n\(checked.output)\(checked.errorOutput)",
                    next: "restore from another copy of the backup")
            }
            let target = RestoreCheck.Target(
                homeAssistant: try await runner.run(Command(["cat", "\(mount)/homeassistant/.HA_VERSION"], timeout: 30)).output
                    .trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty ?? spec.images.homeAssistant,
                mariadb: try await runner.run(Command(["sh", "-c", Self.version(member.container)], timeout: 60)).output.trimmingCharacters(
                    in: .whitespacesAndNewlines
                ).nonEmpty)
            return Prepared(manifest: manifest, member: member, directory: dir, problems: RestoreCheck.problems(manifest, onto: target))
        } catch {
            await Self.remove(dir, on: runner)
            throw error
        }
    }

    /// Removes a prepared archive from its node (a refused or unconfirmed restore).
    public func discard(_ prepared: Prepared) async {
        await Self.remove(prepared.directory, on: cluster.runner(prepared.member.node))
    }

    /// Restores a prepared archive: Home Assistant and the broker stopped on every node, the database loaded into the
    /// member (the one it replaces dumped beside the archive first), `/config` and the broker's data swapped for the
    /// archive's (the old ones renamed `….before-restore-STAMP`), then both started again. Whatever fails, the
    /// services are started again.
    public func restore(_ prepared: Prepared, stamp: String) async throws -> Kept {
        let runner = cluster.runner(prepared.member.node)
        let dir = prepared.directory
        let services = [Renderer.Names.homeAssistant, Renderer.Names.mosquitto].map { deploy.service($0) }
        do {
            try await pause(services, true)
            cluster.log(
                "loading the database into \(prepared.member.node.name); the one it replaces is saved to \(dir)/database-before.sql.gz")
            let config = "\(mount)/homeassistant", data = "\(mount)/mosquitto/data"
            let script = """
                set -euo pipefail
                cd \(shellQuote(dir))
                \(Self.dump(prepared.member.container, database: spec.database.name)) | gzip -c > database-before.sql.gz
                gunzip -c \(BackupPart.database.file) | \(Self.exec(prepared.member.container, Deploy.asRoot("mariadb", "")))
                \(swap(config, part: .config, stamp: stamp))
                \(swap(data, part: .mosquitto, stamp: stamp))
                chown -R 1883:1883 \(shellQuote(data))
                """
            _ = try await runner.check(
                ["bash", "-c", script], timeout: 3600,
                hint: "nothing after the failing line ran; what was replaced is in \(dir) and beside \(config) and \(data)")
        } catch {
            try? await pause(services, false)
            throw error
        }
        try await pause(services, false)
        return Kept(
            node: prepared.member.node.name,
            paths: [
                "\(dir) (the archive and database-before.sql.gz)", "\(mount)/homeassistant.before-restore-\(stamp)",
                "\(mount)/mosquitto/data.before-restore-\(stamp)",
            ])
    }

    /// Renames `path` aside and unpacks the part in its place; on failure the old directory is put back.
    func swap(_ path: String, part: BackupPart, stamp: String) -> String {
        let (current, aside) = (shellQuote(path), shellQuote("\(path).before-restore-\(stamp)"))
        return """
            mv \(current) \(aside)
            if ! tar -C \(shellQuote(mount)) -xzf \(part.file); then rm -rf \(current); mv \(aside) \(current); exit 1; fi
            """
    }

    /// Stops (`true`) or starts again the services' tasks on every node: a placement constraint no node meets is added
    /// or removed (the same for replicated and global services); stopping waits until no container of theirs runs.
    func pause(_ services: [String], _ stop: Bool) async throws {
        let coordinator = cluster.runner(try await cluster.coordinator())
        let constraint = "node.labels.haha-restore==stopped"
        for service in services {
            cluster.log("\(stop ? "stopping" : "starting") \(service)")
            let result = try await coordinator.run(
                Command(
                    ["docker", "service", "update", "-d", stop ? "--constraint-add" : "--constraint-rm", constraint, service], timeout: 120)
            )
            // A service the stack does not have (an arbiter-only broker) is not an error; anything else is.
            if !result.succeeded, !result.errorOutput.contains("not found") {
                throw CommandError(target: coordinator.target, command: "docker service update \(service)", result: result, hint: nil)
            }
        }
        guard stop else { return }
        _ = try await cluster.onAll { node, runner in
            try await waitUntil(
                "Home Assistant and the broker to stop on \(node.name)", timeout: 180,
                next: "look at `docker ps` on \(node.name); run `haha restore` again once they stopped"
            ) { poll in
                for service in services where try await deploy.container(service, on: poll.on(runner)) != nil { return false }
                return true
            }
        }
    }
}
