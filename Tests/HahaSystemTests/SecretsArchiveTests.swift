import Foundation
import HahaCore
import HahaSystem
import HahaTestSupport
import Testing

/// `haha backup --include-secrets` / `haha restore --secrets-into`, for real with this machine's tar and openssl.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "no openssl on this machine"))
struct SecretsArchiveTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("haha-secrets-\(UUID().uuidString)").path

    func workspace() throws -> Workspace {
        var spec = Fixtures.spec()
        spec.knownHostsFile = "known_hosts"
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(root)/cluster", withIntermediateDirectories: true)
        try "# the spec\n".write(toFile: "\(root)/cluster/haha.yaml", atomically: true, encoding: .utf8)
        try "10.0.0.1 ssh-ed25519 AAAA\n".write(toFile: "\(root)/cluster/known_hosts", atomically: true, encoding: .utf8)
        let workspace = Workspace(specPath: "\(root)/cluster/haha.yaml", spec: spec)
        try fm.createDirectory(atPath: workspace.secretsDirectory, withIntermediateDirectories: true)
        try "s3cret-value\n".write(toFile: "\(workspace.secretsDirectory)/galera-root-password", atomically: true, encoding: .utf8)
        try "correct horse battery staple\n".write(toFile: "\(root)/pass", atomically: true, encoding: .utf8)
        try "wrong\n".write(toFile: "\(root)/wrong", atomically: true, encoding: .utf8)
        return workspace
    }

    /// An archive as `haha backup` lays it out: the manifest and the encrypted part.
    func archive(_ secrets: Data) async throws -> (path: String, manifest: BackupManifest) {
        let dir = "\(root)/archive"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try secrets.write(to: URL(fileURLWithPath: "\(dir)/\(SecretsArchive.file)"))
        let sum = try await LocalRunner().check(["sha256sum", "\(dir)/\(SecretsArchive.file)"]).output.split(separator: " ")[0]
        let manifest = BackupManifest(
            created: "2026-12-05T06:00:00Z", haha: "0.1.0", images: .init(homeAssistant: "ha:1", mariadb: "mariadb:11.8", mosquitto: "m:2"),
            homeAssistantVersion: nil, mariadbVersion: "11.8.3", databaseFrom: "n1", databaseSeqno: 1,
            parts: [.init(name: SecretsArchive.partName, file: SecretsArchive.file, bytes: Int64(secrets.count), sha256: String(sum))])
        try manifest.encoded().write(to: URL(fileURLWithPath: "\(dir)/\(BackupManifest.fileName)"))
        try await LocalRunner().check(["tar", "-C", dir, "-cf", "\(root)/backup.tar", BackupManifest.fileName, SecretsArchive.file])
        return ("\(root)/backup.tar", manifest)
    }

    @Test func theSpecAndItsSecretsComeBackOnlyWithThePassphrase() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let workspace = try workspace()
        let secrets = try await SecretsArchive.make(workspace, passphraseFile: "\(root)/pass")
        #expect(!secrets.isEmpty && !String(decoding: secrets, as: UTF8.self).contains("s3cret-value"))
        let (path, manifest) = try await archive(secrets)

        await #expect(throws: HahaError.self) {
            _ = try await SecretsArchive.extract(
                archive: path, manifest: manifest, into: "\(root)/wrong-out", passphraseFile: "\(root)/wrong")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(root)/wrong-out"), "a wrong passphrase left files behind")

        let written = try await SecretsArchive.extract(
            archive: path, manifest: manifest, into: "\(root)/out", passphraseFile: "\(root)/pass")
        #expect(written.contains("haha.yaml") && written.contains("known_hosts"), "\(written)")
        let secretsName = URL(fileURLWithPath: workspace.secretsDirectory).lastPathComponent
        #expect(try String(contentsOfFile: "\(root)/out/\(secretsName)/galera-root-password", encoding: .utf8) == "s3cret-value\n")
        #expect(try String(contentsOfFile: "\(root)/out/haha.yaml", encoding: .utf8) == "# the spec\n")

        // Never into a directory that holds something, and never from a damaged part.
        await #expect(throws: HahaError.self) {
            _ = try await SecretsArchive.extract(archive: path, manifest: manifest, into: "\(root)/out", passphraseFile: "\(root)/pass")
        }
        var damaged = manifest
        damaged.parts[0].sha256 = String(repeating: "0", count: 64)
        await #expect(throws: HahaError.self) {
            _ = try await SecretsArchive.extract(archive: path, manifest: damaged, into: "\(root)/out2", passphraseFile: "\(root)/pass")
        }
    }

    @Test func secretsOutsideTheSpecsDirectoryAreRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        var workspace = try workspace()
        workspace.spec.secretsDir = "/etc/haha-secrets"
        #expect(throws: HahaError.self) { try SecretsArchive.members(of: workspace) }
    }
}
