import Foundation
import Testing

@testable import HahaCore

/// The drill's pure decisions: which node a target names, what roles it had, how a loss check is judged, and the report.
@Suite struct DrillPlacementTests {
    @Test func theLeaderIsTheNodeListedAsLeader() {
        let listing = """
            q7c2m9x4w1v8b5n3k6j0hn1 Reachable
            a1b2c3d4e5f6g7h8i9j0kn2 Leader
            z9y8x7w6v5u4t3s2r1q0pn4 
            m1n2b3v4c5x6z7l8k9j0hn3 Unreachable
            """
        #expect(DrillPlacement.leaderID(inNodeList: listing) == "a1b2c3d4e5f6g7h8i9j0kn2")
        // During an election no manager is the leader.
        #expect(DrillPlacement.leaderID(inNodeList: "q7c2 Reachable\nm1n2 Unreachable\n") == nil)
        #expect(DrillPlacement.leaderID(inNodeList: "") == nil)
    }

    @Test func theVIPHolderListsTheAddressItselfNotOneThatStartsLikeIt() {
        let holder = """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            2: eth0    inet 172.30.77.12/24 brd 172.30.77.255 scope global eth0\\       valid_lft forever preferred_lft forever
            2: eth0    inet 172.30.77.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
            """
        #expect(DrillPlacement.holds("172.30.77.100", ipAddresses: holder))
        #expect(DrillPlacement.holds("172.30.77.12", ipAddresses: holder))
        // .10 is a prefix of .100 and of .12's neighbours: only a whole address counts.
        #expect(!DrillPlacement.holds("172.30.77.10", ipAddresses: holder))
        #expect(!DrillPlacement.holds("172.30.77.1", ipAddresses: holder))
        #expect(!DrillPlacement.holds("172.30.77.100", ipAddresses: "2: eth0    inet 172.30.77.11/24 scope global eth0"))
    }

    @Test func eachTargetNamesTheNodeHoldingItsRole() {
        let placement = DrillPlacement(homeAssistant: "n2", broker: "n1", leader: "n3", sensorAddress: ["n1"])
        #expect(placement.victim(for: .homeassistant) == .node("n2"))
        #expect(placement.victim(for: .broker) == .node("n1"))
        #expect(placement.victim(for: .leader) == .node("n3"))
        #expect(placement.victim(for: .vip) == .node("n1"))
        #expect(placement.roles(of: "n1") == [.broker, .vip])
        #expect(placement.roles(of: "n3") == [.leader])
        #expect(placement.roles(of: "n4") == [])
    }

    @Test func aTargetWithoutAHolderNamesNoNode() {
        let empty = DrillPlacement()
        #expect(empty.victim(for: .homeassistant) == .unavailable("Home Assistant is not running"))
        #expect(empty.victim(for: .broker) == .unavailable("the broker is not running"))
        #expect(empty.victim(for: .leader) == .unavailable("no Swarm manager is the raft leader"))
        #expect(empty.victim(for: .vip) == .unavailable("no node holds the sensor address"))
        // Two holders: keepalived split; cutting either would not tell which one clients used.
        let split = DrillPlacement(sensorAddress: ["n1", "n3"])
        #expect(split.victim(for: .vip) == .unavailable("n1 and n3 each hold the sensor address (a VRRP split)"))
    }
}

@Suite struct DrillReportTests {
    @Test func aMarkerIsPresentOnlyWhenWhatWasFoundIsWhatWasWritten() {
        func judge(_ observed: LossCheck.Observation) -> LossCheck {
            LossCheck.judge(.configFile, location: "/c/f", expected: "0123456789abcdef", observed: observed)
        }
        #expect(judge(.found("0123456789abcdef\n")).state == .present)
        #expect(judge(.found("0123456789abcdef\n")).detail == "")
        #expect(judge(.found("fedcba9876543210")).state == .missing)
        #expect(judge(.found("")).state == .missing)
        #expect(judge(.absent) == LossCheck(kind: .configFile, location: "/c/f", state: .missing, detail: "not there"))
        // Not being able to look is not the same as not finding it.
        #expect(judge(.unreadable("no Synced Galera member answered")).state == .unknown)
    }

