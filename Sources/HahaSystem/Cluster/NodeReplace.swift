import Foundation
import HahaCore

/// `haha node replace`: reads what the survivors and the new machine say (`facts`), then runs the planned steps
/// (`NodeReplacement.plan`) on a survivor. The `converge` step is `haha up`'s own steps, run by the command.
public struct NodeReplace: Sendable {
    /// The cluster as it will be: the spec with the node at its new address.
    public let cluster: Cluster
    public let node: ClusterSpec.Node
    public let oldAddress: String

    public init(cluster: Cluster, node: ClusterSpec.Node, oldAddress: String) {
        self.cluster = cluster
        self.node = node
        self.oldAddress = oldAddress
    }

    var spec: ClusterSpec { cluster.spec }
    var volume: String { spec.storage.volume }
    var survivors: [ClusterSpec.Node] { spec.nodes.filter { $0.name != node.name } }

    /// The first surviving data node that answers: where the Gluster and Swarm commands run.
    public func survivor() async throws -> ClusterSpec.Node {
        for candidate in survivors.filter({ $0.role == .data }) + survivors.filter({ $0.role != .data }) {
            if let answer = try? await cluster.runner(candidate).run(Command(["true"], timeout: 20)), answer.exitCode != 255 {
                return candidate
            }
            cluster.log("\(candidate.name) does not answer over ssh")
        }
        throw HahaError(
            .failed, "none of the other nodes (\(survivors.map(\.name).joined(separator: ", "))) answers over ssh",
            next: "a replacement needs the others running: check them with `haha status`")
    }

    public func facts(secrets: SecretValues) async throws -> NodeReplacement.Facts {
        let newRunner = cluster.runner(node)
        let info = try? await newRunner.run(Command(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], timeout: 30))
        let newState = info.flatMap { $0.succeeded ? $0.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil }

        let manager = try await Swarm(cluster: cluster).managerWithQuorum(timeout: 60, purpose: "remove \(node.name)'s dead record")
        let records = try await manager.output(
            [
                "docker", "node", "ls", "--filter", "node.label=\(Renderer.Names.nodeLabel)=\(node.name)", "--format",
                "{{.ID}}\t{{.Status}}",
            ], timeout: 30)
        let managerStates = try await manager.output(["docker", "node", "ls", "--format", "{{.ManagerStatus}}"], timeout: 30)
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

        let galera = try await Deploy(cluster: cluster, secrets: secrets).members()
        let synced = galera.filter {
            $0.node != node.name && $0.running && $0.isPrimary && $0.localState == GaleraMember.syncedState
        }.map(\.node)

        let survivor = cluster.runner(try await survivor())
        let storage = Storage(cluster: cluster)
        let peers = GlusterOutput.peerStatus(try await survivor.output(["gluster", "peer", "status"], timeout: 60))
        // The pool may know the dead machine by its address or by the host name it reported.
        let oldPeer = peers.first { !Set($0.names).isDisjoint(with: [oldAddress, node.name]) }
        let pool = peers.map { GlusterOutput.Peer(host: $0.names[0], connected: $0.healthy) }
        let info2 = try await survivor.output(["gluster", "volume", "info", volume], timeout: 60)
        return NodeReplacement.Facts(
            node: node.name, oldAddress: oldAddress, newAddress: node.address, newSwarmState: newState,
            swarmRecords: records.split(whereSeparator: \.isNewline).compactMap { line in
                let fields = line.split(separator: "\t").map(String.init)
                return fields.count == 2 ? (id: fields[0], state: fields[1].lowercased()) : nil
            },
            managers: managerStates.count, reachableManagers: managerStates.filter { $0 == "Leader" || $0 == "Reachable" }.count,
            syncedSurvivors: synced, isDataNode: node.role == .data, bricks: GlusterOutput.bricks(info2)[volume] ?? [],
            arbiterBrick: GlusterOutput.arbiterBrick(info2), pool: pool, oldPeer: oldPeer?.names[0],
            isBrickNode: storage.brickNodes.contains { $0.name == node.name },
            isArbiterNode: spec.arbiter?.name == node.name && storage.brickNodes.contains { $0.name == node.name && $0.role == .arbiter },
            brickPath: spec.storage.brickPath, otherAddresses: spec.nodes.filter { $0.name != node.name }.map(\.address))
    }

    /// Runs one step other than `converge` (the command runs that one with `haha up`'s printer).
    public func run(_ step: NodeReplacement.Step) async throws {
        let survivorNode = try await survivor()
        let survivor = cluster.runner(survivorNode)
        switch step {
        case .removeSwarmRecord(let id):
            let manager = try await Swarm(cluster: cluster).managerWithQuorum(timeout: 60, purpose: "remove \(node.name)'s dead record")
            // A worker cannot be demoted ("already a worker"): only the removal must succeed.
            _ = try await manager.run(Command(["docker", "node", "demote", id], timeout: 60))
            try await manager.check(
                ["docker", "node", "rm", "--force", id], timeout: 60, hint: "run `docker node ls` on \(survivorNode.name)")
        case .probePeer:
            try await prepareNewMachine()
            try await survivor.check(
                step.arguments(volume: volume) ?? [], timeout: 60,
                hint: "glusterd must run on the new machine and TCP 24007 must be open from \(survivorNode.name)")
            try await waitUntil(
                "\(node.address) connected in the Gluster pool", timeout: 90,
                next: "run `gluster pool list` on \(survivorNode.name); glusterd must run on the new machine"
            ) { poll in
                let peers = GlusterOutput.peerStatus(try await poll.on(survivor).output(["gluster", "peer", "status"], timeout: 30))
                return peers.contains { $0.names.contains(node.address) && $0.healthy }
            }
            // The new peer learns the volume from the pool; its bricks wait for it.
            try await waitUntil(
                "the new machine to know the volume \(volume)", timeout: 90,
                next: "run `gluster volume info \(volume)` on \(node.name)"
            ) { poll in
                try await poll.on(cluster.runner(node)).run(Command(["gluster", "volume", "info", volume], timeout: 30)).succeeded
            }
        case .healFull:
            try await survivor.check(step.arguments(volume: volume) ?? [], timeout: 120)
            try await Storage(cluster: cluster).waitHealed(on: survivor, from: survivorNode.name, onto: node.name)
        case .removeBrick, .detachPeer, .addBrick, .replaceBrick:
            try await survivor.check(
                step.arguments(volume: volume) ?? [], timeout: 180, hint: "run `gluster volume info \(volume)` on \(survivorNode.name)")
        case .converge:
            break
        }
    }

    /// Gluster installed and running on the new machine, and an empty brick directory without an old volume's identity.
    func prepareNewMachine() async throws {
        let runner = cluster.runner(node)
        if try await !runner.run(Command(["sh", "-c", "command -v gluster"], timeout: 30)).succeeded {
            cluster.log("installing glusterfs-server on \(node.name)")
            try await runner.shell(
                "DEBIAN_FRONTEND=noninteractive apt-get install -y glusterfs-server && (systemctl enable --now glusterd 2>/dev/null || service glusterd start)",
                timeout: 900, hint: "install glusterfs-server on \(node.address) by hand, then run the command again")
            try await Marker.set(Marker.installed("glusterfs-server"), on: runner)
        }
        try await Storage(cluster: cluster).prepareBrick(on: runner, fresh: true)
    }
}
