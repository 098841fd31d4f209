import Foundation
import HahaCore
import HahaSystem
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Whether this machine can run a lab: root, a Docker engine, and the haha-lab runtime.
enum LabHost {
    static let reason: String? = {
        guard getuid() == 0 else { return "not root (the lab creates privileged containers and firewall rules)" }
        guard commandExists("docker") else { return "no docker client on PATH" }
        let probe = try? ChildProcess(
            ["sh", "-c", "docker info --format '{{json .Runtimes}}' | grep -q '\"haha-lab\"'"], stdout: .null, stderr: .null)
        var status: Int32? = probe == nil ? 127 : nil
        while status == nil {
            usleep(20_000)
            status = probe?.status
        }
        return status == 0 ? nil : "no Docker engine with the haha-lab runtime (run scripts/host-setup)"
    }()

    static var available: Bool {
        if let reason { print("skipped: lab tests, because \(reason)") }
        return reason == nil
    }
}

/// Issue #3's acceptance: a real 3-node lab, a Swarm and a replica-3 Gluster volume formed over SSH through
/// haha's own runner, a file that survives a power cut of one node, and a `lab down` that leaves nothing behind.
@Suite(.serialized, .enabled(if: LabHost.available, "needs root and Docker with the haha-lab runtime"))
struct LabTests {
    static let name = "haha-test"
    static let subnet = "172.30.78.0"

    @Test func swarmGlusterAndPowerCutOnARealLab() async throws {
        let scratch = try Scratch("haha-lab-test")
        try await withLab(Self.name, scratch: scratch) { haha, lab in
            try await exercise(haha: haha, lab: lab, scratch: scratch)
        }
    }

