import Foundation
import HahaCore

/// Docker Swarm: one cluster, managers on every node (up to 5), the dispatcher heartbeat `SwarmHeartbeat` chooses, node labels.
public struct Swarm: Sendable {
    let cluster: Cluster
    public init(cluster: Cluster) { self.cluster = cluster }

    struct NodeState {
        var state: String
        var control: Bool
        var nodeID: String
        /// Part of a swarm (active, pending, locked, error): not one that never joined or left.
        var inSwarm: Bool { !["", "inactive"].contains(state) }
    }

    func state(_ runner: any CommandRunner) async throws -> NodeState {
        let fields = try await runner.output(
            ["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}"], timeout: 30
        )
        .split(separator: " ").map(String.init)
        return NodeState(
            state: fields.first ?? "", control: fields.count > 1 && fields[1] == "true", nodeID: fields.count > 2 ? fields[2] : "")
    }

    /// Reads the Swarm state of `nodes` into `states` every 2 s until `done` holds; a timeout names the nodes' last states.
    func poll(
        _ nodes: [ClusterSpec.Node], into states: inout [String: NodeState], timeout: Double, until what: String, next: String,
        _ done: ([String: NodeState]) -> Bool
    ) async throws {
        do {
            try await waitUntil(what, timeout: timeout, interval: 2, next: next) { poll in
                for node in nodes { states[node.name] = try await state(poll.on(cluster.runner(node))) }
                return done(states)
            }
        } catch var error as HahaError where error.code == .timeout {
            error.message += "\n  states: " + Self.summary(nodes, states)
            throw error
        }
    }

    /// "n1: active, n2: pending": each node's Swarm state as last read.
    static func summary(_ nodes: [ClusterSpec.Node], _ states: [String: NodeState]) -> String {
        nodes.map { "\($0.name): \(states[$0.name]?.state ?? "?")" }.joined(separator: ", ")
    }

    /// The runner of a node that is a manager with a quorum, if any.
    public func manager(_ poll: Poll = Poll()) async throws -> (any CommandRunner)? {
        for node in cluster.spec.nodes {
            let runner = cluster.runner(node)
            if let state = try? await state(poll.on(runner)), state.state == "active", state.control,
                try await poll.on(runner).run(Command(["docker", "node", "ls", "-q"], timeout: 20)).succeeded
            {
                return runner
            }
        }
        return nil
    }

    /// A manager that answers, as `manager`; when none does while some node is in a swarm (its managers electing a
    /// leader: a partition just healed, a leader lost its power), it waits up to `timeout` s for one. nil when no node is
    /// in a swarm, or none answered in time. Seen on the lab: `haha up` right after a healed partition found no manager
    /// within 0.2 s, took the stack for absent and refused to run because its own proxy listened on 8123 and 1883.
    public func existingManager(timeout: Double = 90) async throws -> (any CommandRunner)? {
        if let found = try await manager() { return found }
        var inSwarm = false
        for node in cluster.spec.nodes where !inSwarm {
            inSwarm = (try? await state(cluster.runner(node)))?.inSwarm ?? false
        }
        guard inSwarm else { return nil }
        cluster.log("the nodes are in a swarm whose managers do not answer yet (electing a leader?): waiting up to \(Int(timeout)) s")
        return try? await managerWithQuorum(timeout: timeout, purpose: "see whether its stack runs")
    }

