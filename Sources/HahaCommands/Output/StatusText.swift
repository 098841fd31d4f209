import HahaCore
import HahaSystem

/// `haha status` as text: the verdict first, where the parts run, then one table per layer and what is not known.
enum StatusText {
    static func render(_ report: ClusterStatus.Report) -> String {
        var sections: [String] = []
        sections.append(
            [
                report.verdictLine,
                "Home Assistant: \(endpoint(report.homeAssistant, runsOn: report.homeAssistantTasks ?? [], active: report.leaseHolder))",
                "broker:         \(endpoint(report.broker, runsOn: report.brokerNode.map { [$0] } ?? []))",
                "sensor address: \(sensorAddress(report))",
                "Swarm leader:   \(report.leader ?? "not known")",
                "pending heal:   \(report.pendingHeal.map { "\($0) \($0 == 1 ? "entry" : "entries")" } ?? "not known")",
                "lease holder:   \(report.leaseHolder ?? (report.failover == .fenced ? "none (no fencing lease yet)" : "none (failover: swarm, no fence)"))",
                "last backup:    \(report.lastBackup ?? "none recorded (`haha backup`)")",
            ].joined(separator: "\n"))
        sections.append(
            Table.render(
                header: ["NODE", "ADDRESS", "SSH", "SWARM", "NODE STATUS", "MANAGER", "SHARED VOLUME"],
                rows: report.nodes.map {
                    [
                        $0.name, $0.address, $0.reachable ? "ok" : "unreachable", $0.swarm,
                        [$0.swarmStatus, $0.availability].compactMap { $0 }.joined(separator: ", ").ifEmpty("-"), $0.manager ?? "-",
                        $0.mounted ? "mounted" : "-",
                    ]
                }))
        sections.append(Table.render(header: ["SERVICE", "REPLICAS"], rows: report.services.map { [$0.name, $0.replicas] }))
        sections.append(
            Table.render(
                header: ["GALERA", "RUNNING", "STATUS", "SIZE", "SYNCED"],
                rows: report.galera.map {
                    [
                        $0.node, $0.running ? "yes" : "no", $0.clusterStatus ?? "-", $0.clusterSize.map(String.init) ?? "-",
                        $0.synced ? "yes" : "no",
                    ]
                }))
        if let gluster = report.gluster {
            sections.append(
                Table.render(
                    header: [
                        "BRICK (\(gluster.volume), \(gluster.started ? "started" : "not started"))", "NODE", "STATUS", "PENDING HEAL",
                    ],
                    rows: gluster.bricks.map {
                        [$0.brick, $0.node ?? "-", $0.status, $0.pendingHeal.map(String.init) ?? "-"]
                    }))
        }
        if !report.problems.isEmpty {
            sections.append(Table.render(header: ["NOT KNOWN"], rows: report.problems.map { [$0] }))
        }
        return sections.joined(separator: "\n\n")
    }

    /// "answers through 172.30.77.100, runs on n3"; with several tasks (standbys), the active one is the lease holder's
    /// when that is known.
    static func endpoint(_ endpoint: ClusterStatus.Report.Endpoint, runsOn nodes: [String], active: String? = nil) -> String {
        let answer = endpoint.address.map { "answers through \($0)" } ?? "does not answer"
        switch nodes.count {
        case 0: return answer + ", no running task known"
        case 1: return answer + ", runs on \(nodes[0])"
        default:
            if let active, nodes.contains(active) {
                return answer
                    + ", active on \(active) (the lease holder), standbys on \(nodes.filter { $0 != active }.joined(separator: ", "))"
            }
            return answer + ", tasks on \(nodes.joined(separator: ", ")) (which one is active is not known)"
        }
    }

    static func sensorAddress(_ report: ClusterStatus.Report) -> String {
        let sensor = report.sensorAddress
        switch sensor.mode {
        case "vip":
            let holders = sensor.holders ?? []
            let held = holders.isEmpty ? "held by no node" : "held by \(holders.joined(separator: " and "))"
            return "\(sensor.address ?? "?") (VIP) \(held)"
        case "mdns-hostname":
            return "mdns-hostname mode: every node announces \(sensor.address ?? "?").local; no node holds an address"
        default:
            return "none configured"
        }
    }
}

extension String {
    fileprivate func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
