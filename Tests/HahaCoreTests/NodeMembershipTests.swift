import HahaCore
import HahaTestSupport
import Testing

struct NodeMembershipTests {
    @Test func managersAreAnOddNumberUpToFive() {
        #expect((1...8).map(NodeMembership.managerCount) == [1, 1, 3, 3, 5, 5, 5, 5])
    }

    @Test func aNodeIsAddedAtTheEndUnlessItsNameAddressOrSecondArbiterClash() throws {
        let spec = Fixtures.spec()
        let grown = try NodeMembership.adding(.init(name: "n4", address: "10.1.0.14"), to: spec).get()
        #expect(grown.nodes.map(\.name) == spec.nodes.map(\.name) + ["n4"])
        #expect(grown.nodes.prefix(spec.nodes.count).elementsEqual(spec.nodes))
        let name = spec.nodes[0].name, address = spec.nodes[1].address
        #expect(throws: NodeReplacement.Refusal.self) { try NodeMembership.adding(.init(name: name, address: "10.1.0.99"), to: spec).get() }
        #expect(throws: NodeReplacement.Refusal.self) { try NodeMembership.adding(.init(name: "n9", address: address), to: spec).get() }
        let withArbiter = try NodeMembership.adding(.init(name: "a1", address: "10.1.0.20", role: .arbiter), to: spec).get()
        #expect(throws: NodeReplacement.Refusal.self) {
            try NodeMembership.adding(.init(name: "a2", address: "10.1.0.21", role: .arbiter), to: withArbiter).get()
        }
    }

    @Test func aClusterKeepsThreeNodesAndTwoDataNodes() throws {
        let spec = Fixtures.spec()
        #expect(throws: NodeReplacement.Refusal.self) { try NodeMembership.removing(spec.nodes[1].name, from: spec).get() }
        #expect(throws: NodeReplacement.Refusal.self) { try NodeMembership.removing("nope", from: spec).get() }
        let four = try NodeMembership.adding(.init(name: "n4", address: "10.1.0.14"), to: spec).get()
        let three = try NodeMembership.removing(spec.nodes[1].name, from: four).get()
        #expect(three.nodes.map(\.name) == [spec.nodes[0].name, spec.nodes[2].name, "n4"])
        let arbiterCluster = try NodeMembership.adding(
            .init(name: "a1", address: "10.1.0.20", role: .arbiter), to: try NodeMembership.removing("n4", from: four).get()
        ).get()
        var twoData = arbiterCluster
        twoData.nodes.removeAll { $0.name == spec.nodes[2].name }
        #expect(throws: NodeReplacement.Refusal.self) { try NodeMembership.removing(spec.nodes[0].name, from: twoData).get() }
    }

    @Test func anEvenDatabaseIsNamedOnce() throws {
        let spec = Fixtures.spec()
        #expect(NodeMembership.warnings(spec).isEmpty)
        let four = try NodeMembership.adding(.init(name: "n4", address: "10.1.0.14"), to: spec).get()
        #expect(NodeMembership.warnings(four).first?.contains("4 members (a quorum of 3)") == true)
    }
}
