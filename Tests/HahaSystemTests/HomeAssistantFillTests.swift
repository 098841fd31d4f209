import Foundation
import Testing

@testable import HahaSystem

/// `HomeAssistantSetup.fill`: how haha answers a config-flow form (the MQTT integration's broker step).
@Suite struct HomeAssistantFillTests {
    static var answers: [String: Any] { ["broker": "haha_mosquitto", "port": 1883, "username": "homeassistant", "password": "pw"] }

    @Test func knownFieldsGetTheirAnswersAndOptionalUnknownFieldsAreLeftOut() {
        let schema: [[String: Any]] = [
            ["name": "broker", "required": true, "type": "string"],
            ["name": "port", "required": true, "type": "integer", "default": 1883],
            ["name": "username", "optional": true, "type": "string"],
            ["name": "password", "optional": true, "type": "string"],
            ["name": "client_id", "optional": true, "type": "string"],
            ["type": "string"],
        ]
        let payload = HomeAssistantSetup.fill(schema, from: Self.answers)
        #expect(Set(payload.keys) == ["broker", "port", "username", "password"])
        #expect(payload["broker"] as? String == "haha_mosquitto")
        #expect(payload["port"] as? Int == 1883)
        #expect(payload["password"] as? String == "pw")
    }

    @Test func requiredFieldsWithoutAnAnswerGetTheirDefaultOrANeutralValue() {
        let schema: [[String: Any]] = [
            ["name": "keepalive", "required": true, "default": 60, "selector": ["number": [:]]],
            [
                "name": "transport", "required": true,
                "selector": ["select": ["options": [["value": "tcp", "label": "TCP"], ["value": "websockets", "label": "WebSockets"]]]],
            ],
            ["name": "protocol", "required": true, "selector": ["select": ["options": ["3.1.1", "5"]]]],
            ["name": "advanced_options", "required": true, "selector": ["boolean": [:]]],
            ["name": "ws_path", "required": true, "selector": ["text": [:]]],
            ["name": "birth_enable", "required": false, "default": true, "selector": ["boolean": [:]]],
        ]
        let payload = HomeAssistantSetup.fill(schema, from: [:])
        #expect(payload["keepalive"] as? Int == 60)
        #expect(payload["transport"] as? String == "tcp")
        #expect(payload["protocol"] as? String == "3.1.1")
        #expect(payload["advanced_options"] as? Bool == false)
        // Nothing sensible to send: left for Home Assistant to complain about.
        #expect(payload["ws_path"] == nil)
        // Optional fields keep Home Assistant's own default (not sent).
        #expect(payload["birth_enable"] == nil)
        #expect(payload.count == 4)
    }

    @Test func anExpandableSectionIsSentAsAnObjectFilledTheSameWay() {
        let schema: [[String: Any]] = [
            ["name": "broker", "required": true],
            [
                "name": "advanced", "type": "expandable",
                "schema": [
                    ["name": "port", "required": true, "default": 8883],
                    ["name": "username", "optional": true],
                    ["name": "tls", "required": true, "selector": ["boolean": [:]]],
                    ["name": "inner", "type": "expandable", "schema": [["name": "password"]]],
                ] as [[String: Any]],
            ],
            ["name": "empty", "type": "expandable"],
        ]
        let payload = HomeAssistantSetup.fill(schema, from: Self.answers)
        #expect(payload["broker"] as? String == "haha_mosquitto")
        let advanced = payload["advanced"] as? [String: Any]
        #expect(advanced?["port"] as? Int == 1883)
        #expect(advanced?["username"] as? String == "homeassistant")
        #expect(advanced?["tls"] as? Bool == false)
        #expect((advanced?["inner"] as? [String: Any])?["password"] as? String == "pw")
        #expect((payload["empty"] as? [String: Any])?.isEmpty == true)
    }
}
