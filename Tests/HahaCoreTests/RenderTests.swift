import Foundation
import Testing
import Yams

@testable import HahaCore

/// Fixed secrets so rendered output is reproducible in golden files.
func fixedSecrets(_ spec: ClusterSpec) -> SecretValues {
    SecretValues(Dictionary(uniqueKeysWithValues: SecretCatalog.required(for: spec).map { ($0, "test-\($0)-0123456789") }))
}

enum RenderCase: String, CaseIterable, CustomTestStringConvertible {
    case vipMesh = "vip-mesh"
    case labProxy = "lab-proxy"
    case arbiterMdns = "arbiter-mdns-portainer"
    case labHostNetwork = "lab-host-network"
    /// The lab's spec with the original project's failover (`homeAssistant.failover: swarm`), for comparison.
    case labSwarmFailover = "lab-swarm-failover"

    var testDescription: String { rawValue }

    var spec: ClusterSpec {
        var spec = SpecLoader.load(yaml: baseYAML).spec!
        switch self {
        case .vipMesh:
            break
        case .labProxy:
            // The lab's own spec, exactly as `haha lab up` writes it.
            return LabLayout().spec(images: LabLayout.serviceImages)
        case .labHostNetwork:
            var lab = LabLayout().spec(images: LabLayout.serviceImages)
            lab.homeAssistant.hostNetwork = true
            return lab
        case .labSwarmFailover:
            var lab = LabLayout().spec(images: LabLayout.serviceImages)
            lab.homeAssistant.failover = .swarm
            return lab
        case .arbiterMdns:
            spec.nodes[2].role = .arbiter
            spec.sensorAddress = .mdnsHostname("hacluster")
            spec.portainer.enabled = true
            spec.homeAssistant.timeZone = "Europe/Bratislava"
        }
        return spec
    }
}

