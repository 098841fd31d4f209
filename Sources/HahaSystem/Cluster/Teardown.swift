import Foundation
import HahaCore

/// `haha down`: removes what `haha up` created and nothing else. Without `purge` the data stays
/// (Galera volumes, Gluster bricks) and the report says where; with it nothing of haha remains.
public struct Teardown: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    var spec: ClusterSpec { cluster.spec }

    /// Returns what was kept, for the report.
    public func run(purge: Bool) async throws -> [String] {
        var kept: [String] = []
        let stack = spec.stackName
        let swarm = Swarm(cluster: cluster)

        // 1. The stack, and wait until its containers are gone everywhere (they hold the mount and volumes).
        if let manager = try await swarm.manager() {
            let services = try await manager.output([
                "docker", "service", "ls", "-q", "--filter", "label=com.docker.stack.namespace=\(stack)",
            ])
            if !services.isEmpty {
                cluster.log("removing stack \(stack)")
                try await manager.check(["docker", "stack", "rm", stack], timeout: 120)
            }
        }
        let label = "label=com.docker.stack.namespace=\(stack)"
        _ = try await cluster.onAll { node, runner in
            let stopped: Void? = try? await waitUntil(
                "the stack's containers to stop", timeout: 150, interval: 2,
                next: "haha removes them directly"
            ) { poll in
                try await poll.on(runner).output(["docker", "ps", "-q", "--filter", label]).isEmpty
            }
            if stopped == nil { cluster.log("\(node.name): Swarm did not stop the stack's containers; removing them directly") }
            // Stopped task containers Swarm has not collected yet still hold the volumes. Swarm may be removing some at
            // the same moment ("removal of container … is already in progress", seen in CI): those are waited for.
            let remove = Command(["sh", "-c", "docker ps -aq --filter \(label) | xargs -r docker rm -f >/dev/null"], timeout: 120)
            _ = try await runner.run(remove)
            try await waitUntil(
                "the stack's containers on \(node.name) to be removed", timeout: 120, interval: 2,
                next:
                    "run `docker ps -a --filter \(label)` on \(node.name), remove what is left with `docker rm -f`, then `haha down` again"
            ) { poll in
                if try await poll.on(runner).output(["docker", "ps", "-aq", "--filter", label]).isEmpty { return true }
                _ = try await runner.run(remove)
                return false
            }
        }

        // 2. Per node: sensor address, Galera data, mount and fstab line.
        let storage = Storage(cluster: cluster)
        let perNode = try await cluster.onAll { node, runner -> [String] in
            try await Self.clean(node, runner, spec: spec, purge: purge)
        }
        kept += perNode.values.flatMap { $0 }.sorted()

        // 3. The Gluster volume and the trusted pool.
        let primary = cluster.runner(cluster.primary)
        let volume = spec.storage.volume
        if try await primary.run(Command(["gluster", "volume", "info", volume], timeout: 60)).succeeded {
            cluster.log("deleting Gluster volume \(volume)")
            _ = try await primary.run(Command(["gluster", "--mode=script", "volume", "stop", volume, "force"], timeout: 120))
            try await primary.check(["gluster", "--mode=script", "volume", "delete", volume], timeout: 120)
        }
        for node in spec.nodes where node.name != cluster.primary.name {
            _ = try await primary.run(Command(["gluster", "--mode=script", "peer", "detach", node.address], timeout: 60))
        }
        for node in storage.brickNodes {
            let runner = cluster.runner(node)
            guard try await runner.run(Command(["test", "-d", spec.storage.brickPath], timeout: 30)).succeeded else { continue }
            if purge {
                try await runner.check(["rm", "-rf", spec.storage.brickPath], timeout: 300)
            } else {
                kept.append("\(node.name): Home Assistant and Mosquitto files in the Gluster brick \(spec.storage.brickPath)")
            }
        }

        // 4. Swarm membership haha created; packages haha installed (with purge); haha's own directory.
        _ = try await cluster.onAll { node, runner in try await Self.leave(node, runner, purge: purge) }
        // 5. With purge, the refresh token haha kept beside the secrets: the Home Assistant that issued it is gone with
        // the bricks, and the next `haha up` makes a new owner. The secrets themselves stay (they are the user's).
        if purge { try cluster.workspace.refreshTokenFile.remove() }
        return kept
    }

    /// One node's part of `haha down` (also `haha node remove`): the sensor address, the Galera volume (kept unless
    /// `purge`, and then named in the result), the mount and its fstab line.
    static func clean(_ node: ClusterSpec.Node, _ runner: any CommandRunner, spec: ClusterSpec, purge: Bool) async throws -> [String] {
        let stack = spec.stackName
        var kept: [String] = []
        try await runner.shell(
            """
            if grep -q 'rendered by haha' \(SensorAddressSetup.keepalivedConf) 2>/dev/null; then
              (if [ -d /run/systemd/system ]; then systemctl stop keepalived; else service keepalived stop; fi) >/dev/null 2>&1 || true
              rm -f \(SensorAddressSetup.keepalivedConf)
              if [ -e \(SensorAddressSetup.keepalivedConf).haha-backup ]; then mv \(SensorAddressSetup.keepalivedConf).haha-backup \(SensorAddressSetup.keepalivedConf); fi
            fi
            rm -f \(SensorAddressSetup.cronFile)
            \(GaleraFirewall.removal)
            \(SwarmRetry.removal)
            if [ -e /etc/avahi/avahi-daemon.conf.haha-backup ]; then mv /etc/avahi/avahi-daemon.conf.haha-backup /etc/avahi/avahi-daemon.conf; fi
            if [ -e \(SensorAddressSetup.avahiHosts) ]; then sed -i '/\\.local$/{/^\(spec.sensorAddress.vip?.address ?? "none")[[:space:]]/d}' \(SensorAddressSetup.avahiHosts); fi
            """, timeout: 60)
        if node.role == .data {
            let volume = "\(stack)_\(Renderer.Names.galeraVolume(node.name))"
            if try await runner.run(Command(["docker", "volume", "inspect", volume], timeout: 30)).succeeded {
                if purge {
                    try await runner.check(["docker", "volume", "rm", volume], timeout: 60)
                } else {
                    kept.append("\(node.name): Galera data in Docker volume \(volume)")
                }
            }
        }
        let mountPath = spec.storage.mountPath
        try await runner.shell(
            """
            if mountpoint -q \(shellQuote(mountPath)); then umount \(shellQuote(mountPath)) || umount -l \(shellQuote(mountPath)); fi
            if grep -qxF -e \(shellQuote(Storage.fstabMarker)) -e \(shellQuote(Storage.fstabLine(spec))) /etc/fstab; then
              cp -p /etc/fstab /etc/fstab.haha-tmp
              { grep -vxF \(shellQuote(Storage.fstabMarker)) /etc/fstab | grep -vxF \(shellQuote(Storage.fstabLine(spec))); } > /etc/fstab.haha-tmp || true
              sync /etc/fstab.haha-tmp && mv /etc/fstab.haha-tmp /etc/fstab
            fi
            rmdir \(shellQuote(mountPath)) 2>/dev/null || true
            """, timeout: 120)
        return kept
    }

    /// One node leaves the swarm haha made it join, and haha's own state on it goes (all of it with `purge`).
    static func leave(_ node: ClusterSpec.Node, _ runner: any CommandRunner, purge: Bool) async throws {
        if try await Marker.isSet(Marker.swarm, on: runner) {
            try await Self.leaveSwarm(node, runner)
            // Docker keeps stale overlay-network state after leaving a swarm; a later join then cannot attach
            // tasks to overlay networks ("rejoinClusterBootstrap unable to find local node info") until the
            // engine restarts. Restart it now (systemd, or the node's own supervisor when there is none).
            try await runner.shell(
                """
                if [ -d /run/systemd/system ]; then systemctl restart docker; else kill $(pidof dockerd); fi
                i=0; while [ $i -lt 60 ]; do sleep 1; docker info >/dev/null 2>&1 && exit 0; i=$((i+1)); done; exit 1
                """, timeout: 120, hint: "start the Docker engine on the node by hand")
            try await Self.leaveSwarm(node, runner)
        }
        if purge {
            for package in ["keepalived", "glusterfs-server"] where try await Marker.isSet(Marker.installed(package), on: runner) {
                _ = try await runner.run(
                    Command(["sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get remove -y \(package)"], timeout: 600))
            }
            try await runner.check(["rm", "-rf", "/var/lib/haha"], timeout: 120)
        } else {
            try await runner.check(["rm", "-rf", "/var/lib/haha/deploy", Marker.directory], timeout: 60)
        }
    }

    /// Leaves the swarm and reads the state back: a forced leave can time out or fail while the other managers leave at
    /// the same moment (CI once found a node still `active` after `haha down`), so it is repeated until Docker says
    /// `inactive`.
    static func leaveSwarm(_ node: ClusterSpec.Node, _ runner: any CommandRunner) async throws {
        try await waitUntil(
            "\(node.name) to leave the swarm", timeout: 300, interval: 3,
            next: "run `docker swarm leave --force` on \(node.name), then `haha down` again"
        ) { poll in
            let state = try await poll.on(runner).output(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"], timeout: 30)
            guard state != "inactive" else { return true }
            _ = try await runner.run(Command(["docker", "swarm", "leave", "--force"], timeout: 60))
            return false
        }
    }
}
