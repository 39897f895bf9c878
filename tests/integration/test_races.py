"""Races, with real threads and real processes (DOMAIN.md 3.2 to 3.6).

Each test runs on SQLite (writers queue on BEGIN IMMEDIATE, sync runs on an
flock) and, when HIVEO_TEST_DATABASE_URL is set, on PostgreSQL (row locks,
advisory locks): the conftest's `backend` parametrization gives both, and the
same invariants (tests/invariants.py) must hold afterwards on each.

Threads each open their own app context (their own session and connection);
the two `flask sync run` processes share nothing with the test but the
database, the file store and the simulator, reached over loopback.
"""

from __future__ import annotations

import contextlib
import functools
import html
import io
import os
import random
import re
import subprocess
import sys
import threading
import traceback
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from hiveo.demo.companies import make_siret
from hiveo.demo.factories import make_company, make_user
from hiveo.dossier import services
from hiveo.extensions import db
from hiveo.models import Company, User
from hiveo.sync.engine import SyncHooks, sync_company
from hiveo.sync.switch import set_sync_enabled
from tests import pdfs
from tests.helpers import fetch_csrf, login, plain, post
from tests.invariants import check_invariants

AL = "attestation_legale"
ACTRADIS = "actradis"
ACME = "732829320"
SIRET_1 = "73282932000017"
DORA = "dora@example.com"
ROOT = Path(__file__).resolve().parents[2]
JOIN_SECONDS = 60


@pytest.fixture
def app_overrides(simulator):
    # Generous: the simulator shares its process with the racing threads.
    return simulator.config(PROVIDER_TIMEOUT=5.0)


