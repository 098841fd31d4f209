import Foundation
import HahaCore

/// keepalived (VIP) or the original's avahi mode, installed on the nodes themselves.
public struct SensorAddressSetup: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    static let keepalivedConf = "/etc/keepalived/keepalived.conf"
    static let avahiHosts = "/etc/avahi/hosts"
    static let cronFile = "/etc/cron.d/haha-avahi-restart"
    static let marker = "haha"

    /// Restarts a service with systemd when the node has it, else with its init script.
    static func restart(_ service: String) -> String {
        // Without systemd, the init script's `restart` waits 1 s after `stop` and its `start` then fails while the old
        // daemon is still leaving (keepalived sends its goodbye adverts first): stop, wait until it is gone, start.
        "if [ -d /run/systemd/system ]; then systemctl enable \(service) >/dev/null 2>&1; systemctl restart \(service); "
            + "else service \(service) stop >/dev/null 2>&1; i=0; while pgrep -x \(service) >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
            + "service \(service) start; fi"
    }

    /// Makes a running keepalived read its configuration again (SIGHUP): the address stays where it is. Restarted,
    /// keepalived drops it first, and sensors lost the address for 1–3 s at each `haha node add` and `node remove`
    /// (seen on the lab). Without a running keepalived or its pid file: a restart.
    static let reloadKeepalived =
        "if pgrep -x keepalived >/dev/null && { if [ -d /run/systemd/system ]; then systemctl reload keepalived; "
        + "else kill -HUP \"$(cat /run/keepalived.pid 2>/dev/null)\" 2>/dev/null; fi; }; then :; else \(restart("keepalived")); fi"

    public func converge(files: [RenderedFile]) async throws -> Bool {
        let spec = cluster.spec
        let changes = try await cluster.onAll { node, runner in
            var changed = false
            switch spec.sensorAddress {
            case .none:
                break
            case .vip:
                guard let conf = files.first(where: { $0.path == "keepalived/\(node.name).conf" }) else { return false }
                let current = try await runner.run(Command(["cat", Self.keepalivedConf], timeout: 30))
                if current.output != conf.contents {
                    if try await runner.run(Command(["sh", "-c", "command -v keepalived"], timeout: 30)).succeeded == false {
                        try await runner.shell("DEBIAN_FRONTEND=noninteractive apt-get install -y keepalived", timeout: 600)
                        try await Marker.set(Marker.installed("keepalived"), on: runner)
                    }
                    let ours = current.succeeded && current.output.contains("rendered by haha")
                    if current.succeeded, !ours {
                        // Someone else's keepalived configuration: keep it beside ours.
                        try await runner.shell("cp -n \(Self.keepalivedConf) \(Self.keepalivedConf).haha-backup", timeout: 30)
                    }
                    try await cluster.write(conf.contents, to: Self.keepalivedConf, mode: conf.isSecret ? "0600" : "0644", on: runner)
                    // keepalived runs on with a check it refuses (a script it deems insecure is disabled, and the address
                    // would then follow no lease): its own config test decides before it reads the file.
                    let test = try await runner.run(Command(["keepalived", "-t", "-f", Self.keepalivedConf], timeout: 30))
                    if !test.succeeded {
                        // Kept for a look, and the file as it was put back, so that the next haha up tests it again.
                        _ = try await runner.run(Command(["cp", Self.keepalivedConf, "\(Self.keepalivedConf).haha-refused"], timeout: 30))
                        if current.succeeded {
                            try await cluster.write(current.output, to: Self.keepalivedConf, mode: "0600", on: runner)
                        } else {
                            _ = try await runner.run(Command(["rm", "-f", Self.keepalivedConf], timeout: 30))
                        }
                        throw HahaError(
                            .failed,
                            "keepalived on \(node.name) refuses the configuration haha rendered for it (`keepalived -t -f \(Self.keepalivedConf).haha-refused`, exit \(test.exitCode)): \(test.tail(lines: 3).trimmingCharacters(in: .whitespacesAndNewlines))",
                            next:
                                "keepalived and \(Self.keepalivedConf) are as they were; report this with keepalived's version (`keepalived -v`)"
                        )
                    }
                    // Ours changed (a node added or removed): reload, so that the holder keeps the address.
                    try await runner.shell(ours ? Self.reloadKeepalived : Self.restart("keepalived"), timeout: 60)
                    changed = true
                } else if try await runner.run(Command(["pgrep", "-x", "keepalived"], timeout: 30)).exitCode == 1 {
                    // Configured but not running (a node that booted without starting it): start it.
                    try await runner.shell(Self.restart("keepalived"), timeout: 60)
                    changed = true
                }
                if let hosts = files.first(where: { $0.path == "avahi/hosts" }) {
                    let line = hosts.contents.split(separator: "\n").last { !$0.hasPrefix("#") }.map(String.init) ?? ""
                    let present = try await runner.run(Command(["grep", "-qxF", line, Self.avahiHosts], timeout: 30)).succeeded
                    if !present, try await runner.run(Command(["test", "-d", "/etc/avahi"], timeout: 30)).succeeded {
                        try await runner.shell(
                            "printf '%s\\n' \(shellQuote(line)) >> \(Self.avahiHosts) && (\(Self.restart("avahi-daemon"))) || true",
                            timeout: 60)
                        changed = true
                    }
                }
            case .mdnsHostname(let name):
                guard let cron = files.first(where: { $0.path == "avahi/haha-avahi-restart.cron" }) else { return false }
                let conf = "/etc/avahi/avahi-daemon.conf"
                if try await !runner.run(Command(["grep", "-qx", "host-name=\(name)", conf], timeout: 30)).succeeded {
                    try await runner.shell(
                        "cp -n \(conf) \(conf).haha-backup && sed -i 's/^#*host-name=.*/host-name=\(name)/' \(conf) && grep -qx 'host-name=\(name)' \(conf) || sed -i '/^\\[server\\]/a host-name=\(name)' \(conf); \(Self.restart("avahi-daemon"))",
                        timeout: 60)
                    changed = true
                }
                let current = try await runner.run(Command(["cat", Self.cronFile], timeout: 30))
                if current.output != cron.contents {
                    try await cluster.write(cron.contents, to: Self.cronFile, mode: "0644", on: runner)
                    changed = true
                }
            }
            return changed
        }
        return changes.values.contains(true)
    }
}
