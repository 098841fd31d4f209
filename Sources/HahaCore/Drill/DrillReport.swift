import Foundation

/// How a drill takes a node away.
public enum DrillScenario: String, Sendable, Codable, CaseIterable {
    /// Swarm drains the node (a real cluster; nothing is switched off).
    case drain
    /// A lab node loses its power: its traffic is dropped, then its container is killed; started again afterwards.
    case powerCut = "power-cut"
    /// A lab node is cut off the network and keeps running; reconnected afterwards.
    case partition
    /// A lab node is frozen (`docker pause`) for `DrillReport.freezeSeconds`, then resumed.
    case freeze
    /// Every lab node loses its power, then all are started again; nobody runs `haha up`.
    case allPowerCut = "all-power-cut"

    /// What happened to the failed node, for the text report.
    public var title: String {
        switch self {
        case .drain: return "drained"
        case .powerCut: return "power cut"
        case .partition: return "cut off the network"
        case .freeze: return "frozen for \(Int(DrillReport.freezeSeconds)) s"
        case .allPowerCut: return "power cut of every node, then all started again"
        }
    }
}

/// What a drill wrote just before the fault and looked for afterwards (issue #8's "nothing lost").
public struct LossCheck: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A row in the recorder's database, committed through Galera.
        case recorderRow
        /// A retained message on the broker.
        case retainedMessage
        /// A file in Home Assistant's `/config` on the shared volume.
        case configFile
        /// Home Assistant still has its owner: onboarding's `user` step done (CI once found the owner gone after staged
        /// power cuts, only at the next `haha up`).
        case homeAssistantOwner

        public var title: String {
            switch self {
            case .recorderRow: return "recorder row"
            case .retainedMessage: return "retained message"
            case .configFile: return "/config file"
            case .homeAssistantOwner: return "Home Assistant's owner"
            }
        }
    }

    public enum State: String, Sendable, Codable {
        case present, missing
        /// It could not be looked for (no synced database member, no broker, no mounted volume answered).
        case unknown
    }

    /// What a look for a marker found.
    public enum Observation: Sendable, Equatable {
        case found(String)
        /// The place answered and the marker is not there.
        case absent
        /// Nothing answered the question; why.
        case unreadable(String)
    }

    public var kind: Kind
    /// Where it was written: a table, a topic, a path.
    public var location: String
    public var state: State
    /// Why it is not `present`, empty when it is.
    public var detail: String

    public init(kind: Kind, location: String, state: State, detail: String = "") {
        self.kind = kind
        self.location = location
        self.state = state
        self.detail = detail
    }

    /// The marker is present when what was found is what was written (surrounding white space aside).
    public static func judge(_ kind: Kind, location: String, expected: String, observed: Observation) -> LossCheck {
        switch observed {
        case .found(let text) where text.trimmingCharacters(in: .whitespacesAndNewlines) == expected:
            return LossCheck(kind: kind, location: location, state: .present)
        case .found(let text):
            return LossCheck(kind: kind, location: location, state: .missing, detail: "found \(text.prefix(80).debugDescription) instead")
        case .absent:
            return LossCheck(kind: kind, location: location, state: .missing, detail: "not there")
        case .unreadable(let why):
            return LossCheck(kind: kind, location: location, state: .unknown, detail: why)
        }
    }
}

/// A power cut of every node: seconds from the moment all were started again until each part of the service was
/// first seen working, and until all were seen working in the same round (`seconds`; nil when that never happened).
public struct FullService: Sendable, Codable, Equatable {
    /// Every data node's Galera member Synced in a cluster of all of them.
    public var galeraSeconds: Double?
    /// Home Assistant's `/api/` answering 401 through some node.
    public var homeAssistantSeconds: Double?
    /// The broker accepting the health-check login through some node.
    public var brokerSeconds: Double?
    public var seconds: Double?

    public init(galeraSeconds: Double? = nil, homeAssistantSeconds: Double? = nil, brokerSeconds: Double? = nil, seconds: Double? = nil) {
        self.galeraSeconds = galeraSeconds
        self.homeAssistantSeconds = homeAssistantSeconds
        self.brokerSeconds = brokerSeconds
        self.seconds = seconds
    }
}

/// What a failover drill measured. Every duration is in seconds from the fault (for `allPowerCut`: from the moment
/// every node was started again); nil when it was not seen within `timeoutSeconds` or did not apply.
public struct DrillReport: Sendable, Codable, Equatable {
    /// How long `freeze` keeps a node paused.
    public static let freezeSeconds = 10.0

