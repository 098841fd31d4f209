import Foundation
import HahaCore
import HahaTestSupport
import Testing

@testable import HahaSystem

/// The drill on scripted nodes: it waits for a whole cluster, writes its loss-check markers, cuts the node a target names
/// (found through the `haha.node` label, not the host name), asks a surviving node and the VIP, always puts the node
/// back, and reports what survived. Home Assistant and the broker are fakes (`DrillWorld.probes`): no network.
@Suite struct DrillTests {
    static let secrets = SecretValues(["mqtt-healthcheck-password": "hc", "mqtt-homeassistant-password": "ha"])

    /// A world whose observer n1 is this machine (127.0.0.1), with Home Assistant's and the broker's ports on loopback.
    static func observedOnLoopback(
        http: LoopbackServer, broker: LoopbackServer, _ change: (inout ClusterSpec) -> Void = { _ in }
    ) -> DrillWorld {
        DrillWorld(
            spec: Fixtures.spec {
                $0.nodes[0].address = "127.0.0.1"
                $0.homeAssistant.port = http.port
                $0.mqtt.port = broker.port
                change(&$0)
            })
    }

    /// The real HTTP and login probes, against loopback; the retained messages and the owner are the fake's (the owner
    /// check would ask every node's address, and only n1's is loopback).
    static func loopbackProbes(_ world: DrillWorld) -> ServiceProbes {
        var probes = ServiceProbes.network
        probes.publishRetained = world.probes.publishRetained
        probes.readRetained = world.probes.readRetained
        probes.homeAssistantOwner = world.probes.homeAssistantOwner
        return probes
    }

