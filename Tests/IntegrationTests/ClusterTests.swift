import Foundation
import HahaCore
import HahaSystem
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue #4's acceptance on a real lab: `haha up` from bare nodes to a running, replicated Home Assistant;
/// a second `up` that changes nothing; a power cut of every node recovered without losing a commit;
/// `haha down` leaving the nodes as they were.
@Suite(.serialized, .enabled(if: LabHost.available, "needs root and Docker with the haha-lab runtime"))
struct ClusterTests {
    static let name = "haha-e2e"
    static let subnet = "172.30.79.0"
    /// CI's limit is 90 minutes for everything; this test may take 60 of them (≈ 25 warm, ≈ 35 with cold images).
    let budget = Budget("haha-e2e", minutes: 60)

    /// The suite's commands run under its budget.
    func run(_ arguments: [String], in directory: String, timeout: Double = 120) async throws -> CommandResult {
        try await IntegrationTests.run(arguments, in: directory, timeout: budget.timeout(timeout))
    }

    @Test func upFailoverRecoveryAndDownOnALab() async throws {
        let scratch = try Scratch("haha-e2e")
        try await withLab(Self.name, scratch: scratch) { haha, lab in
            try await exercise(haha: haha, lab: lab, scratch: scratch)
        }
    }

    /// What `haha down` must restore: mounts, fstab, Swarm state, Gluster peers, crontab, packages.
    static let nodeState = """
        echo "mounts: $(grep -E 'glusterfs|/var/lib/haha' /proc/mounts | awk '{print $2}' | sort | tr '\\n' ' ')"
        echo "fstab: $(grep -v '^#' /etc/fstab | sort | tr '\\n' ' ')"
        echo "swarm: $(docker info --format '{{.Swarm.LocalNodeState}}')"
        echo "peers: $(gluster pool list 2>/dev/null | tail -n +2 | wc -l)"
        echo "cron: $(ls /etc/cron.d 2>/dev/null | tr '\\n' ' ') $(crontab -l 2>/dev/null | md5sum)"
        echo "packages: $(dpkg-query -W -f '${Package}\\n' | md5sum)"
        echo "keepalived: $(cat /etc/keepalived/keepalived.conf 2>/dev/null | md5sum)"
        echo "firewall: $(iptables -S 2>/dev/null | grep -c HAHA-GALERA) $(ls /usr/local/sbin | md5sum)"
        """

    func exercise(haha: String, lab: [String], scratch: Scratch) async throws {
        budget.step("haha lab up --with-images (images built here if the cache is cold)")
        let up = try await run([haha, "lab", "up", "--with-images", "--subnet", Self.subnet] + lab, in: scratch.path, timeout: 3600)
        try #require(up.exitCode == 0, "lab up failed: \(up.errorOutput)")
        let specPath = scratch.file("lab/haha.yaml")
        let workspace = try Workspace.load(specPath: specPath)
        let spec = workspace.spec
        let ssh = spec.nodes.map { workspace.runner(for: $0) }
        // A crontab line of the user's own, which must survive.
        try await ssh[0].shell("echo '5 4 * * * root true # the user s own' > /etc/cron.d/users-own", timeout: 30)
        var before: [String] = []
        for runner in ssh { before.append(try await runner.shell(Self.nodeState, timeout: 60).output) }

        // haha up, from bare nodes, killed (SIGKILL) in each of its phases; each run resumes where the last one died.
        // The Swarm phase runs once with n3 unable to reach the managers, so its join fails. All along, every
        // process on the host (the nodes' processes included) is sampled: no join token or secret may show.
        let secretsBefore = try workspace.readSecrets()
        let sampler = try ProcessSampler(values: secretsBefore.all, scratch: scratch)
        budget.step("haha up, killed in its phases")
        try await killUp(haha, spec: specPath, at: "Gluster volume", after: 3, in: scratch.path)
        let reject = "OUTPUT -p tcp --dport 2377 -j REJECT --reject-with tcp-reset"
        try await ssh[2].shell("iptables -I \(reject)", timeout: 30)
        let failedJoin = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: 1200)
        try await ssh[2].shell("iptables -D \(reject)", timeout: 30)
        #expect(failedJoin.exitCode != 0, "n3's join was blocked, yet haha up succeeded")
        #expect(failedJoin.errorOutput.contains("n3"), "the failed join does not name n3:\n\(failedJoin.errorOutput)")
        let joinToken = try await ssh[0].output(["docker", "swarm", "join-token", "-q", "manager"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(joinToken.hasPrefix("SWMTKN-"))
        for value in secretsBefore.all + [joinToken] {
            #expect(!(failedJoin.output + failedJoin.errorOutput).contains(value), "the failed haha up printed a secret or the join token")
        }
        for (marker, delay) in [
            ("Swarm with", 1.0), ("Galera:", 25), ("Stack ", 0.3), ("Home Assistant owner", 0.3), ("Sensor address", 1),
        ] {
            try await killUp(haha, spec: specPath, at: marker, after: delay, in: scratch.path)
        }
        budget.step("haha up to the end")
        let first = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: 2400)
        try #require(first.exitCode == 0, "haha up failed:\n\(first.errorOutput)")
        let seen = try await sampler.stop()
        #expect(seen.samples > 100, "the process sampler ran only \(seen.samples) times")
        #expect(seen.lines.isEmpty, "a join token or secret in a process's arguments:\n\(seen.lines)")
        let secrets = try workspace.readSecrets()
        for value in secrets.all { #expect(!(first.output + first.errorOutput).contains(value), "haha up printed a secret") }

        budget.step("Home Assistant, Galera, MQTT and Gluster checked")
        // Home Assistant answers with a token the test makes itself (login flow with the owner's password).
        let ha = HomeAssistantSetup(baseURL: URL(string: "http://\(spec.nodes[1].address):8123/")!)
        let token = try await login(ha, password: secrets[SecretCatalog.homeAssistantOwner])
        let api = try await ha.request("GET", "api/", token: token)
        #expect(api.status == 200)

        // Galera: 3 members everywhere; the recorder's tables in it.
        for (node, runner) in zip(spec.nodes, ssh) {
            #expect(try await sql("SHOW STATUS LIKE 'wsrep_cluster_size'", node: node.name, on: runner).contains("3"), "\(node.name)")
        }
        // Galera's ports answer the other nodes, not this machine (on the lab's network, but no node of the cluster).
        let dial = ["timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/\(spec.nodes[0].address)/4567"]
        let fromNode = try await ssh[1].run(Command(dial, timeout: 15))
        #expect(fromNode.succeeded, "n2 cannot reach Galera's port 4567 on n1: \(fromNode.errorOutput)")
        let fromHost = try await LocalRunner().run(Command(dial, timeout: 15))
        #expect(!fromHost.succeeded, "Galera's port 4567 on n1 answered this machine, which is not a node of the cluster")
        let tables = try await sql(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='homeassistant' AND table_name IN ('states','events','recorder_runs')",
            node: "n2", on: ssh[1])
        #expect(tables == "3")
        let statesBefore = Int(try await sql("SELECT COUNT(*) FROM homeassistant.states", node: "n3", on: ssh[2])) ?? -1

        // MQTT with a username and password reaches a sensor in Home Assistant (via MQTT discovery).
        let devices = secrets[SecretCatalog.mqttUser("devices")]
        let broker = spec.sensorAddress.vip?.address ?? spec.nodes[0].address
        try await publish(broker: broker, user: "devices", password: devices, topic: Self.discoveryTopic, message: Self.discovery)
        try await waitForSensor(
            "42", what: "the discovered MQTT sensor to show 42", timeout: 120, ha: ha, token: token, broker: broker, password: devices,
            nodes: ssh)
        let anonymous = try await LocalRunner().run(Command(["mosquitto_pub", "-h", broker, "-t", "x", "-m", "x"], timeout: 20))
        #expect(!anonymous.succeeded, "anonymous MQTT must be refused")
        try await waitUntil("the recorder to write new rows to Galera", timeout: budget.timeout(60), next: "read the test log above") { _ in
            (Int(try await sql("SELECT COUNT(*) FROM homeassistant.states", node: "n3", on: ssh[2])) ?? -1) > statesBefore
        }

        // Replica 3, and the config dir on the Gluster mount of every node.
        #expect(try await ssh[0].output(["gluster", "volume", "info", spec.storage.volume]).contains("Number of Bricks: 1 x 3 = 3"))
        for runner in ssh {
            let check = try await runner.run(
                Command(
                    [
                        "sh", "-c",
                        "mountpoint -q \(spec.storage.mountPath) && test -f \(spec.storage.mountPath)/homeassistant/configuration.yaml && test -d \(spec.storage.mountPath)/homeassistant/.storage",
                    ], timeout: 30))
            #expect(check.succeeded, "\(runner.target): Home Assistant's config dir is not on the Gluster mount")
        }

        budget.step("two haha up at once, then a lock held elsewhere")
        // A second run changes nothing; two at once: one of them refuses and names the holder of the lock.
        let directory = scratch.path
        async let one = run([haha, "up", "--config", specPath], in: directory, timeout: 600)
        async let two = run([haha, "up", "--config", specPath], in: directory, timeout: 600)
        let pair = try await [one, two]
        let refused = pair.filter { $0.exitCode != 0 }
        #expect(refused.count == 1, "two haha up at once: \(pair.map(\.exitCode))")
        #expect(
            refused.first?.errorOutput.contains("another haha run holds the lock on this cluster: haha up (pid") == true,
            "\(refused.first?.errorOutput ?? "")")
        let second = try #require(pair.first { $0.exitCode == 0 })
        #expect(second.errorOutput.contains("no changes"), "second haha up changed something:\n\(second.errorOutput)")
        // A run from another machine holds the cluster's lock: refused, with its holder named.
        try await ssh[0].shell(
            "mkdir -p /var/lib/haha/lock && echo 'haha up (pid 1 on laptop, since then, token x)' > /var/lib/haha/lock/holder", timeout: 30)
        let blocked = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: 120)
        #expect(blocked.exitCode != 0)
        #expect(blocked.errorOutput.contains("holds the lock on n1: haha up (pid 1 on laptop"), "\(blocked.errorOutput)")
        try await ssh[0].shell("rm -rf /var/lib/haha/lock", timeout: 30)

