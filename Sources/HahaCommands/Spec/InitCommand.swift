import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write haha.yaml and a secrets directory with random passwords.",
        discussion: "Example: haha init --node n1=10.1.0.11 --node n2=10.1.0.12 --node n3=10.1.0.13 --user pi --vip 10.1.0.50/24")

    @OptionGroup var spec: SpecOptions

    @Option(name: .customLong("node"), help: "A data node as NAME=ADDRESS (repeat for each node).")
    var nodes: [String] = []

    @Option(help: "A small third device that only keeps quorum, as NAME=ADDRESS.")
    var arbiter: String?

    @Option(help: "SSH user on the nodes (root or a user with passwordless sudo).")
    var user = "root"

    @Option(help: "SSH port on the nodes.")
    var port = 22

    @Option(help: "SSH private key to log in with (default: your SSH configuration).")
    var identityFile: String?

    @Option(help: "Floating sensor address as ADDRESS/PREFIX (VRRP via keepalived).")
    var vip: String?

    @Option(help: "Network interface that carries the VIP on every node.")
    var vipInterface = "eth0"

    @Option(help: "Announce the VIP as NAME.local over mDNS.")
    var mdnsName: String?

    @Option(help: "The original project's mode: every node announces NAME.local (avahi restarts every minute).")
    var mdnsHostname: String?

    @Option(help: "Cluster name (names the Swarm stack).")
    var name = "haha"

    @Option(help: "Home Assistant's time zone, e.g. Europe/Berlin.")
    var timeZone = "UTC"

    @Option(help: "mesh (Swarm routing mesh, needs IPVS) or proxy (HAProxy on every node).")
    var routing: ClusterSpec.Routing = .mesh

    @Option(help: "Secrets directory, relative to the spec file.")
    var secretsDir = "haha-secrets"

    @Flag(help: "Overwrite an existing spec file (existing secrets are kept).")
    var force = false

    @Flag(help: "Do not record the nodes' SSH host keys now: accept whatever key each node shows first (ssh's accept-new).")
    var trustOnFirstUse = false

    func validate() throws {
        if nodes.isEmpty { throw ValidationError("give the nodes with --node NAME=ADDRESS (at least three for automatic failover)") }
        for entry in nodes + (arbiter.map { [$0] } ?? []) where parse(entry) == nil {
            throw ValidationError("\"\(entry)\" is not NAME=ADDRESS")
        }
        if vip != nil, mdnsHostname != nil { throw ValidationError("choose --vip or --mdns-hostname, not both") }
        if let vip {
            do { _ = try ClusterSpec.SensorAddress.VIP(parsing: vip, interface: vipInterface) } catch { throw ValidationError("--vip: \(error)") }
        }
    }

    func run() async throws {
        var clusterNodes = nodes.compactMap(parse).map {
            ClusterSpec.Node(name: $0.0, address: $0.1, user: user, port: port, identityFile: identityFile)
        }
        if let arbiter, let (name, address) = parse(arbiter) {
            clusterNodes.append(.init(name: name, address: address, user: user, port: port, identityFile: identityFile, role: .arbiter))
        }
        var cluster = ClusterSpec(name: name, nodes: clusterNodes, routing: routing, secretsDir: secretsDir)
        cluster.homeAssistant.timeZone = timeZone
        if let vip, let parsed = try? ClusterSpec.SensorAddress.VIP(parsing: vip, interface: vipInterface, mdnsName: mdnsName) {
            cluster.sensorAddress = .vip(parsed)
        } else if let mdnsHostname {
            cluster.sensorAddress = .mdnsHostname(mdnsHostname)
        }
        try SpecFileWriter.refuseOverwrite(spec.path, force: force)
        var knownHosts: String?
        if !trustOnFirstUse {
            Console.error("recording the SSH host keys of \(cluster.nodes.map(\.name).joined(separator: ", ")) (ssh-keyscan)")
            knownHosts = try await HostKeys.scan(cluster.nodes)
            cluster.knownHostsFile = "known_hosts"
        }
        try SpecFileWriter.write(cluster, to: spec.path, force: force, header: [], knownHosts: knownHosts)
    }

    private func parse(_ entry: String) -> (String, String)? {
        let parts = entry.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}

extension ClusterSpec.Routing: ExpressibleByArgument {}

/// Shared by `init` and `inventory import`: validate, write the spec, create missing secrets, say what's next.
enum SpecFileWriter {
    static func refuseOverwrite(_ path: String, force: Bool) throws {
        if FileManager.default.fileExists(atPath: path), !force {
            throw HahaError.alreadyExists("\(path) already exists", next: "pass --force to overwrite it (its secrets directory is kept), or --config OTHER.yaml")
        }
    }

    static func write(_ cluster: ClusterSpec, to path: String, force: Bool, header: [String], knownHosts: String? = nil) throws {
        try refuseOverwrite(path, force: force)
        let problems = Validator.validate(cluster)
        if problems.hasErrors {
            throw DiagnosticsError(file: path, diagnostics: problems)
        }
        let text = SpecWriter.yaml(cluster, header: header)
        // Read back what we wrote: the writer and the loader must agree.
        guard SpecLoader.load(yaml: text).spec == cluster else {
            throw HahaError(.failed, "internal error: the spec written for \(path) does not read back the same", next: "please report this")
        }
        let workspace = Workspace(specPath: path, spec: cluster)
        if let knownHosts, let file = cluster.knownHostsFile {
            try writeFileAtomically(workspace.resolve(file), contents: knownHosts)
            Console.error("recorded the nodes' host keys in \(workspace.resolve(file)); a changed key is refused from now on")
        }
        try writeFileAtomically(path, contents: text)
        let created = try workspace.generateMissingSecrets()
        for warning in problems.warnings { Console.error(warning.formatted(file: path)) }
        Console.error("wrote \(path) (\(cluster.nodes.count) nodes)")
        Console.error(created.isEmpty
            ? "secrets: kept the existing files in \(workspace.secretsDirectory)"
            : "secrets: created \(created.count) random passwords in \(workspace.secretsDirectory) (mode 0600; keep this directory private and backed up)")
        Console.error("next: `haha validate`, then `haha render --out out/` to see what will be deployed")
        Console.out(path)
    }
}
