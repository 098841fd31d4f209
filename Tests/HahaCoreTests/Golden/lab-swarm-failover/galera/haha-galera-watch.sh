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
# Runs one statement as root on the server reached with the options that follow it.
sql() {
  local statement=$1; shift
  # The password reaches the client through an option file on a pipe (printf is a builtin): never an argument.
  mariadb --defaults-extra-file=<(printf '[client]\nuser=root\npassword="%s"\n' "$(cat "$MARIADB_ROOT_PASSWORD_FILE" 2>/dev/null)") \
    --connect-timeout=3 -N -B "$@" -e "$statement" 2>/dev/null
}
# Prints the values of the named status variables, "/" between them, of the server reached with the options
# that follow the names; fails when it does not answer or lacks one of them.
show() {
  local names=$1 list=; shift
  for n in $names; do list+="${list:+,}'$n'"; done
  sql "SHOW STATUS WHERE Variable_name IN ($list)" "$@" |
    awk -F'\t' -v names="$names" '{ v[$1] = $2 } END { n = split(names, k, " "); for (i = 1; i <= n; i++) { if (!(k[i] in v)) exit 1; out = out (i > 1 ? "/" : "") v[k[i]] } print out }'
}
# "<cluster status>/<local state>".
ask() { show "wsrep_cluster_status wsrep_local_state_comment" "$@"; }
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
datadir=${HAHA_WATCH_DATADIR:-/var/lib/mysql}
# This member's position, `<uuid>:<seqno>`, as far as the watchdog knows it: from grastate.dat after a clean
# stop, from its data after a crash (below), and from the server once it answers.
position=$(awk '/^uuid:/ { u = $2 } /^seqno:/ { s = $2 } END { if (u != "" && s ~ /^[0-9]+$/) print u ":" s }' "$datadir/grastate.dat" 2>/dev/null)
# The watchdog tells the other members' watchdogs this member's position and phase (`starting`: its server
# does not answer yet; `last`: it left the primary component last and may bootstrap; `bootstrapping`: it
# starts a new primary component, haha up's choice or its own; `outside`; `primary`),
# one line to whoever connects to its node's port 4569. After a power cut of every node no server answers
# SQL until a primary component forms, and the bootstrap below needs every member's position.
state=$(mktemp)
phase=starting
publish() { phase=${1:-$phase}; printf '%s %s\n' "${position:-unknown}" "$phase" > "$state.new" && mv -f "$state.new" "$state"; }
publish
state_port=${HAHA_WATCH_STATE_PORT-4569}
if [ -n "$state_port" ]; then socat -T 2 "TCP-LISTEN:$state_port,reuseaddr,fork" "SYSTEM:cat $state" & fi
# The line the watchdog of the member at <host>:<port> publishes, or nothing.
state_of() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "state\n" >&3 && head -n 1 <&3' _ "${1%:*}" "${1##*:}" 2>/dev/null; }
# The last member to leave the primary component cleanly holds every committed write: Galera wrote
# safe_to_bootstrap: 1 in its grastate.dat (a member that ran since says 0). The others' clean stops took their
# saved views with them, so Galera's own recovery (pc.recovery) cannot form a component again and no member
# would ever start. When no peer has a primary component and every other member's group port answered in
# the last look (they are up, looking for one), this member bootstraps: rule 5 of haha's recovery planner,
# which `haha up` applies with every member's position at hand. Members later in the list wait longer
# before they decide, and then join a component formed meanwhile (two flags: only after a forced recovery).
members=(${HAHA_WATCH_MEMBERS:-172.30.77.11 172.30.77.12 172.30.77.13})
# Where each member's watchdog publishes its state (a test names its own; else each member's node address).
state_addresses=(${HAHA_WATCH_STATE_ADDRESSES:-})
look=${HAHA_WATCH_LOOK:-90}
stagger=${HAHA_WATCH_STAGGER:-30}
# An address answers when something listens on its group port; a test's member may name its own port.
listening() { local port=${HAHA_WATCH_GROUP_PORT:-4567}; [[ $1 == *:* ]] && port=${1##*:}; timeout 2 bash -c "exec 3<>/dev/tcp/${1%%:*}/$port" 2>/dev/null; }
address=
for a in "${args[@]}"; do case "$a" in --wsrep-node-address=*) address=${a#*=} ;; esac; done
if [[ " ${args[*]} " != *" --wsrep-new-cluster "* ]] && grep -qs '^safe_to_bootstrap: *1' "$datadir/grastate.dat"; then
  publish last
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
if [[ " ${args[*]} " == *" --wsrep-new-cluster "* ]]; then publish bootstrapping; else publish starting; fi
if [ -n "$stopping" ]; then exit 143; fi
# A state transfer's pid file left by a member that died during one: every process of that container ended
# with it, but MariaDB's SST script would take whatever process has that pid in this new container for a
# transfer still running and refuse to start one ("previous SST script still running"), at every restart.
rm -f "$datadir/wsrep_sst.pid"
# A member that crashed (a power cut) left `seqno: -1`, and the image starts it from no position at all: the
# component Galera's own recovery then re-forms has no history (group UUID 0) and no member can ever join it
# by state transfer. As MariaDB's galera_recovery does under systemd, the position is read from the data
# (--wsrep-recover) and given to the member. The saved view (gvwstate.dat) stays as it was.
if grep -qs '^seqno: *-1' "$datadir/grastate.dat" && ! grep -qs '^uuid: *00000000-0000-0000-0000-000000000000' "$datadir/grastate.dat"; then
  log=$(mktemp) && chmod 666 "$log"
  [ -f "$datadir/gvwstate.dat" ] && cp -p "$datadir/gvwstate.dat" "$log.view"
  mariadbd --user=mysql --wsrep-recover --log-error="$log" >/dev/null 2>&1
  [ -f "$log.view" ] && [ ! -f "$datadir/gvwstate.dat" ] && cp -p "$log.view" "$datadir/gvwstate.dat"
  position=$(sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:[0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
  rm -f "$log" "$log.view"
  if [ -n "$position" ]; then
    echo "[haha-galera-watch] this member crashed (seqno: -1); its data holds $position: starting from there" >&2
    args+=("--wsrep-start-position=$position")
  else
    echo "[haha-galera-watch] this member crashed (seqno: -1) and --wsrep-recover found no position: starting without one" >&2
  fi
  publish
fi
docker-entrypoint.sh "${args[@]}" &
member=$!
if [ -n "$stopping" ]; then kill -TERM "$member" 2>/dev/null; fi
# A full state transfer runs as a script (wsrep_sst_*) beside the server (the brackets keep grep from
# finding its own command line).
transferring() { grep -qs 'wsrep_ss[t]_' "${HAHA_WATCH_PROC:-/proc}"/[0-9]*/cmdline; }
# Stops the member: TERM, and KILL when it is still running the given seconds later; `status` is how it
# ended. A server waiting for a primary component (it has not opened its data for writes) ignored a TERM for
# a minute on the lab, and one whose join failed after a state transfer hung in its shutdown for 9 minutes.
kill_after=${HAHA_WATCH_KILL_AFTER:-60}
status=
stop_member() {
  kill -TERM "$member" 2>/dev/null
  for ((w = 0; w < $1; w++)); do kill -0 "$member" 2>/dev/null || break; sleep 1 & wait $!; done
  if kill -0 "$member" 2>/dev/null; then
    echo "[haha-galera-watch] the member ignored the stop for $1 s: killing it" >&2
    kill -KILL "$member" 2>/dev/null
  fi
  reap_member
}
# Waits until the member has really ended (a wait that a signal interrupts returns early); `status` is how.
reap_member() {
  wait "$member" 2>/dev/null; status=$?
  while kill -0 "$member" 2>/dev/null; do wait "$member" 2>/dev/null; status=$?; done
}
# No member in a primary component for `nowhere_grace` s: Galera's own recovery (pc.recovery) did not form
# one. It re-forms the last component only when exactly its members meet; after staged power cuts a member
# cut earlier brings an older saved view, and when it comes up at the same time nothing forms. Whether this
# member is the one to bootstrap, as rule 5 of haha's recovery planner says: every other member's watchdog
# answers, none is in a primary component or about to bootstrap, every position is known and of one history
# (a member with none, which a full transfer will fill, aside), and no member holds more committed writes
# (the first in the list goes on a tie). Prints why not.
nowhere_grace=${HAHA_WATCH_NO_PRIMARY_GRACE:-30}
# Every other member's published line by its place in the list (empty: its watchdog did not answer), read once
# per look and judged by all_waiting, then by most_advanced.
peer_line=()
read_peers() {
  local i host
  peer_line=()
  for i in "${!members[@]}"; do
    host=${members[$i]%%:*}
    [ "$host" != "$address" ] || continue
    peer_line[$i]=$(state_of "${state_addresses[$i]:-$host:$state_port}")
  done
}
# Whether every other member's watchdog answered and none is in, or starting, a primary component; prints why not.
all_waiting() {
  local i host state
  for i in "${!members[@]}"; do
    host=${members[$i]%%:*}
    [ "$host" != "$address" ] || continue
    if [ -z "${peer_line[$i]}" ]; then echo "the watchdog of the member at $host does not answer"; return 1; fi
    state=${peer_line[$i]##* }
    case "$state" in primary | last | bootstrapping) echo "the member at $host is $state"; return 1 ;; esac
  done
}
# Whether this member, among members all_waiting found waiting, holds the most committed writes; prints why not.
most_advanced() {
  local uuid=${position%:*} seqno=${position##*:} earlier=1 ahead= i host p u q
  if ! [[ $seqno =~ ^[0-9]+$ ]]; then echo "this member's position is unknown: leaving it to haha up"; return 1; fi
  for i in "${!members[@]}"; do
    host=${members[$i]%%:*}
    if [ "$host" = "$address" ]; then earlier=; continue; fi
    p=${peer_line[$i]%% *}
    u=${p%:*}; q=${p##*:}
    [ "$u" != 00000000-0000-0000-0000-000000000000 ] || continue
    if [ "$u" != "$uuid" ] || ! [[ $q =~ ^[0-9]+$ ]]; then
      echo "the member at $host is at $p, this one at $position: leaving it to haha up"; return 1
    fi
    if [ "$q" -gt "$seqno" ] || { [ -n "$earlier" ] && [ "$q" -eq "$seqno" ]; }; then ahead="$host ($p)"; fi
  done
  if [ -n "$ahead" ]; then echo "the member at $ahead bootstraps, not this one ($position)"; return 1; fi
}
outside=0
quiet=0
nowhere=0
waiting_why=
while kill -0 "$member" 2>/dev/null; do
  sleep "$every" & wait $!
  [ -z "$stopping" ] || break
  kill -0 "$member" 2>/dev/null || break
  if own=$(show "wsrep_local_state_uuid wsrep_last_committed wsrep_cluster_status wsrep_local_state_comment" --protocol=socket); then
    quiet=0
    IFS=/ read -r uuid committed mine <<< "$own"
    if [[ $committed =~ ^[0-9]+$ ]] && [ "$uuid" != 00000000-0000-0000-0000-000000000000 ]; then position=$uuid:$committed; fi
    case "$mine" in
      Primary/*) publish primary; outside=0; nowhere=0; continue ;;
      */Join*|*/Donor*) publish outside; outside=0; nowhere=0; continue ;;
    esac
    publish outside
  else
    mine=
    outside=0
    publish starting
    if transferring; then quiet=0; nowhere=0; continue; fi
  fi
  if ! theirs=$(ask -h "$peers") || [[ $theirs != Primary/* ]]; then
    outside=0; quiet=0
    # Counted only while every other member's watchdog answers and none is in a primary component: when the
    # last member arrives, Galera's own recovery may still form one within seconds (seen on the lab and in CI
    # after a power cut of every node, when a bootstrap 2 s after the last arrival made a second component).
    read_peers
    if why=$(all_waiting); then
      nowhere=$((nowhere + every)); waiting_why=
    else
      nowhere=0
      [ "$why" = "$waiting_why" ] || echo "[haha-galera-watch] no primary component here; not counting: $why" >&2
      waiting_why=$why
    fi
    if [ "$nowhere" -ge "$nowhere_grace" ]; then
      nowhere=0
      if why=$(most_advanced); then
        echo "[haha-galera-watch] no primary component anywhere for $nowhere_grace s, every member is up, and this one holds the most committed writes ($position): restarting it to bootstrap" >&2
        publish bootstrapping
        stop_member "${HAHA_WATCH_RESTART_KILL_AFTER:-10}"
        [ -z "$stopping" ] || exit "$status"
        # Galera bootstraps only a member marked safe; the saved view goes (a member killed keeps it, and
        # would come back under its old identity, which the others have not evicted yet: on the lab they then
        # failed to merge with it, "failed to form singleton view").
        sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$datadir/grastate.dat"
        rm -f "$datadir/gvwstate.dat"
        next=()
        for a in "${args[@]}"; do case "$a" in --wsrep-start-position=*|--wsrep-new-cluster) ;; *) next+=("$a") ;; esac; done
        next+=("--wsrep-start-position=$position")
        # A component that formed during the stop is joined, never a second one started beside it: asked
        # through the alias and, once their phases are fresh, of every watchdog (the alias lists a member
        # only once its health check passed).
        sleep $((every + 1)) & wait $!
        read_peers
        if theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; then
          echo "[haha-galera-watch] not bootstrapping: $peers has a primary component now ($theirs); joining it" >&2
          publish starting
        elif ! why=$(all_waiting); then
          echo "[haha-galera-watch] not bootstrapping: $why; joining" >&2
          publish starting
        else
          next+=(--wsrep-new-cluster)
        fi
        docker-entrypoint.sh "${next[@]}" &
        member=$!
      else
        echo "[haha-galera-watch] no primary component anywhere for $nowhere_grace s; $why" >&2
      fi
    fi
    continue
  fi
  nowhere=0
  if [ -n "$mine" ]; then
    outside=$((outside + every)); waited=$outside; limit=$grace; what="outside the primary component ($mine)"
  else
    quiet=$((quiet + every)); waited=$quiet; limit=$quiet_grace; what="not answering, no state transfer running"
  fi
  echo "[haha-galera-watch] $what for $waited s while $peers has one ($theirs)" >&2
  if [ "$waited" -ge "$limit" ]; then
    echo "[haha-galera-watch] stopping this member; Swarm starts it again and it rejoins" >&2
    stop_member "$kill_after"
    exit "$status"
  fi
done
reap_member
exit "$status"
