"""Where the per-IP sign-in limit counts (issue 12.8).

With `memory://` each worker process counts alone: gunicorn's workers say so
in their log at start-up (gunicorn.conf.py). With Redis the count is shared:
two apps (two workers) against one Redis refuse the attempt beyond the
limit, whichever of them receives it.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hiveo.extensions import db
from tests.helpers import fetch_csrf

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("HIVEO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WARNING = "HIVEO_RATELIMIT_STORAGE_URL is memory://"


def gunicorn_log(tmp_path: Path, workers: int, storage: str) -> str:
    """The log of the portal under gunicorn (started from the checkout, as the README does).

    Read once every worker has loaded the app (its hook runs before it serves)
    and the portal has answered a request.
    """
    env = {
        **os.environ,
        "HIVEO_INSTANCE_DIR": str(tmp_path / "instance"),
        "HIVEO_DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.db'}",
        "HIVEO_RATELIMIT_STORAGE_URL": storage,
    }
    env.pop("GUNICORN_CMD_ARGS", None)
    env.pop("WEB_CONCURRENCY", None)
    log = tmp_path / f"gunicorn-{workers}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers),
             "--bind", "127.0.0.1:0", "--log-level", "info", "app:app"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            answered = False
            while not answered:
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                assert process.poll() is None, log.read_text(errors="replace")
                time.sleep(0.3)
                text = log.read_text(errors="replace")
                port = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
                if port and text.count("Booting worker") >= workers:
                    with contextlib.suppress(requests.RequestException):
                        answered = requests.get(f"http://127.0.0.1:{port.group(1)}/login",
                                                timeout=10).status_code == 200
            # The other workers load the app in parallel: give them as long as the first.
            time.sleep(2)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    return log.read_text(errors="replace")


def test_two_gunicorn_workers_with_memory_storage_warn_at_start_up(tmp_path):
    text = gunicorn_log(tmp_path, 2, "memory://")
    assert "Traceback" not in text, text
    assert text.count(WARNING) == 2, text  # one per worker
    assert "2 times HIVEO_LOGIN_RATE_LIMIT" in text
    assert "redis://127.0.0.1:6379/0" in text


@pytest.mark.parametrize(("workers", "storage"), [(1, "memory://"), (2, REDIS_URL)])
def test_one_worker_or_a_shared_store_does_not_warn(tmp_path, workers, storage):
    text = gunicorn_log(tmp_path, workers, storage)
    assert "Traceback" not in text, text
    assert text.count("Booting worker") == workers, text
    assert WARNING not in text


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url():
    if not redis_reachable():
        pytest.skip(f"REDIS IS NOT REACHABLE at {REDIS_URL}: the shared sign-in rate limit "
                    "is NOT tested (start Redis or set HIVEO_TEST_REDIS_URL)")
    return REDIS_URL


@pytest.fixture
def app_overrides(redis_url):
    return {"RATELIMIT_STORAGE_URI": redis_url, "LOGIN_RATE_LIMIT": "3 per minute"}


def client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_two_workers_share_the_sign_in_limit_in_redis(app, backend, tmp_path, app_overrides):
    from tests.conftest import build_app

    second_worker = build_app(backend, tmp_path, **app_overrides)
    # An address of its own: other runs may use the same Redis at the same time.
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    clients = [client_from(worker, address) for worker in (app, second_worker)]
    try:
        statuses = []
        for attempt in range(4):
            client = clients[attempt % 2]
            token = fetch_csrf(client)
            response = client.post("/login", data={"email": f"u{attempt}@example.com",
                                                   "password": "x", "csrf_token": token})
            statuses.append(response.status_code)
        assert statuses == [422, 422, 422, 429]
        other = client_from(app, f"{address}, another client")
        assert other.post("/login", data={"email": "u@example.com", "password": "x",
                                          "csrf_token": fetch_csrf(other)}).status_code == 422
    finally:
        with second_worker.app_context():
            db.engine.dispose()
