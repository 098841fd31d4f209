import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// A Home Assistant that answers onboarding and login from a script, and records what haha asked.
final class FakeOnboarding: HomeAssistantOnboarding, @unchecked Sendable {
    var ownerMissing: Bool
    /// Onboarding still asks for the owner though the account exists (an `up` cut off while Home Assistant created it).
    var ownerHalfCreated = false
    /// The password the existing owner logs in with (nil: no login succeeds).
    let ownerPassword: String?
    private let lock = NSLock()
    private var _calls: [String] = []
    var calls: [String] { lock.withLock { _calls } }

    init(ownerMissing: Bool, ownerPassword: String? = nil) {
        self.ownerMissing = ownerMissing
        self.ownerPassword = ownerPassword
    }

    func needsOwner() async throws -> Bool {
        lock.withLock { _calls.append("needsOwner") }
        return ownerMissing
    }

    func createOwner(name: String, password: String) async throws -> String {
        lock.withLock { _calls.append("createOwner \(password)") }
        if ownerHalfCreated {
            throw HahaError(.alreadyExists, "Home Assistant refused to create its owner (HTTP 400: username_already_exists)")
        }
        return "refresh-created"
    }

    func logIn(password: String) async throws -> String? {
        lock.withLock { _calls.append("logIn \(password)") }
        return password == ownerPassword ? "refresh-login" : nil
    }

    /// The refresh tokens Home Assistant knows (what it gave, plus any a test adds).
    var knownTokens: Set<String> = ["refresh-created", "refresh-login"]

    func accessTokenIfKnown(refreshToken: String) async throws -> String? {
        lock.withLock { _calls.append("accessToken \(refreshToken)") }
        return knownTokens.contains(refreshToken) ? "access-for-\(refreshToken)" : nil
    }
}

/// Issue #9: haha takes over only an owner it created or whose password it holds.
@Suite struct OwnerAccountTests {
    let directory: String
    init() throws {
        directory = try Fixtures.scratchDirectory("owner")
    }

    var tokens: RefreshTokenFile { RefreshTokenFile(path: "\(directory)/homeassistant-refresh-token") }

    func ensure(
        _ ha: FakeOnboarding, ownerOnVolume: () async throws -> Bool = { false }, restart: () async throws -> Void = {},
        setAside: () async throws -> String? = { nil }
    ) async throws -> OwnerAccount.Outcome {
        try await OwnerAccount.ensure(
            ha, password: "stored-pw", passwordFile: "\(directory)/homeassistant-owner-password",
            tokens: tokens, configDirectory: "/mnt/haha/homeassistant", ownerOnVolume: ownerOnVolume,
            restartHomeAssistant: restart, setOrphanLoginAside: setAside)
    }

    /// The lab caught it: `haha up` killed while Home Assistant created the owner left `admin` in the login provider but
    /// onboarding still asking for the owner, so the next run's create is refused ("already exists"). A login then made
    /// Home Assistant create `admin` as an ordinary user (no owner at all). Home Assistant is restarted instead: one that
    /// then sees its owner is logged into with the stored password; one that takes the create again gets the owner; one
    /// that still refuses it stops haha, which never logs in there.
    @Test func anOwnerHalfCreatedByAnInterruptedRunIsNeverLoggedIntoBeforeARestart() async throws {
        let healed = FakeOnboarding(ownerMissing: true, ownerPassword: "stored-pw")
        healed.ownerHalfCreated = true
        #expect(try await ensure(healed, restart: { healed.ownerMissing = false }) == .loggedIn)
        #expect(healed.calls == ["needsOwner", "createOwner stored-pw", "needsOwner", "logIn stored-pw"])
        #expect(try tokens.read() == "refresh-login")
        try FileManager.default.removeItem(atPath: tokens.path)

        let retaken = FakeOnboarding(ownerMissing: true)
        retaken.ownerHalfCreated = true
        #expect(try await ensure(retaken, restart: { retaken.ownerHalfCreated = false }) == .created)
        #expect(retaken.calls == ["needsOwner", "createOwner stored-pw", "needsOwner", "createOwner stored-pw"])
        try FileManager.default.removeItem(atPath: tokens.path)

        let stuck = FakeOnboarding(ownerMissing: true, ownerPassword: "stored-pw")
        stuck.ownerHalfCreated = true
        await #expect(throws: HahaError.self) { try await ensure(stuck) }
        #expect(!stuck.calls.contains { $0.hasPrefix("logIn") }, "\(stuck.calls)")
        #expect(try tokens.read() == nil)
    }

