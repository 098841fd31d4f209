import Foundation
import HahaCore
import HahaTestSupport

@testable import HahaSystem

/// A scripted cluster for drills: hosts pi-1…pi-3 labelled n1…n3, every Galera member synced, Home Assistant on pi-2,
/// the broker on pi-1, n1 the raft leader. A recorder database, a shared volume and a broker keep what the drill writes;
/// Home Assistant and the broker answer through every address unless a test says otherwise. Times given to the
/// closures are seconds since `markCut()` (a drain marks it too), nil before.
final class DrillWorld: @unchecked Sendable {
    static let vip = "10.1.0.100"
    static func swarmID(_ name: String) -> String { "q7c2m9x4w1v8b5n3k6j0h\(name)" }

    struct State { var cut: Bool }

    // What a test sets before the drill runs.
    var homeAssistant: @Sendable (State) -> String? = { _ in "pi-2" }
    var broker: @Sendable (State) -> String? = { _ in "pi-1" }
    var leader = "n1"
    var vipHolder: String?
    var galeraSynced: @Sendable (Double?) -> Bool = { _ in true }
    /// (seconds since the cut, HTTP rather than MQTT) → answers.
    var answersThroughVIP: @Sendable (Double?, Bool) -> Bool = { _, _ in true }
    var answersThroughNodes: @Sendable (Double?, Bool) -> Bool = { _, _ in true }
    var brokerAcceptsPublish = true
    /// How many retained messages the broker refuses before it takes them (a broker still settling).
    var brokerRefusesFirst = 0
    /// Home Assistant asks for an owner after the cut (it lost its own).
    var ownerLostAtCut = false

    // What the drill changes.
    private let lock = NSLock()
    private var cutAt: ContinuousClock.Instant?
    private var rows: Set<String> = []
    private var files: [String: (node: String, contents: String)] = [:]
    private var retained: [String: String] = [:]
    private var vipHTTPTries = 0, vipMQTTTries = 0

    let cluster: Cluster
    let runners: [String: ScriptedRunner]

    init(spec: ClusterSpec = Fixtures.spec()) {
        (cluster, runners) = Fixtures.cluster(spec)
        for (name, runner) in runners { script(name, runner) }
    }

    /// The fault happened now; `again`: the clock restarts (the last node of a full power cut started).
    func markCut(again: Bool = false) { lock.withLock { if cutAt == nil || again { cutAt = .now } } }
    var sinceCut: Double? {
        lock.withLock {
            cutAt.map {
                Double((ContinuousClock.now - $0).components.attoseconds) / 1e18 + Double((ContinuousClock.now - $0).components.seconds)
            }
        }
    }
    var state: State { State(cut: sinceCut != nil) }
    func forgetRetained() { lock.withLock { retained = [:] } }
    func vipTries(http: Bool) -> Int { lock.withLock { http ? vipHTTPTries : vipMQTTTries } }

    /// What the drill left behind.
    var leftovers: [String] {
        lock.withLock { rows.map { "row \($0)" }.sorted() + files.keys.sorted() + retained.keys.sorted() }
    }

    /// The sequence number of the recorder row's INSERT, nil when none ran.
    var rowWritten: Int? {
        runners.values.flatMap(\.history).first { $0.command.arguments.last?.contains("INSERT INTO") == true }?.sequence
    }

    /// The node the drill's /config file was written on.
    var fileWrittenOn: String? {
        lock.withLock { files.values.first?.node }
            ?? runners.first { $0.value.commands.contains { $0.arguments.last?.contains(".haha-tmp") == true } }?.key
    }

    /// The shell word after the last `marker` in a script, unquoted (`shellQuote` quotes only words that need it).
    static func word(after marker: String, in script: String) -> String? {
        guard let range = script.range(of: marker, options: .backwards) else { return nil }
        let rest = script[range.upperBound...]
        if rest.hasPrefix("'") { return rest.dropFirst().split(separator: "'").first.map(String.init) }
        return rest.split(whereSeparator: \.isWhitespace).first.map(String.init)
    }

    /// The drill's token (16 hex digits) in an SQL script, however it was quoted.
    static func token(in script: String) -> String? {
        script.firstMatch(of: /[0-9a-f]{16}/).map { String($0.output) }
    }

