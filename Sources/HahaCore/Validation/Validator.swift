/// Semantic checks of a cluster spec. Every rule adds diagnostics; none stops the others.
public enum Validator {
    public static func validate(_ spec: ClusterSpec, lines: [String: Int] = [:], secrets: SecretsSnapshot? = nil) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func error(_ path: String, _ message: String) { out.append(.error(path, line: line(path, lines), message)) }
        func warning(_ path: String, _ message: String) { out.append(.warning(path, line: line(path, lines), message)) }

        if !HostName.isValidLabel(spec.name) {
            error("name", "\"\(spec.name)\" must be a lower-case DNS label (letters, digits, hyphens); it names the Swarm stack")
        }

        // Nodes: names, addresses, roles.
        var seenNames: [String: Int] = [:], seenAddresses: [String: Int] = [:]
        for (index, node) in spec.nodes.enumerated() {
            let path = "nodes[\(index)]"
            if !node.name.isEmpty, !HostName.isValidLabel(node.name) {
                error("\(path).name", "\"\(node.name)\" must be a lower-case DNS label (letters, digits, hyphens, starting with a letter)")
            }
            if let first = seenNames[node.name], !node.name.isEmpty {
                error("\(path).name", "duplicate node name \"\(node.name)\" (also nodes[\(first)])")
            } else {
                seenNames[node.name] = index
            }
            if !node.address.isEmpty {
                if IPv4Address(node.address) == nil, !HostName.isValid(node.address) {
                    error("\(path).address", "\"\(node.address)\" is not an IPv4 address or a host name")
                }
                let key = node.address.lowercased()
                if let first = seenAddresses[key] {
                    error("\(path).address", "duplicate address \"\(node.address)\" (also nodes[\(first)])")
                } else {
                    seenAddresses[key] = index
                }
            }
            if let identity = node.identityFile, identity.isEmpty {
                error("\(path).identityFile", "identityFile is empty; remove the key or name a private key file")
            }
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
            warning("nodes", "two data nodes without an arbiter: losing either one stops Swarm, Gluster and Galera quorum (no automatic recovery); add a third node or a small arbiter")
        }
        if data == 2 && arbiters == 1 {
            warning("nodes", "two data nodes and an arbiter: Galera has two members and stops accepting writes if one dies; a third data node gives full failover")
        }
        if spec.nodes.count >= 2, spec.nodes.count % 2 == 0 {
            warning("nodes", "an even number of nodes (\(spec.nodes.count)) tolerates no more failures than \(spec.nodes.count - 1) nodes do")
        }

        // Paths and names.
        for (path, value) in [("storage.brickPath", spec.storage.brickPath), ("storage.mountPath", spec.storage.mountPath)] where !value.hasPrefix("/") {
            error(path, "\"\(value)\" must be an absolute path")
        }
        if spec.storage.mountPath.hasPrefix("/"), spec.storage.brickPath.hasPrefix("/"),
           spec.storage.mountPath == spec.storage.brickPath
            || spec.storage.mountPath.hasPrefix(spec.storage.brickPath + "/")
            || spec.storage.brickPath.hasPrefix(spec.storage.mountPath + "/") {
            error("storage.mountPath", "the mount path and the brick path must not contain each other")
        }
        if !isSimpleName(spec.storage.volume) {
            error("storage.volume", "\"\(spec.storage.volume)\" must contain only letters, digits, - and _")
        }
        for (path, value) in [("database.name", spec.database.name), ("database.user", spec.database.user), ("database.clusterName", spec.database.clusterName)]
        where !isSimpleName(value) || value.count > 64 {
            error(path, "\"\(value)\" must be 1–64 letters, digits, - or _")
        }
        for (path, value) in [("database.gcacheSize", spec.database.gcacheSize), ("database.bufferPoolSize", spec.database.bufferPoolSize),
                              ("database.memoryLimit", spec.database.memoryLimit), ("homeAssistant.memoryLimit", spec.homeAssistant.memoryLimit)]
        where !isSize(value) {
            error(path, "\"\(value)\" is not a size such as 128M or 1G")
        }
        var seenUsers = Set<String>()
        for (index, user) in spec.mqtt.users.enumerated() {
            if !isSimpleName(user) || user == "healthcheck" {
                error("mqtt.users[\(index)]", "\"\(user)\" must be letters, digits, - or _ (and not the reserved name healthcheck)")
            }
            if !seenUsers.insert(user).inserted { error("mqtt.users[\(index)]", "duplicate MQTT user \"\(user)\"") }
        }
        if !spec.mqtt.users.contains("homeassistant") {
            error("mqtt.users", "the MQTT users must include homeassistant (Home Assistant's own connection to the broker)")
        }
        if !spec.homeAssistant.timeZone.contains("/"), spec.homeAssistant.timeZone != "UTC" {
            error("homeAssistant.timeZone", "\"\(spec.homeAssistant.timeZone)\" is not an IANA time zone such as Europe/Berlin or UTC")
        }
        var ports: [Int: String] = [:]
        for (path, port) in [("mqtt.port", spec.mqtt.port), ("homeAssistant.port", spec.homeAssistant.port)]
            + (spec.portainer.enabled ? [("portainer.port", spec.portainer.port)] : []) {
            if let other = ports[port] { error(path, "port \(port) is already used by \(other)") }
            ports[port] = path
        }

