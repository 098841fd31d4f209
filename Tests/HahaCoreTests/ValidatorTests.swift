import Foundation
import Testing

@testable import HahaCore

/// One test per validation rule: each changes one thing in a valid spec and expects exactly that problem.
/// The rules of `Validator.validate` and where each is tested — here unless named:
/// names, node names, addresses, users, identity files (grammar), images, interface, mdnsName, hostname, sizes, identifiers,
/// time zone, host networking (proxy, VIP, port 8123), system directories, normalized paths, ports and pingTimeout in range → HostileInputTests; empty identityFile;
/// knownHostsFile without spaces; duplicate names / addresses; fewer than 2 data nodes; more than one arbiter; warnings for
/// 2 data nodes (with or without arbiter) and an even count; mount and brick apart; MQTT user reserved, duplicate, must
/// include homeassistant; ACL user and topic; Home Assistant name length; recorder scheme; port clashes (Portainer only when
/// enabled); VIP syntax and prefix (VIPParserTests), on a node, outside the subnet, network or broadcast; secrets
/// (directory missing or readable by others, missing, blank, readable, alphabet, length).
@Suite struct ValidatorTests {
    func diagnostics(_ yaml: String, secrets: SecretsSnapshot? = nil) -> [Diagnostic] {
        let loaded = SpecLoader.load(yaml: yaml)
        guard let spec = loaded.spec else { return loaded.diagnostics }
        return loaded.diagnostics + Validator.validate(spec, lines: loaded.lines, secrets: secrets)
    }

    func edited(_ replacements: [(String, String)]) -> String {
        replacements.reduce(baseYAML) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    @Test func validBaseHasNoProblems() {
        #expect(diagnostics(baseYAML).isEmpty)
    }

    @Test func unknownKeyIsAnErrorWithLineAndHint() throws {
        let found = diagnostics(baseYAML + "\nstorage:\n  mountpath: /mnt\n")
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.path == "storage.mountpath")
        #expect(problem.line == 15)
        #expect(problem.message.contains("did you mean \"mountPath\""))
    }

    @Test func fewerThanTwoDataNodesIsAnError() {
        let yaml = edited([("  - name: n2\n    address: 10.1.0.12\n", ""), ("  - name: n3\n    address: 10.1.0.13\n", "")])
        #expect(diagnostics(yaml).errors.contains { $0.path == "nodes" && $0.message.contains("at least 2 data nodes") })
    }

