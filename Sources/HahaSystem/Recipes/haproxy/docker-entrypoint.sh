#!/bin/sh
# Entrypoint of the haha lab HAProxy image, same contract as the official one: options alone
# mean "haproxy <options>", and haproxy always runs as master-worker (-W, reload on SIGUSR2)
# in the foreground (-db).
set -e

case "$1" in
	-*) set -- haproxy "$@" ;;
esac

if [ "$1" = haproxy ]; then
	shift
	set -- haproxy -W -db "$@"
fi

exec "$@"
