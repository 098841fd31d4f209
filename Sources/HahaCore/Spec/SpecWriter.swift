/// Writes a `ClusterSpec` as a commented `haha.yaml` (deterministic; every setting shown with its value).
public enum SpecWriter {
    public static func yaml(_ spec: ClusterSpec, header: [String] = []) -> String {
        /// `key: value` of plain fields (written by hand otherwise), indented under their section.
        func plain(_ fields: [SpecField]) -> [String] {
            fields.compactMap { field in field.yamlValue(spec).map { (field.section.isEmpty ? "" : "  ") + "\(field.key): \($0)" } }
        }
        let routing = SpecSchema.field("routing")
        var out: [String] = header.map { "# \($0)" }
        out += [
            "# haha cluster spec. Check it with `haha validate`; see the README for every field.",
            "apiVersion: \(ClusterSpec.apiVersion)",
        ]
        out += plain(SpecSchema.fields(in: "").filter { $0.path != routing.path })
        if let knownHosts = spec.knownHostsFile {
            out += ["", "ssh:", "  knownHostsFile: \(q(knownHosts))"]
        }
        out += [
            "",
            "nodes:",
        ]
        let builtIn = ClusterSpec.Node(name: "", address: "")
        for node in spec.nodes {
            out.append("  - name: \(q(node.name))")
            out.append("    address: \(q(node.address))")
            out.append("    user: \(q(node.user))")
            if node.port != builtIn.port { out.append("    port: \(node.port)") }
            if let identity = node.identityFile { out.append("    identityFile: \(q(identity))") }
            if node.role != builtIn.role { out.append("    role: \(node.role.rawValue)") }
        }
        out += ["", "# Where sensors connect: a floating address (vip) that follows a live node, or the original mdns-hostname mode."]
        switch spec.sensorAddress {
        case .none:
            out += ["sensorAddress:", "  mode: none"]
        case .vip(let vip):
            out += [
                "sensorAddress:", "  mode: vip", "  address: \(q("\(vip.address)/\(vip.prefixLength)"))",
                "  interface: \(q(vip.interface))",
            ]
            if let name = vip.mdnsName { out.append("  mdnsName: \(q(name))") }
        case .mdnsHostname(let name):
            out += ["sensorAddress:", "  mode: mdns-hostname", "  hostname: \(q(name))"]
        }
        out += [
            "",
            "# mesh: Swarm's routing mesh (needs IPVS); proxy: HAProxy on every node (works everywhere).",
        ]
        out += plain([routing])
        for section in SpecSchema.plainSections {
            out += ["", "\(section):"] + plain(SpecSchema.fields(in: section))
            guard section == "mqtt" else { continue }
            out.append("  users: [\(spec.mqtt.users.map(q).joined(separator: ", "))]")
            if !spec.mqtt.acl.isEmpty {
                out.append("  acl:")
                for rule in spec.mqtt.acl {
                    out += ["    - user: \(q(rule.user))", "      access: \(rule.access.rawValue)", "      topic: \(q(rule.topic))"]
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// A YAML scalar, double-quoted unless it is plainly safe.
    public static func q(_ text: String) -> String {
        let safe =
            !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._/-+".contains($0)) }
            && !["true", "false", "yes", "no", "on", "off", "null", "~"].contains(text.lowercased())
            && Int(text) == nil && Double(text) == nil
        if safe { return text }
        var escaped = ""
        for char in text {
            switch char {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(char)
            }
        }
        return "\"\(escaped)\""
    }
}
