import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the cluster: nodes, services, Galera members.")

    @OptionGroup var spec: SpecOptions

    @Flag(help: "Print JSON.")
    var json = false

    struct Report: Codable {
        struct Node: Codable { var name: String; var address: String; var reachable: Bool; var swarm: String; var mounted: Bool }
        struct Service: Codable { var name: String; var replicas: String }
        struct Member: Codable { var node: String; var running: Bool; var clusterStatus: String?; var clusterSize: Int?; var synced: Bool }
        var nodes: [Node]
        var services: [Service]
        var galera: [Member]
    }

    func run() async throws {
        let workspace = try spec.loadValid(checkingSecrets: false)
        let cluster = Cluster(workspace: workspace)
        let mount = workspace.spec.storage.mountPath
        var nodes: [Report.Node] = []
        for node in workspace.spec.nodes {
            let result = try? await cluster.runner(node).run(Command(["sh", "-c",
                "echo $(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null) $(mountpoint -q \(shellQuote(mount)) && echo mounted)"], timeout: 20))
            let fields = (result?.output ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
            nodes.append(.init(name: node.name, address: node.address, reachable: result?.succeeded == true,
                               swarm: fields.first ?? "unknown", mounted: fields.contains("mounted")))
        }
        var services: [Report.Service] = []
        if let manager = try await Swarm(cluster: cluster).manager() {
            let lines = try await manager.output(["docker", "service", "ls", "--filter", "label=com.docker.stack.namespace=\(workspace.spec.stackName)",
                                                  "--format", "{{.Name}} {{.Replicas}}"])
            services = lines.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                guard let name = parts.first else { return nil }
                return .init(name: String(name), replicas: parts.count > 1 ? String(parts[1]) : "?")
            }
        }
        let secrets = (try? workspace.readSecrets()) ?? SecretValues([:])
        let members = (try? await Deploy(cluster: cluster, secrets: secrets).members()) ?? []
        let report = Report(nodes: nodes, services: services, galera: members.map {
            .init(node: $0.node, running: $0.running, clusterStatus: $0.clusterStatus, clusterSize: $0.clusterSize, synced: $0.localState == 4)
        })
        if json { return try Console.json(report) }
        Console.out(Table.render(header: ["NODE", "ADDRESS", "SSH", "SWARM", "SHARED VOLUME"],
                                 rows: report.nodes.map { [$0.name, $0.address, $0.reachable ? "ok" : "unreachable", $0.swarm, $0.mounted ? "mounted" : "-"] }))
        Console.out("")
        Console.out(Table.render(header: ["SERVICE", "REPLICAS"], rows: report.services.map { [$0.name, $0.replicas] }))
        Console.out("")
        Console.out(Table.render(header: ["GALERA", "RUNNING", "STATUS", "SIZE", "SYNCED"],
                                 rows: report.galera.map { [$0.node, $0.running ? "yes" : "no", $0.clusterStatus ?? "-", $0.clusterSize.map(String.init) ?? "-", $0.synced ? "yes" : "no"] }))
    }
}
