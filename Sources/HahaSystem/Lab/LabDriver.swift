import Foundation
import HahaCore

/// Creates, inspects, breaks and removes a lab cluster through the local Docker engine.
/// The truth is in Docker (containers labelled `org.haha.lab=NAME`), not in a state file.
public struct LabDriver: Sendable {
    public var layout: LabLayout
    /// The lab directory: haha.yaml, secrets, SSH key and known_hosts for this lab.
    public var directory: URL
    public var runner: any CommandRunner
    public var progress: @Sendable (String) -> Void
    /// The node containers this driver power-cut (`kill`) and has not started again: the kernel has queued SIGKILL for
    /// every process in them, so none of theirs is counted as a running Home Assistant, however long it takes to go.
    public let poweredOff = Names()

    /// A set of names shared by copies of the driver (the drill's fault and its counter).
    public final class Names: @unchecked Sendable {
        private let lock = NSLock()
        private var names: Set<String> = []
        public func insert(_ name: String) { lock.withLock { _ = names.insert(name) } }
        public func remove(_ name: String) { lock.withLock { _ = names.remove(name) } }
        public func contains(_ name: String) -> Bool { lock.withLock { names.contains(name) } }
    }

    public init(
        layout: LabLayout, directory: URL, runner: any CommandRunner = LocalRunner(),
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.layout = layout
        self.directory = directory
        self.runner = runner
        self.progress = progress
    }

    public var sshDirectory: URL { directory.appendingPathComponent("ssh") }
    public var keyPath: String { sshDirectory.appendingPathComponent("id_ed25519").path }
    public var specPath: String { directory.appendingPathComponent("haha.yaml").path }

    // MARK: Preconditions

    /// Docker answers and has the lab's OCI runtime (needed for privileged nodes on this kernel).
    public func checkHost() async throws {
        let info = try await runner.run(Command(["docker", "info", "--format", "{{json .Runtimes}}"], timeout: 30))
        guard info.succeeded else {
            throw HahaError(
                .invalidState, "no Docker engine answers: \(info.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines))",
                next: "run `sudo bash scripts/host-setup` (installs docker.io and starts dockerd with the lab runtime)")
        }
        guard info.output.contains("\"\(LabLayout.runtime)\"") else {
            throw HahaError(
                .invalidState, "the Docker engine has no \(LabLayout.runtime) runtime",
                next:
                    "run `sudo bash scripts/host-setup`, or add {\"runtimes\": {\"\(LabLayout.runtime)\": {\"path\": \"/var/cache/haha/bin/haha-oci-shim\"}}} to /etc/docker/daemon.json and reload dockerd"
            )
        }
    }

    // MARK: State

    /// The layout of an existing lab, read back from its network's labels.
    public static func discover(name: String, runner: any CommandRunner = LocalRunner()) async throws -> LabLayout? {
        let result = try await runner.run(
            Command(
                [
                    "docker", "network", "inspect", "--format",
                    "{{index .Labels \"\(LabLayout.labelKey).nodes\"}} {{index .Labels \"\(LabLayout.labelKey).arbiter\"}} {{index .Labels \"\(LabLayout.labelKey).user\"}} {{(index .IPAM.Config 0).Subnet}}",
                    name,
                ], timeout: 30))
        guard result.succeeded else { return nil }
        let fields = result.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        guard fields.count == 4, let count = Int(fields[0]),
            let base = IPv4Address(String(fields[3].split(separator: "/")[0]))
        else { return nil }
        return LabLayout(name: name, nodeCount: count, arbiter: fields[1] == "true", subnetBase: base, user: fields[2])
    }

    public struct NodeState: Sendable, Codable, Equatable {
        public var name: String
        public var container: String
        public var address: String
        public var role: String
        public var state: String  // running, exited, missing, …
        public var partitioned: Bool
    }

