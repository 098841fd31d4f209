import Foundation
import HahaCore
import HahaSystem
import HahaTestSupport
import Testing

/// The rendered Swarm retry, run for real with sh against a fake `docker` that answers from files (is this node the
/// leader, the stack's services with their replicas, each service's task states) and records every call.
struct SwarmRetryScriptTests {
    final class World {
        let root: String
        init(leader: Bool, services: String, tasks: [String: String]) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("haha-retry-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: "\(root)/bin", withIntermediateDirectories: true)
            let docker = """
                #!/bin/sh
                echo "$*" >> \(root)/calls
                case "$1 $2" in
                  "node inspect") cat \(root)/leader ;;
                  "service ls") cat \(root)/services ;;
                  "service ps") for last in "$@"; do :; done; cat "\(root)/tasks-$last" 2>/dev/null ;;
                esac
                """
            try docker.write(toFile: "\(root)/bin/docker", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(root)/bin/docker")
            try (leader ? "true\n" : "false\n").write(toFile: "\(root)/leader", atomically: true, encoding: .utf8)
            try services.write(toFile: "\(root)/services", atomically: true, encoding: .utf8)
            for (name, states) in tasks { try states.write(toFile: "\(root)/tasks-\(name)", atomically: true, encoding: .utf8) }
            try SwarmRetry.script(Fixtures.spec()).write(toFile: "\(root)/retry", atomically: true, encoding: .utf8)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// One run of the script (cron's minute); what it printed.
        func run() async throws -> String {
            let result = try await LocalRunner().run(
                Command(
                    [
                        "env", "PATH=\(root)/bin:/usr/bin:/bin", "HAHA_SWARM_RETRY_STATE=\(root)/state", "sh", "\(root)/retry",
                    ], timeout: 30))
            #expect(result.succeeded, "\(result.errorOutput)")
            return result.output
        }

        var forced: [String] {
            ((try? String(contentsOfFile: "\(root)/calls", encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.hasPrefix("service update") }.map(String.init)
        }
    }

    static let stuck = "haha_homeassistant 0/3\nhaha_mosquitto 1/1\nhaha_galera-n1 0/1\nhaha_galera-n2 0/0\nhaha_proxy 2/3\n"
    static let tasks = [
        "haha_homeassistant": "Rejected 2 minutes ago\nRejected 2 minutes ago\nPending 3 minutes ago\n",
        "haha_galera-n1": "Starting 4 seconds ago\n",
    ]

    /// A service stuck at two checks in a row is forced once; a service with a task running, one on its way, or none
    /// wanted never is; a third check within 5 minutes forces nothing again.
    @Test func aServiceStuckAtTwoChecksIsScheduledAgainOnceAndNothingElse() async throws {
        let world = try World(leader: true, services: Self.stuck, tasks: Self.tasks)
        #expect(try await world.run() == "")
        #expect(world.forced.isEmpty)
        let second = try await world.run()
        #expect(second.contains("haha_homeassistant runs no task (0/3; tasks: Rejected Rejected Pending ): scheduling it again"))
        #expect(world.forced == ["service update --force --detach haha_homeassistant"])
        _ = try await world.run()
        _ = try await world.run()
        #expect(world.forced.count == 1)
    }

    /// A service that recovers between two checks is not forced: the count starts again.
    @Test func aServiceThatRecoversBetweenChecksIsLeftAlone() async throws {
        let world = try World(leader: true, services: "haha_homeassistant 0/3\n", tasks: Self.tasks)
        _ = try await world.run()
        try "haha_homeassistant 1/3\n".write(toFile: "\(world.root)/services", atomically: true, encoding: .utf8)
        _ = try await world.run()
        try "haha_homeassistant 0/3\n".write(toFile: "\(world.root)/services", atomically: true, encoding: .utf8)
        _ = try await world.run()
        #expect(world.forced.isEmpty)
        _ = try await world.run()
        #expect(world.forced.count == 1)
    }

    @Test func onlyTheLeaderActs() async throws {
        let world = try World(leader: false, services: Self.stuck, tasks: Self.tasks)
        for _ in 0..<3 { _ = try await world.run() }
        #expect(world.forced.isEmpty)
    }
}
