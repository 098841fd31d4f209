import Testing

@testable import HahaCore

/// What `homeAssistant.failover` changes below the stack: Swarm's heartbeat and the Gluster volume's timeouts.
@Suite struct FailoverSettingsTests {
    static func spec(_ failover: ClusterSpec.HomeAssistant.Failover) -> ClusterSpec {
        var spec = ClusterSpec(nodes: [.init(name: "n1", address: "10.1.0.11"), .init(name: "n2", address: "10.1.0.12")])
        spec.homeAssistant.failover = failover
        return spec
    }

    /// 1 s where Swarm must notice a dead node to move Home Assistant (the fence on the routing mesh: one replica);
    /// behind the proxy (a standby on every data node, the lease moves it) and without the fence, Swarm's default 5 s.
    @Test func theHeartbeatIsOneSecondOnlyWhereSwarmMovesTheFencedHomeAssistant() {
        #expect(SwarmHeartbeat.initArguments(Self.spec(.fenced)) == ["--dispatcher-heartbeat", "1s"])
        #expect(SwarmHeartbeat.initArguments(Self.spec(.swarm)) == ["--dispatcher-heartbeat", "5s"])
        var proxied = Self.spec(.fenced)
        proxied.routing = .proxy
        #expect(SwarmHeartbeat.initArguments(proxied) == ["--dispatcher-heartbeat", "5s"])
        proxied.homeAssistant.failover = .swarm
        #expect(SwarmHeartbeat.initArguments(proxied) == ["--dispatcher-heartbeat", "5s"])
        #expect(SwarmHeartbeat.parse("5000000000\n") == 5 && SwarmHeartbeat.parse("1000000000") == 1)
        #expect(SwarmHeartbeat.parse("") == nil && SwarmHeartbeat.parse("5s") == nil)
        #expect(SwarmHeartbeat.update(current: "1000000000\n", Self.spec(.fenced)) == nil)
        #expect(
            SwarmHeartbeat.update(current: "1000000000\n", Self.spec(.swarm)) == [
                "docker", "swarm", "update", "--dispatcher-heartbeat", "5s",
            ])
        #expect(
            SwarmHeartbeat.update(current: "5000000000\n", Self.spec(.fenced)) == [
                "docker", "swarm", "update", "--dispatcher-heartbeat", "1s",
            ])
        #expect(SwarmHeartbeat.update(current: "template: error", Self.spec(.swarm))?.last == "5s", "a doubt is updated")
    }

    @Test func withoutTheFenceOnlyAccessAndQuorumAreSet() {
        let spec = Self.spec(.swarm)
        #expect(GlusterVolumeOptions.wanted(spec) == ["auth.allow": "127.0.0.1,10.1.0.11,10.1.0.12", "cluster.quorum-type": "auto"])
        let fenced = GlusterVolumeOptions.wanted(Self.spec(.fenced))
        #expect(Set(fenced.keys) == Set(GlusterVolumeOptions.failoverTimeouts + ["auth.allow", "cluster.quorum-type"]))
    }

    /// From `gluster volume info`: what is missing is set, what haha tuned and no longer wants is reset, the rest untouched.
    @Test func volumeCommandsConvergeBothWays() {
        let info = { (options: [String: String]) in
            "Volume Name: haha\nStatus: Started\nOptions Reconfigured:\n"
                + options.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n") + "\nnfs.disable: on\n"
        }
        let fenced = Self.spec(.fenced), swarm = Self.spec(.swarm)
        let tuned = info(GlusterVolumeOptions.wanted(fenced))
        #expect(GlusterVolumeOptions.commands(volumeInfo: tuned, fenced) == [])
        #expect(
            GlusterVolumeOptions.commands(volumeInfo: tuned, swarm)
                == GlusterVolumeOptions.failoverTimeouts.map { ["gluster", "volume", "reset", "haha", $0] })
        let plain = info(GlusterVolumeOptions.wanted(swarm))
        #expect(GlusterVolumeOptions.commands(volumeInfo: plain, swarm) == [])
        #expect(
            GlusterVolumeOptions.commands(volumeInfo: plain, fenced).map { $0.prefix(5).joined(separator: " ") }
                == GlusterVolumeOptions.failoverTimeouts.sorted().map { "gluster volume set haha \($0)" })
    }
}