    public func status() async throws -> [NodeState] {
        var states: [NodeState] = []
        for node in layout.nodes {
            let inspect = try await runner.run(
                Command(
                    [
                        "docker", "inspect", "--format",
                        "{{.State.Status}}",
                        node.container,
                    ], timeout: 30))
            let fields = inspect.output.split(whereSeparator: \.isWhitespace).map(String.init)
            var partitioned = false
            if fields.first == "running" {
                let rules = try? await runner.run(Command(["docker", "exec", node.container, "iptables", "-S"], timeout: 30))
                partitioned = rules?.output.contains(Self.partitionMark) ?? false
            }
            states.append(
                NodeState(
                    name: node.name, container: node.container, address: node.address.description, role: node.role.rawValue,
                    state: inspect.succeeded ? fields.first ?? "unknown" : "missing",
                    partitioned: partitioned))
        }
        return states
    }

    // MARK: Up

    /// Brings the lab up: images, network, keys, node containers, SSH reachable, haha.yaml + secrets written.
    /// Re-running starts stopped nodes and leaves running ones alone.
    public func up(images: LabImages) async throws -> Workspace {
        try await checkHost()
        let image = try await images.node()
        try await ensureNetwork()
        try await ensureKeys()
        let keysFile = sshDirectory.appendingPathComponent("authorized_keys").path

        let states = try await status()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (node, state) in zip(layout.nodes, states) {
                group.addTask {
                    switch state.state {
                    case "running": break
                    case "missing":
                        for (volume, _) in node.volumes {
                            try await runner.check(
                                ["docker", "volume", "create", "--label", "\(LabLayout.labelKey)=\(layout.name)", volume], timeout: 30)
                        }
                        try await runner.check(layout.runArguments(for: node, image: image, keysPath: keysFile), timeout: 60)
                    default:
                        try await runner.check(["docker", "start", node.container], timeout: 60)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await waitForSSH()
        return try writeSpec()
    }

    func ensureNetwork() async throws {
        let exists = try await runner.run(Command(["docker", "network", "inspect", layout.network], timeout: 30)).succeeded
        if !exists {
            try await runner.check(
                [
                    "docker", "network", "create", "--internal", "--driver", "bridge",
                    "--subnet", layout.subnet, "--gateway", layout.gateway.description,
                    "--opt", "com.docker.network.bridge.name=\(layout.bridge)",
                    "--label", "\(LabLayout.labelKey)=\(layout.name)",
                    "--label", "\(LabLayout.labelKey).nodes=\(layout.nodeCount)",
                    "--label", "\(LabLayout.labelKey).arbiter=\(layout.arbiter)",
                    "--label", "\(LabLayout.labelKey).user=\(layout.user)",
                    layout.network,
                ], timeout: 30, hint: "another network may use \(layout.subnet); pass --subnet with a free /24")
        }
        // Docker drops multicast (VRRP, mDNS) between containers of an internal network; allow traffic within the bridge.
        let rule = ["-i", layout.bridge, "-o", layout.bridge, "-j", "ACCEPT"]
        if try await !runner.run(Command(["iptables", "-C", "DOCKER-USER"] + rule, timeout: 10)).succeeded {
            try await runner.check(["iptables", "-I", "DOCKER-USER"] + rule, timeout: 10)
        }
    }

    func ensureKeys() async throws {
        let fm = FileManager.default
        try fm.createDirectory(at: sshDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !fm.fileExists(atPath: keyPath) {
            try await runner.check(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "haha-lab", "-f", keyPath], timeout: 30,
                hint: "install openssh-client")
        }
        let publicKey = try String(contentsOfFile: keyPath + ".pub", encoding: .utf8)
        try writeFileAtomically(sshDirectory.appendingPathComponent("authorized_keys").path, contents: publicKey, mode: 0o644)
    }

    /// Waits until every node's sshd answers, records their host keys, and logs in once as the lab user.
    func waitForSSH() async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        var lines: [String] = []
        for node in layout.nodes {
            let address = node.address.description
            try await waitUntil(
                "sshd on \(node.container) (\(address)) to answer", timeout: max(0, (deadline - .now) / .seconds(1)),
                interval: 0.3, next: "look at `docker logs \(node.container)`"
            ) { poll in
                let scan = try await poll.on(runner).run(Command(["ssh-keyscan", "-T", "2", "-t", "ed25519", address], timeout: 10))
                let keys = scan.output.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
                guard scan.succeeded, !keys.isEmpty else { return false }
                lines += keys.map(String.init) + keys.map { $0.replacingOccurrences(of: address, with: node.name) }
                return true
            }
        }
        try writeFileAtomically(sshDirectory.appendingPathComponent("known_hosts").path, contents: lines.joined(separator: "\n") + "\n")
    }

    func writeSpec() throws -> Workspace {
        let spec = layout.spec(images: LabLayout.serviceImages)
        // The lab's spec obeys the same grammar as a user's (a hostile --name or layout never reaches a node).
        let problems = Validator.validate(spec)
        if problems.hasErrors {
            throw HahaError(
                .invalidArgument,
                "the lab's spec is not valid:\n" + problems.errors.map { "  \($0.formatted(file: specPath))" }.joined(separator: "\n"),
                next: "choose another --name (a DNS label) or --subnet")
        }
        let text = SpecWriter.yaml(
            spec, header: ["The lab cluster \"\(layout.name)\", written by `haha lab up`; it is rewritten on every lab up."])
        try writeFileAtomically(specPath, contents: text)
        let workspace = Workspace(specPath: specPath, spec: spec)
        try workspace.generateMissingSecrets()
        return workspace
    }

    // MARK: Images in the nodes

    /// Copies images into every running node's engine (`docker save | docker load`), skipping nodes that have them.
    public func load(_ tags: [String]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in layout.nodes {
                group.addTask {
                    var missing: [String] = []
                    for tag in tags {
                        let host = try await runner.run(Command(["docker", "image", "inspect", "--format", "{{.Id}}", tag], timeout: 30))
                            .output
                        let inNode = try await runner.run(
                            Command(
                                ["docker", "exec", node.container, "docker", "image", "inspect", "--format", "{{.Id}}", tag], timeout: 30)
                        ).output
                        if host.isEmpty || host != inNode { missing.append(tag) }
                    }
                    guard !missing.isEmpty else { return }
                    progress("loading \(missing.joined(separator: ", ")) into \(node.container)")
                    try await runner.shell(
                        "docker save \(missing.map(shellQuote).joined(separator: " ")) | docker exec -i \(node.container) docker load -q",
                        timeout: 1800)
                }
            }
            try await group.waitForAll()
        }
    }

    // MARK: Faults

    func container(_ name: String) throws -> LabLayout.Node {
        guard let node = layout.node(named: name) else {
            throw HahaError.invalidArgument(
                "no lab node \"\(name)\"", next: "nodes are \(layout.nodes.map(\.name).joined(separator: ", "))")
        }
        return node
    }

    /// A power cut: the node drops every packet first (peers see silence, not a closed connection), then dies.
    /// Home Assistant processes running anywhere in the lab: this host sees every node's processes, so one `ps` counts
    /// them all (the supervisor that starts Home Assistant is not counted, only the interpreter running it).
    /// Only processes inside this lab's node containers count (found through their cgroups, which name the container),
    /// so another lab on the same host (a CI run) does not add its own.
    public func homeAssistantProcesses(inContainers nodes: [(name: String, id: String)]) async -> Drill.Instances? {
        guard let listed = try? await runner.run(Command(["ps", "-eo", "pid=,args="], timeout: 10)), listed.succeeded else { return nil }
        let pids = Self.homeAssistantPIDs(in: listed.output)
        if pids.isEmpty { return Drill.Instances(processes: []) }
        // Each pid with its state and parent (/proc/PID/stat's third and fourth fields: R, S, D, Z…; ppid) and its cgroups.
        let script =
            "for p in \(pids.joined(separator: " ")); do echo \"$p $(cut -d ' ' -f 3,4 /proc/$p/stat 2>/dev/null) $(tr '\\n' ' ' < /proc/$p/cgroup 2>/dev/null)\"; done"
        guard let cgroups = try? await runner.run(Command(["sh", "-c", script], timeout: 10)), cgroups.succeeded else { return nil }
        return Self.instances(cgroups.output, nodes: nodes)
    }

    /// The sample's Home Assistants from lines `PID STATE PPID CGROUPS…`: those in one of the lab's node containers.
    /// A process whose parent is another of them is not a second Home Assistant but one it forked (until the child
    /// calls exec it shows its parent's command line): it is named with its parent, not counted.
    static func instances(_ lines: String, nodes: [(name: String, id: String)]) -> Drill.Instances {
        struct Found {
            let pid: String, parent: String, node: String, state: String
        }
        let found: [Found] = lines.split(separator: "\n").compactMap { line in
            guard let node = nodes.first(where: { line.contains($0.id) }) else { return nil }
            let words = line.split(separator: " ").map(String.init)
            let state = words.count > 1 && words[1].count == 1 ? words[1] : ""
            let parent = words.count > 2 && words[2].allSatisfy(\.isNumber) ? words[2] : ""
            return Found(pid: words.first ?? "?", parent: parent, node: node.name, state: state)
        }
        let pids = Set(found.map(\.pid))
        return Drill.Instances(
            processes: found.filter { !pids.contains($0.parent) }.map { process in
                let children = found.filter { $0.parent == process.pid }.map(\.pid)
                let detail = [process.state] + (children.isEmpty ? [] : ["forked \(children.joined(separator: ", "))"])
                let shown = detail.filter { !$0.isEmpty }.joined(separator: "; ")
                return "pid \(process.pid) on \(process.node)" + (shown.isEmpty ? "" : " (\(shown))")
            })
    }

    /// The full ids of the lab's node containers.
    /// A drill on the lab named `lab`: its fault for the scenario, and a count of the lab's own Home Assistants.
    public static func prepareDrill(lab: String, scenario: DrillScenario, _ options: inout Drill.Options) async throws {
        guard let layout = try await discover(name: lab) else {
            throw HahaError.notFound("no lab named \(lab)", next: "leave out --lab on a real cluster")
        }
        let driver = LabDriver(layout: layout, directory: URL(fileURLWithPath: "."))
        options.fault = driver.drillFault(scenario)
        let ids = try await driver.containerIDs()
        options.countHomeAssistants = {
            await driver.homeAssistantProcesses(inContainers: ids.filter { !driver.poweredOff.contains($0.name) })
        }
    }

    /// Each node container's name and full id.
    public func containerIDs() async throws -> [(name: String, id: String)] {
        var ids: [(name: String, id: String)] = []
        for node in layout.nodes {
            let id = try await runner.output(["docker", "inspect", "--format", "{{.Id}}", node.container], timeout: 30)
            if !id.isEmpty { ids.append((node.container, id)) }
        }
        return ids
    }

    static func homeAssistantProcesses(in ps: String) -> Int {
        homeAssistantPIDs(in: ps.split(separator: "\n").map { "0 " + $0 }.joined(separator: "\n")).count
    }

    /// The pids of `ps -eo pid=,args=` lines that run Home Assistant's interpreter (`python3 -m homeassistant`).
    static func homeAssistantPIDs(in ps: String) -> [String] {
        ps.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count >= 4, let interpreter = words[1].split(separator: "/").last,
                interpreter.hasPrefix("python3"), words[2] == "-m", words[3] == "homeassistant"
            else { return nil }
            return String(words[0])
        }
    }