    @Test func duplicateNamesAreAnError() throws {
        let found = diagnostics(edited([("name: n2", "name: n1")])).errors
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.path == "nodes[1].name")
        #expect(problem.line == 6)
    }

    @Test func duplicateAddressesAreAnError() {
        let found = diagnostics(edited([("10.1.0.13", "10.1.0.11")])).errors
        #expect(found.map(\.path) == ["nodes[2].address"])
    }

    @Test(arguments: ["10.1.0", "300.1.0.1", "10.1.0.011", "bad host", "-pi.local"])
    func malformedAddressesAreAnError(address: String) {
        let found = diagnostics(edited([("10.1.0.12", "\"\(address)\"")])).errors
        #expect(found.contains { $0.path == "nodes[1].address" && $0.message.contains("not an IPv4 address or a host name") })
    }

    @Test func hostNamesAreAcceptedAsAddresses() {
        let found = diagnostics(
            edited([("10.1.0.12", "pi2.local"), ("  mode: vip\n  address: 10.1.0.50/24\n  interface: eth0\n", "  mode: none\n")]))
        #expect(found.isEmpty)
    }

    @Test func vipEqualToANodeAddressIsAnError() {
        let found = diagnostics(edited([("10.1.0.50/24", "10.1.0.12/24")])).errors
        #expect(found.count == 1)
        #expect(found.first?.path == "sensorAddress.address")
        #expect(found.first?.message.contains("is the address of node n2") == true)
    }

    @Test func vipOutsideTheNodesSubnetIsAnError() {
        let found = diagnostics(edited([("10.1.0.50/24", "10.2.0.50/24")])).errors
        #expect(found.count == 3)
        #expect(found.allSatisfy { $0.path == "sensorAddress.address" && $0.message.contains("outside the subnet") })
    }

    @Test func missingSecretsAreAnError() {
        let snapshot = SecretsSnapshot(directory: "/s", directoryExists: true, directoryMode: 0o700, files: [:])
        let found = diagnostics(baseYAML, secrets: snapshot).errors
        #expect(found.count == 8)  // five fixed, two MQTT users, the VIP's vrrp-password
        #expect(found.allSatisfy { $0.message.hasPrefix("missing secret /s/") })
    }

    @Test func missingSecretsDirectoryIsAnError() {
        let found = diagnostics(baseYAML, secrets: SecretsSnapshot(directory: "/s", directoryExists: false)).errors
        #expect(found.count == 1)
        #expect(found.first?.message.contains("does not exist") == true)
    }

    @Test func worldReadableSecretsAreAnError() {
        let spec = SpecLoader.load(yaml: baseYAML).spec!
        var files: [String: SecretsSnapshot.File] = [:]
        for name in SecretCatalog.required(for: spec) { files[name] = .init(exists: true, mode: 0o600) }
        files[SecretCatalog.recorder] = .init(exists: true, mode: 0o644)
        let found = diagnostics(
            baseYAML, secrets: SecretsSnapshot(directory: "/s", directoryExists: true, directoryMode: 0o755, files: files)
        ).errors
        #expect(found.count == 2)
        #expect(found.contains { $0.message.contains("chmod 600 /s/recorder-password") })
        #expect(found.contains { $0.message.contains("chmod 700 /s") })
    }

    @Test func twoDataNodesWithoutArbiterIsAWarningNotAnError() {
        let found = diagnostics(edited([("  - name: n3\n    address: 10.1.0.13\n", "")]))
        #expect(!found.hasErrors)
        #expect(found.warnings.contains { $0.message.contains("without an arbiter") })
    }

    @Test func evenNodeCountIsAWarning() {
        let four = edited([("    address: 10.1.0.13\n", "    address: 10.1.0.13\n  - name: n4\n    address: 10.1.0.14\n")])
        let found = diagnostics(four)
        #expect(!found.hasErrors)
        #expect(found.warnings.map(\.message).contains { $0.contains("even number of nodes (4)") })
    }

    @Test func arbiterMakesReplicaTwoPlusArbiterWithAWarningAboutGalera() throws {
        let found = diagnostics(edited([("    address: 10.1.0.13\n", "    address: 10.1.0.13\n    role: arbiter\n")]))
        #expect(!found.hasErrors)
        #expect(found.warnings.contains { $0.message.contains("arbiter") })
    }

    @Test func twoArbitersAreAnError() {
        let yaml = edited([
            ("    address: 10.1.0.12\n", "    address: 10.1.0.12\n    role: arbiter\n"),
            ("    address: 10.1.0.13\n", "    address: 10.1.0.13\n    role: arbiter\n"),
        ])
        #expect(diagnostics(yaml).errors.contains { $0.message.contains("at most one node") })
    }

    @Test func badNodeNameIsAnError() {
        #expect(diagnostics(edited([("name: n3", "name: Node_3")])).errors.map(\.path) == ["nodes[2].name"])
    }

    @Test func relativePathsAreAnError() {
        let found = diagnostics(baseYAML + "\nstorage:\n  mountPath: shared\n").errors
        #expect(found.map(\.path) == ["storage.mountPath"])
    }

    @Test func badSizesAreAnError() {
        let found = diagnostics(baseYAML + "\ndatabase:\n  gcacheSize: 2GB\n").errors
        #expect(found.map(\.path) == ["database.gcacheSize"])
    }

    @Test func mqttUsersMustIncludeHomeAssistant() {
        let found = diagnostics(baseYAML + "\nmqtt:\n  users: [esp]\n").errors
        #expect(found.map(\.path) == ["mqtt.users"])
    }

    @Test func hostNetworkNeedsTheProxyTheVIPAndPort8123() {
        let proxied = baseYAML + "\nrouting: proxy\nhomeAssistant:\n  hostNetwork: true\n"
        #expect(diagnostics(proxied).isEmpty)
        expectOnly(diagnostics(baseYAML + "\nhomeAssistant:\n  hostNetwork: true\n").errors, "homeAssistant.hostNetwork", "routing: proxy")
        expectOnly(diagnostics(proxied + "  port: 8124\n").errors, "homeAssistant.port", "8123")
        let noVIP = edited([("  mode: vip\n  address: 10.1.0.50/24\n  interface: eth0", "  mode: none")])
        expectOnly(
            diagnostics(noVIP + "\nrouting: proxy\nhomeAssistant:\n  hostNetwork: true\n").errors, "homeAssistant.hostNetwork",
            "sensorAddress.mode: vip")
    }

    @Test func conflictingPortsAreAnError() {
        let found = diagnostics(baseYAML + "\nmqtt:\n  port: 8123\n").errors
        #expect(found.map(\.path) == ["homeAssistant.port"])
    }

    /// Exactly one diagnostic, an error at `path` whose message contains `phrase`.
    func expectOnly(_ found: [Diagnostic], _ path: String, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
        #expect(found.first?.severity == .error, sourceLocation: sourceLocation)
        #expect(found.first?.path == path, sourceLocation: sourceLocation)
        #expect(found.first?.message.contains(phrase) == true, "\(found.first?.message ?? "none")", sourceLocation: sourceLocation)
    }

    func validated(_ edit: (inout ClusterSpec) -> Void) throws -> [Diagnostic] {
        var spec = try #require(SpecLoader.load(yaml: baseYAML).spec)
        edit(&spec)
        return Validator.validate(spec)
    }

    @Test func anEmptyIdentityFileIsAnError() {
        let node = "    address: 10.1.0.12\n"
        expectOnly(diagnostics(edited([(node, node + "    identityFile: \"\"\n")])), "nodes[1].identityFile", "identityFile is empty")
        #expect(diagnostics(edited([(node, node + "    identityFile: keys/n2\n")])).isEmpty)
    }

    @Test func aKnownHostsFileWithASpaceIsAnError() {
        let found = diagnostics(edited([("nodes:\n", "ssh:\n  knownHostsFile: \"my hosts\"\nnodes:\n")]))
        expectOnly(found, "ssh.knownHostsFile", "without spaces")
        #expect(found.first?.line == 4)
        #expect(diagnostics(edited([("nodes:\n", "ssh:\n  knownHostsFile: my_hosts\nnodes:\n")])).isEmpty)
    }

    @Test(arguments: [("/srv/haha", "/srv/haha/shared"), ("/srv/haha/brick", "/srv/haha"), ("/srv/haha", "/srv/haha")])
    func mountAndBrickPathsInsideEachOtherAreAnError(brick: String, mount: String) {
        let found = diagnostics(baseYAML + "\nstorage:\n  brickPath: \(brick)\n  mountPath: \(mount)\n")
        expectOnly(found, "storage.mountPath", "must not contain each other")
        #expect(diagnostics(baseYAML + "\nstorage:\n  brickPath: /srv/haha/brick\n  mountPath: /srv/haha/brick-shared\n").isEmpty)
    }

    @Test func theReservedMQTTUserHealthcheckIsAnError() {
        expectOnly(
            diagnostics(baseYAML + "\nmqtt:\n  users: [homeassistant, devices, healthcheck]\n"), "mqtt.users[2]",
            "reserved name healthcheck")
        #expect(diagnostics(baseYAML + "\nmqtt:\n  users: [homeassistant, devices, healthcheck2]\n").isEmpty)
    }

    @Test func aDuplicateMQTTUserIsAnError() {
        expectOnly(
            diagnostics(baseYAML + "\nmqtt:\n  users: [homeassistant, devices, devices]\n"), "mqtt.users[2]",
            "duplicate MQTT user \"devices\"")
        #expect(diagnostics(baseYAML + "\nmqtt:\n  users: [homeassistant, devices, panel]\n").isEmpty)
    }

    @Test(arguments: ["homeassistant", "nobody"])
    func anACLRuleForAUserNotInTheListOrForHomeAssistantIsAnError(user: String) {
        let acl = "\nmqtt:\n  acl:\n    - {user: %@, access: read, topic: \"a/b\"}\n"
        expectOnly(diagnostics(baseYAML + acl.replacingOccurrences(of: "%@", with: user)), "mqtt.acl[0].user", "is not one of mqtt.users")
        #expect(diagnostics(baseYAML + acl.replacingOccurrences(of: "%@", with: "devices")).isEmpty)
    }

    @Test(arguments: ["a/#/b", "a/b+", "a b", "#/a"])
    func anACLRuleWhoseTopicIsNoFilterIsAnError(topic: String) {
        let acl = "\nmqtt:\n  acl:\n    - {user: devices, access: deny, topic: \"%@\"}\n"
        expectOnly(
            diagnostics(baseYAML + acl.replacingOccurrences(of: "%@", with: topic)), "mqtt.acl[0].topic", "is not an MQTT topic filter")
        #expect(diagnostics(baseYAML + acl.replacingOccurrences(of: "%@", with: "a/+/b/#")).isEmpty)
    }

    @Test(arguments: ["\"\"", String(repeating: "h", count: 101)])
    func anEmptyOrOverlongHomeAssistantNameIsAnError(name: String) {
        expectOnly(diagnostics(baseYAML + "\nhomeAssistant:\n  name: \(name)\n"), "homeAssistant.name", "must be 1–100 characters")
        #expect(diagnostics(baseYAML + "\nhomeAssistant:\n  name: \(String(repeating: "h", count: 100))\n").isEmpty)
    }

    /// The loader refuses other schemes while reading; a spec built in code meets the validator's own check.
    @Test func anUnknownRecorderSchemeInABuiltSpecIsAnError() throws {
        expectOnly(
            try validated { $0.homeAssistant.recorderScheme = "postgresql" }, "homeAssistant.recorderScheme",
            "is not one of: mysql, mysql+pymysql")
        #expect(try validated { $0.homeAssistant.recorderScheme = "mysql+pymysql" }.isEmpty)
    }

    @Test func portainersPortClashesOnlyWhenItIsEnabled() {
        let found = diagnostics(baseYAML + "\nportainer:\n  enabled: true\n  port: 8123\n")
        expectOnly(found, "portainer.port", "port 8123 is already used by homeAssistant.port")
        #expect(diagnostics(baseYAML + "\nportainer:\n  enabled: false\n  port: 8123\n").isEmpty)
        #expect(diagnostics(baseYAML + "\nportainer:\n  enabled: true\n  port: 9443\n").isEmpty)
    }

    @Test(arguments: ["10.1.0.0/24", "10.1.0.255/24", "10.1.0.0/23", "10.1.1.255/23"])
    func aVIPOnTheNetworkOrBroadcastAddressIsAnError(vip: String) {
        expectOnly(diagnostics(edited([("10.1.0.50/24", vip)])), "sensorAddress.address", "is the network or broadcast address")
        #expect(diagnostics(edited([("10.1.0.50/24", "10.1.1.254/23")])).isEmpty)
    }

    @Test func everyProblemIsReportedAtOnce() {
        let yaml = edited([("name: n2", "name: n1"), ("10.1.0.13", "10.1.0"), ("10.1.0.50/24", "10.1.0.11/24")]) + "\nbogus: 1\n"
        let found = diagnostics(yaml)
        // The unknown key stops model building; fix it and the semantic errors all appear together.
        #expect(found.map(\.path) == ["bogus"])
        let semantic = diagnostics(edited([("name: n2", "name: n1"), ("10.1.0.13", "10.1.0"), ("10.1.0.50/24", "10.1.0.11/24")]))
        #expect(Set(semantic.errors.map(\.path)) == ["nodes[1].name", "nodes[2].address", "sensorAddress.address"])
    }
}