@Suite struct RenderTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    func render(_ spec: ClusterSpec) throws -> [RenderedFile] {
        try Renderer(spec: spec, secrets: fixedSecrets(spec)).render()
    }

    /// Every rendered file equals its golden copy. `HAHA_UPDATE_GOLDEN=1 swift test` rewrites them after a reviewed change.
    @Test(arguments: RenderCase.allCases)
    func renderedFilesMatchGoldenFiles(_ renderCase: RenderCase) throws {
        let files = try render(renderCase.spec)
        let directory = Self.golden.appendingPathComponent(renderCase.rawValue)
        let update = ProcessInfo.processInfo.environment["HAHA_UPDATE_GOLDEN"] == "1"
        if update { try? FileManager.default.removeItem(at: directory) }
        for file in files {
            let url = directory.appendingPathComponent(file.path)
            if update {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try file.contents.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try #require(
                try? String(contentsOf: url, encoding: .utf8), "no golden file \(url.path); run HAHA_UPDATE_GOLDEN=1 swift test")
            let got = file.contents.split(separator: "\n", omittingEmptySubsequences: false)
            let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, pair) in zip(got, want).enumerated() where pair.0 != pair.1 {
                Issue.record("\(renderCase.rawValue)/\(file.path):\(index + 1): got \"\(pair.0)\", golden has \"\(pair.1)\"")
                break
            }
            #expect(got.count == want.count, "\(file.path): \(got.count) lines, golden has \(want.count)")
        }
        // No golden file is left without a rendered twin.
        let goldenPaths =
            FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .map(\.path)
            .map { String($0.dropFirst(directory.path.count + 1)) } ?? []
        #expect(Set(goldenPaths) == Set(files.map(\.path)))
    }

    @Test func renderingIsDeterministic() throws {
        for renderCase in RenderCase.allCases {
            #expect(try render(renderCase.spec) == render(renderCase.spec))
        }
    }

    func stack(_ spec: ClusterSpec) throws -> [String: Any] {
        let text = try #require(try render(spec).first { $0.path == "stack.yml" }?.contents)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    // The original project's defects (CONTEXT.md), checked one by one on the rendered output.

    /// On the host's network Home Assistant keeps the names it uses on the overlay: `galera` is its node's member (3306
    /// published on the node, behind the firewall) and `mosquitto` its node's proxy; the proxy no longer serves 8123.
    @Test func homeAssistantOnTheHostNetworkReachesItsNodesDatabaseAndBroker() throws {
        let spec = RenderCase.labHostNetwork.spec
        let files = try render(spec)
        let stack = try stack(spec)
        let services = try #require(stack["services"] as? [String: [String: Any]])
        let ha = try #require(services["homeassistant"])
        #expect((ha["networks"] as? [String: Any]).map { Array($0.keys) } == ["hostnet"])
        #expect(ha["extra_hosts"] as? [String] == ["galera:127.0.0.1", "mosquitto:127.0.0.1"])
        #expect(ha["ports"] == nil)
        let networks = try #require(stack["networks"] as? [String: [String: Any]])
        #expect(networks["hostnet"]?["external"] as? Bool == true && networks["hostnet"]?["name"] as? String == "host")
        #expect(networks["hostnet"]?["driver"] == nil)
        for node in spec.dataNodes {
            let ports = try #require(services["galera-\(node.name)"]?["ports"] as? [[String: Any]])
            #expect(ports.compactMap { $0["published"] as? Int }.contains(3306))
        }
        let proxyPorts = try #require(services["proxy"]?["ports"] as? [[String: Any]]).compactMap { $0["published"] as? Int }
        #expect(proxyPorts == [spec.mqtt.port])
        let haproxy = try #require(files.first { $0.path == "haproxy/haproxy.cfg" }?.contents)
        #expect(!haproxy.contains("bind :8123") && haproxy.contains("backend mqtt_tasks"))
        let firewall = try #require(files.first { $0.path == GaleraFirewall.scriptFile }?.contents)
        #expect(firewall.contains("for port in 4567 4568 4444 4569 3306; do"))
        let configuration = try #require(files.first { $0.path == "homeassistant/configuration.yaml" }?.contents)
        #expect(configuration.contains("\nzeroconf:\nssdp:\ndhcp:\n"))

        // The overlay (the default) has none of it.
        let overlay = try render(RenderCase.labProxy.spec)
        #expect(overlay.first { $0.path == "homeassistant/configuration.yaml" }?.contents.contains("zeroconf") == false)
        #expect(overlay.first { $0.path == GaleraFirewall.scriptFile }?.contents.contains("3306") == false)
        #expect(GaleraFirewall.removal.contains("for port in 4567 4568 4444 4569 3306; do"))
    }

    @Test func galeraIsOneServicePerDataNodeWithNodeLocalVolumes() throws {
        let spec = RenderCase.arbiterMdns.spec
        let services = try #require(try stack(spec)["services"] as? [String: [String: Any]])
        let galera = services.keys.filter { $0.hasPrefix("galera-") }.sorted()
        #expect(galera == ["galera-n1", "galera-n2"])
        for name in galera {
            let service = try #require(services[name])
            let mounts = try #require(service["volumes"] as? [[String: Any]])
            #expect(mounts.count == 1)
            #expect(mounts[0]["type"] as? String == "volume")
            #expect(!(mounts[0]["source"] as? String ?? "").hasPrefix(spec.storage.mountPath))
            let deploy = try #require(service["deploy"] as? [String: Any])
            let constraints = (deploy["placement"] as? [String: Any])?["constraints"] as? [String]
            #expect(constraints == ["node.labels.haha.node == \(name.dropFirst("galera-".count))"])
        }
        let image = spec.images.mariadb
        let version = image.split(separator: ":").last.map(String.init) ?? ""
        let parts = version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count >= 2 && (parts[0] > 10 || (parts[0] == 10 && parts[1] >= 11)))
    }

    @Test func noIgnoredComposeKeysAndEveryServiceHasAHealthCheck() throws {
        for renderCase in RenderCase.allCases {
            let services = try #require(try stack(renderCase.spec)["services"] as? [String: [String: Any]])
            for (name, service) in services {
                #expect(service["container_name"] == nil && service["restart"] == nil && service["depends_on"] == nil, "\(name)")
                if !name.hasPrefix("portainer") {
                    #expect(service["healthcheck"] != nil, "\(renderCase.rawValue): \(name) has no health check")
                }
            }
        }
    }

    @Test func recorderURLComesFromSecretsYAMLNotPlaintext() throws {
        let spec = RenderCase.vipMesh.spec
        let files = try render(spec)
        let configuration = try #require(files.first { $0.path == "homeassistant/configuration.yaml" })
        #expect(configuration.contents.contains("db_url: !secret recorder_db_url"))
        #expect(!configuration.contents.contains("mysql://"))
        let secrets = try #require(files.first { $0.path == "secrets/homeassistant-secrets.yaml" })
        #expect(secrets.isSecret)
        #expect(secrets.contents.contains("mysql://homeassistant:test-recorder-password-0123456789@galera/homeassistant?charset=utf8mb4"))
        #expect(!configuration.contents.contains("mqtt:"))
    }

    @Test func noSecretValueAppearsInNonSecretFiles() throws {
        for renderCase in RenderCase.allCases {
            let spec = renderCase.spec
            let values = fixedSecrets(spec).all
            for file in try render(spec) where !file.isSecret {
                for value in values { #expect(!file.contents.contains(value), "\(file.path) contains a secret") }
            }
        }
    }

    @Test func mosquittoListensWithAuthAndSavesOnEveryChange() throws {
        let files = try render(RenderCase.vipMesh.spec)
        let conf = try #require(files.first { $0.path == "mosquitto/config/mosquitto.conf" }?.contents)
        for line in [
            "listener 1883", "allow_anonymous false", "password_file /run/secrets/mosquitto-passwd",
            "persistence true", "autosave_on_changes true", "autosave_interval 1",
        ] {
            #expect(conf.contains("\n\(line)\n"), "missing \(line)")
        }
        let passwd = try #require(files.first { $0.path == "secrets/mosquitto-passwd" }?.contents)
        #expect(passwd.split(separator: "\n").map { $0.split(separator: ":")[0] } == ["healthcheck", "homeassistant", "devices"])
    }

    @Test func sharedFilesLiveOnTheGlusterMountAndSecretsAreSwarmSecrets() throws {
        let spec = RenderCase.vipMesh.spec
        let services = try #require(try stack(spec)["services"] as? [String: [String: Any]])
        for name in ["homeassistant", "mosquitto"] {
            let mounts = try #require(services[name]?["volumes"] as? [[String: Any]])
            // Besides the shared volume, only the fence's node-local run directory (keepalived follows it).
            #expect(
                mounts.allSatisfy {
                    let source = $0["source"] as? String ?? ""
                    return source.hasPrefix(spec.storage.mountPath + "/") || (name == "homeassistant" && source == Fence.hostRunDirectory)
                })
            #expect(services[name]?["secrets"] != nil)
        }
        let top = try stack(spec)
        let secrets = try #require(top["secrets"] as? [String: [String: Any]])
        #expect(secrets.values.allSatisfy { ($0["file"] as? String ?? "").hasPrefix("./secrets/") })
    }

    @Test func databaseNetworkIsEncryptedUnlessTheSpecSaysNot() throws {
        let encrypted = try #require(try stack(RenderCase.vipMesh.spec)["networks"] as? [String: [String: Any]])
        #expect((encrypted["db"]?["driver_opts"] as? [String: Any])?["encrypted"] as? String == "true")
        let plain = try #require(try stack(RenderCase.labProxy.spec)["networks"] as? [String: [String: Any]])
        #expect(plain["db"]?["driver_opts"] == nil)
    }

    @Test func keepalivedHasOneConfigPerNodeWithUnicastPeers() throws {
        let files = try render(RenderCase.vipMesh.spec).filter { $0.path.hasPrefix("keepalived/") }
        #expect(files.map(\.path) == ["keepalived/n1.conf", "keepalived/n2.conf", "keepalived/n3.conf"])
        let n2 = files[1].contents
        #expect(n2.contains("unicast_src_ip 10.1.0.12"))
        #expect(n2.contains("    10.1.0.11\n    10.1.0.13\n"))
        #expect(n2.contains("10.1.0.50/24 dev eth0"))
        #expect(n2.contains("priority 190"))
    }
}

