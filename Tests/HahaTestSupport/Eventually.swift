import Foundation

/// Waits up to `seconds` for `condition`, checking every 100 ms; returns whether it came true.
public func eventually(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}
