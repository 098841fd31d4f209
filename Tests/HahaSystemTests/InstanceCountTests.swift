import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// Issue #8's "never two at once": what the lab drill counts as a running Home Assistant, and the sampler's maximum.
@Suite struct InstanceCountTests {
    @Test func onlyTheInterpreterRunningHomeAssistantCounts() {
        let ps = """
            /usr/bin/tini -- /usr/local/bin/ha-supervise python3 -m homeassistant --config /config --skip-pip
            /bin/sh /usr/local/bin/ha-supervise python3 -m homeassistant --config /config --skip-pip
            python3 -m homeassistant --config /config --skip-pip
            /opt/hass/bin/python3.14 -m homeassistant --config /config
            grep -c python3 -m homeassistant
            python3 -m pip install homeassistant
            """
        #expect(LabDriver.homeAssistantProcesses(in: ps) == 2)
        #expect(LabDriver.homeAssistantProcesses(in: "") == 0)
    }

    /// A Home Assistant of another lab on the same host (a CI run beside a drill) is not this lab's; each counted
    /// process is named with its node and state.
    @Test func onlyProcessesInTheLabsOwnContainersCount() async throws {
        let runner = ScriptedRunner()
        runner.on(
            { $0 == ["ps", "-eo", "pid=,args="] },
            stdout: "  101 python3 -m homeassistant --config /config\n  202 python3 -m homeassistant --config /config\n  303 sleep 9\n")
        runner.on(
            { $0.first == "sh" && $0.last?.contains("/proc/$p/cgroup") == true },
            stdout: "101 S 50 12:pids:/docker/aaa111/docker/x 0::/\n202 R 60 12:pids:/docker/ccc333/docker/y 0::/\n")
        let driver = LabDriver(layout: LabLayout(), directory: URL(fileURLWithPath: "/tmp/lab"), runner: runner)
        #expect(await driver.homeAssistantProcesses(inContainers: [("n1", "aaa111"), ("n2", "bbb222")])?.count == 1)
        let both = await driver.homeAssistantProcesses(inContainers: [("n1", "aaa111"), ("n3", "ccc333")])
        #expect(both?.processes == ["pid 101 on n1 (S)", "pid 202 on n3 (R)"])
        let script = try #require(runner.history.last?.command.arguments.last)
        #expect(script.contains("for p in 101 202;"))
    }

    /// Home Assistant forks (a subprocess between fork and exec shows its parent's command line): the child is named
    /// with its parent, not counted as a second instance. Two with other parents are two.
    @Test func aProcessForkedByHomeAssistantIsNotASecondOne() {
        let nodes = [(name: "n1", id: "aaa111"), (name: "n2", id: "bbb222")]
        let forked = LabDriver.instances(
            "10684 S 10600 0::/docker/aaa111/docker/x\n11374 R 10684 0::/docker/aaa111/docker/x\n", nodes: nodes)
        #expect(forked.processes == ["pid 10684 on n1 (S; forked 11374)"])
        let two = LabDriver.instances(
            "10684 S 10600 0::/docker/aaa111/docker/x\n11374 S 11300 0::/docker/bbb222/docker/y\n", nodes: nodes)
        #expect(two.count == 2)
        #expect(LabDriver.instances("10684  \n", nodes: nodes).count == 0)  // gone before its stat was read
    }

    @Test func theSamplerKeepsTheHighestCountSkipsFailedSamplesAndNamesTheFirstTwo() async throws {
        let counts = Counts([1, nil, 2, 1, 1])
        let sampler = Drill.InstanceSampler { counts.next() }
        while counts.remaining > 0 { try await Task.sleep(for: .milliseconds(50)) }
        let result = await sampler.stop()
        #expect(result.most == 2)
        #expect(result.samples >= 4)
        #expect(result.twoAtOnce?.hasSuffix("s: pid 1 on n1, pid 2 on n2") == true, "\(result.twoAtOnce ?? "none")")
    }
}

/// Answers from a list of counts (processes `pid 1 on n1` … `pid N on nN`), then 1 forever.
final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int?]
    init(_ values: [Int?]) { self.values = values }
    var remaining: Int { lock.withLock { values.count } }
    func next() -> Drill.Instances? {
        let count = lock.withLock { values.isEmpty ? 1 : values.removeFirst() }
        return count.map { count in Drill.Instances(processes: (0..<count).map { "pid \($0 + 1) on n\($0 + 1)" }) }
    }
}
