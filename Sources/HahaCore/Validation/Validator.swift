import Foundation

/// Semantic checks of a cluster spec. Every rule adds diagnostics; none stops the others.
public enum Validator {
    public static func validate(_ spec: ClusterSpec, lines: [String: Int] = [:], secrets: SecretsSnapshot? = nil) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func error(_ path: String, _ message: String) {
            let diagnostic = Diagnostic.error(path, line: line(path, lines), message)
            if !out.contains(diagnostic) { out.append(diagnostic) }
        }
        func warning(_ path: String, _ message: String) { out.append(.warning(path, line: line(path, lines), message)) }

        if !HostName.isValidLabel(spec.name) {
            error("name", "\"\(spec.name)\" must be a lower-case DNS label (letters, digits, hyphens); it names the Swarm stack")
        }
        // A node field left out takes the `ssh:` default: report a bad default once, where it is written.
        func nodePath(_ index: Int, _ field: String) -> String {
            lines["nodes[\(index)].\(field)"] == nil && lines["ssh.\(field)"] != nil ? "ssh.\(field)" : "nodes[\(index)].\(field)"
        }

        // Nodes: names, addresses, roles.
        var seenNames: [String: Int] = [:], seenAddresses: [String: Int] = [:]
        for (index, node) in spec.nodes.enumerated() {
            let path = "nodes[\(index)]"
            if !HostName.isValidLabel(node.name) {
                error("\(path).name", "\"\(node.name)\" must be a lower-case DNS label (letters, digits, hyphens, starting with a letter)")
            }
            if let first = seenNames[node.name], !node.name.isEmpty {
                error("\(path).name", "duplicate node name \"\(node.name)\" (also nodes[\(first)])")
            } else {
                seenNames[node.name] = index
            }
            if IPv4Address(node.address) == nil, !HostName.isValid(node.address) {
                error("\(path).address", "\"\(node.address)\" is not an IPv4 address or a host name")
            }
            if let first = seenAddresses[node.address.lowercased()], !node.address.isEmpty {
                error("\(path).address", "duplicate address \"\(node.address)\" (also nodes[\(first)])")
            } else {
                seenAddresses[node.address.lowercased()] = index
            }
            if !Grammar.isLoginName(node.user) {
                error(
                    nodePath(index, "user"), "\"\(node.user)\" is not a login name: 1–32 of a-z, 0-9, _ and -, starting with a letter or _")
            }
            if !Grammar.ports.contains(node.port) {
                error(nodePath(index, "port"), "\(node.port) is not a port (1...65535)")
            }
            if let identity = node.identityFile {
                if identity.isEmpty {
                    error(nodePath(index, "identityFile"), "identityFile is empty; remove the key or name a private key file")
                } else if !Grammar.isLocalPath(identity) {
                    error(
                        nodePath(index, "identityFile"),
                        "\"\(identity)\" must be a file path without control characters or line breaks, not starting with -")
                }
            }
        }
        if let knownHosts = spec.knownHostsFile, !Grammar.isLocalPath(knownHosts) || knownHosts.contains(where: \.isWhitespace) {
            error(
                "ssh.knownHostsFile",
                "\"\(knownHosts)\" must be a file path without spaces, control characters or line breaks, not starting with -")
        }
        if !Grammar.isLocalPath(spec.secretsDir) {
            error(
                "secretsDir",
                "\"\(spec.secretsDir)\" must be a directory path without control characters or line breaks, not starting with -")
        }

        let data = spec.dataNodes.count
        let arbiters = spec.nodes.filter { $0.role == .arbiter }.count
        if data < 2 {
            error("nodes", "at least 2 data nodes are needed (found \(data)); 3 are needed for automatic recovery")
        }
        if arbiters > 1 {
            error("nodes", "at most one node can have role arbiter (found \(arbiters))")
        }
        if data == 2 && arbiters == 0 {
            warning(
                "nodes",
                "two data nodes without an arbiter: losing either one stops Swarm, Gluster and Galera quorum (no automatic recovery); add a third node or a small arbiter"
            )
        }
        if data == 2 && arbiters == 1 {
            warning(
                "nodes",
                "two data nodes and an arbiter: Galera has two members and stops accepting writes if one dies; a third data node gives full failover"
            )
        }
        if spec.nodes.count >= 2, spec.nodes.count % 2 == 0 {
            warning(
                "nodes", "an even number of nodes (\(spec.nodes.count)) tolerates no more failures than \(spec.nodes.count - 1) nodes do")
        }

