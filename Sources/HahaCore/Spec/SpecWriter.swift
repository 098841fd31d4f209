/// Writes a `ClusterSpec` as a commented `haha.yaml` (deterministic; every setting shown with its value).
public enum SpecWriter {
    public static func yaml(_ spec: ClusterSpec, header: [String] = []) -> String {
        var out: [String] = header.map { "# \($0)" }
        out += [
            "# haha cluster spec. Check it with `haha validate`; see the README for every field.",
            "apiVersion: \(ClusterSpec.apiVersion)",
            "name: \(q(spec.name))",
            "secretsDir: \(q(spec.secretsDir))",
        ]
        if let knownHosts = spec.knownHostsFile {
            out += ["", "ssh:", "  knownHostsFile: \(q(knownHosts))"]
        }
        out += [
            "",
            "nodes:",
        ]
        for node in spec.nodes {
            out.append("  - name: \(q(node.name))")
            out.append("    address: \(q(node.address))")
            out.append("    user: \(q(node.user))")
            if node.port != 22 { out.append("    port: \(node.port)") }
            if let identity = node.identityFile { out.append("    identityFile: \(q(identity))") }
            if node.role != .data { out.append("    role: \(node.role.rawValue)") }
        }
        out += ["", "# Where sensors connect: a floating address (vip) that follows a live node, or the original mdns-hostname mode."]
        switch spec.sensorAddress {
        case .none:
            out += ["sensorAddress:", "  mode: none"]
        case .vip(let vip):
            out += ["sensorAddress:", "  mode: vip", "  address: \(q("\(vip.address)/\(vip.prefixLength)"))", "  interface: \(q(vip.interface))"]
            if let name = vip.mdnsName { out.append("  mdnsName: \(q(name))") }
        case .mdnsHostname(let name):
            out += ["sensorAddress:", "  mode: mdns-hostname", "  hostname: \(q(name))"]
        }
        out += [
            "",
            "# mesh: Swarm's routing mesh (needs IPVS); proxy: HAProxy on every node (works everywhere).",
            "routing: \(spec.routing.rawValue)",
            "",
            "storage:",
            "  volume: \(q(spec.storage.volume))",
            "  brickPath: \(q(spec.storage.brickPath))",
            "  mountPath: \(q(spec.storage.mountPath))",
            "  pingTimeout: \(spec.storage.pingTimeout)",
            "",
            "database:",
            "  clusterName: \(q(spec.database.clusterName))",
            "  name: \(q(spec.database.name))",
            "  user: \(q(spec.database.user))",
            "  gcacheSize: \(q(spec.database.gcacheSize))",
            "  bufferPoolSize: \(q(spec.database.bufferPoolSize))",
            "  memoryLimit: \(q(spec.database.memoryLimit))",
            "  encryptedNetwork: \(spec.database.encryptedNetwork)",
            "",
            "mqtt:",
            "  port: \(spec.mqtt.port)",
            "  users: [\(spec.mqtt.users.map(q).joined(separator: ", "))]",
        ]
        if !spec.mqtt.acl.isEmpty {
            out.append("  acl:")
            for rule in spec.mqtt.acl {
                out += ["    - user: \(q(rule.user))", "      access: \(rule.access.rawValue)", "      topic: \(q(rule.topic))"]
            }
        }
        out += [
            "",
            "homeAssistant:",
            "  name: \(q(spec.homeAssistant.name))",
            "  timeZone: \(q(spec.homeAssistant.timeZone))",
            "  port: \(spec.homeAssistant.port)",
            "  memoryLimit: \(q(spec.homeAssistant.memoryLimit))",
            "  recorderScheme: \(q(spec.homeAssistant.recorderScheme))",
            "",
            "images:",
            "  homeAssistant: \(q(spec.images.homeAssistant))",
            "  mariadb: \(q(spec.images.mariadb))",
            "  mosquitto: \(q(spec.images.mosquitto))",
            "  haproxy: \(q(spec.images.haproxy))",
            "  portainer: \(q(spec.images.portainer))",
            "  portainerAgent: \(q(spec.images.portainerAgent))",
            "",
            "portainer:",
            "  enabled: \(spec.portainer.enabled)",
            "  port: \(spec.portainer.port)",
        ]
        return out.joined(separator: "\n") + "\n"
    }

    /// A YAML scalar, double-quoted unless it is plainly safe.
    public static func q(_ text: String) -> String {
        let safe = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._/-+".contains($0)) }
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
