import Foundation
import HahaCore

/// A spec file on disk with its secrets directory: loading, checking, reading and creating secrets.
public struct Workspace: Sendable {
    public var specPath: String
    public var spec: ClusterSpec
    public var lines: [String: Int]
    /// Diagnostics from reading the file (warnings only, when loading succeeded).
    public var loadDiagnostics: [Diagnostic]

    /// Reads and parses the spec; throws `DiagnosticsError` listing every problem when it cannot be used.
    public static func load(specPath: String) throws -> Workspace {
        guard FileManager.default.fileExists(atPath: specPath) else {
            throw HahaError.notFound(
                "no cluster spec at \(specPath)",
                next: "run `haha init --node NAME=ADDRESS ...` or `haha inventory import FILE` to write one, or pass --config PATH")
        }
        let text: String
        do {
            text = try String(contentsOfFile: specPath, encoding: .utf8)
        } catch {
            throw HahaError.invalidArgument("cannot read \(specPath): \(error.localizedDescription)", next: nil)
        }
        let loaded = SpecLoader.load(yaml: text)
        guard let spec = loaded.spec else { throw DiagnosticsError(file: specPath, diagnostics: loaded.diagnostics) }
        return Workspace(specPath: specPath, spec: spec, lines: loaded.lines, loadDiagnostics: loaded.diagnostics)
    }

    public init(specPath: String, spec: ClusterSpec, lines: [String: Int] = [:], loadDiagnostics: [Diagnostic] = []) {
        self.specPath = specPath
        self.spec = spec
        self.lines = lines
        self.loadDiagnostics = loadDiagnostics
    }

    /// The secrets directory, resolved against the spec file's directory.
    public var secretsDirectory: String { resolve(spec.secretsDir) }

    /// A path from the spec, resolved against the spec file's directory (`~` is the user's home).
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || path.hasPrefix("~") { return path }
        return URL(fileURLWithPath: specPath).deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL.path
    }

    /// The SSH runner for a node, with the spec's key and known-hosts file.
    public func runner(for node: ClusterSpec.Node, local: any CommandRunner = LocalRunner()) -> SSHRunner {
        var resolved = node
        resolved.identityFile = node.identityFile.map(resolve)
        var options = ["-o", "StrictHostKeyChecking=accept-new"]
        if let knownHosts = spec.knownHostsFile {
            options = ["-o", "UserKnownHostsFile=\(resolve(knownHosts))", "-o", "StrictHostKeyChecking=yes"]
        }
        return SSHRunner(node: resolved, options: options, local: local)
    }

    public func secretsSnapshot() -> SecretsSnapshot {
        let fm = FileManager.default
        let dir = secretsDirectory
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            return SecretsSnapshot(directory: dir, directoryExists: false)
        }
        var snapshot = SecretsSnapshot(directory: dir, directoryExists: true, directoryMode: mode(of: dir))
        for name in SecretCatalog.required(for: spec) {
            let path = "\(dir)/\(name)"
            guard fm.fileExists(atPath: path) else {
                snapshot.files[name] = .init(exists: false)
                continue
            }
            let size = (try? fm.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            // Invalid UTF-8 becomes U+FFFD, which the validator refuses as outside the secrets' alphabet.
            let value = fm.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
            snapshot.files[name] = .init(exists: true, mode: mode(of: path), isEmpty: size == 0, value: value)
        }
        return snapshot
    }

    /// All diagnostics: from loading, semantic validation and (unless `checkingSecrets` is false, for commands
    /// that use no secret) the secrets directory.
    public func validate(checkingSecrets: Bool = true) -> [Diagnostic] {
        loadDiagnostics + Validator.validate(spec, lines: lines, secrets: checkingSecrets ? secretsSnapshot() : nil)
    }

    public func readSecrets() throws -> SecretValues {
        var values: [String: String] = [:]
        for name in SecretCatalog.required(for: spec) {
            let path = "\(secretsDirectory)/\(name)"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw HahaError.notFound("missing secret \(path)", next: "run `haha secrets generate --config \(specPath)`")
            }
            values[name] = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        Redaction.register(values)
        return SecretValues(values)
    }

    /// Creates the secrets directory (0700) and every missing secret file (0600). Never overwrites one.
    /// Returns the names it created.
    @discardableResult
    public func generateMissingSecrets() throws -> [String] {
        let fm = FileManager.default
        let dir = secretsDirectory
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
        var created: [String] = []
        var generator = SystemRandomNumberGenerator()
        for name in SecretCatalog.required(for: spec) where !fm.fileExists(atPath: "\(dir)/\(name)") {
            let password = SecretCatalog.generatePassword(using: &generator)
            try writePrivateFile("\(dir)/\(name)", contents: password + "\n")
            created.append(name)
        }
        return created
    }
}

/// Writes a file readable only by its owner (created 0600 before any byte is written).
public func writePrivateFile(_ path: String, contents: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw HahaError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    fchmod(fd, 0o600)
    let bytes = Array(contents.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { throw HahaError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
        offset += written
    }
    // On the disk before anyone renames it into place: a power cut leaves the old file or the new one, never an empty one.
    guard fsync(fd) == 0 else { throw HahaError.io("cannot flush \(path): \(String(cString: strerror(errno)))") }
}

/// Writes a file atomically (temporary file + rename) with the given mode.
public func writeFileAtomically(_ path: String, contents: String, mode: Int = 0o644) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    // A name of this writer's own: two processes writing one file never share a half-written temporary.
    let temporary = path + ".haha-tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
    // Written private and flushed, then given its mode: never readable by others while it holds a secret.
    try writePrivateFile(temporary, contents: contents)
    chmod(temporary, mode_t(mode))
    guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw HahaError.io("cannot move \(temporary) to \(path): \(reason)")
    }
    // The rename itself is made durable by flushing the directory that holds the name.
    let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
    if directory >= 0 {
        _ = fsync(directory)
        close(directory)
    }
}

func mode(of path: String) -> UInt16? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).map { UInt16(truncating: $0) }
}
