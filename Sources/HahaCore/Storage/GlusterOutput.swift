/// Parsers of the `gluster` CLI's text output. Exact fields, never substrings: `10.0.0.1` is not `10.0.0.11`.
public enum GlusterOutput {
    /// A peer in `gluster pool list`: its host name or address as Gluster knows it, and whether it is connected.
    public struct Peer: Sendable, Equatable {
        public var host: String
        public var connected: Bool
    }

    /// Parses `gluster pool list`:
    /// ```
    /// UUID                                    Hostname        State
    /// 6f1e…                                   10.1.0.12       Connected
    /// 0a2b…                                   localhost       Connected
    /// ```
    public static func pool(_ text: String) -> [Peer] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 3, fields[0] != "UUID" else { return nil }
            return Peer(host: String(fields[1]), connected: fields[2] == "Connected")
        }
    }

    /// The bricks of each volume in `gluster volume info [all]`: `Volume Name: v` then `Brick1: host:/path` lines
    /// (an arbiter brick carries a trailing ` (arbiter)`).
    public static func bricks(_ text: String) -> [String: [String]] {
        var volumes: [String: [String]] = [:]
        var current: String?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("Volume Name:") {
                let name = trimmed.dropFirst("Volume Name:".count).trimmingSpaces
                current = name
                volumes[name, default: []] = []
            } else if let current, trimmed.hasPrefix("Brick"), let colon = trimmed.firstIndex(of: ":") {
                let label = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 5)..<colon]
                guard !label.isEmpty, label.allSatisfy(\.isNumber) else { continue }
                let brick = trimmed[trimmed.index(after: colon)...].trimmingSpaces
                let word = brick.split(separator: " ").first.map(String.init) ?? brick
                if !word.isEmpty { volumes[current, default: []].append(word) }
            }
        }
        return volumes
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
