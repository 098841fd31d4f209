import Foundation

/// Builds the stack file's services, networks, volumes, configs and secrets from the spec.
struct StackBuilder {
    typealias Names = Renderer.Names
    typealias S = StackFile
    let spec: ClusterSpec
    var phase: Renderer.DeployPhase = .steady
    /// Rendered contents by path, for content-addressed config and secret names.
    let contents: [String: String]
    /// For the one value that cannot be a Swarm secret: Portainer's `AGENT_SECRET`.
    let secrets: SecretValues

    /// Home Assistant's health check without the fence: its frontend's manifest answers 200 without a login and logs
    /// nothing (an unauthenticated `/api/` logs a warning each time).
    static let homeAssistantProbe =
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8123/manifest.json', timeout=2)"

    private let readOnlyRoot = 256  // 0400
    private let readAll = 292  // 0444

    func build() -> StackFile {
        var stack = StackFile()
        var configs: [String: S.FileObject] = [:]
        var secrets: [String: S.FileObject] = [:]
        func config(_ key: String, _ path: String) -> String {
            configs[key] = S.FileObject(file: "./\(path)", name: "\(spec.name)_\(key)_\(Renderer.digest(contents[path] ?? ""))")
            return key
        }
        func secret(_ key: String, _ path: String) -> String {
            secrets[key] = S.FileObject(file: "./\(path)", name: "\(spec.name)_\(key)_\(Renderer.digest(contents[path] ?? ""))")
            return key
        }

        let mount = spec.storage.mountPath
        let proxied = spec.routing == .proxy
        let dataOnly = S.Placement(constraints: ["node.labels.\(Names.roleLabel) == data"])
        let singleton = S.UpdateConfig(order: "stop-first", parallelism: 1, failureAction: "rollback")

        // Galera: one service per data node, pinned there, data in a node-local volume.
        let galeraConfig = config("galera_cnf", "galera/galera.cnf")
        let rootSecret = secret("mariadb_root_password", "secrets/\(SecretCatalog.mariadbRoot)")
        let recorderSecret = secret("recorder_password", "secrets/\(SecretCatalog.recorder)")
        let sstSecret = secret("galera_sst_cnf", "secrets/galera-sst.cnf")
        let initSecret = secret("galera_init_sql", "secrets/galera-init.sql")
        let watchdog = config("galera_watch", "galera/haha-galera-watch.sh")
        var volumes: [String: S.Volume] = [:]
        for node in spec.dataNodes {
            let volume = Names.galeraVolume(node.name)
            volumes[volume] = S.Volume(labels: ["org.haha.node": node.name])
            var command = ["--wsrep-node-name=\(node.name)", "--wsrep-node-address=\(node.address)"]
            var replicas = 1
            switch phase {
            case .bootstrap(let member), .joining(let member):
                if member == node.name { command.append("--wsrep-new-cluster") }
                if case .bootstrap = phase, member != node.name { replicas = 0 }
            case .steady:
                break
            }
            stack.services[Names.galera(node.name)] = S.Service(
                image: spec.images.mariadb,
                entrypoint: ["bash", GaleraFiles.watchdogPath],
                command: command,
                environment: [
                    "MARIADB_ROOT_PASSWORD_FILE": "/run/secrets/\(SecretCatalog.mariadbRoot)",
                    "MARIADB_DATABASE": spec.database.name,
                    "MARIADB_USER": spec.database.user,
                    "MARIADB_PASSWORD_FILE": "/run/secrets/\(SecretCatalog.recorder)",
                    // The health check logs in over the socket as mysql@localhost: an SST replaces the
                    // joiner's own healthcheck credentials, so password-based checks fail on joiners.
                    "MARIADB_MYSQL_LOCALHOST_USER": "1",
                ],
                volumes: [S.Mount(type: "volume", source: volume, target: "/var/lib/mysql")],
                configs: [
                    S.FileReference(source: galeraConfig, target: "/etc/mysql/conf.d/galera.cnf", mode: readAll),
                    S.FileReference(source: watchdog, target: GaleraFiles.watchdogPath, mode: readAll),
                ],
                secrets: [
                    S.FileReference(source: rootSecret, target: SecretCatalog.mariadbRoot, uid: "999", gid: "999", mode: readOnlyRoot),
                    S.FileReference(source: recorderSecret, target: SecretCatalog.recorder, uid: "999", gid: "999", mode: readOnlyRoot),
                    S.FileReference(source: sstSecret, target: "galera-sst.cnf", uid: "999", gid: "999", mode: readOnlyRoot),
                    S.FileReference(
                        source: initSecret, target: "/docker-entrypoint-initdb.d/10-haha-sst.sql", uid: "999", gid: "999",
                        mode: readOnlyRoot),
                ],
                networks: [Names.databaseNetwork: S.ServiceNetwork(aliases: [Names.databaseAlias])],
                ports: GaleraFiles.publishedPorts(spec).map { S.Port(target: $0, published: $0, mode: "host") },
                // wsrep_ready, not Synced: a donor serving a state transfer is Desynced for a while and must not be
                // killed as unhealthy mid-transfer; a member outside the Primary Component is not ready.
                healthcheck: S.Healthcheck(
                    test: ["CMD", "healthcheck.sh", "--su-mysql", "--connect", "--galera_ready"],
                    interval: "10s", timeout: "5s", retries: 3, startPeriod: "10m"),
                deploy: S.Deploy(
                    mode: "replicated", replicas: replicas, endpointMode: "dnsrr",
                    placement: S.Placement(constraints: ["node.labels.\(Names.nodeLabel) == \(node.name)"]),
                    restartPolicy: S.RestartPolicy(condition: "any", delay: "5s"),
                    // A member's new definition (a changed member list) may fail its first start while the others
                    // settle; rolled back, the member would stay on the old one while haha waits for the new. It
                    // keeps the new definition and Swarm starts it again (seen: `haha node add`, 3 → 4).
                    updateConfig: S.UpdateConfig(order: "stop-first", parallelism: 1, failureAction: "continue"),
                    resources: S.Resources(limits: .init(memory: spec.database.memoryLimit)),
                    labels: ["org.haha.component": "galera", "org.haha.node": node.name]),
                stopGracePeriod: "2m")
        }
        stack.volumes = volumes
        // Each member's containers carry a digest of everything that shapes them (the service and the contents of its
        // configs and secrets, whose names hold content hashes): `haha up` restarts changed members one at a time and
        // knows when a member runs its new definition.
        for node in spec.dataNodes {
            guard var service = stack.services[Names.galera(node.name)] else { continue }
            let files =
                (service.configs ?? []).compactMap { configs[$0.source]?.name }
                + (service.secrets ?? []).compactMap { secrets[$0.source]?.name }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            var replicas = service.deploy
            replicas.replicas = nil  // a member scaled to 0 in a bootstrap phase is the same member
            service.deploy = replicas
            let text = ((try? encoder.encode(service)).map { String(decoding: $0, as: UTF8.self) } ?? "") + files.joined(separator: ",")
            stack.services[Names.galera(node.name)]?.labels = [Names.specLabel: Renderer.digest(text)]
        }

        // Home Assistant: run by haha's fence (see Fence), which starts it only on the node that holds the lease on the
        // shared volume. With the proxy, every data node runs a standby (global) and takes over without waiting for
        // Swarm; with the routing mesh, one replica (the mesh would send clients to standbys). Without the fence
        // (`failover: swarm`, for comparison with the original project), one replica running the image's own
        // entrypoint and command, which Swarm alone restarts elsewhere when its node is lost.
        // On the host's network (`homeAssistant.hostNetwork`) it reaches its node's own Galera member (port 3306,
        // published on the node) and the broker through its node's proxy, under the names it uses on the overlay.
        let hostNetwork = spec.homeAssistant.hostNetwork
        let fenced = spec.fenced
        let haSecrets = secret("homeassistant_secrets", "secrets/homeassistant-secrets.yaml")
        let fence = fenced ? config("haha_fence", "fence/haha-fence.py") : nil
        let global = Renderer.homeAssistantMode(spec) == "global"
        stack.services[Names.homeAssistant] = S.Service(
            image: spec.images.homeAssistant,
            entrypoint: fenced ? ["python3", Fence.scriptPath] : nil,
            command: fenced ? Fence.homeAssistantCommand(spec) : nil,
            environment: fenced
                ? ["TZ": spec.homeAssistant.timeZone, "HAHA_NODE": "{{.Node.Hostname}}"] : ["TZ": spec.homeAssistant.timeZone],
            volumes: [S.Mount(type: "bind", source: "\(mount)/homeassistant", target: "/config")]
                + (fenced ? [S.Mount(type: "bind", source: Fence.hostRunDirectory, target: Fence.containerRunDirectory)] : []),
            configs: fence.map { [S.FileReference(source: $0, target: Fence.scriptPath, mode: readAll)] },
            secrets: [S.FileReference(source: haSecrets, target: "/config/secrets.yaml", uid: "0", gid: "0", mode: readOnlyRoot)],
            networks: hostNetwork
                ? [Names.hostNetwork: S.ServiceNetwork()]
                : [Names.appNetwork: S.ServiceNetwork(), Names.databaseNetwork: S.ServiceNetwork()],
            extraHosts: hostNetwork ? ["\(Names.databaseAlias):127.0.0.1", "\(Names.mosquitto):127.0.0.1"] : nil,
            ports: proxied ? nil : [S.Port(target: 8123, published: spec.homeAssistant.port, mode: "ingress")],
            // The fence keeps /tmp/haha-health while it works (standing by, or Home Assistant answering within 5 minutes).
            // Without it, Home Assistant's own port (8123 in the container, or on the node's network) must answer; the
            // image has python3 and, in the lab's stand-in, nothing else to ask with. Every 5 s as with the fence: Swarm
            // routes to a new task after its first healthy check, and a comparison should not measure a slower check.
            healthcheck: fenced
                ? S.Healthcheck(
                    test: ["CMD", "test", "-f", "/tmp/haha-health"], interval: "5s", timeout: "3s", retries: 3, startPeriod: "5m")
                : S.Healthcheck(
                    test: ["CMD", "python3", "-c", Self.homeAssistantProbe], interval: "5s", timeout: "3s", retries: 3,
                    startPeriod: "5m"),
            // Before the database is synced (bootstrap phases) no task runs: no replica, or no node a global one fits.
            deploy: S.Deploy(
                mode: Renderer.homeAssistantMode(spec), replicas: global ? nil : (phase == .steady ? 1 : 0),
                endpointMode: proxied ? "dnsrr" : "vip",
                placement: global && phase != .steady
                    ? S.Placement(constraints: ["node.labels.\(Names.roleLabel) == database-not-ready"]) : dataOnly,
                restartPolicy: S.RestartPolicy(condition: "any", delay: "0s"),
                updateConfig: singleton,
                resources: S.Resources(limits: .init(memory: spec.homeAssistant.memoryLimit)),
                labels: ["org.haha.component": "homeassistant"]),
            // The fence runs under Docker's init; the image's own entrypoint must be PID 1 (the official image's
            // s6-overlay refuses to start otherwise).
            stopGracePeriod: "30s", init: fenced ? true : nil)

        // Mosquitto: one broker, persistence on the Gluster mount, saved on every change. With the proxy and the fence, a
        // standby on every data node and the broker where the fence holds the lease (BrokerGuard); with the mesh, or
        // without the fence (`failover: swarm`), one replica running the image's own command.
        let passwd = secret("mosquitto_passwd", "secrets/mosquitto-passwd")
        let acl = secret("mosquitto_acl", "secrets/mosquitto-acl")
        let health = secret("mqtt_healthcheck_options", "secrets/mosquitto-sub-options")
        let guarded = Renderer.brokerFollowsLease(spec)
        let brokerGuard = guarded ? config("haha_broker", "mosquitto/haha-broker.sh") : nil
        let ask =
            "XDG_CONFIG_HOME=/run/secrets mosquitto_sub -h 127.0.0.1 -p \(spec.mqtt.port) -t '$$SYS/broker/uptime' -C 1 -W 5 >/dev/null"
        stack.services[Names.mosquitto] = S.Service(
            image: spec.images.mosquitto,
            entrypoint: guarded ? ["sh", BrokerGuard.scriptPath] : nil,
            command: guarded ? BrokerGuard.brokerCommand : nil,
            environment: nil,
            volumes: [
                S.Mount(type: "bind", source: "\(mount)/mosquitto/config", target: "/mosquitto/config"),
                S.Mount(type: "bind", source: "\(mount)/mosquitto/data", target: "/mosquitto/data"),
            ]
                + (guarded
                    ? [S.Mount(type: "bind", source: Fence.hostRunDirectory, target: Fence.containerRunDirectory, readOnly: true)] : []),
            configs: brokerGuard.map { [S.FileReference(source: $0, target: BrokerGuard.scriptPath, mode: readAll)] },
            secrets: [
                S.FileReference(source: passwd, target: "mosquitto-passwd", uid: "1883", gid: "1883", mode: readOnlyRoot),
                S.FileReference(source: acl, target: "mosquitto-acl", uid: "1883", gid: "1883", mode: readOnlyRoot),
                // mosquitto_sub reads $XDG_CONFIG_HOME/mosquitto_sub: the password never is an argument `ps` shows.
                S.FileReference(source: health, target: "mosquitto_sub", uid: "1883", gid: "1883", mode: readOnlyRoot),
            ],
            networks: [Names.appNetwork: S.ServiceNetwork()],
            ports: proxied ? nil : [S.Port(target: spec.mqtt.port, published: spec.mqtt.port, mode: "ingress")],
            // A standby is healthy as it waits; the broker it runs must answer.
            healthcheck: S.Healthcheck(
                test: ["CMD-SHELL", guarded ? "[ ! -e \(BrokerGuard.runningMarker) ] || \(ask)" : ask],
                interval: "10s", timeout: "8s", retries: 3, startPeriod: "30s"),
            deploy: S.Deploy(
                mode: Renderer.brokerMode(spec), replicas: guarded ? nil : 1, endpointMode: proxied ? "dnsrr" : "vip",
                placement: dataOnly,
                restartPolicy: S.RestartPolicy(condition: "any", delay: "0s"),
                updateConfig: singleton,
                resources: S.Resources(limits: .init(memory: "128M")),
                labels: ["org.haha.component": "mosquitto"]),
            stopGracePeriod: "10s")

        if proxied {
            let proxyConfig = config("haproxy_cfg", "haproxy/haproxy.cfg")
            stack.services[Names.proxy] = S.Service(
                image: spec.images.haproxy,
                configs: [S.FileReference(source: proxyConfig, target: "/usr/local/etc/haproxy/haproxy.cfg", mode: readAll)],
                networks: [Names.appNetwork: S.ServiceNetwork()],
                // Home Assistant on the host's network serves its own port, on the node where it runs.
                ports: (hostNetwork ? [] : [S.Port(target: 8123, published: spec.homeAssistant.port, mode: "host")])
                    + [S.Port(target: spec.mqtt.port, published: spec.mqtt.port, mode: "host")],
                healthcheck: S.Healthcheck(
                    test: ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8405"],
                    interval: "10s", timeout: "3s", retries: 3, startPeriod: "10s"),
                deploy: S.Deploy(
                    mode: "global", replicas: nil, endpointMode: "dnsrr", placement: nil,
                    restartPolicy: S.RestartPolicy(condition: "any", delay: "0s"),
                    updateConfig: S.UpdateConfig(order: "stop-first", parallelism: 1, failureAction: "rollback"),
                    resources: S.Resources(limits: .init(memory: "128M")),
                    labels: ["org.haha.component": "proxy"]),
                stopGracePeriod: "5s")
        }

        if spec.portainer.enabled {
            addPortainer(to: &stack, mount: mount)
        }

        var dbNetwork = S.Network(attachable: false)
        if spec.database.encryptedNetwork { dbNetwork.driverOpts = ["encrypted": "true"] }
        stack.networks = [Names.databaseNetwork: dbNetwork, Names.appNetwork: S.Network(attachable: false)]
        if spec.portainer.enabled { stack.networks[Names.portainerNetwork] = S.Network(attachable: false) }
        if hostNetwork { stack.networks[Names.hostNetwork] = .existing("host") }
        stack.configs = configs
        stack.secrets = secrets
        return stack
    }