    @Test func theNodeRunningHomeAssistantIsDrainedThroughASurvivorAndPutBack() async throws {
        let world = DrillWorld()
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(secrets: Self.secrets, .init(timeout: 1))
        // Home Assistant never moves in this script: the drill gives up after 1 s, and says so instead of throwing.
        #expect(report.problems == ["Home Assistant did not answer again within 1 s after n2 went away"])
        #expect(report.haSeconds == nil)
        #expect(!report.passed)
        #expect(report.scenario == .drain)
        #expect(report.failedNodes == ["n2"])
        #expect(report.roles == [.homeassistant])

        // The victim is n2 (label of host pi-2); the drain and the return go through n1, a node that stays up.
        let runners = world.runners
        #expect(
            Changing.commands(runners, ["docker node update"]) == [
                "n1: docker node update --availability active \(DrillWorld.swarmID("n2"))",
                "n1: docker node update --availability drain \(DrillWorld.swarmID("n2"))",
            ])
        let n1 = runners["n1"]!
        let drain = try #require(n1.history.first { $0.command.pretty.contains("--availability drain") }?.sequence)
        let active = try #require(n1.history.first { $0.command.pretty.contains("--availability active") }?.sequence)
        #expect(drain < active)
        // Before cutting: a manager with quorum, every Galera member asked whether it is synced, the markers written.
        let managerCheck = try #require(n1.history.first { $0.command.arguments == ["docker", "node", "ls", "-q"] }?.sequence)
        #expect(managerCheck < drain)
        for runner in runners.values {
            let synced = try #require(runner.history.first { $0.command.arguments.starts(with: ["docker", "exec"]) }?.sequence)
            #expect(synced < drain)
        }
        #expect(world.rowWritten! < drain)
        // The file goes through the failed node first: that is where Home Assistant writes.
        #expect(world.fileWrittenOn == "n2")
        // While the node is out, the drill keeps asking where Home Assistant runs.
        #expect(
            n1.history.filter { $0.sequence > drain && $0.sequence < active && $0.command.pretty.contains("/.haha/lease") }
                .count >= 1)
        // Nothing was lost, and nothing of the drill is left behind.
        #expect(report.lossChecks.map(\.state) == [.present, .present, .present, .present])
        #expect(world.leftovers == [])
    }

    @Test func aFailoverIsMeasuredThroughASurvivorAndTheNodeIsPutBack() async throws {
        // n1 (the observer) answers on loopback: HTTP 401 as Home Assistant does without a token, and an accepting broker.
        let http = try LoopbackServer.unauthorizedHTTP()
        let broker = try LoopbackServer.acceptingBroker()
        defer { http.stop(); broker.stop() }
        let world = Self.observedOnLoopback(http: http, broker: broker)
        // Both services run on pi-2 (n2) and move once it is drained: Home Assistant to pi-3, the broker to pi-1.
        world.homeAssistant = { $0.cut ? "pi-3" : "pi-2" }
        world.broker = { $0.cut ? "pi-1" : "pi-2" }
        let report = try await Drill(cluster: world.cluster, probes: Self.loopbackProbes(world)).run(
            secrets: Self.secrets, .init(timeout: 30))
        #expect(report.failedNodes == ["n2"])
        #expect(report.roles == [.homeassistant, .broker])
        #expect(report.homeAssistantNode == "n3")
        #expect(report.brokerNode == "n1")
        #expect(report.mqttSeconds != nil)
        #expect(try #require(report.haSeconds) < 30)
        #expect(report.problems == [])
        #expect(report.passed)
        #expect(
            Changing.commands(world.runners, ["docker node update"]) == [
                "n1: docker node update --availability active \(DrillWorld.swarmID("n2"))",
                "n1: docker node update --availability drain \(DrillWorld.swarmID("n2"))",
            ])
    }

    /// Without the fence (`failover: swarm`) the drill finds Home Assistant where its one task runs, before the fault and
    /// while it waits for the move, and reads no lease.
    @Test func withoutTheFenceTheDrillFollowsHomeAssistantsTask() async throws {
        let http = try LoopbackServer.unauthorizedHTTP()
        let broker = try LoopbackServer.acceptingBroker()
        defer { http.stop(); broker.stop() }
        let world = Self.observedOnLoopback(http: http, broker: broker) { $0.homeAssistant.failover = .swarm }
        world.homeAssistant = { $0.cut ? "pi-3" : "pi-2" }
        let report = try await Drill(cluster: world.cluster, probes: Self.loopbackProbes(world)).run(
            secrets: Self.secrets, .init(timeout: 30))
        #expect(report.failedNodes == ["n2"])
        #expect(report.roles == [.homeassistant])
        #expect(report.homeAssistantNode == "n3")
        #expect(report.problems == [])
        let n1 = world.runners["n1"]!
        let drain = try #require(n1.history.first { $0.command.pretty.contains("--availability drain") }?.sequence)
        let asked = n1.history.filter { $0.command.arguments.starts(with: ["docker", "service", "ps", "haha_homeassistant"]) }
        #expect(asked.contains { $0.sequence < drain } && asked.contains { $0.sequence > drain })
        #expect(!world.runners.values.contains { $0.ran("/.haha/lease") })
    }

    @Test func aGivenCutAndRestoreReplaceTheDrainAndGetTheVictim() async throws {
        let world = DrillWorld()
        let seen = Seen()
        let runners = world.runners
        let fault = Drill.Fault(
            scenario: .powerCut,
            cut: { node, runner in seen.add("fail \(node.name) \((runner as? ScriptedRunner) === runners[node.name])") },
            restore: { node, _ in seen.add("restore \(node.name)") })
        _ = try await Drill(cluster: world.cluster, probes: world.probes).run(secrets: Self.secrets, .init(fault: fault, timeout: 1))
        #expect(seen.all == ["fail n2 true", "restore n2"])
        #expect(Changing.commands(runners, ["docker node update"]) == [])
    }

    @Test func nothingIsCutOrWrittenWhenHomeAssistantIsNotRunning() async throws {
        let world = DrillWorld()
        world.homeAssistant = { _ in nil }
        let error = await #expect(throws: HahaError.self) {
            _ = try await Drill(cluster: world.cluster, probes: world.probes).run(secrets: Self.secrets, .init(timeout: 1))
        }
        #expect(error?.message == "Home Assistant is not running")
        #expect(Changing.commands(world.runners, ["docker node update"]) == [])
        #expect(world.rowWritten == nil)
    }

    @Test func eachTargetFailsTheNodeHoldingItsRoleAndReportsWhatElseItHeld() async throws {
        // Home Assistant on n2, the broker on n1, the raft leader n3, the VIP on n1.
        for (target, victim, roles) in [
            (DrillTarget.homeassistant, "n2", [DrillRole.homeassistant]), (.leader, "n3", [.leader]), (.broker, "n1", [.broker, .vip]),
            (.vip, "n1", [.broker, .vip]),
        ] {
            let world = DrillWorld(spec: Fixtures.spec { $0.sensorAddress = .vip(.init(address: DrillWorld.vip)) })
            world.vipHolder = "n1"
            world.leader = "n3"
            let seen = Seen()
            let fault = Drill.Fault(scenario: .powerCut, cut: { node, _ in seen.add(node.name) }, restore: { _, _ in })
            let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
                secrets: Self.secrets, .init(target: target, fault: fault, timeout: 0.5))
            #expect(seen.all == [victim], "target \(target)")
            #expect(report.failedNodes == [victim])
            #expect(report.roles == roles, "target \(target)")
            #expect(report.target == target)
            #expect(report.placement == DrillPlacement(homeAssistant: "n2", broker: "n1", leader: "n3", sensorAddress: ["n1"]))
        }
    }

    @Test func aVIPTargetNeedsAVIPAndOneHolder() async throws {
        let world = DrillWorld()
        let error = await #expect(throws: HahaError.self) {
            _ = try await Drill(cluster: world.cluster, probes: world.probes).run(secrets: Self.secrets, .init(target: .vip, timeout: 1))
        }
        #expect(error?.message.contains("not a VIP") == true)

        let nobody = DrillWorld(spec: Fixtures.spec { $0.sensorAddress = .vip(.init(address: DrillWorld.vip)) })
        let none = await #expect(throws: HahaError.self) {
            _ = try await Drill(cluster: nobody.cluster, probes: nobody.probes).run(secrets: Self.secrets, .init(target: .vip, timeout: 1))
        }
        #expect(none?.message == "no node holds the sensor address")
        #expect(Changing.commands(nobody.runners, ["docker node update"]) == [])
    }

    @Test func theVIPIsSampledUntilItAnswersAgain() async throws {
        let world = DrillWorld(spec: Fixtures.spec { $0.sensorAddress = .vip(.init(address: DrillWorld.vip)) })
        world.vipHolder = "n2"
        world.homeAssistant = { $0.cut ? "pi-3" : "pi-2" }
        // Through the VIP, the broker answers 0.3 s after the cut. Home Assistant still answers just after it (as a
        // drained task that has not stopped yet), then not from 0.2 s, then again from 0.6 s: the outage ends at 0.6 s.
        world.answersThroughVIP = { sinceCut, isHTTP in
            let time = sinceCut ?? 0
            return isHTTP ? time < 0.2 || time > 0.6 : time > 0.3
        }
        let fault = Drill.Fault(scenario: .powerCut, cut: { _, _ in world.markCut() }, restore: { _, _ in })
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 30, steady: 0.5))
        #expect(report.sensorAddress == DrillWorld.vip)
        let http = try #require(report.vipHTTPSeconds)
        let mqtt = try #require(report.vipMQTTSeconds)
        #expect(http >= 0.6)
        #expect(mqtt >= 0.3)
        // Sampled again and again (every 150 ms) until it kept answering.
        #expect(world.vipTries(http: true) >= 4)
        #expect(world.vipTries(http: false) >= 2)
        #expect(report.problems == [])
        #expect(report.passed)
    }

    /// Seen on the lab, only by samplers outside the drill: the sensor address answered again 10 s after the cut, then
    /// not for 6.8 s some 13 s later (Swarm restarted the new holder's tasks after it lost its leader). The drill goes
    /// on sampling the VIP after it answered steadily and reports the longest time it then went without an answer.
    @Test func anOutageAfterTheFailoverIsReportedBesideIt() async throws {
        let world = DrillWorld(spec: Fixtures.spec { $0.sensorAddress = .vip(.init(address: DrillWorld.vip)) })
        world.vipHolder = "n2"
        world.homeAssistant = { $0.cut ? "pi-3" : "pi-2" }
        // HTTP answers from 0.2 s (steady by 0.7 s), then not from 1.2 s to 1.8 s; MQTT never misses once back.
        world.answersThroughVIP = { sinceCut, isHTTP in
            let time = sinceCut ?? 0
            return isHTTP ? (time > 0.2 && !(1.2...1.8).contains(time)) : time > 0.3
        }
        let fault = Drill.Fault(scenario: .powerCut, cut: { _, _ in world.markCut() }, restore: { _, _ in })
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets,
            .init(
                fault: fault, countHomeAssistants: { Drill.Instances(processes: ["pid 1 on n3"]) }, timeout: 30, countAfterwards: 2.5,
                steady: 0.5))
        let http = try #require(report.vipHTTPSeconds)
        #expect(http < 1.2, "the first steady answers end the outage: \(http)")
        let relapse = try #require(report.vipHTTPRelapseSeconds)
        #expect(relapse >= 0.6 && relapse < 1.5, "\(relapse)")
        #expect(report.vipMQTTRelapseSeconds == nil)
        #expect(report.text.contains("then without an answer again for up to: HTTP"))
        let summary = DrillSummary([report])
        #expect(summary.text.contains("then without an answer again, HTTP: in 1 of 1 runs"))
        #expect(summary.text.contains("then without an answer again, MQTT: in none of 1 runs"))
    }

    @Test func aFrozenNodeIsResumedOnTimeAndMayKeepHomeAssistant() async throws {
        let world = DrillWorld()
        let seen = Seen()
        // Home Assistant stays on pi-2 (n2) throughout: it only counts once n2 is back.
        let fault = Drill.Fault(
            scenario: .freeze, cut: { node, _ in seen.add("pause \(node.name)") }, restore: { node, _ in seen.add("unpause \(node.name)") },
            restoreAfter: 0.5)
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 30))
        #expect(seen.all == ["pause n2", "unpause n2"])
        let seconds = try #require(report.haSeconds)
        #expect(seconds >= 0.5)
        #expect(report.homeAssistantNode == "n2")
        #expect(report.scenario == .freeze)
        #expect(report.passed)
    }

    /// CI once found Home Assistant without its owner after staged power cuts, only at the next `haha up`: the drill
    /// now looks, and a lost owner fails it.
    @Test func homeAssistantAskingForAnOwnerAfterTheFaultFailsTheDrill() async throws {
        let world = DrillWorld()
        world.homeAssistant = { $0.cut ? "pi-3" : "pi-2" }
        world.ownerLostAtCut = true
        let fault = Drill.Fault(scenario: .powerCut, cut: { _, _ in world.markCut() }, restore: { _, _ in })
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 30))
        #expect(
            report.lossChecks.last
                == LossCheck(kind: .homeAssistantOwner, location: "GET /api/onboarding, step user", state: .missing, detail: "not there"))
        #expect(report.problems == [])
        #expect(!report.passed)
    }

    @Test func aLostMarkerIsReportedMissingAndTheRestIsStillCleanedUp() async throws {
        let world = DrillWorld()
        world.homeAssistant = { $0.cut ? "pi-3" : "pi-2" }
        // The broker forgets its retained messages at the power cut (not persisted in time).
        let fault = Drill.Fault(
            scenario: .powerCut,
            cut: { _, _ in
                world.markCut(); world.forgetRetained()
            }, restore: { _, _ in })
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 30))
        #expect(report.lossChecks.map(\.kind) == [.recorderRow, .retainedMessage, .configFile, .homeAssistantOwner])
        #expect(report.lossChecks.map(\.state) == [.present, .missing, .present, .present])
        #expect(report.lossChecks[1].location.hasPrefix("haha/drill/"))
        #expect(report.problems == [])
        #expect(!report.passed)
        #expect(world.leftovers == [])
        #expect(world.runners.values.contains { $0.ran("DROP TABLE IF EXISTS `homeassistant`.`haha_drill`") })
    }

    /// A broker still settling after an earlier drill: the retained message is tried again until it is taken.
    @Test func aBrokerThatRefusesTheMarkerAtFirstIsAskedAgain() async throws {
        let world = DrillWorld()
        world.brokerRefusesFirst = 2
        let seen = Seen()
        let fault = Drill.Fault(scenario: .powerCut, cut: { node, _ in seen.add(node.name) }, restore: { _, _ in })
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 10))
        #expect(seen.all == ["n2"])
        #expect(report.lossChecks.map(\.state) == [.present, .present, .present, .present])
    }

    /// CI caught it after a partition: when the drill looked for the row, no member was Synced for a moment (the healed
    /// node's rejoin), and the check said "unknown". It asks again until one is, within the same minute as the message.
    @Test func noSyncedMemberForAMomentAfterTheRecoveryIsWaitedFor() async throws {
        let world = DrillWorld()
        world.galeraSynced = { since in since.map { $0 > 12 } ?? true }
        let fault = Drill.Fault(scenario: .powerCut, cut: { _, _ in world.markCut() }, restore: { _, _ in })
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 10))
        #expect(report.lossChecks.map(\.state) == [.present, .present, .present, .present], "\(report.lossChecks)")
    }

    @Test func aMarkerThatCannotBeWrittenStopsTheDrillBeforeTheCut() async throws {
        let world = DrillWorld()
        world.brokerAcceptsPublish = false
        let seen = Seen()
        let fault = Drill.Fault(scenario: .powerCut, cut: { node, _ in seen.add(node.name) }, restore: { _, _ in })
        await #expect(throws: HahaError.self) {
            _ = try await Drill(cluster: world.cluster, probes: world.probes).run(secrets: Self.secrets, .init(fault: fault, timeout: 1))
        }
        #expect(seen.all == [])
        // What was written already (the row) is removed again.
        #expect(world.leftovers == [])
    }

    @Test func aCutThatFailsHalfWayIsUndoneAndReported() async throws {
        let world = DrillWorld()
        let seen = Seen()
        let fault = Drill.Fault(
            scenario: .powerCut,
            cut: { node, _ in
                seen.add("cut \(node.name)")
                throw HahaError(.failed, "docker kill refused")
            },
            restore: { node, _ in seen.add("restore \(node.name)") })
        let error = await #expect(throws: HahaError.self) {
            _ = try await Drill(cluster: world.cluster, probes: world.probes).run(secrets: Self.secrets, .init(fault: fault, timeout: 1))
        }
        #expect(error?.message == "docker kill refused")
        #expect(seen.all == ["cut n2", "restore n2"])
        #expect(world.leftovers == [])
    }

    @Test func aPowerCutOfEveryNodeIsMeasuredFromTheRestartUntilTheWholeServiceIsBack() async throws {
        let world = DrillWorld()
        let seen = Seen()
        let fault = Drill.Fault(
            scenario: .allPowerCut, cut: { node, _ in seen.add("cut \(node.name)") },
            restore: { node, _ in
                seen.add("start \(node.name)")
                world.markCut(again: true)
            })
        // After the restart, Galera needs 1.2 s to sync and Home Assistant 0.5 s; the broker answers at once.
        world.galeraSynced = { ($0 ?? 2) > 1.2 }
        world.answersThroughNodes = { sinceCut, isHTTP in !isHTTP || (sinceCut ?? 1) > 0.5 }
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 60))
        let order = seen.all
        #expect(Set(order.prefix(3)) == ["cut n1", "cut n2", "cut n3"])
        #expect(Set(order.suffix(3)) == ["start n1", "start n2", "start n3"])
        #expect(report.failedNodes == ["n1", "n2", "n3"])
        #expect(report.target == nil)
        #expect(report.roles == [.homeassistant, .leader, .broker])
        let full = try #require(report.fullService)
        #expect(try #require(full.galeraSeconds) >= 1.0)  // 1.2 s on the world's clock, which starts a moment earlier
        #expect(try #require(full.homeAssistantSeconds) >= 0.5)
        #expect(try #require(full.brokerSeconds) < 0.5)
        #expect(full.seconds == full.galeraSeconds)
        #expect(report.passed)
        // Nobody ran `haha up`: no deploy, no bootstrap.
        #expect(
            Changing.commands(world.runners, ["docker stack deploy", "docker service scale", "docker service update", "docker run"]) == [])
    }

    @Test func aFullServiceThatDoesNotComeBackKeepsWhatWasMeasured() async throws {
        let world = DrillWorld()
        let fault = Drill.Fault(scenario: .allPowerCut, cut: { _, _ in }, restore: { _, _ in world.markCut() })
        world.galeraSynced = { $0 == nil }
        let report = try await Drill(cluster: world.cluster, probes: world.probes).run(
            secrets: Self.secrets, .init(fault: fault, timeout: 3))
        let full = try #require(report.fullService)
        #expect(full.seconds == nil)
        #expect(full.galeraSeconds == nil)
        #expect(full.homeAssistantSeconds != nil)
        #expect(full.brokerSeconds != nil)
        #expect(
            report.problems == [
                "the whole service was not back within 3 s after every node was started again; never seen: 3 Synced Galera members"
            ])
        // With no Synced member, the recorder row cannot be looked for: unknown, not missing.
        #expect(report.lossChecks.map(\.state) == [.unknown, .present, .present, .present])
        #expect(!report.passed)
    }
}

/// What the drill's closures were called with.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