    public func kill(_ name: String) async throws {
        let node = try container(name)
        for chain in ["INPUT", "OUTPUT", "FORWARD"] {
            _ = try await runner.run(Command(["docker", "exec", node.container, "iptables", "-I", chain, "1", "-j", "DROP"], timeout: 10))
        }
        try await runner.check(["docker", "kill", node.container], timeout: 30)
        poweredOff.insert(node.container)
    }

    public func stop(_ name: String) async throws {
        try await runner.check(["docker", "stop", try container(name).container], timeout: 90)
    }

    public func start(_ name: String) async throws {
        let node = try container(name)
        poweredOff.remove(node.container)
        try await runner.check(["docker", "start", node.container], timeout: 60)
    }

    /// A dead disk: the node's container and its volumes (Docker's data, glusterd's state, the brick) are removed;
    /// `haha lab up` makes the node again as a fresh machine at the same address.
    public func wipe(_ name: String) async throws {
        let node = try container(name)
        try await runner.check(["docker", "rm", "-f", "-v", node.container], timeout: 120)
        poweredOff.remove(node.container)
        for (volume, _) in node.volumes {
            _ = try await runner.run(Command(["docker", "volume", "rm", "-f", volume], timeout: 120))
        }
    }

    /// Cuts the node off the lab network (its processes keep running), like pulling its cable: the node drops every
    /// packet on its lab interface. (Disconnecting it from the Docker network would rename the interface on reconnect,
    /// and keepalived, configured for `eth0`, would then fail.)
    public func partition(_ name: String) async throws {
        let node = try container(name)
        try await runner.check(
            ["docker", "exec", node.container, "sh", "-c", Self.partitionScript(node.address.description, cut: true)], timeout: 30)
    }

