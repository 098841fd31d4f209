import Yams

/// Result of reading a spec file: the model (when the structure allowed building one), every problem
/// found while reading, and the line of each field for later diagnostics.
public struct LoadedSpec: Sendable {
    public var spec: ClusterSpec?
    public var diagnostics: [Diagnostic]
    public var lines: [String: Int]
}

/// Parses `haha.yaml` text (apiVersion `haha/v1`) into a defaulted `ClusterSpec`. Pure: no file access.
public enum SpecLoader {
    public static func load(yaml text: String) -> LoadedSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            return LoadedSpec(spec: nil, diagnostics: [syntaxDiagnostic(error)], lines: [:])
        } catch {
            return LoadedSpec(spec: nil, diagnostics: [.error("", "cannot parse YAML: \(error)")], lines: [:])
        }
        guard let root else {
            return LoadedSpec(spec: nil, diagnostics: [.error("", line: 1, "the file is empty; run `haha init` to write one")], lines: [:])
        }
        var reader = YAMLReader()
        let spec = read(root, &reader)
        return LoadedSpec(spec: reader.diagnostics.hasErrors ? nil : spec, diagnostics: reader.diagnostics, lines: reader.lines)
    }

    /// A YAML syntax error as one diagnostic with line and column.
    static func syntaxDiagnostic(_ error: YamlError) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
            return Diagnostic(.error, path: "", line: mark.line, column: mark.column, "invalid YAML: \(detail)")
        case .reader(let problem, _, _, _):
            return Diagnostic(.error, path: "", line: 1, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(.error, path: "", line: context.mark.line, column: context.mark.column,
                              "duplicate keys: \(duplicates.joined(separator: ", "))")
        default:
            return Diagnostic(.error, path: "", line: 1, "invalid YAML: \(error)")
        }
    }

    static let topKeys = ["apiVersion", "name", "ssh", "nodes", "storage", "database", "mqtt", "homeAssistant",
                          "sensorAddress", "images", "routing", "portainer", "secretsDir"]

    private static func read(_ root: Node, _ r: inout YAMLReader) -> ClusterSpec {
        let top = r.mapping(root, path: "", allowed: topKeys) ?? [:]
        if let version = r.string(top["apiVersion"], path: "apiVersion") {
            if version != ClusterSpec.apiVersion {
                r.error("apiVersion", top["apiVersion"], "unsupported apiVersion \"\(version)\"; this haha reads \"\(ClusterSpec.apiVersion)\"")
            }
        } else if top["apiVersion"] == nil {
            r.error("apiVersion", root, "missing apiVersion; add `apiVersion: \(ClusterSpec.apiVersion)` at the top")
        }

        // SSH defaults shared by all nodes.
        var defaultUser = "root", defaultPort = 22
        var defaultIdentity: String?
        var knownHosts: String?
        if let ssh = r.mapping(top["ssh"], path: "ssh", allowed: ["user", "port", "identityFile", "knownHostsFile"]) {
            knownHosts = r.string(ssh["knownHostsFile"], path: "ssh.knownHostsFile")
            defaultUser = r.string(ssh["user"], path: "ssh.user") ?? defaultUser
            defaultPort = r.int(ssh["port"], path: "ssh.port", range: 1...65535) ?? defaultPort
            defaultIdentity = r.string(ssh["identityFile"], path: "ssh.identityFile")
        }

        var nodes: [ClusterSpec.Node] = []
        if let list = r.sequence(top["nodes"], path: "nodes") {
            for (index, item) in list.enumerated() {
                let path = "nodes[\(index)]"
                guard let fields = r.mapping(item, path: path, allowed: ["name", "address", "user", "port", "identityFile", "role"]) else { continue }
                let name = r.string(fields["name"], path: "\(path).name")
                let address = r.string(fields["address"], path: "\(path).address")
                if fields["name"] == nil { r.error("\(path).name", item, "every node needs a name") }
                if fields["address"] == nil { r.error("\(path).address", item, "every node needs an address (IP or host name)") }
                let role = r.oneOf(fields["role"], path: "\(path).role", ClusterSpec.Node.Role.allCases.map(\.rawValue))
                nodes.append(ClusterSpec.Node(
                    name: name ?? "", address: address ?? "",
                    user: r.string(fields["user"], path: "\(path).user") ?? defaultUser,
                    port: r.int(fields["port"], path: "\(path).port", range: 1...65535) ?? defaultPort,
                    identityFile: r.string(fields["identityFile"], path: "\(path).identityFile") ?? defaultIdentity,
                    role: role.flatMap(ClusterSpec.Node.Role.init(rawValue:)) ?? .data))
            }
        } else if top["nodes"] == nil {
            r.error("nodes", root, "missing nodes; list at least three machines (name and address each)")
        }

        var spec = ClusterSpec(nodes: nodes)
        spec.knownHostsFile = knownHosts
        spec.name = r.string(top["name"], path: "name") ?? spec.name
        spec.secretsDir = r.string(top["secretsDir"], path: "secretsDir") ?? spec.secretsDir
        if let routing = r.oneOf(top["routing"], path: "routing", ClusterSpec.Routing.allCases.map(\.rawValue)) {
            spec.routing = ClusterSpec.Routing(rawValue: routing) ?? .mesh
        }

        if let f = r.mapping(top["storage"], path: "storage", allowed: ["volume", "brickPath", "mountPath", "pingTimeout"]) {
            spec.storage.volume = r.string(f["volume"], path: "storage.volume") ?? spec.storage.volume
            spec.storage.brickPath = r.string(f["brickPath"], path: "storage.brickPath") ?? spec.storage.brickPath
            spec.storage.mountPath = r.string(f["mountPath"], path: "storage.mountPath") ?? spec.storage.mountPath
            spec.storage.pingTimeout = r.int(f["pingTimeout"], path: "storage.pingTimeout", range: 1...42) ?? spec.storage.pingTimeout
        }
        if let f = r.mapping(top["database"], path: "database", allowed: ["clusterName", "name", "user", "gcacheSize", "bufferPoolSize", "memoryLimit", "encryptedNetwork"]) {
            spec.database.clusterName = r.string(f["clusterName"], path: "database.clusterName") ?? spec.database.clusterName
            spec.database.name = r.string(f["name"], path: "database.name") ?? spec.database.name
            spec.database.user = r.string(f["user"], path: "database.user") ?? spec.database.user
            spec.database.gcacheSize = r.string(f["gcacheSize"], path: "database.gcacheSize") ?? spec.database.gcacheSize
            spec.database.bufferPoolSize = r.string(f["bufferPoolSize"], path: "database.bufferPoolSize") ?? spec.database.bufferPoolSize
            spec.database.memoryLimit = r.string(f["memoryLimit"], path: "database.memoryLimit") ?? spec.database.memoryLimit
            spec.database.encryptedNetwork = r.bool(f["encryptedNetwork"], path: "database.encryptedNetwork") ?? spec.database.encryptedNetwork
        }
        if let f = r.mapping(top["mqtt"], path: "mqtt", allowed: ["port", "users", "acl"]) {
            spec.mqtt.port = r.int(f["port"], path: "mqtt.port", range: 1...65535) ?? spec.mqtt.port
            if let users = r.sequence(f["users"], path: "mqtt.users") {
                spec.mqtt.users = users.enumerated().compactMap { r.string($1, path: "mqtt.users[\($0)]") }
            }
            if let rules = r.sequence(f["acl"], path: "mqtt.acl") {
                spec.mqtt.acl = rules.enumerated().compactMap { index, item in
                    let path = "mqtt.acl[\(index)]"
                    guard let rule = r.mapping(item, path: path, allowed: ["user", "access", "topic"]) else { return nil }
                    let missing = ["user", "access", "topic"].filter { rule[$0] == nil }
                    if !missing.isEmpty { r.error(path, item, "an ACL rule needs user, access and topic; missing \(missing.joined(separator: ", "))") }
                    let access = r.oneOf(rule["access"], path: "\(path).access", ClusterSpec.MQTT.TopicRule.Access.allCases.map(\.rawValue))
                    guard let user = r.string(rule["user"], path: "\(path).user"),
                          let access = access.flatMap(ClusterSpec.MQTT.TopicRule.Access.init(rawValue:)),
                          let topic = r.string(rule["topic"], path: "\(path).topic") else { return nil }
                    return ClusterSpec.MQTT.TopicRule(user: user, access: access, topic: topic)
                }
            }
        }
        if let f = r.mapping(top["homeAssistant"], path: "homeAssistant", allowed: ["timeZone", "port", "name", "memoryLimit", "recorderScheme"]) {
            spec.homeAssistant.timeZone = r.string(f["timeZone"], path: "homeAssistant.timeZone") ?? spec.homeAssistant.timeZone
            spec.homeAssistant.port = r.int(f["port"], path: "homeAssistant.port", range: 1...65535) ?? spec.homeAssistant.port
            spec.homeAssistant.name = r.string(f["name"], path: "homeAssistant.name") ?? spec.homeAssistant.name
            spec.homeAssistant.memoryLimit = r.string(f["memoryLimit"], path: "homeAssistant.memoryLimit") ?? spec.homeAssistant.memoryLimit
            spec.homeAssistant.recorderScheme = r.oneOf(f["recorderScheme"], path: "homeAssistant.recorderScheme", ["mysql", "mysql+pymysql"]) ?? spec.homeAssistant.recorderScheme
        }
        if let f = r.mapping(top["sensorAddress"], path: "sensorAddress", allowed: ["mode", "address", "interface", "mdnsName", "hostname"]) {
            spec.sensorAddress = readSensorAddress(f, top["sensorAddress"], &r)
        }
        if let f = r.mapping(top["images"], path: "images", allowed: ["homeAssistant", "mariadb", "mosquitto", "haproxy", "portainer", "portainerAgent"]) {
            spec.images.homeAssistant = r.string(f["homeAssistant"], path: "images.homeAssistant") ?? spec.images.homeAssistant
            spec.images.mariadb = r.string(f["mariadb"], path: "images.mariadb") ?? spec.images.mariadb
            spec.images.mosquitto = r.string(f["mosquitto"], path: "images.mosquitto") ?? spec.images.mosquitto
            spec.images.haproxy = r.string(f["haproxy"], path: "images.haproxy") ?? spec.images.haproxy
            spec.images.portainer = r.string(f["portainer"], path: "images.portainer") ?? spec.images.portainer
            spec.images.portainerAgent = r.string(f["portainerAgent"], path: "images.portainerAgent") ?? spec.images.portainerAgent
        }
        if let f = r.mapping(top["portainer"], path: "portainer", allowed: ["enabled", "port"]) {
            spec.portainer.enabled = r.bool(f["enabled"], path: "portainer.enabled") ?? spec.portainer.enabled
            spec.portainer.port = r.int(f["port"], path: "portainer.port", range: 1...65535) ?? spec.portainer.port
        }
        return spec
    }

    private static func readSensorAddress(_ f: [String: Node], _ node: Node?, _ r: inout YAMLReader) -> ClusterSpec.SensorAddress {
        let mode = r.oneOf(f["mode"], path: "sensorAddress.mode", ["vip", "mdns-hostname", "none"]) ?? (f["address"] != nil ? "vip" : "none")
        switch mode {
        case "vip":
            guard let text = r.string(f["address"], path: "sensorAddress.address") else {
                if f["address"] == nil { r.error("sensorAddress.address", node, "mode vip needs an address such as 192.168.1.50/24") }
                return .none
            }
            guard let vip = ClusterSpec.SensorAddress.VIP.parse(text, interface: r.string(f["interface"], path: "sensorAddress.interface") ?? "eth0",
                                                                mdnsName: r.string(f["mdnsName"], path: "sensorAddress.mdnsName")) else {
                r.error("sensorAddress.address", f["address"], "\"\(text)\" is not \(ClusterSpec.SensorAddress.VIP.syntax)")
                return .none
            }
            return .vip(vip)
        case "mdns-hostname":
            return .mdnsHostname(r.string(f["hostname"], path: "sensorAddress.hostname") ?? "hacluster")
        default:
            return .none
        }
    }
}