    static func report(_ states: [LossCheck.State], problems: [String] = []) -> DrillReport {
        var report = DrillReport(
            scenario: .powerCut, target: .homeassistant, failedNodes: ["n2"],
            placement: DrillPlacement(homeAssistant: "n2", broker: "n1", leader: "n2", sensorAddress: ["n2"]), timeoutSeconds: 300)
        report.lossChecks = zip(LossCheck.Kind.allCases, states).map { LossCheck(kind: $0, location: $0.rawValue, state: $1) }
        report.problems = problems
        report.judge()
        return report
    }

    @Test func aDrillPassesOnlyWithEveryMarkerPresentAndNoProblem() {
        #expect(Self.report([.present, .present, .present]).passed)
        #expect(!Self.report([.present, .missing, .present]).passed)
        #expect(!Self.report([.present, .present, .unknown]).passed)
        #expect(!Self.report([.present, .present, .present], problems: ["Home Assistant did not answer again"]).passed)
        // Checks that were never made are no pass.
        #expect(!Self.report([]).passed)
    }

    @Test func theRolesAreThoseTheFailedNodeHad() {
        #expect(Self.report([]).roles == [.homeassistant, .leader, .vip])
        let all = DrillReport(
            scenario: .allPowerCut, target: nil, failedNodes: ["n1", "n2", "n3"],
            placement: DrillPlacement(homeAssistant: "n2", broker: "n1", leader: "n3"), timeoutSeconds: 600)
        #expect(all.roles == [.homeassistant, .leader, .broker])
    }

    @Test func twoHomeAssistantsAtOnceFailTheDrillWithAProblem() {
        var report = Self.report([.present, .present, .present])
        report.mostHomeAssistants = 1
        report.judge()
        #expect(report.passed)
        report.mostHomeAssistants = 2
        report.judge()
        report.judge()
        #expect(!report.passed)
        #expect(report.problems == ["two Home Assistants ran at once: 2 in one sample"])
        // Which two, when the sampler could tell.
        report.problems = []
        report.twoAtOnce = "+4.2 s: pid 101 on haha-lab-n1 (S), pid 202 on haha-lab-n2 (R)"
        report.judge()
        #expect(
            report.problems == [
                "two Home Assistants ran at once: 2 in one sample (first at +4.2 s: pid 101 on haha-lab-n1 (S), pid 202 on haha-lab-n2 (R))"
            ])
    }

    @Test func theTextSaysWhatHappenedAndWhatWasLost() {
        var report = Self.report([.present, .missing, .present])
        report.haSeconds = 26.54
        report.homeAssistantNode = "n3"
        report.brokerNode = "n1"
        report.sensorAddress = "172.30.77.100"
        report.vipHTTPSeconds = 27.1
        report.mostHomeAssistants = 1
        report.instanceSamples = 310
        report.lossChecks[1].detail = "not there"
        let text = report.text
        #expect(text.hasPrefix("drill: n2 power cut (target homeassistant; it had: Home Assistant, raft leader, sensor address)\n"))
        #expect(text.contains("\n  Home Assistant answered again: 26.5 s on n3\n"))
        #expect(text.contains("\n  broker: ran on n1 and was not moved\n"))
        #expect(text.contains("\n  through the sensor address 172.30.77.100: HTTP 27.1 s, MQTT not within 300 s\n"))
        #expect(text.contains("\n  at most 1 Home Assistant at once (310 samples, 100 ms apart)\n"))
        #expect(text.contains("\n  retained message (retainedMessage): missing: not there\n"))
        #expect(text.hasSuffix("\nFAILED"))
    }

    @Test func aFullPowerCutReportsEachPartAndTheWhole() {
        var report = DrillReport(
            scenario: .allPowerCut, target: nil, failedNodes: ["n1", "n2", "n3"], placement: DrillPlacement(), timeoutSeconds: 600)
        report.fullService = FullService(galeraSeconds: nil, homeAssistantSeconds: 140, brokerSeconds: 30.25)
        let text = report.text
        #expect(text.hasPrefix("drill: power cut of every node, then all started again (n1, n2, n3)\n"))
        #expect(text.contains("\n  full service after the restart: not within 600 s\n"))
        #expect(text.contains("\n    Galera synced: not within 600 s, Home Assistant: 140.0 s, broker: 30.2 s\n"))
    }

    @Test func theJSONKeysStayTheSame() throws {
        var report = Self.report([.present, .present, .present])
        report.fullService = FullService()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        #expect(
            object.keys.sorted() == [
                "failedNodes", "fullService", "lossChecks", "passed", "placement", "problems", "roles", "scenario", "target",
                "timeoutSeconds",
            ])
        // Absent values are left out; present ones keep their names.
        report.haSeconds = 1
        report.vipHTTPSeconds = 2
        report.vipMQTTSeconds = 3
        report.mostHomeAssistants = 1
        report.instanceSamples = 9
        let more = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        for key in ["haSeconds", "vipHTTPSeconds", "vipMQTTSeconds", "mostHomeAssistants", "instanceSamples"] {
            #expect(more[key] != nil, "\(key)")
        }
        let check = try #require((object["lossChecks"] as? [[String: Any]])?.first)
        #expect(check.keys.sorted() == ["detail", "kind", "location", "state"])
        #expect(check["kind"] as? String == "recorderRow")
        #expect(object["scenario"] as? String == "power-cut")
    }
}

