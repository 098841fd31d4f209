import Foundation

/// Swarm's record of a service's last update, as `docker service inspect --format SwarmUpdate.format` prints it:
/// `STATE|MESSAGE`, nothing when no update ran. Swarm clears it when a service's definition changes, so what it says
/// after a deploy is about that deploy.
public enum SwarmUpdate {
    public static let format = "{{if .UpdateStatus}}{{.UpdateStatus.State}}|{{.UpdateStatus.Message}}{{end}}"

    /// `docker service inspect` printing `service`'s update state.
    public static func inspect(_ service: String) -> [String] {
        ["docker", "service", "inspect", "--format", format, service]
    }

    /// The state and message when Swarm gave the update up (rolled back or paused); nil while it goes on, when it
    /// completed, or when no update ran.
    public static func abandoned(_ status: String) -> String? {
        let parts = status.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", maxSplits: 1).map(String.init)
        guard let state = parts.first, state.hasPrefix("rollback") || state == "paused" else { return nil }
        return parts.count == 2 && !parts[1].isEmpty ? "\(state): \(parts[1])" : state
    }
}
