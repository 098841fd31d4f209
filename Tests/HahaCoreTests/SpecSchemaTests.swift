import Foundation
import Testing
@testable import HahaCore

/// Specs that `SpecWriter` writes, pinned byte for byte in `Fixtures/spec-writer/NAME.yaml`.
enum WriterCase: String, CaseIterable, CustomTestStringConvertible {
    case vipMesh = "vip-mesh"
    case labProxy = "lab-proxy"
    case arbiterMdns = "arbiter-mdns-portainer"
    /// Every optional field set to something other than its default.
    case everyField = "every-field"

    var testDescription: String { rawValue }

    var spec: ClusterSpec {
        switch self {
        case .vipMesh: return RenderCase.vipMesh.spec
        case .labProxy: return RenderCase.labProxy.spec
        case .arbiterMdns: return RenderCase.arbiterMdns.spec
        case .everyField:
            var spec = RenderCase.arbiterMdns.spec
            spec.name = "every"
            spec.secretsDir = "../my secrets"
            spec.knownHostsFile = "ssh/known_hosts"
            spec.nodes[0].port = 2222
            spec.nodes[0].user = "pi"
            spec.nodes[1].identityFile = "~/.ssh/id ed25519"
            spec.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: 22, interface: "enp1s0", mdnsName: "ha"))
            spec.routing = .proxy
            spec.storage = { var s = ClusterSpec.Storage(); s.volume = "vol"; s.brickPath = "/srv/brick"; s.mountPath = "/srv/shared"; s.pingTimeout = 9; return s }()
            spec.database.clusterName = "galera"
            spec.database.name = "ha"
            spec.database.user = "recorder"
            spec.database.gcacheSize = "256M"
            spec.database.bufferPoolSize = "64M"
            spec.database.memoryLimit = "1G"
            spec.database.encryptedNetwork = false
            spec.mqtt.port = 8883
            spec.mqtt.users = ["homeassistant", "esp", "zigbee"]
            spec.mqtt.acl = [.init(user: "esp", access: .readwrite, topic: "esp/#"), .init(user: "zigbee", access: .deny, topic: "+/secret")]
            spec.homeAssistant.name = "Our \"home\""
            spec.homeAssistant.port = 80
            spec.homeAssistant.memoryLimit = "2G"
            spec.homeAssistant.recorderScheme = "mysql+pymysql"
            spec.images.homeAssistant = "10.1.0.1:5000/ha:1"
            spec.images.mariadb = "mariadb:11.4"
            spec.images.mosquitto = "eclipse-mosquitto:2.0.20"
            spec.images.haproxy = "haproxy:3.0"
            spec.images.portainer = "portainer/portainer-ce:2.30.0"
            spec.images.portainerAgent = "portainer/agent:2.30.0"
            spec.portainer.port = 9000
            return spec
        }
    }
}

@Suite struct SpecSchemaTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/spec-writer")

    /// `SpecWriter` writes every case exactly as pinned (`HAHA_UPDATE_GOLDEN=1` rewrites the files after a reviewed change),
    /// and what it writes reads back as the same spec.
    @Test(arguments: WriterCase.allCases)
    func writerOutputMatchesItsPinnedCopy(_ writerCase: WriterCase) throws {
        let text = SpecWriter.yaml(writerCase.spec, header: ["pinned"])
        let url = Self.fixtures.appendingPathComponent("\(writerCase.rawValue).yaml")
        if ProcessInfo.processInfo.environment["HAHA_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.fixtures, withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let pinned = try #require(try? String(contentsOf: url, encoding: .utf8), "no \(url.path); run HAHA_UPDATE_GOLDEN=1")
        #expect(text == pinned)
        let loaded = SpecLoader.load(yaml: text)
        #expect(loaded.diagnostics.isEmpty)
        #expect(loaded.spec == writerCase.spec)
    }

    /// Issue #11: a spec written by haha kept no `mqtt.acl`. Load → write → load keeps the rules and every other field.
    @Test func aclRulesSurviveWritingAndReadingBack() throws {
        let yaml = baseYAML + """

            mqtt:
              users: [homeassistant, esp, panel]
              acl:
                - user: esp
                  access: write
                  topic: "sensors/esp/#"
                - user: panel
                  access: read
                  topic: sensors/+/state
                - user: panel
                  access: deny
                  topic: "#"
            storage:
              pingTimeout: 7
            """
        let first = try #require(SpecLoader.load(yaml: yaml).spec)
        #expect(first.mqtt.acl.count == 3)
        let written = SpecWriter.yaml(first)
        #expect(written.contains("  acl:\n    - user: esp\n      access: write\n      topic: \"sensors/esp/#\"\n"))
        let second = SpecLoader.load(yaml: written)
        #expect(second.diagnostics.isEmpty)
        #expect(second.spec == first)
        #expect(second.spec?.mqtt.acl == first.mqtt.acl)
    }
}
