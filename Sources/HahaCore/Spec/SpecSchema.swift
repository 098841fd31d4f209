import Yams

/// One field of `haha.yaml`: where it is, what it holds, its default, the grammar the validator holds it to and what it
/// is for. `SpecSchema.fields` lists every field once; the loader's allowed keys, the writer and the README's reference
/// table come from it.
public struct SpecField: Sendable {
    public typealias Path<Value> = WritableKeyPath<ClusterSpec, Value> & Sendable

    /// How the field's value sits in the model. Plain values are read and written from here; `custom` fields
    /// (lists, the node and ACL entries, the SSH defaults, the sensor address) are read and written by hand.
    enum Binding: Sendable {
        case text(Path<String>)
        case number(Path<Int>, ClosedRange<Int>)
        case flag(Path<Bool>)
        case choice([String], get: @Sendable (ClusterSpec) -> String, set: @Sendable (inout ClusterSpec, String) -> Void)
        /// The value's type and default, as the README shows them.
        case custom(type: String, default: String)
    }

    /// Dotted path; `[]` marks the fields of each entry of a list (`nodes[].name`).
    public let path: String
    let binding: Binding
    /// The grammar the validator checks (README wording).
    public let grammar: String
    public let summary: String

    init(_ path: String, _ binding: Binding, grammar: String = "", _ summary: String) {
        self.path = path
        self.binding = binding
        self.grammar = grammar
        self.summary = summary
    }

    /// The last component of the path: the key as written in YAML.
    public var key: String { String(path.split(separator: ".").last ?? "").replacingOccurrences(of: "[]", with: "") }

    /// The mapping the key lives in (`""` for the top level, `nodes[]` for a node's fields).
    public var section: String {
        guard let dot = path.lastIndex(of: ".") else { return "" }
        return String(path[..<dot])
    }

    public var type: String {
        switch binding {
        case .text: return "text"
        case .number(_, let range): return "number \(range.lowerBound)–\(range.upperBound)"
        case .flag: return "true or false"
        case .choice(let values, _, _): return SpecSchema.choices(values)
        case .custom(let type, _): return type
        }
    }

    /// The default as YAML would show it, from the model's own defaults.
    public var defaultValue: String {
        let spec = ClusterSpec(nodes: [])
        switch binding {
        case .text(let path): return spec[keyPath: path]
        case .number(let path, _): return "\(spec[keyPath: path])"
        case .flag(let path): return "\(spec[keyPath: path])"
        case .choice(_, let get, _): return get(spec)
        case .custom(_, let value): return value
        }
    }

    /// The value as the writer writes it; nil for a field written by hand.
    func yamlValue(_ spec: ClusterSpec) -> String? {
        switch binding {
        case .text(let path): return SpecWriter.q(spec[keyPath: path])
        case .number(let path, _): return "\(spec[keyPath: path])"
        case .flag(let path): return "\(spec[keyPath: path])"
        case .choice(_, let get, _): return SpecWriter.q(get(spec))
        case .custom: return nil
        }
    }

    /// Reads the field's node (if present) into the spec; a field written by hand is left alone.
    func read(_ node: Node?, into spec: inout ClusterSpec, _ r: inout YAMLReader) {
        switch binding {
        case .text(let keyPath):
            if let value = r.string(node, path: path) { spec[keyPath: keyPath] = value }
        case .number(let keyPath, let range):
            if let value = r.int(node, path: path, range: range) { spec[keyPath: keyPath] = value }
        case .flag(let keyPath):
            if let value = r.bool(node, path: path) { spec[keyPath: keyPath] = value }
        case .choice(let choices, _, let set):
            if let value = r.oneOf(node, path: path, choices) { set(&spec, value) }
        case .custom:
            break
        }
    }
}