        // Paths and names.
        for (path, value) in [("storage.brickPath", spec.storage.brickPath), ("storage.mountPath", spec.storage.mountPath)] {
            if Grammar.isSystemDirectory(value) {
                error(
                    path,
                    "\"\(value)\" is a system directory; use a directory of its own such as /var/lib/haha/\(path == "storage.brickPath" ? "brick" : "shared")"
                )
            } else if !Grammar.isNormalizedAbsolutePath(value) {
                error(
                    path, "\"\(value)\" must be an absolute path without //, /./, /../ or a trailing /, of letters, digits, ., _, - and /")
            }
        }
        if spec.storage.mountPath.hasPrefix("/"), spec.storage.brickPath.hasPrefix("/"),
            spec.storage.mountPath == spec.storage.brickPath
                || spec.storage.mountPath.hasPrefix(spec.storage.brickPath + "/")
                || spec.storage.brickPath.hasPrefix(spec.storage.mountPath + "/")
        {
            error("storage.mountPath", "the mount path and the brick path must not contain each other")
        }
        if !(1...42).contains(spec.storage.pingTimeout) {
            error("storage.pingTimeout", "\(spec.storage.pingTimeout) is out of range 1...42 (seconds)")
        }
        for (path, value) in [
            ("storage.volume", spec.storage.volume), ("database.name", spec.database.name), ("database.user", spec.database.user),
            ("database.clusterName", spec.database.clusterName),
        ] where !Grammar.isIdentifier(value) {
            error(path, "\"\(value)\" must be 1–64 letters, digits, - or _, not starting with -")
        }
        for (path, value) in [
            ("database.gcacheSize", spec.database.gcacheSize), ("database.bufferPoolSize", spec.database.bufferPoolSize),
            ("database.memoryLimit", spec.database.memoryLimit), ("homeAssistant.memoryLimit", spec.homeAssistant.memoryLimit),
        ]
        where Grammar.bytes(ofSize: value) == nil {
            error(path, "\"\(value)\" is not a size such as 128M or 1G (a whole number above 0 with K, M or G, at most 1024G)")
        }
        var seenUsers = Set<String>()
        for (index, user) in spec.mqtt.users.enumerated() {
            if !Grammar.isIdentifier(user) || user == "healthcheck" {
                error(
                    "mqtt.users[\(index)]",
                    "\"\(user)\" must be 1–64 letters, digits, - or _, not starting with - (and not the reserved name healthcheck)")
            }
            if !seenUsers.insert(user).inserted { error("mqtt.users[\(index)]", "duplicate MQTT user \"\(user)\"") }
        }
        if !spec.mqtt.users.contains("homeassistant") {
            error("mqtt.users", "the MQTT users must include homeassistant (Home Assistant's own connection to the broker)")
        }
        for (index, rule) in spec.mqtt.acl.enumerated() {
            if rule.user == "homeassistant" || !spec.mqtt.users.contains(rule.user) {
                error(
                    "mqtt.acl[\(index)].user",
                    "\"\(rule.user)\" is not one of mqtt.users other than homeassistant (which always may read and write every topic)")
            }
            if !Grammar.isTopicFilter(rule.topic) {
                error(
                    "mqtt.acl[\(index)].topic",
                    "\"\(rule.topic)\" is not an MQTT topic filter: 1–256 visible ASCII characters without spaces, + only as a whole level, # only as the whole last level"
                )
            }
        }
        if !Grammar.isTimeZone(spec.homeAssistant.timeZone) {
            error("homeAssistant.timeZone", "\"\(spec.homeAssistant.timeZone)\" is not an IANA time zone such as Europe/Berlin or UTC")
        }
        if spec.homeAssistant.name.isEmpty || spec.homeAssistant.name.count > 100 || Grammar.hasControlCharacters(spec.homeAssistant.name) {
            error("homeAssistant.name", "\"\(spec.homeAssistant.name)\" must be 1–100 characters without control characters or line breaks")
        }
        if !["mysql", "mysql+pymysql"].contains(spec.homeAssistant.recorderScheme) {
            error("homeAssistant.recorderScheme", "\"\(spec.homeAssistant.recorderScheme)\" is not one of: mysql, mysql+pymysql")
        }
        if spec.homeAssistant.hostNetwork {
            if spec.routing != .proxy {
                error(
                    "homeAssistant.hostNetwork",
                    "host networking needs routing: proxy (Swarm's routing mesh does not reach a container on the host's network)")
            }
            if spec.sensorAddress.vip == nil {
                error(
                    "homeAssistant.hostNetwork",
                    "on the host's network Home Assistant answers only on the node that runs it: it needs sensorAddress.mode: vip, which follows it"
                )
            }
            if spec.homeAssistant.port != 8123 {
                error(
                    "homeAssistant.port",
                    "with homeAssistant.hostNetwork, Home Assistant itself listens on the node's port 8123 (its http: server_port); set 8123"
                )
            }
            if !spec.fenced {
                warning(
                    "homeAssistant.failover",
                    "with failover: swarm the sensor address does not follow Home Assistant (no lease), and on the host's network Home Assistant answers only on the node Swarm runs it on: through the VIP only when that is the same node"
                )
            }
        }
        var ports: [Int: String] = [:]
        for (path, port) in [("mqtt.port", spec.mqtt.port), ("homeAssistant.port", spec.homeAssistant.port)]
            + (spec.portainer.enabled ? [("portainer.port", spec.portainer.port)] : [])
        {
            if !Grammar.ports.contains(port) { error(path, "\(port) is not a port (1...65535)") }
            if let other = ports[port] { error(path, "port \(port) is already used by \(other)") }
            ports[port] = path
        }
        for (path, image) in [
            ("images.homeAssistant", spec.images.homeAssistant), ("images.mariadb", spec.images.mariadb),
            ("images.mosquitto", spec.images.mosquitto), ("images.haproxy", spec.images.haproxy),
            ("images.portainer", spec.images.portainer), ("images.portainerAgent", spec.images.portainerAgent),
        ]
        where !Grammar.isImageReference(image) {
            error(path, "\"\(image)\" is not an image reference such as mariadb:11.8 or ghcr.io/home-assistant/home-assistant:2026.11.0")
        }

