import Foundation
import Testing

@testable import HahaCore

/// `gluster volume heal VOLUME info [summary]`, read from what the lab's Gluster printed (Fixtures/gluster).
@Suite struct HealSummaryTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gluster")
    func fixture(_ name: String) throws -> String {
        try String(contentsOf: Self.fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    @Test func aHealthyVolumeHasNothingPendingOnAnyBrick() throws {
        let bricks = GlusterOutput.healSummary(try fixture("heal-summary-healthy.txt"))
        #expect(bricks.map(\.brick) == ["172.30.77.11:/bricks/haha", "172.30.77.12:/bricks/haha", "172.30.77.13:/bricks/haha"])
        #expect(bricks.allSatisfy { $0.connected && $0.status == "Connected" && $0.entries == 0 && $0.splitBrain == 0 })
    }

    @Test func aBrickGlusterCannotReachIsNotConnectedAndNotCounted() throws {
        // n1 was power-cut: its brick answers nothing, the two others list what it has to catch up on.
        let bricks = GlusterOutput.healSummary(try fixture("heal-summary-brick-down.txt"))
        #expect(bricks.count == 3)
        #expect(!bricks[0].connected && bricks[0].status == "Transport endpoint is not connected")
        #expect(bricks[0].entries == nil && bricks[0].splitBrain == nil)
        #expect(bricks[1].connected && bricks[1].entries == 4)
        #expect(bricks[2].connected && bricks[2].entries == 1)
    }

    @Test func entriesStillHealingAfterTheBrickCameBack() throws {
        let bricks = GlusterOutput.healSummary(try fixture("heal-summary-healing.txt"))
        #expect(bricks.map(\.entries) == [0, 1, 1])
        #expect(bricks.map(\.connected) == [true, true, true])
    }

    @Test func glusterdRestartingListsNoBrick() throws {
        #expect(GlusterOutput.healSummary(try fixture("heal-summary-glusterd-restarting.txt")).isEmpty)
    }

    @Test func healInfoListsPathsThenTheCount() throws {
        let bricks = GlusterOutput.healSummary(try fixture("heal-info.txt"))
        #expect(bricks.map(\.entries) == [0, 1, 1])
        #expect(bricks.map(\.connected) == [true, true, true])
    }

    @Test func aBrickReadInPartAnsweredWithALowerBound() {
        // glfs-heal prints this when it could not walk every index entry.
        let text = """
            Brick 10.0.0.11:/srv/brick
            Status: Failed to process entries completely. (Transport endpoint is not connected)
            Total Number of entries: 7

            Brick 10.0.0.12:/srv/brick
            Status: Connected
            Total Number of entries: 2
            Number of entries in heal pending: 1
            Number of entries in split-brain: 1
            Number of entries possibly healing: 0
            """
        let bricks = GlusterOutput.healSummary(text)
        #expect(bricks.map(\.connected) == [true, true])
        #expect(bricks.map(\.entries) == [7, 2])
        #expect(bricks.map(\.splitBrain) == [nil, 1])
    }

    @Test func healInfoListsEachBricksEntries() {
        let text = """
            Brick 172.30.77.11:/bricks/haha
            /homeassistant/.haha/lease
            <gfid:40bd46a3-aadb-4cd1-bfe1-e1a87fe70711>
            Status: Connected
            Number of entries: 2

            Brick 172.30.77.13:/bricks/haha
            Status: Transport endpoint is not connected
            Number of entries: -
            """
        #expect(
            GlusterOutput.healEntries(text) == [
                "172.30.77.11:/bricks/haha": ["/homeassistant/.haha/lease", "<gfid:40bd46a3-aadb-4cd1-bfe1-e1a87fe70711>"],
                "172.30.77.13:/bricks/haha": [],
            ])
    }
}
