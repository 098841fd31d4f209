import Foundation

/// Every secret haha has read, replaced by its name in whatever haha prints (errors, progress, logs of commands
/// that failed), so that a secret never reaches a terminal or a CI log even when a node echoes it back.
public enum Redaction {
    private final class Store: @unchecked Sendable {
        let lock = NSLock()
        var secrets: [(value: String, name: String)] = []
    }
    private static let store = Store()

    /// Remembers `values` (name → secret). Values shorter than 8 characters are not secrets haha made and would
    /// blank out ordinary words, so they are left alone.
    public static func register(_ values: [String: String]) {
        store.lock.withLock {
            for (name, value) in values where value.count >= 8 && !store.secrets.contains(where: { $0.value == value }) {
                store.secrets.append((value, name))
            }
            // Longest first: a secret that contains another is replaced whole.
            store.secrets.sort { $0.value.count > $1.value.count }
        }
    }

    /// `text` with every registered secret replaced by `[secret NAME]`.
    public static func apply(_ text: String) -> String {
        let secrets = store.lock.withLock { store.secrets }
        var result = text
        for secret in secrets where result.contains(secret.value) {
            result = result.replacingOccurrences(of: secret.value, with: "[secret \(secret.name)]")
        }
        return result
    }
}
