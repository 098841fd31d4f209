import HahaCore

extension Swarm {
    /// A manager of a swarm that has a leader, waited for up to `timeout` seconds: after a power cut the raft needs an
    /// election before any service can change. `purpose` says in the error what could not be done without it.
    public func managerWithQuorum(timeout: Double = 120, purpose: String) async throws -> any CommandRunner {
        var found: (any CommandRunner)?
        do {
            try await waitUntil("a Swarm manager with quorum", timeout: timeout, interval: 2) {
                found = try await manager()
                return found != nil
            }
        } catch let error as HahaError where error.code == .timeout {
            throw HahaError(.invalidState, "no Swarm manager with quorum answers (\(Int(timeout)) s waited), so haha cannot \(purpose)",
                            next: "a majority of the managers (\(cluster.spec.nodes.prefix(5).map(\.name).joined(separator: ", "))) must run: run `haha status`")
        }
        guard let found else { throw HahaError(.invalidState, "no Swarm manager answers", next: "run `haha up` first") }
        return found
    }
}
