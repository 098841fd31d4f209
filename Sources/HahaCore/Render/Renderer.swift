import Foundation
import Yams

/// One file `haha render` writes. Secret files are written mode 0600 inside a 0700 `secrets/` directory.
public struct RenderedFile: Sendable, Equatable {
    public var path: String
    public var contents: String
    public var isSecret: Bool

    public init(path: String, contents: String, isSecret: Bool = false) {
        self.path = path
        self.contents = contents
        self.isSecret = isSecret
    }
}

/// Turns a spec and its secrets into the Swarm stack file and every file the stack mounts. Pure and deterministic.
public struct Renderer: Sendable {
    public var spec: ClusterSpec
    public var secrets: SecretValues
    public var phase: DeployPhase

    /// Services left out of `stack.yml` (a deploy without `--prune` then leaves them as they run): how `haha up`
    /// restarts changed Galera members one at a time.
    public var omitting: Set<String> = []

    public init(spec: ClusterSpec, secrets: SecretValues, phase: DeployPhase = .steady, omitting: Set<String> = []) {
        self.spec = spec
        self.secrets = secrets
        self.phase = phase
        self.omitting = omitting
    }

    /// Which variant of the stack to render. `haha up` walks a new or recovering Galera cluster through
    /// `.bootstrap` (one member starts a new cluster, nothing else runs), `.joining` (the others join it),
    /// then `.steady` (the bootstrap flag removed; Home Assistant starts). `haha render` writes `.steady`.
    public enum DeployPhase: Sendable, Equatable {
        case bootstrap(member: String)
        case joining(member: String)
        case steady
    }

    /// Names of things inside the stack, shared by the renderer and by `haha up`.
    public enum Names {
        public static let homeAssistant = "homeassistant"
        public static let mosquitto = "mosquitto"
        public static let proxy = "proxy"
        public static let databaseAlias = "galera"
        /// Container label: digest of a Galera member's definition (see StackBuilder).
        public static let specLabel = "org.haha.spec"
        public static let databaseNetwork = "db"
        public static let appNetwork = "app"
        public static let portainerNetwork = "portainer"
        /// The stack's name for Docker's `host` network (`homeAssistant.hostNetwork`).
        public static let hostNetwork = "hostnet"
        public static func galera(_ node: String) -> String { "galera-\(node)" }
        public static func galeraVolume(_ node: String) -> String { "galera-\(node)-data" }
        public static let nodeLabel = "haha.node"
        public static let roleLabel = "haha.role"
    }

    /// Swarm's mode of the Home Assistant service: a standby on every data node behind the proxy, one replica behind the
    /// routing mesh, and one replica without the fence (`failover: swarm`: Swarm alone moves it). Swarm cannot change a
    /// service's mode: `haha up` removes a service deployed with the other one.
    public static func homeAssistantMode(_ spec: ClusterSpec) -> String { spec.fenced && spec.routing == .proxy ? "global" : "replicated" }

    /// With the proxy, the broker is a standby on every data node and runs where the fence holds the lease
    /// (`BrokerGuard`); with the routing mesh (which would send clients to standbys), or without the fence (no lease to
    /// follow), one replica Swarm moves.
    public static func brokerFollowsLease(_ spec: ClusterSpec) -> Bool { spec.fenced && spec.routing == .proxy }

    public static func brokerMode(_ spec: ClusterSpec) -> String { brokerFollowsLease(spec) ? "global" : "replicated" }

    /// What `haha render` and `haha up` say (on stderr) about the failover mode; nil for haha's own.
    public static func failoverNotice(_ spec: ClusterSpec) -> String? {
        guard !spec.fenced else { return nil }
        return "homeAssistant.failover: swarm is for comparison with the original project: no fence, two Home Assistants are "
            + "possible during a partition; failover takes about a minute"
    }

