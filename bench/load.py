"""Servers under gunicorn and load from a second process (wrk, or Python if wrk is missing)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
# One browser: the same User-Agent signs in and then loads the pages, as a real one
# would (the session records who signed in; another agent would make the portal
# rewrite the session cookie on every request, which no browser causes).
USER_AGENT = "hiveo-bench/1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1, allow_redirects=False)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def gunicorn(target: str, env: dict[str, str]):
    """Serve `target` with 2 gthread workers on loopback; yields the base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", str(GUNICORN_WORKERS), "--worker-class", "gthread",
        "--threads", str(GUNICORN_THREADS), "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning", "--keep-alive", "5", target,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def login_session(base_url: str, email: str, password: str) -> requests.Session:
    """A signed-in session whose cookie already carries its CSRF token, as a browser's does."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(base_url + "/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = session.post(base_url + "/login", data={
        "email": email, "password": password, "csrf_token": token}, allow_redirects=False,
        timeout=10)
    if response.status_code != 303:
        raise RuntimeError(f"bench login failed: {response.status_code}")
    session.get(base_url + "/organisations", timeout=30)
    return session


def cookie_after(session: requests.Session, url: str) -> str:
    """The session cookie as a browser holds it after visiting `url`.

    A page may record something in the session (the company one works in): a
    browser keeps the cookie it gets back, so load it with that cookie.
    """
    session.get(url, timeout=30)
    return f"hiveo_session={session.cookies['hiveo_session']}"


_WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def load(url: str, *, cookie: str = "", seconds: float = 5.0,
         connections: int = CONNECTIONS) -> dict:
    """Requests per second and p50/p99 latency (ms) at `connections` concurrent connections."""
    wrk = shutil.which("wrk")
    if wrk:
        # wrk needs a connection per thread.
        command = [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{round(seconds)}s",
                   "--latency",
                   "-H", f"User-Agent: {USER_AGENT}", url]
        if cookie:
            command[1:1] = ["-H", f"Cookie: {cookie}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        latencies = {m.group(1): float(m.group(2)) * _UNITS[m.group(3)]
                     for m in _WRK_LATENCY.finditer(output)}
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        return {"tool": "wrk", "rps": rps, "p50_ms": latencies["50"], "p99_ms": latencies["99"],
                "errors": int(errors.group(1)) if errors else 0}
    command = [sys.executable, "-m", "bench.pyload", url, cookie, str(seconds), str(connections)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return {"tool": "python", **json.loads(output)}
