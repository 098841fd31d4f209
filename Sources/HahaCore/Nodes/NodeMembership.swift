/// `haha node add` and `haha node remove`: the new spec and what must hold first, without I/O.
public enum NodeMembership {
    /// Swarm managers for a cluster of `count` nodes: an odd number, at most five (raft needs a majority; an even
    /// count tolerates no more failures than one fewer, and more than five slows every write). The first nodes of the
    /// spec are the managers.
    public static func managerCount(_ count: Int) -> Int {
        count >= 5 ? 5 : (count % 2 == 1 ? count : max(count - 1, 1))
    }

    /// The spec with `node` added (at the end: the existing managers and bricks stay where they are), or why not.
    public static func adding(_ node: ClusterSpec.Node, to spec: ClusterSpec) -> Result<ClusterSpec, NodeReplacement.Refusal> {
        if spec.nodes.contains(where: { $0.name == node.name }) {
            return .failure(.init(reason: "a node named \(node.name) is already in the spec", next: "choose another name"))
        }
        if let other = spec.nodes.first(where: { $0.address == node.address }) {
            return .failure(
                .init(reason: "\(node.address) is already \(other.name)'s address", next: "give the new machine its own address"))
        }
        if node.role == .arbiter, let arbiter = spec.arbiter {
            return .failure(
                .init(reason: "the cluster already has an arbiter (\(arbiter.name))", next: "add the machine as a data node"))
        }
        var grown = spec
        grown.nodes.append(node)
        return .success(grown)
    }

    /// The spec without `name`, or why not: a cluster keeps at least three nodes and two data nodes.
    public static func removing(_ name: String, from spec: ClusterSpec) -> Result<ClusterSpec, NodeReplacement.Refusal> {
        guard let node = spec.nodes.first(where: { $0.name == name }) else {
            return .failure(
                .init(reason: "no node \(name) in the spec", next: "nodes are \(spec.nodes.map(\.name).joined(separator: ", "))"))
        }
        var shrunk = spec
        shrunk.nodes.removeAll { $0.name == name }
        if shrunk.nodes.count < 3 {
            return .failure(
                .init(
                    reason:
                        "\(spec.nodes.count) nodes would become \(shrunk.nodes.count): a cluster needs three to keep a quorum when one dies",
                    next: "add a machine first (`haha node add`), or replace \(name) (`haha node replace \(name)`)"))
        }
        if node.role == .data && shrunk.dataNodes.count < 2 {
            return .failure(
                .init(reason: "\(name) is one of the last two data nodes", next: "add a data node first (`haha node add NAME=ADDRESS`)"))
        }
        return .success(shrunk)
    }

    /// What an even number of Galera members means, said once when the spec gets one.
    public static func warnings(_ spec: ClusterSpec) -> [String] {
        let members = spec.dataNodes.count
        guard members % 2 == 0 else { return [] }
        return [
            "the database has \(members) members (a quorum of \(members / 2 + 1)): it survives no more failures than \(members - 1) would, and a split in two halves stops it; a further data node makes the count odd again"
        ]
    }
}
