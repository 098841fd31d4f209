import Foundation
import Testing

@testable import HahaCore

/// SplitMix64: a small seeded generator, so every run feeds the same inputs and a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Issue #9: no input makes haha crash. Thousands of seeded mutations of a valid haha.yaml and of an Ansible
/// inventory go through the loader, the validator and the importer; each must return, and whatever they accept
/// must obey the grammars (and read back the same after writing).
@Suite struct FuzzTests {
    static let tokens = [
        ";", "$(", "`", "|", "&", "\n", "\r", "\t", "\0", "-", "-o", "/", "..", "//", ":", ": ", "\"", "'", "[", "]", "{",
        "}", "#", "*", "!", "%", "@", " ", "é", "\u{2028}", "\u{FEFF}", "99999999999999999999", "-1", "0", "/40", "/-3",
        "&a", "*a", "!!binary", "~", "null", "\\", "=", "[1:3]", "\n  - ", "\n    ", "ansible_user=", "ansible_port=",
        "ansible_host=", "[hacluster]", "[hacluster:vars]", "[hacluster:children]", "''", "\"\"", "...", "---",
    ]

    static func mutate(_ text: String, _ random: inout SplitMix64) -> String {
        var chars = Array(text)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = chars.isEmpty ? 0 : Int.random(in: 0...chars.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0, 1:
                chars.insert(contentsOf: tokens.randomElement(using: &random) ?? "", at: position)
            case 2:
                let end = min(chars.count, position + Int.random(in: 1...20, using: &random))
                chars.removeSubrange(position..<end)
            case 3:
                var lines = String(chars).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if lines.count > 1 {
                    lines.swapAt(Int.random(in: 0..<lines.count, using: &random), Int.random(in: 0..<lines.count, using: &random))
                }
                if let line = lines.randomElement(using: &random) {
                    lines.insert(line, at: Int.random(in: 0...lines.count, using: &random))
                }
                chars = Array(lines.joined(separator: "\n"))
            case 4:
                // Replace a value: the text after a line's first ": " or "=".
                var lines = String(chars).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let index = Int.random(in: 0..<max(lines.count, 1), using: &random)
                if lines.indices.contains(index), let cut = lines[index].firstIndex(where: { $0 == ":" || $0 == "=" }) {
                    lines[index] = String(lines[index][...cut]) + " " + (tokens.randomElement(using: &random) ?? "") + "x"
                }
                chars = Array(lines.joined(separator: "\n"))
            default:
                chars = Array(chars.prefix(position))
            }
        }
        return String(chars)
    }

    /// A spec that uses every field, as `haha init` would write it.
    static var fullYAML: String {
        var spec = SpecLoader.load(yaml: baseYAML).spec!
        spec.nodes.append(
            .init(name: "n4", address: "pi4.local", user: "pi", port: 2222, identityFile: "~/.ssh/id_ed25519", role: .arbiter))
        spec.sensorAddress = .vip(.init(address: "10.1.0.50", prefixLength: 24, interface: "eth0", mdnsName: "homeassistant"))
        spec.knownHostsFile = "ssh/known_hosts"
        spec.portainer.enabled = true
        spec.homeAssistant.timeZone = "Europe/Berlin"
        return SpecWriter.yaml(spec)
    }

    /// Every text value of a spec, split by how it is used.
    static func values(_ spec: ClusterSpec) -> (remote: [String], local: [String], text: [String]) {
        var remote =
            [
                spec.name, spec.storage.volume, spec.storage.brickPath, spec.storage.mountPath, spec.database.clusterName,
                spec.database.name, spec.database.user, spec.database.gcacheSize, spec.database.bufferPoolSize, spec.database.memoryLimit,
                spec.homeAssistant.timeZone, spec.homeAssistant.memoryLimit, spec.homeAssistant.recorderScheme,
                spec.images.homeAssistant, spec.images.mariadb, spec.images.mosquitto, spec.images.haproxy, spec.images.portainer,
                spec.images.portainerAgent,
            ] + spec.mqtt.users
        remote += spec.nodes.flatMap { [$0.name, $0.address, $0.user] }
        switch spec.sensorAddress {
        case .vip(let vip): remote += [vip.address, vip.interface] + (vip.mdnsName.map { [$0] } ?? [])
        case .mdnsHostname(let name): remote.append(name)
        case .none: break
        }
        let local = [spec.secretsDir] + spec.nodes.compactMap(\.identityFile) + (spec.knownHostsFile.map { [$0] } ?? [])
        return (remote, local, [spec.homeAssistant.name])
    }

    static let shellCharacters = Set(";$`|&<>()'\"\\*?[]{}!#~ \t\n\r")

    @Test func mutatedSpecsNeverCrashAndWhatValidatesIsClean() async throws {
        var random = SplitMix64(state: 9)
        let seeds = [baseYAML, Self.fullYAML]
        var accepted = 0
        for round in 0..<2000 {
            // Long CPU-bound loops share the test runner's few threads (timing tests of other suites run beside them).
            await Task.yield()
            let text = Self.mutate(seeds[round % seeds.count], &random)
            let loaded = SpecLoader.load(yaml: text)
            guard let spec = loaded.spec else {
                #expect(loaded.diagnostics.hasErrors, "no model and no error for:\n\(text)")
                continue
            }
            let secret = Self.mutate("0123456789abcdefghij", &random)
            let snapshot = SecretsSnapshot(
                directory: "/s", directoryExists: true, directoryMode: 0o700,
                files: [SecretCatalog.recorder: .init(exists: true, mode: 0o600, isEmpty: secret.isEmpty, value: secret)])
            _ = Validator.validate(spec, lines: loaded.lines, secrets: snapshot)
            guard !Validator.validate(spec, lines: loaded.lines).hasErrors else { continue }
            accepted += 1
            let (remote, local, display) = Self.values(spec)
            for value in remote {
                #expect(
                    !value.contains { Self.shellCharacters.contains($0) || !$0.isASCII } && !value.hasPrefix("-"),
                    "accepted \(value.debugDescription) in:\n\(text)")
            }
            for value in local + display {
                #expect(!Grammar.hasControlCharacters(value), "accepted \(value.debugDescription)")
            }
            for value in local { #expect(!value.hasPrefix("-"), "accepted \(value.debugDescription)") }
            #expect(SpecLoader.load(yaml: SpecWriter.yaml(spec)).spec == spec, "does not read back after writing:\n\(text)")
        }
        // The mutations are not all fatal: the property above was checked on real specs.
        #expect(accepted >= 50)
    }

    @Test func mutatedInventoriesNeverCrashAndWhatImportsValidates() async throws {
        let fixture = try String(contentsOf: InventoryTests.fixtures.appendingPathComponent("seed-inventory.ini"), encoding: .utf8)
        let seeds = [fixture, InventoryTests.groupsExample]
        var random = SplitMix64(state: 11)
        var imported = 0
        for round in 0..<2000 {
            await Task.yield()
            let text = Self.mutate(seeds[round % seeds.count], &random)
            let result = AnsibleInventory.importNodes(text)
            guard !result.diagnostics.hasErrors else { continue }
            imported += 1
            let nodeErrors = Validator.validate(ClusterSpec(nodes: result.nodes)).errors.filter { $0.path.hasPrefix("nodes[") }
            #expect(nodeErrors.isEmpty, "imported nodes that do not validate: \(nodeErrors) from:\n\(text)")
        }
        #expect(imported >= 50)
    }

    @Test func randomPrefixLengthsNeverTrap() async {
        var random = SplitMix64(state: 3)
        let nodes = (1...3).map { ClusterSpec.Node(name: "n\($0)", address: "10.1.0.1\($0)") }
        for _ in 0..<2000 {
            await Task.yield()
            let prefix = Bool.random(using: &random) ? Int.random(in: -100...100, using: &random) : Int(truncatingIfNeeded: random.next())
            let address = IPv4Address(UInt32(truncatingIfNeeded: random.next()))
            _ = address.masked(prefixLength: prefix)
            _ = address.broadcast(prefixLength: prefix)
            _ = address.isInSubnet(of: IPv4Address(0), prefixLength: prefix)
            let spec = ClusterSpec(nodes: nodes, sensorAddress: .vip(.init(address: address.description, prefixLength: prefix)))
            let refused = Validator.validate(spec).contains { $0.path == "sensorAddress.address" && $0.message.contains("out of range") }
            #expect(refused == !(1...32).contains(prefix))
            _ = try? ClusterSpec.SensorAddress.VIP(parsing: "\(address)/\(prefix)")
        }
    }
}
