import Foundation
import HahaCore

/// What `haha status` shows: each node's SSH, Swarm and shared-volume state, the stack's services, the Galera members,
/// and every probe that gave no answer (`problems`), so a doubt is shown, never hidden.
public struct ClusterStatus: Sendable {
    public struct Report: Codable, Sendable, Equatable {
        public struct Node: Codable, Sendable, Equatable {
            public var name: String
            public var address: String
            public var reachable: Bool
            public var swarm: String
            public var mounted: Bool
        }
        public struct Service: Codable, Sendable, Equatable {
            public var name: String
            public var replicas: String
        }
        public struct Member: Codable, Sendable, Equatable {
            public var node: String
            public var running: Bool
            public var clusterStatus: String?
            public var clusterSize: Int?
            public var synced: Bool
        }
        public var nodes: [Node]
        public var services: [Service]
        public var galera: [Member]
        /// Probes that failed: what could not be learned, and why. Empty when the report is complete.
        public var problems: [String]
    }

    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    /// Asks every node; never throws: a probe that fails becomes a line in `problems`.
    public func probe() async -> Report {
        var report = Report(nodes: [], services: [], galera: [], problems: [])
        for node in cluster.spec.nodes {
            let (entry, problem) = await probe(node)
            report.nodes.append(entry)
            if let problem { report.problems.append(problem) }
        }
        do {
            if let manager = try await Swarm(cluster: cluster).manager() {
                report.services = try await Deploy.services(of: cluster.spec.stackName, on: manager)
            }
        } catch {
            report.problems.append("services: \(error)")
        }
        do {
            let members = try await Deploy(cluster: cluster, secrets: cluster.workspace.readSecrets()).members()
            report.galera = members.map {
                .init(
                    node: $0.node, running: $0.running, clusterStatus: $0.clusterStatus, clusterSize: $0.clusterSize,
                    synced: $0.localState == 4)
            }
        } catch {
            report.problems.append("galera: \(error)")
        }
        return report
    }

    /// One node: Docker's Swarm state and whether the shared volume is mounted, in one SSH round trip.
    func probe(_ node: ClusterSpec.Node) async -> (Report.Node, String?) {
        let mount = cluster.spec.storage.mountPath
        let script =
            "echo $(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null) $(mountpoint -q \(shellQuote(mount)) && echo mounted)"
        var entry = Report.Node(name: node.name, address: node.address, reachable: false, swarm: "unknown", mounted: false)
        do {
            let result = try await cluster.runner(node).run(Command(["sh", "-c", script], timeout: 20))
            guard result.succeeded else {
                let said = (result.errorOutput + result.output).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n")
                    .suffix(2)
                return (
                    entry, "\(node.name): not reachable (exit \(result.exitCode))\(said.isEmpty ? "" : ": " + said.joined(separator: " "))"
                )
            }
            let fields = result.output.split(whereSeparator: \.isWhitespace).map(String.init)
            entry.reachable = true
            entry.swarm = fields.first.flatMap { $0 == "mounted" ? nil : $0 } ?? "unknown"
            entry.mounted = fields.contains("mounted")
            return (entry, nil)
        } catch {
            return (entry, "\(node.name): \(error)")
        }
    }

    /// `docker service ls --format '{{.Name}} {{.Replicas}}'`, one service a line.
    static func parseServices(_ output: String) -> [Report.Service] {
        output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard let name = parts.first else { return nil }
            return .init(name: String(name), replicas: parts.count > 1 ? String(parts[1]) : "?")
        }
    }
}
