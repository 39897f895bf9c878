"""The per-address sign-in lock under parallel attempts (issue 12.1).

Sixteen wrong passwords for one address, sent at once through a real
threaded HTTP server, must not all be checked: the count is one atomic
statement, so exactly LOGIN_MAX_FAILURES of them reach the password check
and every attempt is counted. Runs on SQLite and, with
HIVEO_TEST_DATABASE_URL, on PostgreSQL (where the race was found).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update
from werkzeug.serving import make_server

from hiveo.extensions import db
from hiveo.models import LoginThrottle, utcnow
from tests.helpers import PASSWORD, login

ATTEMPTS = 16
MAX_FAILURES = 5
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def app_overrides():
    # The per-IP limit would refuse some of the attempts first: every one comes from loopback.
    return {"LOGIN_RATE_LIMIT": "1000 per minute", "LOGIN_MAX_FAILURES": MAX_FAILURES}


@pytest.fixture
def server_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def stored_count(app, address: str) -> int | None:
    with app.app_context():
        count = db.session.scalar(select(LoginThrottle.failures)
                                  .where(LoginThrottle.email == address))
        db.session.remove()
        return count


@pytest.mark.parametrize("address", ["alice@example.com", "ghost@example.com"])
def test_sixteen_parallel_wrong_passwords_check_five_and_count_sixteen(app, cast, server_url,
                                                                       address):
    sessions = []
    for _ in range(ATTEMPTS):
        session = requests.Session()
        page = session.get(f"{server_url}/login", timeout=30)
        sessions.append((session, _CSRF.search(page.text).group(1)))
    start = threading.Barrier(ATTEMPTS, timeout=30)
    statuses: Counter[int] = Counter()
    errors: list[BaseException] = []

    def attempt(session: requests.Session, token: str) -> None:
        try:
            start.wait()
            answer = session.post(f"{server_url}/login", timeout=60, allow_redirects=False,
                                  data={"email": address, "password": "wrong password",
                                        "csrf_token": token})
            statuses[answer.status_code] += 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=pair) for pair in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not errors, errors
    # Exactly the first five were checked against a password; the rest were refused unchecked.
    assert statuses == {422: MAX_FAILURES, 429: ATTEMPTS - MAX_FAILURES}
    assert stored_count(app, address) == ATTEMPTS
    # Locked for the right password too, until the window ends.
    client = app.test_client()
    assert login(client, address, PASSWORD).status_code == 429


def test_the_window_starts_at_the_first_attempt_and_then_starts_again(app, cast):
    client = app.test_client()
    for _ in range(MAX_FAILURES):
        assert login(client, cast.alice, "wrong password").status_code == 422
    assert login(client, cast.alice).status_code == 429
    window = app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    with app.app_context():
        # The first attempt was a moment more than a window ago: the lock is over.
        db.session.execute(update(LoginThrottle).values(
            window_started_at=utcnow() - timedelta(seconds=window + 1)))
        db.session.commit()
    assert login(client, cast.alice, "wrong password").status_code == 422
    assert stored_count(app, cast.alice) == 1
    assert login(client, cast.alice).status_code == 303
    assert stored_count(app, cast.alice) is None


def test_attempts_inside_the_window_do_not_move_its_start(app, cast):
    client = app.test_client()
    login(client, cast.bob, "wrong password")
    with app.app_context():
        first = db.session.scalar(select(LoginThrottle.window_started_at))
        db.session.remove()
    for _ in range(3):
        login(client, cast.bob, "wrong password")
    with app.app_context():
        row = db.session.scalars(select(LoginThrottle)).one()
        assert (row.failures, row.window_started_at) == (4, first)