@Suite struct DeployPhaseTests {
    func services(_ phase: Renderer.DeployPhase) throws -> [String: [String: Any]] {
        let spec = RenderCase.vipMesh.spec
        let files = try Renderer(spec: spec, secrets: fixedSecrets(spec), phase: phase).render()
        let text = try #require(files.first { $0.path == "stack.yml" }?.contents)
        return try #require((try Yams.load(yaml: text) as? [String: Any])?["services"] as? [String: [String: Any]])
    }

    func replicas(_ service: [String: Any]?) -> Int? { (service?["deploy"] as? [String: Any])?["replicas"] as? Int }
    func command(_ service: [String: Any]?) -> [String] { service?["command"] as? [String] ?? [] }

    @Test func bootstrapRunsOnlyTheChosenMemberWithTheFlag() throws {
        let s = try services(.bootstrap(member: "n2"))
        #expect(command(s["galera-n2"]) == ["--wsrep-node-name=n2", "--wsrep-node-address=10.1.0.12", "--wsrep-new-cluster"])
        #expect(replicas(s["galera-n2"]) == 1)
        #expect(replicas(s["galera-n1"]) == 0 && replicas(s["galera-n3"]) == 0)
        #expect(replicas(s["homeassistant"]) == 0)
    }

    @Test func joiningStartsTheOthersAndKeepsTheFlagUntilTheyAreIn() throws {
        let s = try services(.joining(member: "n2"))
        #expect(command(s["galera-n2"]).contains("--wsrep-new-cluster"))
        #expect([s["galera-n1"], s["galera-n2"], s["galera-n3"]].allSatisfy { replicas($0) == 1 })
        #expect(!command(s["galera-n1"]).contains("--wsrep-new-cluster"))
        #expect(replicas(s["homeassistant"]) == 0)
    }

