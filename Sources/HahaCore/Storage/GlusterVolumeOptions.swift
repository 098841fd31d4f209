/// The options haha sets on the replicated volume.
public enum GlusterVolumeOptions {
    /// Option name → value, as `gluster volume set` takes them.
    ///
    /// The server-side timeouts are what a failover waits for: a brick keeps the `flock` of a client that lost power
    /// (Home Assistant's `.ha_run.lock`) until it drops that client's connection — by default after
    /// `server.tcp-user-timeout` 42 s with unacknowledged data, or never on an idle connection without keepalive.
    /// With keepalive probes after 5 s idle, every 2 s, 3 unanswered, a dead client is dropped within about 11 s.
    /// Its effect on a power-cut failover is not settled yet: 28.6–54.8 s over 6 lab runs against 51–56 s over 2
    /// without (docs/benchmarks.md); Swarm's own detection varies more. They apply to connections made after they are set: a node's mount picks them up at its
    /// next mount (reboot). `network.ping-timeout` is the client's side: how long a mount waits for a dead brick.
    ///
    /// Home Assistant's fence (`FenceTiming`) needs client quorum (`cluster.quorum-type auto`: a write needs a majority
    /// of the bricks, so a node cut off from the others cannot renew the lease) and bricks that drop a dead holder's
    /// lock only after the holder's own deadline has passed.
    public static func wanted(_ spec: ClusterSpec) -> [String: String] {
        let timing = FenceTiming(spec)
        return [
            "auth.allow": (["127.0.0.1"] + spec.nodes.map(\.address)).joined(separator: ","),
            "cluster.quorum-type": "auto",
            "network.ping-timeout": String(spec.storage.pingTimeout),
            "server.tcp-user-timeout": String(timing.serverTimeout),
            "server.keepalive-time": String(timing.keepaliveTime),
            "server.keepalive-interval": String(timing.keepaliveInterval),
            "server.keepalive-count": String(timing.keepaliveCount),
        ]
    }
}
