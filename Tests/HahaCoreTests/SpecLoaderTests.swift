import Testing

@testable import HahaCore

/// A valid three-node spec; tests edit a copy of it.
let baseYAML = """
    apiVersion: haha/v1
    name: home
    nodes:
      - name: n1
        address: 10.1.0.11
      - name: n2
        address: 10.1.0.12
      - name: n3
        address: 10.1.0.13
    sensorAddress:
      mode: vip
      address: 10.1.0.50/24
      interface: eth0
    """

@Suite struct SpecLoaderTests {
    @Test func defaultsAreFilledIn() throws {
        let loaded = SpecLoader.load(yaml: baseYAML)
        let spec = try #require(loaded.spec)
        #expect(loaded.diagnostics.isEmpty)
        #expect(spec.nodes.map(\.name) == ["n1", "n2", "n3"])
        #expect(spec.nodes.allSatisfy { $0.user == "root" && $0.port == 22 && $0.role == .data })
        #expect(spec.database.gcacheSize == "128M")
        #expect(spec.database.bufferPoolSize == "128M")
        #expect(spec.images.homeAssistant == "ghcr.io/home-assistant/home-assistant:2026.11.0")
        #expect(spec.images.mariadb == "mariadb:11.8")
        #expect(spec.images.mosquitto == "eclipse-mosquitto:2")
        #expect(spec.portainer.enabled == false)
        #expect(spec.sensorAddress == .vip(.init(address: "10.1.0.50", prefixLength: 24, interface: "eth0")))
    }

    @Test func sshDefaultsApplyToNodesUnlessOverridden() throws {
        let yaml = baseYAML.replacingOccurrences(of: "nodes:\n", with: "ssh:\n  user: pi\n  port: 2222\nnodes:\n")
            .replacingOccurrences(of: "    address: 10.1.0.13", with: "    address: 10.1.0.13\n    user: admin")
        let spec = try #require(SpecLoader.load(yaml: yaml).spec)
        #expect(spec.nodes.map(\.user) == ["pi", "pi", "admin"])
        #expect(spec.nodes.map(\.port) == [2222, 2222, 2222])
    }

    @Test func malformedYAMLGivesLineAndColumn() {
        let loaded = SpecLoader.load(yaml: "apiVersion: haha/v1\nnodes:\n  - name: n1\n   address: [unclosed\n")
        #expect(loaded.spec == nil)
        #expect(loaded.diagnostics.count == 1)
        #expect(loaded.diagnostics.first?.line == 4)
        #expect(loaded.diagnostics.first?.message.hasPrefix("invalid YAML") == true)
    }

    @Test func wrongTypesAreReportedWithPaths() {
        let yaml = baseYAML + "\nmqtt:\n  port: eighteen\nportainer:\n  enabled: maybe\n"
        let loaded = SpecLoader.load(yaml: yaml)
        #expect(loaded.spec == nil)
        #expect(loaded.diagnostics.map(\.path).sorted() == ["mqtt.port", "portainer.enabled"])
        #expect(loaded.diagnostics.allSatisfy { $0.line != nil })
    }

    @Test func missingAPIVersionIsAnError() {
        let loaded = SpecLoader.load(yaml: baseYAML.replacingOccurrences(of: "apiVersion: haha/v1\n", with: ""))
        #expect(loaded.diagnostics.contains { $0.path == "apiVersion" && $0.severity == .error })
    }

    @Test func writerOutputReadsBackTheSameSpec() throws {
        var spec = try #require(SpecLoader.load(yaml: baseYAML).spec)
        spec.nodes[2].role = .arbiter
        spec.nodes[0].identityFile = "~/.ssh/id ed25519"
        spec.homeAssistant.name = "Our \"home\""
        spec.mqtt.users = ["homeassistant", "esp"]
        let text = SpecWriter.yaml(spec)
        #expect(SpecLoader.load(yaml: text).spec == spec)
    }
}
