import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

extension RenderingSteps {
    /// keepalived and avahi on scripted nodes: a fresh node gets the package, its own configuration and the mDNS line;
    /// the same nodes, now configured, see no changing command on a second run.
    @Suite struct SensorAddressTests {
        static let keepalived = "/etc/keepalived/keepalived.conf"

        static func files(_ spec: ClusterSpec) throws -> [RenderedFile] {
            try Renderer(spec: spec, secrets: SecretValues([:]), phase: .steady).render()
        }

        /// Nodes where files read back what haha wrote, keepalived exists once installed, and /etc/avahi/hosts holds
        /// the lines appended to it. `existing` is a keepalived.conf found before haha.
        static func nodes(_ spec: ClusterSpec, existing: String? = nil) -> (Cluster, [String: ScriptedRunner]) {
            Fixtures.cluster(spec) { _, runner in
                for path in [keepalived, SensorAddressSetup.cronFile] {
                    runner.on({ $0 == ["cat", path] }) { _ in
                        if let written = runner.written(path) { return .scripted(stdout: written) }
                        if path == keepalived, let existing { return .scripted(stdout: existing) }
                        return .scripted(exit: 1, stderr: "cat: \(path): No such file or directory\n")
                    }
                }
                runner.on({ $0 == ["sh", "-c", "command -v keepalived"] }) { _ in
                    runner.ran("apt-get install -y keepalived") ? .scripted(stdout: "/usr/sbin/keepalived\n") : .scripted(exit: 1)
                }
                runner.on({ $0.starts(with: ["grep", "-qxF"]) && $0.last == SensorAddressSetup.avahiHosts }) { command in
                    runner.ran("printf '%s\\n' '\(command.arguments[2])' >> /etc/avahi/hosts") ? .scripted() : .scripted(exit: 1)
                }
                runner.on({ $0.starts(with: ["grep", "-qx"]) && $0.last == "/etc/avahi/avahi-daemon.conf" }) { _ in
                    runner.ran("sed -i 's/^#*host-name=.*/host-name=") ? .scripted() : .scripted(exit: 1)
                }
            }
        }

        static let vipSpec = Fixtures.spec { $0.sensorAddress = .vip(.init(address: "10.1.0.50", mdnsName: "homeassistant")) }

        @Test func aFreshNodeGetsKeepalivedItsOwnConfigurationAndTheMDNSLineAndASecondRunChangesNothing() async throws {
            let files = try Self.files(Self.vipSpec)
            let (cluster, runners) = Self.nodes(Self.vipSpec)
            let setup = SensorAddressSetup(cluster: cluster)
            #expect(try await setup.converge(files: files) == true)
            for (name, runner) in runners {
                let own = try #require(files.first { $0.path == "keepalived/\(name).conf" })
                #expect(runner.written(Self.keepalived) == own.contents, "\(name) got another node's configuration")
                let changes = Changing.commands([name: runner], Changing.sensorAddress).map { String($0.prefix(70)) }
                #expect(changes.count == 5, "\(changes)")
                let scripts = runner.commands.compactMap(\.arguments.last)
                let install = scripts.firstIndex { $0 == "DEBIAN_FRONTEND=noninteractive apt-get install -y keepalived" }
                let marker = scripts.firstIndex { $0 == "mkdir -p /var/lib/haha/state && touch /var/lib/haha/state/installed-keepalived" }
                let write = scripts.firstIndex { $0.contains("cat > \(Self.keepalived).haha-tmp && chmod 0600") }
                let restart = scripts.firstIndex { $0 == SensorAddressSetup.restart("keepalived") }
                let avahi = scripts.firstIndex { $0.hasPrefix("printf '%s\\n' '10.1.0.50 homeassistant.local' >> /etc/avahi/hosts") }
                let order = [install, marker, write, restart, avahi]
                #expect(order.allSatisfy { $0 != nil } && order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(name): \(order)")
                // No configuration of someone else was found, so none is kept aside.
                #expect(!runner.ran("haha-backup"))
            }

            let before = Changing.commands(runners, Changing.sensorAddress)
            #expect(try await setup.converge(files: files) == false)
            #expect(Changing.commands(runners, Changing.sensorAddress) == before)
        }

        @Test func someoneElsesKeepalivedConfigurationIsKeptBesideOurs() async throws {
            let (cluster, runners) = Self.nodes(Self.vipSpec, existing: "vrrp_instance VI_1 {\n    state MASTER\n}\n")
            _ = try await SensorAddressSetup(cluster: cluster).converge(files: try Self.files(Self.vipSpec))
            for runner in runners.values {
                let scripts = runner.commands.compactMap(\.arguments.last)
                let backup = try #require(scripts.firstIndex { $0 == "cp -n \(Self.keepalived) \(Self.keepalived).haha-backup" })
                let write = try #require(scripts.firstIndex { $0.contains("cat > \(Self.keepalived).haha-tmp") })
                #expect(backup < write)
            }
        }

