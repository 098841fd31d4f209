import Foundation
import HahaCore
import Testing

@testable import HahaSystem

/// `waitUntil`: a timeout says what was awaited, on which node, the last command with the tail of its output, and what to do.
@Suite struct WaitTests {
    /// A node that answers every command with the same result and counts the commands.
    final class Node: CommandRunner, @unchecked Sendable {
        let target = "n2 (root@10.1.0.12)"
        let answer: CommandResult
        private let lock = NSLock()
        private var count = 0
        var commands: Int { lock.withLock { count } }

        init(exit: Int32 = 0, stdout: String = "", stderr: String = "") {
            answer = CommandResult(exitCode: exit, stdout: Data(stdout.utf8), stderr: Data(stderr.utf8))
        }

        func run(_ command: Command) async throws -> CommandResult {
            lock.withLock { count += 1 }
            return answer
        }
    }

    static func timeoutError(_ body: () async throws -> Void) async -> HahaError? {
        do {
            try await body()
            Issue.record("the wait ended without a timeout")
        } catch let error as HahaError {
            return error
        } catch {
            Issue.record("not a HahaError: \(error)")
        }
        return nil
    }

    @Test func aTimeoutNamesWhatTheNodeTheLastCommandItsOutputAndTheNextStep() async throws {
        let node = Node(stdout: "UUID\tHostname\tState\nu-1\t10.1.0.11\tDisconnected\nu-2\tlocalhost\tConnected\n")
        let error = try #require(
            await Self.timeoutError {
                try await waitUntil("all Gluster peers connected", timeout: 0.2, interval: 0.05, next: "open TCP 24007 between the nodes") {
                    poll in
                    try await poll.on(node).output(["gluster", "pool", "list"]).contains("Disconnected") == false
                }
            })
        let text = error.description
        #expect(error.code == .timeout)
        #expect(text.contains("waiting for all Gluster peers connected"))
        #expect(text.contains("last check on n2 (root@10.1.0.12): gluster pool list (exit 0"))
        #expect(text.contains("    u-1\t10.1.0.11\tDisconnected"))
        #expect(error.next == "open TCP 24007 between the nodes")
        #expect(node.commands >= 2)
    }

    @Test func aFailingCheckShowsItsExitAndStandardError() async throws {
        let node = Node(exit: 255, stderr: "ssh: connect to host 10.1.0.12 port 22: No route to host")
        let error = try #require(
            await Self.timeoutError {
                try await waitUntil("a Swarm manager with quorum", timeout: 0.1, interval: 0.05, next: "run `haha status`") { poll in
                    try await poll.on(node).output(["docker", "node", "ls", "-q"]).isEmpty == false
                }
            })
        #expect(
            error.description.contains(
                "last check on n2 (root@10.1.0.12): docker node ls -q (exit 255\n    ssh: connect to host 10.1.0.12 port 22: No route to host)"
            ))
    }

    /// A check that is no command (Home Assistant's HTTP API) reports what it asked and the error it got.
    @Test func aCheckWithoutACommandReportsWhatItSawAndTheError() async throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "connection refused" } }
        let error = try #require(
            await Self.timeoutError {
                try await waitUntil("Home Assistant to answer", timeout: 0.1, interval: 0.05, next: "read its log") { poll in
                    poll.saw(on: "10.1.0.10", "GET http://10.1.0.10:8123/api/", "no answer")
                    throw Refused()
                }
            })
        #expect(error.description.contains("last check on 10.1.0.10: GET http://10.1.0.10:8123/api/ (no answer)"))
        #expect(error.description.contains("the last check failed: connection refused"))
    }

    @Test func theWaitEndsWhenTheConditionHolds() async throws {
        let node = Node()
        try await waitUntil("three checks", timeout: 30, interval: 0.01, next: "") { poll in
            _ = try await poll.on(node).run(Command(["true"]))
            return node.commands >= 3
        }
        #expect(node.commands == 3)
    }

    /// Swarm's one polling loop (quorum after a restart, members reconnecting): every node's state is read into `states`,
    /// and a timeout adds the states last seen to the last check.
    @Test func swarmPollingReadsEveryNodeAndATimeoutListsTheirStates() async throws {
        let spec = ClusterSpec(nodes: ["n1", "n2"].enumerated().map { .init(name: $1, address: "10.1.0.1\($0 + 1)") })
        let answers = ["n1": "active true id1", "n2": "pending false id2"]
        let nodes = answers.mapValues { Node(stdout: $0 + "\n") }
        let cluster = Cluster(workspace: Workspace(specPath: "/tmp/haha.yaml", spec: spec), runners: nodes)
        var states: [String: Swarm.NodeState] = [:]
        let error = try #require(
            await Self.timeoutError {
                try await Swarm(cluster: cluster).poll(
                    spec.nodes, into: &states, timeout: 0.1, until: "n1, n2 to reconnect", next: "look at `docker info`"
                ) {
                    $0.values.allSatisfy { $0.state == "active" }
                }
            })
        #expect(states["n1"]?.control == true && states["n2"]?.state == "pending")
        #expect(error.description.contains("waiting for n1, n2 to reconnect"))
        #expect(error.description.contains("docker info --format"))
        #expect(error.description.contains("states: n1: active, n2: pending"))
        #expect(error.next == "look at `docker info`")
    }

    /// The one tail used by command errors, doubts and timeouts: standard error, else standard output, last lines indented.
    @Test func tailPrefersStandardErrorAndKeepsTheLastLines() {
        let both = CommandResult(exitCode: 1, stdout: Data("out\n".utf8), stderr: Data("e1\ne2\ne3\n".utf8))
        #expect(both.tail(lines: 2) == "    e2\n    e3")
        #expect(CommandResult(exitCode: 1, stdout: Data("a\nb\n".utf8)).tail(lines: 8) == "    a\n    b")
        #expect(CommandResult(exitCode: 1).tail(lines: 8).isEmpty)
    }
}