    public func heal(_ name: String) async throws {
        let node = try container(name)
        try await runner.check(
            ["docker", "exec", node.container, "sh", "-c", Self.partitionScript(node.address.description, cut: false)], timeout: 30)
    }

    static let partitionMark = "haha-lab-partition"

    /// Shell for inside the node: insert (cut) or delete (heal) DROP rules on the interface holding `address`.
    static func partitionScript(_ address: String, cut: Bool) -> String {
        let rules = [("INPUT", "-i"), ("OUTPUT", "-o"), ("FORWARD", "-i"), ("FORWARD", "-o")]
        let device = "dev=$(ip -o -4 addr show to \(address) | awk '{print $2; exit}') && [ -n \"$dev\" ] && "
        let match = "\"$dev\" -m comment --comment \(partitionMark) -j DROP"
        if cut {
            return device + rules.map { "iptables -I \($0.0) 1 \($0.1) \(match)" }.joined(separator: " && ")
        }
        return device + rules.map { "{ while iptables -D \($0.0) \($0.1) \(match) 2>/dev/null; do :; done; }" }.joined(separator: " && ")
    }

    /// Freezes every process of the node (`docker pause`): it neither answers nor notices time passing, as a node
    /// stalled by its kernel or hypervisor; `unpause` resumes it where it was.
    public func pause(_ name: String) async throws {
        try await runner.check(["docker", "pause", try container(name).container], timeout: 30)
    }

