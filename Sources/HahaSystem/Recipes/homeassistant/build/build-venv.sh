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

T0=$(date +%s)
say() { printf '[build-venv +%ss] %s\n' "$(($(date +%s) - T0))" "$*"; }

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

if [ -n "${HA_LANGUAGES:-}" ]; then
	say "keeping backend translations for: en $HA_LANGUAGES"
	"$PY" - "en $HA_LANGUAGES" "$VENV" <<'PY'
import glob, os, sys
keep = set(sys.argv[1].split())
gone = 0
for path in glob.glob(sys.argv[2] + "/lib/python3*/site-packages/homeassistant/components/*/translations/*.json"):
    if os.path.basename(path)[:-5] not in keep:
        os.remove(path)
        gone += 1
print(f"[build-venv] removed {gone} translation files")
PY
fi

say "warm-up run of Home Assistant"
UV_FIND_LINKS="$WH" "$PY" /tmp/build/warmup.py

say "completing the wheelhouse"
"$PY" /tmp/build/wheelhouse.py "$WH"

# Byte-compile everything except the ~1,400 integrations: those the configuration
# loads already have their .pyc from the warm-up; compiling all the others would cost
# about a minute of build time and ~100 MB for code haha never runs (upstream compiles
# them all; an integration loaded later is compiled on first import).
say "byte-compiling the venv (integrations: only those the warm-up loaded)"
"$PY" -m compileall -q -j 0 -x '/homeassistant/components/' \
	"$VENV/lib/python3"*/site-packages >/dev/null 2>&1 || true
# The venv's pip stays (pip list/show for debugging); build leftovers go.
rm -rf /root/.cache /tmp/uv-cache "$VENV"/share/man
say "done: $("$PY" -m uv pip list --quiet 2>/dev/null | tail -n +3 | wc -l) packages in $VENV"
