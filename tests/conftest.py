"""Fixtures shared by every test: databases, the app, a cast of users.

The cast (after healthchecks): alice is an admin of Acme, bob a member of
Acme, charlie an admin of Globex (an outsider to Acme), olivia an operator
who belongs to no company.

Integration tests run once on SQLite and, when HIVEO_TEST_DATABASE_URL is
set, once more on PostgreSQL. Each database is migrated once per session with
the project's own migrations, then emptied after every test.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from hiveo import create_app
from hiveo.extensions import db
from tests.helpers import PASSWORD  # noqa: F401 (re-exported for tests)

PG_URL = os.environ.get("HIVEO_TEST_DATABASE_URL", "").strip()
TODAY = date(2026, 11, 29)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

_TMP = Path(tempfile.mkdtemp(prefix="hiveo-tests-"))

# Hypothesis profiles (docs/testing.md). Every failure prints the
# @reproduce_failure blob; "dev" also runs on a random seed that the session
# header and each failure report print, "ci" is derandomized (the same examples
# on every run), "thorough" runs ten times as many, longer, examples.
_HYPOTHESIS = {"deadline": None, "print_blob": True,
               "suppress_health_check": [HealthCheck.too_slow]}
hypothesis_settings.register_profile("dev", max_examples=25, stateful_step_count=15,
                                     **_HYPOTHESIS)
hypothesis_settings.register_profile("ci", max_examples=25, stateful_step_count=15,
                                     derandomize=True, database=None, **_HYPOTHESIS)
hypothesis_settings.register_profile("thorough", max_examples=250, stateful_step_count=30,
                                     **_HYPOTHESIS)
HYPOTHESIS_PROFILE = os.environ.get("HIVEO_HYPOTHESIS_PROFILE", "").strip() or (
    "ci" if os.environ.get("CI", "").strip().lower() in ("true", "1") else "dev")
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_configure(config: pytest.Config) -> None:
    """In "dev", pick the session's seed here so that it can be printed and reused."""
    profile = config.getoption("hypothesis_profile", None) or HYPOTHESIS_PROFILE
    if profile == "dev" and config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = str(random.randrange(2**32))


def _seed_hint(config: pytest.Config) -> str | None:
    seed = config.getoption("hypothesis_seed", None)
    return None if seed is None else f"rerun with --hypothesis-seed={seed}"


def pytest_report_header(config: pytest.Config) -> str:
    profile = config.getoption("hypothesis_profile", None) or HYPOTHESIS_PROFILE
    hint = _seed_hint(config)
    return f"hypothesis profile: {profile}" + (f" ({hint})" if hint else "")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    hint = _seed_hint(item.config)
    if report.failed and hint and "reproduce_failure" in str(report.longrepr):
        report.sections.append(("Hypothesis seed", hint))


def _base_config(database_url: str, storage_dir: Path) -> dict:
    return {
        "TESTING": True,
        "PROPAGATE_UNEXPECTED_ERRORS": True,
        "SECRET_KEY": "tests-only-secret-key",
        "INSTANCE_DIR": str(_TMP / "instance"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_DIR": str(storage_dir),
        "SESSION_COOKIE_SECURE": False,
        "ARGON2_PROFILE": "fast",
        "RATELIMIT_STORAGE_URI": "memory://",
        "ATTESTATION_LEGALE_URL": "",
        "ACTRADIS_URL": "",
        # Tests must not depend on the day they run.
        "TODAY": TODAY,
    }


def database_url(backend: str) -> str:
    if backend == "postgresql":
        url = PG_URL
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{_TMP / 'tests.db'}"


_migrated: set[str] = set()


def _migrate(backend: str) -> None:
    """Bring the test database to the latest migration, from scratch, once per session."""
    if backend in _migrated:
        return
    url = database_url(backend)
    if backend == "postgresql":
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(str(_TMP / "tests.db") + suffix).unlink(missing_ok=True)
    app = create_app(_base_config(url, _TMP / "storage"))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.config["MIGRATIONS_DIR"])
        db.engine.dispose()
    _migrated.add(backend)


def empty_database() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(sa.text(f"DELETE FROM {name}"))
    db.session.commit()


def build_app(backend: str, tmp_path: Path, **overrides) -> Flask:
    _migrate(backend)
    config = _base_config(database_url(backend), tmp_path / "storage")
    config.update(overrides)
    return create_app(config)