        // Sensor address.
        switch spec.sensorAddress {
        case .vip(let vip):
            if let address = IPv4Address(vip.address) {
                for (index, node) in spec.nodes.enumerated() {
                    guard let nodeAddress = IPv4Address(node.address) else { continue }
                    if nodeAddress == address {
                        error("sensorAddress.address", "the VIP \(vip.address) is the address of node \(node.name) (nodes[\(index)]); pick a free address in the nodes' subnet")
                    } else if !nodeAddress.isInSubnet(of: address, prefixLength: vip.prefixLength) {
                        error("sensorAddress.address", "the VIP \(vip.address)/\(vip.prefixLength) is outside the subnet of node \(node.name) (\(node.address)); VRRP needs one shared subnet")
                    }
                }
                let network = address.masked(prefixLength: vip.prefixLength)
                if vip.prefixLength < 31, address == network || address.value == network.value | ~(~UInt32(0) << UInt32(32 - vip.prefixLength)) {
                    error("sensorAddress.address", "\(vip.address) is the network or broadcast address of /\(vip.prefixLength)")
                }
            } else {
                error("sensorAddress.address", "\"\(vip.address)\" is not an IPv4 address")
            }
            if vip.interface.isEmpty || vip.interface.contains(" ") {
                error("sensorAddress.interface", "\"\(vip.interface)\" is not a network interface name")
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
                error("secretsDir", "the secrets directory \(secrets.directory) does not exist; run `haha init` (or `haha secrets generate`) to create it")
            } else {
                if let mode = secrets.directoryMode, mode & 0o077 != 0 {
                    error("secretsDir", "\(secrets.directory) is readable by others (mode \(octal(mode))); run `chmod 700 \(secrets.directory)`")
                }
                for name in SecretCatalog.required(for: spec) {
                    let file = secrets.files[name] ?? .init(exists: false)
                    let path = "\(secrets.directory)/\(name)"
                    if !file.exists {
                        error("secretsDir", "missing secret \(path); run `haha secrets generate` to create the missing ones")
                    } else if file.isEmpty {
                        error("secretsDir", "secret \(path) is empty")
                    } else if let mode = file.mode, mode & 0o077 != 0 {
                        error("secretsDir", "secret \(path) is readable by others (mode \(octal(mode))); run `chmod 600 \(path)`")
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

    static func isSimpleName(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func isSize(_ text: String) -> Bool {
        guard let unit = text.last, "KMG".contains(unit) else { return false }
        let digits = text.dropLast()
        return !digits.isEmpty && digits.allSatisfy(\.isASCIIDigit)
    }

    static func octal(_ mode: UInt16) -> String { "0" + String(mode & 0o777, radix: 8) }
}
