#!/bin/bash
# haha lab node entrypoint. Runs under tini (PID 1 reaps orphans and forwards
# SIGTERM/SIGINT to this script). There is no systemd: this script starts the
# node's daemons, supervises dockerd, restores Gluster fstab mounts, and stops
# everything in order on SIGTERM (dockerd, Gluster mounts, keepalived, Gluster).
#
# Environment:
#   HAHA_LAB_REGISTRY  host:port[,host:port]  -> daemon.json "insecure-registries"
#   HAHA_LAB_DNS       ip[,ip]                -> daemon.json "dns"
#   (unset: the key in an existing daemon.json is kept; set but empty: removed)
# Read-only input: /etc/haha-lab/authorized_keys (file, or directory of files).
# Logs: this script -> container stdout; dockerd -> /var/log/dockerd.log;
#       sshd -> /var/log/sshd.log; Gluster -> /var/log/glusterfs/.
# Hold files: touch /run/haha-node/hold-dockerd to stop dockerd being restarted.
set -u

STATE=/run/haha-node
KEYS_SRC=/etc/haha-lab/authorized_keys
DOCKERD_LOG=/var/log/dockerd.log
DOCKERD_PID=
DOCKERD_RESTARTS=()
REMOUNT_PID=

log() { printf '%s haha-node: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# ---------------------------------------------------------------- start-up ---

wipe_stale_state() {
    # After `docker kill` + `docker start` the writable layer and volumes keep
    # pidfiles and sockets whose PIDs may now belong to other processes (a
    # reused PID in a brick pidfile makes glusterd believe the brick runs).
    # /run is normally a tmpfs, but do not rely on it.
    rm -rf /run/gluster /var/run/gluster
    rm -f /var/lib/glusterd/vols/*/run/*.pid \
          /var/lib/glusterd/*/run/*.pid \
          /var/lib/glusterd/vols/*/*.pid
    rm -f /run/glusterd.pid /run/glusterd.socket
    rm -rf /run/docker /run/containerd
    rm -f /run/docker.pid /run/docker.sock /var/lib/docker/network/files/*.sock
    rm -f /run/sshd.pid /run/crond.pid /run/crond.reboot
    rm -f /run/dbus/pid /run/dbus/system_bus_socket
    rm -rf /run/avahi-daemon
    rm -f /run/keepalived.pid /run/vrrp.pid /run/checkers.pid
    rm -rf "$STATE"
    mkdir -p "$STATE" /run/sshd /run/dbus /var/log/glusterfs /var/run/gluster
    chmod 0755 /run/sshd
}

install_authorized_keys() {
    local lines user home dst line
    if [ -d "$KEYS_SRC" ]; then
        lines=$(cat "$KEYS_SRC"/* 2>/dev/null)
    elif [ -r "$KEYS_SRC" ]; then
        lines=$(cat "$KEYS_SRC")
    else
        log "no $KEYS_SRC mounted: ssh logins will not work"
        return 0
    fi
    for user in root pi; do
        home=$(getent passwd "$user" | cut -d: -f6)
        [ -n "$home" ] || continue
        install -d -m 0700 -o "$user" -g "$user" "$home/.ssh"
        dst=$home/.ssh/authorized_keys
        touch "$dst"
        # Merge: keys added later on the node (e.g. by haha) are kept.
        while IFS= read -r line; do
            case "$line" in '' | '#'*) continue ;; esac
            grep -qxF -- "$line" "$dst" || printf '%s\n' "$line" >>"$dst"
        done <<<"$lines"
        chown "$user:$user" "$dst"
        chmod 0600 "$dst"
    done
}

ensure_identity() {
    # Per-node identities, made once and kept in the writable layer.
    if [ ! -s /etc/machine-id ]; then
        rm -f /etc/machine-id # dbus-uuidgen --ensure refuses an empty file
        dbus-uuidgen --ensure=/etc/machine-id
    fi
    mkdir -p /var/lib/dbus
    [ -e /var/lib/dbus/machine-id ] || ln -s /etc/machine-id /var/lib/dbus/machine-id
    ssh-keygen -A >/dev/null
}

write_daemon_json() {
    python3 - <<'EOF'
import json, os, sys
path = "/etc/docker/daemon.json"
try:
    with open(path) as f:
        cfg = json.load(f)
except FileNotFoundError:
    cfg = {}
except ValueError as e:
    print(f"haha-node: {path} is not valid JSON ({e}); rewriting it", file=sys.stderr)
    cfg = {}
for env, key in (("HAHA_LAB_REGISTRY", "insecure-registries"), ("HAHA_LAB_DNS", "dns")):
    if env not in os.environ:
        continue
    values = [v.strip() for v in os.environ[env].split(",") if v.strip()]
    if values:
        cfg[key] = values
    else:
        cfg.pop(key, None)
os.makedirs("/etc/docker", exist_ok=True)
with open(path + ".tmp", "w") as f:
    json.dump(cfg, f, indent=2, sort_keys=True)
    f.write("\n")
os.replace(path + ".tmp", path)
EOF
}

start_dockerd() {
    if [ "$(stat -f -c %T /var/lib/docker 2>/dev/null)" = overlayfs ]; then
        log "WARNING: /var/lib/docker is on overlayfs: mount a volume there"
    fi
    printf '\n=== %s dockerd starting ===\n' "$(date -u +%FT%TZ)" >>"$DOCKERD_LOG"
    dockerd >>"$DOCKERD_LOG" 2>&1 &
    DOCKERD_PID=$!
    DOCKERD_RESTARTS+=("$(date +%s)")
    log "dockerd started (pid $DOCKERD_PID)"
}

start_daemons() {
    if /usr/sbin/sshd -t; then
        /usr/sbin/sshd -E /var/log/sshd.log && log "sshd started"
    else
        log "ERROR: sshd configuration test failed; sshd not started"
    fi

    dbus-daemon --system --fork && log "dbus started"
    avahi-daemon --daemonize && log "avahi-daemon started"

    cron && log "cron started"

    # dockerd first: it comes up in the background while glusterd spends
    # 1-4 s initialising before it daemonizes.
    start_dockerd
    glusterd --pid-file=/run/glusterd.pid && log "glusterd started"
    # keepalived, once haha configured it (as systemd would start an enabled service at boot).
    if [ -f /etc/keepalived/keepalived.conf ]; then
        keepalived --pid=/run/keepalived.pid && log "keepalived started"
    fi
}

# Gluster fstab lines: "server:/volume mountpoint glusterfs options 0 0".
remount_gluster_fstab() {
    local deadline=$(($(date +%s) + 900)) spec mp fstype rest vol pending
    while [ "$(date +%s)" -lt "$deadline" ]; do
        pending=0
        while read -r spec mp fstype rest; do
            case "$spec" in '' | '#'*) continue ;; esac
            [ "$fstype" = glusterfs ] || continue
            mountpoint -q "$mp" && continue
            pending=1
            vol=${spec#*:}
            vol=${vol#/}
            # glusterd must be up and know the volume before mounting.
            gluster --mode=script --timeout=10 volume info "$vol" >/dev/null 2>&1 || continue
            mkdir -p "$mp"
            if timeout 60 mount "$mp" >/dev/null 2>&1; then
                log "mounted $spec on $mp"
            fi
        done </etc/fstab
        [ "$pending" = 0 ] && return 0
        sleep 2
    done
    log "WARNING: gave up restoring Gluster mounts from /etc/fstab after 900 s"
}

# --------------------------------------------------------------- shutdown ---

wait_gone() { # pid seconds
    local i=0
    while kill -0 "$1" 2>/dev/null && [ "$i" -lt "$(($2 * 10))" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    ! kill -0 "$1" 2>/dev/null
}

stop_pidfile() { # pidfile seconds
    local pid
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_gone "$pid" "$2" || kill -KILL "$pid" 2>/dev/null
}

stop_named() { # process-name seconds (only processes of this node's PID namespace)
    local pids pid
    pids=$(pidof "$1") || return 0
    kill -TERM $pids 2>/dev/null
    for pid in $pids; do
        wait_gone "$pid" "$2" || kill -KILL "$pid" 2>/dev/null
    done
}

shutdown() {
    trap '' TERM INT
    log "stopping"
    [ -n "$REMOUNT_PID" ] && kill "$REMOUNT_PID" 2>/dev/null
    # 1. dockerd first: its containers may use the Gluster mounts.
    touch "$STATE/hold-dockerd"
    if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        kill -TERM "$DOCKERD_PID"
        wait_gone "$DOCKERD_PID" 25 || { log "dockerd did not stop; killing"; kill -KILL "$DOCKERD_PID"; }
    fi
    # 2. Gluster FUSE mounts.
    local mp
    for mp in $(awk '$3 == "fuse.glusterfs" { print $2 }' /proc/mounts | sort -r); do
        umount "$mp" 2>/dev/null || umount -l "$mp"
        log "unmounted $mp"
    done
    # 3. keepalived (if haha started it): releases the VIP with a priority-0 advert.
    stop_pidfile /run/keepalived.pid 5
    stop_named keepalived 2
    # 4. Gluster: management daemon, then bricks, self-heal and other clients.
    stop_pidfile /run/glusterd.pid 5
    stop_named glusterfsd 5
    stop_named glusterfs 3
    # 5. The rest.
    avahi-daemon --kill 2>/dev/null
    stop_pidfile /run/crond.pid 2
    stop_pidfile /run/sshd.pid 2
    stop_pidfile /run/dbus/pid 2
    log "stopped"
    exit 0
}

# ------------------------------------------------------------------- main ---

trap shutdown TERM INT
log "starting on $(hostname)"
wipe_stale_state
install_authorized_keys
ensure_identity
write_daemon_json
start_daemons
remount_gluster_fstab &
REMOUNT_PID=$!
touch "$STATE/started"

# Supervise dockerd like systemd's docker.service (Restart=always, at most
# 3 restarts per 60 s). Other daemons are not restarted (as on Debian).
while :; do
    sleep 2 &
    wait $!
    if [ -n "$DOCKERD_PID" ] && ! kill -0 "$DOCKERD_PID" 2>/dev/null && [ ! -e "$STATE/hold-dockerd" ]; then
        now=$(date +%s)
        recent=0
        for t in "${DOCKERD_RESTARTS[@]}"; do [ $((now - t)) -lt 60 ] && recent=$((recent + 1)); done
        if [ "$recent" -le 3 ]; then
            log "dockerd exited; restarting"
            start_dockerd
        else
            log "dockerd keeps exiting; not restarting (see $DOCKERD_LOG)"
            touch "$STATE/hold-dockerd"
        fi
    fi
done
