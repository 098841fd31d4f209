import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "A real multi-node cluster in containers on this machine, for tests and for trying haha.",
        discussion: """
            Each node is a privileged container with its own Docker engine, sshd and glusterd on a private network.
            haha reaches the nodes only over SSH, as on real machines. Needs root and a Docker engine with the
            haha-lab runtime (scripts/host-setup prepares both).
            """,
        subcommands: [LabUpCommand.self, LabImagesCommand.self, LabStatusCommand.self, LabKillCommand.self, LabStopCommand.self,
                      LabStartCommand.self, LabPartitionCommand.self, LabHealCommand.self, LabDownCommand.self])
}

/// Options shared by every lab command.
struct LabOptions: ParsableArguments {
    @Option(help: "Name of the lab (prefixes its containers, volumes and network).")
    var name = "haha-lab"

    @Option(help: "Directory for the lab's haha.yaml, secrets and SSH key.")
    var dir = "haha-lab"

    @Option(help: "Cache for Debian roots and image builds.")
    var cache = "/var/cache/haha"

    @Option(help: ArgumentHelp("Debian archive for the lab's images (default: $\(DebianMirror.environmentVariable), else this host's apt sources).",
                               valueName: "url"))
    var mirror: String?

    var directory: URL { URL(fileURLWithPath: dir).standardizedFileURL }

    func images() throws -> LabImages {
        LabImages(cacheDirectory: URL(fileURLWithPath: cache), mirror: try DebianMirror.resolve(override: mirror),
                  progress: { Console.error("   \($0)") })
    }

    /// The driver of an existing lab (its layout read back from Docker).
    func existing() async throws -> LabDriver {
        guard let layout = try await LabDriver.discover(name: name) else {
            throw HahaError.notFound("no lab named \(name) on this machine", next: "create it with `haha lab up`")
        }
        return LabDriver(layout: layout, directory: directory, progress: { Console.error("   \($0)") })
    }
}

struct LabUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Create (or restart) the lab's nodes and write its haha.yaml.")

    @OptionGroup var lab: LabOptions

    @Option(help: "Number of nodes.")
    var nodes = 3

    @Flag(help: "Make the last node an arbiter (quorum only, no data).")
    var arbiter = false

    @Option(help: "The lab network's /24, given by its base address.")
    var subnet = "172.30.77.0"

    @Option(help: "SSH user on the nodes: pi (with sudo) or root.")
    var user = "pi"

    @Flag(help: "Also build the service images and load them into the nodes (as `haha lab images` does).")
    var withImages = false

    func validate() throws {
        guard (2...9).contains(nodes) else { throw ValidationError("--nodes must be 2...9") }
        guard let base = IPv4Address(subnet), base.masked(prefixLength: 24) == base else {
            throw ValidationError("--subnet must be the base address of a /24, like 172.30.77.0")
        }
        guard ["pi", "root"].contains(user) else { throw ValidationError("--user must be pi or root") }
    }

    func run() async throws {
        let steps = StepPrinter()
        guard let base = IPv4Address(subnet) else { throw ValidationError("--subnet must be an IPv4 address") }
        let layout = LabLayout(name: lab.name, nodeCount: nodes, arbiter: arbiter, subnetBase: base, user: user)
        if let existing = try await LabDriver.discover(name: lab.name), existing != layout {
            throw HahaError(.invalidState, "a lab named \(lab.name) exists with another shape (\(existing.nodeCount) nodes, subnet \(existing.subnet))",
                            next: "remove it with `haha lab down --name \(lab.name)` or choose another --name")
        }
        let driver = LabDriver(layout: layout, directory: lab.directory, progress: { Console.error("   \($0)") })
        let started = ContinuousClock.now
        let workspace = try await steps.step("Nodes \(layout.nodes.map(\.name).joined(separator: ", ")) up and reachable over SSH") {
            try await driver.up(images: lab.images())
        }
        if withImages {
            try await steps.step("Service images built and loaded into every node") {
                let tags = try await lab.images().services()
                try await driver.load(tags.values.sorted())
            }
        }
        Console.error("lab \(lab.name) is up in \(steps.format(ContinuousClock.now - started)): \(layout.nodes.map { "\($0.name) \($0.address)" }.joined(separator: ", "))")
        let spec = "\(lab.dir)/haha.yaml"
        let deploy = withImages
            ? "  haha up --config \(spec)             # Home Assistant, Galera, Gluster, Mosquitto on the lab\n"
            : "  haha lab images --dir \(lab.dir)        # build Home Assistant, MariaDB, Mosquitto and HAProxy images into the nodes\n"
                + "  haha up --config \(spec)             # then deploy the stack on the lab\n"
        Console.error("""
            next:
            \(deploy)  ssh -i \(driver.keyPath) -o UserKnownHostsFile=\(driver.sshDirectory.path)/known_hosts \(user)@\(layout.nodes[0].address)
              haha lab kill n2 / haha lab start n2 / haha lab down
            """)
        Console.out(workspace.specPath)
    }
}