        // Fenced failover (issue #8), through `haha drill` on this lab: a power cut of the node running Home Assistant,
        // one of the raft leader, a partition of the node running Home Assistant (kept running, then healed), and a
        // power cut of every node, after which the cluster must come back by itself (nobody runs haha).
        // Each time Home Assistant and the broker come back, a recorder row, a retained message and a file in /config
        // written just before are still there, and no 100 ms sample on the host ever saw two Home Assistants.
        let labName = try #require(lab.firstIndex(of: "--name").map { lab[$0 + 1] })
        for fault in [[], ["--target", "leader"], ["--partition"], ["--all"]] {
            budget.step("haha drill \(fault.joined(separator: " "))")
            let drill = try await run(
                [haha, "drill", "--config", specPath, "--lab", labName, "--json"] + fault, in: scratch.path, timeout: 1200)
            let report = try? JSONSerialization.jsonObject(with: drill.stdout) as? [String: Any]
            #expect(drill.exitCode == 0, "drill \(fault) did not pass:\n\(drill.output)\n\(drill.errorOutput)")
            #expect(report?["passed"] as? Bool == true, "drill \(fault): \(drill.output)")
            #expect(report?["mostHomeAssistants"] as? Int == 1, "drill \(fault): two Home Assistants at once?\n\(drill.output)")
            #expect((report?["instanceSamples"] as? Int ?? 0) > 100, "drill \(fault): too few samples\n\(drill.output)")
        }
        await logDiscovery(before: "the Galera check after the drills", specPath: specPath)
        budget.step("every Galera member Synced after the drills")
        try await waitUntil(
            "every Galera member Synced after the drills", timeout: budget.timeout(600), next: "read the drills' output above"
        ) { _ in
            for (node, runner) in zip(spec.nodes, ssh) {
                // A member that is still restarting after the drills has no server to ask yet: not synced, ask again.
                guard
                    (try? await sql("SHOW STATUS LIKE 'wsrep_local_state_comment'", node: node.name, on: runner))?.contains("Synced")
                        == true
                else { return false }
            }
            return true
        }

