"""A `flask sync run` process killed (SIGKILL) mid-run leaves a consistent database.

The simulator serves from a thread of the test process; the sync runs as a
real `flask --app app sync run` subprocess on the test's database and storage.
Killed while downloading, or while phase 2 waits for a lock the test holds,
it leaves no document, no link and no run record behind, only files (intact,
stored by content) that the next run reuses; its run lock dies with it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from hiveo import PROJECT_DIR
from hiveo.extensions import db
from hiveo.maintenance import file_sha256
from hiveo.models import Company, Document, ProviderLink, SyncRun
from hiveo.sync.engine import sync_company

AL = "attestation_legale"
ACME = "732829320"
N_DOCUMENTS = 500


@pytest.fixture
def app_overrides(simulator):
    return simulator.config()


@pytest.fixture
def world(app, cast, simulator):
    sim = simulator.sim
    sim.add_company(AL, ACME, "Acme Nettoyage")
    sim.seed_bulk(AL, ACME, N_DOCUMENTS)
    sim.documents(AL, ACME)  # render every PDF now rather than during the run
    return sim


# The `flask` command, after giving every run a `before_apply` hook (the engine's
# point for tests, called as phase 1 ends and phase 2 begins) that writes a marker.
MARKED_FLASK = """
import functools, pathlib, sys
from flask.cli import main
from hiveo.sync import engine

marker = pathlib.Path(sys.argv.pop(1))
engine.SyncHooks = functools.partial(engine.SyncHooks, before_apply=marker.touch)
sys.argv[0] = "flask"
main()
"""


@contextmanager
def sync_process(app, simulator, phase_two_marker: Path | None = None
                 ) -> Iterator[subprocess.Popen]:
    """`flask --app app sync run --siren …` on the test's database, storage and simulator.

    With `phase_two_marker`, the run creates that file when it enters phase 2.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("HIVEO_")}
    env.update({
        "HIVEO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HIVEO_STORAGE_DIR": app.config["STORAGE_DIR"],
        "HIVEO_INSTANCE_DIR": app.config["INSTANCE_DIR"],
        "HIVEO_SECRET_KEY": app.config["SECRET_KEY"],
        "HIVEO_ATTESTATION_LEGALE_URL": simulator.url,
        "HIVEO_ATTESTATION_LEGALE_TOKEN": simulator.sim.al_token,
        "HIVEO_PROVIDER_TIMEOUT": "10",
        "HIVEO_SQLITE_BUSY_TIMEOUT_MS": "60000",
    })
    command = ["--app", "app", "sync", "run", "--siren", ACME, "--provider", AL]
    if phase_two_marker is None:
        command = [sys.executable, "-m", "flask", *command]
    else:
        command = [sys.executable, "-c", MARKED_FLASK, str(phase_two_marker), *command]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def wait_until(condition: Callable[[], bool], what: str, process: subprocess.Popen | None = None,
               timeout: float = 300.0) -> None:
    """Poll for an event; `timeout` only guards against a hang, it is no speed claim."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            output = process.communicate()[0].decode(errors="replace")
            pytest.fail(f"the sync process ended before {what}: {output}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def stored_files(app) -> set[str]:
    root = Path(app.config["STORAGE_DIR"])
    return {path.name for path in root.glob("??/*") if path.is_file()}


def temporary_files(app) -> list[Path]:
    return list((Path(app.config["STORAGE_DIR"]) / "tmp").glob("*"))


def count(app, model) -> int:
    with app.app_context():
        result = db.session.scalar(select(func.count()).select_from(model))
        db.session.rollback()
        return result


def advisory_locks(app) -> int:
    with app.app_context():
        result = db.session.scalar(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"))
        db.session.rollback()
        return result


def lock_released(app) -> None:
    """PostgreSQL drops the session (and its advisory lock) once it sees the socket close;
    SQLite's flock went with the process."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        wait_until(lambda: advisory_locks(app) == 0, "the run lock to be released", timeout=10)


def storage_check(app, *options) -> str:
    result = app.test_cli_runner().invoke(args=["storage", "check", *options])
    assert result.exit_code == 0, result.output
    assert "Documents dont le fichier est manquant : 0" in result.output
    assert ("Documents dont le fichier ne correspond pas à son empreinte SHA-256 : 0"
            in result.output)
    return result.output


def run_again(app):
    with app.app_context():
        company_id = db.session.scalar(select(Company.id).where(Company.siren == ACME))
        return sync_company(company_id, AL)


