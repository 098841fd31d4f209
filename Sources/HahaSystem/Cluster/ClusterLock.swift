import Foundation
import HahaCore

/// One writer at a time: `up`, `down`, `drill` and `recover` hold a lock on this machine (a `flock` beside the spec,
/// dropped by the kernel if haha dies) and one on every reachable node (`/var/lib/haha/lock`, for a run from
/// another machine). A second run refuses and says who holds it.
public struct ClusterLock: Sendable {
    public static let remoteDirectory = "/var/lib/haha/lock"
    /// A remote lock older than this is a run that died without releasing it.
    public static let staleAfter: TimeInterval = 6 * 3600

    let local: FileLock
    let cluster: Cluster
    let token: String
    /// The nodes where this run took the cluster's side of the lock.
    let nodes: [ClusterSpec.Node]

    /// Runs `body` holding both locks; they are released afterwards, also when `body` throws.
    public static func holding<T: Sendable>(_ cluster: Cluster, command: String, _ body: () async throws -> T) async throws -> T {
        let lock = try await acquire(cluster, command: command)
        do {
            let value = try await body()
            await lock.release()
            return value
        } catch {
            await lock.release()
            throw error
        }
    }

    static func acquire(_ cluster: Cluster, command: String) async throws -> ClusterLock {
        let path = ((cluster.workspace.specPath as NSString).deletingLastPathComponent.nonEmpty ?? ".") + "/.haha.lock"
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        let since = ISO8601DateFormatter().string(from: Date())
        let token = UUID().uuidString
        let holder = "haha \(command) (pid \(pid) on \(host), since \(since), token \(token))"
        guard let local = try FileLock.attempt(path) else {
            // The holder describes itself right after taking the lock: give it a moment to do so.
            var who: String?
            for _ in 0..<20 {
                who = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                if who?.isEmpty == false { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw HahaError(
                .locked, "another haha run holds the lock on this cluster: \(who?.nonEmpty ?? "a haha process on this machine")",
                next: "wait for it to finish (the lock is \(path))")
        }
        local.describe(holder + "\n")
        // The cluster's side of the lock is a directory on every node, so a run from another machine is refused even
        // when a node (the first one included) is dead. The holder text arrives on stdin, never in a command line.
        let script = """
            holder=$(cat); mkdir -p /var/lib/haha
            if mkdir \(remoteDirectory) 2>/dev/null; then printf '%s\\n' "$holder" > \(remoteDirectory)/holder; exit 0; fi
            echo "age=$(( $(date +%s) - $(stat -c %Y \(remoteDirectory)) ))"; cat \(remoteDirectory)/holder 2>/dev/null; exit 3
            """
        let take = Command(["sh", "-c", script], input: Data(holder.utf8), timeout: 30)
        let answers = await cluster.eachNode { node, runner -> CommandResult in
            let first = try await runner.run(take)
            guard first.exitCode == 3, Self.isStale(first.output, host: host) else { return first }
            cluster.log("\(node.name): taking over a lock left by a haha run that is gone: \(Self.holderLine(first.output))")
            _ = try await runner.run(Command(["rm", "-rf", remoteDirectory], timeout: 30))
            return try await runner.run(take)
        }
        let taken = cluster.spec.nodes.filter { answers[$0.name]?.exitCode == 0 }
        let lock = ClusterLock(local: local, cluster: cluster, token: token, nodes: taken)
        if let (node, held) = cluster.spec.nodes.lazy.compactMap({ node in
            answers[node.name].flatMap { $0.exitCode == 3 ? (node, $0) : nil }
        }).first {
            await lock.release()
            throw HahaError(
                .locked, "another haha run holds the lock on \(node.name): \(Self.holderLine(held.output))",
                next:
                    "wait for it to finish; if that run is gone, remove \(remoteDirectory) on \(node.name) (it is taken over by itself after \(Int(staleAfter / 3600)) hours)"
            )
        }
        let unreachable = cluster.spec.nodes.filter { answers[$0.name].map { $0.exitCode == 255 } ?? true }
        if let (node, failed) = cluster.spec.nodes.lazy.compactMap({ node in
            answers[node.name].flatMap { [0, 3, 255].contains($0.exitCode) ? nil : (node, $0) }
        }).first {
            await lock.release()
            throw CommandError(
                target: cluster.runner(node).target, command: "sh -c <take the lock \(remoteDirectory)>", result: failed,
                hint: "haha keeps its lock in /var/lib/haha on every node: check that it is writable")
        }
        if !unreachable.isEmpty {
            let holding = taken.isEmpty ? "this machine only" : "this machine and \(taken.map(\.name).joined(separator: ", "))"
            cluster.log("\(unreachable.map(\.name).joined(separator: ", ")) unreachable: holding the lock on \(holding)")
        }
        return lock
    }

    /// A lock is stale when it is older than `staleAfter`, or when it was taken on this machine by a process that is gone.
    static func isStale(_ answer: String, host: String) -> Bool {
        let lines = answer.split(separator: "\n")
        if let age = lines.first(where: { $0.hasPrefix("age=") }).flatMap({ TimeInterval($0.dropFirst(4)) }), age > staleAfter {
            return true
        }
        let holder = holderLine(answer)
        guard let range = holder.range(of: "(pid "), let end = holder[range.upperBound...].firstIndex(of: " "),
            let pid = Int32(holder[range.upperBound..<end]), holder.contains(" on \(host), ")
        else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    static func holderLine(_ answer: String) -> String {
        answer.split(separator: "\n").first { !$0.hasPrefix("age=") }.map(String.init) ?? "a haha run whose holder file is missing"
    }

    func release() async {
        let script = "grep -qF \(shellQuote(token)) \(Self.remoteDirectory)/holder 2>/dev/null && rm -rf \(Self.remoteDirectory); true"
        let names = Set(nodes.map(\.name))
        _ = await cluster.eachNode(cluster.spec.nodes.filter { names.contains($0.name) }) { _, runner in
            try await runner.run(Command(["sh", "-c", script], timeout: 30))
        }
        local.describe("")
        local.release()
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
