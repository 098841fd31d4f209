import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// Preflight with scripted nodes: every problem on every node is reported at once, each with the node and the fix.
@Suite struct PreflightTests {
    static func facts(
        uid: String = "0", docker: String = "26.1.5", arch: String = "aarch64", free: String = "9000000",
        ports: String = "22 24007"
    ) -> String {
        "uid=\(uid)\ndocker=\(docker)\narch=\(arch)\nfree=\(free)\nclock=\(Date().timeIntervalSince1970)\ngluster=yes\nsystemd=yes\nswarm=inactive\nports=\(ports)\n"
    }

    func cluster(_ answers: [String: (Int32, String, String)]) -> Cluster {
        Fixtures.cluster(Fixtures.spec(nodes: 4)) { name, runner in
            let (exit, stdout, stderr) = answers[name] ?? (0, Self.facts(), "")
            runner.on({ _ in true }, exit: exit, stdout: stdout, stderr: stderr)
        }.0
    }

    @Test func healthyNodesPass() async throws {
        let facts = try await Preflight(cluster: cluster([:])).run(stackRunning: false)
        #expect(facts.count == 4)
        #expect(facts["n1"]?.architecture == "aarch64")
    }

    @Test func everyProblemIsNamedWithItsNodeAndFix() async throws {
        let answers: [String: (Int32, String, String)] = [
            "n1": (255, "", "ssh: connect to host 10.1.0.11 port 22: No route to host"),
            "n2": (0, Self.facts(docker: ""), ""),
            "n3": (0, Self.facts(arch: "armv7l", ports: "22 1883"), ""),
            "n4": (1, "", "sudo: a password is required"),
        ]
        do {
            _ = try await Preflight(cluster: cluster(answers)).run(stackRunning: false)
            Issue.record("preflight passed with four broken nodes")
        } catch let error as HahaError {
            let text = error.description
            #expect(text.contains("found 5 problems; nothing was changed"))
            #expect(text.contains("n1: cannot run commands over SSH"))
            #expect(text.contains("n2: no Docker engine answers → install Docker"))
            #expect(text.contains("n3: CPU architecture armv7l is not supported"))
            #expect(text.contains("n3: port 1883 is already in use"))
            #expect(text.contains("n4: root needs passwordless sudo → add `root ALL=(ALL) NOPASSWD:ALL`"))
        }
    }

    @Test func portsOfARunningStackAreNotProblems() async throws {
        let answers: [String: (Int32, String, String)] = ["n1": (0, Self.facts(ports: "22 1883 8123"), "")]
        let facts = try await Preflight(cluster: cluster(answers)).run(stackRunning: true)
        #expect(facts["n1"]?.listening.contains(8123) == true)
    }
}
