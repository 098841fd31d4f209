/// How haha keeps Home Assistant on exactly one node, and how fast it moves.
///
/// Every data node runs a *fence* (a small supervisor inside the Home Assistant container, `haha-fence.py`). The one
/// that holds the *lease* runs Home Assistant; the others stand by. The lease is a file on the replicated Gluster volume
/// (`/config/.haha/lease`) that its holder rewrites every second, plus a `flock` on `/config/.haha/lease.lock`; the
/// quorum that decides is the volume's own (`cluster.quorum-type auto`: a write needs a majority of the bricks).
///
/// The rules, all on each node's own monotonic clock:
/// - the holder kills Home Assistant (SIGKILL, at once) when no lease write has reached the quorum for `deadline`
///   seconds, counted from the *start* of its last successful write (a standby may see a write land long before its
///   answer comes back) — a node cut off from the others, frozen, or with a dead mount fences itself;
/// - a standby takes over only after two fresh reads `takeover` seconds apart (longer than `deadline` plus the time a
///   kill takes) found the lease unchanged, then takes the `flock`, then writes its claim through the quorum; only
///   after that write succeeded does it start Home Assistant;
/// - a holder that stops cleanly (SIGTERM: an update, `haha down`) writes `released`, so a standby starts at once.
///
/// `deadline` must outlast how long a healthy write may stall: when any node dies, every Gluster client waits
/// `network.ping-timeout` for its brick. The bricks keep a dead holder's `flock` until they drop its connection
/// (`server.tcp-user-timeout`, server keepalive), which is set to end after the holder's deadline: the lock is a second,
/// independent guard, never the first to let go.
public struct FenceTiming: Sendable, Equatable, Codable {
    /// Gluster client `network.ping-timeout` (seconds): the longest a write stalls when a brick dies.
    public var pingTimeout: Int
    /// How often the holder rewrites the lease (seconds).
    public var interval: Double = 1
    /// The holder fences itself when no write succeeded for this long.
    public var deadline: Double
    /// A standby takes over after the lease stayed unchanged for this long.
    public var takeover: Double
    /// Gluster `server.tcp-user-timeout` (seconds): when bricks drop a dead client, and its locks.
    public var serverTimeout: Int

    public init(pingTimeout: Int) {
        self.pingTimeout = pingTimeout
        // A write that started just before a node died stalls for the ping-timeout, plus up to one interval since the
        // last write that started, plus Gluster's own slack in noticing (measured 1.1–1.2 s at ping-timeout 3: the
        // holder fenced itself 5.1–5.2 s after a power cut of another node with `+ 2`).
        deadline = Double(pingTimeout) + 3
        takeover = deadline + 1.5
        serverTimeout = pingTimeout + 4
    }

    public init(_ spec: ClusterSpec) { self.init(pingTimeout: spec.storage.pingTimeout) }

    /// Server keepalive: idle seconds, then probes every `keepaliveInterval` s, `keepaliveCount` unanswered: the
    /// same end as `serverTimeout` for a connection with nothing in flight.
    public var keepaliveInterval: Int { 1 }
    public var keepaliveCount: Int { 2 }
    public var keepaliveTime: Int { serverTimeout - keepaliveInterval * keepaliveCount }

    /// What would let two Home Assistants run at once (empty when the timing is safe).
    public var problems: [String] {
        var problems: [String] = []
        if deadline < Double(pingTimeout) + interval + 1.5 {
            problems.append(
                "the holder's deadline (\(deadline) s) must outlast a write stalled by ping-timeout (\(pingTimeout) s), one interval and 1.5 s of Gluster's slack"
            )
        }
        if takeover < deadline + 1 {
            problems.append(
                "a standby's takeover wait (\(takeover) s) must exceed the holder's deadline (\(deadline) s) by a second or more")
        }
        if Double(serverTimeout) < deadline + 1 || Double(keepaliveTime + keepaliveInterval * keepaliveCount) < deadline + 1 {
            problems.append(
                "the bricks must keep a dead holder's lock (\(serverTimeout) s) longer than its deadline (\(deadline) s) plus a second")
        }
        if keepaliveTime < 1 { problems.append("server keepalive idle time must be at least 1 s") }
        return problems
    }