    func exercise(haha: String, lab: [String], scratch: Scratch) async throws {
        let up = try await run([haha, "lab", "up", "--subnet", Self.subnet] + lab, in: scratch.path, timeout: 1800)
        try #require(up.exitCode == 0, "lab up failed: \(up.errorOutput)")
        let workspace = try Workspace.load(specPath: scratch.file("lab/haha.yaml"))
        #expect(!workspace.validate().hasErrors)
        let nodes = workspace.spec.nodes
        let ssh = nodes.map { workspace.runner(for: $0) }
        #expect(nodes.allSatisfy { $0.user == "pi" })

        // A 3-manager Swarm, over SSH (the lab user goes through sudo).
        try await ssh[0].check(
            ["docker", "swarm", "init", "--advertise-addr", nodes[0].address, "--dispatcher-heartbeat", "1s"], timeout: 60)
        let token = try await ssh[0].output(["docker", "swarm", "join-token", "-q", "manager"])
        for runner in ssh.dropFirst() {
            try await runner.check(["docker", "swarm", "join", "--token", token, "\(nodes[0].address):2377"], timeout: 60)
        }
        let managers = try await ssh[0].output(["docker", "node", "ls", "--format", "{{.ManagerStatus}}"])
        #expect(managers.split(separator: "\n").count == 3)
        #expect(managers.contains("Leader"))

        // A replica-3 Gluster volume, mounted on every node.
        for node in nodes.dropFirst() { try await ssh[0].check(["gluster", "peer", "probe", node.name], timeout: 60) }
        try await waitUntil("3 Gluster peers connected", timeout: 60, next: "read the test log above") { _ in
            let pool = try await ssh[0].output(["gluster", "pool", "list"])
            return pool.split(separator: "\n").filter { $0.contains("Connected") }.count == 3
        }
        try await ssh[0].check(
            ["gluster", "volume", "create", "labtest", "replica", "3"] + nodes.map { "\($0.name):/bricks/labtest" } + ["force"],
            timeout: 120)
        try await ssh[0].check(["gluster", "volume", "set", "labtest", "network.ping-timeout", "5"], timeout: 60)
        try await ssh[0].check(["gluster", "volume", "start", "labtest"], timeout: 120)
        let info = try await ssh[0].output(["gluster", "volume", "info", "labtest"])
        #expect(info.contains("Number of Bricks: 1 x 3 = 3"))
        for runner in ssh {
            // Through fstab, as on a real machine: the node's boot (entrypoint) mounts it again after a power cut.
            try await runner.shell(
                """
                mkdir -p /mnt/labtest && (grep -q ' /mnt/labtest ' /etc/fstab || echo 'localhost:/labtest /mnt/labtest glusterfs defaults,_netdev 0 0' >> /etc/fstab) \
                && (mountpoint -q /mnt/labtest || mount /mnt/labtest)
                """, timeout: 60)
        }

        // Written on n1, read on n3.
        try await ssh[0].shell("echo written-on-n1 > /mnt/labtest/probe.txt", timeout: 30)
        #expect(try await ssh[2].output(["cat", "/mnt/labtest/probe.txt"], timeout: 30) == "written-on-n1")

        // Power cut of n2: n1 and n3 still serve the file, and still write.
        let kill = try await run([haha, "lab", "kill", "n2"] + lab, in: scratch.path)
        #expect(kill.exitCode == 0, "\(kill.errorOutput)")
        for runner in [ssh[0], ssh[2]] {
            #expect(try await runner.output(["cat", "/mnt/labtest/probe.txt"], timeout: 60) == "written-on-n1")
        }
        try await ssh[2].shell("echo written-on-n3-after-the-cut > /mnt/labtest/after.txt", timeout: 60)
        #expect(try await ssh[0].output(["cat", "/mnt/labtest/after.txt"], timeout: 60) == "written-on-n3-after-the-cut")
        // Swarm keeps its quorum (2 of 3 managers).
        #expect(try await ssh[0].run(Command(["docker", "node", "ls"], timeout: 30)).succeeded, "swarm lost quorum after one node died")

        // n2 comes back with the file.
        let start = try await run([haha, "lab", "start", "n2"] + lab, in: scratch.path)
        #expect(start.exitCode == 0)
        try await waitUntil("n2 reachable and its mount back", timeout: 120, next: "read the test log above") { _ in
            (try? await ssh[1].output(["cat", "/mnt/labtest/after.txt"], timeout: 20)) == "written-on-n3-after-the-cut"
        }

        // A partition cuts a node off without stopping it; heal brings it back.
        #expect(try await run([haha, "lab", "partition", "n3"] + lab, in: scratch.path).exitCode == 0)
        let partitioned = try await run([haha, "lab", "status", "--json"] + lab, in: scratch.path)
        let states = try #require(try JSONSerialization.jsonObject(with: partitioned.stdout) as? [[String: Any]])
        #expect(states.first { $0["name"] as? String == "n3" }?["partitioned"] as? Bool == true)
        #expect(states.first { $0["name"] as? String == "n3" }?["state"] as? String == "running")
        #expect(try await ssh[2].run(Command(["true"], timeout: 5)).succeeded == false)
        #expect(try await run([haha, "lab", "heal", "n3"] + lab, in: scratch.path).exitCode == 0)
        try await waitUntil("n3 reachable after heal", timeout: 60, next: "read the test log above") { _ in
            (try? await ssh[2].run(Command(["true"], timeout: 5)).succeeded) == true
        }
    }

    /// `haha lab down` removes every container, volume, network, firewall rule and process of the lab, and nothing else.
    @Test func labDownLeavesNothingBehind() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch("haha-lab-down")
        let lab = ["--name", Self.name, "--dir", scratch.file("lab")]
        let bystander = try await run(["docker", "volume", "create", "haha-test-bystander"], in: scratch.path)
        #expect(bystander.exitCode == 0)
        let up = try await run([haha, "lab", "up", "--subnet", Self.subnet] + lab, in: scratch.path, timeout: 1800)
        try #require(up.exitCode == 0, "lab up failed: \(up.errorOutput)")
        // Something mounted inside a node, as haha up would.
        _ = try await run(
            ["docker", "exec", "\(Self.name)-n1", "sh", "-c", "mkdir -p /mnt/x && mount -t tmpfs none /mnt/x"], in: scratch.path)

