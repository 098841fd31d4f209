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
            return Diagnostic(
                .error, path: "", line: context.mark.line, column: context.mark.column,
                "duplicate keys: \(duplicates.joined(separator: ", "))")
        default:
            return Diagnostic(.error, path: "", line: 1, "invalid YAML: \(error)")
        }
    }

    private static func read(_ root: Node, _ r: inout YAMLReader) -> ClusterSpec {
        let top = r.mapping(root, path: "", allowed: SpecSchema.keys(in: "")) ?? [:]
        if let version = r.string(top["apiVersion"], path: "apiVersion") {
            if version != ClusterSpec.apiVersion {
                r.error(
                    "apiVersion", top["apiVersion"], "unsupported apiVersion \"\(version)\"; this haha reads \"\(ClusterSpec.apiVersion)\"")
            }
        } else if top["apiVersion"] == nil {
            r.error("apiVersion", root, "missing apiVersion; add `apiVersion: \(ClusterSpec.apiVersion)` at the top")
        }

        // SSH defaults shared by all nodes.
        let builtIn = ClusterSpec.Node(name: "", address: "")
        var defaultUser = builtIn.user, defaultPort = builtIn.port
        var defaultIdentity: String?
        var knownHosts: String?
        if let ssh = r.mapping(top["ssh"], path: "ssh", allowed: SpecSchema.keys(in: "ssh")) {
            knownHosts = r.string(ssh["knownHostsFile"], path: "ssh.knownHostsFile")
            defaultUser = r.string(ssh["user"], path: "ssh.user") ?? defaultUser
            defaultPort = r.int(ssh["port"], path: "ssh.port", range: Grammar.ports) ?? defaultPort
            defaultIdentity = r.string(ssh["identityFile"], path: "ssh.identityFile")
        }

        var nodes: [ClusterSpec.Node] = []
        if let list = r.sequence(top["nodes"], path: "nodes") {
            for (index, item) in list.enumerated() {
                let path = "nodes[\(index)]"
                guard let fields = r.mapping(item, path: path, allowed: SpecSchema.keys(in: "nodes[]")) else { continue }
                let name = r.string(fields["name"], path: "\(path).name")
                let address = r.string(fields["address"], path: "\(path).address")
                if fields["name"] == nil { r.error("\(path).name", item, "every node needs a name") }
                if fields["address"] == nil { r.error("\(path).address", item, "every node needs an address (IP or host name)") }
                let role = r.oneOf(fields["role"], path: "\(path).role", ClusterSpec.Node.Role.allCases.map(\.rawValue))
                nodes.append(
                    ClusterSpec.Node(
                        name: name ?? "", address: address ?? "",
                        user: r.string(fields["user"], path: "\(path).user") ?? defaultUser,
                        port: r.int(fields["port"], path: "\(path).port", range: Grammar.ports) ?? defaultPort,
                        identityFile: r.string(fields["identityFile"], path: "\(path).identityFile") ?? defaultIdentity,
                        role: role.flatMap(ClusterSpec.Node.Role.init(rawValue:)) ?? .data))
            }
        } else if top["nodes"] == nil {
            r.error("nodes", root, "missing nodes; list at least three machines (name and address each)")
        }

        var spec = ClusterSpec(nodes: nodes)
        spec.knownHostsFile = knownHosts
        // Plain values (text, numbers, flags, choices) come straight from the schema's table.
        for field in SpecSchema.fields(in: "") { field.read(top[field.key], into: &spec, &r) }
        for section in SpecSchema.plainSections {
            guard let f = r.mapping(top[section], path: section, allowed: SpecSchema.keys(in: section)) else { continue }
            for field in SpecSchema.fields(in: section) { field.read(f[field.key], into: &spec, &r) }
            if section == "mqtt" { readMQTTLists(f, into: &spec, &r) }
        }
        if let f = r.mapping(top["sensorAddress"], path: "sensorAddress", allowed: SpecSchema.keys(in: "sensorAddress")) {
            spec.sensorAddress = readSensorAddress(f, top["sensorAddress"], &r)
        }
        return spec
    }

    private static func readMQTTLists(_ f: [String: Node], into spec: inout ClusterSpec, _ r: inout YAMLReader) {
        if let users = r.sequence(f["users"], path: "mqtt.users") {
            spec.mqtt.users = users.enumerated().compactMap { r.string($1, path: "mqtt.users[\($0)]") }
        }
        if let rules = r.sequence(f["acl"], path: "mqtt.acl") {
            let keys = SpecSchema.keys(in: "mqtt.acl[]")
            spec.mqtt.acl = rules.enumerated().compactMap { index, item in
                let path = "mqtt.acl[\(index)]"
                guard let rule = r.mapping(item, path: path, allowed: keys) else { return nil }
                let missing = keys.filter { rule[$0] == nil }
                if !missing.isEmpty {
                    r.error(path, item, "an ACL rule needs user, access and topic; missing \(missing.joined(separator: ", "))")
                }
                let access = r.oneOf(rule["access"], path: "\(path).access", ClusterSpec.MQTT.TopicRule.Access.allCases.map(\.rawValue))
                guard let user = r.string(rule["user"], path: "\(path).user"),
                    let access = access.flatMap(ClusterSpec.MQTT.TopicRule.Access.init(rawValue:)),
                    let topic = r.string(rule["topic"], path: "\(path).topic")
                else { return nil }
                return ClusterSpec.MQTT.TopicRule(user: user, access: access, topic: topic)
            }
        }
    }

    private static func readSensorAddress(_ f: [String: Node], _ node: Node?, _ r: inout YAMLReader) -> ClusterSpec.SensorAddress {
        let mode = r.oneOf(f["mode"], path: "sensorAddress.mode", ClusterSpec.SensorAddress.modes) ?? (f["address"] != nil ? "vip" : "none")
        switch mode {
        case "vip":
            guard let text = r.string(f["address"], path: "sensorAddress.address") else {
                if f["address"] == nil { r.error("sensorAddress.address", node, "mode vip needs an address such as 192.168.1.50/24") }
                return .none
            }
            let interface = r.string(f["interface"], path: "sensorAddress.interface") ?? ClusterSpec.SensorAddress.defaultInterface
            let mdnsName = r.string(f["mdnsName"], path: "sensorAddress.mdnsName")
            do {
                return .vip(try ClusterSpec.SensorAddress.VIP(parsing: text, interface: interface, mdnsName: mdnsName))
            } catch {
                r.error("sensorAddress.address", f["address"], error.description)
                return .none
            }
        case "mdns-hostname":
            return .mdnsHostname(r.string(f["hostname"], path: "sensorAddress.hostname") ?? ClusterSpec.SensorAddress.defaultHostname)
        default:
            return .none
        }
    }
}
