#!/bin/bash
# haha's watchdog for one Galera member, rendered by haha (a Swarm config; edit haha.yaml, not this).
# Restarts a member that sits outside the primary component while the others have one (see GaleraFiles).
grace=${HAHA_WATCH_GRACE:-60}
quiet_grace=${HAHA_WATCH_QUIET_GRACE:-180}
every=${HAHA_WATCH_INTERVAL:-5}
peers=${HAHA_WATCH_PEERS:-galera}
# A stop (docker stop sends TERM) is passed on to the member, and one that comes before it started means
# it never starts: the trap is set before anything else runs.
member=
stopping=
trap 'stopping=1; [ -n "$member" ] && kill -TERM "$member" 2>/dev/null' TERM INT
# Prints "<cluster status>/<local state>" of the server reached with the given options, or fails.
ask() {
  # The password reaches the client through an option file on a pipe (printf is a builtin): never an argument.
  mariadb --defaults-extra-file=<(printf '[client]\nuser=root\npassword="%s"\n' "$(cat "$MARIADB_ROOT_PASSWORD_FILE" 2>/dev/null)") \
    --connect-timeout=3 -N -B "$@" \
    -e "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_local_state_comment')" 2>/dev/null |
    awk -F'\t' '{ v[$1] = $2 } END { if (!("wsrep_cluster_status" in v)) exit 1; print v["wsrep_cluster_status"] "/" v["wsrep_local_state_comment"] }'
}
# Never a second primary component: a member told to bootstrap (--wsrep-new-cluster) whose peers already
# have one joins them instead (a bootstrapper that restarted after the others went on without it).
args=()
for a in "$@"; do
  if [ "$a" = --wsrep-new-cluster ] && theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; then
    echo "[haha-galera-watch] not bootstrapping: $peers already has a primary component ($theirs); joining it" >&2
    continue
  fi
  args+=("$a")
done
if [ -n "$stopping" ]; then exit 143; fi
# A state transfer's pid file left by a member that died during one: every process of that container ended
# with it, but MariaDB's SST script would take whatever process has that pid in this new container for a
# transfer still running and refuse to start one ("previous SST script still running"), at every restart.
rm -f "${HAHA_WATCH_DATADIR:-/var/lib/mysql}/wsrep_sst.pid"
docker-entrypoint.sh "${args[@]}" &
member=$!
if [ -n "$stopping" ]; then kill -TERM "$member" 2>/dev/null; fi
# A full state transfer runs as a script (wsrep_sst_*) beside the server (the brackets keep grep from
# finding its own command line).
transferring() { grep -qs 'wsrep_ss[t]_' "${HAHA_WATCH_PROC:-/proc}"/[0-9]*/cmdline; }
outside=0
quiet=0
while kill -0 "$member" 2>/dev/null; do
  sleep "$every" & wait $!
  [ -z "$stopping" ] || break
  kill -0 "$member" 2>/dev/null || break
  if mine=$(ask --protocol=socket); then
    quiet=0
    case "$mine" in
      Primary/*|*/Join*|*/Donor*) outside=0; continue ;;
    esac
  else
    outside=0
    if transferring; then quiet=0; continue; fi
  fi
  theirs=$(ask -h "$peers") || { outside=0; quiet=0; continue; }
  case "$theirs" in Primary/*) ;; *) outside=0; quiet=0; continue ;; esac
  if [ -n "$mine" ]; then
    outside=$((outside + every)); waited=$outside; limit=$grace; what="outside the primary component ($mine)"
  else
    quiet=$((quiet + every)); waited=$quiet; limit=$quiet_grace; what="not answering, no state transfer running"
  fi
  echo "[haha-galera-watch] $what for $waited s while $peers has one ($theirs)" >&2
  if [ "$waited" -ge "$limit" ]; then
    echo "[haha-galera-watch] stopping this member; Swarm starts it again and it rejoins" >&2
    kill -TERM "$member" 2>/dev/null
    outside=0; quiet=0
  fi
done
# A wait that a signal interrupts returns early: wait again until the member has really ended.
wait "$member"; status=$?
while kill -0 "$member" 2>/dev/null; do wait "$member"; status=$?; done
exit "$status"
