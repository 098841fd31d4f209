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
            spec.storage = {
                var s = ClusterSpec.Storage(); s.volume = "vol"; s.brickPath = "/srv/brick"; s.mountPath = "/srv/shared"; s.pingTimeout = 9;
                return s
            }()
            spec.database.clusterName = "galera"
            spec.database.name = "ha"
            spec.database.user = "recorder"
            spec.database.gcacheSize = "256M"
            spec.database.bufferPoolSize = "64M"
            spec.database.memoryLimit = "1G"
            spec.database.encryptedNetwork = false
            spec.mqtt.port = 8883
            spec.mqtt.users = ["homeassistant", "esp", "zigbee"]
            spec.mqtt.acl = [
                .init(user: "esp", access: .readwrite, topic: "esp/#"), .init(user: "zigbee", access: .deny, topic: "+/secret"),
            ]
            spec.homeAssistant.name = "Our \"home\""
            spec.homeAssistant.port = 80
            spec.homeAssistant.memoryLimit = "2G"
            spec.homeAssistant.recorderScheme = "mysql+pymysql"
            spec.homeAssistant.failover = .swarm
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
        let yaml =
            baseYAML + """

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

    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        .standardizedFileURL
    static let begin =
        "<!-- spec-fields:begin (generated from SpecSchema.fields; HAHA_UPDATE_README=1 swift test --filter SpecSchema) -->\n"
    static let end = "<!-- spec-fields:end -->"

    /// The README's field table is the one generated from the schema. `HAHA_UPDATE_README=1 swift test --filter SpecSchema`
    /// rewrites it after a change to `SpecSchema.fields`.
    @Test func readmeFieldTableIsGeneratedFromTheSchema() throws {
        var text = try String(contentsOf: Self.readme, encoding: .utf8)
        let start = try #require(text.range(of: Self.begin), "README.md has no \(Self.begin)")
        let stop = try #require(text.range(of: Self.end, range: start.upperBound..<text.endIndex), "README.md has no \(Self.end)")
        let generated = SpecSchema.markdownTable()
        if ProcessInfo.processInfo.environment["HAHA_UPDATE_README"] == "1" {
            text.replaceSubrange(start.upperBound..<stop.lowerBound, with: generated)
            try text.write(to: Self.readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(
            String(text[start.upperBound..<stop.lowerBound]) == generated,
            "README.md's field table differs from SpecSchema.fields; run HAHA_UPDATE_README=1 swift test --filter SpecSchema")
    }

    /// Every key the loader accepts is in the table and every table key is accepted: a field missing from the table
    /// is an unknown key, with a hint.
    @Test func theLoaderAcceptsExactlyTheTablesKeys() throws {
        #expect(
            SpecSchema.keys(in: "") == [
                "apiVersion", "name", "secretsDir", "ssh", "nodes", "sensorAddress", "routing", "storage",
                "database", "mqtt", "homeAssistant", "images", "portainer",
            ])
        #expect(SpecSchema.keys(in: "nodes[]") == ["name", "address", "user", "port", "identityFile", "role"])
        #expect(SpecSchema.keys(in: "mqtt.acl[]") == ["user", "access", "topic"])
        let loaded = SpecLoader.load(yaml: baseYAML + "\nstorage:\n  pingTimeot: 3\n")
        let problem = try #require(loaded.diagnostics.first)
        #expect(loaded.diagnostics.count == 1)
        #expect(
            problem.message
                == "unknown key \"pingTimeot\" (did you mean \"pingTimeout\"?); allowed here: volume, brickPath, mountPath, pingTimeout")
        #expect(problem.line == 15)
        // Every plain field of the table is read: a non-default value for each one reaches the model.
        let every = WriterCase.everyField.spec
        for field in SpecSchema.fields {
            guard let value = field.yamlValue(every), field.section != "" else { continue }
            let yaml = baseYAML + "\n\(field.section):\n  \(field.key): \(value)\n"
            let spec = try #require(SpecLoader.load(yaml: yaml).spec, "\(field.path)")
            #expect(field.yamlValue(spec) == value, "\(field.path) was not read")
        }
    }
}

/// Issue #11: one VIP parser. The loader, the validator (for a VIP built in code) and `--vip` give the same verdict.
@Suite struct VIPParserTests {
    typealias VIP = ClusterSpec.SensorAddress.VIP

    @Test(arguments: [
        "10.1.0/24", "10.1.0.50/40", "10.1.0.50/0", "10.1.0.50/x", "10.1.0.50/", "10.1.0.50/24/8", "pi.local/24", "010.1.0.50",
    ])
    func theLoaderAndTheValidatorShareTheParsersVerdict(text: String) throws {
        var verdict: VIP.ParseError?
        do { _ = try VIP(parsing: text) } catch { verdict = error }
        let problem = try #require(verdict, "\(text) parsed")
        let loaded = SpecLoader.load(yaml: baseYAML.replacingOccurrences(of: "10.1.0.50/24", with: "\"\(text)\""))
        #expect(loaded.diagnostics.map(\.path) == ["sensorAddress.address"])
        #expect(loaded.diagnostics.first?.message == problem.description)
        #expect(loaded.diagnostics.first?.line == 12)
        // A spec built in code skips the loader; the validator asks the same parser.
        guard case .prefixLength(let length) = problem else { return }
        var spec = try #require(SpecLoader.load(yaml: baseYAML).spec)
        spec.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: length))
        #expect(Validator.validate(spec).map(\.message) == [problem.description])
    }

    @Test func aBuiltVIPWithABadAddressGetsTheParsersMessage() throws {
        var spec = try #require(SpecLoader.load(yaml: baseYAML).spec)
        spec.sensorAddress = .vip(.init(address: "10.1.0"))
        #expect(Validator.validate(spec).map(\.message) == [VIP.ParseError.address("10.1.0").description])
        #expect(throws: VIP.ParseError.address("10.1.0")) { try VIP(parsing: "10.1.0/24") }
    }

    @Test func validVIPsParse() throws {
        let vip = try VIP(parsing: "10.1.0.50/22", interface: "enp1s0", mdnsName: "ha")
        #expect(vip == VIP(address: "10.1.0.50", prefixLength: 22, interface: "enp1s0", mdnsName: "ha"))
        #expect(try VIP(parsing: "10.1.0.50").prefixLength == 24)
        #expect(try vip.checked().address == IPv4Address("10.1.0.50"))
    }
}
