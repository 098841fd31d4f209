import Foundation
import HahaCore

/// A cluster described by a spec, reached over SSH: the context every `haha up`/`down`/`status` step works in.
public struct Cluster: Sendable {
    public var workspace: Workspace
    public var runners: [String: any CommandRunner]
    public var log: @Sendable (String) -> Void

    public var spec: ClusterSpec { workspace.spec }

    public init(workspace: Workspace, runners: [String: any CommandRunner]? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.workspace = workspace
        self.runners = runners ?? Dictionary(uniqueKeysWithValues: workspace.spec.nodes.map { ($0.name, workspace.runner(for: $0) as any CommandRunner) })
        self.log = log
    }

    public func runner(_ node: ClusterSpec.Node) -> any CommandRunner {
        runners[node.name] ?? workspace.runner(for: node)
    }

    /// The node that runs cluster-wide commands (Swarm manager, Gluster peer probes, stack deploy).
    public var primary: ClusterSpec.Node { spec.dataNodes.first ?? spec.nodes[0] }

    /// Runs `body` on every node in parallel; collects every failure, so all problems are reported at once.
    public func onAll<T: Sendable>(_ nodes: [ClusterSpec.Node]? = nil,
                                   _ body: @escaping @Sendable (ClusterSpec.Node, any CommandRunner) async throws -> T) async throws -> [String: T] {
        let targets = nodes ?? spec.nodes
        var results: [String: T] = [:]
        var failures: [String] = []
        await withTaskGroup(of: (String, Result<T, any Error>).self) { group in
            for node in targets {
                let runner = self.runner(node)
                group.addTask {
                    do { return (node.name, .success(try await body(node, runner))) } catch { return (node.name, .failure(error)) }
                }
            }
            for await (name, result) in group {
                switch result {
                case .success(let value): results[name] = value
                case .failure(let error): failures.append("\(error)")
                }
            }
        }
        if !failures.isEmpty { throw HahaError(.failed, failures.sorted().joined(separator: "\n")) }
        return results
    }

    /// Writes a file on a node through its runner (root-owned, with the given mode).
    public func write(_ contents: String, to path: String, mode: String = "0644", on runner: any CommandRunner) async throws {
        let directory = (path as NSString).deletingLastPathComponent
        try await runner.shell("umask 077 && mkdir -p \(shellQuote(directory)) && cat > \(shellQuote(path)).haha-tmp && chmod \(mode) \(shellQuote(path)).haha-tmp && mv \(shellQuote(path)).haha-tmp \(shellQuote(path))",
                               input: Data(contents.utf8), timeout: 60)
    }
}
