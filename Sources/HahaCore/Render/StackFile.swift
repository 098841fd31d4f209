/// The subset of the Compose file format (3.9) that `docker stack deploy` reads, as Codable types.
/// Encoded with sorted keys so the rendered `stack.yml` is byte-for-byte deterministic.
public struct StackFile: Codable, Sendable, Equatable {
    public var version = "3.9"
    public var services: [String: Service] = [:]
    public var networks: [String: Network] = [:]
    public var volumes: [String: Volume]?
    public var configs: [String: FileObject]?
    public var secrets: [String: FileObject]?

    public struct Service: Codable, Sendable, Equatable {
        public var image: String
        public var entrypoint: [String]?
        public var command: [String]?
        public var environment: [String: String]?
        public var volumes: [Mount]?
        public var configs: [FileReference]?
        public var secrets: [FileReference]?
        public var networks: [String: ServiceNetwork]?
        /// `NAME:ADDRESS` lines for the container's /etc/hosts.
        public var extraHosts: [String]?
        public var ports: [Port]?
        public var healthcheck: Healthcheck?
        public var deploy: Deploy
        public var stopGracePeriod: String?
        /// Docker's init (tini) as PID 1: it reaps orphans and passes signals on.
        public var `init`: Bool?
        /// Labels on the service's containers (`deploy.labels` label the service).
        public var labels: [String: String]?

        enum CodingKeys: String, CodingKey {
            case image, entrypoint, command, environment, volumes, configs, secrets, networks, ports, healthcheck, deploy, `init`, labels
            case stopGracePeriod = "stop_grace_period", extraHosts = "extra_hosts"
        }
    }

    public struct Mount: Codable, Sendable, Equatable {
        public var type: String
        public var source: String
        public var target: String
        public var readOnly: Bool?
        enum CodingKeys: String, CodingKey { case type, source, target, readOnly = "read_only" }
    }

    public struct FileReference: Codable, Sendable, Equatable {
        public var source: String
        public var target: String
        public var uid: String?
        public var gid: String?
        /// Decimal value of the octal file mode (0400 = 256, 0444 = 292).
        public var mode: Int?
    }

    public struct ServiceNetwork: Codable, Sendable, Equatable {
        public var aliases: [String]?
    }

    public struct Port: Codable, Sendable, Equatable {
        public var target: Int
        public var published: Int
        public var `protocol` = "tcp"
        public var mode: String
    }

    public struct Healthcheck: Codable, Sendable, Equatable {
        public var test: [String]
        public var interval: String
        public var timeout: String
        public var retries: Int
        public var startPeriod: String
        enum CodingKeys: String, CodingKey { case test, interval, timeout, retries, startPeriod = "start_period" }
    }

    public struct Deploy: Codable, Sendable, Equatable {
        public var mode: String
        public var replicas: Int?
        public var endpointMode: String
        public var placement: Placement?
        public var restartPolicy: RestartPolicy
        public var updateConfig: UpdateConfig?
        public var resources: Resources?
        public var labels: [String: String]?

        enum CodingKeys: String, CodingKey {
            case mode, replicas, placement, resources, labels
            case endpointMode = "endpoint_mode", restartPolicy = "restart_policy", updateConfig = "update_config"
        }
    }

    public struct Placement: Codable, Sendable, Equatable {
        public var constraints: [String]
    }

    public struct RestartPolicy: Codable, Sendable, Equatable {
        public var condition: String
        public var delay: String
    }

    public struct UpdateConfig: Codable, Sendable, Equatable {
        public var order: String
        public var parallelism: Int
        public var failureAction: String
        enum CodingKeys: String, CodingKey { case order, parallelism, failureAction = "failure_action" }
    }

    public struct Resources: Codable, Sendable, Equatable {
        public var limits: Limits
        public struct Limits: Codable, Sendable, Equatable { public var memory: String }
    }

    public struct Network: Codable, Sendable, Equatable {
        public var driver: String? = "overlay"
        public var driverOpts: [String: String]?
        public var attachable: Bool?
        /// An existing network of Docker's (`host`) under `name`, not one the stack creates.
        public var external: Bool?
        public var name: String?
        enum CodingKeys: String, CodingKey { case driver, attachable, external, name, driverOpts = "driver_opts" }

        public init(driverOpts: [String: String]? = nil, attachable: Bool? = nil) {
            self.driverOpts = driverOpts
            self.attachable = attachable
        }

        /// Docker's own network `name` (e.g. `host`).
        public static func existing(_ name: String) -> Network {
            var network = Network()
            network.driver = nil
            network.external = true
            network.name = name
            return network
        }
    }

    public struct Volume: Codable, Sendable, Equatable {
        public var labels: [String: String]?
    }

    public struct FileObject: Codable, Sendable, Equatable {
        public var file: String
        public var name: String
    }
}
