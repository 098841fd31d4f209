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
    ///
    /// Without the fence (`failover: swarm`, the original project's settings) the timeouts are Gluster's own
    /// (`failoverTimeouts` are reset, see `commands`). Who may mount and client quorum stay: they guard the data, not
    /// the failover, and a replica-3 or arbiter volume gets `cluster.quorum-type auto` from Gluster when it is created.
    public static func wanted(_ spec: ClusterSpec) -> [String: String] {
        var options = [
            "auth.allow": (["127.0.0.1"] + spec.nodes.map(\.address)).joined(separator: ","),
            "cluster.quorum-type": "auto",
        ]
        guard spec.fenced else { return options }
        let timing = FenceTiming(spec)
        options["network.ping-timeout"] = String(spec.storage.pingTimeout)
        options["server.tcp-user-timeout"] = String(timing.serverTimeout)
        options["server.keepalive-time"] = String(timing.keepaliveTime)
        options["server.keepalive-interval"] = String(timing.keepaliveInterval)
        options["server.keepalive-count"] = String(timing.keepaliveCount)
        return options
    }

    /// The options haha tunes for the fence's failover, and only for it.
    public static let failoverTimeouts = [
        "network.ping-timeout", "server.tcp-user-timeout", "server.keepalive-time", "server.keepalive-interval", "server.keepalive-count",
    ]

    /// The `gluster volume set` and `gluster volume reset` commands that bring the volume's options, as `gluster volume
    /// info` lists them (`Options Reconfigured:`, one `key: value` a line), to what the spec wants, in a fixed order:
    /// what is wanted and not set, then what haha tuned and no longer wants (switching from `fenced` to `swarm`) back to
    /// Gluster's default. Empty when the volume matches, so `haha up` converges both ways and changes nothing twice.
    public static func commands(volumeInfo: String, _ spec: ClusterSpec) -> [[String]] {
        let volume = spec.storage.volume
        let lines = volumeInfo.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let set = Set(lines)
        let wanted = wanted(spec)
        var commands: [[String]] = wanted.sorted { $0.key < $1.key }.compactMap { key, value in
            set.contains("\(key): \(value)") ? nil : ["gluster", "volume", "set", volume, key, value]
        }
        for key in failoverTimeouts where wanted[key] == nil && lines.contains(where: { $0.hasPrefix("\(key):") }) {
            commands.append(["gluster", "volume", "reset", volume, key])
        }
        return commands
    }
}
