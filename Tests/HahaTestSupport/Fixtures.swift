import Foundation
import HahaCore
import HahaSystem

/// Specs and scripted clusters shared by the tests.
public enum Fixtures {
    /// `n1`, `n2`, … at 10.1.0.11, 10.1.0.12, …; the nodes named in `arbiters` are arbiters.
    public static func spec(nodes count: Int = 3, arbiters: Set<String> = [], configure: (inout ClusterSpec) -> Void = { _ in })
        -> ClusterSpec
    {
        var spec = ClusterSpec(
            nodes: (1...count).map { index in
                ClusterSpec.Node(
                    name: "n\(index)", address: "10.1.0.\(10 + index)", role: arbiters.contains("n\(index)") ? .arbiter : .data)
            })
        configure(&spec)
        return spec
    }

    /// A cluster of scripted nodes (one `ScriptedRunner` each, named after its node); `script` adds each node's
    /// answers. More answers can be added to the returned runners before the cluster is used.
    /// `specPath` matters to what lives beside the spec (the local lock, secrets): give a `scratchDirectory` for those.
    public static func cluster(
        _ spec: ClusterSpec = spec(), specPath: String = "/tmp/haha.yaml", _ script: (String, ScriptedRunner) -> Void = { _, _ in }
    ) -> (Cluster, [String: ScriptedRunner]) {
        var runners: [String: ScriptedRunner] = [:]
        for node in spec.nodes {
            let runner = ScriptedRunner()
            script(node.name, runner)
            runners[node.name] = runner
        }
        let cluster = Cluster(workspace: Workspace(specPath: specPath, spec: spec), runners: runners)
        return (cluster, runners)
    }
}

extension Fixtures {
    /// A new, empty directory under the system's temporary directory, named `prefix-…`.
    public static func scratchDirectory(_ prefix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// What counts as a command that changes a node, per layer of `haha up`: a run against a converged cluster
/// issues none of them. Read-only probes (`cat`, `grep`, `test`, `docker info`, `… inspect`, `… ls`) are not listed.
public enum Changing {
    /// Cluster.write: a temporary file renamed over the target.
    static let write = ["cat > ", "mv "]
    static let packages = ["apt-get", "touch /var/lib/haha/state"]

    public static let storage =
        write + packages + [
            "gluster peer probe", "gluster volume create", "gluster volume set", "gluster volume reset", "gluster volume start",
            "setfattr",
            "rm -rf", "/etc/fstab.haha-tmp", "mount /", "chown",
        ]
    public static let swarm =
        packages + [
            "docker swarm init", "/swarm/join", "docker node update", "docker swarm leave", "docker swarm update",
        ]
    public static let images = ["docker pull", "docker image rm", "docker load"]
    public static let deploy =
        write + [
            "docker stack deploy", "docker service scale", "docker run", "rm -rf", "mkdir -p", "grastate.dat.haha-tmp", "docker volume rm",
        ]
    public static let sensorAddress = write + packages + ["systemctl", "service ", "sed -i", ">> ", "cp -n"]

    /// The commands of `runners` that contain one of `markers`, as `node: command`, sorted.
    public static func commands(_ runners: [String: ScriptedRunner], _ markers: [String]) -> [String] {
        runners.flatMap { name, runner in
            runner.commands.map(\.pretty).filter { command in markers.contains { command.contains($0) } }.map { "\(name): \($0)" }
        }.sorted()
    }
}
