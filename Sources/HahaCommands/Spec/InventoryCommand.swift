import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Import the original project's Ansible inventory.",
        subcommands: [InventoryImportCommand.self])
}

struct InventoryImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert an Ansible INI inventory's [hacluster] group into haha.yaml (passwords are not copied).")

    @Argument(help: "The Ansible inventory file, e.g. /etc/ansible/hosts.")
    var file: String

    @Option(help: "The inventory group holding the cluster's hosts.")
    var group = "hacluster"

    @OptionGroup var spec: SpecOptions

    @Option(help: "Floating sensor address as ADDRESS/PREFIX (VRRP via keepalived).")
    var vip: String?

    @Option(help: "Network interface that carries the VIP on every node.")
    var vipInterface = "eth0"

    @Flag(help: "Overwrite an existing spec file (existing secrets are kept).")
    var force = false

    @Flag(help: "Do not record the nodes' SSH host keys now: accept whatever key each node shows first (ssh's accept-new).")
    var trustOnFirstUse = false

    func validate() throws {
        if let vip {
            do { _ = try ClusterSpec.SensorAddress.VIP(parsing: vip, interface: vipInterface) } catch {
                throw ValidationError("--vip: \(error)")
            }
        }
    }

    func run() async throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw HahaError.notFound(
                "cannot read the inventory \(file)", next: "give the path of your Ansible inventory, e.g. /etc/ansible/hosts")
        }
        let result = AnsibleInventory.importNodes(text, group: group)
        if result.diagnostics.hasErrors { throw DiagnosticsError(file: file, diagnostics: result.diagnostics) }
        var cluster = ClusterSpec(nodes: result.nodes)
        if let vip, let parsed = try? ClusterSpec.SensorAddress.VIP(parsing: vip, interface: vipInterface) {
            cluster.sensorAddress = .vip(parsed)
        } else {
            // The original announced one mDNS host name from every node; keep that behaviour until a VIP is chosen.
            cluster.sensorAddress = .mdnsHostname("hacluster")
        }
        for notice in result.notices { Console.error("note: \(notice)") }
        try SpecFiles.refuseOverwrite(spec.path, force: force)
        let knownHosts = try await SpecFileWriter.recordHostKeys(&cluster, trustOnFirstUse: trustOnFirstUse)
        try SpecFileWriter.write(
            cluster, to: spec.path, force: force, header: ["Imported from the Ansible inventory \(file), group [\(group)]."],
            knownHosts: knownHosts)
    }
}