/// Issue #9: every field that reaches a shell, an argv, a config file, SQL or a URL has a tight grammar. One test per
/// class of hostile input, each over every field it applies to; each field's valid sample shows the rule is the cause.
@Suite struct HostileInputTests {
    /// A spec field: its diagnostic path, a valid value, and baseYAML with the field set to a YAML scalar.
    struct Field: Sendable, CustomStringConvertible {
        var path: String
        var valid: String
        var yaml: @Sendable (String) -> String
        var description: String { path }

        func errors(_ value: String) -> [Diagnostic] {
            let loaded = SpecLoader.load(yaml: yaml(HostileInputTests.yamlQuoted(value)))
            guard let spec = loaded.spec else { return loaded.diagnostics.errors }
            return (loaded.diagnostics + Validator.validate(spec, lines: loaded.lines)).errors
        }
    }

    /// A double-quoted YAML scalar with every control character escaped, so the loader reads back exactly `value`.
    static func yamlQuoted(_ value: String) -> String {
        "\""
            + value.unicodeScalars.map { scalar in
                if scalar == "\\" || scalar == "\"" { return "\\" + String(scalar) }
                if Grammar.hasControlCharacters(String(scalar)) { return String(format: "\\u%04X", scalar.value) }
                return String(scalar)
            }.joined() + "\""
    }

