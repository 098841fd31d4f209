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
    public static func wanted(_ spec: ClusterSpec) -> [String: String] {
        [
            "auth.allow": (["127.0.0.1"] + spec.nodes.map(\.address)).joined(separator: ","),
            "network.ping-timeout": String(spec.storage.pingTimeout),
            "server.tcp-user-timeout": "10",
            "server.keepalive-time": "5",
            "server.keepalive-interval": "2",
            "server.keepalive-count": "3",
        ]
    }
}
