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

    /// A Home Assistant of another lab on the same host (a CI run beside a drill) is not this lab's.
    @Test func onlyProcessesInTheLabsOwnContainersCount() async throws {
        let runner = ScriptedRunner()
        runner.on(
            { $0 == ["ps", "-eo", "pid=,args="] },
            stdout: "  101 python3 -m homeassistant --config /config\n  202 python3 -m homeassistant --config /config\n  303 sleep 9\n")
        runner.on(
            { $0.first == "sh" && $0.last?.contains("/proc/$p/cgroup") == true },
            stdout: "101 12:pids:/docker/aaa111/docker/x 0::/\n202 12:pids:/docker/ccc333/docker/y 0::/\n")
        let driver = LabDriver(layout: LabLayout(), directory: URL(fileURLWithPath: "/tmp/lab"), runner: runner)
        #expect(await driver.homeAssistantProcesses(inContainers: ["aaa111", "bbb222"]) == 1)
        #expect(await driver.homeAssistantProcesses(inContainers: ["aaa111", "ccc333"]) == 2)
        let script = try #require(runner.history.last?.command.arguments.last)
        #expect(script.contains("for p in 101 202;"))
    }

    @Test func theSamplerKeepsTheHighestCountAndSkipsFailedSamples() async throws {
        let counts = Counts([1, nil, 2, 1, 1])
        let sampler = Drill.InstanceSampler { counts.next() }
        while counts.remaining > 0 { try await Task.sleep(for: .milliseconds(50)) }
        let result = await sampler.stop()
        #expect(result.most == 2)
        #expect(result.samples >= 4)
    }
}

/// Answers from a list, then 1 forever.
final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int?]
    init(_ values: [Int?]) { self.values = values }
    var remaining: Int { lock.withLock { values.count } }
    func next() -> Int? { lock.withLock { values.isEmpty ? 1 : values.removeFirst() } }
}
