import Foundation
import Testing

@testable import HahaCore

@Suite struct InventoryTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test func seedReadmeInventoryImportsAndValidates() throws {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("seed-inventory.ini"), encoding: .utf8)
        let result = AnsibleInventory.importNodes(text)
        #expect(result.diagnostics.isEmpty)
        #expect(result.nodes.map(\.address) == ["192.168.1.100", "192.168.1.101", "192.168.1.102"])
        #expect(result.nodes.map(\.name) == ["node1", "node2", "node3"])
        #expect(result.nodes.allSatisfy { $0.user == "pi" && $0.port == 22 })
        #expect(result.droppedPasswords)
        #expect(result.notices.contains { $0.contains("ssh-copy-id") })
        let spec = ClusterSpec(nodes: result.nodes)
        #expect(!Validator.validate(spec).hasErrors)
        // The password never reaches the spec text.
        #expect(!SpecWriter.yaml(spec).contains("raspberry"))
    }

    /// Host vars, group vars, children and comments (also a seed of the fuzz test).
    static let groupsExample = """
        ; a comment
        [all:vars]
        ansible_user=admin

        [pis]
        pi1.local ansible_port=2222   # inline comment
        pi2 ansible_host=10.0.0.2 ansible_ssh_private_key_file="~/.ssh/pi key"

        [hacluster:children]
        pis

        [hacluster]
        pi3 ansible_host=10.0.0.3 ansible_ssh_user=pi

        [hacluster:vars]
        ansible_user=root
        """

    @Test func hostVarsGroupVarsChildrenAndComments() {
        let text = Self.groupsExample
        let result = AnsibleInventory.importNodes(text)
        #expect(result.diagnostics.isEmpty)
        #expect(result.nodes.map(\.name) == ["pi3", "pi1", "pi2"])
        #expect(result.nodes.map(\.address) == ["10.0.0.3", "pi1.local", "10.0.0.2"])
        #expect(result.nodes.map(\.user) == ["pi", "root", "root"])
        #expect(result.nodes.map(\.port) == [22, 2222, 22])
        #expect(result.nodes[2].identityFile == "~/.ssh/pi key")
        #expect(!result.droppedPasswords)
    }

    @Test func missingGroupNamesTheGroupsFound() {
        let result = AnsibleInventory.importNodes("[web]\nh1\n", group: "hacluster")
        #expect(result.nodes.isEmpty)
        #expect(result.diagnostics.first?.message.contains("groups found: web") == true)
    }

    @Test func rangesAndBadPortsAreReportedWithLines() {
        let result = AnsibleInventory.importNodes("[hacluster]\npi[1:3]\npi4 ansible_port=x\n")
        #expect(result.diagnostics.map(\.line) == [2, 3])
    }

    /// Issue #9: what would not validate in haha.yaml is refused by the importer, at the host's line.
    @Test func hostileValuesAreRefusedAtTheirHostsLine() {
        let text = """
            [hacluster]
            pi1 ansible_host=10.0.0.1 ansible_user=-oProxyCommand=reboot
            pi2 ansible_host="10.0.0.2;reboot"
            pi3 ansible_host=10.0.0.3 ansible_ssh_private_key_file=-i
            pi4 ansible_host=10.0.0.4 ansible_user="pi$(reboot)"
            pi5 ansible_host=10.0.0.5
            """
        let result = AnsibleInventory.importNodes(text)
        #expect(result.diagnostics.map(\.line) == [2, 3, 4, 5])
        #expect(result.diagnostics.map(\.path) == ["nodes[0].user", "nodes[1].address", "nodes[2].identityFile", "nodes[3].user"])
        #expect(result.diagnostics.allSatisfy { $0.severity == .error })
    }

    @Test func degenerateHostLinesDoNotCrash() {
        let result = AnsibleInventory.importNodes("[hacluster]\n.\n...\n\"\"\n''\n[hacluster:children]\n\"\"\n")
        #expect(result.nodes.map(\.name) == ["node1", "node2"])
        #expect(result.diagnostics.map(\.path) == ["nodes[0].address", "nodes[1].address"])
    }
}
