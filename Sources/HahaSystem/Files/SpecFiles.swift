import Foundation
import HahaCore

/// Writes a new spec file (for `init` and `inventory import`): validated first, read back, then the known hosts
/// and any missing secrets beside it.
public enum SpecFiles {
    public struct Written: Sendable {
        /// Where the nodes' host keys were recorded, when they were.
        public var knownHostsPath: String?
        /// The secrets created now (existing ones are kept).
        public var createdSecrets: [String]
        public var secretsDirectory: String
        public var warnings: [Diagnostic]
    }

    public static func refuseOverwrite(_ path: String, force: Bool) throws {
        if FileManager.default.fileExists(atPath: path), !force {
            throw HahaError.alreadyExists(
                "\(path) already exists", next: "pass --force to overwrite it (its secrets directory is kept), or --config OTHER.yaml")
        }
    }

    public static func write(_ cluster: ClusterSpec, to path: String, force: Bool, header: [String], knownHosts: String? = nil) throws
        -> Written
    {
        try refuseOverwrite(path, force: force)
        let problems = Validator.validate(cluster)
        if problems.hasErrors { throw DiagnosticsError(file: path, diagnostics: problems) }
        let text = SpecWriter.yaml(cluster, header: header)
        // Read back what we wrote: the writer and the loader must agree.
        guard SpecLoader.load(yaml: text).spec == cluster else {
            throw HahaError(.failed, "internal error: the spec written for \(path) does not read back the same", next: "please report this")
        }
        let workspace = Workspace(specPath: path, spec: cluster)
        var knownHostsPath: String?
        if let knownHosts, let file = cluster.knownHostsFile {
            knownHostsPath = workspace.resolve(file)
            try writeFileAtomically(workspace.resolve(file), contents: knownHosts)
        }
        try writeFileAtomically(path, contents: text)
        let created = try workspace.generateMissingSecrets()
        return Written(
            knownHostsPath: knownHostsPath, createdSecrets: created, secretsDirectory: workspace.secretsDirectory,
            warnings: problems.warnings)
    }

    /// Rewrites an existing spec in place (a day-two command changed it). With `keeping`, the file as it was is kept
    /// first as `PATH.SUFFIX` (replacing an older one of that name). Returns the kept file's path.
    @discardableResult
    public static func rewrite(_ spec: ClusterSpec, at path: String, keeping suffix: String?, by command: String) throws -> String? {
        var kept: String?
        if let suffix {
            let copy = "\(path).\(suffix)"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            kept = copy
        }
        try writeFileAtomically(
            path, contents: SpecWriter.yaml(spec, header: ["Rewritten by `\(command)`\(kept.map { "; the file before is \($0)" } ?? "")."]))
        return kept
    }

    /// Writes rendered files under a directory: secrets private (directory 0700, files 0600), everything else world-readable.
    public static func writeRendered(_ files: [RenderedFile], to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if files.contains(where: \.isSecret) {
            let secrets = "\(directory)/secrets"
            try fm.createDirectory(atPath: secrets, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: secrets)
        }
        for file in files {
            try writeFileAtomically("\(directory)/\(file.path)", contents: file.contents, mode: file.isSecret ? 0o600 : 0o644)
        }
    }

    /// The spec path a command uses: `--config`, else `$HAHA_CONFIG`, else `./haha.yaml`.
    public static func path(option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["HAHA_CONFIG"] ?? "haha.yaml"
    }
}