    public func converge() async throws -> Bool {
        var changed = false
        let spec = cluster.spec
        var states: [String: NodeState] = [:]
        for node in spec.nodes { states[node.name] = try await state(cluster.runner(node)) }

        var managerNode = spec.nodes.first { states[$0.name]?.state == "active" && states[$0.name]?.control == true }
        let inSwarm = spec.nodes.filter { states[$0.name]?.inSwarm ?? false }
        if managerNode == nil, !inSwarm.isEmpty {
            // Nodes of a swarm whose managers have no quorum yet (a restart, a power cut): a new swarm beside it would
            // split the cluster. Wait for the raft to elect a leader; never init over it.
            cluster.log("waiting for the Swarm managers to regain quorum (\(Self.summary(inSwarm, states)))")
            try await poll(
                inSwarm, into: &states, timeout: 240,
                until: "a manager with quorum in the swarm of \(inSwarm.map(\.name).joined(separator: ", "))",
                next:
                    "run `docker node ls` on a node; bring back the missing managers, or if most of them are lost for good run `docker swarm init --force-new-cluster --advertise-addr ADDRESS` on a survivor, then `haha up`"
            ) { states in
                inSwarm.contains { states[$0.name]?.state == "active" && states[$0.name]?.control == true }
            }
            managerNode = inSwarm.first { states[$0.name]?.state == "active" && states[$0.name]?.control == true }
        }
        if managerNode == nil {
            let first = cluster.primary
            try await cluster.runner(first).check(
                ["docker", "swarm", "init", "--advertise-addr", first.address] + SwarmHeartbeat.initArguments(spec), timeout: 60)
            try await Marker.set(Marker.swarm, on: cluster.runner(first))
            states[first.name] = try await state(cluster.runner(first))
            managerNode = first
            changed = true
        }
        guard let managerNode else { return changed }
        let manager = cluster.runner(managerNode)
        // The heartbeat `SwarmHeartbeat` chooses for the spec (1 s only where Swarm moves the fenced Home Assistant), also
        // on a swarm that exists already.
        let heartbeat = try await manager.output(SwarmHeartbeat.inspect, timeout: 30)
        if let update = SwarmHeartbeat.update(current: heartbeat, spec) {
            cluster.log("setting the Swarm's dispatcher heartbeat to \(SwarmHeartbeat.seconds(spec)) s")
            try await manager.check(update, timeout: 60)
            changed = true
        }
        let managerToken = try await manager.output(["docker", "swarm", "join-token", "-q", "manager"])
        let workerToken = try await manager.output(["docker", "swarm", "join-token", "-q", "worker"])
        // A member still reconnecting after a restart ("pending", "error") is waited for; joining it again would fail
        // ("already part of a swarm"). Only nodes outside any swarm ("inactive") join.
        let reconnecting = spec.nodes.filter { ![nil, "active", "inactive"].contains(states[$0.name]?.state) }
        if !reconnecting.isEmpty {
            cluster.log("waiting for \(reconnecting.map(\.name).joined(separator: ", ")) to reconnect to the swarm")
            try await poll(
                reconnecting, into: &states, timeout: 180,
                until: "\(reconnecting.map(\.name).joined(separator: ", ")) to reconnect to the swarm",
                next: "look at `docker info` and the engine's log on those nodes, then run `haha up` again"
            ) { states in
                reconnecting.allSatisfy { states[$0.name]?.state == "active" }
            }
        }
        let managers = NodeMembership.managerCount(spec.nodes.count)
        for (index, node) in spec.nodes.enumerated() where states[node.name]?.state == "inactive" {
            let token = index < managers ? managerToken : workerToken
            try await join(node, token: token, manager: managerNode)
            try await Marker.set(Marker.swarm, on: cluster.runner(node))
            states[node.name] = try await state(cluster.runner(node))
            changed = true
        }
        // Labels place Galera members and keep Home Assistant on data nodes.
        for node in spec.nodes {
            guard let id = states[node.name]?.nodeID, !id.isEmpty else { continue }
            let labels = try await manager.output(["docker", "node", "inspect", "--format", "{{json .Spec.Labels}}", id])
            let wanted = [Renderer.Names.nodeLabel: node.name, Renderer.Names.roleLabel: node.role.rawValue]
            let missing = wanted.filter { !labels.contains("\"\($0.key)\":\"\($0.value)\"") }
            if !missing.isEmpty {
                try await manager.check(
                    ["docker", "node", "update"] + missing.sorted { $0.key < $1.key }.flatMap { ["--label-add", "\($0.key)=\($0.value)"] }
                        + [id])
                changed = true
            }
        }
        // An odd number of managers, the first nodes of the spec (a node added to three joins as a worker; the fifth
        // makes the fourth a manager; removing one promotes or demotes again).
        for (index, node) in spec.nodes.enumerated() {
            guard let state = states[node.name], state.state == "active", !state.nodeID.isEmpty else { continue }
            let wanted = index < managers
            guard wanted != state.control else { continue }
            cluster.log("\(wanted ? "promoting" : "demoting") \(node.name) (\(managers) managers for \(spec.nodes.count) nodes)")
            try await manager.check(["docker", "node", wanted ? "promote" : "demote", state.nodeID], timeout: 60)
            changed = true
        }
        return changed
    }