    static func replacing(_ old: String, _ new: @escaping @Sendable (String) -> String) -> @Sendable (String) -> String {
        { value in
            precondition(baseYAML.contains(old), "baseYAML has no \(old)")
            return baseYAML.replacingOccurrences(of: old, with: new(value))
        }
    }

    static func section(_ name: String, _ key: String) -> @Sendable (String) -> String {
        { baseYAML + "\n\(name):\n  \(key): \($0)\n" }
    }

    /// Fields that reach the nodes (shell scripts, argv, config files, SQL, URLs): tight grammars.
    static let remoteFields: [Field] = [
        Field(path: "name", valid: "home", yaml: replacing("name: home\n") { "name: \($0)\n" }),
        Field(path: "nodes[1].name", valid: "n2", yaml: replacing("  - name: n2\n") { "  - name: \($0)\n" }),
        Field(path: "nodes[1].address", valid: "pi2.local", yaml: replacing("address: 10.1.0.12\n") { "address: \($0)\n" }),
        Field(
            path: "nodes[1].user", valid: "pi", yaml: replacing("    address: 10.1.0.12\n") { "    address: 10.1.0.12\n    user: \($0)\n" }),
        Field(path: "ssh.user", valid: "ha_admin", yaml: replacing("nodes:\n") { "ssh:\n  user: \($0)\nnodes:\n" }),
        Field(path: "storage.volume", valid: "ha_vol-1", yaml: section("storage", "volume")),
        Field(path: "storage.brickPath", valid: "/srv/haha/brick", yaml: section("storage", "brickPath")),
        Field(path: "storage.mountPath", valid: "/var/lib/haha/shared.d", yaml: section("storage", "mountPath")),
        Field(path: "database.clusterName", valid: "haha", yaml: section("database", "clusterName")),
        Field(path: "database.name", valid: "home_assistant", yaml: section("database", "name")),
        Field(path: "database.user", valid: "recorder", yaml: section("database", "user")),
        Field(path: "database.gcacheSize", valid: "256M", yaml: section("database", "gcacheSize")),
        Field(path: "database.bufferPoolSize", valid: "64M", yaml: section("database", "bufferPoolSize")),
        Field(path: "database.memoryLimit", valid: "1G", yaml: section("database", "memoryLimit")),
        Field(path: "mqtt.users[2]", valid: "esp32", yaml: { baseYAML + "\nmqtt:\n  users: [homeassistant, devices, \($0)]\n" }),
        Field(path: "homeAssistant.timeZone", valid: "America/Argentina/Buenos_Aires", yaml: section("homeAssistant", "timeZone")),
        Field(path: "homeAssistant.memoryLimit", valid: "768M", yaml: section("homeAssistant", "memoryLimit")),
        Field(path: "sensorAddress.address", valid: "10.1.0.50/24", yaml: replacing("  address: 10.1.0.50/24\n") { "  address: \($0)\n" }),
        Field(path: "sensorAddress.interface", valid: "enp1s0.10", yaml: replacing("  interface: eth0") { "  interface: \($0)" }),
        Field(
            path: "sensorAddress.mdnsName", valid: "homeassistant",
            yaml: replacing("  interface: eth0") { "  interface: eth0\n  mdnsName: \($0)" }),
        Field(
            path: "sensorAddress.hostname", valid: "hacluster",
            yaml: replacing("  mode: vip\n  address: 10.1.0.50/24\n  interface: eth0") { "  mode: mdns-hostname\n  hostname: \($0)" }),
        Field(
            path: "images.homeAssistant", valid: "10.1.0.1:5000/haha-lab/home-assistant:2026.11.0", yaml: section("images", "homeAssistant")
        ),
        Field(path: "images.mariadb", valid: "mariadb:11.8", yaml: section("images", "mariadb")),
        Field(path: "images.mosquitto", valid: "eclipse-mosquitto:2", yaml: section("images", "mosquitto")),
        Field(path: "images.haproxy", valid: "haproxy@sha256:" + String(repeating: "ab", count: 32), yaml: section("images", "haproxy")),
        Field(path: "images.portainer", valid: "portainer/portainer-ce:2.33.3", yaml: section("images", "portainer")),
        Field(path: "images.portainerAgent", valid: "ghcr.io/my_org/agent:v2", yaml: section("images", "portainerAgent")),
    ]