    /// CI: `up` killed 0.3 s into the owner step left the login `admin` on disk without its user, so restarts did not
    /// help. When the volume shows exactly that, the login is set aside and onboarding runs again after a restart; it
    /// is never logged into. When the volume shows anything else, or the create is still refused, haha stops and says
    /// where the login went.
    @Test func aLoginSavedWithoutItsUserIsSetAsideAndOnboardingRunsAgain() async throws {
        let orphaned = FakeOnboarding(ownerMissing: true, ownerPassword: "stored-pw")
        orphaned.ownerHalfCreated = true
        var restarts = 0
        var setAside = false
        #expect(
            try await ensure(
                orphaned, restart: { restarts += 1 },
                setAside: {
                    setAside = true
                    orphaned.ownerHalfCreated = false
                    return "/mnt/haha/homeassistant/.storage/auth_provider.homeassistant.haha-interrupted-1"
                }) == .created)
        #expect(setAside && restarts == 2)
        #expect(
            orphaned.calls == [
                "needsOwner", "createOwner stored-pw", "needsOwner", "createOwner stored-pw", "needsOwner", "createOwner stored-pw",
            ])
        #expect(try tokens.read() == "refresh-created")
        try FileManager.default.removeItem(atPath: tokens.path)

        let refused = FakeOnboarding(ownerMissing: true, ownerPassword: "stored-pw")
        refused.ownerHalfCreated = true
        do {
            _ = try await ensure(refused, setAside: { "/mnt/aside" })
            Issue.record("a create Home Assistant refused three times returned")
        } catch let error as HahaError {
            #expect(error.code == .invalidState && error.message.contains("set aside to /mnt/aside"), "\(error)")
        }
        #expect(!refused.calls.contains { $0.hasPrefix("logIn") }, "\(refused.calls)")
    }

    /// Seen in CI after a staged power cut of every node: Home Assistant started without its owner, though
    /// .storage/auth on the volume held it, and refused a new one. haha restarts it once and asks again; it never
    /// onboards over an owner the volume holds.
    @Test func anOwnerOnTheVolumeThatHomeAssistantDoesNotSeeIsNeverReplaced() async throws {
        try tokens.store("refresh-old")
        let healed = FakeOnboarding(ownerMissing: true)
        var restarts = 0
        #expect(
            try await ensure(
                healed, ownerOnVolume: { true },
                restart: {
                    restarts += 1
                    healed.ownerMissing = false
                }) == .tokenStored)
        #expect(restarts == 1)
        #expect(healed.calls == ["needsOwner", "needsOwner"])

        let stillBlind = FakeOnboarding(ownerMissing: true)
        do {
            _ = try await ensure(stillBlind, ownerOnVolume: { true })
            Issue.record("an owner was created over the one on the volume")
        } catch let error as HahaError {
            #expect(error.code == .invalidState)
            #expect(error.message.contains("/mnt/haha/homeassistant/.storage/auth") && error.message.contains("second owner"), "\(error)")
        }
        #expect(!stillBlind.calls.contains { $0.hasPrefix("createOwner") })
        #expect(try tokens.read() == "refresh-old")
    }

    @Test func aMissingOwnerIsCreatedAndItsTokenStoredPrivately() async throws {
        let ha = FakeOnboarding(ownerMissing: true)
        #expect(try await ensure(ha) == .created)
        #expect(ha.calls == ["needsOwner", "createOwner stored-pw"])
        #expect(try tokens.read() == "refresh-created")
        #expect(try FileManager.default.attributesOfItem(atPath: tokens.path)[.posixPermissions] as? Int == 0o600)
    }

    @Test func anOwnerWithAStoredTokenIsLeftAlone() async throws {
        try tokens.store("refresh-old")
        let ha = FakeOnboarding(ownerMissing: false)
        #expect(try await ensure(ha) == .tokenStored)
        #expect(ha.calls == ["needsOwner"])
        #expect(try tokens.read() == "refresh-old")
    }

    @Test func anOwnerWithoutTokenIsAcceptedWhenTheStoredPasswordLogsIn() async throws {
        let ha = FakeOnboarding(ownerMissing: false, ownerPassword: "stored-pw")
        #expect(try await ensure(ha) == .loggedIn)
        #expect(ha.calls == ["needsOwner", "logIn stored-pw"])
        #expect(try tokens.read() == "refresh-login")
    }

    @Test func anOwnerSomeoneElseCreatedIsRefused() async throws {
        let ha = FakeOnboarding(ownerMissing: false, ownerPassword: "someone-elses")
        do {
            _ = try await ensure(ha)
            Issue.record("an owner haha cannot log in as was accepted")
        } catch let error as HahaError {
            #expect(error.code == .invalidState)
            #expect(error.message.contains("did not create") && error.message.contains("refuses to go on"), "\(error)")
            #expect(error.message.contains("\(directory)/homeassistant-owner-password"))
            #expect(error.next?.contains("/mnt/haha/homeassistant") == true && error.next?.contains(".storage/onboarding") == true)
        }
        #expect(ha.calls == ["needsOwner", "logIn stored-pw"])
        #expect(!ha.calls.contains { $0.hasPrefix("createOwner") })
        #expect(try tokens.read() == nil)
    }

    @Test func anEmptyTokenFileCountsAsNoToken() async throws {
        try tokens.store("")
        let ha = FakeOnboarding(ownerMissing: false)
        await #expect(throws: HahaError.self) { _ = try await ensure(ha) }
    }

    /// After `haha restore` Home Assistant's auth store is the backup's: the refresh token haha stored since is unknown
    /// to it. The stored password logs in again and the new token replaces the old one; a refused password stops.
    @Test func aRefreshTokenHomeAssistantForgotIsReplacedByLoggingInAgain() async throws {
        try tokens.store("refresh-from-after-the-backup")
        let ha = FakeOnboarding(ownerMissing: false, ownerPassword: "stored-pw")
        #expect(try await OwnerAccount.accessToken(ha, password: "stored-pw", tokens: tokens) == "access-for-refresh-login")
        #expect(try tokens.read() == "refresh-login")
        #expect(ha.calls == ["accessToken refresh-from-after-the-backup", "logIn stored-pw", "accessToken refresh-login"])
        // Known now: no second login.
        #expect(try await OwnerAccount.accessToken(ha, password: "stored-pw", tokens: tokens) == "access-for-refresh-login")
        #expect(ha.calls.filter { $0.hasPrefix("logIn") }.count == 1)

        try tokens.store("refresh-from-after-the-backup")
        let changed = FakeOnboarding(ownerMissing: false, ownerPassword: "changed-in-the-ui")
        await #expect(throws: HahaError.self) { try await OwnerAccount.accessToken(changed, password: "stored-pw", tokens: tokens) }
        #expect(try tokens.read() == "refresh-from-after-the-backup")
    }
}