    /// Portainer (optional, off by default): an agent on every node and the server on a data node, alone on
    /// their own network (the agent holds the Docker socket: nothing of Home Assistant's may reach it), the
    /// agent answering only a server that knows `AGENT_SECRET`. Their images contain no shell or HTTP client,
    /// so Swarm can only watch the process; no health check.
    private func addPortainer(to stack: inout StackFile, mount: String) {
        let agentSecret = ["AGENT_SECRET": secrets[SecretCatalog.portainerAgent]]
        stack.services["portainer-agent"] = S.Service(
            image: spec.images.portainerAgent,
            environment: agentSecret,
            volumes: [
                S.Mount(type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock"),
                S.Mount(type: "bind", source: "/var/lib/docker/volumes", target: "/var/lib/docker/volumes"),
            ],
            networks: [Names.portainerNetwork: S.ServiceNetwork()],
            deploy: S.Deploy(
                mode: "global", endpointMode: "dnsrr",
                restartPolicy: S.RestartPolicy(condition: "any", delay: "5s"),
                labels: ["org.haha.component": "portainer"]))
        stack.services["portainer"] = S.Service(
            image: spec.images.portainer,
            command: ["-H", "tcp://tasks.portainer-agent:9001", "--tlsskipverify"],
            environment: agentSecret,
            volumes: [S.Mount(type: "bind", source: "\(mount)/portainer", target: "/data")],
            networks: [Names.portainerNetwork: S.ServiceNetwork()],
            ports: [S.Port(target: 9443, published: spec.portainer.port, mode: spec.routing == .proxy ? "host" : "ingress")],
            deploy: S.Deploy(
                mode: "replicated", replicas: 1, endpointMode: spec.routing == .proxy ? "dnsrr" : "vip",
                placement: S.Placement(constraints: ["node.labels.\(Names.roleLabel) == data"]),
                restartPolicy: S.RestartPolicy(condition: "any", delay: "5s"),
                labels: ["org.haha.component": "portainer"]))
    }
}
