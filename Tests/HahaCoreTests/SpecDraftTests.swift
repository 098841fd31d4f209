import HahaCore
import Testing

/// `haha init`'s command line turned into a spec.
@Suite struct SpecDraftTests {
    @Test func nameAndAddressNeedBothSides() {
        #expect(SpecDraft.nameAndAddress("n1=10.1.0.11").map { [$0.name, $0.address] } == ["n1", "10.1.0.11"])
        #expect(SpecDraft.nameAndAddress("n1=a=b").map { [$0.name, $0.address] } == ["n1", "a=b"])
        for bad in ["n1", "=10.1.0.11", "n1=", ""] { #expect(SpecDraft.nameAndAddress(bad) == nil, "\(bad)") }
    }

    @Test func problemsArePhrasedForTheCommandLine() {
        #expect(SpecDraft(nodes: []).problem?.contains("--node NAME=ADDRESS") == true)
        #expect(SpecDraft(nodes: ["n1=10.1.0.11", "n2"]).problem == "\"n2\" is not NAME=ADDRESS")
        var draft = SpecDraft(nodes: ["n1=10.1.0.11"])
        draft.arbiter = "a"
        #expect(draft.problem == "\"a\" is not NAME=ADDRESS")
        draft.arbiter = nil
        (draft.vip, draft.mdnsHostname) = ("10.1.0.50/24", "hacluster")
        #expect(draft.problem == "choose --vip or --mdns-hostname, not both")
        (draft.vip, draft.mdnsHostname) = ("10.1.0.50/40", nil)
        #expect(draft.problem?.contains("prefix length of 1...32") == true)
        draft.vip = "10.1.0.50/24"
        #expect(draft.problem == nil)
    }

    @Test func theSpecCarriesEveryChoice() {
        var draft = SpecDraft(nodes: ["n1=10.1.0.11", "n2=10.1.0.12"])
        (draft.arbiter, draft.user, draft.port, draft.identityFile) = ("q=10.1.0.13", "pi", 2222, "~/.ssh/k")
        (draft.vip, draft.vipInterface, draft.mdnsName) = ("10.1.0.50/23", "wlan0", "ha")
        (draft.name, draft.timeZone, draft.routing, draft.secretsDir) = ("home", "Europe/Berlin", .proxy, "s")
        let spec = draft.spec
        #expect(spec.nodes.map(\.name) == ["n1", "n2", "q"])
        #expect(spec.nodes.map(\.role) == [.data, .data, .arbiter])
        #expect(spec.nodes.allSatisfy { $0.user == "pi" && $0.port == 2222 && $0.identityFile == "~/.ssh/k" })
        #expect(spec.sensorAddress == .vip(.init(address: "10.1.0.50", prefixLength: 23, interface: "wlan0", mdnsName: "ha")))
        #expect(spec.name == "home" && spec.homeAssistant.timeZone == "Europe/Berlin" && spec.routing == .proxy && spec.secretsDir == "s")
    }

    @Test func mdnsHostnameModeWithoutVIP() {
        var draft = SpecDraft(nodes: ["n1=10.1.0.11"])
        draft.mdnsHostname = "hacluster"
        #expect(draft.spec.sensorAddress == .mdnsHostname("hacluster"))
        #expect(SpecDraft(nodes: ["n1=10.1.0.11"]).spec.sensorAddress == .none)
    }
}

/// How `haha recover` shows each member.
@Suite struct MemberLineTests {
    @Test func unreachableNoDatabaseAndPositions() {
        #expect(MemberLine(GaleraMember(node: "n1", order: 0, reachable: false)).text == "n1: unreachable")
        #expect(MemberLine(GaleraMember(node: "n2", order: 1)).text == "n2: no database")
        var member = GaleraMember(node: "n3", order: 2, hasData: true)
        #expect(MemberLine(member).text == "n3: seqno unknown")
        member.grastate = GraState(uuid: "6b1c0a4e-0000-11ef-8000-000000000001", seqno: 42, safeToBootstrap: true)
        #expect(MemberLine(member).text == "n3: seqno 42, cluster 6b1c0a4e-0000-11ef-8000-000000000001, safe_to_bootstrap")
    }
}