@contextmanager
def running_app(backend: str, tmp_path: Path, **overrides) -> Iterator[Flask]:
    app = build_app(backend, tmp_path, **overrides)
    try:
        yield app
    finally:
        from hiveo.mail.outbox import wait_for_sends

        wait_for_sends(app)
        with app.app_context():
            db.session.remove()
            stale = _stale_standings()
            renamed = _stale_supplier_names()
            empty_database()
            db.engine.dispose()
        # After the test, whatever it did: a door that changed what a relation's compliance
        # reads without calling refresh_standing() leaves a stored standing behind.
        assert not stale, f"stored standings differ from standing_select(): {stale[:5]}"
        # The list sorts by the supplier's name as its relations keep it (models.Relation).
        assert not renamed, f"relations.supplier_name_key differs from the name: {renamed[:5]}"


def _stale_supplier_names() -> list:
    from hiveo.models import Company, Relation

    try:
        return list(db.session.execute(
            sa.select(Relation.id, Relation.supplier_name_key, Company.name_key)
            .join(Company, Company.id == Relation.supplier_id)
            .where(Relation.supplier_name_key != Company.name_key)).all())
    finally:
        db.session.rollback()


def _stale_standings() -> list:
    from hiveo.relations.figures import stale_standings

    try:
        return stale_standings()
    finally:
        db.session.rollback()


@contextmanager
def migration_database(tmp_path: Path) -> Iterator[str]:
    """For a migration test: an app context on a new, empty SQLite file, with no migration
    run yet. Yields the migrations directory, for flask_migrate's upgrade() and downgrade()."""
    url = f"sqlite:///{tmp_path / 'migrations.db'}"
    app = create_app(_base_config(url, tmp_path / "storage"))
    with app.app_context():
        try:
            yield app.config["MIGRATIONS_DIR"]
        finally:
            db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(backend: str, tmp_path: Path, app_overrides: dict) -> Iterator[Flask]:
    """The app, with no context pushed: requests must not share the test's session.

    Tests that read or write the database open `with app.app_context():`.
    """
    with running_app(backend, tmp_path, **app_overrides) as application:
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class Cast:
    """Identifiers of the cast (ORM objects would be detached outside a context)."""

    acme: str  # SIREN
    globex: str
    acme_id: int
    globex_id: int
    alice: str  # e-mail
    bob: str
    charlie: str
    olivia: str


@pytest.fixture
def cast(app: Flask) -> Cast:
    from hiveo.demo.factories import make_company, make_user

    with app.app_context():
        acme = make_company("Acme Nettoyage", siren="732829320", establishments=3)
        globex = make_company("Globex Bâtiment", establishments=2)
        make_user("alice@example.com", name="Alice Admin", profile="fast",
                  memberships=((acme, "admin"),))
        make_user("bob@example.com", name="Bob Membre", profile="fast",
                  memberships=((acme, "member"),))
        make_user("charlie@example.com", name="Charlie Dehors", profile="fast",
                  memberships=((globex, "admin"),))
        make_user("olivia@example.com", name="Olivia Opératrice", profile="fast", operator=True)
        db.session.commit()
        return Cast(
            acme=acme.siren,
            globex=globex.siren,
            acme_id=acme.id,
            globex_id=globex.id,
            alice="alice@example.com",
            bob="bob@example.com",
            charlie="charlie@example.com",
            olivia="olivia@example.com",
        )


@dataclass
class SimulatorHandle:
    sim: object
    url: str

    def config(self, **overrides) -> dict:
        return {
            "ATTESTATION_LEGALE_URL": self.url,
            "ATTESTATION_LEGALE_TOKEN": self.sim.al_token,
            "ACTRADIS_URL": self.url,
            "ACTRADIS_API_KEY": self.sim.actradis_key,
            # Long enough for a loaded CI machine to answer (1.0 s timed out there once in
            # ~2,000 tests); the timeout tests delay their answers by 2 s.
            "PROVIDER_TIMEOUT": 1.5,
            "PROVIDER_RETRY_AFTER_MAX": 0.2,
            **overrides,
        }


@pytest.fixture
def simulator() -> Iterator[SimulatorHandle]:
    """An empty provider simulator over real HTTP on loopback."""
    from simulator import Simulator, serve_in_thread

    sim = Simulator(today=TODAY, seed=None)
    server, url = serve_in_thread(sim)
    yield SimulatorHandle(sim, url)
    server.shutdown()
    server.server_close()


@pytest.fixture
def mail_server():
    """A real SMTP server on loopback (aiosmtpd); point SMTP_URL at `mail_server.url`."""
    from tests.mailserver import MailServer

    server = MailServer().start()
    yield server
    server.stop()