    public var scenario: DrillScenario
    /// The `--target`; nil for `allPowerCut`.
    public var target: DrillTarget?
    public var failedNodes: [String]
    /// The roles the failed node(s) had just before the fault.
    public var roles: [DrillRole]
    /// Where each role was just before the fault.
    public var placement: DrillPlacement
    /// Home Assistant answered `/api/` with 401 through a surviving node while Swarm ran it on a node that was not
    /// away (another node, or the failed one once it was back).
    public var haSeconds: Double?
    public var homeAssistantNode: String?
    /// The broker accepted the health-check login through a surviving node after it moved; nil when it did not have to.
    public var mqttSeconds: Double?
    public var brokerNode: String?
    /// The VIP probed, nil when the sensor address is not a VIP.
    public var sensorAddress: String?
    /// `/api/` answered 401 through the VIP, sampled every 150 ms: the start of the first run of answers that lasted
    /// (5 s), so that an answer just before the outage began does not count.
    public var vipHTTPSeconds: Double?
    /// The broker accepted the health-check login through the VIP, sampled the same way.
    public var vipMQTTSeconds: Double?
    /// After that run of answers, until the drill stopped counting: the longest time the VIP went without an answer
    /// (from the last answer before to the first after), nil when it never missed one. A second outage after the
    /// failover (seen on the lab: Swarm restarting a survivor's tasks after it lost its leader) is not in the seconds
    /// above; it is here.
    public var vipHTTPRelapseSeconds: Double?
    public var vipMQTTRelapseSeconds: Double?
    /// Only for `allPowerCut`.
    public var fullService: FullService?
    /// The most Home Assistant processes seen running at once (every 100 ms, lab only), and how many samples.
    public var mostHomeAssistants: Int?
    public var instanceSamples: Int?
    /// The first sample with more than one: when (seconds after the fault) and which processes, on which nodes.
    public var twoAtOnce: String?
    public var lossChecks: [LossCheck]
    public var timeoutSeconds: Double
    /// What went wrong besides the loss checks: a service that did not come back in time, a broker refusing afterwards.
    public var problems: [String]
    /// No problem and every loss check present.
    public var passed: Bool

    public init(
        scenario: DrillScenario, target: DrillTarget?, failedNodes: [String], placement: DrillPlacement, timeoutSeconds: Double
    ) {
        self.scenario = scenario
        self.target = target
        self.failedNodes = failedNodes
        self.placement = placement
        self.roles = DrillRole.allCases.filter { role in failedNodes.contains { placement.roles(of: $0).contains(role) } }
        self.timeoutSeconds = timeoutSeconds
        self.lossChecks = []
        self.problems = []
        self.passed = false
    }

    /// Sets `passed`: never two Home Assistants at once, no problem, and every loss check looked for and present.
    public mutating func judge() {
        if let most = mostHomeAssistants, most > 1, !problems.contains(where: { $0.hasPrefix("two Home Assistants") }) {
            problems.append("two Home Assistants ran at once: \(most) in one sample" + (twoAtOnce.map { " (first at \($0))" } ?? ""))
        }
        passed = problems.isEmpty && !lossChecks.isEmpty && lossChecks.allSatisfy { $0.state == .present }
    }

    /// The report for a person, one fact a line.
    public var text: String {
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.1f s", $0) } ?? "not within \(Int(timeoutSeconds)) s" }
        let who = failedNodes.joined(separator: ", ")
        var lines: [String]
        if scenario == .allPowerCut {
            lines = ["drill: \(scenario.title) (\(who))"]
        } else {
            let had = roles.isEmpty ? "no role" : roles.map(\.title).joined(separator: ", ")
            lines = ["drill: \(who) \(scenario.title) (target \(target?.rawValue ?? "?"); it had: \(had))"]
        }
        if let full = fullService {
            lines.append("  full service after the restart: \(seconds(full.seconds))")
            lines.append(
                "    Galera synced: \(seconds(full.galeraSeconds)), Home Assistant: \(seconds(full.homeAssistantSeconds)), broker: \(seconds(full.brokerSeconds))"
            )
        } else {
            lines.append(
                "  Home Assistant answered again: \(seconds(haSeconds))" + (homeAssistantNode.map { " on \($0)" } ?? ""))
            if let brokerNode, mqttSeconds == nil, !roles.contains(.broker) {
                lines.append("  broker: ran on \(brokerNode) and was not moved")
            } else {
                lines.append("  broker answered again: \(seconds(mqttSeconds))" + (brokerNode.map { " on \($0)" } ?? ""))
            }
        }
        if let sensorAddress {
            lines.append("  through the sensor address \(sensorAddress): HTTP \(seconds(vipHTTPSeconds)), MQTT \(seconds(vipMQTTSeconds))")
            if vipHTTPRelapseSeconds != nil || vipMQTTRelapseSeconds != nil {
                func gap(_ value: Double?) -> String { value.map { String(format: "%.1f s", $0) } ?? "none" }
                lines.append(
                    "    then without an answer again for up to: HTTP \(gap(vipHTTPRelapseSeconds)), MQTT \(gap(vipMQTTRelapseSeconds))")
            }
        }
        if let most = mostHomeAssistants {
            lines.append("  at most \(most) Home Assistant at once (\(instanceSamples ?? 0) samples, 100 ms apart)")
        }
        for check in lossChecks {
            lines.append(
                "  \(check.kind.title) (\(check.location)): \(check.state.rawValue)" + (check.detail.isEmpty ? "" : ": \(check.detail)"))
        }
        lines += problems.map { "  problem: \($0)" }
        lines.append(passed ? "passed" : "FAILED")
        return lines.joined(separator: "\n")
    }
}