/// Every field of `haha.yaml`, in the order `SpecWriter` writes them.
public enum SpecSchema {
    static let portRange = Grammar.ports
    static let port = "1–65535"
    static let label = "lower-case DNS label"
    static let identifier = "`[A-Za-z0-9_][A-Za-z0-9_-]{0,63}`"
    static let loginName = "POSIX login name `[a-z_][a-z0-9_-]{0,31}`"
    static let localPath = "no control characters or line breaks, not starting with `-`"
    static let nodeDirectory = "absolute, normalized, `[A-Za-z0-9._/-]`, not a system directory"
    static let size = "`[1-9][0-9]*` and K, M or G, at most 1024G"
    static let image = "a Docker image reference"
    static let builtInNode = ClusterSpec.Node(name: "", address: "")
    static func choices(_ values: [String]) -> String { values.joined(separator: " \\| ") }

    /// The mappings whose plain fields the loader and the writer take from the table, in the writer's order.
    static let plainSections = ["storage", "database", "mqtt", "homeAssistant", "images", "portainer"]

    public static let fields: [SpecField] = [
        .init("apiVersion", .custom(type: "text", default: "(required)"), grammar: "`\(ClusterSpec.apiVersion)`", "the schema version"),
        .init("name", .text(\.name), grammar: label, "the Swarm stack's name"),
        .init(
            "secretsDir", .text(\.secretsDir), grammar: localPath,
            "directory of the secret files, relative to this file unless absolute"),
        .init(
            "ssh.user", .custom(type: "text", default: "`\(builtInNode.user)`"), grammar: loginName,
            "SSH user of every node without its own"),
        .init(
            "ssh.port", .custom(type: "number 1–65535", default: "`\(builtInNode.port)`"), grammar: port,
            "SSH port of every node without its own"),
        .init(
            "ssh.identityFile", .custom(type: "text", default: "(ssh's own)"), grammar: localPath,
            "private key of every node without its own"),
        .init(
            "ssh.knownHostsFile", .custom(type: "text", default: "(your known_hosts, new hosts trusted on first use)"),
            grammar: localPath + ", no spaces", "the nodes' SSH host keys"),
        .init(
            "nodes", .custom(type: "list", default: "(required)"), grammar: "at least 2 data nodes, at most one arbiter",
            "the machines; 3 data nodes (or 2 and an arbiter) for automatic recovery"),
        .init(
            "nodes[].name", .custom(type: "text", default: "(required)"), grammar: label + ", unique",
            "the node's name in Swarm and Gluster"),
        .init(
            "nodes[].address", .custom(type: "text", default: "(required)"), grammar: "IPv4 or a host name, unique",
            "where haha reaches the node"),
        .init("nodes[].user", .custom(type: "text", default: "`ssh.user`"), grammar: loginName, "SSH user"),
        .init("nodes[].port", .custom(type: "number 1–65535", default: "`ssh.port`"), grammar: port, "SSH port"),
        .init("nodes[].identityFile", .custom(type: "text", default: "`ssh.identityFile`"), grammar: localPath, "SSH private key"),
        .init(
            "nodes[].role",
            .custom(type: choices(ClusterSpec.Node.Role.allCases.map(\.rawValue)), default: "`\(builtInNode.role.rawValue)`"),
            "an arbiter only keeps quorum (replica 2 + arbiter)"),
        .init("sensorAddress", .custom(type: "mapping", default: "mode `none`"), "where sensors connect"),
        .init(
            "sensorAddress.mode", .custom(type: choices(ClusterSpec.SensorAddress.modes), default: "`vip` with an address, else `none`"),
            "a floating address (VRRP) that follows a live node, or the original's shared mDNS host name"),
        .init(
            "sensorAddress.address", .custom(type: "text", default: "(required for vip)"),
            grammar: "IPv4`/PREFIX` (prefix 1–32, 24 when left out), free and in the nodes' subnet", "the VIP"),
        .init(
            "sensorAddress.interface", .custom(type: "text", default: "`\(ClusterSpec.SensorAddress.defaultInterface)`"),
            grammar: "Linux interface name, at most 15 of `[A-Za-z0-9._-]`, not starting with `-`",
            "the interface that carries the VIP"),
        .init("sensorAddress.mdnsName", .custom(type: "text", default: "(none)"), grammar: label, "also announce the VIP as NAME.local"),
        .init(
            "sensorAddress.hostname", .custom(type: "text", default: "`\(ClusterSpec.SensorAddress.defaultHostname)`"), grammar: label,
            "mdns-hostname mode: the name every node announces"),
        .init(
            "routing",
            .choice(
                ClusterSpec.Routing.allCases.map(\.rawValue), get: { $0.routing.rawValue },
                set: { $0.routing = ClusterSpec.Routing(rawValue: $1) ?? .mesh }),
            "mesh: Swarm's routing mesh (needs IPVS); proxy: HAProxy on every node"),
        .init("storage.volume", .text(\.storage.volume), grammar: identifier, "the Gluster volume"),
        .init("storage.brickPath", .text(\.storage.brickPath), grammar: nodeDirectory, "the Gluster brick on every node"),
        .init(
            "storage.mountPath", .text(\.storage.mountPath), grammar: nodeDirectory + "; apart from the brick",
            "where every node mounts the volume"),
        .init(
            "storage.pingTimeout", .number(\.storage.pingTimeout, 1...42), grammar: "1–42",
            "seconds a Gluster client waits for a dead server (Gluster's default: 42); Home Assistant's fence deadline is this + 3 s"),
        .init("database.clusterName", .text(\.database.clusterName), grammar: identifier, "the Galera cluster's name"),
        .init("database.name", .text(\.database.name), grammar: identifier, "the recorder's database"),
        .init("database.user", .text(\.database.user), grammar: identifier, "the recorder's database user"),
        .init("database.gcacheSize", .text(\.database.gcacheSize), grammar: size, "Galera's write-set cache"),
        .init("database.bufferPoolSize", .text(\.database.bufferPoolSize), grammar: size, "InnoDB's buffer pool"),
        .init("database.memoryLimit", .text(\.database.memoryLimit), grammar: size, "memory limit of each database container"),
        .init(
            "database.encryptedNetwork", .flag(\.database.encryptedNetwork),
            "IPsec on the database overlay network (needs the kernel's ESP support)"),
        .init("mqtt.port", .number(\.mqtt.port, portRange), grammar: port + ", not used by another service", "the broker's port"),
        .init(
            "mqtt.users", .custom(type: "list of text", default: "`[\(ClusterSpec.MQTT().users.joined(separator: ", "))]`"),
            grammar: identifier + ", unique, not healthcheck; must include homeassistant",
            "broker users; each gets the secret `mqtt-USER-password`"),
        .init(
            "mqtt.acl", .custom(type: "list", default: "none (every user may use every topic)"),
            "topic rules: a user with rules gets exactly those; homeassistant always may use every topic"),
        .init(
            "mqtt.acl[].user", .custom(type: "text", default: "(required)"), grammar: "one of `mqtt.users` but homeassistant",
            "whose rule it is"),
        .init(
            "mqtt.acl[].access",
            .custom(
                type: choices(ClusterSpec.MQTT.TopicRule.Access.allCases.map(\.rawValue)),
                default: "(required)"), "what the user may do"),
        .init(
            "mqtt.acl[].topic", .custom(type: "text", default: "(required)"),
            grammar: "MQTT topic filter, 1–256 visible ASCII characters, `+` and `#` only as whole levels", "the topics"),
        .init(
            "homeAssistant.name", .text(\.homeAssistant.name), grammar: "1–100 characters, no control characters",
            "the name Home Assistant shows"),
        .init("homeAssistant.timeZone", .text(\.homeAssistant.timeZone), grammar: "`Area/City` (or `UTC`)", "Home Assistant's time zone"),
        .init(
            "homeAssistant.port", .number(\.homeAssistant.port, portRange), grammar: port + ", not used by another service",
            "Home Assistant's web port"),
        .init(
            "homeAssistant.memoryLimit", .text(\.homeAssistant.memoryLimit), grammar: size, "memory limit of the Home Assistant container"),
        .init(
            "homeAssistant.recorderScheme",
            .choice(
                ["mysql", "mysql+pymysql"], get: { $0.homeAssistant.recorderScheme },
                set: { $0.homeAssistant.recorderScheme = $1 }),
            "the recorder's database driver: mysqlclient (in the official image) or PyMySQL"),
        .init(
            "homeAssistant.skipPip", .flag(\.homeAssistant.skipPip),
            "start Home Assistant with `--skip-pip` (an image with every requirement installed, offline: the lab's); with failover: swarm the image's own command runs instead"
        ),
        .init(
            "homeAssistant.hostNetwork", .flag(\.homeAssistant.hostNetwork),
            "run Home Assistant on its node's network (discovery sees the LAN); needs routing: proxy and port 8123, served by the active node only"
        ),
        .init(
            "homeAssistant.failover",
            .choice(
                ClusterSpec.HomeAssistant.Failover.allCases.map(\.rawValue), get: { $0.homeAssistant.failover.rawValue },
                set: { $0.homeAssistant.failover = ClusterSpec.HomeAssistant.Failover(rawValue: $1) ?? .fenced }),
            "fenced: haha's fence runs Home Assistant on one node and moves it within seconds; swarm: for comparison, the original project's settings (Swarm alone restarts Home Assistant, Swarm heartbeat 5 s, Gluster's default timeouts): no fence, two Home Assistants are possible during a partition; failover takes about a minute"
        ),
        .init("images.homeAssistant", .text(\.images.homeAssistant), grammar: image, "Home Assistant's image"),
        .init("images.mariadb", .text(\.images.mariadb), grammar: image, "MariaDB's image"),
        .init("images.mosquitto", .text(\.images.mosquitto), grammar: image, "Mosquitto's image"),
        .init("images.haproxy", .text(\.images.haproxy), grammar: image, "HAProxy's image (routing proxy; 3.1 or newer)"),
        .init("images.portainer", .text(\.images.portainer), grammar: image, "Portainer's image"),
        .init("images.portainerAgent", .text(\.images.portainerAgent), grammar: image, "the Portainer agent's image"),
        .init("portainer.enabled", .flag(\.portainer.enabled), "run Portainer and its agents"),
        .init(
            "portainer.port", .number(\.portainer.port, portRange), grammar: port + ", not used by another service", "Portainer's web port"),
    ]

