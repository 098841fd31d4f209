#!/bin/sh
# haha's broker guard for the cluster "haha", rendered by haha (a Swarm config; edit haha.yaml, not this).
# Runs the broker (the arguments) only while this node's fence holds Home Assistant's lease: the fence keeps
# $flag fresh every second while it does. Usage: haha-broker.sh COMMAND [ARG...]
flag=${HAHA_BROKER_FLAG:-/haha/run/active}
fresh=${HAHA_BROKER_FRESH:-3}
marker=${HAHA_BROKER_MARKER:-/tmp/haha-broker-running}
data=${HAHA_BROKER_DATA:-/mosquitto/data}
broker=
stopping=
unreadable=
trap 'stopping=1' TERM INT
log() { echo "[haha-broker] $*"; }
active() {
  changed=$(stat -c %Y "$flag" 2>/dev/null) || return 1
  [ $(($(date +%s) - changed)) -le "$fresh" ]
}
# Mosquitto saves its retained messages as it stops; one that hangs (a volume without its quorum) is killed after 5 s.
stop_broker() {
  [ -n "$broker" ] || return 0
  rm -f "$marker"
  kill -TERM "$broker" 2>/dev/null
  waited=0
  while kill -0 "$broker" 2>/dev/null && [ "$waited" -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
  kill -KILL "$broker" 2>/dev/null
  wait "$broker" 2>/dev/null
  broker=
}
# Mosquitto starts with no retained message when it cannot open its file, whatever the error, and its next save
# replaces the file: it starts only when the volume lists its data and reads the file it lists (or lists none).
readable() {
  listing=$(timeout 2 ls -a "$data" 2>/dev/null) || return 1
  printf '%s\n' "$listing" | grep -qx mosquitto.db || return 0
  timeout 2 head -c 15 "$data/mosquitto.db" >/dev/null 2>&1
}
rm -f "$marker"
log "standing by: the broker runs on the node whose fence holds the lease"
while [ -z "$stopping" ]; do
  if active; then
    if [ -n "$broker" ] && ! kill -0 "$broker" 2>/dev/null; then
      wait "$broker"
      log "the broker exited with $?: starting it again in 1 s"
      broker=
      rm -f "$marker"
      sleep 1
    elif [ -z "$broker" ] && ! readable; then
      [ -n "$unreadable" ] || log "this node holds the lease, but $data or its mosquitto.db cannot be read: waiting"
      unreadable=1
    elif [ -z "$broker" ]; then
      unreadable=
      log "this node holds the lease: starting the broker"
      "$@" &
      broker=$!
      touch "$marker"
    fi
  elif [ -n "$broker" ]; then
    log "this node no longer holds the lease: stopping the broker"
    stop_broker
  fi
  sleep 0.2
done
stop_broker
exit 0
