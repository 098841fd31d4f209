import Testing
@testable import HahaCore

/// One test per validation rule: each changes one thing in a valid spec and expects exactly that problem.
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
        let found = diagnostics(edited([("10.1.0.12", "pi2.local"), ("  mode: vip\n  address: 10.1.0.50/24\n  interface: eth0\n", "  mode: none\n")]))
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
        #expect(found.count == 7)
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
        let found = diagnostics(baseYAML, secrets: SecretsSnapshot(directory: "/s", directoryExists: true, directoryMode: 0o755, files: files)).errors
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
        let yaml = edited([("    address: 10.1.0.12\n", "    address: 10.1.0.12\n    role: arbiter\n"),
                           ("    address: 10.1.0.13\n", "    address: 10.1.0.13\n    role: arbiter\n")])
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

    @Test func conflictingPortsAreAnError() {
        let found = diagnostics(baseYAML + "\nmqtt:\n  port: 8123\n").errors
        #expect(found.map(\.path) == ["homeAssistant.port"])
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
