import Foundation
import HahaCore

/// The Debian archive the lab's images are built from: `--mirror`, else `HAHA_DEBIAN_MIRROR`, else the first Debian
/// archive in this host's own apt sources. haha names no archive host itself.
public enum DebianMirror {
    public static let environmentVariable = "HAHA_DEBIAN_MIRROR"

    /// The apt source files of a host, in apt's order: `sources.list`, then `sources.list.d/*.list` and `*.sources` by name.
    public static func hostEntries(etcApt: String = "/etc/apt") -> [AptSources.Entry] {
        var entries: [AptSources.Entry] = []
        if let text = try? String(contentsOfFile: "\(etcApt)/sources.list", encoding: .utf8) { entries += AptSources.parseList(text) }
        let directory = "\(etcApt)/sources.list.d"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        for name in names {
            guard let text = try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) else { continue }
            if name.hasSuffix(".list") { entries += AptSources.parseList(text) }
            if name.hasSuffix(".sources") { entries += AptSources.parseDeb822(text) }
        }
        return entries
    }

    public static func resolve(
        override: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        etcApt: String = "/etc/apt"
    ) throws -> String {
        for candidate in [override, environment[environmentVariable]] {
            guard let value = candidate?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            guard value.hasPrefix("http://") || value.hasPrefix("https://") || value.hasPrefix("file:/"), !value.contains(" ") else {
                throw HahaError.invalidArgument(
                    "\(value) is not a Debian archive URL (http://, https:// or file:/)",
                    next: "pass --mirror with the URL of a Debian archive that has trixie and forky")
            }
            return value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        guard let found = AptSources.debianArchive(in: hostEntries(etcApt: etcApt)) else {
            throw HahaError.notFound(
                "no Debian archive in this host's apt sources (\(etcApt)/sources.list, \(etcApt)/sources.list.d/*.list and *.sources)",
                next: "pass --mirror URL or set \(environmentVariable)=URL to a Debian archive that has trixie and forky "
                    + "(the URL in a `deb URL bookworm main` line)")
        }
        return found
    }
}
