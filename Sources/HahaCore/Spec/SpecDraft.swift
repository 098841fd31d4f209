/// A new cluster as `haha init` describes it on the command line: nodes as NAME=ADDRESS and a few choices.
public struct SpecDraft: Sendable, Equatable {
    public var nodes: [String]
    public var arbiter: String?
    public var user = "root"
    public var port = 22
    public var identityFile: String?
    public var vip: String?
    public var vipInterface = "eth0"
    public var mdnsName: String?
    public var mdnsHostname: String?
    public var name = "haha"
    public var timeZone = "UTC"
    public var routing: ClusterSpec.Routing = .mesh
    public var secretsDir = "haha-secrets"

    public init(nodes: [String]) { self.nodes = nodes }

    /// `NAME=ADDRESS`, both non-empty; nil otherwise.
    public static func nameAndAddress(_ entry: String) -> (name: String, address: String)? {
        let parts = entry.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// The first thing wrong with the draft, phrased for the command line; nil when it makes a spec.
    public var problem: String? {
        if nodes.isEmpty { return "give the nodes with --node NAME=ADDRESS (at least three for automatic failover)" }
        for entry in nodes + (arbiter.map { [$0] } ?? []) where Self.nameAndAddress(entry) == nil {
            return "\"\(entry)\" is not NAME=ADDRESS"
        }
        if vip != nil, mdnsHostname != nil { return "choose --vip or --mdns-hostname, not both" }
        if let vip {
            do { _ = try ClusterSpec.SensorAddress.VIP(parsing: vip, interface: vipInterface) } catch { return "--vip: \(error)" }
        }
        return nil
    }

    /// The spec (not yet validated: `Validator` judges it like any other).
    public var spec: ClusterSpec {
        var clusterNodes = nodes.compactMap(Self.nameAndAddress).map {
            ClusterSpec.Node(name: $0.name, address: $0.address, user: user, port: port, identityFile: identityFile)
        }
        if let arbiter, let entry = Self.nameAndAddress(arbiter) {
            clusterNodes.append(
                .init(name: entry.name, address: entry.address, user: user, port: port, identityFile: identityFile, role: .arbiter))
        }
        var cluster = ClusterSpec(name: name, nodes: clusterNodes, routing: routing, secretsDir: secretsDir)
        cluster.homeAssistant.timeZone = timeZone
        if let vip, let parsed = try? ClusterSpec.SensorAddress.VIP(parsing: vip, interface: vipInterface, mdnsName: mdnsName) {
            cluster.sensorAddress = .vip(parsed)
        } else if let mdnsHostname {
            cluster.sensorAddress = .mdnsHostname(mdnsHostname)
        }
        return cluster
    }
}