    private func script(_ name: String, _ runner: ScriptedRunner) {
        runner.on({ $0.starts(with: ["docker", "info", "--format"]) }, stdout: "active true \(Self.swarmID(name))\n")
        runner.on({ $0.starts(with: ["docker", "ps", "-q", "--filter"]) }, stdout: "gal-\(name)\n")
        runner.on({ $0.starts(with: ["docker", "exec", "gal-\(name)", "sh", "-c"]) }) { [self] command in
            sql(command.arguments[5])
        }
        // Every data node runs a Home Assistant task (standbys); the fence's lease names the one that runs it.
        runner.on({ $0.first == "cat" && $0.last?.hasSuffix("/.haha/lease") == true }) { [self] _ in
            .scripted(stdout: homeAssistant(state).map { "held \($0) 57 c0ffee42 9\n" } ?? "released pi-2 57 c0ffee42\n")
        }
        // Without the fence (`failover: swarm`) Home Assistant's one task runs where it runs.
        runner.on({ $0.starts(with: ["docker", "service", "ps", "haha_homeassistant"]) }) { [self] _ in
            .scripted(stdout: homeAssistant(state).map { "\($0) Running 3 hours ago\n" } ?? "")
        }
        runner.on({ $0.starts(with: ["docker", "service", "ps", "haha_mosquitto"]) }) { [self] _ in
            .scripted(stdout: broker(state).map { "\($0) Running 3 hours ago\n" } ?? "")
        }
        runner.on({ $0.starts(with: ["docker", "node", "inspect"]) }) { command in
            let node = command.arguments[3]
            return .scripted(
                stdout: (node.hasPrefix("pi-") ? node.replacingOccurrences(of: "pi-", with: "n") : String(node.suffix(2))) + "\n")
        }
        runner.on({ $0 == ["docker", "node", "ls", "--format", "{{.ID}} {{.ManagerStatus}}"] }) { [self] _ in
            .scripted(stdout: ["n1", "n2", "n3"].map { "\(Self.swarmID($0)) \($0 == leader ? "Leader" : "Reachable")\n" }.joined())
        }
        runner.on({ $0.starts(with: ["docker", "node", "ls", "-q", "--filter"]) }) { command in
            .scripted(stdout: Self.swarmID(command.arguments[5].replacingOccurrences(of: "node.label=haha.node=", with: "")) + "\n")
        }
        runner.on({ $0.starts(with: ["docker", "node", "update", "--availability", "drain"]) }) { [self] _ in
            markCut()
            return .scripted()
        }
        runner.on({ $0 == ["ip", "-o", "-4", "addr", "show"] }) { [self] _ in
            let address = cluster.spec.nodes.first { $0.name == name }?.address ?? "?"
            var lines = [
                "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
                "2: eth0    inet \(address)/24 brd 10.1.0.255 scope global eth0\\       valid_lft forever preferred_lft forever",
            ]
            if vipHolder == name { lines.append("2: eth0    inet \(Self.vip)/24 scope global secondary eth0\\       valid_lft forever") }
            return .scripted(stdout: lines.joined(separator: "\n") + "\n")
        }
        runner.on({ $0.count == 3 && $0[0] == "sh" && $0[1] == "-c" }) { [self] command in
            volume(name, command.arguments[2], input: command.input)
        }
    }

    private func sql(_ script: String) -> CommandResult {
        if script.contains("SHOW STATUS") {
            let synced = galeraSynced(sinceCut)
            return .scripted(stdout: "wsrep_cluster_size\t3\nwsrep_cluster_status\tPrimary\nwsrep_local_state\t\(synced ? 4 : 1)\n")
        }
        return lock.withLock {
            if script.contains("INSERT INTO"), let token = Self.token(in: script) {
                rows.insert(token)
            } else if script.contains("SELECT token"), let token = Self.token(in: script) {
                return .scripted(stdout: rows.contains(token) ? token + "\n" : "")
            } else if script.contains("DROP TABLE") {
                rows = []
            }
            return .scripted()
        }
    }

    /// The shared volume's scripts: write (through a temporary file), read, remove.
    private func volume(_ node: String, _ script: String, input: Data?) -> CommandResult {
        lock.withLock {
            if script.contains(".haha-tmp"), let temporary = Self.word(after: "cat > ", in: script) {
                files[String(temporary.dropLast(".haha-tmp".count))] = (node, String(decoding: input ?? Data(), as: UTF8.self))
            } else if script.contains("[ -e "), let path = Self.word(after: "cat ", in: script) {
                guard let file = files[path] else { return .scripted(exit: 4) }
                return .scripted(stdout: file.contents)
            } else if script.contains("rm -f"), let path = Self.word(after: "rm -f ", in: script) {
                files[path] = nil
            }
            return .scripted()
        }
    }

    var probes: ServiceProbes {
        ServiceProbes(
            homeAssistantStatus: { [self] host, _ in
                if host == Self.vip { lock.withLock { vipHTTPTries += 1 } }
                return (host == Self.vip ? answersThroughVIP : answersThroughNodes)(sinceCut, true) ? 401 : nil
            },
            mqttLogin: { [self] host, _, _, _ in
                if host == Self.vip { lock.withLock { vipMQTTTries += 1 } }
                return (host == Self.vip ? answersThroughVIP : answersThroughNodes)(sinceCut, false) ? 0 : nil
            },
            publishRetained: { [self] _, _, _, _, topic, payload in
                let settling = lock.withLock {
                    brokerRefusesFirst -= 1
                    return brokerRefusesFirst >= 0
                }
                guard brokerAcceptsPublish, !settling else {
                    throw HahaError(.failed, "the broker refused homeassistant's login (CONNACK 5)")
                }
                lock.withLock { retained[topic] = payload.isEmpty ? nil : payload }
            },
            readRetained: { [self] _, _, _, _, topic in
                lock.withLock { retained[topic].map { .found($0) } ?? .absent }
            },
            homeAssistantOwner: { [self] _, _ in
                ownerLostAtCut && sinceCut != nil ? .absent : .found(DrillMarkers.ownerPresent)
            })
    }
}
