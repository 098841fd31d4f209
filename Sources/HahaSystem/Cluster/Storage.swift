import Foundation
import HahaCore

/// GlusterFS: trusted pool, a replica-3 (or 2 + arbiter) volume, options, and a mount on every node via fstab.
public struct Storage: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    var spec: ClusterSpec { cluster.spec }
    var volume: String { spec.storage.volume }
    static let fstabMarker = "# haha: replicated volume for Home Assistant and Mosquitto"

    /// The nodes holding bricks: the first three data nodes, or two data nodes and the arbiter.
    public var brickNodes: [ClusterSpec.Node] {
        let data = Array(spec.dataNodes.prefix(3))
        if let arbiter = spec.arbiter, data.count == 2 { return data + [arbiter] }
        return data
    }

    public var createArguments: [String] {
        let bricks = brickNodes.map { "\($0.address):\(spec.storage.brickPath)" }
        var args = ["gluster", "volume", "create", volume]
        if spec.arbiter != nil && spec.dataNodes.count == 2 {
            args += ["replica", "3", "arbiter", "1"]
        } else {
            args += ["replica", String(bricks.count)]
        }
        return args + bricks + ["force"]
    }

    public var fstabLine: String { Self.fstabLine(spec) }

    static func fstabLine(_ spec: ClusterSpec) -> String {
        let backups = spec.nodes.filter { $0.role == .data }.prefix(3).map(\.address).joined(separator: ":")
        return
            "localhost:/\(spec.storage.volume) \(spec.storage.mountPath) glusterfs defaults,_netdev,backup-volfile-servers=\(backups) 0 0"
    }

    /// Returns true when it changed something.
    public func converge(facts: [String: Preflight.Facts]) async throws -> Bool {
        var changed = false
        // Install Gluster where missing, as the original playbook did.
        let missing = spec.nodes.filter { facts[$0.name]?.hasGluster == false }
        if !missing.isEmpty {
            cluster.log("installing glusterfs-server on \(missing.map(\.name).joined(separator: ", "))")
            _ = try await cluster.onAll(missing) { node, runner in
                try await runner.shell(
                    "DEBIAN_FRONTEND=noninteractive apt-get install -y glusterfs-server && (systemctl enable --now glusterd 2>/dev/null || service glusterd start)",
                    timeout: 900, hint: "install glusterfs-server on \(node.address) by hand, then run haha up again")
                try await Marker.set(Marker.installed("glusterfs-server"), on: runner)
            }
            changed = true
        }
        let primary = cluster.runner(cluster.primary)

        // Trusted pool: peers compared by exact address.
        let pool = GlusterOutput.pool(try await primary.output(["gluster", "pool", "list"], timeout: 60))
        for node in spec.nodes where node.name != cluster.primary.name {
            if !pool.contains(where: { $0.host == node.address }) {
                try await primary.check(
                    ["gluster", "peer", "probe", node.address], timeout: 60,
                    hint: "glusterd must run on \(node.name) and TCP 24007 must be open between the nodes")
                changed = true
            }
        }
        try await waitUntil(
            "all Gluster peers connected", timeout: 60,
            next: "glusterd must run on every node and TCP 24007 must be open between the nodes; then run the command again"
        ) { poll in
            let list = try await poll.on(primary).output(["gluster", "pool", "list"], timeout: 30)
            return GlusterOutput.pool(list).filter(\.connected).count == spec.nodes.count
        }

        // Volume: created only when Gluster says for certain that it does not exist, on bricks no volume uses.
        if try await volumeExists(primary) == false {
            try await refuseBricksOfOtherVolumes(primary)
            _ = try await cluster.onAll(brickNodes) { _, runner in try await prepareBrick(on: runner) }
            try await primary.check(createArguments, timeout: 120)
            changed = true
        }
        let current = try await primary.output(["gluster", "volume", "info", volume], timeout: 60)
        // Options haha wants set, and those it tuned for the fence reset to Gluster's defaults without it.
        for command in GlusterVolumeOptions.commands(volumeInfo: current, spec) {
            try await primary.check(command, timeout: 60)
            changed = true
        }
        if !current.contains("Status: Started") {
            try await primary.check(["gluster", "volume", "start", volume], timeout: 120)
            changed = true
        }

        // Mounted on every node, again after a reboot.
        let mounted = try await cluster.onAll { _, runner in
            try await mount(runner)
        }
        if mounted.values.contains(true) { changed = true }
        return changed
    }

    /// The brick directory, made if missing. A brick kept by `haha down` (or a reused disk) still carries the old
    /// volume's identity; Gluster refuses it until that is cleared. Its files stay and become the volume's content
    /// (or are healed over).
    ///
    /// `fresh`: a brick that is to receive a copy by heal (a replaced or moved brick) must start empty: an old brick's
    /// files there (a machine that held this volume's brick before) carry other file ids, and the heal never ends. They
    /// are moved aside to `PATH.before-haha-DATE`, never deleted.
    func prepareBrick(on runner: any CommandRunner, fresh: Bool = false) async throws {
        let path = shellQuote(spec.storage.brickPath)
        if fresh {
            try await runner.shell(
                """
                if [ -d \(path) ] && [ -n "$(ls -A \(path))" ]; then
                  aside=\(path).before-haha-$(date -u +%Y%m%d-%H%M%S)
                  mv \(path) "$aside" && echo "moved the old brick's files aside to $aside" >&2
                fi
                """, timeout: 120)
        }
        try await runner.shell(
            """
            mkdir -p \(path)
            if getfattr -n trusted.glusterfs.volume-id \(path) >/dev/null 2>&1; then
              setfattr -x trusted.glusterfs.volume-id \(path); setfattr -x trusted.gfid \(path) 2>/dev/null
              rm -rf \(path)/.glusterfs
            fi
            """, timeout: 60)
    }

    /// Whether the volume exists: only Gluster's own "does not exist" is a no; anything else is a doubt.
    func volumeExists(_ primary: any CommandRunner) async throws -> Bool {
        let answer = try await primary.decide(
            ["gluster", "volume", "info", volume], question: "Gluster volume \(volume) exists", timeout: 60,
            isNo: { $0.said.contains("volume \(volume.lowercased()) does not exist") },
            valid: { GlusterOutput.bricks($0.output)[volume] != nil },
            check:
                "run `gluster volume info \(volume)` and `gluster pool list` on \(cluster.primary.name); glusterd must be running and every peer connected"
        )
        return answer != nil
    }

    /// A brick path that another volume uses is never cleared or reused.
    func refuseBricksOfOtherVolumes(_ primary: any CommandRunner) async throws {
        let answer = try await primary.decide(
            ["gluster", "volume", "info", "all"], question: "the bricks of \(volume) are free", timeout: 60,
            isNo: { $0.said.contains("no volumes present") },
            check: "run `gluster volume info all` on \(cluster.primary.name)")
        let used = GlusterOutput.bricks(answer?.output ?? "")
        let ours = Set(brickNodes.map { "\($0.address):\(spec.storage.brickPath)" })
        for (other, bricks) in used.sorted(by: { $0.key < $1.key }) {
            let shared = bricks.filter(ours.contains)
            if !shared.isEmpty {
                throw HahaError(
                    .invalidState,
                    "\(shared.joined(separator: ", ")) already belong\(shared.count == 1 ? "s" : "") to the Gluster volume \(other); haha never touches a brick of an existing volume",
                    next: "choose another storage.brickPath in haha.yaml, or remove the volume \(other) yourself if it is no longer used")
            }
        }
    }

    /// Seconds the mount step waits for a mount that does not answer (its client reconnecting to the bricks).
    static let unansweredMountWait = 60

    func mount(_ runner: any CommandRunner) async throws -> Bool {
        let mountPath = spec.storage.mountPath
        let check = try await runner.run(
            Command(
                [
                    "sh", "-c",
                    "grep -qxF \(shellQuote(fstabLine)) /etc/fstab && mountpoint -q \(shellQuote(mountPath)) && test -d \(shellQuote(Fence.hostRunDirectory))",
                ],
                timeout: 30))
        if check.succeeded { return false }
        // A mount whose client reaches no brick for the moment (seen after a partition, while the bricks reconnected)
        // says "Transport endpoint is not connected" to everything, so mkdir and mountpoint fail; its client reconnects
        // by itself within seconds. haha waits for that rather than fail at once or mount over it.
        let listed = try await runner.run(Command(["grep", "-qsF", " \(mountPath) fuse.glusterfs ", "/proc/mounts"], timeout: 30))
        if listed.succeeded {
            try await waitUntil(
                "the Gluster mount \(mountPath) on \(runner.target) to answer (its client reaching a brick)",
                timeout: Double(Self.unansweredMountWait),
                next: "check `gluster volume status \(volume)`; a mount that stays so: `umount -l \(mountPath)`, then haha up again"
            ) { poll in
                try await poll.on(runner).run(Command(["stat", "-t", mountPath], timeout: 10)).succeeded
            }
        }
        try await runner.shell(
            """
            mkdir -p \(shellQuote(mountPath)) \(shellQuote(Fence.hostRunDirectory))
            if ! grep -qxF \(shellQuote(fstabLine)) /etc/fstab; then
              cp -p /etc/fstab /etc/fstab.haha-tmp
              # An older line of haha's (other backup servers, after a node was replaced or removed) goes.
              awk -v m=\(shellQuote(Self.fstabMarker)) 'skip { skip = 0; next } $0 == m { skip = 1; next } { print }' /etc/fstab > /etc/fstab.haha-tmp
              printf '%s\\n%s\\n' \(shellQuote(Self.fstabMarker)) \(shellQuote(fstabLine)) >> /etc/fstab.haha-tmp
              sync /etc/fstab.haha-tmp && mv /etc/fstab.haha-tmp /etc/fstab
            fi
            mountpoint -q \(shellQuote(mountPath)) || mount \(shellQuote(mountPath))
            """, timeout: 90, hint: "check `gluster volume status \(volume)` on the node")
        return true
    }

    /// Home Assistant's and Mosquitto's files, written once: a user's files are never overwritten.
    public func seed(files: [RenderedFile]) async throws -> Bool {
        let root = spec.storage.mountPath
        let primary = cluster.runner(cluster.primary)
        var changed = false
        try await primary.shell("mkdir -p \(root)/homeassistant \(root)/mosquitto/config \(root)/mosquitto/data", timeout: 60)
        for file in files where ["homeassistant/configuration.yaml", "mosquitto/config/mosquitto.conf"].contains(file.path) {
            let path = "\(root)/\(file.path)"
            if try await primary.run(Command(["test", "-e", path], timeout: 30)).succeeded { continue }
            try await cluster.write(file.contents, to: path, mode: "0644", on: primary)
            changed = true
        }
        try await primary.shell("chown -R 1883:1883 \(root)/mosquitto", timeout: 60)
        return changed
    }

    /// Waits until every brick is connected and lists nothing pending heal, printing the count now and then.
    func waitHealed(on survivor: any CommandRunner, from name: String, onto target: String) async throws {
        var last: Int?
        // `heal full` starts a crawl that lists entries as it finds them: nothing pending counts when seen twice in a row.
        var quiet = 0
        try await waitUntil(
            "the volume \(volume) to finish healing onto \(target)", timeout: 3600, interval: 3,
            next: "run `gluster volume heal \(volume) info summary` on \(name); the heal goes on by itself, `haha status` shows it"
        ) { poll in
            let text = try await poll.on(survivor).run(Command(["gluster", "volume", "heal", volume, "info", "summary"], timeout: 120))
            let bricks = GlusterOutput.healSummary(text.output)
            guard bricks.count >= 2, bricks.allSatisfy(\.connected) else { return false }
            let pending = bricks.compactMap(\.entries).reduce(0, +)
            if pending != last {
                cluster.log("\(pending) entries pending heal")
                last = pending
            }
            quiet = pending == 0 && bricks.allSatisfy { $0.entries != nil } ? quiet + 1 : 0
            return quiet >= 2
        }
    }
}