    /// `docker swarm join` through the Engine API on the node's socket, with the token on stdin: never in an argv that
    /// `ps` shows on the node or on this machine, never in an error message. The request is sent by the node's
    /// `perl-base` (Essential in Debian, so present wherever Docker runs), the only HTTP client every node has.
    func join(_ node: ClusterSpec.Node, token: String, manager: ClusterSpec.Node) async throws {
        let body = try JSONSerialization.data(
            withJSONObject: [
                "ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": node.address,
                "RemoteAddrs": ["\(manager.address):2377"], "JoinToken": token,
            ], options: [.sortedKeys])
        let result = try await cluster.runner(node).run(
            Command(["perl", "-MIO::Socket::UNIX", "-e", Self.joinScript], input: body, timeout: 90))
        guard result.succeeded else {
            var redacted = result
            redacted.stdout = Data(result.output.replacingOccurrences(of: token, with: "[join token]").utf8)
            redacted.stderr = Data(result.errorOutput.replacingOccurrences(of: token, with: "[join token]").utf8)
            throw CommandError(
                target: cluster.runner(node).target, command: "POST /swarm/join to the Docker socket (the join token on stdin)",
                result: redacted, hint: "TCP 2377, 7946 and UDP 4789, 7946 must be open between the nodes")
        }
    }

    /// Reads a JSON body on stdin, POSTs it to /swarm/join on the Docker socket, prints the engine's answer on failure.
    static let joinScript = #"""
        local $/; my $body = <STDIN>;
        my $s = IO::Socket::UNIX->new(Peer => "/var/run/docker.sock") or die "cannot open /var/run/docker.sock: $!\n";
        print $s "POST /swarm/join HTTP/1.0\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body;
        my $answer = join("", <$s>);
        my ($code) = $answer =~ m{^HTTP/\S+ (\d+)};
        exit 0 if defined $code && $code == 200;
        my ($message) = $answer =~ m{"message":"((?:[^"\\]|\\.)*)"};
        print STDERR "docker: ", ($message // $answer), "\n"; exit 1;
        """#
}

/// Files under /var/lib/haha/state on a node that record what haha created there, so `haha down`
/// undoes exactly that: a Swarm or a package that was there before haha stays.
public enum Marker {
    public static let directory = "/var/lib/haha/state"
    public static let swarm = "swarm-joined"
    public static func installed(_ package: String) -> String { "installed-\(package)" }

    public static func set(_ name: String, on runner: any CommandRunner) async throws {
        try await runner.shell("mkdir -p \(directory) && touch \(directory)/\(name)", timeout: 30)
    }

    public static func isSet(_ name: String, on runner: any CommandRunner) async throws -> Bool {
        try await runner.run(Command(["test", "-e", "\(directory)/\(name)"], timeout: 30)).succeeded
    }
}

extension Swarm {
    /// A manager of a swarm that has a leader, waited for up to `timeout` seconds: after a power cut the raft needs an
    /// election before any service can change. `purpose` says in the error what could not be done without it.
    public func managerWithQuorum(timeout: Double = 120, purpose: String) async throws -> any CommandRunner {
        var found: (any CommandRunner)?
        try await waitUntil(
            "a Swarm manager with quorum, so that haha can \(purpose)", timeout: timeout, interval: 2,
            next:
                "a majority of the managers (\(cluster.spec.nodes.prefix(5).map(\.name).joined(separator: ", "))) must run: run `haha status`"
        ) { poll in
            found = try await manager(poll)
            return found != nil
        }
        guard let found else { throw HahaError(.invalidState, "no Swarm manager answers", next: "run `haha up` first") }
        return found
    }
}
