import Foundation

/// An exclusive `flock(2)` on a file, held until `release()` (or until the process dies: the kernel drops it then,
/// so a killed builder never leaves a lock behind). Waiting polls without blocking a thread.
public final class FileLock: Sendable {
    public let path: String
    let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock, waiting for another holder; `waiting` is called once if it has to wait.
    public static func acquire(_ path: String, waiting: @Sendable () -> Void = {}) async throws -> FileLock {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw HahaError.io("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        var announced = false
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            guard error == EWOULDBLOCK || error == EINTR else {
                close(descriptor)
                throw HahaError.io("cannot lock \(path): \(String(cString: strerror(error)))")
            }
            if !announced {
                waiting()
                announced = true
            }
            do {
                try await Task.sleep(for: .milliseconds(200))
            } catch {
                close(descriptor)
                throw error
            }
        }
        return FileLock(path: path, descriptor: descriptor)
    }

    /// Takes the lock if nobody holds it; nil when another process does.
    public static func attempt(_ path: String) throws -> FileLock? {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw HahaError.io("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, descriptor: descriptor) }
        let error = errno
        close(descriptor)
        guard error == EWOULDBLOCK else { throw HahaError.io("cannot lock \(path): \(String(cString: strerror(error)))") }
        return nil
    }

    /// Replaces the lock file's text (who holds it), for a second run to report.
    public func describe(_ text: String) {
        // Written first, cut to length after: a reader never sees an empty file while a holder is described.
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        _ = ftruncate(descriptor, off_t(bytes.count))
    }

    /// Releases the lock (closing the descriptor drops the `flock`).
    public func release() { close(descriptor) }
}

/// haha's cache of built artifacts (Debian roots, imported and built images, the wheel cache).
///
/// Every entry is built under an exclusive lock of its own, so concurrent builders of one entry build it once: the
/// second waits for the first and reuses its result. Directory entries are built into a temporary sibling and renamed
/// into place only when complete; a temporary left by a killed builder is never used and is removed by the next one.
public struct BuildCache: Sendable {
    public var directory: URL
    public var progress: @Sendable (String) -> Void

    public init(directory: URL, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.directory = directory
        self.progress = progress
    }

    /// The lock file of an entry (`locks/roots_trixie-KEY.lock` for `roots/trixie-KEY`).
    public func lockPath(_ entry: String) -> String {
        let safe = entry.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }
        return directory.appendingPathComponent("locks/\(String(safe)).lock").path
    }

    /// Runs `body` holding the entry's lock.
    @discardableResult
    public func withLock<T: Sendable>(_ entry: String, _ body: () async throws -> T) async throws -> T {
        let path = lockPath(entry)
        let lock = try await FileLock.acquire(path) { progress("waiting for another haha building \(entry) (lock \(path))") }
        defer { lock.release() }
        return try await body()
    }

    /// The directory entry `relative`, built by `build` into an empty temporary directory when missing.
    /// Returns the entry's final path; it exists only when a build completed.
    @discardableResult
    public func directoryEntry(_ relative: String, build: (URL) async throws -> Void) async throws -> URL {
        let final = directory.appendingPathComponent(relative)
        return try await withLock(relative) {
            let fm = FileManager.default
            if fm.fileExists(atPath: final.path) { return final }
            try removeTemporaries(of: final)
            try fm.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = URL(fileURLWithPath: final.path + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
            try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
            do {
                try await build(temporary)
            } catch {
                try? fm.removeItem(at: temporary)
                throw error
            }
            guard rename(temporary.path, final.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? fm.removeItem(at: temporary)
                throw HahaError.io("cannot move \(temporary.path) to \(final.path): \(reason)")
            }
            return final
        }
    }

    /// An entry that lives elsewhere (an image in the Docker engine): `present` is asked under the lock, and
    /// `build` runs only when it says no. Returns whether this call built it.
    @discardableResult
    public func entry(_ name: String, present: () async throws -> Bool, build: () async throws -> Void) async throws -> Bool {
        try await withLock(name) {
            if try await present() { return false }
            try await build()
            return true
        }
    }

    /// Temporaries of `final` left by builders that died (only called while holding the entry's lock).
    func removeTemporaries(of final: URL) throws {
        let parent = final.deletingLastPathComponent()
        let prefix = final.lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            progress("removing \(parent.appendingPathComponent(name).path), left by an interrupted build")
            try FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }

    /// A fresh scratch directory for building `relative` (a Docker build context), called while holding its lock:
    /// scratch directories that earlier, interrupted builds of it left are removed first. The caller removes it.
    public func scratchDirectory(_ relative: String) throws -> URL {
        let base = directory.appendingPathComponent(relative)
        try removeTemporaries(of: base)
        let url = URL(fileURLWithPath: base.path + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
