import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// How `haha drill --lab` breaks and restores a lab node, per scenario: the commands the lab host runs.
@Suite struct LabFaultTests {
    static func commands(_ scenario: DrillScenario) async throws -> (cut: [String], restore: [String], after: Double?) {
        let host = ScriptedRunner()
        let driver = LabDriver(layout: LabLayout(), directory: URL(fileURLWithPath: "/tmp/lab"), runner: host)
        let fault = driver.drillFault(scenario)
        let node = ClusterSpec.Node(name: "n2", address: "172.30.77.12")
        try await fault.cut?(node, host)
        let cut = host.commands.map(\.pretty)
        try await fault.restore?(node, host)
        return (cut, Array(host.commands.map(\.pretty).dropFirst(cut.count)), fault.restoreAfter)
    }

    @Test func aFreezePausesTheNodeAndResumesItAfterTenSeconds() async throws {
        let freeze = try await Self.commands(.freeze)
        #expect(freeze.cut == ["docker pause haha-lab-n2"])
        #expect(freeze.restore == ["docker unpause haha-lab-n2"])
        #expect(freeze.after == 10)
    }

    @Test func aPowerCutDropsTrafficBeforeTheKillAndStartsTheNodeAgain() async throws {
        for scenario in [DrillScenario.powerCut, .allPowerCut] {
            let cut = try await Self.commands(scenario)
            #expect(cut.cut.last == "docker kill haha-lab-n2")
            #expect(cut.cut.dropLast().allSatisfy { $0.contains("iptables -I") && $0.hasSuffix("-j DROP") })
            #expect(cut.restore == ["docker start haha-lab-n2"])
            #expect(cut.after == nil)
        }
    }

    /// A node the drill power-cut counts no Home Assistant until it is started again: its processes have SIGKILL
    /// queued and may take a while to go (the CI's cold run counted one beside the new active instance). A partitioned
    /// node is not power-cut: its Home Assistant keeps counting.
    @Test func aPowerCutNodeIsMarkedOffUntilItStartsAndAPartitionedOneIsNot() async throws {
        let host = ScriptedRunner()
        let driver = LabDriver(layout: LabLayout(), directory: URL(fileURLWithPath: "/tmp/lab"), runner: host)
        let node = ClusterSpec.Node(name: "n2", address: "172.30.77.12")
        let power = driver.drillFault(.powerCut)
        try await power.cut?(node, host)
        #expect(driver.poweredOff.contains("haha-lab-n2"))
        try await power.restore?(node, host)
        #expect(!driver.poweredOff.contains("haha-lab-n2"))
        try await driver.drillFault(.partition).cut?(node, host)
        #expect(!driver.poweredOff.contains("haha-lab-n2"))
        let failed = ScriptedRunner()
        failed.on({ $0.starts(with: ["docker", "kill"]) }, exit: 1, stderr: "Error: No such container\n")
        let stubborn = LabDriver(layout: LabLayout(), directory: URL(fileURLWithPath: "/tmp/lab"), runner: failed)
        await #expect(throws: (any Error).self) { try await stubborn.kill("n2") }
        #expect(!stubborn.poweredOff.contains("haha-lab-n2"), "a kill that failed powered nothing off")
    }

    /// The node drops every packet on the interface holding its lab address (in, out, forwarded) and keeps running;
    /// healing deletes exactly those marked rules. The node stays on the Docker network, so its interface keeps its name.
    @Test func aPartitionDropsThePacketsOfTheNodesLabInterfaceInsideItAndHealingRemovesThoseRules() async throws {
        let partition = try await Self.commands(.partition)
        let cut = try #require(partition.cut.first)
        #expect(partition.cut.count == 1)
        #expect(cut.hasPrefix("docker exec haha-lab-n2 sh -c "))
        #expect(cut.contains("ip -o -4 addr show to 172.30.77.12"))
        for rule in ["INPUT 1 -i", "OUTPUT 1 -o", "FORWARD 1 -i", "FORWARD 1 -o"] {
            #expect(cut.contains("iptables -I \(rule) \"$dev\" -m comment --comment haha-lab-partition -j DROP"))
        }
        let restore = try #require(partition.restore.first)
        for rule in ["INPUT -i", "OUTPUT -o", "FORWARD -i", "FORWARD -o"] {
            #expect(restore.contains("while iptables -D \(rule) \"$dev\" -m comment --comment haha-lab-partition -j DROP"))
        }
        #expect(!restore.contains("iptables -I"))
        #expect(!(partition.cut + partition.restore).contains { $0.contains("docker network") })
    }

    @Test func aDrainNeedsNoLab() async throws {
        let drain = LabDriver(layout: LabLayout(), directory: URL(fileURLWithPath: "/tmp/lab"), runner: ScriptedRunner()).drillFault(.drain)
        #expect(drain.cut == nil)
        #expect(drain.restore == nil)
    }
}
