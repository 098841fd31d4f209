import Foundation
import HahaCore
import Testing

@testable import HahaSystem

/// `haha up`'s steps: their order, and the sensor-address step only where the spec has a sensor address.
@Suite struct ConvergenceTests {
    func convergence(_ sensorAddress: ClusterSpec.SensorAddress) throws -> Convergence {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("up-\(UUID().uuidString)").path
        var spec = ClusterSpec(nodes: ["n1", "n2", "n3"].enumerated().map { .init(name: $1, address: "10.1.0.1\($0 + 1)") })
        spec.sensorAddress = sensorAddress
        let workspace = Workspace(specPath: "\(directory)/haha.yaml", spec: spec)
        try workspace.generateMissingSecrets()
        return try Convergence(cluster: Cluster(workspace: workspace, runners: [:]), homeAssistantTimeout: 1)
    }

    @Test func stepsRunInTheLayersOrder() throws {
        let up = try convergence(.vip(.init(address: "10.1.0.50")))
        #expect(
            up.steps.map(\.change) == [
                nil, nil, "storage", "swarm", "node scripts", "sensor address", "images", "galera", "stack", nil, "owner", "mqtt", nil,
            ])
        #expect(up.steps.first?.title == "Looking for an existing cluster")
        #expect(up.steps[1].title == "Preflight on n1, n2, n3")
        #expect(up.steps[5].title == "Sensor address (VIP 10.1.0.50 via keepalived)")
        #expect(up.homeAssistantURL == "http://10.1.0.50:8123/")
    }

    @Test func noSensorAddressStepWithoutOne() throws {
        let up = try convergence(.none)
        #expect(up.steps.dropLast().last?.change == "mqtt" && !up.steps.contains { $0.change == "sensor address" })
        #expect(up.steps.last?.title == "Every service of the stack runs all its tasks")
        #expect(up.homeAssistantURL == "http://10.1.0.11:8123/")
    }

    @Test func theSecretsMustBeThere() throws {
        let spec = ClusterSpec(nodes: [.init(name: "n1", address: "10.1.0.11")])
        let workspace = Workspace(specPath: "/nonexistent-\(UUID().uuidString)/haha.yaml", spec: spec)
        #expect(throws: HahaError.self) {
            _ = try Convergence(cluster: Cluster(workspace: workspace, runners: [:]), homeAssistantTimeout: 1)
        }
    }
}