class Workers:
    """Threads that keep their exceptions for the test instead of losing them."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []

    def start(self, target, *args) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException:
                self.errors.append(traceback.format_exc())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def join(self) -> None:
        for thread in self.threads:
            thread.join(JOIN_SECONDS)
        assert not [t for t in self.threads if t.is_alive()], "a thread is stuck"
        assert not self.errors, "\n".join(self.errors)


_FLASH = re.compile(r'<p class="flash flash-(\w+)">(.*?)</p>', re.DOTALL)


def flashes(response) -> list[str]:
    return [plain(html.unescape(message)).strip()
            for _kind, message in _FLASH.findall(response.get_data(as_text=True))]


def toggle_changed(response) -> bool:
    """Whether a toggle changed the switch, from the message the admin reads."""
    assert response.status_code == 200, response.status_code
    (message,) = flashes(response)
    if "était déjà" in message:
        return False
    if ("Aucun document n'a été supprimé" in message or "réactivée" in message
            or "sera retentée" in message
            # Turned on, then off by the other admin while its run was fetching.
            or "désactivée pendant son exécution" in message):
        return True
    raise AssertionError(f"unexpected answer to a toggle: {message}")


def add_al(sim, code: str, siren: str = ACME, **kwargs) -> str:
    kwargs.setdefault("issue_date", date(2026, 10, 1))
    return sim.add_document(AL, siren, code, **kwargs)


def latest_revisions(sim, provider: str, siren: str) -> set[tuple[str, str, int]]:
    return {(provider, d.id, d.revision) for d in sim.documents(provider, siren)}


def stored_current(dump, company_id: int) -> set[tuple[str, str, int]]:
    return {(d["source"], d["external_id"], d["external_revision"])
            for d in dump.rows("documents")
            if d["company_id"] == company_id and d["is_current"] and d["external_id"]}


def test_twenty_toggles_by_two_admins_while_syncs_run_tell_one_story(app, cast, simulator):
    sim = simulator.sim
    sim.add_company(AL, ACME, "Acme Nettoyage")
    ids = [
        add_al(sim, "KBIS"),
        add_al(sim, "ATTESTATION_URSSAF"),
        add_al(sim, "CONGES_PAYES_BTP", siret=SIRET_1, validity_end=date(2027, 3, 31)),
        add_al(sim, "ASSURANCE_RC_PRO", validity_end=date(2027, 9, 30)),
    ]
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        make_user(DORA, name="Dora Admin", profile="fast", memberships=((acme, "admin"),))
        db.session.commit()
        assert sync_company(cast.acme_id, AL).outcome == "success"
        user_ids = dict(db.session.execute(select(User.email, User.id)).all())
        db.session.remove()

    path = f"/organisations/{ACME}/synchronisation/{AL}/"
    schedules = {cast.alice: [False, True] * 5, DORA: [True, False] * 5}
    changed: Counter[str] = Counter()
    start = threading.Barrier(3)
    admins_done = threading.Event()
    outcomes: Counter[str] = Counter()

    def admin(email: str) -> None:
        client = app.test_client()
        login(client, email)
        pause = random.Random(email)
        start.wait()
        for enable in schedules[email]:
            response = post(client, path + ("reactiver" if enable else "desactiver"), htmx=True)
            changed[email] += toggle_changed(response)
            # People click at human-ish intervals: runs get to apply in between.
            threading.Event().wait(pause.uniform(0, 0.06))

    def periodic_syncs() -> None:
        start.wait()
        rounds = 0
        while not admins_done.is_set() or rounds < 3:
            # The provider changes between (and during) runs: revisions, new certificates.
            day = date(2026, 10, 2) + timedelta(days=rounds % 50)
            if rounds % 3 == 2:
                add_al(sim, "ASSURANCE_RC_PRO", issue_date=day, validity_end=date(2027, 9, 30))
            else:
                sim.revise_document(AL, ids[rounds % 2], issue_date=day, validity_start=day)
            with app.app_context():
                outcomes[sync_company(cast.acme_id, AL, trigger="periodic").outcome] += 1
                db.session.remove()
            rounds += 1

    workers = Workers()
    admins = [workers.start(admin, email) for email in schedules]
    workers.start(periodic_syncs)
    for thread in admins:
        thread.join(JOIN_SECONDS)
    admins_done.set()
    workers.join()

    # check_invariants: the switch events alternate, each names its user, the last one
    # gives the link's final state (and the documents are consistent).
    dump = check_invariants(app)
    events = [e for e in dump.rows("audit_events") if e["action"].startswith("sync.")]
    # As many events as toggles that changed something, each by the admin who made it.
    assert len(events) == sum(changed.values()) >= 2
    by_user = Counter(e["user_id"] for e in events)
    assert by_user == Counter({user_ids[email]: count for email, count in changed.items()
                               if count})
    # "cancelled": a run whose switch was turned off while it fetched (nothing applied).
    assert set(outcomes) <= {"success", "failed", "cancelled", "disabled", "busy"}
    assert sum(outcomes.values()) >= 3

    # Whatever the interleaving, once the switch is on and a run completes,
    # the dossier holds the provider's latest revision of every document.
    with app.app_context():
        alice = db.session.scalar(select(User).where(User.email == cast.alice))
        db.session.rollback()
        set_sync_enabled(cast.acme_id, AL, True, alice)
        report = sync_company(cast.acme_id, AL, full=True)
        assert report.outcome == "success", report.error
        db.session.remove()
    dump = check_invariants(app)
    assert stored_current(dump, cast.acme_id) == latest_revisions(sim, AL, ACME)


def _expected_current(sim, siren: str) -> set[tuple[str, str, int]]:
    """The provider documents that must end current: all but the older Kbis."""
    documents = [d for provider in (AL, ACTRADIS) if sim.company(provider, siren)
                 for d in sim.documents(provider, siren)]
    kbis = [d for d in documents if d.type_code in ("KBIS", "EXTRAIT_KBIS")]
    newest = max(kbis, key=lambda d: (d.validity_start, d.issue_date))
    return {(d.provider, d.id, d.revision) for d in documents
            if d.type_code not in ("KBIS", "EXTRAIT_KBIS") or d is newest}


def _cli_line(line: str) -> tuple[tuple[str, str], str]:
    """((SIREN, provider), status) from a line of `flask sync run`."""
    names = {"Attestation Légale": AL, "Actradis": ACTRADIS}
    parts = re.split(r"\s{2,}", line)
    return (parts[0].replace(" ", ""), names[parts[2]]), parts[3]


def _subprocess_env(app, simulator, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HIVEO_")}
    env.update({
        "HIVEO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HIVEO_STORAGE_DIR": app.config["STORAGE_DIR"],
        "HIVEO_INSTANCE_DIR": str(tmp_path / "instance-cli"),
        "HIVEO_SECRET_KEY": "races-only-secret-key",
        "HIVEO_ATTESTATION_LEGALE_URL": simulator.url,
        "HIVEO_ATTESTATION_LEGALE_TOKEN": simulator.sim.al_token,
        "HIVEO_ACTRADIS_URL": simulator.url,
        "HIVEO_ACTRADIS_API_KEY": simulator.sim.actradis_key,
        "HIVEO_PROVIDER_TIMEOUT": "10",
        "HIVEO_PROVIDER_RETRY_AFTER_MAX": "0.2",
    })
    return env


def test_two_sync_processes_over_the_same_200_companies_store_each_document_once(
        app, simulator, tmp_path):
    sim = simulator.sim
    with app.app_context():
        companies = [make_company(f"Fournisseur {index:03d}", establishments=1)
                     for index in range(200)]
        db.session.commit()
        companies = [(company.id, company.siren) for company in companies]
        db.session.remove()
    for index, (_id, siren) in enumerate(companies):
        sim.add_company(AL, siren, f"Fournisseur {index:03d}")
        add_al(sim, "KBIS", siren)
        add_al(sim, "ATTESTATION_URSSAF", siren)
        add_al(sim, "CONGES_PAYES_BTP", siren, siret=make_siret(siren, 1),
               validity_end=date(2027, 3, 31))
        for month in (9, 10):
            add_al(sim, "ASSURANCE_RC_PRO", siren, issue_date=date(2026, month, 1),
                   validity_end=date(2027, month, 1))
        if index % 10 == 0:
            # A second Kbis in one listing: the later replaces the earlier in the same run.
            add_al(sim, "KBIS", siren, issue_date=date(2026, 10, 20))
        if index % 4 == 0:
            # Both providers feed the Kbis slot; their runs of one company may overlap.
            sim.add_company(ACTRADIS, siren, f"Fournisseur {index:03d}")
            sim.add_document(ACTRADIS, siren, "EXTRAIT_KBIS", issue_date=date(2026, 10, 15))
            sim.add_document(ACTRADIS, siren, "ATTESTATION_ASSURANCE_RC",
                             issue_date=date(2026, 10, 3), validity_end=date(2027, 10, 2))

    env = _subprocess_env(app, simulator, tmp_path)
    command = [sys.executable, "-m", "flask", "--app", "app", "sync", "run"]
    outputs = [(tmp_path / f"run-{n}.out", tmp_path / f"run-{n}.err") for n in range(2)]
    handles = [(out.open("w"), err.open("w")) for out, err in outputs]
    processes = []
    try:
        for out, err in handles:
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                              stderr=err, stdin=subprocess.DEVNULL))
        codes = [process.wait(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for out, err in handles:
            out.close()
            err.close()
    texts = [(out.read_text(), err.read_text()) for out, err in outputs]
    assert codes == [0, 0], texts
    for stdout, stderr in texts:
        assert "ÉCHEC" not in stdout and "Traceback" not in stderr, (stdout, stderr)
    linked = {(siren, provider) for _id, siren in companies
              for provider in (AL, ACTRADIS) if sim.company(provider, siren)}
    for stdout, _err in texts:
        # Each process reports every company and provider with an account once; a company
        # without one shows only when the other process held its lock ("—": busy).
        lines = [_cli_line(line) for line in stdout.splitlines()]
        assert sorted(key for key, _status in lines if key in linked) == sorted(linked)
        assert {status for key, status in lines if key not in linked} <= {"—"}

    dump = check_invariants(app)
    runs = dump.rows("sync_runs")
    assert not [run for run in runs if run["outcome"] == "failed"]
    sirens = dict(companies)
    assert {(sirens[run["company_id"]], run["provider"]) for run in runs} == linked
    for company_id, siren in companies:
        assert stored_current(dump, company_id) == _expected_current(sim, siren), siren


def test_first_runs_of_two_providers_for_one_company_at_once_both_apply(
        app, cast, simulator):
    """Neither provider is linked yet: each run creates its link as it applies.

    Both runs are held just before they lock the company row, so that they ask for it at
    the same moment (PostgreSQL: a link inserted earlier in the transaction would hold a
    key-share lock on that row through its foreign key, and the two runs would deadlock).
    """
    sim = simulator.sim
    for provider in (AL, ACTRADIS):
        sim.add_company(provider, ACME, "Acme Nettoyage")
    add_al(sim, "KBIS", issue_date=date(2026, 10, 1))
    sim.add_document(ACTRADIS, ACME, "EXTRAIT_KBIS", issue_date=date(2026, 10, 5))
    sim.add_document(ACTRADIS, ACME, "ATTESTATION_VIGILANCE", issue_date=date(2026, 10, 5))
    meet = threading.Barrier(2, timeout=2)
    held = threading.local()

    def together_at_the_company_lock(_conn, _cursor, statement, *_args) -> None:
        if getattr(held, "waiting", False) and "FROM companies" in statement and re.search(
                r"FOR (NO KEY )?UPDATE", statement):
            held.waiting = False
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait()

    reports = {}

    def first_run(provider: str) -> None:
        held.waiting = True
        with app.app_context():
            reports[provider] = sync_company(cast.acme_id, provider)
            db.session.remove()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", together_at_the_company_lock)
    try:
        workers = Workers()
        for provider in (AL, ACTRADIS):
            workers.start(first_run, provider)
        workers.join()
    finally:
        event.remove(engine, "before_cursor_execute", together_at_the_company_lock)

    assert {p: r.outcome for p, r in reports.items()} == {AL: "success", ACTRADIS: "success"}, (
        [r.error for r in reports.values()])
    dump = check_invariants(app)
    current = {(d["source"], d["doc_type"]) for d in dump.rows("documents") if d["is_current"]}
    assert current == {(ACTRADIS, "KBIS"), (ACTRADIS, "URSSAF_VIGILANCE")}
    assert {(link["provider"], link["linked"]) for link in dump.rows("provider_links")} == {
        (AL, True), (ACTRADIS, True)}


def _review(client, document_id: int, action: str) -> None:
    data = {"reason": "Document illisible."} if action == "refuser" else {}
    response = post(client, f"/operateur/documents/{document_id}/{action}", data,
                    page="/operateur/validation")
    assert response.status_code == 303
    assert response.headers["Location"] == "/operateur/validation", "review conflict"


def _upload_kbis(client, day: date) -> int:
    """Upload a Kbis as the form does; returns the status (303 accepted, 422 refused)."""
    page = f"/organisations/{ACME}/documents/deposer"
    boundary, body = encode_multipart({
        "csrf_token": fetch_csrf(client, page),
        "doc_type": "KBIS",
        "siret": "",
        "issue_date": day.isoformat(),
        "validity_start": "",
        "validity_end": "",
        "file": FileStorage(io.BytesIO(pdfs.valid_pdf("Kbis", day.isoformat())),
                            filename="kbis.pdf", content_type="application/pdf"),
    })
    response = client.post(page, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    if response.status_code == 422:
        assert "est géré par Attestation Légale" in html.unescape(response.get_data(as_text=True))
    else:
        assert response.status_code == 303, response.get_data(as_text=True)
    return response.status_code


def _review_at(start: threading.Barrier, client, document_id: int, action: str) -> None:
    start.wait()
    _review(client, document_id, action)


def _review_in_thread(client, document_id: int, action: str) -> None:
    reviewer = Workers()
    reviewer.start(_review, client, document_id, action)
    reviewer.join()


def _hold_the_locks(entered: threading.Event) -> None:
    """Inside phase 2: the review now waits on the company row or SQLite's write lock."""
    entered.set()
    threading.Event().wait(0.3)