    public func unpause(_ name: String) async throws {
        try await runner.check(["docker", "unpause", try container(name).container], timeout: 30)
    }

    /// How `haha drill --lab` breaks and restores a node for each scenario (the drain needs no lab).
    public func drillFault(_ scenario: DrillScenario) -> Drill.Fault {
        let driver = self
        switch scenario {
        case .drain:
            return Drill.Fault(scenario: .drain)
        case .powerCut, .allPowerCut:
            return Drill.Fault(
                scenario: scenario, cut: { node, _ in try await driver.kill(node.name) },
                restore: { node, _ in try await driver.start(node.name) }
            )
        case .partition:
            return Drill.Fault(
                scenario: scenario, cut: { node, _ in try await driver.partition(node.name) },
                restore: { node, _ in try await driver.heal(node.name) })
        case .freeze:
            return Drill.Fault(
                scenario: scenario, cut: { node, _ in try await driver.pause(node.name) },
                restore: { node, _ in try await driver.unpause(node.name) }, restoreAfter: DrillReport.freezeSeconds)
        }
    }

    // MARK: Down

    /// Removes the lab's containers, volumes, network and firewall rule: everything labelled as this lab's, nothing else.
    public func down() async throws {
        let containers = try await runner.output(["docker", "ps", "-aq", "--filter", "label=\(LabLayout.labelKey)=\(layout.name)"])
        if !containers.isEmpty {
            try await runner.check(["docker", "rm", "-f", "-v"] + containers.split(separator: "\n").map(String.init), timeout: 120)
        }
        let volumes = try await runner.output(["docker", "volume", "ls", "-q", "--filter", "label=\(LabLayout.labelKey)=\(layout.name)"])
        if !volumes.isEmpty {
            try await runner.check(["docker", "volume", "rm", "-f"] + volumes.split(separator: "\n").map(String.init), timeout: 120)
        }
        let networks = try await runner.output(["docker", "network", "ls", "-q", "--filter", "label=\(LabLayout.labelKey)=\(layout.name)"])
        if !networks.isEmpty {
            try await runner.check(["docker", "network", "rm"] + networks.split(separator: "\n").map(String.init), timeout: 60)
        }
        let rule = ["-i", layout.bridge, "-o", layout.bridge, "-j", "ACCEPT"]
        while try await runner.run(Command(["iptables", "-C", "DOCKER-USER"] + rule, timeout: 10)).succeeded {
            try await runner.check(["iptables", "-D", "DOCKER-USER"] + rule, timeout: 10)
        }
    }
}