    /// Paths on the machine running haha: passed as one argv element, so only an option or a line break is hostile.
    static let localFields: [Field] = [
        Field(
            path: "nodes[1].identityFile", valid: "~/.ssh/pi key",
            yaml: replacing("    address: 10.1.0.12\n") { "    address: 10.1.0.12\n    identityFile: \($0)\n" }),
        Field(path: "ssh.identityFile", valid: "keys/id_ed25519", yaml: replacing("nodes:\n") { "ssh:\n  identityFile: \($0)\nnodes:\n" }),
        Field(
            path: "ssh.knownHostsFile", valid: "ssh/known_hosts", yaml: replacing("nodes:\n") { "ssh:\n  knownHostsFile: \($0)\nnodes:\n" }),
        Field(path: "secretsDir", valid: "../haha secrets", yaml: { baseYAML + "\nsecretsDir: \($0)\n" }),
    ]

    /// Display text, quoted wherever it goes: only a line break is hostile.
    static let textFields: [Field] = [
        Field(path: "homeAssistant.name", valid: "Our \"home\"; (2nd) & $more", yaml: section("homeAssistant", "name"))
    ]

    /// The refusal names the field, carries the line of the value, and stays on one line of output.
    func expectRefused(_ field: Field, _ value: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = field.errors(value)
        let problem = errors.first { $0.path == field.path }
        #expect(problem != nil, "\(field.path) accepted \(value.debugDescription); errors: \(errors)", sourceLocation: sourceLocation)
        #expect(problem?.line != nil, "\(field.path): no line", sourceLocation: sourceLocation)
        #expect(
            problem.map { !$0.formatted(file: "haha.yaml").contains("\n") } ?? true, "\(field.path): multi-line message",
            sourceLocation: sourceLocation)
    }

    /// The tighter grammars still accept what haha itself writes: the lab's spec and every golden case.
    @Test func labAndGoldenSpecsStillValidate() {
        for layout in [LabLayout(), LabLayout(name: "lab-2", nodeCount: 4, arbiter: true)] {
            #expect(!Validator.validate(layout.spec(images: LabLayout.serviceImages)).hasErrors)
            #expect(!Validator.validate(layout.spec(images: .init())).hasErrors)
        }
        for renderCase in RenderCase.allCases {
            #expect(!Validator.validate(renderCase.spec).hasErrors, "\(renderCase.rawValue)")
        }
    }

    @Test func everyFieldsValidSampleIsAccepted() {
        for field in Self.remoteFields + Self.localFields + Self.textFields {
            #expect(field.errors(field.valid).isEmpty, "\(field.path): \(field.errors(field.valid))")
        }
    }

    @Test(arguments: [";", "$(", "`", "|", "&"])
    func shellMetacharactersAreRefused(metacharacter: String) {
        for field in Self.remoteFields {
            let value = field.path == "sensorAddress.address" ? "10.1.0.50\(metacharacter)reboot" : field.valid + metacharacter + "reboot"
            expectRefused(field, value)
        }
    }

    @Test func aLeadingDashIsRefused() {
        for field in Self.remoteFields + Self.localFields {
            expectRefused(field, "-" + field.valid)
            expectRefused(field, "-oProxyCommand=reboot")
        }
    }

    @Test(arguments: ["\n", "\r", "\t", "\u{0}", "\u{2028}"])
    func embeddedLineBreaksAndControlCharactersAreRefused(character: String) {
        for field in Self.remoteFields + Self.localFields + Self.textFields {
            expectRefused(field, field.valid + character + "reboot")
        }
    }

    @Test func outOfRangeNumbersAreRefused() {
        let ports: [Field] = [
            Field(path: "ssh.port", valid: "22", yaml: Self.replacing("nodes:\n") { "ssh:\n  port: \($0)\nnodes:\n" }),
            Field(
                path: "nodes[1].port", valid: "2222",
                yaml: Self.replacing("    address: 10.1.0.12\n") { "    address: 10.1.0.12\n    port: \($0)\n" }),
            Field(path: "mqtt.port", valid: "8883", yaml: Self.section("mqtt", "port")),
            Field(path: "homeAssistant.port", valid: "80", yaml: Self.section("homeAssistant", "port")),
            Field(path: "portainer.port", valid: "9000", yaml: { baseYAML + "\nportainer:\n  enabled: true\n  port: \($0)\n" }),
        ]
        for field in ports {
            #expect(field.errors(field.valid).isEmpty, "\(field.path)")
            for value in ["0", "-1", "65536", "99999999999999999999999"] { expectRefused(field, value) }
        }
        let timeout = Field(path: "storage.pingTimeout", valid: "42", yaml: Self.section("storage", "pingTimeout"))
        #expect(timeout.errors(timeout.valid).isEmpty)
        for value in ["0", "43", "-5"] { expectRefused(timeout, value) }
        let sizes = Self.remoteFields.filter { $0.path.hasSuffix("Size") || $0.path.hasSuffix("memoryLimit") }
        #expect(sizes.count == 4)
        for field in sizes {
            for value in ["0M", "-1M", "1025G", "1048577M", "99999999999999999999M", "1T", "1.5G"] { expectRefused(field, value) }
        }
        let vip = Self.remoteFields.first { $0.path == "sensorAddress.address" }!
        for value in ["10.1.0.50/40", "10.1.0.50/33", "10.1.0.50/0", "10.1.0.50/-1", "10.1.0.50/99999999999999999999", "10.1.0.50/24/8"] {
            expectRefused(vip, value)
        }
    }

    /// A spec built in code (as `haha init` and `inventory import` do) skips the loader's range checks: the validator
    /// refuses the same numbers itself, and never traps on them.
    @Test func outOfRangeNumbersInABuiltSpecAreRefusedWithoutATrap() throws {
        let base = try #require(SpecLoader.load(yaml: baseYAML).spec)
        let cases: [(String, (inout ClusterSpec) -> Void)] = [
            ("sensorAddress.address", { $0.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: 40)) }),
            ("sensorAddress.address", { $0.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: -8)) }),
            ("sensorAddress.address", { $0.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: 0)) }),
            ("sensorAddress.address", { $0.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: .max)) }),
            ("sensorAddress.address", { $0.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: .min)) }),
            ("nodes[0].port", { $0.nodes[0].port = 0 }),
            ("nodes[2].port", { $0.nodes[2].port = 70000 }),
            ("mqtt.port", { $0.mqtt.port = -1 }),
            ("homeAssistant.port", { $0.homeAssistant.port = 65536 }),
            ("storage.pingTimeout", { $0.storage.pingTimeout = 0 }),
            ("database.memoryLimit", { $0.database.memoryLimit = "0G" }),
        ]
        for (path, edit) in cases {
            var spec = base
            edit(&spec)
            #expect(Validator.validate(spec).errors.map(\.path) == [path])
        }
        typealias VIP = ClusterSpec.SensorAddress.VIP
        #expect(throws: VIP.ParseError.prefixLength(40)) { try VIP(parsing: "10.1.0.50/40") }
        #expect(try VIP(parsing: "10.1.0.50/22").prefixLength == 22)
        #expect(try VIP(parsing: "10.1.0.50").prefixLength == 24)
        let address = try #require(IPv4Address("10.1.0.50"))
        for prefix in [-1, 33, 40, .max, .min] {
            #expect(IPv4Address.netmask(prefixLength: prefix) == nil)
            #expect(address.broadcast(prefixLength: prefix) == nil)
            #expect(!address.isInSubnet(of: address, prefixLength: prefix))
        }
        #expect(address.masked(prefixLength: 40) == address)
        #expect(address.broadcast(prefixLength: 24) == IPv4Address("10.1.0.255"))
    }

    @Test(arguments: [
        "/", "/etc", "/usr", "/usr/lib/x", "/bin", "/sbin/x", "/lib", "/lib64/haha", "/boot/x", "/dev/sda1", "/proc/1",
        "/sys/fs", "/run", "/var", "/var/lib", "/home", "/root", "/tmp", "/etc/haha/brick",
    ])
    func systemDirectoriesAreRefused(path: String) {
        for field in Self.remoteFields where field.path.hasPrefix("storage.") && field.path.hasSuffix("Path") {
            expectRefused(field, path)
            #expect(field.errors(path).contains { $0.path == field.path && $0.message.contains("system directory") })
        }
    }

    @Test(arguments: [
        "var/lib/haha", "/var/lib//haha", "/var/lib/./haha", "/var/lib/../haha", "/var/lib/haha/", "/var/lib/haha/..",
        "/var/lib/ha ha", "/var/lib/häha", "~/haha",
    ])
    func unnormalizedPathsAreRefused(path: String) {
        for field in Self.remoteFields where field.path.hasPrefix("storage.") && field.path.hasSuffix("Path") {
            expectRefused(field, path)
        }
    }

    static func snapshot(_ values: [String: String]) throws -> SecretsSnapshot {
        let spec = try #require(SpecLoader.load(yaml: baseYAML).spec)
        var files: [String: SecretsSnapshot.File] = [:]
        var generator = SystemRandomNumberGenerator()
        for name in SecretCatalog.required(for: spec) {
            let value = values[name] ?? SecretCatalog.generatePassword(using: &generator) + "\n"
            files[name] = .init(exists: true, mode: 0o600, isEmpty: value.isEmpty, value: value)
        }
        return SecretsSnapshot(directory: "/s", directoryExists: true, directoryMode: 0o700, files: files)
    }

    static let secretNames = SecretCatalog.required(for: SpecLoader.load(yaml: baseYAML).spec!)

    func secretErrors(_ value: String, for name: String) throws -> [Diagnostic] {
        let spec = try #require(SpecLoader.load(yaml: baseYAML).spec)
        return Validator.validate(spec, secrets: try Self.snapshot([name: value])).errors
    }

    @Test func generatedSecretsAreAccepted() throws {
        let spec = try #require(SpecLoader.load(yaml: baseYAML).spec)
        #expect(Validator.validate(spec, secrets: try Self.snapshot([:])).isEmpty)
        #expect(try secretErrors("  unreserved._~-AZaz09  \n", for: SecretCatalog.recorder).isEmpty)
    }

    @Test(arguments: ["", " ", "\n", "   \t \n", "\r\n\r\n"])
    func blankSecretsAreRefused(value: String) throws {
        for name in Self.secretNames {
            let errors = try secretErrors(value, for: name)
            #expect(errors.count == 1 && errors[0].message.contains("/s/\(name) is empty or blank"), "\(name): \(errors)")
        }
    }

    @Test(arguments: [
        "0123456789abcdef;reboot", "0123456789abcdef$(reboot)", "0123456789abcdef`reboot`", "0123456789abcdef|x", "0123456789abcdef&x",
        "0123456789 abcdef", "0123456789abcdef'x", "0123456789abcdef\"x", "0123456789abcdef@x", "0123456789abcdef%41", "0123456789abcdef#x",
        "0123456789abcdef\nx", "0123456789abcdefé", "0123456789abcdef/x", "0123456789abcdef+x", "0123456789abcdef=x",
    ])
    func secretsOutsideTheAlphabetAreRefused(value: String) throws {
        for name in Self.secretNames {
            let errors = try secretErrors(value, for: name)
            #expect(errors.count == 1 && errors[0].message.contains("characters outside"), "\(name): \(errors)")
            // The value itself is never part of a message.
            #expect(!errors.contains { $0.message.contains("0123456789abcdef") })
        }
    }

    @Test func shortSecretsAreRefused() throws {
        for name in Self.secretNames {
            #expect(try secretErrors("0123456789abcde", for: name).first?.message.contains("shorter than 16") == true)
            #expect(try secretErrors("0123456789abcdef", for: name).isEmpty)
        }
    }
}