    public func render() throws -> [RenderedFile] {
        var (stack, files) = build()
        for name in omitting { stack.services[name] = nil }
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = true
        encoder.options.indent = 2
        let body = try encoder.encode(stack)
        // Portainer's agent reads its secret only from the environment (no _FILE variant): then the stack file
        // holds it and is itself a secret file (0600).
        let holdsSecret = spec.portainer.enabled
        let header = """
            # Docker Swarm stack for the haha cluster "\(spec.name)", rendered by `haha render` from haha.yaml.
            # `haha up` deploys it; to deploy it by hand, see "Deploying by hand" in haha's README.
            # Configs and secrets carry a content hash in their names: a changed file becomes a new object.
            \(holdsSecret ? "# It holds Portainer's AGENT_SECRET (the agent reads no secret file): keep it private (0600).\n" : "")
            """
        files.insert(RenderedFile(path: "stack.yml", contents: header + body, isSecret: holdsSecret), at: 0)
        return files
    }

    /// Each Galera member's definition digest by node name (the containers' `Names.specLabel`).
    public func memberDigests() -> [String: String] {
        let stack = build().stack
        return Dictionary(
            uniqueKeysWithValues: spec.dataNodes.compactMap { node in
                stack.services[Names.galera(node.name)]?.labels?[Names.specLabel].map { (node.name, $0) }
            })
    }

    /// The stack and every file but stack.yml.
    func build() -> (stack: StackFile, files: [RenderedFile]) {
        var files: [RenderedFile] = []
        let mosquittoConf = MosquittoFiles.config(spec)
        let galeraConf = GaleraFiles.config(spec)
        files.append(RenderedFile(path: "mosquitto/config/mosquitto.conf", contents: mosquittoConf))
        files.append(RenderedFile(path: "homeassistant/configuration.yaml", contents: HomeAssistantFiles.configuration(spec)))
        files.append(RenderedFile(path: "galera/galera.cnf", contents: galeraConf))
        if spec.fenced { files.append(RenderedFile(path: "fence/haha-fence.py", contents: Fence.script(spec))) }
        files.append(RenderedFile(path: "galera/haha-galera-watch.sh", contents: GaleraFiles.watchdog(spec)))
        if spec.routing == .proxy {
            files.append(RenderedFile(path: "haproxy/haproxy.cfg", contents: ProxyFiles.config(spec)))
        }
        if Self.brokerFollowsLease(spec) {
            files.append(RenderedFile(path: "mosquitto/haha-broker.sh", contents: BrokerGuard.script(spec)))
        }
        files += NodeFiles.files(spec, secrets)
        files += GaleraFirewall.files(spec) + SwarmRetry.files(spec)

        let secretFiles: [RenderedFile] = [
            RenderedFile(path: "secrets/\(SecretCatalog.mariadbRoot)", contents: secrets[SecretCatalog.mariadbRoot], isSecret: true),
            RenderedFile(path: "secrets/\(SecretCatalog.recorder)", contents: secrets[SecretCatalog.recorder], isSecret: true),
            RenderedFile(path: "secrets/galera-sst.cnf", contents: GaleraFiles.sstOptions(spec, secrets), isSecret: true),
            RenderedFile(path: "secrets/galera-init.sql", contents: GaleraFiles.initSQL(spec, secrets), isSecret: true),
            RenderedFile(path: "secrets/mosquitto-passwd", contents: MosquittoFiles.passwordFile(spec, secrets), isSecret: true),
            RenderedFile(path: "secrets/mosquitto-acl", contents: MosquittoFiles.aclFile(spec), isSecret: true),
            RenderedFile(path: "secrets/mosquitto-sub-options", contents: MosquittoFiles.healthcheckOptions(secrets), isSecret: true),
            RenderedFile(path: "secrets/homeassistant-secrets.yaml", contents: HomeAssistantFiles.secrets(spec, secrets), isSecret: true),
        ]
        files += secretFiles
        let stack = StackBuilder(
            spec: spec, phase: phase, contents: Dictionary(uniqueKeysWithValues: (files).map { ($0.path, $0.contents) }),
            secrets: secrets
        ).build()
        return (stack, files)
    }

    /// Short content hash used in Swarm object names (configs and secrets are immutable in Swarm).
    static func digest(_ text: String) -> String {
        SHA512.prefixHex(text.utf8, bytes: 4)
    }
}
