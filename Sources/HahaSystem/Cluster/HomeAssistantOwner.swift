import Foundation
import HahaCore

/// The parts of Home Assistant's onboarding and login the owner decision uses; a fake stands in for it in tests.
public protocol HomeAssistantOnboarding: Sendable {
    /// Whether the owner account still has to be created.
    func needsOwner() async throws -> Bool
    /// Creates the owner and returns a refresh token.
    func createOwner(name: String, password: String) async throws -> String
    /// Logs in as the owner with this password: a refresh token, or nil when Home Assistant refuses the password.
    func logIn(password: String) async throws -> String?
    /// An access token minted from a refresh token; nil when Home Assistant does not know that refresh token.
    func accessTokenIfKnown(refreshToken: String) async throws -> String?
}

extension HomeAssistantSetup: HomeAssistantOnboarding {}

/// The refresh token haha keeps beside the secrets (it does not expire; access tokens are minted from it).
public struct RefreshTokenFile: Sendable {
    public var path: String
    public init(path: String) { self.path = path }

    /// Removes the stored token; nothing to do when there is none.
    public func remove() throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw HahaError.io("cannot remove \(path): \(error.localizedDescription)")
        }
    }

    /// The stored token; nil when there is no file or it is empty.
    public func read() throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return token.isEmpty ? nil : token
        } catch {
            throw HahaError.io("cannot read \(path): \(error.localizedDescription)")
        }
    }

    public func store(_ token: String) throws {
        try writePrivateFile(path, contents: token + "\n")
    }
}

extension Workspace {
    public var refreshTokenFile: RefreshTokenFile { RefreshTokenFile(path: "\(secretsDirectory)/homeassistant-refresh-token") }
}

/// Home Assistant's owner: created by haha, or proven to be haha's by logging in with the stored password.
/// An owner someone else created is refused (issue #9): haha would otherwise configure a Home Assistant it does not control.
public enum OwnerAccount {
    public enum Outcome: Sendable, Equatable {
        /// haha created the owner and stored its refresh token.
        case created
        /// The owner exists and haha holds its refresh token.
        case tokenStored
        /// The owner exists, no token was stored, and the stored password logged in; the token is stored now.
        case loggedIn
    }

    /// `ownerOnVolume` reads `.storage/auth` on the shared volume itself: whether it holds an owner. When Home
    /// Assistant asks for an owner though the file holds one, it read its storage wrong (seen in CI right after a staged
    /// power cut of every node: it started without its owner and refused a new one, "Credential is already linked to a
    /// user"). Creating an owner then could replace the real one for good, so haha restarts Home Assistant once
    /// (`restartHomeAssistant`, which returns when it answers again) and asks again; it never onboards over an owner.
    /// `setOrphanLoginAside` moves away a login that an interrupted onboarding saved without its user (see
    /// `InterruptedOnboarding`) and returns where it put it; nil when the volume does not show exactly that.
    public static func ensure(
        _ ha: some HomeAssistantOnboarding, password: String, passwordFile: String, tokens: RefreshTokenFile,
        configDirectory: String, ownerOnVolume: () async throws -> Bool = { false },
        restartHomeAssistant: () async throws -> Void = {}, setOrphanLoginAside: () async throws -> String? = { nil }
    ) async throws -> Outcome {
        func create() async throws -> Outcome {
            try tokens.store(try await ha.createOwner(name: "Administrator", password: password))
            return .created
        }
        func stuck(_ refusal: HahaError, aside: String?) -> HahaError {
            let user = HomeAssistantSetup.ownerUsername
            return HahaError(
                .invalidState,
                """
                Home Assistant knows the user \(user) but has no owner, also after a restart\(aside.map { " and with its login set aside to \($0)" } ?? "") \
                (\(refusal.message)); haha does not log in, which would make \(user) an ordinary user
                """,
                next: """
                    start Home Assistant's onboarding afresh: remove .storage/onboarding, .storage/auth and \
                    .storage/auth_provider.homeassistant from \(configDirectory) on the Gluster volume and run `haha up` again
                    """)
        }
        var needsOwner = try await ha.needsOwner()
        if needsOwner, try await ownerOnVolume() {
            try await restartHomeAssistant()
            needsOwner = try await ha.needsOwner()
            if needsOwner {
                throw HahaError(
                    .invalidState,
                    """
                    Home Assistant asks for an owner, but \(configDirectory)/.storage/auth on the shared volume holds one, also after \
                    a restart: it does not read its own storage; haha does not create a second owner over the first
                    """,
                    next: """
                        check the volume (`gluster volume heal <volume> info` on a node) and Home Assistant's log, then run `haha up` \
                        again; if .storage/auth is damaged, `haha restore` puts back the last backup's
                        """)
            }
        }
        // A create refused because `admin` already exists is an `up` cut off while Home Assistant created the owner:
        // its login provider knows `admin`, but onboarding still asks for the owner, so the owner account may not exist.
        // A login now would make Home Assistant create `admin` as an ordinary user (seen on the lab: no owner, no
        // onboarding on disk, and every later `up` refused with "Credential is already linked to a user"). Each refusal
        // leads to the next remedy, then the create again while Home Assistant still asks for its owner:
        // 1. a restart: Home Assistant drops what it did not save, then either sees its owner or takes the create;
        // 2. saved, but half: the login is on disk, its user is not (CI: `up` killed 0.3 s into this step). When the
        //    volume shows exactly that, the login's file is set aside (never deleted), and Home Assistant restarts
        //    without it;
        // 3. none left: haha stops, and never logs in.
        var remedies = 0
        var aside: String?
        while needsOwner {
            do {
                return try await create()
            } catch let refusal as HahaError where refusal.code == .alreadyExists {
                remedies += 1
                switch remedies {
                case 1: break
                case 2:
                    guard let path = try await setOrphanLoginAside() else { throw stuck(refusal, aside: nil) }
                    aside = path
                default: throw stuck(refusal, aside: aside)
                }
                try await restartHomeAssistant()
                needsOwner = try await ha.needsOwner()
            }
        }
        if try tokens.read() != nil { return .tokenStored }
        guard let refresh = try await ha.logIn(password: password) else {
            throw HahaError(
                .invalidState,
                """
                Home Assistant already has an owner that haha did not create: the password in \(passwordFile) does not log in \
                as \(HomeAssistantSetup.ownerUsername), so haha refuses to go on (it would configure a Home Assistant someone else controls)
                """,
                next: """
                    if that owner is yours, put its password in \(passwordFile) (user \(HomeAssistantSetup.ownerUsername)) and run `haha up` again; \
                    to start Home Assistant afresh instead, remove .storage/onboarding, .storage/auth and .storage/auth_provider.homeassistant \
                    from \(configDirectory) on the Gluster volume and run `haha up` again
                    """)
        }
        try tokens.store(refresh)
        return .loggedIn
    }
}