        /// A configuration of ours that changed (another peer list) is reloaded, not restarted: keepalived keeps the address.
        @Test func ourChangedConfigurationIsReloadedNotRestarted() async throws {
            let (cluster, runners) = Self.nodes(
                Self.vipSpec, existing: "# keepalived on n1, rendered by haha.\nvrrp_instance haha_sensors {\n}\n")
            #expect(try await SensorAddressSetup(cluster: cluster).converge(files: try Self.files(Self.vipSpec)) == true)
            for runner in runners.values {
                let scripts = runner.commands.compactMap(\.arguments.last)
                let write = try #require(scripts.firstIndex { $0.contains("cat > \(Self.keepalived).haha-tmp") })
                let reload = try #require(scripts.firstIndex { $0 == SensorAddressSetup.reloadKeepalived })
                #expect(write < reload)
                #expect(!scripts.contains(SensorAddressSetup.restart("keepalived")) && !runner.ran("haha-backup"))
            }
            let syntax = try await LocalRunner().run(Command(["sh", "-n", "-c", SensorAddressSetup.reloadKeepalived], timeout: 10))
            #expect(syntax.exitCode == 0, "\(syntax.errorOutput)")
        }

        @Test func mdnsHostnameModeSetsTheHostNameAndTheCronJobOnceEach() async throws {
            let spec = Fixtures.spec { $0.sensorAddress = .mdnsHostname("homeassistant") }
            let files = try Self.files(spec)
            let (cluster, runners) = Self.nodes(spec)
            let setup = SensorAddressSetup(cluster: cluster)
            #expect(try await setup.converge(files: files) == true)
            let cron = try #require(files.first { $0.path == "avahi/haha-avahi-restart.cron" })
            for runner in runners.values {
                #expect(runner.written(SensorAddressSetup.cronFile) == cron.contents)
                #expect(
                    runner.commands.filter { $0.arguments.last?.contains("sed -i 's/^#*host-name=.*/host-name=homeassistant/'") == true }
                        .count == 1)
                #expect(!runner.ran("keepalived"))
            }
            let before = Changing.commands(runners, Changing.sensorAddress)
            #expect(try await setup.converge(files: files) == false)
            #expect(Changing.commands(runners, Changing.sensorAddress) == before)
        }

        @Test func noSensorAddressTouchesNothing() async throws {
            let spec = Fixtures.spec()
            let (cluster, runners) = Self.nodes(spec)
            #expect(try await SensorAddressSetup(cluster: cluster).converge(files: try Self.files(spec)) == false)
            #expect(runners.values.allSatisfy { $0.commands.isEmpty })
        }

        /// A configuration keepalived's own test refuses (it disables a check it deems insecure, and the address would
        /// follow no lease) stops haha up on that node before keepalived reads it.
        @Test func aConfigurationKeepalivedRefusesIsNeverLoaded() async throws {
            let (cluster, runners) = Self.nodes(Self.vipSpec)
            let n2 = try #require(runners["n2"])
            n2.on({ $0 == ["keepalived", "-t", "-f", Self.keepalived] }) { _ in
                .scripted(exit: 5, stderr: "Disabling track script haha_active due to insecure\n")
            }
            await #expect {
                try await SensorAddressSetup(cluster: cluster).converge(files: try Self.files(Self.vipSpec))
            } throws: { error in
                "\(error)".contains("keepalived on n2 refuses the configuration") && "\(error)".contains("due to insecure")
            }
            #expect(!n2.ran(SensorAddressSetup.restart("keepalived")) && !n2.ran(SensorAddressSetup.reloadKeepalived))
            // Put aside for a look; the node had no configuration before, so none stays (the next run tests again).
            #expect(n2.ran("cp \(Self.keepalived) \(Self.keepalived).haha-refused") && n2.ran("rm -f \(Self.keepalived)"))
            #expect(try #require(runners["n1"]).ran("keepalived -t -f \(Self.keepalived)"))
        }

        /// keepalived's check, run for real: the address may only follow a flag the fence touched within the last
        /// 3 s; a missing flag, or one left behind by a power cut (or aged by a freeze), fails the check.
        @Test func theAddressFollowsOnlyAFreshFlag() async throws {
            let conf = try #require(try Self.files(Self.vipSpec).first { $0.path == "keepalived/n1.conf" }).contents
            let line = try #require(conf.split(separator: "\n").first { $0.hasPrefix("  script ") }, "no check script")
            let prefix = "  script \"/usr/bin/sh -c '", suffix = "'\""
            try #require(line.hasPrefix(prefix) && line.hasSuffix(suffix), "\(line)")
            let directory = try Fixtures.scratchDirectory("haha-active")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let check = String(line.dropFirst(prefix.count).dropLast(suffix.count))
                .replacingOccurrences(of: Fence.hostRunDirectory, with: directory)
            func passes(_ setUp: String) async throws -> Bool {
                try await LocalRunner().run(Command(["sh", "-c", "\(setUp); \(check)"], timeout: 20)).succeeded
            }
            #expect(try await passes("rm -f \(directory)/active") == false)
            #expect(try await passes("touch \(directory)/active") == true)
            #expect(try await passes("touch -d '-2 seconds' \(directory)/active") == true)
            #expect(try await passes("touch -d '-5 seconds' \(directory)/active") == false)
            #expect(try await passes("touch -d '-1 hour' \(directory)/active") == false)
        }
    }
}