/// `haha drill --repeat N`: the summary a benchmark prints.
@Suite struct DrillSummaryTests {
    static func run(ha: Double?, vip: Double?, most: Int?, passed: Bool) -> DrillReport {
        var report = DrillReportTests.report(passed ? [.present, .present, .present] : [.present, .missing, .present])
        report.haSeconds = ha
        report.vipHTTPSeconds = vip
        report.mostHomeAssistants = most
        return report
    }

    @Test func medianMinMaxOverTheRunsThatMeasuredIt() {
        let summary = DrillSummary([
            Self.run(ha: 14, vip: 16, most: 1, passed: true), Self.run(ha: 12, vip: nil, most: 1, passed: true),
            Self.run(ha: 20, vip: 15, most: 2, passed: false),
        ])
        #expect(summary.runs == 3)
        #expect(summary.passed == 2)
        #expect(summary.haSeconds == DrillSummary.Spread([12, 14, 20]))
        #expect(summary.haSeconds?.median == 14)
        #expect(summary.vipHTTPSeconds?.median == 15.5)
        #expect(summary.vipHTTPSeconds?.runs == 2)
        #expect(summary.vipMQTTSeconds == nil)
        #expect(summary.mostHomeAssistants == 2)
        #expect(summary.text.contains("median 14.0 s, min 12.0 s, max 20.0 s (3 of 3 runs)"))
        #expect(summary.text.contains("2 of 3 drills passed"))
    }

    @Test func nothingMeasuredIsSaid() {
        #expect(DrillSummary.Spread([]) == nil)
        let summary = DrillSummary([Self.run(ha: nil, vip: nil, most: nil, passed: false)])
        #expect(summary.text.contains("not measured"))
        #expect(summary.text.contains("not counted"))
    }
}

/// Where a service's task runs, from `docker service ps`: how haha finds Home Assistant without the fence.
@Suite struct RunningNodeTests {
    @Test func theFirstRunningTaskNamesTheNode() {
        #expect(DrillPlacement.runningNode(inTaskList: "pi-2 Running 3 hours ago\n") == "pi-2")
        #expect(DrillPlacement.runningNode(inTaskList: "pi-1 Starting 1 second ago\npi-3 Running 2 seconds ago\n") == "pi-3")
        #expect(DrillPlacement.runningNode(inTaskList: "pi-1 Preparing 1 second ago\n") == nil)
        #expect(DrillPlacement.runningNode(inTaskList: "") == nil)
    }
}
