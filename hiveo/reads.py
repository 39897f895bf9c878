"""Small SELECTs on the request path, run straight through the database driver.

Every page runs a few tiny queries (who is signed in, which company, one page
of establishments). Through the ORM session each costs about 50 µs of
statement machinery, and starting and ending the session about 100 µs more:
on SQLite that is twenty times the query itself (measured in bench/, see
docs/performance.md). These reads skip that machinery:

- in a GET or HEAD request they share one pooled connection of their own,
  given back to the pool when the request ends: on SQLite inside one read
  transaction (one snapshot for the whole page), on PostgreSQL in autocommit
  (at READ COMMITTED each statement has its own snapshot in any case);
- anywhere else (a POST that writes, the command line, a sync) they run on
  the ORM session's connection, inside its transaction, so they see what it
  has written and not yet committed.

Statements are written once with `:name` parameters and translated to the
driver's own parameter style. Rows are named tuples (`row.name`).
"""

from __future__ import annotations

import logging
import re
from collections import namedtuple
from typing import Any

from flask import Flask, g, has_request_context, request

from .extensions import db

log = logging.getLogger("hiveo")
_READ_METHODS = frozenset({"GET", "HEAD"})
# What each supported driver accepts: sqlite3 takes :name, psycopg %(name)s.
_PARAMSTYLES = {"sqlite": "named", "postgresql": "pyformat"}
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Query:
    """One SQL statement with `:name` parameters, translated once per parameter style."""

    __slots__ = ("_translated", "row_type", "sql")

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self._translated: dict[str, str] = {}
        # The named tuple of its rows, made from the first result's column names.
        self.row_type: type | None = None

    def for_style(self, paramstyle: str) -> str:
        translated = self._translated.get(paramstyle)
        if translated is None:
            if paramstyle == "named":
                translated = self.sql
            elif paramstyle == "pyformat":
                translated = _PARAMETER.sub(r"%(\1)s", self.sql.replace("%", "%%"))
            else:
                raise ValueError(f"unsupported parameter style: {paramstyle}")
            self._translated[paramstyle] = translated
        return translated


def _driver_connection():
    if has_request_context() and request.method in _READ_METHODS:
        pooled = g.get("_hiveo_read_connection")
        if pooled is None:
            pooled = db.engine.raw_connection()
            if db.engine.dialect.name == "sqlite":
                # The connection runs in autocommit mode (see configure_sqlite):
                # one explicit read transaction gives the page a single snapshot.
                pooled.driver_connection.execute("BEGIN")
            else:
                # PostgreSQL at READ COMMITTED gives each statement its own snapshot
                # anyway: a transaction would only add BEGIN and ROLLBACK, two round
                # trips that cost more than the page's queries.
                pooled.driver_connection.autocommit = True
            g._hiveo_read_connection = pooled
        return pooled.driver_connection
    return db.session.connection().connection.driver_connection


def rows(query: Query, params: dict[str, Any] | None = None) -> list:
    engine = db.engine
    connection = _driver_connection()
    sql, params = query.for_style(_PARAMSTYLES[engine.dialect.name]), params or {}
    announce = engine.dispatch.before_cursor_execute
    cursor = connection.cursor()
    try:
        if announce:
            # Statement counters (the tests, bench/) listen on the engine: they
            # count these reads too, although they skip SQLAlchemy.
            announce(None, cursor, sql, params, None, False)
        cursor.execute(sql, params)
        row_type = query.row_type
        if row_type is None:
            names = [column[0] for column in cursor.description]
            row_type = query.row_type = namedtuple("Row", names, rename=True)
        return [row_type._make(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def first(query: Query, params: dict[str, Any] | None = None):
    found = rows(query, params)
    return found[0] if found else None


def scalar(query: Query, params: dict[str, Any] | None = None):
    found = rows(query, params)
    return found[0][0] if found else None


def _release(_exception: BaseException | None = None) -> None:
    pooled = g.pop("_hiveo_read_connection", None)
    if pooled is None:
        return
    try:
        if db.engine.dialect.name != "sqlite":
            pooled.driver_connection.autocommit = False  # as the pool lent it
    except Exception:
        # A broken connection: never lend it again in an unknown mode.
        pooled.invalidate()
        log.warning("read connection discarded", exc_info=True)
    finally:
        # Back to the pool, which rolls the read transaction back.
        pooled.close()


def init_reads(app: Flask) -> None:
    # At the end of the request, not of the application context: a test or a
    # command may keep one application context around many requests.
    app.teardown_request(_release)
