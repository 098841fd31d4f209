/// Parsers of the `gluster` CLI's text output. Exact fields, never substrings: `10.0.0.1` is not `10.0.0.11`.
public enum GlusterOutput {
    /// A peer in `gluster pool list`: its host name or address as Gluster knows it, and whether it is connected.
    public struct Peer: Sendable, Equatable {
        public var host: String
        public var connected: Bool

        public init(host: String, connected: Bool) {
            self.host = host
            self.connected = connected
        }
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

    /// A peer in `gluster peer status`: the names it is known by (`Hostname:` and `Other names:`), its UUID and its
    /// state (`Peer in Cluster (Connected)`, `Peer Rejected (Connected)`, `Peer in Cluster (Disconnected)`, …).
    public struct PeerStatus: Sendable, Equatable {
        public var names: [String]
        public var uuid: String
        public var state: String
        /// In the cluster and connected: the only state in which it holds a good copy of the pool's configuration.
        public var healthy: Bool { state == "Peer in Cluster (Connected)" }
    }

    /// Parses `gluster peer status`:
    /// ```
    /// Number of Peers: 2
    ///
    /// Hostname: n1
    /// Uuid: fdece899-…
    /// State: Peer Rejected (Connected)
    /// Other names:
    /// 172.30.77.11
    /// ```
    public static func peerStatus(_ text: String) -> [PeerStatus] {
        var peers: [PeerStatus] = []
        var inOtherNames = false
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingSpaces
            if trimmed.hasPrefix("Hostname:") {
                peers.append(PeerStatus(names: [trimmed.dropFirst("Hostname:".count).trimmingSpaces], uuid: "", state: ""))
                inOtherNames = false
            } else if peers.isEmpty {
                continue
            } else if trimmed.hasPrefix("Uuid:") {
                peers[peers.count - 1].uuid = trimmed.dropFirst("Uuid:".count).trimmingSpaces
            } else if trimmed.hasPrefix("State:") {
                peers[peers.count - 1].state = trimmed.dropFirst("State:".count).trimmingSpaces
            } else if trimmed.hasPrefix("Other names:") {
                inOtherNames = true
            } else if trimmed.isEmpty {
                inOtherNames = false
            } else if inOtherNames {
                peers[peers.count - 1].names.append(trimmed)
            }
        }
        return peers
    }

    /// The arbiter brick (`host:/path`) in `gluster volume info VOLUME`: the one marked ` (arbiter)`; nil without one.
    public static func arbiterBrick(_ text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingSpaces
            guard trimmed.hasPrefix("Brick"), trimmed.hasSuffix("(arbiter)"), let colon = trimmed.firstIndex(of: ":") else { continue }
            let brick = trimmed[trimmed.index(after: colon)...].trimmingSpaces
            if let word = brick.split(separator: " ").first { return String(word) }
        }
        return nil
    }
}

extension GlusterOutput {
    /// One brick's block of `gluster volume heal VOLUME info summary`.
    public struct HealSummary: Sendable, Equatable {
        /// `host:/path`.
        public var brick: String
        /// `Status: Connected` (or read in part); otherwise the brick could not be asked (`Transport endpoint is not connected`).
        public var connected: Bool
        /// The status line as Gluster printed it.
        public var status: String
        /// `Total Number of entries`: everything the brick lists as needing heal (pending, split-brain, possibly
        /// healing); nil when Gluster printed `-` (a brick it could not ask).
        public var entries: Int?
        /// `Number of entries in split-brain`, nil when not printed or `-`.
        public var splitBrain: Int?
    }

    /// The entries each brick lists in `gluster volume heal VOLUME info` (paths, or `<gfid:…>`), by brick:
    /// ```
    /// Brick 172.30.77.11:/bricks/haha
    /// /homeassistant/.haha/lease
    /// Status: Connected
    /// Number of entries: 1
    /// ```
    public static func healEntries(_ text: String) -> [String: [String]] {
        var entries: [String: [String]] = [:]
        var brick: String?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingSpaces
            if trimmed.hasPrefix("Brick "), !trimmed.contains(": ") {
                brick = trimmed.dropFirst("Brick ".count).trimmingSpaces
                entries[brick ?? "", default: []] = []
            } else if trimmed.hasPrefix("Status:") || trimmed.hasPrefix("Number of entries") {
                brick = nil
            } else if let current = brick, !trimmed.isEmpty {
                entries[current, default: []].append(trimmed)
            }
        }
        return entries
    }

    /// Parses `gluster volume heal VOLUME info summary`, one block per brick:
    /// ```
    /// Brick 172.30.77.11:/bricks/haha
    /// Status: Connected
    /// Total Number of entries: 0
    /// Number of entries in heal pending: 0
    /// Number of entries in split-brain: 0
    /// Number of entries possibly healing: 0
    /// ```
    /// A brick Gluster cannot reach says `Status: Transport endpoint is not connected` and `-` for every number; one
    /// it could not read completely says `Status: Failed to process entries completely. (…)` with only the total.
    /// `gluster volume heal VOLUME info` (`Number of entries: N`) is read the same way.
    public static func healSummary(_ text: String) -> [HealSummary] {
        var bricks: [HealSummary] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingSpaces
            if trimmed.hasPrefix("Brick "), !trimmed.contains(": ") {
                let name = trimmed.dropFirst("Brick ".count).trimmingSpaces
                bricks.append(HealSummary(brick: name, connected: false, status: "", entries: nil, splitBrain: nil))
                continue
            }
            guard !bricks.isEmpty, let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = trimmed[..<colon]
            let value = trimmed[trimmed.index(after: colon)...].trimmingSpaces
            switch key {
            case "Status":
                bricks[bricks.count - 1].status = value
                // A brick read only in part answered: its count is a lower bound.
                bricks[bricks.count - 1].connected = value == "Connected" || value.hasPrefix("Failed to process entries completely")
            case "Total Number of entries", "Number of entries":
                bricks[bricks.count - 1].entries = Int(value)
            case "Number of entries in split-brain":
                bricks[bricks.count - 1].splitBrain = Int(value)
            default:
                break
            }
        }
        return bricks
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
