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
}
