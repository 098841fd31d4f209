import Foundation
import HahaCore

/// `haha upgrade`: the new images rolled out through the stack (Galera one member at a time, by `Deploy`), and the
/// gate that says whether Home Assistant came back on its new image.
public struct Upgrade: Sendable {
    /// The cluster with the new images in its spec.
    public let cluster: Cluster
    public let secrets: SecretValues

    public init(cluster: Cluster, secrets: SecretValues) {
        self.cluster = cluster
        self.secrets = secrets
    }

    var deploy: Deploy { Deploy(cluster: cluster, secrets: secrets) }

    /// Where Home Assistant answers: the sensor VIP when there is one, else the first data node.
    public var homeAssistantURL: URL {
        let spec = cluster.spec
        let address = spec.sensorAddress.vip?.address ?? cluster.primary.address
        return URL(string: "http://\(address):\(spec.homeAssistant.port)/") ?? URL(fileURLWithPath: "/")
    }

    /// Each data node's `RepoDigests` of `image`, one a line (empty where it has none: built or loaded locally).
    public func repoDigests(_ image: String) async throws -> [String: String] {
        try await cluster.onAll(cluster.spec.dataNodes) { _, runner in
            try await runner.output(
                ["docker", "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", image], timeout: 30)
        }
    }

    /// `changes` with each new image pinned by the registry digest its nodes hold (where they hold one); throws when
    /// nodes hold different images under one tag. `note` hears why an image stays a tag.
    public func pinned(_ changes: [UpgradePlan.Change], note: (String) -> Void) async throws -> [UpgradePlan.Change] {
        var pinned = changes
        for index in pinned.indices {
            switch UpgradePlan.pin(pinned[index].to, repoDigests: try await repoDigests(pinned[index].to)) {
            case .pinned(let reference): pinned[index].to = reference
            case .notPinned(let why): note(why)
            case .refused(let why):
                throw HahaError(
                    .failed, why, next: "nothing was changed; `docker pull` the image on every data node, then run haha upgrade again")
            }
        }
        return pinned
    }

    /// The stack deployed with this spec's images and every Galera member Synced again.
    public func rollOut() async throws {
        try await deploy.deploy(.steady)
        try await deploy.waitSynced()
    }

    /// Every running Home Assistant task runs `image` and Home Assistant answers, within `timeout` seconds.
    /// `judgeUpdate`: Swarm's update of Home Assistant's service is followed, and its rollback is a failure. Off on the
    /// way back (Swarm's own rollback of the failed update is expected) and when Home Assistant's image did not change
    /// (its service keeps the state of an older update).
    public func waitHealthy(timeout: Double, settle: Double = 15, judgeUpdate: Bool = true) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        let service = deploy.service(Renderer.Names.homeAssistant)
        let image = cluster.spec.images.homeAssistant
        let manager = try await Swarm(cluster: cluster).managerWithQuorum(timeout: 60, purpose: "follow the upgrade")
        var abandoned: String?
        try await waitUntil(
            "every Home Assistant task to run \(image)", timeout: max(1, (deadline - .now) / .seconds(1)), interval: 3,
            next: "look at `docker service ps \(service)` and its tasks' logs (`docker service logs \(service)`)"
        ) { poll in
            // Swarm gives up on its own when new tasks fail (the stack's failure_action is rollback): no need to wait.
            let update = try await poll.on(manager).output(SwarmUpdate.inspect(service), timeout: 30)
            if judgeUpdate, let stop = SwarmUpdate.abandoned(update) {
                abandoned = stop
                return true
            }
            // Until Swarm says the update completed (its monitor period passed), an old task may still be the one
            // answering: a broken image once passed for a moment.
            if judgeUpdate && update.hasPrefix("updating") { return false }
            let tasks = try await poll.on(manager).output(
                ["docker", "service", "ps", "--filter", "desired-state=running", "--format", "{{.Image}}|{{.CurrentState}}", service],
                timeout: 30)
            return Self.allRunning(tasks, image: image)
        }
        if let abandoned {
            throw HahaError(
                .failed, "Swarm abandoned the update of \(service) to \(image): \(abandoned)",
                next: "look at the new tasks' logs (`docker service logs \(service)`)")
        }
        let ha = HomeAssistantSetup(baseURL: homeAssistantURL)
        try await ha.waitUntilUp(timeout: max(1, (deadline - .now) / .seconds(1)))
        // Still so a little later: a new task that dies after Swarm's monitor period is caught here.
        try await Task.sleep(for: .seconds(settle))
        let update = try await manager.output(SwarmUpdate.inspect(service), timeout: 30)
        let tasks = try await manager.output(
            ["docker", "service", "ps", "--filter", "desired-state=running", "--format", "{{.Image}}|{{.CurrentState}}", service],
            timeout: 30)
        let answer = try? await ha.request("GET", "api/", timeout: 10)
        guard !judgeUpdate || SwarmUpdate.abandoned(update) == nil, Self.allRunning(tasks, image: image),
            [200, 401].contains(answer?.status ?? 0)
        else {
            throw HahaError(
                .failed,
                "Home Assistant on \(image) did not stay up \(Int(settle)) s after it answered (update: \(update.trimmingCharacters(in: .whitespacesAndNewlines)); tasks: \(tasks.split(separator: "\n").joined(separator: ", ")); HTTP \(answer?.status ?? 0))",
                next: "look at the new tasks' logs (`docker service logs \(service)`)")
        }
    }

    /// `docker service ps` lines (`IMAGE|CURRENT STATE`): at least one task, and every one running `image` (Swarm may
    /// add the digest it resolved: `repo:tag@sha256:…`; an image pinned by digest is compared whole).
    static func allRunning(_ tasks: String, image: String) -> Bool {
        let lines = tasks.split(whereSeparator: \.isNewline).map(String.init)
        return !lines.isEmpty
            && lines.allSatisfy { line in
                let parts = line.split(separator: "|", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { return false }
                let ref = parts[0].split(separator: "@").first.map(String.init) ?? parts[0]
                return (parts[0] == image || ref == image) && parts[1].hasPrefix("Running")
            }
    }
}
