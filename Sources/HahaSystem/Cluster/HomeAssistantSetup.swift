import Foundation
import HahaCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Talks to Home Assistant's HTTP API: waits for it, creates the owner without a browser (onboarding), and
/// adds the cluster's broker as the MQTT integration (a config entry: YAML `mqtt: broker:` no longer exists).
public struct HomeAssistantSetup: Sendable {
    public var baseURL: URL
    public static let clientID = "http://haha.local/"
    public static let ownerUsername = "admin"

    public init(baseURL: URL) { self.baseURL = baseURL }

    /// What to do when Home Assistant answers the setup with something unexpected.
    static let readTheLog =
        "read Home Assistant's log (`docker service logs` of the stack's homeassistant service on a manager), then run `haha up` again"

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var json: Any? { try? JSONSerialization.jsonObject(with: body) }
        /// "HTTP 500: the start of the body", for error messages.
        public var summary: String { "HTTP \(status)" + (body.isEmpty ? "" : ": " + String(decoding: body.prefix(300), as: UTF8.self)) }
    }

    public func request(
        _ method: String, _ path: String, json: Any? = nil, form: [String: String]? = nil, token: String? = nil,
        timeout: Double = 15
    ) async throws -> Response {
        var request = URLRequest(url: baseURL.appendingPathComponent(path), timeoutInterval: timeout)
        request.httpMethod = method
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let form {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            request.httpBody = Data(
                form.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                    .joined(separator: "&").utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    /// Waits until `/api/` answers (401 without a token means Home Assistant is up).
    public func waitUntilUp(timeout: Double) async throws {
        try await waitUntil(
            "Home Assistant to answer on \(baseURL.absoluteString)", timeout: timeout, interval: 2,
            next: Self.readTheLog
        ) { poll in
            let (host, check) = (baseURL.host ?? baseURL.absoluteString, "GET \(baseURL.appendingPathComponent("api/").absoluteString)")
            let response: Response
            do {
                response = try await request("GET", "api/", timeout: 5)
            } catch {
                poll.saw(on: host, check, "no answer: \(error.localizedDescription)")
                throw error
            }
            poll.saw(on: host, check, "HTTP \(response.status)")
            return response.status == 401 || response.status == 200
        }
    }

    /// Whether the owner account still has to be created.
    public func needsOwner() async throws -> Bool {
        try await ownerStep().done == false
    }

    /// Onboarding's `user` step (`GET /api/onboarding`, no login): done while Home Assistant has its owner; nil, with
    /// a summary of the response, when it answered without that step.
    public func ownerStep(timeout: Double = 15) async throws -> (done: Bool?, response: String) {
        let response = try await request("GET", "api/onboarding", timeout: timeout)
        guard response.status == 200, let steps = response.json as? [[String: Any]],
            let user = steps.first(where: { $0["step"] as? String == "user" })
        else { return (nil, response.summary) }
        return (user["done"] as? Bool, response.summary)
    }

    /// Creates the owner and returns a refresh token (it does not expire; access tokens are minted from it).
    public func createOwner(name: String, password: String) async throws -> String {
        let created = try await request(
            "POST", "api/onboarding/users",
            json: [
                "client_id": Self.clientID, "name": name, "username": Self.ownerUsername, "password": password, "language": "en",
            ])
        if created.status == 400, (created.json as? [String: Any])?["code"] as? String == "username_already_exists" {
            throw HahaError(
                .alreadyExists, "Home Assistant already has a user \(Self.ownerUsername) (\(created.summary))", next: Self.readTheLog)
        }
        guard created.status == 200, let code = (created.json as? [String: Any])?["auth_code"] as? String else {
            throw HahaError(
                .failed, "Home Assistant refused to create its owner (\(created.summary))",
                next: Self.readTheLog)
        }
        let tokens = try await request(
            "POST", "auth/token", form: ["grant_type": "authorization_code", "code": code, "client_id": Self.clientID])
        guard tokens.status == 200, let refresh = (tokens.json as? [String: Any])?["refresh_token"] as? String else {
            throw HahaError(.failed, "Home Assistant gave no token for its new owner (HTTP \(tokens.status))", next: Self.readTheLog)
        }
        return refresh
    }

    public func accessTokenIfKnown(refreshToken: String) async throws -> String? {
        let tokens = try await request(
            "POST", "auth/token", form: ["grant_type": "refresh_token", "refresh_token": refreshToken, "client_id": Self.clientID])
        // Home Assistant answers 400 (invalid_grant) for a refresh token it does not know.
        if tokens.status == 400 { return nil }
        guard tokens.status == 200, let access = (tokens.json as? [String: Any])?["access_token"] as? String else {
            throw HahaError(
                .failed, "Home Assistant gave no access token for haha's refresh token (\(tokens.summary))", next: Self.readTheLog)
        }
        return access
    }

    /// Answers a config-flow form: known fields get their values; collapsible sections (`expandable`) are
    /// sent as objects, filled the same way (required fields left at their defaults), since Home Assistant requires them even when left at defaults.
    static func fill(_ schema: [[String: Any]], from answers: [String: Any]) -> [String: Any] {
        var payload: [String: Any] = [:]
        for field in schema {
            guard let name = field["name"] as? String else { continue }
            if field["type"] as? String == "expandable" {
                payload[name] = fill(field["schema"] as? [[String: Any]] ?? [], from: answers)
            } else if let value = answers[name] {
                payload[name] = value
            } else if field["required"] as? Bool == true, let value = field["default"] ?? neutral(field) {
                payload[name] = value
            }
        }
        return payload
    }

    /// The "off" answer of a required field without a default: false for a switch, the first choice of a list.
    static func neutral(_ field: [String: Any]) -> Any? {
        let selector = field["selector"] as? [String: Any] ?? [:]
        if selector["boolean"] != nil { return false }
        if let options = (selector["select"] as? [String: Any])?["options"] as? [Any], let first = options.first {
            return (first as? [String: Any])?["value"] ?? first
        }
        return nil
    }

    /// Adds the broker as the MQTT integration unless one exists. Returns true when it created it.
    public func ensureMQTT(token: String, broker: String, port: Int, username: String, password: String) async throws -> Bool {
        let entries = try await request("GET", "api/config/config_entries/entry", token: token)
        if let list = entries.json as? [[String: Any]], list.contains(where: { $0["domain"] as? String == "mqtt" }) { return false }
        let start = try await request(
            "POST", "api/config/config_entries/flow", json: ["handler": "mqtt", "show_advanced_options": false], token: token)
        guard var step = start.json as? [String: Any], let flowID = step["flow_id"] as? String else {
            throw HahaError(
                .failed, "Home Assistant did not start the MQTT flow (\(start.summary))",
                next: Self.readTheLog)
        }
        let answers: [String: Any] = ["broker": broker, "port": port, "username": username, "password": password]
        for _ in 0..<4 {
            guard step["type"] as? String == "form" else { break }
            // Answer the fields this form asks for, from what we know.
            let payload = Self.fill(step["data_schema"] as? [[String: Any]] ?? [], from: answers)
            let next = try await request("POST", "api/config/config_entries/flow/\(flowID)", json: payload, token: token)
            guard let json = next.json as? [String: Any] else {
                throw HahaError(
                    .failed, "the MQTT flow failed (\(next.summary))",
                    next: Self.readTheLog)
            }
            if let errors = json["errors"] as? [String: Any], !errors.isEmpty {
                throw HahaError(
                    .failed, "Home Assistant could not connect to the broker \(broker):\(port): \(errors)",
                    next: "check that the mosquitto service runs (`docker service ps \(broker)`)")
            }
            step = json
        }
        guard step["type"] as? String == "create_entry" else {
            if step["type"] as? String == "abort", step["reason"] as? String == "single_instance_allowed" { return false }
            throw HahaError(
                .failed, "the MQTT flow ended with \(step["type"] ?? "nothing") instead of creating the integration", next: Self.readTheLog)
        }
        return true
    }
}
