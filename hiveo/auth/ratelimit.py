"""The per-IP limit on sign-in attempts, asked only where it applies.

Flask-Limiter ran its hooks before, after and at the end of every request of
the portal to limit one (POST /login): about 60 µs on every page, a tenth of a
cached page's time (bench/, docs/performance.md). Its engine, the `limits`
library, is used here directly, with the same storage URLs (memory://,
redis://...) and the same fixed-window strategy.

The per-address counter of failures (LoginThrottle) is separate: it also
covers attempts spread over many IPs.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timedelta

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import bindparam, text
from werkzeug.exceptions import TooManyRequests

from ..extensions import db
from ..models import UTCDateTime, utcnow

_EXTENSION = "hiveo_login_rate_limit"


@functools.cache
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def check_login_rate() -> None:
    """Count one sign-in attempt from this IP; 429 (with Retry-After) beyond the limit."""
    limiter: FixedWindowRateLimiter = current_app.extensions[_EXTENSION]
    limit = _limit(current_app.config["LOGIN_RATE_LIMIT"])
    address = request.remote_addr or "unknown"
    if limiter.hit(limit, "login", address):
        return
    reset_at = limiter.get_window_stats(limit, "login", address).reset_time
    error = TooManyRequests()
    error.retry_after = max(1, int(reset_at - time.time()) + 1)
    raise error


def per_worker_warning(workers: int, storage_uri: str) -> str | None:
    """What to tell the operator when each of several processes would count on its own."""
    if workers <= 1 or not storage_uri.startswith("memory://"):
        return None
    return (
        f"HIVEO_RATELIMIT_STORAGE_URL is memory:// and {workers} worker processes serve the "
        f"portal: each counts sign-in attempts on its own, so a client gets up to {workers} "
        "times HIVEO_LOGIN_RATE_LIMIT. Set HIVEO_RATELIMIT_STORAGE_URL=redis://127.0.0.1:6379/0 "
        "(or another shared store)."
    )


def init_rate_limit(app: Flask) -> None:
    app.extensions[_EXTENSION] = FixedWindowRateLimiter(
        storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))


_COUNT_SQL = text(
    "INSERT INTO rate_counters (key, window_started_at, count) VALUES (:key, :now, 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_counters.window_started_at <= :cutoff THEN 1 "
    "ELSE rate_counters.count + 1 END, "
    "window_started_at = CASE WHEN rate_counters.window_started_at <= :cutoff THEN :now "
    "ELSE rate_counters.window_started_at END "
    "RETURNING count"
).bindparams(bindparam("now", type_=UTCDateTime), bindparam("cutoff", type_=UTCDateTime))


def count_hit(key: str, window_seconds: int, *, now: datetime | None = None) -> int:
    """Count one hit on `key` in a fixed window; returns the hits so far in that window.

    One statement: concurrent hits never read the same count (no read-modify-write).
    The counter lives in the database, so it holds across workers. Caller commits.
    """
    now = now or utcnow()
    return db.session.execute(_COUNT_SQL, {
        "key": key[:300], "now": now, "cutoff": now - timedelta(seconds=window_seconds),
    }).scalar_one()
