import Testing

@testable import HahaCore

/// What `haha status` reads from Docker and `ip`, as the lab's nodes printed it.
@Suite struct StatusOutputTests {
    @Test func swarmNodesWithTheirLabelsLeaderAndReachability() {
        let text = """
            n1|n1|ready|active|manager|false|reachable
            n2|n2|ready|active|manager|true|reachable
            n3|host-3|down|drain|manager|false|unreachable
            |worker-9|ready|active|worker|
            """
        let nodes = StatusOutput.swarmNodes(text)
        #expect(nodes.map(\.name) == ["n1", "n2", "n3", "worker-9"], "the label names a node, else its host name")
        #expect(nodes.map(\.leader) == [false, true, false, false])
        #expect(nodes[2].state == "down" && nodes[2].availability == "drain" && nodes[2].reachability == "unreachable")
        #expect(nodes[3].role == "worker" && nodes[3].reachability == "")
    }

    @Test func theFormatAsksForTheLabel() {
        #expect(StatusOutput.swarmNodeFormat(label: "haha.node").hasPrefix("{{index .Spec.Labels \"haha.node\"}}|"))
    }

    @Test func runningTasksOnly() {
        let text = """
            n3|Running 14 seconds ago
            n1|Preparing 2 seconds ago
            n3|Running 3 minutes ago
            n2|Running about a minute ago
            """
        #expect(StatusOutput.runningHosts(text) == ["n3", "n2"])
        #expect(StatusOutput.runningHosts("") == [])
    }

    @Test func theSensorAddressOnAnyInterfaceExactly() {
        // `ip -o -4 addr show` on the lab node that held the VIP.
        let text = """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            2: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever preferred_lft forever
            888: eth1    inet 172.30.77.12/24 brd 172.30.77.255 scope global eth1\\       valid_lft forever preferred_lft forever
            888: eth1    inet 172.30.77.100/24 scope global secondary eth1\\       valid_lft forever preferred_lft forever
            """
        #expect(StatusOutput.holds("172.30.77.100", ipAddresses: text))
        #expect(!StatusOutput.holds("172.30.77.10", ipAddresses: text), "a prefix of another address is not the address")
        #expect(!StatusOutput.holds("172.30.77.255", ipAddresses: text), "a broadcast address is not held")
        #expect(!StatusOutput.holds("172.30.77.100", ipAddresses: ""))
    }
}
