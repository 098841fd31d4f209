import Foundation
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