/// Several drills of one kind, summed up: median, lowest and highest of each time, the most Home Assistants ever seen
/// at once, and how many passed (`haha drill --repeat N`, `scripts/bench failover`).
public struct DrillSummary: Sendable, Codable, Equatable {
    public struct Spread: Sendable, Codable, Equatable {
        public var median: Double
        public var min: Double
        public var max: Double
        public var runs: Int

        /// nil when no run measured it.
        public init?(_ values: [Double]) {
            let sorted = values.sorted()
            guard let low = sorted.first, let high = sorted.last else { return nil }
            let middle = sorted.count / 2
            median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            min = low
            max = high
            runs = sorted.count
        }
    }

    public var runs: Int
    public var passed: Int
    public var haSeconds: Spread?
    public var vipHTTPSeconds: Spread?
    public var vipMQTTSeconds: Spread?
    /// Over the runs whose sensor address went without an answer again after the failover.
    public var vipHTTPRelapseSeconds: Spread?
    public var vipMQTTRelapseSeconds: Spread?
    public var mostHomeAssistants: Int?

    public init(_ reports: [DrillReport]) {
        runs = reports.count
        passed = reports.filter(\.passed).count
        haSeconds = Spread(reports.compactMap(\.haSeconds))
        vipHTTPSeconds = Spread(reports.compactMap(\.vipHTTPSeconds))
        vipMQTTSeconds = Spread(reports.compactMap(\.vipMQTTSeconds))
        vipHTTPRelapseSeconds = Spread(reports.compactMap(\.vipHTTPRelapseSeconds))
        vipMQTTRelapseSeconds = Spread(reports.compactMap(\.vipMQTTRelapseSeconds))
        mostHomeAssistants = reports.compactMap(\.mostHomeAssistants).max()
    }

    public var text: String {
        func line(_ name: String, _ spread: Spread?) -> String {
            guard let spread else { return "  \(name): not measured" }
            func s(_ value: Double) -> String { String(format: "%.1f s", value) }
            return "  \(name): median \(s(spread.median)), min \(s(spread.min)), max \(s(spread.max)) (\(spread.runs) of \(runs) runs)"
        }
        func relapse(_ name: String, _ spread: Spread?) -> String {
            guard let spread else { return "  then without an answer again, \(name): in none of \(runs) runs" }
            return "  then without an answer again, \(name): in \(spread.runs) of \(runs) runs, up to "
                + String(format: "%.1f s (median %.1f s)", spread.max, spread.median)
        }
        return [
            "summary: \(passed) of \(runs) drills passed",
            line("Home Assistant answered again (through a surviving node)", haSeconds),
            line("through the sensor address, HTTP", vipHTTPSeconds),
            line("through the sensor address, MQTT", vipMQTTSeconds),
            relapse("HTTP", vipHTTPRelapseSeconds),
            relapse("MQTT", vipMQTTRelapseSeconds),
            "  most Home Assistants at once: \(mostHomeAssistants.map(String.init) ?? "not counted")",
        ].joined(separator: "\n")
    }
}

/// What `haha drill --repeat N --json` prints.
public struct DrillRuns: Sendable, Codable, Equatable {
    public var runs: [DrillReport]
    public var summary: DrillSummary
    public init(runs: [DrillReport], summary: DrillSummary) {
        self.runs = runs
        self.summary = summary
    }
}