def _review_after(entered: threading.Event, client, document_id: int, action: str) -> None:
    assert entered.wait(JOIN_SECONDS)
    _review(client, document_id, action)


MODES = ("together", "between the two phases", "while the run applies")


def test_reviews_into_a_slot_while_syncs_replace_it_keep_one_current_document(
        app, cast, simulator):
    sim = simulator.sim
    sim.add_company(AL, ACME, "Acme Nettoyage")
    kbis = add_al(sim, "KBIS", issue_date=date(2026, 9, 1))
    with app.app_context():
        assert sync_company(cast.acme_id, AL).outcome == "success"
        alice = db.session.scalar(select(User).where(User.email == cast.alice))
        db.session.rollback()
        # Off: the admin deposits Kbis herself (DOMAIN.md 3.2), then turns it back on.
        set_sync_enabled(cast.acme_id, AL, False, alice)
        db.session.remove()
    supplier = app.test_client()
    login(supplier, cast.alice)
    rounds = len(MODES) * 3
    uploads = [date(2026, 9, 10) + timedelta(days=8 * n + 3 * (n % 2)) for n in range(rounds)]
    for day in uploads:
        assert _upload_kbis(supplier, day) == 303
    with app.app_context():
        alice = db.session.scalar(select(User).where(User.email == cast.alice))
        db.session.rollback()
        assert set_sync_enabled(cast.acme_id, AL, True, alice).report.outcome == "success"
        db.session.remove()
    pending = [d["id"] for d in check_invariants(app).rows("documents")
               if d["review_state"] == "pending"]
    assert len(pending) == rounds
    operator = app.test_client()
    login(operator, cast.olivia)

    reports = []
    for number, document_id in enumerate(pending):
        mode = MODES[number % len(MODES)]
        action = "refuser" if number % 4 == 3 else "valider"
        day = date(2026, 9, 5) + timedelta(days=9 * number)
        sim.revise_document(AL, kbis, issue_date=day, validity_start=day)
        workers = Workers()
        hooks = SyncHooks()
        start = threading.Barrier(2 if mode == "together" else 1)
        if mode == "together":
            workers.start(_review_at, start, operator, document_id, action)
        elif mode == "between the two phases":
            hooks.before_apply = functools.partial(_review_in_thread, operator, document_id,
                                                   action)
        else:
            entered = threading.Event()
            hooks.during_apply = functools.partial(_hold_the_locks, entered)
            workers.start(_review_after, entered, operator, document_id, action)
        start.wait()
        with app.app_context():
            reports.append(sync_company(cast.acme_id, AL, hooks=hooks))
            db.session.remove()
        workers.join()

    assert [r.outcome for r in reports] == ["success"] * rounds, [r.error for r in reports]
    dump = check_invariants(app)
    kbis_rows = [d for d in dump.rows("documents") if d["doc_type"] == "KBIS"]
    assert len([d for d in kbis_rows if d["is_current"]]) == 1
    assert not [d for d in kbis_rows if d["review_state"] == "pending"]
    assert sum(r.counts["replaced"] for r in reports) >= 1
    assert len({d["external_revision"] for d in kbis_rows if d["source"] == AL}) >= 2


