/// Galera's ports (group communication, incremental and full state transfer) are published on every data node's own
/// address, so that members meet at their nodes' addresses after a power cut of every node. Unguarded, anyone on the
/// LAN could reach them: open a group connection or ask a member for a full copy of the database. haha installs a
/// small script on each data node that lets only the cluster's data nodes in, in the `DOCKER-USER` chain that Docker
/// keeps for rules of this kind, and cron runs it every minute (iptables rules do not survive a reboot).
///
/// The rules match connections Docker forwarded to a published port (`conntrack --ctstate DNAT`), so a member's own
/// connections out to its peers' ports pass. Connections from the node's own containers (`docker_gwbridge`) pass too.
public enum GaleraFirewall {
    /// haha's chain: RETURN for each allowed source, then DROP.
    public static let chain = "HAHA-GALERA"
    public static let scriptPath = "/usr/local/sbin/haha-galera-firewall"
    public static let cronPath = "/etc/cron.d/haha-galera-firewall"
    /// Where the rendered files sit among the others (`haha render`).
    public static let scriptFile = "firewall/haha-galera-firewall"
    public static let cronFile = "firewall/haha-galera-firewall.cron"

    /// Galera's published ports, as the script loops over them.
    static func ports(_ spec: ClusterSpec) -> String { GaleraFiles.publishedPorts(spec).map(String.init).joined(separator: " ") }
    /// Every port a rendering may have guarded, as the removal loops over them.
    static let everyPort = (GaleraFiles.ports + [GaleraFiles.statePort, GaleraFiles.clientPort]).map(String.init).joined(separator: " ")

    /// The script: resolves the data nodes' addresses (a host name to its IPv4 address), rebuilds the chain when it
    /// differs (closed while it does: DROP first), adds the jumps that are missing, prints `changed` when it changed a
    /// rule. A name that does not resolve leaves the rules as they are and fails.
    public static func script(_ spec: ClusterSpec) -> String {
        // An address stays as it is; a host name is resolved on the node, each time (it may move).
        let ports = Self.ports(spec)
        let hosts = spec.dataNodes.map { IPv4Address($0.address) == nil ? "name:\($0.address)" : $0.address }.joined(separator: " ")
        return """
            #!/bin/sh
            # Rendered by haha for cluster \(spec.name): Galera's ports \(ports.replacingOccurrences(of: " ", with: ", ")), published on this node for
            # its database member, answer only the cluster's data nodes and this node's own containers. Run by
            # `haha up` and every minute by cron; removed by `haha down`.
            set -eu
            PATH=$PATH:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
            chain=\(chain)
            sources=""
            for host in \(hosts); do
              case "$host" in
                name:*)
                  address=$(getent ahostsv4 "${host#name:}" | awk 'NR == 1 { print $1 }')
                  if [ -z "$address" ]; then echo "haha-galera-firewall: cannot resolve ${host#name:}; rules left as they are" >&2; exit 1; fi ;;
                *) address=$host ;;
              esac
              sources="$sources $address"
            done
            want="-A $chain -i docker_gwbridge -j RETURN"
            for address in $sources; do want="$want
            -A $chain -s $address/32 -j RETURN"; done
            want="$want
            -A $chain -j DROP"
            changed=""
            iptables -N DOCKER-USER 2>/dev/null || true
            iptables -S "$chain" >/dev/null 2>&1 || iptables -N "$chain"
            if [ "$(iptables -S "$chain" | grep '^-A' || true)" != "$want" ]; then
              iptables -I "$chain" 1 -j DROP
              while iptables -D "$chain" 2 2>/dev/null; do :; done
              for address in $(echo $sources | tr ' ' '\\n' | tac); do iptables -I "$chain" 1 -s "$address/32" -j RETURN; done
              iptables -I "$chain" 1 -i docker_gwbridge -j RETURN
              changed=yes
            fi
            for port in \(ports); do
              if ! iptables -C DOCKER-USER -p tcp --dport "$port" -m conntrack --ctstate DNAT -j "$chain" 2>/dev/null; then
                iptables -I DOCKER-USER 1 -p tcp --dport "$port" -m conntrack --ctstate DNAT -j "$chain"
                changed=yes
              fi
            done
            if [ -n "$changed" ]; then echo changed; fi

            """
    }

    public static let cron = """
        # haha: keeps Galera's ports open to the cluster's data nodes only (iptables rules do not survive a reboot).
        * * * * * root \(scriptPath) >/dev/null

        """

    /// Shell that takes it all away again (`haha down`, `haha node remove`); harmless where it was never installed.
    public static let removal = """
        rm -f \(cronPath)
        for port in \(everyPort); do
          while iptables -D DOCKER-USER -p tcp --dport "$port" -m conntrack --ctstate DNAT -j \(chain) 2>/dev/null; do :; done
        done
        iptables -F \(chain) 2>/dev/null || true
        iptables -X \(chain) 2>/dev/null || true
        rm -f \(scriptPath)
        """

    static func files(_ spec: ClusterSpec) -> [RenderedFile] {
        [RenderedFile(path: scriptFile, contents: script(spec)), RenderedFile(path: cronFile, contents: cron)]
    }
}
