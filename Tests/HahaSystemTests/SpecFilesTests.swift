import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// The files `init`, `inventory import` and `render` write.
@Suite struct SpecFilesTests {
    let directory: String
    init() throws {
        directory = try Fixtures.scratchDirectory("specfiles")
    }

    func mode(_ path: String) throws -> Int? { try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int }

    var cluster: ClusterSpec { ClusterSpec(nodes: ["n1", "n2", "n3"].enumerated().map { .init(name: $1, address: "10.1.0.1\($0 + 1)") }) }

    @Test func aSpecIsWrittenReadBackWithItsSecretsAndHostKeys() throws {
        var spec = cluster
        spec.knownHostsFile = "known_hosts"
        let path = "\(directory)/haha.yaml"
        let written = try SpecFiles.write(spec, to: path, force: false, header: ["hello"], knownHosts: "10.1.0.11 ssh-ed25519 AAAA\n")
        #expect(try Workspace.load(specPath: path).spec == spec)
        #expect(written.knownHostsPath == "\(directory)/known_hosts")
        #expect(try String(contentsOfFile: "\(directory)/known_hosts", encoding: .utf8) == "10.1.0.11 ssh-ed25519 AAAA\n")
        #expect(written.createdSecrets.sorted() == SecretCatalog.required(for: spec).sorted())
        #expect(try mode(written.secretsDirectory) == 0o700)
        for name in written.createdSecrets { #expect(try mode("\(written.secretsDirectory)/\(name)") == 0o600) }

        // Again: refused without --force; with it, the secrets are kept.
        #expect(throws: HahaError.self) { _ = try SpecFiles.write(spec, to: path, force: false, header: []) }
        #expect(try SpecFiles.write(spec, to: path, force: true, header: []).createdSecrets.isEmpty)
    }

    @Test func anInvalidSpecWritesNothing() throws {
        var spec = cluster
        spec.nodes[1].name = "n1"
        #expect(throws: DiagnosticsError.self) { _ = try SpecFiles.write(spec, to: "\(directory)/haha.yaml", force: false, header: []) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func renderedSecretsArePrivateAndTheRestReadable() throws {
        let out = "\(directory)/out"
        try SpecFiles.writeRendered(
            [
                RenderedFile(path: "stack.yml", contents: "a\n"),
                RenderedFile(path: "secrets/x", contents: "s\n", isSecret: true),
            ], to: out)
        #expect(try mode("\(out)/stack.yml") == 0o644)
        #expect(try mode("\(out)/secrets") == 0o700)
        #expect(try mode("\(out)/secrets/x") == 0o600)
        #expect(try String(contentsOfFile: "\(out)/secrets/x", encoding: .utf8) == "s\n")
    }

    @Test func theConfigOptionWinsOverTheDefault() {
        #expect(SpecFiles.path(option: "other.yaml") == "other.yaml")
        #expect(SpecFiles.path(option: nil) == (ProcessInfo.processInfo.environment["HAHA_CONFIG"] ?? "haha.yaml"))
    }

    /// A replaced machine's new host key takes the place of every line naming its address or name; a key already
    /// recorded changes nothing.
    @Test func aReplacedMachinesHostKeyReplacesTheOldOnes() {
        let current = """
            10.0.0.11 ssh-ed25519 AAAAone
            10.0.0.12 ssh-ed25519 AAAAold
            n2 ssh-ed25519 AAAAold
            [10.0.0.12]:22 ssh-rsa AAAAolder
            10.0.0.13,n3 ssh-ed25519 AAAAthree

            """
        let scanned = "# 10.0.0.12:22 SSH-2.0-OpenSSH\n10.0.0.12 ssh-ed25519 AAAAnew\n"
        #expect(
            HostKeys.replacing(in: current, hosts: ["10.0.0.12", "n2"], port: 22, with: scanned)
                == "10.0.0.11 ssh-ed25519 AAAAone\n10.0.0.13,n3 ssh-ed25519 AAAAthree\n10.0.0.12 ssh-ed25519 AAAAnew\n")
        #expect(
            HostKeys.replacing(
                in: current, hosts: ["10.0.0.11", "n1"], port: 22, with: "10.0.0.11 ssh-ed25519 AAAAone\n10.0.0.11 ssh-rsa AAAArsa\n")
                == current)
    }
}
