import Foundation
import HahaSystem
import Testing

/// The issue's acceptance commands, run against the built `haha` executable.
@Suite struct CLITests {
    @Test func initRecordsHostKeysOrRefusesAndWritesNothing() async throws {
        let haha = try Built.requireHaha()
        guard commandExists("ssh-keyscan") else {
            print("skipped: host key recording (no ssh-keyscan on PATH)")
            return
        }
        let scratch = try Scratch()
        // Loopback addresses on port 1, where nothing answers: no key, so init refuses and writes nothing.
        let result = try await run(
            [haha, "init", "--node", "a=127.0.0.1", "--node", "b=127.0.0.2", "--node", "c=127.0.0.3", "--port", "1"],
            in: scratch.path, timeout: 120)
        #expect(result.exitCode != 0)
        #expect(result.errorOutput.contains("could not read the SSH host key of 3 nodes"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("a (127.0.0.1 port 1)"))
        #expect(result.errorOutput.contains("--trust-on-first-use"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("haha.yaml")))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("haha-secrets")))
    }

    @Test func initValidateRenderAndDockerStackConfig() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        let initResult = try await run(
            [
                haha, "init", "--node", "n1=10.1.0.11", "--node", "n2=10.1.0.12", "--node", "n3=10.1.0.13", "--user", "pi",
                "--trust-on-first-use",
            ], in: scratch.path)
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
        let again = try await run(
            [haha, "init", "--node", "a=10.1.0.11", "--node", "b=10.1.0.12", "--node", "c=10.1.0.13", "--trust-on-first-use"],
            in: scratch.path)
        #expect(again.exitCode != 0)
        #expect(again.errorOutput.contains("--force"))
    }

    /// `haha backup --schedule`: the cron entry written (to HAHA_CRON_DIR here), refused when the schedule is not
    /// cron's, removed with `off`; `--keep` without `--dir` is refused.
    @Test func backupScheduleWritesAndRemovesACronEntry() async throws {
        let scratch = try Scratch("haha-cli-schedule")
        let haha = try Built.requireHaha()
        let made = try await run(
            [haha, "init", "--node", "n1=10.1.0.11", "--node", "n2=10.1.0.12", "--node", "n3=10.1.0.13", "--trust-on-first-use"],
            in: scratch.path)
        try #require(made.exitCode == 0, "\(made.errorOutput)")
        let cron = scratch.file("cron.d")
        try FileManager.default.createDirectory(atPath: cron, withIntermediateDirectories: true)
        let env = ["env", "HAHA_CRON_DIR=\(cron)", haha, "backup"]
        let installed = try await run(env + ["--schedule", "daily", "--dir", "backups"], in: scratch.path)
        #expect(installed.exitCode == 0, "\(installed.errorOutput)")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: cron).first)
        let text = try String(contentsOfFile: "\(cron)/\(file)", encoding: .utf8)
        #expect(text.contains(" 3 * * * root '") && text.contains("backup --config '\(scratch.file("haha.yaml"))'"), "\(text)")
        #expect(text.contains("--dir '\(scratch.file("backups"))' --keep 7"), "\(text)")
        let hostile = try await run(env + ["--schedule", "* * * * *; rm -rf /", "--dir", "backups"], in: scratch.path)
        #expect(hostile.exitCode != 0 && hostile.errorOutput.contains("is not hourly, daily, weekly, off or five cron fields"))
        #expect(try String(contentsOfFile: "\(cron)/\(file)", encoding: .utf8) == text)
        #expect(try await run(env + ["--keep", "3"], in: scratch.path).errorOutput.contains("--keep needs --dir"))
        let off = try await run(env + ["--schedule", "off"], in: scratch.path)
        let left = try FileManager.default.contentsOfDirectory(atPath: cron)
        #expect(off.exitCode == 0 && left.isEmpty, "\(off.errorOutput)")
    }

    /// Docker's own reading of the rendered stack; reported as skipped (with the reason) where no client exists.
    @Test(.enabled(if: commandExists("docker"), "no docker client on PATH"))
    func renderedStackPassesDockerStackConfig() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        let initResult = try await run(
            [haha, "init", "--node", "n1=10.1.0.11", "--node", "n2=10.1.0.12", "--node", "n3=10.1.0.13", "--trust-on-first-use"],
            in: scratch.path)
        #expect(initResult.exitCode == 0, "\(initResult.errorOutput)")
        let render = try await run([haha, "render", "--out", "out/"], in: scratch.path)
        #expect(render.exitCode == 0, "\(render.errorOutput)")
        let config = try await run(["docker", "stack", "config", "-c", "out/stack.yml"], in: scratch.path)
        #expect(config.exitCode == 0, "docker stack config failed: \(config.errorOutput)")
        #expect(config.output.contains("galera-n3"))
    }

    @Test func malformedSpecExitsNonZeroWithALineAndWritesNothing() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        try "apiVersion: haha/v1\nnodes:\n  - name: n1\n    address: [10.1.0.11\n".write(
            toFile: scratch.file("haha.yaml"), atomically: true, encoding: .utf8)
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
        let imported = try await run([haha, "inventory", "import", fixture, "--trust-on-first-use"], in: scratch.path)
        #expect(imported.exitCode == 0, "\(imported.errorOutput)")
        #expect(imported.errorOutput.contains("ssh-copy-id"))
        let spec = try String(contentsOfFile: scratch.file("haha.yaml"), encoding: .utf8)
        #expect(spec.contains("192.168.1.102"))
        #expect(!spec.contains("raspberry"))
        let validate = try await run([haha, "validate"], in: scratch.path)
        #expect(validate.exitCode == 0, "\(validate.output)\(validate.errorOutput)")
    }

    /// Issue #9: a command that loads the spec refuses a hostile one (exit 1, the diagnostic with its line) before
    /// anything runs. A fake `ssh` and `docker` first on PATH record every call; the valid control spec shows they would.
    @Test func clusterCommandsRefuseAHostileSpecBeforeRunningAnything() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        let bin = scratch.file("bin"), calls = scratch.file("calls")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for tool in ["ssh", "docker"] {
            try "#!/bin/sh\necho \"\(tool) $*\" >> \(shellQuote(calls))\nexit 255\n".write(
                toFile: "\(bin)/\(tool)", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bin)/\(tool)")
        }
        let path = "PATH=\(bin):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"
        let good = """
            apiVersion: haha/v1
            nodes:
              - name: n1
                address: 10.1.0.11
              - name: n2
                address: 10.1.0.12
              - name: n3
                address: 10.1.0.13
            """
        try good.write(toFile: scratch.file("good.yaml"), atomically: true, encoding: .utf8)
        let bad =
            good.replacingOccurrences(of: "nodes:", with: "ssh:\n  user: \"-oProxyCommand=touch pwned\"\nnodes:")
            .replacingOccurrences(of: "address: 10.1.0.12", with: "address: \"10.1.0.12;reboot\"") + "\nstorage:\n  brickPath: /\n"
        try bad.write(toFile: scratch.file("bad.yaml"), atomically: true, encoding: .utf8)

        for command in [["status"], ["down"], ["down", "--purge"], ["drill"]] {
            let result = try await run(["env", path, haha] + command + ["--config", "bad.yaml"], in: scratch.path, timeout: 60)
            let text = result.output + result.errorOutput
            #expect(result.exitCode == 1, "\(command): exit \(result.exitCode): \(text)")
            for diagnostic in [
                "bad.yaml:3: error: ssh.user:", "bad.yaml:8: error: nodes[1].address:", "bad.yaml:12: error: storage.brickPath:",
            ] {
                #expect(text.contains(diagnostic), "\(command): no \(diagnostic) in:\n\(text)")
            }
            #expect(
                !FileManager.default.fileExists(atPath: calls),
                "\(command) ran: \((try? String(contentsOfFile: calls, encoding: .utf8)) ?? "")")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("pwned")))

        // Control: with a valid spec, status does reach for ssh (which the fake answers with 255); the nodes it
        // could not reach are listed under NOT KNOWN, and with Home Assistant answering nowhere the verdict is down (4).
        let control = try await run(["env", path, haha, "status", "--config", "good.yaml"], in: scratch.path, timeout: 120)
        #expect(try String(contentsOfFile: calls, encoding: .utf8).contains("ssh "))
        #expect(control.exitCode == 4, "\(control.output)\(control.errorOutput)")
        #expect(control.output.hasPrefix("verdict: down — Home Assistant does not answer"), "\(control.output)")
        #expect(control.output.contains("NOT KNOWN") && control.output.contains("n2: not reachable (exit 255)"), "\(control.output)")
    }

    @Test func inventoryImportRefusesHostileValuesAndWritesNothing() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        try """
        [hacluster]
        pi1 ansible_host=10.0.0.1 ansible_user=-oProxyCommand=reboot
        pi2 ansible_host=10.0.0.2
        pi3 ansible_host="10.0.0.3;reboot"
        """.write(toFile: scratch.file("hosts.ini"), atomically: true, encoding: .utf8)
        let result = try await run([haha, "inventory", "import", "hosts.ini"], in: scratch.path)
        #expect(result.exitCode == 1)
        #expect(result.errorOutput.contains("hosts.ini:2: error: nodes[0].user:"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("hosts.ini:4: error: nodes[2].address:"), "\(result.errorOutput)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["hosts.ini"])
    }

    /// An imported inventory's host keys are recorded as `init` records them: a node that shows none refuses the import
    /// and nothing is written (loopback port 1: nothing listens there).
    @Test func inventoryImportRecordsHostKeysOrRefuses() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        try """
        [hacluster]
        pi1 ansible_host=127.0.0.1 ansible_port=1
        pi2 ansible_host=127.0.0.2 ansible_port=1
        pi3 ansible_host=127.0.0.3 ansible_port=1
        """.write(toFile: scratch.file("hosts.ini"), atomically: true, encoding: .utf8)
        let refused = try await run([haha, "inventory", "import", "hosts.ini"], in: scratch.path)
        #expect(refused.exitCode != 0, "an import without host keys went through")
        #expect(refused.errorOutput.contains("--trust-on-first-use"), "\(refused.errorOutput)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["hosts.ini"])
        let trusted = try await run([haha, "inventory", "import", "hosts.ini", "--trust-on-first-use"], in: scratch.path)
        #expect(trusted.exitCode == 0, "\(trusted.errorOutput)")
        #expect(!(try String(contentsOfFile: scratch.file("haha.yaml"), encoding: .utf8)).contains("knownHostsFile"))
    }

    /// Issue #9's first finding: an out-of-range prefix length trapped (illegal instruction) in `haha init`.
    @Test func initRefusesAnOutOfRangePrefixWithoutCrashing() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        for vip in ["10.1.0.50/40", "10.1.0.50/-1", "10.1.0.50/0"] {
            let result = try await run(
                [
                    haha, "init", "--node", "a=10.1.0.11", "--node", "b=10.1.0.12", "--node", "c=10.1.0.13", "--vip", vip,
                    "--trust-on-first-use",
                ], in: scratch.path)
            #expect(result.exitCode != 0 && result.exitCode < 128, "\(vip): exit \(result.exitCode)")
            #expect(result.errorOutput.contains("prefix length of 1...32"), "\(vip): \(result.errorOutput)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test func drillRefusesFaultsThatNeedALabOrContradictEachOther() async throws {
        let haha = try Built.requireHaha()
        let scratch = try Scratch()
        for (arguments, message) in [
            (["--freeze"], "--partition, --freeze and --all need --lab NAME"),
            (["--lab", "x", "--partition", "--all"], "choose one of --partition, --freeze, --all"),
            (["--lab", "x", "--all", "--target", "leader"], "--all cuts every node: leave out --target"),
            (["--target", "nowhere"], "'nowhere'"),
        ] {
            let result = try await run([haha, "drill"] + arguments, in: scratch.path)
            #expect(result.exitCode != 0 && result.exitCode < 128, "\(arguments): exit \(result.exitCode)")
            #expect(result.errorOutput.contains(message), "\(arguments): \(result.errorOutput)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }
}
