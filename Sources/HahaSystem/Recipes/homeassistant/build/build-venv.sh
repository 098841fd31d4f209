#!/bin/sh
# Builder stage only: creates the venv /opt/hass with Home Assistant and everything its
# configured integrations need, and leaves a complete wheelhouse in /wheelhouse for the
# next build (export it with ../export-wheels.sh).
#
#   warm path: /wheelhouse/installed.txt (written by a previous build) pins every
#              package of the venv and all wheels are there -> install offline.
#   cold path: anything missing -> `pip wheel` fetches/builds what the wheelhouse lacks
#              from PyPI (sdists are compiled once, here, and kept as wheels).
# Then the warm-up (warmup.py) starts Home Assistant with haha's configuration so it
# installs its integration requirements, and wheelhouse.py adds those to /wheelhouse.
set -eu

VENV=/opt/hass
WH=/wheelhouse
REQ=/tmp/build/requirements.txt
PY="$VENV/bin/python3"

say() { printf '[build-venv] %s\n' "$*"; }

python3 -m venv "$VENV"
# uv (a Home Assistant dependency, also what HA uses to install integration
# requirements) does the installing; pip is only used to make wheels.
"$PY" -m pip install --quiet --no-index --find-links "$WH" uv 2>/dev/null ||
	"$PY" -m pip install --quiet --find-links "$WH" uv

offline_ok=0
if [ -s "$WH/installed.txt" ]; then
	say "wheelhouse has installed.txt: trying an offline install"
	if "$PY" -m uv pip install --quiet --offline --no-index --find-links "$WH" \
		-r "$REQ" -r "$WH/installed.txt"; then
		offline_ok=1
	else
		say "offline install failed (stale or incomplete wheelhouse): falling back to PyPI"
	fi
fi
if [ "$offline_ok" -eq 0 ]; then
	say "pip wheel: filling the wheelhouse from PyPI"
	"$PY" -m pip wheel --quiet --wheel-dir "$WH" --find-links "$WH" -r "$REQ"
	"$PY" -m uv pip install --quiet --offline --no-index --find-links "$WH" -r "$REQ"
fi

say "warm-up run of Home Assistant"
UV_FIND_LINKS="$WH" "$PY" /tmp/build/warmup.py

say "completing the wheelhouse"
"$PY" /tmp/build/wheelhouse.py "$WH"

# Byte-compile everything once (hash-based pycs that are never re-validated: the
# image is immutable), so the first start does not compile ~thousands of modules.
say "byte-compiling the venv"
"$PY" -m compileall -q -f -j 0 --invalidation-mode unchecked-hash \
	"$VENV/lib/python3"*/site-packages >/dev/null
# The venv's pip stays (pip list/show for debugging); build leftovers go.
rm -rf /root/.cache "$VENV"/share/man
say "done: $("$PY" -m uv pip list --quiet 2>/dev/null | tail -n +3 | wc -l) packages in $VENV"
