#!/usr/bin/env python3
"""Build-time warm-up of Home Assistant (builder stage only).

Starts `python -m homeassistant` (without --skip-pip) on a scratch config dir holding
the configuration haha renders, so Home Assistant installs the requirements of every
integration that configuration loads; then exercises the paths haha drives over HTTP
(onboarding user -> auth code -> token, opening an MQTT config flow) so their code and
requirements are loaded too; then stops it with SIGTERM.

If the first run had to install anything, a second run checks that nothing is left to
install (uv forced offline). The build fails if Home Assistant does not reach RUNNING,
exits with a non-zero code, or logs "Unable to install".
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = "http://127.0.0.1:8123"
CLIENT_ID = "http://haha.local/"

# Exactly what haha renders (with homeAssistant.hostNetwork, which adds the LAN's
# discovery: zeroconf, ssdp, dhcp), plus `logger:` (loaded in every setup anyway, no
# requirements) so the install attempts appear in the log at INFO level.
CONFIGURATION = """\
homeassistant:
  name: Home
  time_zone: UTC
frontend:
config:
history:
logbook:
system_health:
recorder:
  db_url: sqlite:////tmp/warmup.db
mqtt:
  sensor:
    - name: warmup
      state_topic: warmup/state
zeroconf:
ssdp:
dhcp:
logger:
  default: info
"""


def log(msg: str) -> None:
    print(f"[warmup] {msg}", flush=True)


def call(method, path, body=None, token=None, form=False):
    """HTTP request to the local Home Assistant; returns (status, parsed body)."""
    headers = {}
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_for(what, check, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Home Assistant exited with {proc.returncode} while waiting for {what}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def run(config_dir, env, token, exercise):
    logfile = os.path.join(config_dir, "warmup-run.log")
    started = time.monotonic()
    with open(logfile, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "homeassistant", "--config", config_dir, "--log-no-color"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    try:
        wait_for("/api/ to answer 401", lambda: call("GET", "/api/")[0] == 401, proc, 900)
        log(f"/api/ answered 401 after {time.monotonic() - started:.1f}s")
        if token is None:
            # Onboarding: first user -> auth code -> access token.
            status, body = call("POST", "/api/onboarding/users", {
                "client_id": CLIENT_ID, "name": "Warmup", "username": "warmup",
                "password": "warmup-password", "language": "en"})
            if status != 200:
                raise SystemExit(f"onboarding/users: {status} {body}")
            status, body = call("POST", "/auth/token", {
                "grant_type": "authorization_code", "code": body["auth_code"],
                "client_id": CLIENT_ID}, form=True)
            if status != 200:
                raise SystemExit(f"auth/token: {status} {body}")
            token = body["access_token"]

        def running():
            status, body = call("GET", "/api/config", token=token)
            return status == 200 and body.get("state") == "RUNNING"

        wait_for("state RUNNING", running, proc, 900)
        log(f"RUNNING after {time.monotonic() - started:.1f}s")
        if exercise:
            status, body = call("POST", "/api/config/config_entries/flow",
                                {"handler": "mqtt"}, token=token)
            if status != 200 or body.get("type") != "form":
                raise SystemExit(f"mqtt config flow: {status} {body}")
            log(f"mqtt config flow opened at step {body.get('step_id')!r}")
            call("DELETE", f"/api/config/config_entries/flow/{body['flow_id']}", token=token)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=240)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    with open(logfile) as fh:
        text = fh.read()
    if proc.returncode != 0:
        sys.stdout.write(text[-6000:])
        raise SystemExit(f"Home Assistant exited with {proc.returncode} after SIGTERM")
    if "Unable to install" in text:
        sys.stdout.write(text[-6000:])
        raise SystemExit("Home Assistant could not install a requirement")
    installs = [line.split("Attempting install of ", 1)[1].strip()
                for line in text.splitlines() if "Attempting install of " in line]
    return token, installs


def main():
    config_dir = tempfile.mkdtemp(prefix="ha-warmup-")
    with open(os.path.join(config_dir, "configuration.yaml"), "w") as fh:
        fh.write(CONFIGURATION)
    env = dict(os.environ)
    token, installs = run(config_dir, env, None, exercise=True)
    log(f"installed at start-up: {', '.join(installs) or 'nothing'}")
    if installs:
        env["UV_OFFLINE"] = "1"
        _, again = run(config_dir, env, token, exercise=True)
        if again:
            raise SystemExit(f"second run still installed: {', '.join(again)}")
        log("second run: nothing left to install")
    shutil.rmtree(config_dir)
    for leftover in ("/tmp/warmup.db", "/tmp/warmup.db-wal", "/tmp/warmup.db-shm"):
        if os.path.exists(leftover):
            os.remove(leftover)


if __name__ == "__main__":
    main()
