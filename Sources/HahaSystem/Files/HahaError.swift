/// haha's error type: a code, what failed, and what to do next.
public struct HahaError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case invalidArgument, notFound, alreadyExists, invalidState, timeout, io, failed, doubt, locked }

    public var code: Code
    public var message: String
    public var next: String?

    public init(_ code: Code, _ message: String, next: String? = nil) {
        self.code = code
        self.message = message
        self.next = next
    }

    public static func invalidArgument(_ message: String, next: String?) -> HahaError { .init(.invalidArgument, message, next: next) }
    public static func notFound(_ message: String, next: String?) -> HahaError { .init(.notFound, message, next: next) }
    public static func alreadyExists(_ message: String, next: String?) -> HahaError { .init(.alreadyExists, message, next: next) }
    public static func io(_ message: String) -> HahaError { .init(.io, message) }

    public var description: String {
        next.map { "\(message)\n  → \($0)" } ?? message
    }
}
