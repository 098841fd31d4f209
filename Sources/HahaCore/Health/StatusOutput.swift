/// Parsers of what `haha status` asks Docker and the nodes. Exact fields, never substrings.
public enum StatusOutput {
    /// A Swarm node as a manager lists it.
    public struct SwarmNode: Sendable, Equatable {
        /// The `haha.node` label (the spec's name), empty when the node has none.
        public var label: String
        public var hostname: String
        /// `ready`, `down`, `unknown`, `disconnected`.
        public var state: String
        /// `active`, `pause`, `drain`.
        public var availability: String
        /// `manager` or `worker`.
        public var role: String
        public var leader: Bool
        /// `reachable` or `unreachable` for a manager, empty for a worker.
        public var reachability: String

        /// The spec's name of the node: its label, else its host name.
        public var name: String { label.isEmpty ? hostname : label }
    }

    /// The Go template for `docker node inspect --format` that `swarmNodes` reads.
    public static func swarmNodeFormat(label: String) -> String {
        "{{index .Spec.Labels \"\(label)\"}}|{{.Description.Hostname}}|{{.Status.State}}|{{.Spec.Availability}}|{{.Spec.Role}}|"
            + "{{with .ManagerStatus}}{{.Leader}}|{{.Reachability}}{{end}}"
    }

    /// Parses `docker node inspect --format swarmNodeFormat(…)`, one node a line:
    /// `n2|n2|ready|active|manager|true|reachable` (a worker ends after its role).
    public static func swarmNodes(_ text: String) -> [SwarmNode] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace }
            guard fields.count >= 5, !(fields[0].isEmpty && fields[1].isEmpty) else { return nil }
            return SwarmNode(
                label: fields[0], hostname: fields[1], state: fields[2], availability: fields[3], role: fields[4],
                leader: fields.count > 5 && fields[5] == "true", reachability: fields.count > 6 ? fields[6] : "")
        }
    }

    /// The Go template for `docker service ps --format` that `runningHosts` reads.
    public static let taskFormat = "{{.Node}}|{{.CurrentState}}"

    /// The hosts of the tasks that are running in `docker service ps --format taskFormat` output
    /// (`n3|Running 14 seconds ago`), in order, each once.
    public static func runningHosts(_ text: String) -> [String] {
        var hosts: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", maxSplits: 1).map { String($0).trimmingWhitespace }
            guard fields.count == 2, !fields[0].isEmpty, fields[1].hasPrefix("Running"), !hosts.contains(fields[0]) else { continue }
            hosts.append(fields[0])
        }
        return hosts
    }

    /// Whether `ip -o -4 addr show` lists `address` on any interface:
    /// `888: eth1    inet 172.30.77.12/24 brd 172.30.77.255 scope global eth1\       valid_lft forever …`.
    public static func holds(_ address: String, ipAddresses text: String) -> Bool {
        text.split(whereSeparator: \.isNewline).contains { line in
            let words = line.split(whereSeparator: \.isWhitespace)
            return zip(words, words.dropFirst()).contains { $0 == "inet" && ($1 == address || $1.hasPrefix("\(address)/")) }
        }
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
