import Testing

@testable import HahaCore

@Suite struct GlusterOutputTests {
    @Test func poolPeersAreExactAddresses() {
        let text = """
            UUID\t\t\t\t\tHostname \tState
            6f1e0c3a-1111-2222-3333-444455556666\t10.0.0.11\tConnected 
            0a2b0c3a-1111-2222-3333-444455556666\t10.0.0.12\tDisconnected 
            9a2b0c3a-1111-2222-3333-444455556666\tlocalhost\tConnected 
            """
        let peers = GlusterOutput.pool(text)
        #expect(peers.map(\.host) == ["10.0.0.11", "10.0.0.12", "localhost"])
        #expect(peers.map(\.connected) == [true, false, true])
        // The old substring check took 10.0.0.1 for a member because 10.0.0.11 is one.
        #expect(!peers.contains { $0.host == "10.0.0.1" })
    }

    @Test func bricksPerVolumeIncludingAnArbiter() {
        let text = """

            Volume Name: haha
            Type: Replicate
            Number of Bricks: 1 x (2 + 1) = 3
            Bricks:
            Brick1: 10.0.0.11:/srv/brick
            Brick2: 10.0.0.12:/srv/brick
            Brick3: 10.0.0.13:/srv/brick (arbiter)
            Options Reconfigured:
            network.ping-timeout: 10

            Volume Name: other
            Bricks:
            Brick1: 10.0.0.11:/srv/other
            """
        let volumes = GlusterOutput.bricks(text)
        #expect(volumes["haha"] == ["10.0.0.11:/srv/brick", "10.0.0.12:/srv/brick", "10.0.0.13:/srv/brick"])
        #expect(volumes["other"] == ["10.0.0.11:/srv/other"])
        #expect(GlusterOutput.bricks("No volumes present\n").isEmpty)
    }
}

@Suite struct GlusterVolumeOptionsTests {
    @Test func deadClientsAreDroppedWithinSecondsAndOnlyTheNodesMayMount() {
        let spec = ClusterSpec(nodes: [
            .init(name: "a", address: "10.0.0.1"), .init(name: "b", address: "10.0.0.2"),
            .init(name: "c", address: "10.0.0.3"),
        ])
        let options = GlusterVolumeOptions.wanted(spec)
        #expect(options["auth.allow"] == "127.0.0.1,10.0.0.1,10.0.0.2,10.0.0.3")
        // Keepalive: idle time + interval × count bounds how long a dead client's lock survives.
        let idle = Int(options["server.keepalive-time"] ?? "") ?? 99
        let interval = Int(options["server.keepalive-interval"] ?? "") ?? 99
        let count = Int(options["server.keepalive-count"] ?? "") ?? 99
        #expect(idle + interval * count <= 15)
        #expect((Int(options["server.tcp-user-timeout"] ?? "") ?? 42) <= 15)
    }
}
