import Foundation
import HahaCore
import Testing

/// What an onboarding cut off in its middle leaves on the volume, told apart from everything that must stay.
@Suite struct InterruptedOnboardingTests {
    static func provider(_ names: [String]) -> Data {
        let users = names.map { #"{"username": "\#($0)", "password": "JDJiJDEyJGFiYw=="}"# }.joined(separator: ", ")
        return Data(#"{"version": 1, "minor_version": 1, "key": "auth_provider.homeassistant", "data": {"users": [\#(users)]}}"#.utf8)
    }

    static func auth(owner: Bool, credentialsFor username: String?) -> Data {
        let credentials =
            username.map {
                #"{"id": "c1", "user_id": "u1", "auth_provider_type": "homeassistant", "auth_provider_id": null, "data": {"username": "\#($0)"}}"#
            } ?? ""
        return Data(
            #"""
            {"version": 1, "minor_version": 1, "key": "auth", "data": {
              "users": [{"id": "u0", "group_ids": ["system-read-only"], "is_owner": false, "is_active": true,
                         "name": "Home Assistant Content", "system_generated": true, "local_only": false},
                        {"id": "u1", "group_ids": ["system-admin"], "is_owner": \#(owner), "is_active": true,
                         "name": "Administrator", "system_generated": false, "local_only": false}],
              "groups": [{"id": "system-admin", "name": "Administrators"}],
              "credentials": [\#(credentials)],
              "refresh_tokens": []}}
            """#.utf8)
    }

    @Test func aLoginWithoutUserOrOwnerIsAnOrphan() {
        #expect(InterruptedOnboarding.judge(provider: Self.provider(["admin"]), auth: nil, username: "admin") == .orphanLogin)
        #expect(
            InterruptedOnboarding.judge(
                provider: Self.provider(["admin"]), auth: Self.auth(owner: false, credentialsFor: nil), username: "admin")
                == .orphanLogin)
        // Credentials of another login do not make this one owned.
        #expect(
            InterruptedOnboarding.judge(
                provider: Self.provider(["admin"]), auth: Self.auth(owner: false, credentialsFor: "bob"), username: "admin")
                == .orphanLogin)
    }

    @Test func everythingElseIsLeftAlone() {
        func leftAlone(_ verdict: InterruptedOnboarding.Verdict) -> Bool {
            if case .leaveAlone = verdict { return true }
            return false
        }
        // An owner, or the login linked to a user: onboarding got further than the login.
        #expect(
            leftAlone(
                InterruptedOnboarding.judge(
                    provider: Self.provider(["admin"]), auth: Self.auth(owner: true, credentialsFor: nil), username: "admin")))
        #expect(
            leftAlone(
                InterruptedOnboarding.judge(
                    provider: Self.provider(["admin"]), auth: Self.auth(owner: false, credentialsFor: "admin"), username: "admin")))
        // Other people's logins, or none of haha's.
        #expect(leftAlone(InterruptedOnboarding.judge(provider: Self.provider(["admin", "bob"]), auth: nil, username: "admin")))
        #expect(leftAlone(InterruptedOnboarding.judge(provider: Self.provider(["bob"]), auth: nil, username: "admin")))
        #expect(leftAlone(InterruptedOnboarding.judge(provider: Self.provider([]), auth: nil, username: "admin")))
        // Files that do not parse: a damaged volume is no orphan.
        #expect(leftAlone(InterruptedOnboarding.judge(provider: Data("{\"data\": ".utf8), auth: nil, username: "admin")))
        #expect(leftAlone(InterruptedOnboarding.judge(provider: Self.provider(["admin"]), auth: Data("garbage".utf8), username: "admin")))
    }
}
