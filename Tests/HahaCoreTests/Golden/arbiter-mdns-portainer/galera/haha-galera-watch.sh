#!/bin/bash
# haha's watchdog for one Galera member, rendered by haha (a Swarm config; edit haha.yaml, not this).
# Restarts a member that sits outside the primary component while the others have one (see GaleraFiles).
grace=${HAHA_WATCH_GRACE:-60}
every=${HAHA_WATCH_INTERVAL:-5}
peers=${HAHA_WATCH_PEERS:-galera}
docker-entrypoint.sh "$@" &
member=$!
trap 'kill -TERM "$member" 2>/dev/null' TERM INT
# Prints "<cluster status>/<local state>" of the server reached with the given options, or fails.
ask() {
  mariadb -uroot -p"$(cat "$MARIADB_ROOT_PASSWORD_FILE" 2>/dev/null)" --connect-timeout=3 -N -B "$@" \
    -e "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_local_state_comment')" 2>/dev/null |
    awk -F'\t' '{ v[$1] = $2 } END { if (!("wsrep_cluster_status" in v)) exit 1; print v["wsrep_cluster_status"] "/" v["wsrep_local_state_comment"] }'
}
outside=0
while kill -0 "$member" 2>/dev/null; do
  sleep "$every" & wait $!
  kill -0 "$member" 2>/dev/null || break
  mine=$(ask --protocol=socket) || { outside=0; continue; }
  case "$mine" in
    Primary/*|*/Join*|*/Donor*) outside=0; continue ;;
  esac
  theirs=$(ask -h "$peers") || { outside=0; continue; }
  case "$theirs" in Primary/*) ;; *) outside=0; continue ;; esac
  outside=$((outside + every))
  echo "[haha-galera-watch] outside the primary component for $outside s ($mine) while $peers has one ($theirs)" >&2
  if [ "$outside" -ge "$grace" ]; then
    echo "[haha-galera-watch] stopping this member; Swarm starts it again and it rejoins" >&2
    kill -TERM "$member" 2>/dev/null
    outside=0
  fi
done
wait "$member"
