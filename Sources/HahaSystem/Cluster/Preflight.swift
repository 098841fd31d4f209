import Foundation
import HahaCore

/// Checks every node before anything changes, and reports all problems at once.
public struct Preflight: Sendable {
    public struct Facts: Sendable, Equatable {
        public var dockerVersion: String
        public var architecture: String
        public var freeKilobytes: Int
        public var clock: Double
        public var hasGluster: Bool
        public var hasSystemd: Bool
        public var listening: [Int]
        public var swarmState: String
    }

    let cluster: Cluster

    public init(cluster: Cluster) { self.cluster = cluster }

    /// One shell round-trip per node gathers every fact.
    static let probe = """
        echo "uid=$(id -u)"; \
        echo "docker=$(docker version --format '{{.Server.Version}}' 2>/dev/null)"; \
        echo "arch=$(uname -m)"; \
        echo "free=$(df -Pk /var/lib | awk 'NR==2 {print $4}')"; \
        echo "clock=$(date +%s.%N)"; \
        echo "gluster=$(command -v gluster >/dev/null && command -v glusterd >/dev/null && echo yes || echo no)"; \
        echo "systemd=$([ -d /run/systemd/system ] && echo yes || echo no)"; \
        echo "swarm=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)"; \
        echo "ports=$(ss -ltnH 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -un | tr '\\n' ' ')"
        """

    static func parse(_ output: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    /// Facts of every node; throws one error listing every problem (node, what, how to fix).
    public func run(stackRunning: Bool) async throws -> [String: Facts] {
        var problems: [String] = []
        var facts: [String: Facts] = [:]
        let raw = await withTaskGroup(of: (ClusterSpec.Node, Result<(String, Double), any Error>).self) { group in
            for node in cluster.spec.nodes {
                let runner = cluster.runner(node)
                group.addTask {
                    do {
                        let sent = Date().timeIntervalSince1970
                        let result = try await runner.run(Command(["sh", "-c", Self.probe], timeout: 30))
                        let back = Date().timeIntervalSince1970
                        guard result.succeeded else {
                            throw CommandError(target: runner.target, command: "sh -c '<preflight probe>'", result: result)
                        }
                        return (node, .success((result.output, (sent + back) / 2)))
                    } catch {
                        return (node, .failure(error))
                    }
                }
            }
            var all: [(ClusterSpec.Node, Result<(String, Double), any Error>)] = []
            for await item in group { all.append(item) }
            return all
        }
        for (node, result) in raw.sorted(by: { $0.0.name < $1.0.name }) {
            switch result {
            case .failure(let error):
                let text = "\(error)"
                if text.contains("sudo") && text.contains("password") {
                    problems.append(
                        "\(node.name): \(node.user) needs passwordless sudo → add `\(node.user) ALL=(ALL) NOPASSWD:ALL` to /etc/sudoers.d/haha on \(node.address)"
                    )
                } else {
                    problems.append("\(node.name): cannot run commands over SSH (\(node.user)@\(node.address)):\n\(text)")
                }
            case .success(let (output, localTime)):
                let values = Self.parse(output)
                if values["uid"] != "0" {
                    problems.append(
                        "\(node.name): commands do not run as root (uid \(values["uid"] ?? "?")) → log in as root or give \(node.user) passwordless sudo"
                    )
                }
                let docker = values["docker"] ?? ""
                if docker.isEmpty {
                    problems.append(
                        "\(node.name): no Docker engine answers → install Docker (`apt-get install docker.io` or docs.docker.com) and start it"
                    )
                }
                let arch = values["arch"] ?? "?"
                if !["x86_64", "aarch64", "arm64"].contains(arch) {
                    problems.append(
                        "\(node.name): CPU architecture \(arch) is not supported by the images (arm64 or amd64; Home Assistant dropped 32-bit ARM) → use a 64-bit OS"
                    )
                }
                let free = Int(values["free"] ?? "") ?? 0
                if free < 2_000_000 { problems.append("\(node.name): only \(free / 1024) MB free under /var/lib → free at least 2 GB") }
                let clock = Double(values["clock"] ?? "") ?? localTime
                let ports = Set((values["ports"] ?? "").split(separator: " ").compactMap { Int($0) })
                facts[node.name] = Facts(
                    dockerVersion: docker, architecture: arch, freeKilobytes: free, clock: clock - localTime,
                    hasGluster: values["gluster"] == "yes", hasSystemd: values["systemd"] == "yes",
                    listening: ports.sorted(), swarmState: values["swarm"] ?? "")
                if !stackRunning {
                    // On the host's network, Home Assistant reaches its node's Galera member at the node's port 3306.
                    let database = cluster.spec.homeAssistant.hostNetwork && node.role == .data ? [GaleraFiles.clientPort] : []
                    for port in [cluster.spec.homeAssistant.port, cluster.spec.mqtt.port] + database where ports.contains(port) {
                        problems.append(
                            "\(node.name): port \(port) is already in use → stop what listens there (`ss -ltnp | grep :\(port)` on \(node.address))"
                        )
                    }
                }
            }
        }
        let offsets = facts.values.map(\.clock)
        if let low = offsets.min(), let high = offsets.max(), high - low > 2 {
            problems.append(
                "clocks differ by \(String(format: "%.1f", high - low)) s between nodes → enable NTP (`timedatectl set-ntp true`) on every node"
            )
        }
        if !problems.isEmpty {
            throw HahaError(
                .invalidState,
                "preflight found \(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing was changed:\n"
                    + problems.map { "  - \($0)" }.joined(separator: "\n"), next: "fix them and run `haha up` again")
        }
        return facts
    }
}
