import Yams

/// Reads a Yams node tree field by field, recording every problem with its path and line instead of
/// stopping at the first one (the way Codable would).
struct YAMLReader {
    private(set) var diagnostics: [Diagnostic] = []
    /// Line of every field that was read, by path, so later validation can point at it.
    private(set) var lines: [String: Int] = [:]

    mutating func error(_ path: String, _ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(.error, path: path, line: node?.mark?.line, column: node?.mark?.column, message))
    }

    mutating func note(_ path: String, _ node: Node?) {
        if let line = node?.mark?.line, lines[path] == nil { lines[path] = line }
    }

    /// The mapping at `path`, checking that it has only `allowed` keys.
    mutating func mapping(_ node: Node?, path: String, allowed: [String]) -> [String: Node]? {
        guard let node else { return nil }
        note(path, node)
        guard case .mapping(let mapping) = node else {
            error(path, node, "expected a mapping (key: value lines), found \(kind(of: node))")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                error(path, keyNode, "keys must be plain strings")
                continue
            }
            let child = path.isEmpty ? key : "\(path).\(key)"
            if !allowed.contains(key) {
                let hint = closest(to: key, in: allowed).map { " (did you mean \"\($0)\"?)" } ?? ""
                error(child, keyNode, "unknown key \"\(key)\"\(hint); allowed here: \(allowed.joined(separator: ", "))")
                continue
            }
            if result[key] != nil {
                error(child, keyNode, "key \"\(key)\" appears twice")
                continue
            }
            result[key] = value
            note(child, keyNode)
        }
        return result
    }

    mutating func sequence(_ node: Node?, path: String) -> [Node]? {
        guard let node else { return nil }
        note(path, node)
        guard case .sequence(let sequence) = node else {
            error(path, node, "expected a list (lines starting with \"- \"), found \(kind(of: node))")
            return nil
        }
        return Array(sequence)
    }

    mutating func string(_ node: Node?, path: String) -> String? {
        guard let node else { return nil }
        note(path, node)
        guard case .scalar(let scalar) = node else {
            error(path, node, "expected a text value, found \(kind(of: node))")
            return nil
        }
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            error(path, node, "expected a value, found nothing")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node?, path: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, path: path) else { return nil }
        guard let value = Int(text) else {
            error(path, node, "expected a whole number, found \"\(text)\"")
            return nil
        }
        guard range.contains(value) else {
            error(path, node, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node?, path: String) -> Bool? {
        guard let text = string(node, path: path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(path, node, "expected true or false, found \"\(text)\"")
            return nil
        }
    }

    mutating func oneOf(_ node: Node?, path: String, _ choices: [String]) -> String? {
        guard let text = string(node, path: path) else { return nil }
        guard choices.contains(text) else {
            error(path, node, "\"\(text)\" is not one of: \(choices.joined(separator: ", "))")
            return nil
        }
        return text
    }

    private func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar): return scalar.string.isEmpty ? "an empty value" : "\"\(scalar.string)\""
        case .alias: return "an alias"
        }
    }
}

/// The allowed word nearest to a mistyped one (edit distance ≤ 2), for "did you mean" hints.
func closest(to word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let lowered = Array(word.lowercased())
    return
        candidates
        .map { ($0, distance(lowered, Array($0.lowercased()))) }
        .filter { $0.1 <= 2 }
        .min { $0.1 < $1.1 }?.0
}