    @Test func steadyHasNoBootstrapFlagAnywhere() throws {
        let s = try services(.steady)
        #expect(s.values.allSatisfy { !command($0).contains("--wsrep-new-cluster") })
        #expect(replicas(s["homeassistant"]) == 1)
    }
}

extension DeployPhaseTests {
    /// After a power cut of every node no member is healthy, so Swarm's DNS names none of them: members must find
    /// each other at their nodes' addresses, on ports published on the node itself.
    @Test func galeraMembersMeetAtTheirNodesAddressesNotThroughSwarmDNS() throws {
        let spec = RenderCase.vipMesh.spec
        let files = try Renderer(spec: spec, secrets: fixedSecrets(spec)).render()
        let config = try #require(files.first { $0.path == "galera/galera.cnf" }?.contents)
        let addresses = spec.dataNodes.map(\.address)
        let names = spec.dataNodes.map { "galera-\($0.name)" }
        #expect(config.contains("wsrep_cluster_address = gcomm://\((addresses + names).joined(separator: ","))\n"))
        let s = try services(.steady)
        for node in spec.dataNodes {
            let service = s["galera-\(node.name)"]
            #expect(command(service).contains("--wsrep-node-address=\(node.address)"))
            let ports = (service?["ports"] as? [[String: Any]] ?? []).map { "\($0["published"] ?? "")/\($0["mode"] ?? "")" }
            #expect(ports == ["4567/host", "4568/host", "4444/host", "4569/host"])
        }
    }

    /// Swarm restarts a service whose spec changes: the bootstrap member must look the same in both phases.
    @Test func bootstrapMemberIsUnchangedBetweenBootstrapAndJoining() throws {
        let bootstrap = try services(.bootstrap(member: "n1"))["galera-n1"] as? NSDictionary
        let joining = try services(.joining(member: "n1"))["galera-n1"] as? NSDictionary
        #expect(bootstrap != nil && bootstrap == joining)
    }
}

/// Issue #9, least exposure: VRRP authentication, a Mosquitto ACL, Portainer's agent secret and network.
@Suite struct ExposureTests {
    func render(_ spec: ClusterSpec, secrets: SecretValues? = nil) throws -> [RenderedFile] {
        try Renderer(spec: spec, secrets: secrets ?? fixedSecrets(spec)).render()
    }

    func file(_ path: String, in files: [RenderedFile]) throws -> RenderedFile {
        try #require(files.first { $0.path == path }, "no \(path)")
    }

    func services(_ files: [RenderedFile]) throws -> [String: [String: Any]] {
        let text = try file("stack.yml", in: files).contents
        return try #require((try Yams.load(yaml: text) as? [String: Any])?["services"] as? [String: [String: Any]])
    }

