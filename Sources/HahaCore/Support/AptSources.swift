import Foundation

/// The host's apt sources, read to find the Debian archive that `debootstrap` and the image recipes use, so that
/// haha names no archive host of its own. Both formats: one-line (`sources.list`, `*.list`) and deb822 (`*.sources`).
public enum AptSources {
    public struct Entry: Sendable, Equatable {
        public var uri: String
        public var suites: [String]
        public var components: [String]
        public var enabled: Bool

        public init(uri: String, suites: [String], components: [String], enabled: Bool = true) {
            self.uri = uri
            self.suites = suites
            self.components = components
            self.enabled = enabled
        }
    }

    /// Debian's release names and aliases; `bookworm-updates` and `-backports` count as `bookworm`, `-security` never
    /// does (the security archive has no base suites for debootstrap), nor a vendor's `stable-vendor`.
    public static let debianSuites: Set<String> = [
        "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
        "oldoldstable", "oldstable", "stable", "testing", "unstable",
    ]

    /// `deb [options] URI SUITE COMPONENT…` lines; `deb-src`, comments and blank lines are skipped.
    public static func parseList(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.first == "deb" else { continue }
            words.removeFirst()
            if let first = words.first, first.hasPrefix("[") {
                // Options: `[arch=amd64 signed-by=…]`, possibly spread over several words.
                while let word = words.first {
                    words.removeFirst()
                    if word.hasSuffix("]") { break }
                }
            }
            guard words.count >= 2 else { continue }
            entries.append(Entry(uri: words[0], suites: [words[1]], components: Array(words.dropFirst(2))))
        }
        return entries
    }

    /// deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Components:`, `Enabled:`), separated by blank lines.
    public static func parseDeb822(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        var fields: [String: String] = [:]
        var lastKey: String?
        func flush() {
            defer { fields = [:]; lastKey = nil }
            let types = (fields["types"] ?? "").split(separator: " ").map(String.init)
            guard types.contains("deb") else { return }
            let enabled = (fields["enabled"] ?? "yes").lowercased() != "no"
            let suites = (fields["suites"] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
            let components = (fields["components"] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
            for uri in (fields["uris"] ?? "").split(whereSeparator: \.isWhitespace) {
                entries.append(Entry(uri: String(uri), suites: suites, components: components, enabled: enabled))
            }
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                flush()
                continue
            }
            if line.hasPrefix("#") { continue }
            if line.first == " " || line.first == "\t" {
                // A continuation line (multi-line values such as an inline Signed-By key).
                if let key = lastKey { fields[key, default: ""] += " " + line.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            lastKey = key
        }
        flush()
        return entries
    }

    /// The first enabled entry that is a Debian archive with `main`: its URI without a trailing slash.
    public static func debianArchive(in entries: [Entry]) -> String? {
        for entry in entries where entry.enabled && entry.components.contains("main") && isUsable(entry.uri) {
            let isDebian = entry.suites.contains { suite in
                debianSuites.contains(suite)
                    || ["-updates", "-backports", "-proposed-updates"].contains { suffix in
                        suite.hasSuffix(suffix) && debianSuites.contains(String(suite.dropLast(suffix.count)))
                    }
            }
            if isDebian { return entry.uri.hasSuffix("/") ? String(entry.uri.dropLast()) : entry.uri }
        }
        return nil
    }

    /// Schemes debootstrap can fetch from.
    static func isUsable(_ uri: String) -> Bool {
        ["http://", "https://", "file:/"].contains { uri.hasPrefix($0) }
    }
}
