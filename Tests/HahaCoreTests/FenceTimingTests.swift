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

    /// Ping-timeout 2 s: a write stalls ~3.2 s when a node dies, so the holder's 5 s deadline is not reached by the
    /// death of another node (with ping-timeout 3 and a `+ 2` deadline it was: 5.1–5.2 s stalls); a standby may take
    /// over 6.5 s after the last change it saw, and the bricks let go of a dead holder's lock after 6 s.
    @Test func theDefaultSpecFencesWithinFiveSecondsAndTakesOverAfterSixAndAHalf() {
        let timing = FenceTiming(ClusterSpec(nodes: []))
        #expect(timing.pingTimeout == 2)
        #expect(timing.deadline == 5)
        #expect(timing.takeover == 6.5)
        #expect(timing.serverTimeout == 6)
        #expect(timing.earliestTakeover == 6.5)
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