    /// Worst case, in seconds after a holder's last good write, until a standby may start Home Assistant.
    public var earliestTakeover: Double { max(takeover, Double(serverTimeout)) }
}

/// The fence's files: the supervisor script (a Swarm config mounted into the Home Assistant container) and its paths.
public enum Fence {
    /// Where the script is mounted in the container.
    public static let scriptPath = "/haha/haha-fence.py"
    /// Host directory (on every data node) where the holder keeps `active` fresh; keepalived follows it.
    public static let hostRunDirectory = "/var/lib/haha/run"
    /// The same directory inside the container.
    public static let containerRunDirectory = "/haha/run"
    /// The lease, relative to Home Assistant's `/config`.
    public static let leaseDirectory = ".haha"

    /// The Home Assistant command the fence runs (the official image's, plus `--skip-pip` where asked).
    public static func homeAssistantCommand(_ spec: ClusterSpec) -> [String] {
        ["python3", "-m", "homeassistant", "--config", "/config"] + (spec.homeAssistant.skipPip ? ["--skip-pip"] : [])
    }

    /// The supervisor. Python, because it runs inside Home Assistant's own image (amd64 and arm64), which has nothing else.
    public static func script(_ spec: ClusterSpec) -> String {
        let timing = FenceTiming(spec)
        return """
            # haha-fence: runs Home Assistant only while this node holds the lease, rendered by haha for the cluster "\(spec.name)".
            # The lease is /config/\(leaseDirectory)/lease on the replicated volume: the holder rewrites it every \(timing.interval) s and kills
            # Home Assistant when no write reached the volume's quorum for \(timing.deadline) s; a standby starts Home Assistant only after
            # the lease stayed unchanged for \(timing.takeover) s, it holds /config/\(leaseDirectory)/lease.lock, and its claim was written.
            # All times on this node's monotonic clock. Usage: haha-fence.py COMMAND [ARG...]
            import fcntl, os, signal, subprocess, sys, threading, time, urllib.request

            DIR = os.environ.get("HAHA_FENCE_DIR", "/config/\(leaseDirectory)")
            RUN = os.environ.get("HAHA_FENCE_RUN", "\(containerRunDirectory)")
            LEASE, LOCK = os.path.join(DIR, "lease"), os.path.join(DIR, "lease.lock")
            INTERVAL, DEADLINE, TAKEOVER = \(timing.interval), \(timing.deadline), \(timing.takeover)
            PORT = int(os.environ.get("HAHA_FENCE_PORT", "\(spec.homeAssistant.port)"))
            NODE = os.environ.get("HAHA_NODE") or os.uname().nodename
            ME = "%s %d %s" % (NODE, os.getpid(), os.urandom(4).hex())
            HEALTH = "/tmp/haha-health"


            def log(message):
                print("[haha-fence %s] %s" % (NODE, message), file=sys.stderr, flush=True)


            def io(fn, timeout):
                # Runs a file operation on the shared volume in a thread of its own, so that one that hangs (no quorum) never
                # blocks the fence. Returns (done, value); a late result of an abandoned call is dropped.
                box = {}
                def run():
                    try:
                        box["value"] = fn()
                    except OSError as error:
                        box["error"] = error
                thread = threading.Thread(target=run, daemon=True)
                thread.start()
                thread.join(timeout)
                if thread.is_alive() or "error" in box:
                    return False, box.get("error")
                return True, box.get("value")


            def read_lease():
                with open(LEASE, "rb") as f:
                    return f.read()


            def write_lease(text):
                # One fixed-size write at offset 0, no truncation: a reader never sees the file empty or half written.
                def write():
                    fd = os.open(LEASE, os.O_WRONLY | os.O_CREAT, 0o644)
                    try:
                        os.pwrite(fd, text.encode().ljust(120), 0)
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                return write


            def touch(path, present):
                try:
                    if present:
                        with open(path, "w") as f:
                            f.write(ME + "\\n")
                    elif os.path.exists(path):
                        os.unlink(path)
                except OSError:
                    pass


            child = None
            stopping = False


            def on_signal(number, frame):
                global stopping
                if number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
                    stopping = True
                if child is not None and child.poll() is None:
                    child.send_signal(number)


            signal.pthread_sigmask(signal.SIG_SETMASK, set())  # a mask inherited from whoever started us would hide SIGTERM
            for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
                signal.signal(number, on_signal)


            def stand_by():
                # Wait until the lease is free: missing, released, or unchanged for TAKEOVER s of fresh reads.
                io(lambda: os.makedirs(DIR, exist_ok=True), 5)
                seen, since, said = None, time.monotonic(), False
                while not stopping:
                    touch(HEALTH, True)
                    ok, value = io(read_lease, 1)
                    now = time.monotonic()
                    if ok:
                        if value != seen:
                            seen, since = value, now
                        free = value.startswith(b"released") or now - since >= TAKEOVER
                        if free:
                            return seen
                        if not said:
                            log("standing by: the lease is held (%s)" % value.decode(errors="replace").strip())
                            said = True
                    elif isinstance(value, FileNotFoundError):
                        return None
                    # A read that failed or hung tells nothing either way, and only a fresh read can free the lease: it
                    # must show the value seen TAKEOVER s before. Between two such reads no holder's write reached the
                    # quorum, so its deadline ran out; the reads in between need not have answered (a dead brick stalls
                    # them for a ping-timeout, which used to restart the wait).
                    time.sleep(0.25)
                return None


            def claim(seen):
                # The flock serialises standbys; the claim written through the quorum makes this node the holder.
                ok, fd = io(lambda: os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644), 2)
                if not ok:
                    return None
                while not stopping:
                    ok, _ = io(lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB), 2)
                    if ok:
                        break
                    time.sleep(0.25)
                    ok, value = io(read_lease, 1)
                    if ok and value != seen and not value.startswith(b"released"):
                        os.close(fd)
                        return None  # someone else took it meanwhile
                else:
                    return None
                ok, value = io(read_lease, 1)
                if ok and value != seen and not value.startswith(b"released"):
                    os.close(fd)
                    return None
                started = time.monotonic()
                ok, _ = io(write_lease("held %s 0\\n" % ME), DEADLINE)
                if not ok:
                    os.close(fd)
                    return None
                return fd, started


            def answering():
                try:
                    urllib.request.urlopen("http://127.0.0.1:%d/manifest.json" % PORT, timeout=2)
                    return True
                except Exception:
                    return False


            def hold(command, claimed):
                # Runs Home Assistant; restarts it in place on exit code 100 (its own restart); fences on a stale lease.
                # A write counts from when it started, not from its answer: a standby may have seen it land at once, and
                # an answer can lag by a ping-timeout (a brick that died mid-write), which would stretch the deadline.
                global child
                counter = 0
                state = {"ok": claimed}

                def writer():
                    # Never renews a lease that went stale (this process was frozen, or the volume hung, for longer than
                    # DEADLINE: a standby may have taken over meanwhile) nor one that another node claimed: the fence
                    # below then kills Home Assistant, whichever thread wakes first.
                    nonlocal counter
                    while child_alive[0]:
                        ok, value = io(read_lease, 1)
                        if ok and value.startswith(b"held ") and not value.startswith(("held %s " % ME).encode()):
                            state["taken"] = value.decode(errors="replace").strip()
                            return
                        if time.monotonic() - state["ok"] > DEADLINE:
                            return
                        counter += 1
                        started = time.monotonic()
                        ok, _ = io(write_lease("held %s %d\\n" % (ME, counter)), DEADLINE * 4)
                        if ok and time.monotonic() - state["ok"] <= DEADLINE + INTERVAL:
                            state["ok"] = max(state["ok"], started)
                        # Every INTERVAL s from start to start: after a write that stalled, the next one starts at once.
                        time.sleep(max(0.0, INTERVAL - (time.monotonic() - started)))

                child_alive = [True]
                threading.Thread(target=writer, daemon=True).start()
                env = dict(os.environ)
                for lib in ("/usr/local/lib/libjemalloc.so.2",) + tuple(
                        "/usr/lib/%s/libjemalloc.so.2" % d for d in os.listdir("/usr/lib") if d.endswith("-linux-gnu")):
                    if "DISABLE_JEMALLOC" not in env and os.path.exists(lib):
                        env["LD_PRELOAD"] = lib
                        break
                unanswered_since = None
                while True:
                    log("holding the lease: starting Home Assistant")
                    child = subprocess.Popen(command, env=env, start_new_session=True)
                    last_answer_check = last_touch = 0.0
                    while child.poll() is None:
                        now = time.monotonic()
                        if now - state["ok"] > DEADLINE or "taken" in state:
                            os.killpg(child.pid, signal.SIGKILL)
                            # Ended before the fence lets go of the lock (its exit): a killed process may run on for a
                            # moment on a busy node (seen in CI). A wait that a hung volume keeps from ending is cut short.
                            try:
                                child.wait(timeout=5)
                            except subprocess.TimeoutExpired:
                                pass
                            touch(os.path.join(RUN, "active"), False)
                            why = ("the lease was taken: %s" % state["taken"]) if "taken" in state else (
                                "no lease write reached the quorum for %.1f s" % (now - state["ok"]))
                            log("FENCED: %s; Home Assistant killed" % why)
                            os._exit(75)
                        if not stopping and now - last_touch >= 1:
                            last_touch = now
                            touch(os.path.join(RUN, "active"), True)
                        if now - last_answer_check >= 2:
                            last_answer_check = now
                            if answering():
                                unanswered_since = None
                                touch(HEALTH, True)
                            elif unanswered_since is None:
                                unanswered_since = now
                            elif now - unanswered_since > 300:
                                touch(HEALTH, False)  # wedged: Docker's health check fails and Swarm replaces the task
                        time.sleep(0.2)
                    code = child.returncode
                    if code == 100 and not stopping:
                        log("Home Assistant asked for a restart (exit 100): restarting in place")
                        continue
                    child_alive[0] = False
                    touch(os.path.join(RUN, "active"), False)
                    if code != 0 and not stopping:
                        log("Home Assistant exited with %d" % code)
                    ok, _ = io(write_lease("released %s\\n" % ME), 2)
                    log("released the lease" if ok else "could not write the release; standbys wait out the lease")
                    return 0 if (stopping and code in (0, 100, -15)) else (code if code >= 0 else 128 - code)


            if __name__ == "__main__":
                command = sys.argv[1:]
                if not command:
                    log("usage: haha-fence.py COMMAND [ARG...]")
                    sys.exit(2)
                touch(os.path.join(RUN, "active"), False)
                seen = stand_by()
                while not stopping:
                    claimed = claim(seen)
                    if claimed is not None:
                        sys.exit(hold(command, claimed[1]))
                    seen = stand_by()
                sys.exit(0)

            """
    }
}

/// What the lease file says: who holds it (the Swarm host name of its node), or that it was released.
public enum FenceLease: Sendable, Equatable {
    case held(node: String)
    case released
    case unreadable

    /// `held NODE PID TOKEN COUNTER` or `released NODE PID TOKEN`, as the fence writes it.
    public init(parsing text: String) {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        switch words.first {
        case "held" where words.count >= 2: self = .held(node: words[1])
        case "released": self = .released
        default: self = .unreadable
        }
    }

    /// The lease file on a node's mount of the shared volume.
    public static func path(_ spec: ClusterSpec) -> String {
        "\(spec.storage.mountPath)/homeassistant/\(Fence.leaseDirectory)/lease"
    }
}