def assert_untouched(app) -> None:
    """Phase 2 never committed: nothing of the run is in the database."""
    assert count(app, Document) == 0
    assert count(app, ProviderLink) == 0
    assert count(app, SyncRun) == 0


def assert_every_document_once(app, sim) -> None:
    with app.app_context():
        rows = db.session.execute(
            select(Document.source, Document.external_id, Document.external_revision,
                   func.count())
            .group_by(Document.source, Document.external_id, Document.external_revision)
        ).all()
        digests = set(db.session.scalars(select(Document.sha256)))
        db.session.rollback()
    assert len(rows) == N_DOCUMENTS and all(number == 1 for *_key, number in rows)
    assert {external_id for _source, external_id, _revision, _n in rows} == {
        view.id for view in sim.documents(AL, ACME)}
    assert digests == stored_files(app)  # no orphan file, no document without its file


def test_a_run_killed_while_downloading_applies_nothing_and_the_next_run_reuses_its_files(
        app, world, simulator):
    world.slow_files(AL, 0.01)  # about ten seconds for the whole run
    with sync_process(app, simulator) as process:
        wait_until(lambda: len(stored_files(app)) >= 60, "60 stored files", process)
        kill(process)
    lock_released(app)

    assert_untouched(app)
    received = stored_files(app)
    expected = {view.sha256 for view in world.documents(AL, ACME)}
    assert 60 <= len(received) < N_DOCUMENTS and received <= expected
    # Every stored file is whole: bytes reach their name only once complete.
    assert all(file_sha256(path) == path.name
               for path in Path(app.config["STORAGE_DIR"]).glob("??/*"))
    assert len(temporary_files(app)) <= 1  # at most the download cut short
    output = storage_check(app)
    assert f"Fichiers orphelins (aucun document ne les référence) : {len(received)}" in output

    world.clear_faults()
    before = world.file_downloads(AL, ACME)
    report = run_again(app)
    assert report.outcome == "success", report.error  # not "busy": the lock died with it
    assert report.counts["imported"] == N_DOCUMENTS
    assert report.files_downloaded == N_DOCUMENTS - len(received)
    assert world.file_downloads(AL, ACME) - before == N_DOCUMENTS - len(received)
    assert_every_document_once(app, world)

    storage_check(app, "--fix", "--grace-hours", "0")  # drops the cut-short temporary file
    assert temporary_files(app) == []
    assert "Fichiers orphelins (aucun document ne les référence) : 0" in storage_check(app)


@contextmanager
def phase_two_blocked(app) -> Iterator[None]:
    """Hold what phase 2 needs, so that a run reaching it waits there.

    PostgreSQL: the company row (phase 2 locks it FOR UPDATE after writing the
    provider link). SQLite: the database write lock (phase 2 opens with BEGIN
    IMMEDIATE).
    """
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(
                    "SELECT id FROM companies WHERE siren = :siren FOR NO KEY UPDATE"),
                    {"siren": ACME})
                yield
                connection.rollback()
        finally:
            engine.dispose()
        return
    connection = sqlite3.connect(sa.engine.make_url(url).database, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def waiting_writer(app) -> bool:
    """A session of the database waits for a lock after writing (it holds a transaction id)."""
    with app.app_context():
        found = db.session.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' "
            "AND backend_xid IS NOT NULL"))
        db.session.rollback()
        return bool(found)


def test_a_run_killed_inside_phase_two_applies_nothing_and_the_next_run_downloads_nothing(
        app, world, simulator, tmp_path):
    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    marker = tmp_path / "phase-two"
    with phase_two_blocked(app), sync_process(app, simulator, marker) as process:
        wait_until(marker.exists, "phase 2 to begin", process)
        assert len(stored_files(app)) == N_DOCUMENTS
        if postgresql:
            # Phase 2 wrote the provider link and waits for the company row.
            wait_until(lambda: waiting_writer(app), "phase 2 to wait for the company",
                       process)
        # SQLite: phase 2 opens with BEGIN IMMEDIATE, which waits for the test's lock.
        assert process.poll() is None
        kill(process)
    lock_released(app)

    assert_untouched(app)
    storage_check(app)
    before = world.file_downloads(AL, ACME)
    report = run_again(app)
    assert report.outcome == "success", report.error
    assert report.counts["imported"] == N_DOCUMENTS
    assert report.files_downloaded == 0
    assert world.file_downloads(AL, ACME) == before
    assert_every_document_once(app, world)
    assert "Fichiers orphelins (aucun document ne les référence) : 0" in storage_check(app)
