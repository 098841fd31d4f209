/// One problem found in a spec or an input file: what, where (field path and YAML line) and how bad.
public struct Diagnostic: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case error, warning }

    public var severity: Severity
    /// Field path such as `nodes[1].address`; empty for the whole document.
    public var path: String
    /// 1-based line in the source file, when known.
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(_ severity: Severity, path: String, line: Int? = nil, column: Int? = nil, _ message: String) {
        self.severity = severity
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public static func error(_ path: String, line: Int? = nil, _ message: String) -> Diagnostic {
        Diagnostic(.error, path: path, line: line, message)
    }

    public static func warning(_ path: String, line: Int? = nil, _ message: String) -> Diagnostic {
        Diagnostic(.warning, path: path, line: line, message)
    }

    /// `haha.yaml:12: error: nodes[1].address: "10.1.0" is not an IPv4 address or host name`; always one line:
    /// a control character or line break from a quoted value is shown escaped.
    public func formatted(file: String) -> String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        let field = path.isEmpty ? "" : "\(path): "
        let text = "\(location): \(severity.rawValue): \(field)\(message)"
        return text.unicodeScalars.map { Grammar.hasControlCharacters(String($0)) ? $0.escaped(asASCII: true) : String($0) }.joined()
    }

    public var description: String { formatted(file: "haha.yaml") }
}

extension Array where Element == Diagnostic {
    public var errors: [Diagnostic] { filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { filter { $0.severity == .warning } }
    public var hasErrors: Bool { contains { $0.severity == .error } }
}

/// An error that carries every diagnostic, so a command can print all problems at once.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var diagnostics: [Diagnostic]

    public init(file: String, diagnostics: [Diagnostic]) {
        self.file = file
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map { $0.formatted(file: file) }.joined(separator: "\n")
    }
}
