import HahaCore
import Testing

/// The `docker run` of a lab node, argument by argument: what LabDriver executes for every node.
@Suite struct LabLayoutTests {
    @Test func aNodeRunsWithItsAddressLabelsHostsAndVolumes() throws {
        let layout = LabLayout()
        let n2 = try #require(layout.node(named: "n2"))
        #expect(
            layout.runArguments(for: n2, image: "haha-lab/node:1", keysPath: "/lab/ssh/authorized_keys") == [
                "docker", "run", "-d", "--name", "haha-lab-n2", "--hostname", "n2",
                "--runtime", "haha-lab", "--privileged",
                "--network", "haha-lab", "--ip", "172.30.77.12",
                "--tmpfs", "/run", "--tmpfs", "/tmp",
                "--label", "org.haha.lab=haha-lab", "--label", "org.haha.lab.node=n2",
                "--env", "HAHA_LAB_DNS=172.30.77.1",
                "--dns-option", "timeout:1", "--dns-option", "attempts:1",
                "--volume", "/lab/ssh/authorized_keys:/etc/haha-lab/authorized_keys:ro",
                "--stop-timeout", "30",
                "--add-host", "n1:172.30.77.11", "--add-host", "n2:172.30.77.12", "--add-host", "n3:172.30.77.13",
                "--volume", "haha-lab-n2-docker:/var/lib/docker", "--volume", "haha-lab-n2-glusterd:/var/lib/glusterd",
                "--volume", "haha-lab-n2-bricks:/bricks",
                "haha-lab/node:1",
            ])
    }

    @Test func anotherLabGetsItsOwnNamesNetworkAndEveryNodeAsAHost() throws {
        let layout = LabLayout(name: "lab-2", nodeCount: 4, arbiter: true, subnetBase: IPv4Address(10 << 24 | 9 << 16 | 8 << 8))
        let n4 = try #require(layout.node(named: "lab-2-n4"))
        #expect(n4.role == .arbiter)
        let args = layout.runArguments(for: n4, image: "img", keysPath: "/k")
        func value(after flag: String) -> [String] { args.indices.dropLast().filter { args[$0] == flag }.map { args[$0 + 1] } }
        #expect(value(after: "--name") == ["lab-2-n4"])
        #expect(value(after: "--network") == ["lab-2"])
        #expect(value(after: "--ip") == ["10.9.8.14"])
        #expect(value(after: "--env") == ["HAHA_LAB_DNS=10.9.8.1"])
        #expect(value(after: "--label") == ["org.haha.lab=lab-2", "org.haha.lab.node=n4"])
        #expect(value(after: "--add-host") == ["n1:10.9.8.11", "n2:10.9.8.12", "n3:10.9.8.13", "n4:10.9.8.14"])
        #expect(
            value(after: "--volume").filter { $0.hasPrefix("lab-2-n4-") } == [
                "lab-2-n4-docker:/var/lib/docker", "lab-2-n4-glusterd:/var/lib/glusterd", "lab-2-n4-bricks:/bricks",
            ])
        // The image is the last argument: everything before it is an option of `docker run`.
        #expect(args.last == "img")
    }
}