    /// The ACL file as user → its `topic` lines.
    func acl(_ text: String) -> [String: [String]] {
        var rules: [String: [String]] = [:]
        var user = ""
        for line in text.split(separator: "\n").map(String.init) where !line.hasPrefix("#") {
            if line.hasPrefix("user ") {
                user = String(line.dropFirst("user ".count)); rules[user] = []
            } else {
                rules[user, default: []].append(line)
            }
        }
        return rules
    }

    /// Unicast peers: VRRP version 3 with adverts every 250 ms (a dead master is waited out in 0.8 s), no
    /// authentication (version 3 has none), adverts counted only from the peers.
    @Test func keepalivedWithUnicastPeersAdvertisesQuicklyAndChecksTheSource() throws {
        let confs = try render(RenderCase.vipMesh.spec).filter { $0.path.hasPrefix("keepalived/") }
        #expect(confs.count == 3)
        for conf in confs {
            #expect(conf.contents.contains("\n  version 3\n  advert_int 0.25\n"), "\(conf.contents)")
            #expect(!conf.contents.contains("authentication") && !conf.contents.contains("auth_pass"))
            #expect(conf.contents.contains("\n  check_unicast_src\n"))
        }
    }

    /// Multicast (a node known by host name only): version 2, an advert a second with an eight-character pass.
    @Test func keepalivedWithMulticastAuthenticatesWithAnEightCharacterPass() throws {
        var spec = RenderCase.vipMesh.spec
        spec.nodes[2].address = "n3.home.arpa"
        let secrets = fixedSecrets(spec)
        let confs = try render(spec).filter { $0.path.hasPrefix("keepalived/") }
        #expect(confs.count == 3)
        var passes = Set<String>()
        for conf in confs {
            #expect(conf.isSecret, "\(conf.path) holds the VRRP password: it must be written 0600")
            #expect(conf.contents.contains("\n  advert_int 1\n  authentication {\n    auth_type PASS\n    auth_pass "))
            #expect(!conf.contents.contains("unicast") && !conf.contents.contains("version 3"))
            let line = try #require(conf.contents.split(separator: "\n").first { $0.hasPrefix("    auth_pass ") })
            let pass = String(line.dropFirst("    auth_pass ".count))
            #expect(pass.count == 8 && pass.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "\(pass)")
            #expect(!secrets[SecretCatalog.vrrp].contains(pass), "the pass is derived, not a piece of the secret")
            passes.insert(pass)
        }
        #expect(passes.count == 1, "every node must use the same pass")
        // Another secret gives another pass.
        var other = Dictionary(uniqueKeysWithValues: SecretCatalog.required(for: spec).map { ($0, secrets[$0]) })
        other[SecretCatalog.vrrp] = "another-vrrp-secret-0123456789"
        let rerendered = try file("keepalived/n1.conf", in: render(spec, secrets: SecretValues(other)))
        #expect(!rerendered.contents.contains("auth_pass \(passes.first ?? "")"))
    }

    @Test func vrrpAndPortainerSecretsAreRequiredOnlyWhenUsed() {
        let vip = SecretCatalog.required(for: RenderCase.vipMesh.spec)
        #expect(vip.contains(SecretCatalog.vrrp) && !vip.contains(SecretCatalog.portainerAgent))
        let mdns = SecretCatalog.required(for: RenderCase.arbiterMdns.spec)
        #expect(!mdns.contains(SecretCatalog.vrrp) && mdns.contains(SecretCatalog.portainerAgent))
    }

    @Test func mosquittoNamesAnACLFileThatLetsHealthcheckOnlyReadSys() throws {
        let files = try render(RenderCase.vipMesh.spec)
        let conf = try file("mosquitto/config/mosquitto.conf", in: files).contents
        #expect(conf.contains("\nacl_file /run/secrets/mosquitto-acl\n"))
        let aclFile = try file("secrets/mosquitto-acl", in: files)
        #expect(aclFile.isSecret)
        let rules = acl(aclFile.contents)
        #expect(rules["healthcheck"] == ["topic read $SYS/#"])
        #expect(rules["homeassistant"] == ["topic readwrite #"])
        #expect(rules["devices"] == ["topic readwrite #"], "a user without rules keeps working as before")
        #expect(Set(rules.keys) == ["healthcheck", "homeassistant", "devices"])
        // Mounted where mosquitto.conf looks for it, owned by Mosquitto's user, like the password file.
        let secrets = try #require(try services(files)["mosquitto"]?["secrets"] as? [[String: Any]])
        let mounted = try #require(secrets.first { $0["target"] as? String == "mosquitto-acl" })
        #expect(mounted["uid"] as? String == "1883" && mounted["mode"] as? Int == 0o400)
    }

