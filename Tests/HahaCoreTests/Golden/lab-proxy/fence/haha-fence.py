# haha-fence: runs Home Assistant only while this node holds the lease, rendered by haha for the cluster "haha".
# The lease is /config/.haha/lease on the replicated volume: the holder rewrites it every 1.0 s and kills
# Home Assistant when no write reached the volume's quorum for 5.0 s; a standby starts Home Assistant only after
# the lease stayed unchanged for 6.5 s, it holds /config/.haha/lease.lock, and its claim was written.
# All times on this node's monotonic clock. Usage: haha-fence.py COMMAND [ARG...]
import fcntl, os, signal, subprocess, sys, threading, time, urllib.request

DIR = os.environ.get("HAHA_FENCE_DIR", "/config/.haha")
RUN = os.environ.get("HAHA_FENCE_RUN", "/haha/run")
LEASE, LOCK = os.path.join(DIR, "lease"), os.path.join(DIR, "lease.lock")
INTERVAL, DEADLINE, TAKEOVER = 1.0, 5.0, 6.5
PORT = int(os.environ.get("HAHA_FENCE_PORT", "8123"))
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
                f.write(ME + "\n")
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
    ok, _ = io(write_lease("held %s 0\n" % ME), DEADLINE)
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
            ok, _ = io(write_lease("held %s %d\n" % (ME, counter)), DEADLINE * 4)
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
        ok, _ = io(write_lease("released %s\n" % ME), 2)
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
