import ArgumentParser
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

    var draft: SpecDraft {
        var draft = SpecDraft(nodes: nodes)
        (draft.arbiter, draft.user, draft.port, draft.identityFile) = (arbiter, user, port, identityFile)
        (draft.vip, draft.vipInterface, draft.mdnsName, draft.mdnsHostname) = (vip, vipInterface, mdnsName, mdnsHostname)
        (draft.name, draft.timeZone, draft.routing, draft.secretsDir) = (name, timeZone, routing, secretsDir)
        return draft
    }

    func validate() throws {
        if let problem = draft.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        var cluster = draft.spec
        try SpecFiles.refuseOverwrite(spec.path, force: force)
        let knownHosts = try await SpecFileWriter.recordHostKeys(&cluster, trustOnFirstUse: trustOnFirstUse)
        try SpecFileWriter.write(cluster, to: spec.path, force: force, header: [], knownHosts: knownHosts)
    }
}

extension ClusterSpec.Routing: ExpressibleByArgument {}