    @Test func mqttACLRulesFromTheSpecReplaceAUsersDefault() throws {
        let yaml =
            baseYAML + """

                mqtt:
                  users: [homeassistant, devices, sensors]
                  acl:
                    - {user: devices, access: readwrite, topic: "tele/+/state"}
                    - {user: devices, access: read, topic: "cmnd/#"}
                    - {user: devices, access: deny, topic: "$SYS/#"}
                """
        let spec = try #require(SpecLoader.load(yaml: yaml).spec)
        #expect(Validator.validate(spec).errors.isEmpty)
        let rules = acl(try file("secrets/mosquitto-acl", in: render(spec)).contents)
        #expect(rules["devices"] == ["topic readwrite tele/+/state", "topic read cmnd/#", "topic deny $SYS/#"])
        #expect(rules["sensors"] == ["topic readwrite #"])
        #expect(rules["homeassistant"] == ["topic readwrite #"])
        #expect(rules["healthcheck"] == ["topic read $SYS/#"])
    }

    @Test(arguments: [
        ("homeassistant", "a/b"), ("nobody", "a/b"), ("healthcheck", "a/b"), ("devices", "a/#/b"), ("devices", "a b"),
        ("devices", "a/b+"), ("devices", ""), ("devices", "a\nuser homeassistant"), ("devices", "a/b#"),
    ])
    func badMQTTACLRulesAreRefused(user: String, topic: String) throws {
        var spec = RenderCase.vipMesh.spec
        spec.mqtt.acl = [.init(user: user, access: .read, topic: topic)]
        #expect(!Validator.validate(spec).errors.isEmpty, "\(user) \(topic)")
    }

    @Test func mqttACLRuleWithAnUnknownAccessIsRefusedWhileLoading() {
        let loaded = SpecLoader.load(yaml: baseYAML + "\nmqtt:\n  acl:\n    - {user: devices, access: all, topic: \"#\"}\n")
        #expect(loaded.spec == nil && loaded.diagnostics.contains { $0.message.contains("\"all\" is not one of") })
    }

    @Test func portainerHasAnAgentSecretAndAnOwnNetwork() throws {
        let spec = RenderCase.arbiterMdns.spec
        let files = try render(spec)
        let stack = try file("stack.yml", in: files)
        #expect(stack.isSecret, "the stack file holds AGENT_SECRET: it must be written 0600")
        let services = try services(files)
        let secret = fixedSecrets(spec)[SecretCatalog.portainerAgent]
        for name in ["portainer-agent", "portainer"] {
            let service = try #require(services[name])
            #expect((service["environment"] as? [String: Any])?["AGENT_SECRET"] as? String == secret, "\(name)")
            let networks = try #require(service["networks"] as? [String: Any])
            #expect(Array(networks.keys) == [Renderer.Names.portainerNetwork], "\(name) must be on its own network only")
            #expect(networks[Renderer.Names.appNetwork] == nil && networks[Renderer.Names.databaseNetwork] == nil)
        }
        let homeAssistant = try #require(services["homeassistant"]?["networks"] as? [String: Any])
        #expect(homeAssistant[Renderer.Names.portainerNetwork] == nil)
        let top = try #require(try Yams.load(yaml: stack.contents) as? [String: Any])
        #expect((top["networks"] as? [String: Any])?[Renderer.Names.portainerNetwork] != nil)
        // Without Portainer, the stack file holds no secret and has no Portainer network.
        let plain = try file("stack.yml", in: render(RenderCase.vipMesh.spec))
        #expect(!plain.isSecret && !plain.contents.contains("portainer"))
    }
}
