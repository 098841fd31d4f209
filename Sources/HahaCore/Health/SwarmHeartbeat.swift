/// Swarm's dispatcher heartbeat: how often every node reports to the managers. A node is declared down, and its tasks
/// are started elsewhere, after several missed heartbeats (3 and a bit), so it sets how long Swarm takes to notice a
/// dead node. It has a cost: a new raft leader marks every node unknown and declares down each that has not
/// reconnected within that grace (swarmkit's `markNodesUnknown`), and a surviving node whose agent needed a few seconds
/// more (session timeouts of 5 s, seen on the lab after a power cut of the leader) then has all its tasks stopped and
/// started again: Home Assistant, 13 s after it had failed over to that node, went away for another 6.8 s.
///
/// So 1 s only where Swarm itself moves Home Assistant: the fence on the routing mesh (one replica, started elsewhere
/// once its node is down). Behind the proxy every data node runs a standby and the lease moves Home Assistant, not
/// Swarm: Swarm's default, 5 s. Without the fence (`failover: swarm`, the original project's settings) also 5 s.
public enum SwarmHeartbeat {
    /// The heartbeat the spec wants, in seconds.
    public static func seconds(_ spec: ClusterSpec) -> Int { spec.fenced && Renderer.homeAssistantMode(spec) == "replicated" ? 1 : 5 }

    /// `docker swarm init`'s flag for it.
    public static func initArguments(_ spec: ClusterSpec) -> [String] { ["--dispatcher-heartbeat", "\(seconds(spec))s"] }

    /// `docker info` printing the swarm's heartbeat in nanoseconds (only a manager knows it).
    public static let inspect = ["docker", "info", "--format", "{{json .Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}"]

    /// The heartbeat in seconds from `inspect`'s output (nanoseconds); nil when it is no number.
    public static func parse(_ output: String) -> Double? {
        Int64(output.trimmingCharacters(in: .whitespacesAndNewlines)).map { Double($0) / 1e9 }
    }

    /// The `docker swarm update` that brings the swarm to the spec's heartbeat, nil when it has it already: an existing
    /// swarm converges both ways when the spec's failover changes. An answer that is no number is updated too (the
    /// update is harmless when the value was right).
    public static func update(current output: String, _ spec: ClusterSpec) -> [String]? {
        if let current = parse(output), current == Double(seconds(spec)) { return nil }
        return ["docker", "swarm", "update", "--dispatcher-heartbeat", "\(seconds(spec))s"]
    }
}
