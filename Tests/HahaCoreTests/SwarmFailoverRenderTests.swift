import Foundation
import Testing
import Yams

@testable import HahaCore

/// `homeAssistant.failover: swarm` renders the original project's failover, for comparison: Swarm alone restarts one
/// Home Assistant and one broker running their images' own commands, and keepalived follows no lease.
@Suite struct SwarmFailoverRenderTests {
    static func spec(routing: ClusterSpec.Routing = .proxy) -> ClusterSpec {
        var spec = RenderCase.labSwarmFailover.spec
        spec.routing = routing
        return spec
    }

    func render(_ spec: ClusterSpec, phase: Renderer.DeployPhase = .steady) throws -> [RenderedFile] {
        try Renderer(spec: spec, secrets: fixedSecrets(spec), phase: phase).render()
    }

    func services(_ spec: ClusterSpec, phase: Renderer.DeployPhase = .steady) throws -> [String: [String: Any]] {
        let text = try #require(try render(spec, phase: phase).first { $0.path == "stack.yml" }?.contents)
        return try #require((try Yams.load(yaml: text) as? [String: Any])?["services"] as? [String: [String: Any]])
    }

    func deploy(_ service: [String: Any]?) -> [String: Any] { service?["deploy"] as? [String: Any] ?? [:] }

    @Test(arguments: [ClusterSpec.Routing.proxy, .mesh])
    func homeAssistantIsOneReplicaOfTheImagesOwnCommandWithAnHTTPCheck(_ routing: ClusterSpec.Routing) throws {
        let spec = Self.spec(routing: routing)
        let ha = try #require(try services(spec)["homeassistant"])
        #expect(ha["entrypoint"] == nil && ha["command"] == nil && ha["configs"] == nil)
        #expect(ha["init"] == nil, "the image's own entrypoint (s6-overlay upstream) must be PID 1")
        #expect((ha["environment"] as? [String: String]) == ["TZ": spec.homeAssistant.timeZone])
        let mounts = try #require(ha["volumes"] as? [[String: Any]])
        #expect(mounts.map { $0["source"] as? String } == ["\(spec.storage.mountPath)/homeassistant"])
        #expect(mounts.map { $0["target"] as? String } == ["/config"])
        #expect((ha["secrets"] as? [[String: Any]])?.first?["target"] as? String == "/config/secrets.yaml")
        #expect(deploy(ha)["mode"] as? String == "replicated" && deploy(ha)["replicas"] as? Int == 1)
        #expect((deploy(ha)["placement"] as? [String: Any])?["constraints"] as? [String] == ["node.labels.haha.role == data"])
        let test = try #require((ha["healthcheck"] as? [String: Any])?["test"] as? [String])
        #expect(test.prefix(3) == ["CMD", "python3", "-c"])
        #expect(test.last?.contains("http://127.0.0.1:8123/manifest.json") == true)
        #expect(Renderer.homeAssistantMode(spec) == "replicated")
        // Database and broker wiring as with the fence.
        var fenced = spec
        fenced.homeAssistant.failover = .fenced
        let withFence = try #require(try services(fenced)["homeassistant"])
        #expect((ha["networks"] as? NSDictionary) == (withFence["networks"] as? NSDictionary))
        #expect((ha["ports"] as? NSArray) == (withFence["ports"] as? NSArray))
        #expect((ha["secrets"] as? NSArray) == (withFence["secrets"] as? NSArray))
    }

    @Test(arguments: [ClusterSpec.Routing.proxy, .mesh])
    func theBrokerIsOneReplicaWithoutItsGuard(_ routing: ClusterSpec.Routing) throws {
        let spec = Self.spec(routing: routing)
        let files = try render(spec)
        let broker = try #require(try services(spec)["mosquitto"])
        #expect(broker["entrypoint"] == nil && broker["command"] == nil && broker["configs"] == nil)
        #expect(deploy(broker)["mode"] as? String == "replicated" && deploy(broker)["replicas"] as? Int == 1)
        let mounts = try #require(broker["volumes"] as? [[String: Any]]).compactMap { $0["source"] as? String }
        #expect(!mounts.contains(Fence.hostRunDirectory))
        #expect(!Renderer.brokerFollowsLease(spec) && Renderer.brokerMode(spec) == "replicated")
        #expect(!files.contains { $0.path == "fence/haha-fence.py" || $0.path == "mosquitto/haha-broker.sh" })
    }

