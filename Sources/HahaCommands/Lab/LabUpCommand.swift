import ArgumentParser
import HahaCore
import HahaSystem

struct LabUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Create (or restart) the lab's nodes and write its haha.yaml.")

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
            throw HahaError(
                .invalidState, "a lab named \(lab.name) exists with another shape (\(existing.nodeCount) nodes, subnet \(existing.subnet))",
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
        Console.error(
            "lab \(lab.name) is up in \(steps.format(ContinuousClock.now - started)): \(layout.nodes.map { "\($0.name) \($0.address)" }.joined(separator: ", "))"
        )
        let spec = "\(lab.dir)/haha.yaml"
        let deploy =
            withImages
            ? "  haha up --config \(spec)             # Home Assistant, Galera, Gluster, Mosquitto on the lab\n"
            : "  haha lab images --dir \(lab.dir)        # build Home Assistant, MariaDB, Mosquitto and HAProxy images into the nodes\n"
                + "  haha up --config \(spec)             # then deploy the stack on the lab\n"
        Console.error(
            """
            next:
            \(deploy)  ssh -i \(driver.keyPath) -o UserKnownHostsFile=\(driver.sshDirectory.path)/known_hosts \(user)@\(layout.nodes[0].address)
              haha lab kill n2 / haha lab start n2 / haha lab down
            """)
        Console.out(workspace.specPath)
    }
}
