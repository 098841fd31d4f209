import Foundation
import HahaCore

/// `haha node add` and `haha node remove`: the checks before, and the steps of a removal that `haha up` cannot do
/// (a member leaving the database, a brick moving, a node leaving the swarm and the pool). An addition is `haha up`
/// with the grown spec once the checks passed.
public struct Membership: Sendable {
    /// The cluster as it is now (for a removal) or as it will be (for an addition).
    public let cluster: Cluster
    public let secrets: SecretValues

    public init(cluster: Cluster, secrets: SecretValues) {
        self.cluster = cluster
        self.secrets = secrets
    }

    var spec: ClusterSpec { cluster.spec }
    var deploy: Deploy { Deploy(cluster: cluster, secrets: secrets) }

    /// A new machine answers, runs Docker and is in no swarm; the swarm has a quorum and the database a synced member
    /// in a Primary Component among `members`.
    public func checkBeforeAdding(_ node: ClusterSpec.Node) async throws {
        let runner = cluster.runner(node)
        let info = try await runner.run(Command(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], timeout: 30))
        guard info.succeeded else {
            throw HahaError(
                .failed, "\(node.name) (\(node.address)) did not answer `docker info`",
                next: "install Docker on it and check that `ssh \(node.address) docker info` works")
        }
        let state = info.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard state == "inactive" else {
            throw HahaError(
                .invalidState, "\(node.name) (\(node.address)) is already in a swarm (state \(state))",
                next: "run `docker swarm leave --force` on it if it is yours to reuse")
        }
        try await checkQuorum(without: node.name)
    }

    /// A Swarm manager with quorum, and (when the cluster has a database) a member Synced in a Primary Component
    /// other than `name`.
    public func checkQuorum(without name: String) async throws {
        _ = try await Swarm(cluster: cluster).managerWithQuorum(timeout: 60, purpose: "change the cluster's members")
        let synced = try await deploy.members().filter {
            $0.node != name && $0.running && $0.isPrimary && $0.localState == GaleraMember.syncedState
        }
        guard !synced.isEmpty else {
            throw HahaError(
                .invalidState, "no Galera member other than \(name) is Synced in a Primary Component",
                next: "run `haha status`, and `haha recover` to bring the database back first")
        }
    }

    /// Takes `node` out: its database member stops (the others go on as a Primary Component), its brick moves to
    /// the node that holds it in `shrunk` (healed before anything else changes), its sensor address and mount go, it
    /// leaves the swarm and the Gluster pool. `haha up` with `shrunk` follows.
    public func remove(_ node: ClusterSpec.Node, shrunk: ClusterSpec) async throws -> [String] {
        var kept: [String] = []
        let manager = try await Swarm(cluster: cluster).managerWithQuorum(timeout: 60, purpose: "remove \(node.name)")
        let runner = cluster.runner(node)
        if node.role == .data {
            let member = deploy.service(Renderer.Names.galera(node.name))
            cluster.log("stopping \(node.name)'s database member (\(member)); the others go on")
            _ = try await manager.run(Command(["docker", "service", "rm", member], timeout: 120))
            try await waitUntil(
                "\(node.name)'s database member to stop", timeout: 180, interval: 2,
                next: "look at `docker ps` on \(node.name); stop the container by hand, then run the command again"
            ) { poll in
                try await deploy.container(member, on: poll.on(runner)) == nil
            }
        }
        try await moveBrick(from: node, shrunk: shrunk)
        let id = try await manager.output(
            ["docker", "node", "ls", "--filter", "node.label=\(Renderer.Names.nodeLabel)=\(node.name)", "--format", "{{.ID}}"], timeout: 30
        ).split(whereSeparator: \.isNewline).map(String.init)
        for record in id {
            let role = try await manager.output(["docker", "node", "inspect", "--format", "{{.Spec.Role}}", record], timeout: 30)
            if role == "manager" {
                cluster.log("demoting \(node.name) before it leaves")
                try await manager.check(["docker", "node", "demote", record], timeout: 60)
            }
        }
        kept += try await Teardown.clean(node, runner, spec: spec, purge: false)
        try await Teardown.leave(node, runner, purge: false)
        for record in id {
            try await manager.check(
                ["docker", "node", "rm", "--force", record], timeout: 60, hint: "run `docker node ls` on a manager")
        }
        let survivor = cluster.runner(shrunk.dataNodes[0])
        let peers = GlusterOutput.peerStatus(try await survivor.output(["gluster", "peer", "status"], timeout: 60))
        if let peer = peers.first(where: { !Set($0.names).isDisjoint(with: [node.address, node.name]) }) {
            try await survivor.check(["gluster", "--mode=script", "peer", "detach", peer.names[0]], timeout: 60)
        }
        return kept
    }

    /// The brick `node` holds, moved to the node that holds it in `shrunk` (`replace-brick`), then healed.
    func moveBrick(from node: ClusterSpec.Node, shrunk: ClusterSpec) async throws {
        let before = Storage(cluster: cluster).brickNodes.map(\.name)
        guard before.contains(node.name) else { return }
        var after = cluster
        after.workspace.spec = shrunk
        let storage = Storage(cluster: after)
        guard let target = storage.brickNodes.first(where: { !before.contains($0.name) }) else {
            throw HahaError(
                .invalidState, "\(node.name) holds a brick and no other node could take it",
                next: "add a data node first (`haha node add NAME=ADDRESS`)")
        }
        if spec.arbiter != nil {
            throw HahaError(
                .invalidState, "\(node.name) holds a brick of a replica 2 + arbiter volume: moving it is not built yet",
                next: "replace the machine instead (`haha node replace \(node.name)`)")
        }
        let survivorNode = shrunk.dataNodes[0]
        let survivor = cluster.runner(survivorNode)
        let brick = { (n: ClusterSpec.Node) in "\(n.address):\(spec.storage.brickPath)" }
        let bricks =
            GlusterOutput.bricks(try await survivor.output(["gluster", "volume", "info", spec.storage.volume], timeout: 60))[
                spec.storage.volume] ?? []
        // A run that stopped after the move goes on with the heal.
        if bricks.contains(brick(node)) || !bricks.contains(brick(target)) {
            try await storage.prepareBrick(on: cluster.runner(target), fresh: true)
            cluster.log("moving \(node.name)'s brick to \(target.name)")
            try await survivor.check(
                ["gluster", "volume", "replace-brick", spec.storage.volume, brick(node), brick(target), "commit", "force"], timeout: 180,
                hint: "run `gluster volume info \(spec.storage.volume)` on \(survivorNode.name)")
        }
        try await survivor.check(["gluster", "volume", "heal", spec.storage.volume, "full"], timeout: 120)
        try await storage.waitHealed(on: survivor, from: survivorNode.name, onto: target.name)
    }
}