        await logDiscovery(before: "the first power cuts", specPath: specPath)
        budget.step("power cuts, n3 first; haha recover --from n3 previews; haha up")
        // Power cuts: n3 first, then a commit on the two that remain, then n1 and n2. n3 is now behind:
        // `haha recover --from n3` shows the commit it would drop and, unconfirmed, bootstraps nothing. n2 stays off
        // until then: with a member missing, the watchdogs leave the bootstrap to the operator.
        _ = try await sql(
            "CREATE DATABASE IF NOT EXISTS haha_e2e; CREATE TABLE IF NOT EXISTS haha_e2e.probe (id INT PRIMARY KEY, note TEXT); REPLACE INTO haha_e2e.probe VALUES (1, 'before the power cut')",
            node: "n2", on: ssh[1])
        #expect(try await run([haha, "lab", "kill", "n3"] + lab, in: scratch.path).exitCode == 0)
        try await waitUntil("n1 and n2 to form a Primary Component of 2", timeout: budget.timeout(120), next: "read the test log above") {
            _ in
            try await sql("SHOW STATUS LIKE 'wsrep_cluster_size'", node: "n1", on: ssh[0]).hasSuffix("2")
        }
        _ = try await sql("REPLACE INTO haha_e2e.probe VALUES (2, 'only n1 and n2 have this')", node: "n1", on: ssh[0])
        for node in ["n1", "n2"] { #expect(try await run([haha, "lab", "kill", node] + lab, in: scratch.path).exitCode == 0) }
        let byName = Dictionary(uniqueKeysWithValues: zip(spec.nodes.map(\.name), ssh))
        try await start(["n1", "n3"], of: byName, haha: haha, lab: lab, in: scratch)
        let preview = try await run([haha, "recover", "--config", specPath, "--from", "n3"], in: scratch.path, timeout: 1200)
        #expect(preview.exitCode == 2, "haha recover without --yes must not bootstrap:\n\(preview.errorOutput)")
        #expect(preview.output.contains("starting from n3"), "\(preview.output)\n\(preview.errorOutput)")
        #expect(preview.output.contains("n1 is at seqno") && preview.output.contains("would be discarded"), "\(preview.output)")
        try await start(["n2"], of: byName, haha: haha, lab: lab, in: scratch)
        let recovered = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: 2400)
        var homeAssistantLog = ""
        if recovered.exitCode != 0 {
            // What Home Assistant and its fences said, for the report (the lab is gone after the test).
            // The fences' decisions and Home Assistant's storage lines, in time order (a store it found corrupt is renamed
            // `NAME.corrupt.TIME`: the listing of each brick's .storage shows those), then each brick's copy of the files.
            homeAssistantLog =
                (try? await ssh[0].run(
                    Command(
                        [
                            "sh", "-c",
                            "docker service logs --timestamps haha_homeassistant 2>&1 | grep -E 'haha-fence|onboarding|storage|corrupt|decoding|ERROR|Starting Home Assistant' | grep -v -e DEBUG -e 'invalid authentication' | sort -k1,1 | tail -80",
                        ], timeout: 60)
                ).output) ?? ""
            for (node, runner) in zip(spec.nodes, ssh) {
                let files =
                    (try? await runner.run(
                        Command(
                            [
                                "sh", "-c",
                                "cd \(spec.storage.brickPath)/homeassistant/.storage 2>/dev/null && ls -la --time-style=+%T 2>&1; md5sum auth auth_provider.homeassistant onboarding 2>&1; grep -o '\"is_owner\": *[a-z]*' auth 2>&1",
                            ], timeout: 30)
                    ).output) ?? "(no answer)"
                homeAssistantLog += "\n\(node.name)'s brick:\n\(files)"
            }
        }
        #expect(recovered.exitCode == 0, "haha up after the power cut failed:\n\(recovered.errorOutput)\n\(homeAssistantLog)")
        for (node, runner) in zip(spec.nodes, ssh) {
            #expect(
                try await sql("SELECT note FROM haha_e2e.probe WHERE id = 1", node: node.name, on: runner) == "before the power cut",
                "\(node.name)")
            #expect(
                try await sql("SELECT note FROM haha_e2e.probe WHERE id = 2", node: node.name, on: runner) == "only n1 and n2 have this",
                "\(node.name)")
        }

        await logDiscovery(before: "the second power cuts", specPath: specPath)
        budget.step("power cuts again, n3 first: the database heals itself")
        // The same cuts, and nobody runs haha: the three members come back at once, n3 with an older saved view, and
        // Galera's own recovery forms nothing. The watchdogs bootstrap the member with the most commits (each
        // crashed member started from the position --wsrep-recover read), and the others join it by IST.
        #expect(try await run([haha, "lab", "kill", "n3"] + lab, in: scratch.path).exitCode == 0)
        try await waitUntil("n1 and n2 to form a Primary Component of 2", timeout: budget.timeout(120), next: "read the test log above") {
            _ in
            (try? await sql("SHOW STATUS LIKE 'wsrep_cluster_size'", node: "n1", on: ssh[0]))?.hasSuffix("2") == true
        }
        _ = try await sql("REPLACE INTO haha_e2e.probe VALUES (4, 'n3 was cut again')", node: "n1", on: ssh[0])
        for node in ["n1", "n2"] { #expect(try await run([haha, "lab", "kill", node] + lab, in: scratch.path).exitCode == 0) }
        try await start(["n1", "n2", "n3"], of: byName, haha: haha, lab: lab, in: scratch)
        let status =
            "SELECT CONCAT_WS(' ', MAX(IF(VARIABLE_NAME = 'WSREP_CLUSTER_STATUS', VARIABLE_VALUE, NULL)), "
            + "MAX(IF(VARIABLE_NAME = 'WSREP_CLUSTER_SIZE', VARIABLE_VALUE, NULL)), MAX(IF(VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT', VARIABLE_VALUE, NULL)), "
            + "MAX(IF(VARIABLE_NAME = 'WSREP_CLUSTER_STATE_UUID', VARIABLE_VALUE, NULL))) FROM information_schema.GLOBAL_STATUS"
        let healing = Date()
        try await waitUntil(
            "3 Synced members in one primary component with the cluster's own UUID, nobody running haha", timeout: budget.timeout(420),
            interval: 5, next: "read the members' logs: `docker service logs haha_galera-n1` on a node"
        ) { _ in
            var seen: [String] = []
            for (node, runner) in zip(spec.nodes, ssh) {
                seen.append("\(node.name): " + ((try? await sql(status, node: node.name, on: runner)) ?? "no answer"))
            }
            let uuids = Set(seen.map { $0.split(separator: " ").last.map(String.init) ?? "" })
            guard seen.allSatisfy({ $0.contains(": Primary 3 Synced ") }), uuids.count == 1, !uuids.contains(GaleraRecovery.nilUUID) else {
                throw HahaError(.invalidState, "the members say " + seen.joined(separator: "; "))
            }
            return true
        }
        print("the database healed itself \(Int(Date().timeIntervalSince(healing))) s after the nodes answered")
        for (node, runner) in zip(spec.nodes, ssh) {
            #expect(
                try await sql("SELECT note FROM haha_e2e.probe WHERE id = 4", node: node.name, on: runner) == "n3 was cut again",
                "\(node.name)")
        }

        await logDiscovery(before: "n1 dead and haha recover", specPath: specPath)
        budget.step("n1 dead, the others power-cut; haha recover --from n2 --yes; n1 back, haha up")
        // n1 dies for good (its SD card) and the others lose power too. With n1 still dead, a confirmed
        // `haha recover --from n2 --yes` starts the database from n2: the lock and the cluster-wide commands go to the
        // nodes that answer. n1 then comes back and `haha up` rejoins it; nothing committed is lost.
        _ = try await sql("REPLACE INTO haha_e2e.probe VALUES (3, 'before n1 died')", node: "n2", on: ssh[1])
        for node in ["n1", "n2", "n3"] { #expect(try await run([haha, "lab", "kill", node] + lab, in: scratch.path).exitCode == 0) }
        try await start(["n2", "n3"], of: byName, haha: haha, lab: lab, in: scratch)
        let forced = try await run([haha, "recover", "--config", specPath, "--from", "n2", "--yes"], in: scratch.path, timeout: 1800)
        #expect(forced.exitCode == 0, "haha recover --from n2 --yes with n1 dead failed:\n\(forced.output)\n\(forced.errorOutput)")
        #expect(forced.output.contains("n1"), "the report does not mention the dead n1:\n\(forced.output)")
        for (node, runner) in zip(spec.nodes, ssh).dropFirst() {
            #expect(
                try await sql("SELECT note FROM haha_e2e.probe WHERE id = 3", node: node.name, on: runner) == "before n1 died",
                "\(node.name)")
        }
        try await start(["n1"], of: byName, haha: haha, lab: lab, in: scratch)
        let rejoined = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: 2400)
        #expect(rejoined.exitCode == 0, "haha up after n1's return failed:\n\(rejoined.errorOutput)")
        for (node, runner) in zip(spec.nodes, ssh) {
            #expect(
                try await sql("SELECT note FROM haha_e2e.probe WHERE id = 3", node: node.name, on: runner) == "before n1 died",
                "\(node.name)")
        }

        await logDiscovery(before: "the backup", specPath: specPath)
        try await backupDownPurgeUpRestore(haha: haha, specPath: specPath, ssh: ssh, scratch: scratch)
        await logDiscovery(before: "node replace", specPath: specPath)
        try await replaceADeadNode(haha: haha, lab: lab, specPath: specPath, scratch: scratch)
        await logDiscovery(before: "the upgrades", specPath: specPath)
        try await upgradeAndBackAndABrokenImage(haha: haha, specPath: specPath, scratch: scratch)
        await logDiscovery(before: "the host-network step", specPath: specPath)
        try await hostNetworkSeesTheLAN(haha: haha, lab: lab, specPath: specPath, scratch: scratch)

        budget.step("haha down")
        // haha down leaves the nodes as they were.
        let down = try await run([haha, "down", "--config", specPath], in: scratch.path, timeout: 900)
        #expect(down.exitCode == 0, "haha down failed:\n\(down.errorOutput)")
        for (index, runner) in ssh.enumerated() {
            let after = try await runner.shell(Self.nodeState, timeout: 60).output
            #expect(
                after == before[index], "\(spec.nodes[index].name) differs after haha down:\nbefore:\n\(before[index])\nafter:\n\(after)")
        }
        budget.step("done")
    }

    /// Issue #10's round trip: a recorder row (a state set through the API), a file in /config and a retained message
    /// are backed up; `haha down --purge` and `haha up` make an empty cluster; `haha restore` brings all three back.
    func backupDownPurgeUpRestore(haha: String, specPath: String, ssh: [any CommandRunner], scratch: Scratch) async throws {
        budget.step("haha backup, haha down --purge, haha up, haha restore")
        let workspace = try Workspace.load(specPath: specPath)
        let spec = workspace.spec, secrets = try workspace.readSecrets()
        let ha = HomeAssistantSetup(baseURL: URL(string: "http://\(spec.nodes[1].address):8123/")!)
        var token = try await login(ha, password: secrets[SecretCatalog.homeAssistantOwner])
        let stateSet = try await ha.request("POST", "api/states/sensor.haha_backup", json: ["state": "before the backup"], token: token)
        #expect(stateSet.status == 200 || stateSet.status == 201, "\(stateSet.summary)")
        let recorded = "SELECT COUNT(*) FROM homeassistant.states_meta WHERE entity_id = 'sensor.haha_backup'"
        try await waitUntil("the recorder to write sensor.haha_backup", timeout: budget.timeout(60), next: "read the test log above") { _ in
            try await sql(recorded, node: "n2", on: ssh[1]) == "1"
        }
        let probe = "\(spec.storage.mountPath)/homeassistant/haha-backup-probe.txt"
        try await ssh[0].shell("echo 'in /config before the backup' > \(probe)", timeout: 30)
        let devices = secrets[SecretCatalog.mqttUser("devices")]
        let broker = spec.sensorAddress.vip?.address ?? spec.nodes[0].address
        try await publish(
            broker: broker, user: "devices", password: devices, topic: "haha/e2e/backup", message: "retained before the backup")

        let archive = scratch.file("backup.tar"), passphrase = scratch.file("passphrase")
        try "a passphrase only the owner knows\n".write(toFile: passphrase, atomically: true, encoding: .utf8)
        let backup = try await run(
            [haha, "backup", "--config", specPath, "--out", archive, "--include-secrets", "--passphrase-file", passphrase],
            in: scratch.path,
            timeout: 900)
        try #require(backup.exitCode == 0, "haha backup failed:\n\(backup.errorOutput)")
        let again = try await run([haha, "backup", "--config", specPath, "--out", archive], in: scratch.path, timeout: 900)
        #expect(
            again.exitCode != 0 && again.errorOutput.contains("never overwrites"), "a second backup to the same file: \(again.errorOutput)")

        // Dated archives in a directory, the newest kept: two runs with --keep 1 leave one archive and any other file.
        let directory = scratch.file("backups")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "not an archive\n".write(toFile: "\(directory)/notes.txt", atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let dated = try await run(
                [haha, "backup", "--config", specPath, "--dir", directory, "--keep", "1"], in: scratch.path, timeout: 900)
            #expect(dated.exitCode == 0, "haha backup --dir --keep 1 failed:\n\(dated.errorOutput)")
            try await Task.sleep(for: .seconds(1.1))
        }
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(kept.count == 2 && kept.contains("notes.txt") && kept.contains(where: BackupSchedule.isArchive), "\(kept)")

        let purge = try await run([haha, "down", "--purge", "--config", specPath], in: scratch.path, timeout: 900)
        try #require(purge.exitCode == 0, "haha down --purge failed:\n\(purge.errorOutput)")
        let fresh = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: 2400)
        try #require(fresh.exitCode == 0, "haha up after the purge failed:\n\(fresh.errorOutput)")
        #expect(try await ssh[0].run(Command(["test", "-e", probe], timeout: 30)).exitCode == 1, "the purge left /config's file")
        let unconfirmed = try await run([haha, "restore", "--config", specPath, archive], in: scratch.path, timeout: 900)
        #expect(unconfirmed.exitCode == 2, "haha restore without --yes must change nothing:\n\(unconfirmed.errorOutput)")

        let restore = try await run([haha, "restore", "--config", specPath, "--yes", archive], in: scratch.path, timeout: 1800)
        try #require(restore.exitCode == 0, "haha restore failed:\n\(restore.output)\n\(restore.errorOutput)")
        try await ha.waitUntilUp(timeout: budget.timeout(300))
        for (node, runner) in zip(spec.nodes, ssh) {
            #expect(try await sql(recorded, node: node.name, on: runner) == "1", "\(node.name): the recorder's row did not come back")
        }
        #expect(try await ssh[2].output(["cat", probe]) == "in /config before the backup")
        let retained = try await LocalRunner().run(
            Command(
                [
                    "mosquitto_sub", "-h", broker, "-p", "1883", "-u", "devices", "-P", devices, "-t", "haha/e2e/backup", "-C", "1", "-W",
                    "30",
                ], timeout: 60))
        #expect(retained.output.trimmingCharacters(in: .whitespacesAndNewlines) == "retained before the backup", "\(retained.errorOutput)")
        // The spec and its secrets, on a "new laptop": only with the passphrase, and the same as the originals.
        let unpacked = scratch.file("restored-secrets")
        let secretsBack = try await run(
            [haha, "restore", archive, "--secrets-into", unpacked, "--passphrase-file", passphrase], in: scratch.path, timeout: 300)
        #expect(secretsBack.exitCode == 0, "haha restore --secrets-into failed:\n\(secretsBack.errorOutput)")
        let secretName = "\(URL(fileURLWithPath: workspace.secretsDirectory).lastPathComponent)/\(SecretCatalog.homeAssistantOwner)"
        let original = try String(contentsOfFile: "\(workspace.secretsDirectory)/\(SecretCatalog.homeAssistantOwner)", encoding: .utf8)
        #expect(
            (try? String(contentsOfFile: "\(unpacked)/\(secretName)", encoding: .utf8)) == original, "the unpacked owner password differs")
        #expect(FileManager.default.fileExists(atPath: "\(unpacked)/haha.yaml"))

        // The owner's account is the backup's (its password is the one in the secrets directory): the API answers.
        token = try await login(ha, password: secrets[SecretCatalog.homeAssistantOwner])
        #expect(try await ha.request("GET", "api/", token: token).status == 200)
        // haha's refresh token is newer than the restored auth store: `haha up` logs in again with the stored password.
        let upAfter = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: 1200)
        #expect(upAfter.exitCode == 0, "haha up after the restore failed:\n\(upAfter.errorOutput)")
    }

    /// Issue #10's replace: n2's disk dies (`haha lab wipe`), a fresh machine comes up at its address, and
    /// `haha node replace n2` gives it n2's place. Home Assistant is asked every second throughout (the longest gap
    /// is logged for docs/benchmarks.md). After it: three Synced members, the restored recorder row on the new
    /// member (a full state transfer), the restored /config file on its brick (the heal), nothing pending heal.
    func replaceADeadNode(haha: String, lab: [String], specPath: String, scratch: Scratch) async throws {
        budget.step("n2's disk dies; a fresh machine at its address; haha node replace n2")
        let spec = try Workspace.load(specPath: specPath).spec
        let ha = HomeAssistantSetup(baseURL: URL(string: "http://\(spec.sensorAddress.vip?.address ?? spec.nodes[0].address):8123/")!)
        #expect(try await run([haha, "lab", "kill", "n2"] + lab, in: scratch.path).exitCode == 0)
        #expect(try await run([haha, "lab", "wipe", "n2"] + lab, in: scratch.path).exitCode == 0)
        let up = try await run([haha, "lab", "up", "--with-images", "--subnet", Self.subnet] + lab, in: scratch.path, timeout: 1200)
        try #require(up.exitCode == 0, "lab up of the fresh n2 failed: \(up.errorOutput)")
        let refused = try await run([haha, "node", "replace", "n2", "--config", specPath], in: scratch.path, timeout: 300)
        #expect(refused.exitCode == 2, "an unconfirmed replace must change nothing:\n\(refused.errorOutput)")
        let sampler = Task {
            var longest = 0.0, last = ContinuousClock.now, samples = 0
            while !Task.isCancelled {
                let status = (try? await ha.request("GET", "api/", timeout: 1))?.status ?? 0
                samples += 1
                // 401: Home Assistant answered (without a token); anything else is a gap.
                if status == 200 || status == 401 {
                    longest = max(longest, (ContinuousClock.now - last) / .seconds(1))
                    last = .now
                }
                try? await Task.sleep(for: .seconds(1))
            }
            return (longest, samples)
        }
        let replace = try await run(
            [haha, "node", "replace", "n2", "--config", specPath, "--yes", "--json"], in: scratch.path, timeout: budget.timeout(1800))
        sampler.cancel()
        let (longest, samples) = await sampler.value
        print("[haha-e2e] node replace n2: exit \(replace.exitCode), Home Assistant's longest gap \(Int(longest)) s in \(samples) samples")
        try #require(replace.exitCode == 0, "haha node replace n2 failed:\n\(replace.output)\n\(replace.errorOutput)")
        let report = try? JSONSerialization.jsonObject(with: replace.stdout) as? [String: Any]
        print("[haha-e2e] node replace n2 took \(report?["seconds"] ?? "?") s")

        let workspace = try Workspace.load(specPath: specPath)
        let ssh = workspace.spec.nodes.map { workspace.runner(for: $0) }
        for (node, runner) in zip(workspace.spec.nodes, ssh) {
            #expect(
                try await sql("SHOW STATUS LIKE 'wsrep_local_state_comment'", node: node.name, on: runner).hasSuffix("Synced"),
                "\(node.name)")
        }
        #expect(
            try await sql("SELECT COUNT(*) FROM homeassistant.states_meta WHERE entity_id = 'sensor.haha_backup'", node: "n2", on: ssh[1])
                == "1", "the new member did not receive the database")
        #expect(
            try await ssh[1].run(Command(["test", "-f", "\(spec.storage.brickPath)/homeassistant/haha-backup-probe.txt"], timeout: 30))
                .exitCode == 0, "the new brick did not receive /config's files")
        let heal = try await ssh[0].output(["gluster", "volume", "heal", spec.storage.volume, "info", "summary"], timeout: 60)
        let bricks = GlusterOutput.healSummary(heal)
        #expect(bricks.count == 3 && bricks.allSatisfy { $0.connected && $0.entries == 0 }, "\(heal)")
        try await waitUntil("haha status to say healthy after the replace", timeout: budget.timeout(180), interval: 5, next: "read the log")
        {
            _ in
            try await run([haha, "status", "--config", specPath], in: scratch.path, timeout: 120).exitCode == 0
        }
    }

    /// Issue #10's upgrade: Home Assistant's image to a second tag of the lab's build and back, then to an image
    /// without Home Assistant in it, which must roll back by itself: the old image runs again, and a file in /config
    /// and a recorder row written before the upgrade are there.
    func upgradeAndBackAndABrokenImage(haha: String, specPath: String, scratch: Scratch) async throws {
        budget.step("haha upgrade to a second tag and back; a broken image rolls back by itself")
        let workspace = try Workspace.load(specPath: specPath)
        let spec = workspace.spec, secrets = try workspace.readSecrets()
        let ssh = spec.nodes.map { workspace.runner(for: $0) }
        let image = spec.images.homeAssistant, second = image + "-second", broken = image + "-broken"
        let breakIt = #"rm -rf "$(python3 -c 'import homeassistant, os; print(os.path.dirname(homeassistant.__file__))')""#
        for runner in ssh {
            try await runner.check(["docker", "tag", image, second], timeout: 60)
            try await runner.shell(
                """
                docker rm -f haha-broken >/dev/null 2>&1
                docker run --name haha-broken --network none --entrypoint sh \(shellQuote(image)) -c \(shellQuote(breakIt)) \
                  && docker commit haha-broken \(shellQuote(broken)) >/dev/null && docker rm haha-broken >/dev/null
                """, timeout: 300)
        }
        func imageInSpec() throws -> String { try Workspace.load(specPath: specPath).spec.images.homeAssistant }

        let dry = try await run([haha, "upgrade", "--config", specPath, "--home-assistant", second, "--dry-run"], in: scratch.path)
        #expect(dry.exitCode == 0 && dry.errorOutput.contains("→ \(second)"), "\(dry.errorOutput)")
        #expect(try imageInSpec() == image, "a dry run changed haha.yaml")
        for target in [second, image] {
            let upgrade = try await run(
                [haha, "upgrade", "--config", specPath, "--home-assistant", target, "--json"], in: scratch.path,
                timeout: budget.timeout(1500))
            #expect(upgrade.exitCode == 0, "haha upgrade to \(target) failed:\n\(upgrade.errorOutput)")
            let report = try? JSONSerialization.jsonObject(with: upgrade.stdout) as? [String: Any]
            print("[haha-e2e] haha upgrade to \(target): exit \(upgrade.exitCode), \(report?["seconds"] ?? "?") s")
            #expect(try imageInSpec() == target)
            let tasks = try await ssh[0].output(
                ["docker", "service", "ps", "--filter", "desired-state=running", "--format", "{{.Image}}", "haha_homeassistant"])
            #expect(
                tasks.split(separator: "\n").allSatisfy { $0.hasPrefix(target) && !$0.dropFirst(target.count).hasPrefix("-") }, "\(tasks)")
        }

        // What must survive the failed upgrade: a file in /config and a recorder row, both written before it.
        let ha = HomeAssistantSetup(baseURL: URL(string: "http://\(spec.nodes[0].address):8123/")!)
        let token = try await login(ha, password: secrets[SecretCatalog.homeAssistantOwner])
        let set = try await ha.request("POST", "api/states/sensor.haha_upgrade", json: ["state": "before the upgrade"], token: token)
        #expect(set.status == 200 || set.status == 201, "\(set.summary)")
        let recorded = "SELECT COUNT(*) FROM homeassistant.states_meta WHERE entity_id = 'sensor.haha_upgrade'"
        try await waitUntil("the recorder to write sensor.haha_upgrade", timeout: budget.timeout(60), next: "read the test log above") {
            _ in
            try await sql(recorded, node: "n1", on: ssh[0]) == "1"
        }
        let probe = "\(spec.storage.mountPath)/homeassistant/haha-upgrade-probe.txt"
        try await ssh[0].shell("echo 'in /config before the upgrade' > \(probe)", timeout: 30)
        let failed = try await run(
            [haha, "upgrade", "--config", specPath, "--home-assistant", broken, "--timeout", "150"], in: scratch.path,
            timeout: budget.timeout(1800))
        print("[haha-e2e] haha upgrade to a broken image: exit \(failed.exitCode)")
        #expect(failed.exitCode == 1 && failed.errorOutput.contains("upgrade rolled back"), "\(failed.errorOutput)")
        #expect(try imageInSpec() == image)
        try await ha.waitUntilUp(timeout: budget.timeout(300))
        #expect(try await ssh[2].output(["cat", probe]) == "in /config before the upgrade")
        for (node, runner) in zip(spec.nodes, ssh) {
            #expect(try await sql(recorded, node: node.name, on: runner) == "1", "\(node.name): the recorder's row is gone")
        }
    }

    /// `homeAssistant.hostNetwork: true` on the running cluster: Home Assistant moves to its node's network, still
    /// reaches the recorder and the broker, sees a service that another node announces over mDNS (its zeroconf browser,
    /// the websocket command `zeroconf/subscribe_discovery`), and fails over on a power cut. The cluster stays so for
    /// `haha down`, whose removal of the firewall's extra port the node-state check then covers.
    func hostNetworkSeesTheLAN(haha: String, lab: [String], specPath: String, scratch: Scratch) async throws {
        budget.step("homeAssistant.hostNetwork: true; haha up; recorder, MQTT, zeroconf; a power cut")
        let text = try String(contentsOfFile: specPath, encoding: .utf8)
        try #require(text.contains("  hostNetwork: false\n"), "the lab's haha.yaml has no hostNetwork line")
        try text.replacingOccurrences(of: "  hostNetwork: false\n", with: "  hostNetwork: true\n")
            .write(toFile: specPath, atomically: true, encoding: .utf8)
        let workspace = try Workspace.load(specPath: specPath)
        let spec = workspace.spec, secrets = try workspace.readSecrets()
        let ssh = Dictionary(uniqueKeysWithValues: spec.nodes.map { ($0.name, workspace.runner(for: $0)) })
        let vip = try #require(spec.sensorAddress.vip?.address)
        // Every failure, recovery, restore, replacement and upgrade so far kept the probe sensor's retained discovery.
        let retained = await retainedMessages(through: vip, password: secrets[SecretCatalog.mqttUser("devices")])
        #expect(
            retained.answered && retained.lines.contains { $0.hasPrefix(Self.discoveryTopic) },
            "the retained discovery message was lost: \(retained)")
        let up = try await run([haha, "up", "--config", specPath], in: scratch.path, timeout: budget.timeout(1800))
        try #require(up.exitCode == 0, "haha up with hostNetwork failed:\n\(up.errorOutput)")

        let ha = HomeAssistantSetup(baseURL: URL(string: "http://\(vip):8123/")!)
        try await ha.waitUntilUp(timeout: budget.timeout(300))
        let token = try await login(ha, password: secrets[SecretCatalog.homeAssistantOwner])
        // This cluster's configuration.yaml was written without discovery (haha never rewrites it): added as the README
        // says, then Home Assistant restarted through its API (exit 100: the fence restarts it in place).
        let configuration = "\(spec.storage.mountPath)/homeassistant/configuration.yaml"
        try await ssh["n1"]!.shell("printf '\\nzeroconf:\\nssdp:\\ndhcp:\\n' >> \(configuration)", timeout: 30)
        let restart = try await ha.request("POST", "api/services/homeassistant/restart", json: [:], token: token)
        #expect(restart.status == 200, "\(restart.summary)")
        try await Task.sleep(for: .seconds(10))
        try await ha.waitUntilUp(timeout: budget.timeout(300))
        let leaseText = try await ssh["n1"]!.output(["cat", FenceLease.path(spec)], timeout: 30)
        guard case .held(let holderHost) = FenceLease(parsing: leaseText) else {
            Issue.record("no lease holder after haha up: \(leaseText)")
            return
        }
        let holderName = try await ssh["n1"]!.output(
            ["docker", "node", "inspect", holderHost, "--format", "{{index .Spec.Labels \"\(Renderer.Names.nodeLabel)\"}}"], timeout: 30)
        let holder = try #require(spec.nodes.first { $0.name == holderName }, "the lease holder \(holderHost) is labelled \(holderName)")
        let holderSSH = try #require(ssh[holder.name])
        // On its node's network: the node itself listens on 8123 (no proxy publishes it any more).
        let listening = try await holderSSH.shell("ss -Hltn 'sport = :8123' | wc -l", timeout: 30).output
        #expect(Int(listening.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0, "nothing listens on \(holder.name):8123")

        // The published 3306 answers the nodes, not this machine (on the lab's network, but no node of the cluster).
        let dial = ["timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/\(holder.address)/3306"]
        #expect(!(try await LocalRunner().run(Command(dial, timeout: 15))).succeeded, "3306 on \(holder.name) answered this machine")

        // The recorder (its node's member, through the published 3306) and the broker (through its node's proxy).
        let set = try await ha.request("POST", "api/states/sensor.haha_host_network", json: ["state": "on the host"], token: token)
        #expect(set.status == 200 || set.status == 201, "\(set.summary)")
        let recorded = "SELECT COUNT(*) FROM homeassistant.states_meta WHERE entity_id = 'sensor.haha_host_network'"
        try await waitUntil("the recorder to write sensor.haha_host_network", timeout: budget.timeout(90), next: "read the test log above")
        {
            _ in try await sql(recorded, node: holder.name, on: holderSSH) == "1"
        }
        let devices = secrets[SecretCatalog.mqttUser("devices")]
        try await waitForSensor(
            "43", what: "the MQTT sensor to show 43 through the host network", timeout: 180, ha: ha, token: token, broker: vip,
            password: devices, nodes: spec.nodes.compactMap { ssh[$0.name] })

        // Another node announces a service over mDNS (avahi, as a printer or an ESPHome device would); Home Assistant's
        // zeroconf browser lists it with that node's address.
        let other = try #require(spec.dataNodes.first { $0.name != holder.name })
        let service = "haha-e2e-probe-\(Int.random(in: 1000...9999))"
        try await ssh[other.name]!.shell(
            """
            cat > /etc/avahi/services/haha-e2e-probe.service <<'EOF'
            <?xml version="1.0" standalone='no'?>
            <!DOCTYPE service-group SYSTEM "avahi-service.dtd">
            <service-group><name>\(service)</name><service><type>_http._tcp</type><port>8080</port></service></service-group>
            EOF
            avahi-daemon --reload
            """, timeout: 30)
        let browse = try await holderSSH.shell(
            "c=$(docker ps -q --filter label=com.docker.swarm.service.name=haha_homeassistant | head -n1); "
                + "docker exec -i \"$c\" python3 -c \(shellQuote(Self.zeroconfBrowser)) \(service) 90",
            input: Data((token + "\n").utf8), timeout: 150)
        try await ssh[other.name]!.shell("rm -f /etc/avahi/services/haha-e2e-probe.service; avahi-daemon --reload", timeout: 30)
        print("[haha-e2e] zeroconf browser on \(holder.name): \(browse.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(browse.succeeded, "Home Assistant's zeroconf browser did not list \(service):\n\(browse.output)\n\(browse.errorOutput)")
        #expect(browse.output.contains(other.address), "the service is not listed with \(other.name)'s address: \(browse.output)")

        // A power cut of the node running it: back through the VIP, never two, nothing lost.
        let labName = try #require(lab.firstIndex(of: "--name").map { lab[$0 + 1] })
        let drill = try await run([haha, "drill", "--config", specPath, "--lab", labName, "--json"], in: scratch.path, timeout: 1200)
        let report = try? JSONSerialization.jsonObject(with: drill.stdout) as? [String: Any]
        print("[haha-e2e] host-network drill: Home Assistant back through the VIP after \(report?["vipHTTPSeconds"] ?? "?") s")
        #expect(drill.exitCode == 0 && report?["passed"] as? Bool == true, "host-network drill:\n\(drill.output)\n\(drill.errorOutput)")
        #expect(report?["mostHomeAssistants"] as? Int == 1, "host-network drill: two Home Assistants at once?\n\(drill.output)")
    }

    /// Runs in Home Assistant's container (its Python has aiohttp): logs in to the websocket API with the token on stdin,
    /// subscribes to the zeroconf browser and prints the first service named argv[1] within argv[2] seconds (exit 0), or
    /// exits 1.
    static let zeroconfBrowser = """
        import asyncio, json, sys
        import aiohttp

        async def main():
            token, name, wait = sys.stdin.readline().strip(), sys.argv[1], float(sys.argv[2])
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect("http://127.0.0.1:8123/api/websocket") as ws:
                    await ws.receive_json(timeout=10)
                    await ws.send_json({"type": "auth", "access_token": token})
                    answer = await ws.receive_json(timeout=10)
                    if answer.get("type") != "auth_ok":
                        sys.exit("not logged in: %s" % answer)
                    await ws.send_json({"id": 1, "type": "zeroconf/subscribe_discovery"})
                    while loop.time() < deadline:
                        try:
                            message = await ws.receive_json(timeout=deadline - loop.time())
                        except asyncio.TimeoutError:
                            break
                        if message.get("type") == "result" and not message.get("success"):
                            sys.exit("zeroconf/subscribe_discovery refused: %s" % message)
                        for found in (message.get("event") or {}).get("add", []):
                            if found.get("name", "").startswith(name + "."):
                                print(json.dumps(found))
                                return
            sys.exit("%s not listed within %s s" % (name, wait))

        asyncio.run(main())
        """

    /// Starts lab nodes after a power cut (`haha lab start`) and waits until each one's Docker engine answers over ssh.
    func start(_ names: [String], of nodes: [String: any CommandRunner], haha: String, lab: [String], in scratch: Scratch) async throws {
        for name in names { #expect(try await run([haha, "lab", "start", name] + lab, in: scratch.path).exitCode == 0) }
        for name in names {
            let runner = try #require(nodes[name], "no node \(name) in the lab's spec")
            try await waitUntil(
                "\(name) to answer after its power cut", timeout: budget.timeout(180), interval: 2, next: "read the test log above"
            ) { _ in
                try await runner.run(Command(["docker", "info"], timeout: 20)).succeeded
            }
        }
    }

    /// Starts `haha up` and kills it (SIGKILL, as a power cut of the laptop would) `delay` seconds after the step
    /// whose title starts with `marker` begins.
    func killUp(_ haha: String, spec: String, at marker: String, after delay: Double, in directory: String) async throws {
        let script = #"""
            log=$(mktemp); "$1" up --config "$2" 2>"$log" & pid=$!
            while ! grep -qF -- " • $3" "$log"; do
              if ! kill -0 $pid 2>/dev/null; then wait $pid; echo "haha up exited ($?) before the step '$3':"; cat "$log"; rm -f "$log"; exit 10; fi
              sleep 0.2
            done
            sleep "$4"; kill -9 $pid 2>/dev/null; wait $pid; rc=$?; cat "$log"; rm -f "$log"; exit $rc
            """#
        let result = try await run(["sh", "-c", script, "sh", haha, spec, marker, String(delay)], in: directory, timeout: 2400)
        // A run that finished before the kill (an earlier killed run got this far, and what was left took less than
        // the delay) had nothing left to interrupt: not a failure. Any other ending is.
        let converged = result.exitCode == 0
        if converged { print("killUp: haha up finished before the kill in the step '\(marker)'; not interrupted") }
        #expect(
            result.exitCode == 137 || converged,
            "haha up was to be killed in the step '\(marker)' (exit \(result.exitCode)):\n\(result.output)")
    }

    /// Runs SQL as root inside the node's Galera container; returns the trimmed output.
    func sql(_ statement: String, node: String, on runner: any CommandRunner) async throws -> String {
        let script =
            "c=$(docker ps -q --filter label=com.docker.swarm.service.name=haha_galera-\(node) | head -n1); [ -n \"$c\" ] || exit 3; "
            + "docker exec -i \"$c\" sh -c 'mariadb -uroot -p\"$(cat /run/secrets/mariadb-root-password)\" -N -B'"
        return try await runner.shell(script, input: Data((statement + "\n").utf8), timeout: 60).output
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map {
                String($0.split(separator: "\t").last ?? "")
            } ?? ""
    }

    /// The retained messages under `haha/` and `homeassistant/` through `host`, asked until the broker answers (60 s at
    /// most: a broker moving with the lease refuses connections for a moment).
    func retainedMessages(through host: String, password: String) async -> (answered: Bool, lines: [String], error: String) {
        var error = ""
        for _ in 0..<20 {
            let seen = try? await LocalRunner().run(
                Command(
                    [
                        "mosquitto_sub", "-h", host, "-u", "devices", "-P", password, "-t", "haha/#", "-t", "homeassistant/#", "-v", "-W",
                        "3",
                    ], timeout: 20))
            // 27: connected, and nothing more came within -W seconds.
            if let seen, seen.exitCode == 27 || seen.exitCode == 0 {
                return (true, seen.output.split(separator: "\n").map(String.init), "")
            }
            error = seen.map { "exit \($0.exitCode): \($0.errorOutput)" } ?? "did not run"
            try? await Task.sleep(for: .seconds(3))
        }
        return (false, [], error)
    }

    /// Logs whether the probe sensor's retained discovery message is still on the broker, so that a CI log shows between
    /// which steps it went (CI runs lost it; a lab run kept it throughout).
    func logDiscovery(before step: String, specPath: String) async {
        guard let workspace = try? Workspace.load(specPath: specPath), let secrets = try? workspace.readSecrets(),
            let vip = workspace.spec.sensorAddress.vip?.address
        else { return }
        let seen = await retainedMessages(through: vip, password: secrets[SecretCatalog.mqttUser("devices")])
        let present = seen.lines.contains { $0.hasPrefix(Self.discoveryTopic) }
        let state = !seen.answered ? "unknown (no answer: \(seen.error))" : present ? "there" : "GONE"
        let lines = seen.lines.map { String($0.prefix(60)) }.joined(separator: " | ")
        FileHandle.standardError.write(Data("[haha-e2e] before \(step): the discovery message is \(state); retained: \(lines)\n".utf8))
    }

    static let discoveryTopic = "homeassistant/sensor/haha_e2e/config"
    static let discovery = #"{"name":"haha e2e","state_topic":"haha/e2e/state","unique_id":"haha_e2e_probe"}"#

    /// Publishes `value` to the probe sensor's topic until Home Assistant shows it, its discovery message too, as devices
    /// do when Home Assistant comes back. In CI the retained discovery message was gone after the switch to the host's
    /// network while every other retained message was still there: Home Assistant itself clears it when the entity
    /// leaves its registry (why it did there is not known yet; the step before checks that it survived until then). On a
    /// timeout the error says what Home Assistant showed last, which nodes ran a broker, the retained messages and Home
    /// Assistant's MQTT log lines.
    func waitForSensor(
        _ value: String, what: String, timeout: Double, ha: HomeAssistantSetup, token: String, broker: String, password: String,
        nodes: [any CommandRunner]
    ) async throws {
        do {
            try await waitUntil(what, timeout: budget.timeout(timeout), next: "read the test log above") { poll in
                try await publish(broker: broker, user: "devices", password: password, topic: Self.discoveryTopic, message: Self.discovery)
                try await publish(broker: broker, user: "devices", password: password, topic: "haha/e2e/state", message: value)
                let state = try await ha.request("GET", "api/states/sensor.haha_e2e", token: token)
                poll.saw(on: "Home Assistant", "GET api/states/sensor.haha_e2e", state.summary)
                return (state.json as? [String: Any])?["state"] as? String == value
            }
        } catch {
            var lines = ["\(error)"]
            let retained = await retainedMessages(through: broker, password: password)
            let seen = retained.answered ? retained.lines.joined(separator: "\n") : retained.error
            lines.append("retained messages through \(broker): \(seen)")
            let look = """
                for c in $(docker ps -q --filter name=haha_mosquitto); do
                  echo "broker $c: $(docker exec $c sh -c 'test -e /tmp/haha-broker-running && echo running || echo standby')"
                  docker logs --tail 5 $c 2>&1
                done
                for c in $(docker ps -q --filter name=haha_homeassistant); do
                  echo "home assistant $c:"; docker logs $c 2>&1 | grep -iE 'mqtt|fence' | tail -15
                done
                """
            for node in nodes {
                let seen = try? await node.shell(look, timeout: 60)
                lines.append("on \(node.target):\n\(seen.map { $0.output + $0.errorOutput } ?? "no answer")")
            }
            throw HahaError(.timeout, lines.joined(separator: "\n"), next: "read the test log above")
        }
    }

    @discardableResult
    func publish(broker: String, user: String, password: String, topic: String, message: String) async throws -> Bool {
        try await LocalRunner().check(
            ["mosquitto_pub", "-h", broker, "-p", "1883", "-u", user, "-P", password, "-t", topic, "-m", message, "-r", "-q", "1"],
            timeout: 30)
        return true
    }

    /// The login flow a browser would use, with the owner's username and password.
    func login(_ ha: HomeAssistantSetup, password: String) async throws -> String {
        let client = "http://haha-e2e.test/"
        let flow = try await ha.request(
            "POST", "auth/login_flow", json: ["client_id": client, "handler": ["homeassistant", NSNull()], "redirect_uri": client])
        let flowID = try #require((flow.json as? [String: Any])?["flow_id"] as? String, "no login flow: \(flow.status)")
        let done = try await ha.request(
            "POST", "auth/login_flow/\(flowID)",
            json: ["client_id": client, "username": HomeAssistantSetup.ownerUsername, "password": password])
        let code = try #require(
            (done.json as? [String: Any])?["result"] as? String, "login refused: \(String(decoding: done.body, as: UTF8.self))")
        let tokens = try await ha.request(
            "POST", "auth/token", form: ["grant_type": "authorization_code", "code": code, "client_id": client])
        return try #require((tokens.json as? [String: Any])?["access_token"] as? String)
    }
}

/// Samples every process's full command line on this machine every 100 ms (the lab nodes' processes are visible
/// from here too) and keeps the lines that hold one of `values` or a Swarm join token (`SWMTKN-`).
final class ProcessSampler: @unchecked Sendable {
    let seen: String, stopFile: String
    let task: Task<CommandResult, any Error>

    init(values: [String], scratch: Scratch) throws {
        let patterns = scratch.file("ps-patterns")
        seen = scratch.file("ps-seen")
        stopFile = scratch.file("ps-stop")
        try (values.filter { !$0.isEmpty } + ["SWMTKN-"]).joined(separator: "\n").write(toFile: patterns, atomically: true, encoding: .utf8)
        let script = #"n=0; while [ ! -e "$3" ]; do ps -eww -o args= | grep -F -f "$1" >> "$2"; n=$((n+1)); sleep 0.1; done; echo $n"#
        let arguments = ["sh", "-c", script, "sh", patterns, seen, stopFile]
        task = Task { try await LocalRunner().run(Command(arguments, timeout: 7200)) }
    }

    func stop() async throws -> (samples: Int, lines: String) {
        _ = FileManager.default.createFile(atPath: stopFile, contents: nil)
        let samples = Int(try await task.value.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return (samples, (try? String(contentsOfFile: seen, encoding: .utf8)) ?? "")
    }

    deinit { _ = FileManager.default.createFile(atPath: stopFile, contents: nil) }
}