def _at(start: threading.Barrier, action):
    """`action`, once every party of `start` is ready."""

    def run() -> None:
        start.wait()
        action()

    return run


def _kbis_rows(app) -> list[dict]:
    return [d for d in check_invariants(app).rows("documents") if d["doc_type"] == "KBIS"]


def test_an_upload_checked_before_the_switch_turns_on_never_beats_the_providers_newer_kbis(
        app, cast, simulator, monkeypatch):
    """With auto-validation on, an accepted upload enters its slot at once. The admin turns
    the provider back on meanwhile, and its run brings a Kbis for the same slot: whatever the
    order, the newer of the two must end current (DOMAIN.md 3.3 to 3.5, 4).

    Odd rounds force the dangerous order: the upload has passed its "is this type managed?"
    check and waits (up to half a second) for the reactivation to finish before it writes.
    """
    app.config["AUTO_VALIDATE"] = True
    sim = simulator.sim
    sim.add_company(AL, ACME, "Acme Nettoyage")
    kbis = add_al(sim, "KBIS", issue_date=date(2026, 9, 1))
    with app.app_context():
        assert sync_company(cast.acme_id, AL).outcome == "success"
        db.session.remove()
    admin, supplier = app.test_client(), app.test_client()
    login(admin, cast.alice)
    login(supplier, cast.bob)
    path = f"/organisations/{ACME}/synchronisation/{AL}/"
    checked, reactivated = threading.Event(), threading.Event()
    check_pdf = services.check_pdf

    def check_pdf_then_let_the_switch_turn(*args) -> None:
        check_pdf(*args)
        checked.set()
        reactivated.wait(0.5)

    for number in range(6):
        forced = number % 2 == 1
        assert toggle_changed(post(admin, path + "desactiver", htmx=True))
        upload_day = date(2026, 9, 12) + timedelta(days=10 * number)
        # Odd rounds: the provider's Kbis is the newer; even rounds: the upload is.
        provider_day = upload_day + timedelta(days=5 if forced else -3)
        sim.revise_document(AL, kbis, issue_date=provider_day, validity_start=provider_day)
        checked.clear()
        reactivated.clear()
        monkeypatch.setattr(services, "check_pdf",
                            check_pdf_then_let_the_switch_turn if forced else check_pdf)
        status: list[int] = []

        def upload(day: date = upload_day, status: list[int] = status) -> None:
            status.append(_upload_kbis(supplier, day))

        def reactivate() -> None:
            assert toggle_changed(post(admin, path + "reactiver", htmx=True))
            reactivated.set()

        start = threading.Barrier(1 if forced else 2)
        workers = Workers()
        workers.start(_at(start, upload))
        if forced:
            assert checked.wait(JOIN_SECONDS)
        workers.start(_at(start, reactivate))
        workers.join()

        (current,) = [d for d in _kbis_rows(app) if d["is_current"]]
        if status == [303] and upload_day > provider_day:
            assert current["source"] == "manual", (number, current)
        else:
            assert (current["source"], current["issue_date"]) == (AL, provider_day), (
                number, status, current)
