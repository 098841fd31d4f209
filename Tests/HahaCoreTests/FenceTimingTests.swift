import HahaCore
import Testing

/// The fence's timing: the holder gives up before a standby may start, and the bricks keep a dead holder's lock past the
/// holder's own deadline, for every ping-timeout the spec allows.
@Suite struct FenceTimingTests {
    @Test(arguments: Array(1...42))
    func everyAllowedPingTimeoutGivesASafeTiming(ping: Int) {
        let timing = FenceTiming(pingTimeout: ping)
        #expect(timing.problems.isEmpty)
        #expect(timing.deadline > Double(ping) + timing.interval)
        #expect(timing.takeover >= timing.deadline + 1)
        #expect(Double(timing.serverTimeout) >= timing.deadline + 1)
        #expect(Double(timing.keepaliveTime + timing.keepaliveInterval * timing.keepaliveCount) >= timing.deadline + 1)
    }

    @Test func theDefaultSpecFencesWithinFiveSecondsAndTakesOverAfterSevenAndAHalf() {
        let timing = FenceTiming(ClusterSpec(nodes: []))
        #expect(timing.pingTimeout == 3)
        #expect(timing.deadline == 5)
        #expect(timing.takeover == 6.5)
        #expect(timing.serverTimeout == 7)
        #expect(timing.earliestTakeover == 7)
    }

    @Test func anUnsafeTimingIsNamed() {
        var timing = FenceTiming(pingTimeout: 3)
        timing.takeover = timing.deadline
        #expect(timing.problems.count == 1)
        #expect(timing.problems.first?.contains("takeover") == true)
        timing = FenceTiming(pingTimeout: 3)
        timing.deadline = 3.5
        #expect(timing.problems.contains { $0.contains("ping-timeout") })
        timing = FenceTiming(pingTimeout: 3)
        timing.serverTimeout = 5
        #expect(timing.problems.contains { $0.contains("lock") })
    }

    @Test func theVolumeOptionsCarryTheTiming() {
        var spec = ClusterSpec(nodes: [])
        spec.storage.pingTimeout = 10
        let options = GlusterVolumeOptions.wanted(spec)
        #expect(options["cluster.quorum-type"] == "auto")
        #expect(options["network.ping-timeout"] == "10")
        #expect(options["server.tcp-user-timeout"] == "14")
        #expect(options["server.keepalive-time"] == "12")
        #expect(options["server.keepalive-interval"] == "1")
        #expect(options["server.keepalive-count"] == "2")
    }

    @Test func theLeaseFileSaysWhoHoldsIt() {
        #expect(FenceLease(parsing: "held n2 41 9f3c 7\n") == .held(node: "n2"))
        #expect(FenceLease(parsing: "released n2 41 9f3c\n") == .released)
        #expect(FenceLease(parsing: "") == .unreadable)
        #expect(FenceLease(parsing: "held") == .unreadable)
    }
}
