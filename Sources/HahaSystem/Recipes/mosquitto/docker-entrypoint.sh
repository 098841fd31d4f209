#!/bin/sh
# Entrypoint of the haha lab Mosquitto image: like the official image, hand /mosquitto to
# the broker's user when started as root (mosquitto drops to that user after reading its
# config), then run the command. Read-only mounts under /mosquitto are left as they are.
set -e

if [ "$(id -u)" = 0 ] && [ -d /mosquitto ]; then
	chown -R mosquitto:mosquitto /mosquitto 2>/dev/null || true
fi

exec "$@"
