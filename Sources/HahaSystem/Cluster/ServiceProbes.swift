import Foundation
import HahaCore

/// The network side of a drill: Home Assistant's HTTP API and the broker, asked directly from this machine (not through
/// a node's shell). Tests replace them with fakes; `network` is the real thing.
public struct ServiceProbes: Sendable {
    /// The HTTP status of `GET /api/` (401 without a token means Home Assistant runs), nil when nothing answered.
    public var homeAssistantStatus: @Sendable (_ host: String, _ port: Int) async -> Int?
    /// The CONNACK return code of a login (0 = accepted), nil when no broker answered.
    public var mqttLogin: @Sendable (_ host: String, _ port: Int, _ user: String, _ password: String) async -> Int?
    /// Publishes a retained message (an empty payload removes it); throws when the broker did not take it.
    public var publishRetained:
        @Sendable (_ host: String, _ port: Int, _ user: String, _ password: String, _ topic: String, _ payload: String) async throws -> Void
    public var readRetained:
        @Sendable (_ host: String, _ port: Int, _ user: String, _ password: String, _ topic: String) async -> MQTTProbe.RetainedRead
    /// Whether onboarding's `user` step is done (`GET /api/onboarding`, no login): `.found("done")` while Home
    /// Assistant has its owner, `.absent` when it asks for one, `.unreadable` when nothing answered.
    public var homeAssistantOwner: @Sendable (_ host: String, _ port: Int) async -> LossCheck.Observation

    public init(
        homeAssistantStatus: @escaping @Sendable (String, Int) async -> Int?,
        mqttLogin: @escaping @Sendable (String, Int, String, String) async -> Int?,
        publishRetained: @escaping @Sendable (String, Int, String, String, String, String) async throws -> Void,
        readRetained: @escaping @Sendable (String, Int, String, String, String) async -> MQTTProbe.RetainedRead,
        homeAssistantOwner: @escaping @Sendable (String, Int) async -> LossCheck.Observation
    ) {
        self.homeAssistantStatus = homeAssistantStatus
        self.mqttLogin = mqttLogin
        self.publishRetained = publishRetained
        self.readRetained = readRetained
        self.homeAssistantOwner = homeAssistantOwner
    }

    /// Short timeouts (1 s): a drill samples often, and an address that does not answer within a second is down.
    public static let network = ServiceProbes(
        homeAssistantStatus: { host, port in
            guard let url = URL(string: "http://\(host):\(port)/") else { return nil }
            return try? await HomeAssistantSetup(baseURL: url).request("GET", "api/", timeout: 1).status
        },
        mqttLogin: { host, port, user, password in
            await MQTTProbe.login(host: host, port: port, username: user, password: password, timeout: 1)
        },
        publishRetained: { host, port, user, password, topic, payload in
            try await MQTTProbe.publishRetained(host: host, port: port, username: user, password: password, topic: topic, payload: payload)
        },
        readRetained: { host, port, user, password, topic in
            await MQTTProbe.readRetained(host: host, port: port, username: user, password: password, topic: topic)
        },
        homeAssistantOwner: { host, port in
            guard let url = URL(string: "http://\(host):\(port)/") else { return .unreadable("\(host) is not an address") }
            guard let step = try? await HomeAssistantSetup(baseURL: url).ownerStep(timeout: 10) else {
                return .unreadable("\(host) did not answer")
            }
            guard let done = step.done else { return .unreadable("\(host): \(step.response)") }
            return done ? .found(DrillMarkers.ownerPresent) : .absent
        })
}
