"""One run at a time per (company, provider), across threads and processes.

PostgreSQL: a session-level advisory lock, on a connection held for the run.
SQLite: an flock on a file beside the database (SQLite lives on one machine).
Both vanish with the process that holds them, so a killed run never blocks
the next one.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import ProviderLink


def _namespace(provider: str) -> int:
    return zlib.crc32(f"hiveo-sync-{provider}".encode()) & 0x7FFFFFFF


@contextmanager
def run_lock(company_id: int, provider: str) -> Iterator[bool]:
    """Yield True when this caller holds the lock, False when another run does."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            held = bool(connection.scalar(
                select(func.pg_try_advisory_lock(_namespace(provider), company_id))
            ))
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.scalar(
                        select(func.pg_advisory_unlock(_namespace(provider), company_id))
                    )
                    connection.commit()
        return

    database = Path(db.engine.url.database or current_app.config["INSTANCE_DIR"])
    directory = database.parent / f"{database.name}-locks"
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / f"sync-{company_id}-{provider}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_link(company_id: int, provider: str) -> ProviderLink | None:
    """The company's link to a provider, re-read and locked until the transaction ends."""
    return db.session.scalar(
        select(ProviderLink)
        .where(ProviderLink.company_id == company_id, ProviderLink.provider == provider)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
