"""Flask extensions, created unbound and initialised in create_app()."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()

# Set on a connection (Session.connection(execution_options=...)) by code that
# is about to write outside a request, so SQLite takes the write lock at BEGIN.
WRITE_INTENT = "hiveo_write_intent"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def begin_write() -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite).

    For code outside a POST request that reads and then writes (the command
    line): a deferred SQLite transaction could fail at its first write if
    another writer committed since its reads. Call it before the first query.
    """
    if not db.session().in_transaction():
        db.session.connection(execution_options={WRITE_INTENT: True})  # type: ignore[misc]


def _wants_write_lock(connection) -> bool:
    if connection.get_execution_options().get(WRITE_INTENT):
        return True
    return has_request_context() and request.method in _UNSAFE_METHODS


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for writers.

    A deferred transaction that reads and then writes can fail at once with
    SQLITE_BUSY when another writer committed in between, whatever the busy
    timeout. Taking the write lock at BEGIN makes concurrent writers queue
    instead. Reads (GET requests, phase 1 of a sync) begin deferred so that
    they never wait for a writer, thanks to WAL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock(connection) else "BEGIN")


def configure_postgresql(engine: Engine) -> None:
    """Two session settings for the portal's statements.

    - No JIT compilation: the statements are short, and PostgreSQL's JIT,
      triggered by the cost estimate of a list over thousands of suppliers, spent
      more time compiling (about 190 ms measured) than the statement took to run.
    - Every statement planned for its own values: psycopg prepares a statement
      run five times, and PostgreSQL may then switch it to a generic plan made
      without the values. For the compliance figures of 5,000 suppliers that plan
      took 300 ms where the planned one takes 30 (tests/integration/
      test_database_settings.py runs a statement past that point).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()


def init_extensions(app: Flask, render_migration_item: Callable[..., str | bool]) -> None:
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=app.config["MIGRATIONS_DIR"],
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        elif engine.dialect.name == "postgresql":
            configure_postgresql(engine)
