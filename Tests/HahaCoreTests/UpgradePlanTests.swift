import HahaCore
import Testing

struct UpgradePlanTests {
    @Test func aBareTagGoesOnTheCurrentRepositoryAndAWholeReferenceIsKept() {
        let current = "ghcr.io/home-assistant/home-assistant:2026.11.0"
        #expect(UpgradePlan.reference(current: current, requested: "2026.12.1") == "ghcr.io/home-assistant/home-assistant:2026.12.1")
        #expect(UpgradePlan.reference(current: "localhost:5000/mariadb:11.8", requested: "11.8.4") == "localhost:5000/mariadb:11.8.4")
        #expect(UpgradePlan.reference(current: "mariadb@sha256:abc", requested: "11.8") == "mariadb:11.8")
        #expect(UpgradePlan.reference(current: "mariadb", requested: "11.8") == "mariadb:11.8")
        #expect(UpgradePlan.reference(current: current, requested: "haha-lab/homeassistant:x") == "haha-lab/homeassistant:x")
    }

    @Test func onlyImagesThatDifferChangeAndAreWrittenIntoTheSpec() {
        let images = ClusterSpec.Images()
        let changes = UpgradePlan.changes(current: images, homeAssistant: "2026.12.0", mariadb: images.mariadb, mosquitto: nil)
        #expect(
            changes == [.init(image: "homeAssistant", from: images.homeAssistant, to: "ghcr.io/home-assistant/home-assistant:2026.12.0")])
        let applied = UpgradePlan.applying(changes, to: images)
        #expect(applied.homeAssistant == "ghcr.io/home-assistant/home-assistant:2026.12.0")
        #expect(applied.mariadb == images.mariadb && applied.mosquitto == images.mosquitto)
        #expect(UpgradePlan.changes(current: images, homeAssistant: nil, mariadb: nil, mosquitto: nil).isEmpty)
    }

    @Test func anOlderHomeAssistantOrMariaDBIsRefusedAndASameVersionTagIsNot() {
        let images = ClusterSpec.Images()
        let older = UpgradePlan.changes(current: images, homeAssistant: "2026.10.2", mariadb: "11.4", mosquitto: "1.6")
        let refusals = UpgradePlan.refusals(older)
        #expect(refusals.count == 2)
        #expect(refusals[0].contains("older Home Assistant (2026.10.2)") && refusals[0].contains("haha restore"))
        #expect(refusals[1].contains("older MariaDB (11.4)"))
        // A second build of the same version (the lab's second tag) and a newer one are fine.
        #expect(
            UpgradePlan.refusals(UpgradePlan.changes(current: images, homeAssistant: "2026.11.0-second", mariadb: "11.8.5", mosquitto: nil))
                .isEmpty)
    }

    static let ha = "ghcr.io/home-assistant/home-assistant:2026.12.0"
    static let digest = "sha256:" + String(repeating: "a1", count: 32)

    /// The same digest on every node pins the image; Docker Hub's short names match their long form.
    @Test func theSameRegistryDigestOnEveryNodePinsTheImage() {
        let lines = "ghcr.io/home-assistant/home-assistant@\(Self.digest)\nghcr.io/other/image@sha256:ff\n"
        #expect(UpgradePlan.pin(Self.ha, repoDigests: ["n1": lines, "n2": lines]) == .pinned("\(Self.ha)@\(Self.digest)"))
        #expect(
            UpgradePlan.pin("docker.io/library/mariadb:11.8", repoDigests: ["n1": "mariadb@\(Self.digest)\n"])
                == .pinned("docker.io/library/mariadb:11.8@\(Self.digest)"))
        // Pulled under two digests on one node, one of them shared by the other: that one.
        #expect(
            UpgradePlan.pin(
                Self.ha,
                repoDigests: [
                    "n1": "ghcr.io/home-assistant/home-assistant@sha256:bb\nghcr.io/home-assistant/home-assistant@\(Self.digest)\n",
                    "n2": "ghcr.io/home-assistant/home-assistant@\(Self.digest)\n",
                ]) == .pinned("\(Self.ha)@\(Self.digest)"))
        #expect(UpgradePlan.pin("mariadb:11.8@\(Self.digest)", repoDigests: [:]) == .pinned("mariadb:11.8@\(Self.digest)"))
    }

    /// A locally built or loaded image has no registry digest: the tag stays; different images under one tag are refused.
    @Test func noDigestLeavesTheTagAndDifferentImagesUnderOneTagAreRefused() {
        guard case .notPinned(let why) = UpgradePlan.pin(Self.ha, repoDigests: ["n1": "", "n2": "\n"]) else {
            Issue.record("a local image was pinned")
            return
        }
        #expect(why.contains("no registry digest"))
        guard
            case .notPinned(let some) = UpgradePlan.pin(
                Self.ha, repoDigests: ["n1": "", "n2": "ghcr.io/home-assistant/home-assistant@\(Self.digest)"])
        else {
            Issue.record("pinned though n1 holds no digest")
            return
        }
        #expect(some.hasPrefix("n1 hold"))
        guard
            case .refused(let refusal) = UpgradePlan.pin(
                Self.ha,
                repoDigests: [
                    "n1": "ghcr.io/home-assistant/home-assistant@sha256:bb", "n2": "ghcr.io/home-assistant/home-assistant@\(Self.digest)",
                ])
        else {
            Issue.record("different images under one tag were not refused")
            return
        }
        #expect(refusal.contains("n1: sha256:bb; n2: \(Self.digest)"))
    }

    @Test func aPinnedReferenceStillSaysItsVersion() {
        #expect(SoftwareVersion("\(Self.ha)@\(Self.digest)")?.description == "2026.12.0")
        #expect(SoftwareVersion("mariadb@\(Self.digest)") == nil)
        #expect(
            UpgradePlan.refusals([
                .init(image: "homeAssistant", from: "\(Self.ha)@\(Self.digest)", to: "ghcr.io/home-assistant/home-assistant:2026.11.0")
            ])
            .count == 1)
    }
}
