import Foundation
import HahaSystem
import Testing

/// The acceptance commands, run against the built `haha` executable.
@Suite struct CLITests {
    @Test func initValidateRenderAndDockerStackConfig() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        let initResult = try await run([haha, "init", "--node", "n1=10.1.0.11", "--node", "n2=10.1.0.12", "--node", "n3=10.1.0.13", "--user", "pi"], in: scratch.path)
        #expect(initResult.exitCode == 0, "\(initResult.errorOutput)")
        let validate = try await run([haha, "validate"], in: scratch.path)
        #expect(validate.exitCode == 0, "\(validate.output)\(validate.errorOutput)")
        let render = try await run([haha, "render", "--out", "out/"], in: scratch.path)
        #expect(render.exitCode == 0, "\(render.errorOutput)")

        // Secrets: 0700 directory, 0600 files, never printed.
        let secretsDir = scratch.file("haha-secrets")
        let dirMode = try FileManager.default.attributesOfItem(atPath: secretsDir)[.posixPermissions] as? Int
        #expect(dirMode == 0o700)
        let names = try FileManager.default.contentsOfDirectory(atPath: secretsDir)
        #expect(names.count == 7)
        var printed = ""
        for result in [initResult, validate, render] { printed += result.output + result.errorOutput }
        for name in names {
            let path = "\(secretsDir)/\(name)"
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
            let value = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(value.count >= 32)
            #expect(!printed.contains(value), "secret \(name) was printed")
        }

        // init refuses to overwrite without --force.
        let again = try await run([haha, "init", "--node", "a=10.1.0.11", "--node", "b=10.1.0.12", "--node", "c=10.1.0.13"], in: scratch.path)
        #expect(again.exitCode != 0)
        #expect(again.errorOutput.contains("--force"))

        guard commandExists("docker") else {
            print("skipped: docker stack config (no docker client on PATH)")
            return
        }
        let config = try await run(["docker", "stack", "config", "-c", "out/stack.yml"], in: scratch.path)
        #expect(config.exitCode == 0, "docker stack config failed: \(config.errorOutput)")
        #expect(config.output.contains("galera-n3"))
    }

    @Test func malformedSpecExitsNonZeroWithALineAndWritesNothing() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        try "apiVersion: haha/v1\nnodes:\n  - name: n1\n    address: [10.1.0.11\n".write(toFile: scratch.file("haha.yaml"), atomically: true, encoding: .utf8)
        for arguments in [["validate"], ["render", "--out", "out"]] {
            let result = try await run([haha] + arguments, in: scratch.path)
            #expect(result.exitCode == 1)
            let text = result.output + result.errorOutput
            #expect(text.contains("haha.yaml:5:"), "\(text)")
            #expect(!text.contains("Fatal error") && !text.contains("Backtrace") && !text.contains("Stack dump"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["haha.yaml"])
    }

    @Test func validateReportsEveryProblemWithLinesAndJSON() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        try """
            apiVersion: haha/v1
            nodes:
              - name: n1
                address: 10.1.0.11
              - name: n1
                address: 10.1.0.300
            sensorAddress:
              address: 10.9.0.5/24
            """.write(toFile: scratch.file("haha.yaml"), atomically: true, encoding: .utf8)
        let result = try await run([haha, "validate", "--json"], in: scratch.path)
        #expect(result.exitCode == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(report["valid"] as? Bool == false)
        let diagnostics = try #require(report["diagnostics"] as? [[String: Any]])
        let paths = Set(diagnostics.compactMap { $0["path"] as? String })
        #expect(paths.isSuperset(of: ["nodes[1].name", "nodes[1].address", "sensorAddress.address", "secretsDir"]))
        #expect(diagnostics.allSatisfy { $0["line"] != nil })
    }

    @Test func seedInventoryImportProducesAValidSpec() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HahaCoreTests/Fixtures/seed-inventory.ini").path
        let imported = try await run([haha, "inventory", "import", fixture], in: scratch.path)
        #expect(imported.exitCode == 0, "\(imported.errorOutput)")
        #expect(imported.errorOutput.contains("ssh-copy-id"))
        let spec = try String(contentsOfFile: scratch.file("haha.yaml"), encoding: .utf8)
        #expect(spec.contains("192.168.1.102"))
        #expect(!spec.contains("raspberry"))
        let validate = try await run([haha, "validate"], in: scratch.path)
        #expect(validate.exitCode == 0, "\(validate.output)\(validate.errorOutput)")
    }
}
