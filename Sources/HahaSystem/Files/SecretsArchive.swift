import Foundation
import HahaCore

/// `haha backup --include-secrets`: the spec, its secrets directory and its known hosts, as a tar encrypted with a
/// passphrase (`openssl enc -aes-256-cbc -pbkdf2`, 600 000 iterations, a random salt), and the way back
/// (`haha restore --secrets-into DIR`). The passphrase is read by openssl from its file: never an argument, never in
/// haha's memory.
public enum SecretsArchive {
    public static let file = "secrets.tar.enc"
    public static let partName = "secrets"

    static func openssl(decrypt: Bool, passphraseFile: String) -> String {
        "openssl enc -aes-256-cbc -pbkdf2 -iter 600000 -md sha256 \(decrypt ? "-d" : "-salt") -pass file:\(shellQuote(passphraseFile))"
    }

    /// The paths (relative to the spec's directory) that go in: the spec, the secrets directory, the known hosts.
    /// Each must lie inside the spec's directory, so that the restored copy finds them where the spec says.
    public static func members(of workspace: Workspace) throws -> (directory: String, paths: [String]) {
        let specURL = URL(fileURLWithPath: workspace.specPath).standardized
        let directory = specURL.deletingLastPathComponent().path
        var paths = [specURL.lastPathComponent]
        for (what, path) in [
            ("secrets directory", Optional(workspace.secretsDirectory)),
            ("known hosts file", workspace.spec.knownHostsFile.map(workspace.resolve)),
        ] {
            guard let path else { continue }
            let absolute = URL(fileURLWithPath: path).standardized.path
            guard absolute.hasPrefix(directory + "/") else {
                throw HahaError.invalidArgument(
                    "the \(what) \(absolute) is outside \(directory), the spec's directory: a restored copy would not find it",
                    next: "keep it beside haha.yaml (a relative path in the spec), or back it up on its own")
            }
            if FileManager.default.fileExists(atPath: absolute) { paths.append(String(absolute.dropFirst(directory.count + 1))) }
        }
        return (directory, paths)
    }

    /// The encrypted tar.
    public static func make(_ workspace: Workspace, passphraseFile: String, runner: any CommandRunner = LocalRunner()) async throws -> Data
    {
        try checkPassphrase(passphraseFile)
        let (directory, paths) = try members(of: workspace)
        let made = try await runner.check(
            [
                "bash", "-c",
                "set -o pipefail; tar -C \(shellQuote(directory)) -cf - \(paths.map(shellQuote).joined(separator: " ")) | \(openssl(decrypt: false, passphraseFile: passphraseFile))",
            ], timeout: 300, hint: "tar and openssl must be installed on this machine")
        return made.stdout
    }

    /// Unpacks the encrypted part of `archive` into `directory` (made if missing; refused when not empty), after
    /// checking it against the manifest's checksum.
    public static func extract(
        archive: String, manifest: BackupManifest, into directory: String, passphraseFile: String,
        runner: any CommandRunner = LocalRunner()
    ) async throws -> [String] {
        try checkPassphrase(passphraseFile)
        guard let part = manifest.parts.first(where: { $0.name == partName }) else {
            throw HahaError(
                .invalidState, "\(archive) holds no secrets", next: "only a backup taken with --include-secrets has them")
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: directory), !((try? fm.contentsOfDirectory(atPath: directory)) ?? []).isEmpty {
            throw HahaError.alreadyExists(
                "\(directory) is not empty; haha never overwrites secrets", next: "give an empty or new directory")
        }
        let sum = try await runner.check(
            ["bash", "-c", "set -o pipefail; tar -xOf \(shellQuote(archive)) \(file) | sha256sum"], timeout: 300
        ).output
        guard sum.split(separator: " ").first.map(String.init) == part.sha256 else {
            throw HahaError(.invalidState, "the secrets in \(archive) do not match the manifest's checksum: the archive is damaged")
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let result = try await runner.run(
            Command(
                [
                    "bash", "-c",
                    "set -o pipefail; tar -xOf \(shellQuote(archive)) \(file) | \(openssl(decrypt: true, passphraseFile: passphraseFile)) | tar -C \(shellQuote(directory)) -xvf -",
                ], timeout: 300))
        guard result.succeeded else {
            try? fm.removeItem(atPath: directory)
            throw HahaError(
                .failed, "could not decrypt the secrets in \(archive): wrong passphrase, or a damaged archive",
                next: "check the passphrase file; nothing usable was written to \(directory)")
        }
        return result.output.split(whereSeparator: \.isNewline).map(String.init)
    }

    static func checkPassphrase(_ path: String) throws {
        guard let text = FileManager.default.contents(atPath: path), !text.isEmpty else {
            throw HahaError.invalidArgument(
                "cannot read a passphrase from \(path)", next: "write the passphrase on the first line of a file only you can read")
        }
    }
}
