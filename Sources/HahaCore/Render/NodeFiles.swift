/// Files installed on the nodes themselves (not in the stack): keepalived for the VIP, avahi for mDNS names.
/// keepalived's files hold the VRRP password, so they are secret (0600 wherever they are written).
enum NodeFiles {
    static func files(_ spec: ClusterSpec, _ secrets: SecretValues) -> [RenderedFile] {
        switch spec.sensorAddress {
        case .none:
            return []
        case .vip(let vip):
            let authPass = SecretCatalog.vrrpAuthPass(secrets[SecretCatalog.vrrp], cluster: spec.name)
            var files = spec.nodes.enumerated().map { index, node in
                RenderedFile(
                    path: "keepalived/\(node.name).conf",
                    contents: keepalived(spec, vip, node: node, rank: index, authPass: authPass), isSecret: true)
            }
            if let name = vip.mdnsName {
                files.append(
                    RenderedFile(
                        path: "avahi/hosts",
                        contents: """
                            # haha: every node announces the sensor address under one mDNS name (append to /etc/avahi/hosts).
                            \(vip.address) \(name).local

                            """))
            }
            return files
        case .mdnsHostname(let name):
            return [
                RenderedFile(path: "avahi/host-name", contents: "\(name)\n"),
                RenderedFile(
                    path: "avahi/haha-avahi-restart.cron",
                    contents: """
                        # haha (mdns-hostname mode): every node announces the same host name; restarting avahi every
                        # minute makes sensors that cached a dead node's address resolve a live one again.
                        * * * * * root (command -v systemctl >/dev/null && systemctl restart avahi-daemon) || service avahi-daemon restart >/dev/null 2>&1

                        """),
            ]
        }
    }

    /// VRRP router id 1...255 derived from the cluster name, so two haha clusters on one LAN differ.
    static func routerID(_ spec: ClusterSpec) -> Int {
        Int(SHA512.hash(Array("haha vrrp \(spec.name)".utf8))[0]) % 254 + 1
    }

    /// With unicast (every node has an IPv4 address), VRRP version 3 with an advert every 250 ms: the lease holder's
    /// keepalived, once its check passes, waits out a dead master in 0.8 s instead of 3.2 s (three adverts and the skew).
    /// Version 3 has no authentication; `check_unicast_src` drops adverts whose source is not one of the peers. Else
    /// (multicast), version 2 with an advert a second carrying `authPass` (keepalived's plain-text authentication: it
    /// keeps a stray or misconfigured router on the LAN from joining, not an attacker who can read the LAN).
    ///
    /// Without the fence (`failover: swarm`) there is no lease to follow: plain priority failover, as a stock keepalived
    /// does it (the highest-priority live node holds the address and takes it back when it returns), with the same
    /// adverts, so that a comparison measures the fence and not the VRRP timing.
    static func keepalived(_ spec: ClusterSpec, _ vip: ClusterSpec.SensorAddress.VIP, node: ClusterSpec.Node, rank: Int, authPass: String)
        -> String
    {
        let priority = max(10, 200 - rank * 10)
        let unicast = spec.nodes.allSatisfy { IPv4Address($0.address) != nil }
        let fenced = spec.fenced
        var lines = ["# keepalived on \(node.name) for the haha cluster \"\(spec.name)\", rendered by haha."]
        if fenced {
            lines += [
                "# The sensor address \(vip.address) follows Home Assistant: it may only be on the node whose fence holds the lease",
                "# (\(Fence.hostRunDirectory)/active, kept by the fence while it holds the lease), so it does not wait for Swarm.",
            ]
        } else {
            lines += [
                "# homeAssistant.failover: swarm (for comparison): no lease to follow; the sensor address \(vip.address) is on the",
                "# live node of highest priority, and any node forwards to Home Assistant wherever Swarm runs it.",
            ]
        }
        lines += [
            "global_defs {",
            "  router_id haha_\(node.name)",
            "  script_user root",
            "  enable_script_security",
            "}",
            "",
        ]
        if fenced {
            lines += [
                // Fresh, not merely present: a power cut leaves the flag behind (seen on the lab: 38 s on a node
                // that came back, until its fence started), and a frozen holder's flag ages while it sleeps. The
                // fence touches it every second, the broker's guard also wants it at most 3 s old. /usr/bin/sh, not
                // /bin/sh: keepalived's script security disables a script whose path runs through a symlink (/bin on
                // a merged /usr, Debian 12 and later), and with it the address would follow nothing.
                "vrrp_script haha_active {",
                "  script \"/usr/bin/sh -c 'find \(Fence.hostRunDirectory) -maxdepth 1 -name active -mmin -\(Double(BrokerGuard.freshSeconds) / 60) | grep -q .'\"",
                "  interval 1",
                "  timeout 2",
                "  fall 1",
                "  rise 1",
                "}",
                "",
            ]
        }
        lines += [
            "vrrp_instance haha_sensors {",
            "  state BACKUP",
        ]
        if fenced { lines.append("  nopreempt") }
        lines += [
            "  interface \(vip.interface)",
            "  virtual_router_id \(routerID(spec))",
            "  priority \(priority)",
        ]
        if unicast {
            lines += ["  version 3", "  advert_int 0.25"]
            lines.append("  unicast_src_ip \(node.address)")
            lines.append("  unicast_peer {")
            lines += spec.nodes.filter { $0.name != node.name }.map { "    \($0.address)" }
            lines.append("  }")
            lines.append("  check_unicast_src")
        } else {
            lines += ["  advert_int 1", "  authentication {", "    auth_type PASS", "    auth_pass \(authPass)", "  }"]
        }
        lines += [
            "  virtual_ipaddress {",
            "    \(vip.address)/\(vip.prefixLength) dev \(vip.interface)",
            "  }",
        ]
        if fenced { lines += ["  track_script {", "    haha_active", "  }"] }
        lines += ["}", ""]
        return lines.joined(separator: "\n")
    }
}
