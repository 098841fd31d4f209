import Foundation

/// Reads the original project's Ansible INI inventory (`[hacluster]` group) into nodes for `haha.yaml`.
///
/// Understood: host lines with `ansible_host`, `ansible_user`/`ansible_ssh_user`, `ansible_port`/`ansible_ssh_port`,
/// `ansible_ssh_private_key_file`/`ansible_private_key_file`; `[group:vars]`; `[group:children]`; `#`/`;` comments.
/// Passwords (`ansible_ssh_pass`, `ansible_password`, `ansible_become_pass`) are never copied.
public struct AnsibleInventory: Sendable {
    public struct Host: Sendable, Equatable {
        public var pattern: String
        public var vars: [String: String]
        public var line: Int
    }

    public struct Result: Sendable {
        public var nodes: [ClusterSpec.Node]
        /// Things the user should know (dropped passwords, what to do instead).
        public var notices: [String]
        public var diagnostics: [Diagnostic]
        /// Whether the inventory carried SSH passwords that were left out.
        public var droppedPasswords: Bool
    }

    static let passwordKeys: Set<String> = [
        "ansible_ssh_pass", "ansible_password", "ansible_become_pass", "ansible_become_password", "ansible_sudo_pass",
    ]

    public static func parse(_ text: String) -> (
        groups: [String: [Host]], vars: [String: [String: String]], children: [String: [String]], diagnostics: [Diagnostic]
    ) {
        var groups: [String: [Host]] = [:], vars: [String: [String: String]] = [:], children: [String: [String]] = [:]
        var diagnostics: [Diagnostic] = []
        enum Section { case hosts(String), vars(String), children(String) }
        var section = Section.hosts("ungrouped")
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    diagnostics.append(.error("", line: lineNumber, "section header \"\(line)\" has no closing ]"))
                    continue
                }
                let name = String(line.dropFirst().dropLast())
                if name.hasSuffix(":vars") {
                    section = .vars(String(name.dropLast(5)))
                } else if name.hasSuffix(":children") {
                    section = .children(String(name.dropLast(9)))
                } else {
                    section = .hosts(name); groups[name, default: []] = groups[name] ?? []
                }
                continue
            }
            let tokens = tokenize(line)
            // A line of empty quotes has no token.
            guard let first = tokens.first else { continue }
            switch section {
            case .vars(let group):
                for token in tokens {
                    guard let (key, value) = keyValue(token) else {
                        diagnostics.append(.error("", line: lineNumber, "\"\(token)\" in [\(group):vars] is not key=value"))
                        continue
                    }
                    vars[group, default: [:]][key] = value
                }
            case .children(let group):
                children[group, default: []].append(first)
            case .hosts(let group):
                var hostVars: [String: String] = [:]
                for token in tokens.dropFirst() {
                    guard let (key, value) = keyValue(token) else {
                        diagnostics.append(.error("", line: lineNumber, "\"\(token)\" after host \(first) is not key=value"))
                        continue
                    }
                    hostVars[key] = value
                }
                groups[group, default: []].append(Host(pattern: first, vars: hostVars, line: lineNumber))
            }
        }
        return (groups, vars, children, diagnostics)
    }

    /// Nodes of `group` (and its child groups), with group vars applied under host vars.
    public static func importNodes(_ text: String, group: String = "hacluster") -> Result {
        let parsed = parse(text)
        var diagnostics = parsed.diagnostics
        var notices: [String] = []
        var droppedPasswords = false

        func hosts(of name: String, inherited: [String: String], visiting: Set<String>) -> [(Host, [String: String])] {
            guard !visiting.contains(name) else { return [] }
            let groupVars = inherited.merging(parsed.vars[name] ?? [:]) { _, new in new }
            var result = (parsed.groups[name] ?? []).map { ($0, groupVars) }
            for child in parsed.children[name] ?? [] {
                result += hosts(of: child, inherited: groupVars, visiting: visiting.union([name]))
            }
            return result
        }

        guard parsed.groups[group] != nil || parsed.children[group] != nil else {
            let known = parsed.groups.keys.filter { $0 != "ungrouped" }.sorted()
            diagnostics.append(
                .error(
                    "",
                    "no [\(group)] group in the inventory"
                        + (known.isEmpty ? "" : "; groups found: \(known.joined(separator: ", ")) (use --group)")))
            return Result(nodes: [], notices: [], diagnostics: diagnostics, droppedPasswords: false)
        }

        let allVars = parsed.vars["all"] ?? [:]
        var nodes: [ClusterSpec.Node] = []
        var lines: [Int] = []
        var usedNames = Set<String>()
        for (index, (host, groupVars)) in hosts(of: group, inherited: allVars, visiting: []).enumerated() {
            if host.pattern.contains("[") {
                diagnostics.append(
                    .error("", line: host.line, "host ranges such as \(host.pattern) are not supported; list each host on its own line"))
                continue
            }
            // Host vars beat group vars, whichever alias (ansible_ssh_user or ansible_user) each level uses.
            let vars = canonical(groupVars).merging(canonical(host.vars)) { _, hostValue in hostValue }
            if !passwordKeys.isDisjoint(with: vars.keys) { droppedPasswords = true }
            let address = vars["ansible_host"] ?? host.pattern
            var name =
                IPv4Address(host.pattern) == nil
                ? (host.pattern.split(separator: ".").first.map(String.init) ?? "").lowercased() : "node\(index + 1)"
            if !HostName.isValidLabel(name) || usedNames.contains(name) { name = "node\(index + 1)" }
            usedNames.insert(name)
            var portValue = 22
            if let port = vars["ansible_port"] {
                if let parsedPort = Int(port), (1...65535).contains(parsedPort) {
                    portValue = parsedPort
                } else {
                    diagnostics.append(.error("", line: host.line, "ansible_port \"\(port)\" of \(host.pattern) is not a port number"))
                }
            }
            if let connection = vars["ansible_connection"], connection != "ssh", connection != "smart", connection != "paramiko" {
                notices.append("\(host.pattern): ansible_connection=\(connection) ignored; haha reaches every node over SSH")
            }
            nodes.append(
                ClusterSpec.Node(
                    name: name, address: address,
                    user: vars["ansible_user"] ?? "root",
                    port: portValue,
                    identityFile: vars["ansible_private_key_file"]))
            lines.append(host.line)
        }
        // A node that would not validate in haha.yaml is refused here, at its host's line. Whole-spec rules (how many
        // nodes, the VIP) and warnings are judged when the spec is written.
        for problem in Validator.validate(ClusterSpec(nodes: nodes)).errors {
            guard let index = nodeIndex(problem.path), lines.indices.contains(index) else { continue }
            diagnostics.append(.error(problem.path, line: lines[index], problem.message))
        }
        if droppedPasswords {
            notices.append(
                "SSH passwords in the inventory were not copied: haha logs in with SSH keys. Create a key and install it on every node, e.g. `ssh-keygen -t ed25519` then `ssh-copy-id USER@ADDRESS` for each node; set ssh.identityFile in haha.yaml if it is not your default key."
            )
        }
        return Result(nodes: nodes, notices: notices, diagnostics: diagnostics, droppedPasswords: droppedPasswords)
    }

    /// The node index of a path such as `nodes[2].user`.
    private static func nodeIndex(_ path: String) -> Int? {
        guard path.hasPrefix("nodes["), let close = path.firstIndex(of: "]") else { return nil }
        return Int(path[path.index(path.startIndex, offsetBy: 6)..<close])
    }

    /// Old and new spellings of the connection variables, mapped to one name each.
    static let aliases = [
        "ansible_ssh_user": "ansible_user", "ansible_ssh_host": "ansible_host", "ansible_ssh_port": "ansible_port",
        "ansible_ssh_private_key_file": "ansible_private_key_file",
    ]

    private static func canonical(_ vars: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in vars.sorted(by: { $0.key < $1.key }) {
            let name = aliases[key] ?? key
            // Within one level the new spelling wins over the old one.
            if aliases[key] != nil, vars[name] != nil { continue }
            result[name] = value
        }
        return result
    }

    private static func stripComment(_ line: String) -> String {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { return "" }
        // An inline comment starts with whitespace then #, outside quotes.
        var quote: Character?
        var previous: Character = " "
        for (offset, char) in line.enumerated() {
            if let q = quote {
                if char == q { quote = nil }
            } else if char == "\"" || char == "'" {
                quote = char
            } else if char == "#", previous == " " || previous == "\t" {
                return String(line.prefix(offset))
            }
            previous = char
        }
        return line
    }

    private static func tokenize(_ line: String) -> [String] {
        var tokens: [String] = [], current = ""
        var quote: Character?
        for char in line {
            if let q = quote {
                if char == q { quote = nil } else { current.append(char) }
            } else if char == "\"" || char == "'" {
                quote = char
            } else if char == " " || char == "\t" {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(char)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    private static func keyValue(_ token: String) -> (String, String)? {
        guard let eq = token.firstIndex(of: "="), eq != token.startIndex else { return nil }
        return (String(token[..<eq]), String(token[token.index(after: eq)...]))
    }
}