        // Sensor address.
        switch spec.sensorAddress {
        case .vip(let vip):
            do {
                let (address, prefixLength) = try vip.checked()
                for (index, node) in spec.nodes.enumerated() {
                    guard let nodeAddress = IPv4Address(node.address) else { continue }
                    if nodeAddress == address {
                        error(
                            "sensorAddress.address",
                            "the VIP \(vip.address) is the address of node \(node.name) (nodes[\(index)]); pick a free address in the nodes' subnet"
                        )
                    } else if !nodeAddress.isInSubnet(of: address, prefixLength: prefixLength) {
                        error(
                            "sensorAddress.address",
                            "the VIP \(vip.address)/\(prefixLength) is outside the subnet of node \(node.name) (\(node.address)); VRRP needs one shared subnet"
                        )
                    }
                }
                if prefixLength < 31,
                    address == address.masked(prefixLength: prefixLength) || address == address.broadcast(prefixLength: prefixLength)
                {
                    error("sensorAddress.address", "\(vip.address) is the network or broadcast address of /\(prefixLength)")
                }
            } catch let problem {
                error("sensorAddress.address", problem.description)
            }
            if !Grammar.isInterfaceName(vip.interface) {
                error(
                    "sensorAddress.interface",
                    "\"\(vip.interface)\" is not a network interface name (1–15 of letters, digits, ., _ and -, not starting with -)")
            }
            if let name = vip.mdnsName, !HostName.isValidLabel(name) {
                error("sensorAddress.mdnsName", "\"\(name)\" must be one lower-case DNS label (it is announced as NAME.local)")
            }
        case .mdnsHostname(let name):
            if !HostName.isValidLabel(name) {
                error("sensorAddress.hostname", "\"\(name)\" must be one lower-case DNS label (it is announced as NAME.local)")
            }
        case .none:
            break
        }

        // Secrets.
        if let secrets {
            if !secrets.directoryExists {
                error(
                    "secretsDir",
                    "the secrets directory \(secrets.directory) does not exist; run `haha init` (or `haha secrets generate`) to create it")
            } else {
                if let mode = secrets.directoryMode, mode & 0o077 != 0 {
                    error(
                        "secretsDir",
                        "\(secrets.directory) is readable by others (mode \(octal(mode))); run `chmod 700 \(secrets.directory)`")
                }
                for name in SecretCatalog.required(for: spec) {
                    let file = secrets.files[name] ?? .init(exists: false)
                    let path = "\(secrets.directory)/\(name)"
                    if !file.exists {
                        error("secretsDir", "missing secret \(path); run `haha secrets generate` to create the missing ones")
                    } else if file.isEmpty || file.value?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true {
                        error("secretsDir", "secret \(path) is empty or blank; delete it and run `haha secrets generate`")
                    } else {
                        if let mode = file.mode, mode & 0o077 != 0 {
                            error("secretsDir", "secret \(path) is readable by others (mode \(octal(mode))); run `chmod 600 \(path)`")
                        }
                        // The value as it is used: without surrounding white space. Never quoted in a message.
                        if let value = file.value?.trimmingCharacters(in: .whitespacesAndNewlines) {
                            if !Grammar.isSecretAlphabet(value) {
                                error(
                                    "secretsDir",
                                    "secret \(path) has characters outside A-Z a-z 0-9 . _ ~ -; delete it and run `haha secrets generate`")
                            } else if value.count < Grammar.secretMinimumLength {
                                error(
                                    "secretsDir",
                                    "secret \(path) is shorter than \(Grammar.secretMinimumLength) characters; delete it and run `haha secrets generate`"
                                )
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    static func line(_ path: String, _ lines: [String: Int]) -> Int? {
        var key = path
        while true {
            if let line = lines[key] { return line }
            guard let cut = key.lastIndex(where: { $0 == "." || $0 == "[" }) else { return lines[""] }
            key = String(key[..<cut])
        }
    }

    static func octal(_ mode: UInt16) -> String { "0" + String(mode & 0o777, radix: 8) }
}