    /// The keys allowed in the mapping at `section` (`""` for the top level, `nodes[]` for a node), in table order.
    public static func keys(in section: String) -> [String] {
        var keys: [String] = []
        for field in fields {
            let rest: Substring
            if section.isEmpty {
                rest = Substring(field.path)
            } else if field.path.hasPrefix(section + ".") {
                rest = field.path.dropFirst(section.count + 1)
            } else {
                continue
            }
            let key = String(rest.split(separator: ".").first ?? "").replacingOccurrences(of: "[]", with: "")
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    /// The fields of one mapping, in table order.
    static func fields(in section: String) -> [SpecField] { fields.filter { $0.section == section } }

    /// The field at a path.
    static func field(_ path: String) -> SpecField {
        guard let field = fields.first(where: { $0.path == path }) else { preconditionFailure("no spec field \(path)") }
        return field
    }

    /// The README's reference table (Markdown), one row per field.
    public static func markdownTable() -> String {
        var lines = ["| field | type | default | grammar | what it is |", "|---|---|---|---|---|"]
        for field in fields {
            // A custom field's default is already written for Markdown; a plain value is shown as code.
            let shown: String
            if case .custom = field.binding { shown = field.defaultValue } else { shown = "`\(field.defaultValue)`" }
            lines.append("| `\(field.path)` | \(field.type) | \(shown) | \(field.grammar) | \(field.summary) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
