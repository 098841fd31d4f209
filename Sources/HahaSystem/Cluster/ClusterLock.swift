import Foundation

/// One writer at a time: `up`, `down`, `drill` and `recover` hold a lock on this machine (a `flock` beside the spec,
/// dropped by the kernel if haha dies) and one on the cluster's primary node (`/var/lib/haha/lock`, for a run from
/// another machine). A second run refuses and says who holds it.
public struct ClusterLock: Sendable {
    public static let remoteDirectory = "/var/lib/haha/lock"
    /// A remote lock older than this is a run that died without releasing it.
    public static let staleAfter: TimeInterval = 6 * 3600

    let local: FileLock
    let cluster: Cluster
    let token: String
    let remote: Bool

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
            throw HahaError(.locked, "another haha run holds the lock on this cluster: \(who?.nonEmpty ?? "a haha process on this machine")",
                            next: "wait for it to finish (the lock is \(path))")
        }
        local.describe(holder + "\n")
        let primary = cluster.runner(cluster.primary)
        // The holder text arrives on stdin, never in a command line.
        let script = """
            holder=$(cat); mkdir -p /var/lib/haha
            if mkdir \(remoteDirectory) 2>/dev/null; then printf '%s\\n' "$holder" > \(remoteDirectory)/holder; exit 0; fi
            echo "age=$(( $(date +%s) - $(stat -c %Y \(remoteDirectory)) ))"; cat \(remoteDirectory)/holder 2>/dev/null; exit 3
            """
        var result = try await primary.run(Command(["sh", "-c", script], input: Data(holder.utf8), timeout: 30))
        if result.exitCode == 3, Self.isStale(result.output, host: host) {
            cluster.log("taking over a lock left by a haha run that is gone: \(Self.holderLine(result.output))")
            _ = try await primary.run(Command(["rm", "-rf", remoteDirectory], timeout: 30))
            result = try await primary.run(Command(["sh", "-c", script], input: Data(holder.utf8), timeout: 30))
        }
        switch result.exitCode {
        case 0:
            return ClusterLock(local: local, cluster: cluster, token: token, remote: true)
        case 3:
            local.release()
            throw HahaError(.locked, "another haha run holds the lock on \(cluster.primary.name): \(Self.holderLine(result.output))",
                            next: "wait for it to finish; if that run is gone, remove \(remoteDirectory) on \(cluster.primary.name) (it is taken over by itself after \(Int(staleAfter / 3600)) hours)")
        case 255:
            cluster.log("\(cluster.primary.name) is unreachable: holding the lock on this machine only")
            return ClusterLock(local: local, cluster: cluster, token: token, remote: false)
        default:
            local.release()
            throw CommandError(target: primary.target, command: "sh -c <take the lock \(remoteDirectory)>", result: result,
                               hint: "haha keeps its lock in /var/lib/haha on the primary node: check that it is writable")
        }
    }

    /// A lock is stale when it is older than `staleAfter`, or when it was taken on this machine by a process that is gone.
    static func isStale(_ answer: String, host: String) -> Bool {
        let lines = answer.split(separator: "\n")
        if let age = lines.first(where: { $0.hasPrefix("age=") }).flatMap({ TimeInterval($0.dropFirst(4)) }), age > staleAfter { return true }
        let holder = holderLine(answer)
        guard let range = holder.range(of: "(pid "), let end = holder[range.upperBound...].firstIndex(of: " "),
              let pid = Int32(holder[range.upperBound..<end]), holder.contains(" on \(host), ") else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    static func holderLine(_ answer: String) -> String {
        answer.split(separator: "\n").first { !$0.hasPrefix("age=") }.map(String.init) ?? "a haha run whose holder file is missing"
    }

    func release() async {
        if remote {
            let script = "grep -qF \(shellQuote(token)) \(Self.remoteDirectory)/holder 2>/dev/null && rm -rf \(Self.remoteDirectory); true"
            _ = try? await cluster.runner(cluster.primary).run(Command(["sh", "-c", script], timeout: 30))
        }
        local.describe("")
        local.release()
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
