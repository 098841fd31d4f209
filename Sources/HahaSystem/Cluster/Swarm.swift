import Foundation
import HahaCore

/// Docker Swarm: one cluster, managers on every node (up to 5), fast failure detection, node labels.
public struct Swarm: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    struct NodeState { var state: String; var control: Bool; var nodeID: String }

    func state(_ runner: any CommandRunner) async throws -> NodeState {
        let fields = try await runner.output(["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}"], timeout: 30)
            .split(separator: " ").map(String.init)
        return NodeState(state: fields.first ?? "", control: fields.count > 1 && fields[1] == "true", nodeID: fields.count > 2 ? fields[2] : "")
    }

    /// The runner of a node that is a manager with a quorum, if any.
    public func manager() async throws -> (any CommandRunner)? {
        for node in cluster.spec.nodes {
            let runner = cluster.runner(node)
            if let state = try? await state(runner), state.state == "active", state.control,
               try await runner.run(Command(["docker", "node", "ls", "-q"], timeout: 20)).succeeded {
                return runner
            }
        }
        return nil
    }

    public func converge() async throws -> Bool {
        var changed = false
        let spec = cluster.spec
        var states: [String: NodeState] = [:]
        for node in spec.nodes { states[node.name] = try await state(cluster.runner(node)) }

        var managerNode = spec.nodes.first { states[$0.name]?.state == "active" && states[$0.name]?.control == true }
        if managerNode == nil {
            let first = cluster.primary
            try await cluster.runner(first).check(["docker", "swarm", "init", "--advertise-addr", first.address, "--dispatcher-heartbeat", "1s"], timeout: 60)
            try await Marker.set(Marker.swarm, on: cluster.runner(first))
            states[first.name] = try await state(cluster.runner(first))
            managerNode = first
            changed = true
        }
        guard let managerNode else { return changed }
        let manager = cluster.runner(managerNode)
        let managerToken = try await manager.output(["docker", "swarm", "join-token", "-q", "manager"])
        let workerToken = try await manager.output(["docker", "swarm", "join-token", "-q", "worker"])
        for (index, node) in spec.nodes.enumerated() where states[node.name]?.state != "active" {
            let token = index < 5 ? managerToken : workerToken
            try await cluster.runner(node).check(["docker", "swarm", "join", "--advertise-addr", node.address, "--token", token, "\(managerNode.address):2377"],
                                                 timeout: 90, hint: "TCP 2377, 7946 and UDP 4789, 7946 must be open between the nodes")
            try await Marker.set(Marker.swarm, on: cluster.runner(node))
            states[node.name] = try await state(cluster.runner(node))
            changed = true
        }
        // Labels place Galera members and keep Home Assistant on data nodes.
        for node in spec.nodes {
            guard let id = states[node.name]?.nodeID, !id.isEmpty else { continue }
            let labels = try await manager.output(["docker", "node", "inspect", "--format", "{{json .Spec.Labels}}", id])
            let wanted = [Renderer.Names.nodeLabel: node.name, Renderer.Names.roleLabel: node.role.rawValue]
            let missing = wanted.filter { !labels.contains("\"\($0.key)\":\"\($0.value)\"") }
            if !missing.isEmpty {
                try await manager.check(["docker", "node", "update"] + missing.sorted { $0.key < $1.key }.flatMap { ["--label-add", "\($0.key)=\($0.value)"] } + [id])
                changed = true
            }
        }
        return changed
    }
}

/// Files under /var/lib/haha/state on a node that record what haha created there, so `haha down`
/// undoes exactly that: a Swarm or a package that was there before haha stays.
public enum Marker {
    public static let directory = "/var/lib/haha/state"
    public static let swarm = "swarm-joined"
    public static func installed(_ package: String) -> String { "installed-\(package)" }

    public static func set(_ name: String, on runner: any CommandRunner) async throws {
        try await runner.shell("mkdir -p \(directory) && touch \(directory)/\(name)", timeout: 30)
    }

    public static func isSet(_ name: String, on runner: any CommandRunner) async throws -> Bool {
        try await runner.run(Command(["test", "-e", "\(directory)/\(name)"], timeout: 30)).succeeded
    }
}
