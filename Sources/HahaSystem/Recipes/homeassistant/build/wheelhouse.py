#!/usr/bin/env python3
"""Make WHEELHOUSE hold a wheel for every distribution installed in this venv.

Run with the venv's python after the warm-up. Distributions Home Assistant installed
at start-up (integration requirements) are fetched/built with `pip wheel --no-deps`;
the pinned list is written to WHEELHOUSE/installed.txt, which lets the next build
install everything offline. Stale wheels (versions no longer installed) are removed
so the cache does not grow without bound.
"""

import importlib.metadata
import os
import subprocess
import sys

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

SKIP = {"pip"}  # provided by the venv itself


def main(wheelhouse: str) -> None:
    have: dict[str, set[Version]] = {}
    files: dict[str, list[tuple[Version, str]]] = {}
    for fname in os.listdir(wheelhouse):
        if fname.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(fname)
            have.setdefault(name, set()).add(version)
            files.setdefault(name, []).append((version, fname))

    installed: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name not in SKIP:
            installed[name] = dist.version

    missing = sorted(
        f"{name}=={version}"
        for name, version in installed.items()
        if Version(version) not in have.get(name, set())
    )
    if missing:
        print(f"[wheelhouse] adding {len(missing)}: {' '.join(missing)}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
             "--wheel-dir", wheelhouse, "--find-links", wheelhouse, *missing],
            check=True,
        )

    stale = [
        fname
        for name, entries in files.items()
        for version, fname in entries
        if name not in SKIP and name in installed and Version(installed[name]) != version
    ]
    for fname in stale:
        os.remove(os.path.join(wheelhouse, fname))
    if stale:
        print(f"[wheelhouse] removed {len(stale)} stale wheels", flush=True)

    with open(os.path.join(wheelhouse, "installed.txt"), "w") as fh:
        fh.write("# Every distribution of the image's venv (written by wheelhouse.py).\n")
        for name in sorted(installed):
            fh.write(f"{name}=={installed[name]}\n")
    print(f"[wheelhouse] {len(installed)} distributions pinned in installed.txt", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
