import Foundation

/// What an onboarding cut off in its middle leaves in Home Assistant's `.storage` (pure: the caller reads the files).
///
/// Home Assistant's onboarding adds the login (`auth_provider.homeassistant`, written at once) before it creates the
/// user and links it (`auth`, written a moment later) and marks the step done (`onboarding`). An `up` killed in between
/// leaves a login nobody owns: every later onboarding is refused ("username already exists"), and a login would make
/// that user an ordinary one, so the cluster would have no owner for good.
public enum InterruptedOnboarding {
    public enum Verdict: Sendable, Equatable {
        /// The login provider holds only `username`, and the auth store has no owner and no credentials of that
        /// login: setting the provider's file aside loses nothing, and onboarding can run again.
        case orphanLogin
        /// Anything else (other logins, an owner, linked credentials, a file that does not parse): left alone.
        case leaveAlone(String)
    }

    /// `provider`: the bytes of `.storage/auth_provider.homeassistant`; `auth`: those of `.storage/auth`, nil when
    /// the file does not exist.
    public static func judge(provider: Data, auth: Data?, username: String) -> Verdict {
        guard let providerStore = try? JSONSerialization.jsonObject(with: provider) as? [String: Any],
            let users = (providerStore["data"] as? [String: Any])?["users"] as? [[String: Any]]
        else { return .leaveAlone("the login provider's file does not parse") }
        let names = users.map { $0["username"] as? String ?? "" }
        guard names == [username] else {
            return .leaveAlone("the login provider holds \(names.count) logins (\(names.joined(separator: ", "))), not only \(username)")
        }
        guard let auth else { return .orphanLogin }
        guard let authStore = try? JSONSerialization.jsonObject(with: auth) as? [String: Any],
            let data = authStore["data"] as? [String: Any]
        else { return .leaveAlone("the auth store does not parse") }
        let authUsers = data["users"] as? [[String: Any]] ?? []
        if authUsers.contains(where: { $0["is_owner"] as? Bool == true }) { return .leaveAlone("the auth store has an owner") }
        let credentials = data["credentials"] as? [[String: Any]] ?? []
        let linked = credentials.contains {
            $0["auth_provider_type"] as? String == "homeassistant" && ($0["data"] as? [String: Any])?["username"] as? String == username
        }
        return linked ? .leaveAlone("the auth store links the login \(username) to a user") : .orphanLogin
    }
}