    /// Before the database is synced nothing of Home Assistant runs: one replica scaled to 0, as with the mesh.
    @Test func bootstrapPhasesScaleHomeAssistantToZero() throws {
        for phase in [Renderer.DeployPhase.bootstrap(member: "n1"), .joining(member: "n1")] {
            let ha = try #require(try services(Self.spec(), phase: phase)["homeassistant"])
            #expect(deploy(ha)["replicas"] as? Int == 0)
            #expect((deploy(ha)["placement"] as? [String: Any])?["constraints"] as? [String] == ["node.labels.haha.role == data"])
        }
    }

    /// keepalived as stock: the live node of highest priority holds the address and takes it back; no lease check.
    @Test func keepalivedFailsOverByPriorityAlone() throws {
        let confs = try render(Self.spec()).filter { $0.path.hasPrefix("keepalived/") }
        #expect(confs.count == 3)
        for conf in confs.map(\.contents) {
            #expect(!conf.contains("vrrp_script") && !conf.contains("track_script") && !conf.contains("nopreempt"))
            #expect(!conf.contains(Fence.hostRunDirectory))
            #expect(conf.contains("  state BACKUP\n") && conf.contains("virtual_ipaddress {"))
        }
        #expect(confs[0].contents.contains("priority 200") && confs[2].contents.contains("priority 180"))
        let fenced = try render(RenderCase.labProxy.spec).filter { $0.path.hasPrefix("keepalived/") }
        #expect(fenced.allSatisfy { $0.contents.contains("track_script") && $0.contents.contains("nopreempt") })
    }

    @Test func renderAndUpSayTheModeIsForComparison() {
        #expect(Renderer.failoverNotice(RenderCase.labProxy.spec) == nil)
        let notice = Renderer.failoverNotice(Self.spec())
        #expect(notice?.contains("for comparison") == true && notice?.contains("no fence") == true)
        #expect(notice?.contains("\n") == false)
    }

    /// With the host's network the VIP does not follow Home Assistant without the fence: a warning, not an error.
    @Test func hostNetworkWithoutTheFenceIsWarnedAbout() {
        var spec = Self.spec()
        spec.homeAssistant.hostNetwork = true
        let diagnostics = Validator.validate(spec)
        #expect(!diagnostics.hasErrors)
        #expect(diagnostics.contains { $0.path == "homeAssistant.failover" && $0.severity == .warning })
        #expect(!Validator.validate(Self.spec()).contains { $0.path == "homeAssistant.failover" })
    }
}

/// The field reads, validates and writes back.
@Suite struct FailoverFieldTests {
    @Test func failoverIsFencedUnlessTheSpecSaysSwarm() throws {
        let plain = try #require(SpecLoader.load(yaml: baseYAML).spec)
        #expect(plain.homeAssistant.failover == .fenced && plain.fenced)
        let yaml = baseYAML + "\nhomeAssistant:\n  failover: swarm\n"
        let loaded = SpecLoader.load(yaml: yaml)
        let spec = try #require(loaded.spec)
        #expect(spec.homeAssistant.failover == .swarm && !spec.fenced)
        #expect(!Validator.validate(spec).hasErrors)
        let written = SpecWriter.yaml(spec)
        #expect(written.contains("\n  failover: swarm\n"))
        #expect(SpecLoader.load(yaml: written).spec == spec)
    }

    @Test func anUnknownModeIsAnErrorNamingTheChoices() throws {
        let loaded = SpecLoader.load(yaml: baseYAML + "\nhomeAssistant:\n  failover: keepalived\n")
        #expect(loaded.spec == nil)
        let problem = try #require(loaded.diagnostics.first { $0.path == "homeAssistant.failover" })
        #expect(problem.message.contains("fenced") && problem.message.contains("swarm"))
    }
}
