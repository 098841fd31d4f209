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

    /// The stack deployed with this spec's images and every Galera member Synced again.
    public func rollOut() async throws {
        try await deploy.deploy(.steady)
        try await deploy.waitSynced()
    }

    /// Every running Home Assistant task runs `image` and Home Assistant answers, within `timeout` seconds.
    public func waitHealthy(timeout: Double) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        let service = deploy.service(Renderer.Names.homeAssistant)
        let image = cluster.spec.images.homeAssistant
        let manager = try await Swarm(cluster: cluster).managerWithQuorum(timeout: 60, purpose: "follow the upgrade")
        try await waitUntil(
            "every Home Assistant task to run \(image)", timeout: max(1, (deadline - .now) / .seconds(1)), interval: 3,
            next: "look at `docker service ps \(service)` and its tasks' logs (`docker service logs \(service)`)"
        ) { poll in
            let tasks = try await poll.on(manager).output(
                ["docker", "service", "ps", "--filter", "desired-state=running", "--format", "{{.Image}}|{{.CurrentState}}", service],
                timeout: 30)
            return Self.allRunning(tasks, image: image)
        }
        try await HomeAssistantSetup(baseURL: homeAssistantURL).waitUntilUp(timeout: max(1, (deadline - .now) / .seconds(1)))
    }

    /// `docker service ps` lines (`IMAGE|CURRENT STATE`): at least one task, and every one running `image` (Swarm may
    /// add the digest it resolved: `repo:tag@sha256:…`).
    static func allRunning(_ tasks: String, image: String) -> Bool {
        let lines = tasks.split(whereSeparator: \.isNewline).map(String.init)
        return !lines.isEmpty
            && lines.allSatisfy { line in
                let parts = line.split(separator: "|", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { return false }
                let ref = parts[0].split(separator: "@").first.map(String.init) ?? parts[0]
                return ref == image && parts[1].hasPrefix("Running")
            }
    }
}