        let down = try await run([haha, "lab", "down"] + lab, in: scratch.path, timeout: 300)
        #expect(down.exitCode == 0, "\(down.errorOutput)")
        let label = "label=org.haha.lab=\(Self.name)"
        #expect(try await run(["docker", "ps", "-aq", "--filter", label], in: scratch.path).output.isEmpty)
        #expect(try await run(["docker", "volume", "ls", "-q", "--filter", label], in: scratch.path).output.isEmpty)
        #expect(try await run(["docker", "network", "ls", "-q", "--filter", label], in: scratch.path).output.isEmpty)
        #expect(
            try await run(["sh", "-c", "iptables -S DOCKER-USER | grep -c br-\(Self.name) || true"], in: scratch.path).output
                .trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(
            try await run(["sh", "-c", "grep -c '\(Self.name)' /proc/mounts || true"], in: scratch.path).output
                .trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(try await run(["sh", "-c", "pgrep -af 'haha-test-n[0-9]' | grep -v pgrep || true"], in: scratch.path).output.isEmpty)
        // What the lab did not create is still there.
        #expect(try await run(["docker", "volume", "inspect", "haha-test-bystander"], in: scratch.path).exitCode == 0)
        _ = try await run(["docker", "volume", "rm", "haha-test-bystander"], in: scratch.path)
        // Down again is a no-op, not an error.
        #expect(try await run([haha, "lab", "down"] + lab, in: scratch.path).exitCode == 0)
    }
}

/// The lab's Home Assistant image starts offline and answers `GET /api/` with 401.
/// (How fast is a benchmark: `scripts/bench` prints the seconds; this test only bounds it generously.)
@Suite(.enabled(if: LabHost.available, "needs root and Docker with the haha-lab runtime"))
struct HomeAssistantImageTests {
    @Test func answersWith401OfflineOnAnInternalNetwork() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch("haha-ha-image")
        let built = try await run([haha, "lab", "images", "--only", "homeassistant", "--no-load"], in: scratch.path, timeout: 3600)
        try #require(built.exitCode == 0, "image build failed: \(built.errorOutput)")
        let network = "haha-test-ha-offline"
        let container = "haha-test-ha"
        _ = try await run(["docker", "rm", "-f", container], in: scratch.path)
        _ = try await run(["docker", "network", "rm", network], in: scratch.path)
        #expect(
            try await run(["docker", "network", "create", "--internal", "--subnet", "172.30.80.0/24", network], in: scratch.path).exitCode
                == 0)
        let start = ContinuousClock.now
        let started = try await run(
            [
                "docker", "run", "-d", "--name", container, "--network", network, "--ip", "172.30.80.10",
                "-e", "TZ=UTC", LabLayout.serviceImages.homeAssistant,
            ], in: scratch.path)
        #expect(started.exitCode == 0, "\(started.errorOutput)")
        let ha = HomeAssistantSetup(baseURL: URL(string: "http://172.30.80.10:8123/")!)
        var status = 0
        while ContinuousClock.now - start < .seconds(180) {
            status = (try? await ha.request("GET", "api/", timeout: 3).status) ?? 0
            if status == 401 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        print("Home Assistant image: /api/ answered \(status) after \(ContinuousClock.now - start) (offline, internal network)")
        #expect(status == 401)
        let logs = try await run(["docker", "logs", container], in: scratch.path)
        #expect(!(logs.output + logs.errorOutput).contains("Unable to install"), "Home Assistant tried to install packages at start-up")
        _ = try await run(["docker", "rm", "-f", container], in: scratch.path)
        _ = try await run(["docker", "network", "rm", network], in: scratch.path)
    }
}