struct LabImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Build the lab's service images (offline stand-ins of the official ones) and load them into the nodes.")

    @OptionGroup var lab: LabOptions

    @Option(help: "Only these recipes (mariadb, mosquitto, haproxy, homeassistant).")
    var only: [String] = []

    @Flag(help: "Build only; do not load into the nodes.")
    var noLoad = false

    func run() async throws {
        let steps = StepPrinter()
        let names = only.isEmpty ? ["mariadb", "mosquitto", "haproxy", "homeassistant"] : only
        let tags = try await steps.step("Images built: \(names.joined(separator: ", "))") {
            try await lab.images().services(names)
        }
        if !noLoad {
            let driver = try await lab.existing()
            try await steps.step("Images loaded into \(driver.layout.nodes.map(\.name).joined(separator: ", "))") {
                try await driver.load(tags.values.sorted())
            }
        }
        for tag in tags.values.sorted() { Console.out(tag) }
    }
}

struct LabStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the lab's nodes.")

    @OptionGroup var lab: LabOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let states = try await lab.existing().status()
        if json { return try Console.json(states) }
        Console.out(Table.render(header: ["NODE", "CONTAINER", "ADDRESS", "ROLE", "STATE", "NETWORK"],
                                 rows: states.map { [$0.name, $0.container, $0.address, $0.role, $0.state, $0.partitioned ? "partitioned" : "connected"] }))
    }
}

/// One node argument, one fault: `haha lab kill n2`.
protocol LabNodeCommand: AsyncParsableCommand {
    var lab: LabOptions { get }
    var node: String { get }
    func act(_ driver: LabDriver) async throws
    var done: String { get }
}

extension LabNodeCommand {
    func run() async throws {
        let driver = try await lab.existing()
        try await act(driver)
        Console.error("\(node): \(done)")
    }
}

struct LabKillCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Power-cut a node: drop all its traffic, then kill it.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.kill(node) }
    var done: String { "power cut (start it again with `haha lab start \(node)`)" }
}

struct LabStopCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Shut a node down cleanly.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.stop(node) }
    var done: String { "stopped" }
}

struct LabStartCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped or killed node.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.start(node) }
    var done: String { "started" }
}

struct LabPartitionCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "partition", abstract: "Cut a node off the lab network without stopping it.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.partition(node) }
    var done: String { "cut off the network (undo with `haha lab heal \(node)`)" }
}

struct LabHealCommand: LabNodeCommand {
    static let configuration = CommandConfiguration(commandName: "heal", abstract: "Reconnect a partitioned node.")
    @OptionGroup var lab: LabOptions
    @Argument(help: "Node name (n1, n2, …).") var node: String
    func act(_ driver: LabDriver) async throws { try await driver.heal(node) }
    var done: String { "reconnected" }
}

struct LabDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove the lab's containers, volumes, network and firewall rule (its directory and image cache stay).")

    @OptionGroup var lab: LabOptions

    func run() async throws {
        let layout = try await LabDriver.discover(name: lab.name) ?? LabLayout(name: lab.name)
        try await LabDriver(layout: layout, directory: lab.directory).down()
        Console.error("lab \(lab.name) removed (kept: \(lab.dir)/ with its haha.yaml and secrets, and the image cache in \(lab.cache))")
    }
}
