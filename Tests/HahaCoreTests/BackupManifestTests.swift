import Foundation
import HahaCore
import Testing

/// The archive's manifest and what a restore refuses: versions compared as software prints them.
@Suite struct BackupManifestTests {
    static let manifest = BackupManifest(
        created: "2026-12-05T01:30:00Z", haha: "0.1.0",
        images: .init(
            homeAssistant: "ghcr.io/home-assistant/home-assistant:2026.11.0", mariadb: "mariadb:11.8", mosquitto: "eclipse-mosquitto:2"),
        homeAssistantVersion: "2026.11.0", mariadbVersion: "11.8.3-MariaDB-deb13", databaseFrom: "n1", databaseSeqno: 42,
        parts: BackupPart.allCases.map { .init(name: $0.rawValue, file: $0.file, bytes: 10, sha256: String(repeating: "0", count: 64)) })

    @Test(arguments: [
        ("2026.11.3", [2026, 11, 3]), ("ghcr.io/home-assistant/home-assistant:2026.11.0", [2026, 11, 0]), ("mariadb:11.8", [11, 8]),
        ("11.8.3-MariaDB-deb13", [11, 8, 3]), ("registry:5000/ha:2026.2", [2026, 2]), ("2026.12.0b1", [2026, 12, 0]),
    ])
    func versionsAreTheirLeadingNumbers(text: String, numbers: [Int]) {
        #expect(SoftwareVersion(text)?.numbers == numbers)
    }

    @Test(arguments: ["", "latest", "ghcr.io/home-assistant/home-assistant:stable", "registry:5000/ha"])
    func aTextWithoutAVersionIsNone(text: String) {
        #expect(SoftwareVersion(text) == nil)
    }

    @Test func versionsCompareOnThePartsBothName() throws {
        let v = { (text: String) in try #require(SoftwareVersion(text)) }
        #expect(try v("2026.11.0") < v("2026.11.1"))
        #expect(try v("2026.9.4") < v("2026.11.0"))
        #expect(try v("11.8") == v("11.8.3"))
        #expect(try !(v("11.8.3") < v("11.8")))
    }

    @Test func theSameOrNewerSoftwareMayRestoreIt() {
        #expect(RestoreCheck.problems(Self.manifest, onto: .init(homeAssistant: "2026.11.0", mariadb: "11.8.3-MariaDB")).isEmpty)
        #expect(RestoreCheck.problems(Self.manifest, onto: .init(homeAssistant: "2026.12.1", mariadb: "12.0.2-MariaDB")).isEmpty)
        // What the cluster runs is unknown: nothing to compare, nothing refused.
        #expect(RestoreCheck.problems(Self.manifest, onto: .init(homeAssistant: "stable", mariadb: nil)).isEmpty)
    }

    @Test func aBackupFromNewerSoftwareIsRefusedWithWhatToSet() {
        let problems = RestoreCheck.problems(Self.manifest, onto: .init(homeAssistant: "2026.10.2", mariadb: "11.4.5-MariaDB"))
        #expect(problems.count == 2)
        #expect(problems[0].contains("Home Assistant 2026.11.0, newer than the 2026.10.2"))
        #expect(problems[0].contains("images.homeAssistant to ghcr.io/home-assistant/home-assistant:2026.11.0"))
        #expect(problems[1].contains("MariaDB 11.8.3, newer than the 11.4.5"))
    }

    @Test func aMissingPartIsRefused() {
        var manifest = Self.manifest
        manifest.parts.removeAll { $0.name == "mosquitto" }
        #expect(RestoreCheck.problems(manifest, onto: .init(homeAssistant: nil, mariadb: nil)) == ["the archive lacks its mosquitto part"])
    }

    @Test func theManifestRoundTripsAndAnotherFormatOrTextIsRefused() throws {
        #expect(try BackupManifest.decode(Self.manifest.encoded()).get() == Self.manifest)
        var future = Self.manifest
        future.format = 2
        #expect(throws: BackupProblem.self) { try BackupManifest.decode(try future.encoded()).get() }
        #expect(throws: BackupProblem.self) { try BackupManifest.decode(Data("not json".utf8)).get() }
    }
}