extension HomeAssistantSetup {
    /// The login flow a browser uses (`auth/login_flow`), as the owner; nil when the password is refused.
    public func logIn(password: String) async throws -> String? {
        let flow = try await request(
            "POST", "auth/login_flow",
            json: [
                "client_id": Self.clientID, "handler": ["homeassistant", NSNull()], "redirect_uri": Self.clientID,
            ])
        guard flow.status == 200, let flowID = (flow.json as? [String: Any])?["flow_id"] as? String else {
            throw HahaError(
                .failed,
                "Home Assistant did not start a login flow (HTTP \(flow.status)): \(String(decoding: flow.body.prefix(300), as: UTF8.self))"
            )
        }
        let answer = try await request(
            "POST", "auth/login_flow/\(flowID)",
            json: [
                "client_id": Self.clientID, "username": Self.ownerUsername, "password": password,
            ])
        let step = answer.json as? [String: Any]
        guard answer.status == 200, let step else {
            throw HahaError(
                .failed,
                "Home Assistant's login flow failed (HTTP \(answer.status)): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
        }
        guard step["type"] as? String == "create_entry", let code = step["result"] as? String else {
            // A form again, with errors such as invalid_auth: the password was refused.
            return nil
        }
        let tokens = try await request(
            "POST", "auth/token", form: ["grant_type": "authorization_code", "code": code, "client_id": Self.clientID])
        guard tokens.status == 200, let refresh = (tokens.json as? [String: Any])?["refresh_token"] as? String else {
            throw HahaError(.failed, "Home Assistant gave no token after the owner logged in (HTTP \(tokens.status))")
        }
        return refresh
    }
}

extension OwnerAccount {
    /// An access token from the stored refresh token. When Home Assistant no longer knows that token (`haha restore`
    /// put back the auth store of the backup's day), the stored password logs in again as the owner and the new
    /// refresh token is stored; a password it refuses stops, as for an owner haha did not create.
    public static func accessToken(_ ha: some HomeAssistantOnboarding, password: String, tokens: RefreshTokenFile) async throws -> String {
        if let refresh = try tokens.read(), let access = try await ha.accessTokenIfKnown(refreshToken: refresh) { return access }
        guard let refresh = try await ha.logIn(password: password) else {
            throw HahaError(
                .invalidState, "Home Assistant knows neither haha's refresh token (\(tokens.path)) nor the owner's stored password",
                next:
                    "if the owner's password was changed in Home Assistant, put it in the secrets directory's homeassistant-owner-password and run `haha up` again"
            )
        }
        try tokens.store(refresh)
        guard let access = try await ha.accessTokenIfKnown(refreshToken: refresh) else {
            throw HahaError(.failed, "Home Assistant refused the refresh token it just gave", next: HomeAssistantSetup.readTheLog)
        }
        return access
    }
}
