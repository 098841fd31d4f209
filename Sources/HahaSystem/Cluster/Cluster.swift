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
        self.runners =
            runners
            ?? Dictionary(uniqueKeysWithValues: workspace.spec.nodes.map { ($0.name, workspace.runner(for: $0) as any CommandRunner) })
        self.log = log
    }

    public func runner(_ node: ClusterSpec.Node) -> any CommandRunner {
        runners[node.name] ?? workspace.runner(for: node)
    }

    /// The node that runs cluster-wide commands (Swarm manager, Gluster peer probes, stack deploy).
    public var primary: ClusterSpec.Node { spec.dataNodes.first ?? spec.nodes[0] }

    /// The node that runs cluster-wide commands now: the primary, or, when ssh cannot reach it (a dead first node during
    /// `haha recover`), the first data node that answers.
    public func coordinator() async throws -> ClusterSpec.Node {
        for node in [primary] + spec.dataNodes.filter({ $0.name != primary.name }) {
            if let answer = try? await runner(node).run(Command(["true"], timeout: 20)), answer.exitCode != 255 { return node }
            log("\(node.name) does not answer over ssh")
        }
        throw HahaError(
            .failed, "no data node answers over ssh (\(spec.dataNodes.map(\.name).joined(separator: ", ")))",
            next: "check that the nodes are powered and on the network: `ssh \(primary.address) true`")
    }

    /// Runs `body` on every node in parallel; collects every failure, so all problems are reported at once.
    public func onAll<T: Sendable>(
        _ nodes: [ClusterSpec.Node]? = nil,
        _ body: @escaping @Sendable (ClusterSpec.Node, any CommandRunner) async throws -> T
    ) async throws -> [String: T] {
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

    /// Runs `body` on the given nodes (default: all) in parallel and returns the answers of those where it did not
    /// throw; for probes whose callers decide what a missing answer means.
    public func eachNode<T: Sendable>(
        _ nodes: [ClusterSpec.Node]? = nil,
        _ body: @escaping @Sendable (ClusterSpec.Node, any CommandRunner) async throws -> T
    ) async -> [String: T] {
        await withTaskGroup(of: (String, T?).self) { group in
            for node in nodes ?? spec.nodes {
                let runner = self.runner(node)
                group.addTask { (node.name, try? await body(node, runner)) }
            }
            var answers: [String: T] = [:]
            for await (name, answer) in group { if let answer { answers[name] = answer } }
            return answers
        }
    }

    /// Writes a file on a node through its runner (root-owned, with the given mode).
    public func write(_ contents: String, to path: String, mode: String = "0644", on runner: any CommandRunner) async throws {
        let directory = (path as NSString).deletingLastPathComponent
        try await runner.shell(
            "umask 077 && mkdir -p \(shellQuote(directory)) && cat > \(shellQuote(path)).haha-tmp && chmod \(mode) \(shellQuote(path)).haha-tmp && sync \(shellQuote(path)).haha-tmp && mv \(shellQuote(path)).haha-tmp \(shellQuote(path))",
            input: Data(contents.utf8), timeout: 60)
    }
}
