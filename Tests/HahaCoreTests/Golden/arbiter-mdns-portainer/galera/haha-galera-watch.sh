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
# The last member to leave the primary component cleanly holds every committed write: Galera wrote
# safe_to_bootstrap: 1 in its grastate.dat (a member that ran since says 0). The others' clean stops took their
# saved views with them, so Galera's own recovery (pc.recovery) cannot form a component again and no member
# would ever start. When no peer has a primary component and every other member's group port answered in
# the last look (they are up, looking for one), this member bootstraps: rule 5 of haha's recovery planner,
# which `haha up` applies with every member's position at hand. Members later in the list wait longer
# before they decide, and then join a component formed meanwhile (two flags: only after a forced recovery).
members=(${HAHA_WATCH_MEMBERS:-10.1.0.11 10.1.0.12})
look=${HAHA_WATCH_LOOK:-90}
stagger=${HAHA_WATCH_STAGGER:-30}
# An address answers when something listens on its group port; a test's member may name its own port.
listening() { local port=${HAHA_WATCH_GROUP_PORT:-4567}; [[ $1 == *:* ]] && port=${1##*:}; timeout 2 bash -c "exec 3<>/dev/tcp/${1%%:*}/$port" 2>/dev/null; }
address=
for a in "${args[@]}"; do case "$a" in --wsrep-node-address=*) address=${a#*=} ;; esac; done
if [[ " ${args[*]} " != *" --wsrep-new-cluster "* ]] && grep -qs '^safe_to_bootstrap: *1' "${HAHA_WATCH_DATADIR:-/var/lib/mysql}/grastate.dat"; then
  others=(); index=0
  for m in "${members[@]}"; do
    if [ "${m%%:*}" = "$address" ]; then index=${#others[@]}; else others+=("$m"); fi
  done
  declare -A seen=()
  for ((waited = 0; waited < look && ${#others[@]} > 0; waited += 2)); do
    [ -z "$stopping" ] || break
    if theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; then break; fi
    for m in "${others[@]}"; do [ -n "${seen[$m]}" ] || ! listening "$m" || seen[$m]=1; done
    if [ "${#seen[@]}" -ge "${#others[@]}" ]; then
      sleep $((index * stagger)) & wait $!
      if [ -z "$stopping" ] && ! { theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; }; then
        echo "[haha-galera-watch] this member left the primary component last (safe_to_bootstrap: 1), no peer has one and every other member is up (${others[*]}): bootstrapping" >&2
        args+=(--wsrep-new-cluster)
      fi
      break
    fi
    sleep 2 & wait $!
  done
fi
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
stopped_at=
kill_after=${HAHA_WATCH_KILL_AFTER:-60}
while kill -0 "$member" 2>/dev/null; do
  sleep "$every" & wait $!
  [ -z "$stopping" ] || break
  kill -0 "$member" 2>/dev/null || break
  if [ -n "$stopped_at" ]; then
    # Stopped, and still running: a server whose join failed after a state transfer can hang in its shutdown.
    if [ $((SECONDS - stopped_at)) -ge "$kill_after" ]; then
      echo "[haha-galera-watch] the member ignored the stop for $((SECONDS - stopped_at)) s: killing it" >&2
      kill -KILL "$member" 2>/dev/null
    fi
    continue
  fi
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
    stopped_at=$SECONDS
  fi
done
# A wait that a signal interrupts returns early: wait again until the member has really ended.
wait "$member"; status=$?
while kill -0 "$member" 2>/dev/null; do wait "$member"; status=$?; done
exit "$status"
