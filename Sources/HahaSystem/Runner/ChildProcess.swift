import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, instead of Foundation's `Process`: on Linux, `Process.run()`
/// over-reads a `dirent` while it scans `/proc/self/fd` and crashes now and then (swift-corelibs-foundation
/// PR #5472, seen here as a SIGSEGV in `haha up`). The child gets an empty signal mask, default handling of
/// SIGPIPE/SIGINT/SIGQUIT, and no descriptors but its three standard ones.
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        case null
        case inherit
        case pipe
        case file(String)
    }

    public let pid: pid_t
    /// Our ends of the pipes asked for (nil for other kinds of stream).
    public let standardInput: FileHandle?
    public let standardOutput: FileHandle?
    public let standardError: FileHandle?

    private let lock = NSLock()
    private var exitStatus: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    /// Whether the child leads a process group of its own (`sendToGroup` then reaches what it started too).
    public let leadsGroup: Bool

    /// Starts `arguments[0]` (searched on PATH unless it holds a slash) with `arguments` as its argv.
    /// `environment` replaces nothing: its entries are added to (or override) this process's environment.
    /// `ownGroup` starts it in a new process group, so that `sendToGroup` also reaches the processes it starts.
    public init(
        _ arguments: [String], environment: [String: String]? = nil,
        stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit, ownGroup: Bool = false
    ) throws {
        guard let executable = arguments.first else { throw SpawnError(executable: "", code: ENOENT) }
        Self.ignoreSIGPIPE
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var ours: [FileHandle?] = []
        var theirs: [Int32] = []
        defer { for fd in theirs { close(fd) } }
        for (target, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .inherit:
                ours.append(nil)
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
                ours.append(nil)
            case .file(let path):
                let flags = target == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_APPEND
                posix_spawn_file_actions_addopen(&actions, target, path, flags, 0o644)
                ours.append(nil)
            case .pipe:
                var fds: [Int32] = [-1, -1]
                guard LibC.pipe(&fds) == 0 else {
                    for handle in ours { try? handle?.close() }
                    throw SpawnError(executable: executable, code: errno)
                }
                let (mine, child) = target == 0 ? (fds[1], fds[0]) : (fds[0], fds[1])
                theirs.append(child)
                posix_spawn_file_actions_adddup2(&actions, child, target)
                ours.append(FileHandle(fileDescriptor: mine, closeOnDealloc: true))
            }
        }
        // Nothing else of ours leaks into the child (dup2 above clears close-on-exec on 0–2 only).
        _ = LibC.closeFrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t(), defaults = sigset_t()
        sigemptyset(&mask)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var merged = ProcessInfo.processInfo.environment
        if let environment { merged.merge(environment) { $1 } }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var child = pid_t()
        let code =
            executable.contains("/")
            ? posix_spawn(&child, executable, &actions, &attributes, argv, envp)
            : posix_spawnp(&child, executable, &actions, &attributes, argv, envp)
        guard code == 0 else {
            for handle in ours { try? handle?.close() }
            throw SpawnError(executable: executable, code: code)
        }
        pid = child
        leadsGroup = ownGroup
        standardInput = ours[0]
        standardOutput = ours[1]
        standardError = ours[2]
        let reaper = Thread { [self] in reap() }
        reaper.name = "haha-reap-\(child)"
        reaper.start()
    }

    /// The exit status once the child has ended (128 + the signal's number when a signal ended it), else nil.
    public var status: Int32? { lock.withLock { exitStatus } }

    /// Waits for the child to end and returns `status`.
    public func exit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let known: Int32? = lock.withLock {
                if let exitStatus { return exitStatus }
                waiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    /// Sends `signal` to the child, unless it has already been reaped (its pid may then belong to another process).
    public func send(_ signal: Int32) {
        lock.withLock { if exitStatus == nil { _ = kill(pid, signal) } }
    }

    /// Sends `signal` to the child's process group (it must have been started with `ownGroup`): the processes it
    /// started get it too, also after the child itself has ended.
    public func sendToGroup(_ signal: Int32) {
        precondition(leadsGroup, "sendToGroup needs a child started with ownGroup: true")
        _ = kill(-pid, signal)
    }

    private func reap() {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        let pending = lock.withLock {
            exitStatus = code
            defer { waiters = [] }
            return waiters
        }
        for waiter in pending { waiter.resume(returning: code) }
    }

    /// A write to a pipe whose reader has gone must fail with EPIPE, not end haha.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}

/// glibc functions that Swift's Glibc module leaves out (they need _GNU_SOURCE), looked up at run time.
private enum LibC {
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private static let pipe2: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34 and later).
    static let closeFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: CloseFrom.self)
    }

    /// A pipe whose two ends are closed on exec, atomically where glibc has `pipe2`.
    static func pipe(_ fds: UnsafeMutablePointer<Int32>) -> Int32 {
        if let pipe2 { return pipe2(fds, O_CLOEXEC) }
        guard Glibc.pipe(fds) == 0 else { return -1 }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return 0
    }
}

/// `posix_spawn` refused to start a program.
public struct SpawnError: Error, CustomStringConvertible {
    public let executable: String
    public let code: Int32
    public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
}
