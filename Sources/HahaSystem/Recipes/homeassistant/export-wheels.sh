#!/bin/sh
# export-wheels.sh CONTEXT_DIR CACHE_DIR
#
# Host-side helper (not part of the image): after a successful
# `DOCKER_BUILDKIT=0 docker build CONTEXT_DIR`, copy the builder stage's complete
# wheelhouse into CACHE_DIR (e.g. /var/cache/haha/wheels), so the next build gets it
# as CONTEXT_DIR/wheels/ and installs everything without PyPI.
# `--target builder` only re-tags layers the full build just cached (a second or two).
# The tag is kept on purpose: removing it would also delete those cached layers.
set -eu
ctx=$1
cache=$2
tag=haha-lab/home-assistant:builder

DOCKER_BUILDKIT=0 docker build -q --target builder -t "$tag" "$ctx" >/dev/null
cid=$(docker create "$tag" /bin/true)
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true' EXIT
mkdir -p "$cache.new"
rm -rf "$cache.new"/*
docker cp "$cid:/wheelhouse/." "$cache.new/"
# Swap in one step so a failed copy never leaves a half-filled cache behind.
rm -rf "$cache.old"
if [ -d "$cache" ]; then mv "$cache" "$cache.old"; fi
mv "$cache.new" "$cache"
rm -rf "$cache.old"
echo "$(ls "$cache" | grep -c '\.whl$') wheels in $cache"
