"""Invariants under random operations (DOMAIN.md 2 to 4), by a Hypothesis state machine.

The machine drives the domain services as the doors do (no HTTP): uploads and
imports through the same checks as the form and `flask documents import`,
reviews, the sync switch, runs of the sync engine against the simulator with
random changes on the provider's side and random faults. After every step it
checks tests/invariants.py, and that:

- no document is ever deleted: ids only grow, every id seen stays, and what a
  document is (its file, dates, source...) never changes; once archived or
  reviewed it stays so;
- no file is deleted while a document refers to it (check_invariants);
- a provider whose switch is off receives no request for the company;
- a failed run applies nothing;
- the export is a function of the stored state: twice in a row it is the
  same, and rebuilt from a raw dump of the tables into an empty database it
  is the same again.

Each example starts from an empty database, an empty file store and a reset
simulator; the test runs on SQLite and, when HIVEO_TEST_DATABASE_URL is set,
on PostgreSQL.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from hiveo import create_app
from hiveo.demo_companies import make_siret
from hiveo.dossier import services
from hiveo.dossier.catalogue import CATALOGUE, Level
from hiveo.dossier.export import export_dossier
from hiveo.dossier.managed import managed_types
from hiveo.extensions import db
from hiveo.factories import make_company, make_user
from hiveo.models import Company, Document, Establishment, ProviderLink, User
from hiveo.pdfgen import make_pdf
from hiveo.providers.simulator.catalogue import KINDS, STATES
from hiveo.sync.engine import sync_company
from hiveo.sync.switch import set_sync_enabled
from tests.conftest import TODAY, empty_database
from tests.invariants import Dump, check_invariants

AL = "attestation_legale"
ACTRADIS = "actradis"
PROVIDERS = (AL, ACTRADIS)
ACME = "732829320"
SITES = (1, 2)            # Acme's establishments on the portal
UNKNOWN_SITE = 9          # one the provider knows and the portal does not
NORMAL_TIMEOUT = 2.0
FAULTS = (None, None, None, "listing page 500", "corrupted file", "timeout")

# No shrinking: a failing run of at most 15 steps reads well as it is, and shrinking
# examples that each build a world and talk HTTP would take minutes.
SETTINGS = settings(max_examples=25, stateful_step_count=15, deadline=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow])

# What a document is: none of it may change once stored.
FIXED = ("company_id", "establishment_id", "doc_type", "source", "external_id",
         "external_revision", "provider_state", "issue_date", "validity_start", "validity_end",
         "effective_end", "sha256", "size", "filename", "uploaded_by_id", "uploaded_at",
         "replaces_id")


@pytest.fixture
def app_overrides(simulator):
    return simulator.config(PROVIDER_TIMEOUT=NORMAL_TIMEOUT, PROVIDER_PAGE_SIZE=2)


@dataclass(frozen=True)
class Dates:
    days_ago: int
    start_shift: int | None
    length: int | None

    def resolve(self) -> tuple[date, date | None, date | None]:
        issue = TODAY - timedelta(days=self.days_ago)
        start = None if self.start_shift is None else issue + timedelta(days=self.start_shift)
        end = None if self.length is None else (start or issue) + timedelta(days=self.length)
        return issue, start, end


# Mostly coherent dates; now and then an end before the start, which is refused or skipped.
dates = st.builds(Dates, days_ago=st.integers(0, 400),
                  start_shift=st.none() | st.integers(0, 20),
                  length=st.one_of(st.none(), st.integers(30, 400), st.integers(-15, 400)))
provider_states = st.sampled_from(["valid"] * 5 + ["awaiting", "rejected", "expired"])
# What changes at the provider before a run: new documents, new revisions (dates or state),
# documents gone from the listing.
CHANGES = st.lists(st.sampled_from(["add", "add", "revise", "remove", "valid", "awaiting",
                                    "rejected", "expired"]), max_size=3)


def provider_types(provider: str) -> list[str]:
    types = sorted(KINDS[provider])
    return [*types, "CERTIFICAT_QUALIPROPRE"] if provider == AL else types


@dataclass
class Injected:
    """A fault in place: the call log's length before it, and whether a request was made."""

    calls: int
    page: int
    called: bool = False


class DossierMachine(RuleBasedStateMachine):
    """One company, two providers, one admin and one operator; everything else random."""

    app: Flask
    scratch: Flask
    handle: Any  # tests.conftest.SimulatorHandle

    def __init__(self) -> None:
        super().__init__()
        self.sim = self.handle.sim
        self.sim.reset()
        shutil.rmtree(self.app.config["STORAGE_DIR"], ignore_errors=True)
        with self.app.app_context():
            empty_database()
            company = make_company("Acme Nettoyage", siren=ACME, establishments=max(SITES))
            admin = make_user("alice@example.com", name="Alice Admin", profile="fast",
                              memberships=((company, "admin"),))
            operator = make_user("olivia@example.com", name="Olivia Opératrice",
                                 profile="fast", operator=True)
            db.session.commit()
            self.company_id, self.admin_id, self.operator_id = (company.id, admin.id,
                                                                operator.id)
            db.session.remove()
        for provider in PROVIDERS:
            self.sim.add_company(provider, ACME, "Acme Nettoyage")
        self.fixed: dict[int, tuple] = {}
        self.settled: dict[tuple[int, str], tuple] = {}
        self.calls_checked = 0
        self.off: set[str] = set()
        self.just_enabled: set[str] = set()
        self.pending: list[int] = []
        self.open_types: list[str] = []

    # -- helpers ---------------------------------------------------------------------

    @contextmanager
    def context(self) -> Iterator[None]:
        with self.app.app_context():
            try:
                yield
            finally:
                db.session.remove()

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def link_enabled(self, provider: str) -> bool:
        with self.context():
            return bool(db.session.scalar(select(ProviderLink.sync_enabled).where(
                ProviderLink.company_id == self.company_id, ProviderLink.provider == provider)))

    @contextmanager
    def fault(self, provider: str, fault: str | None, data) -> Iterator[Injected]:
        """Inject `fault` at the provider for the block; clear it afterwards."""
        injected = Injected(len(self.sim.calls), page=data.draw(st.integers(1, 2)))
        if fault == "listing page 500":
            # Pages hold two documents: page 2 exists only for longer listings.
            self.sim.fail_listing_page(provider, ACME, injected.page, status=500)
        elif fault == "corrupted file":
            ids = [d.id for d in self.sim.documents(provider, ACME)]
            if ids:
                self.sim.corrupt_file(provider, data.draw(st.sampled_from(ids)))
        elif fault == "timeout":
            self.app.config["PROVIDER_TIMEOUT"] = 0.05
            self.sim.delay(provider, 0.2)
        try:
            yield injected
        finally:
            self.sim.clear_faults()
            self.app.config["PROVIDER_TIMEOUT"] = NORMAL_TIMEOUT
            if fault == "timeout" and injected.called:
                # The request we gave up on is still being answered: let it land in the
                # call log now, not during a later step.
                deadline = time.monotonic() + 5
                while len(self.sim.calls) == injected.calls and time.monotonic() < deadline:
                    time.sleep(0.01)

    def documents_now(self) -> list[dict[str, Any]]:
        with self.context():
            table = Document.__table__
            return [dict(row._mapping)
                    for row in db.session.execute(table.select().order_by(table.c.id))]

    # -- the switch ----------------------------------------------------------------------

    @initialize(switches=st.sampled_from([(True, True), (False, True), (True, False),
                                          (False, False)]), data=st.data())
    def link_both_providers(self, switches: tuple[bool, bool], data) -> None:
        for provider in PROVIDERS:
            for _ in range(data.draw(st.integers(1, 4))):
                self.provider_adds(provider, data)
            with self.context():
                assert sync_company(self.company_id, provider).outcome == "success"
        for provider, on in zip(PROVIDERS, switches, strict=True):
            if not on:
                self.toggle(provider, False, [], None, data)

    @rule(provider=st.sampled_from(PROVIDERS), enabled=st.booleans(), changes=CHANGES,
          fault=st.sampled_from(FAULTS), data=st.data())
    def toggle(self, provider: str, enabled: bool, changes: list[str], fault: str | None,
               data) -> None:
        self.provider_changes(provider, changes, data)
        was = self.link_enabled(provider)
        before = self.documents_now()
        with self.fault(provider, fault, data) as injected, self.context():
            result = set_sync_enabled(self.company_id, provider, enabled,
                                      self.user(self.admin_id))
            injected.called = result.changed and enabled
        assert result.changed == (was != enabled)
        if result.changed and enabled:
            self.just_enabled.add(provider)
            assert result.report is not None and result.report.outcome in ("success", "failed")
            if result.report.outcome == "failed":
                assert self.documents_now() == before, "a failed reactivation applied changes"
        assert self.link_enabled(provider) == enabled

    # -- runs ------------------------------------------------------------------------------

    @rule(provider=st.sampled_from(PROVIDERS), changes=CHANGES, fault=st.sampled_from(FAULTS),
          full=st.booleans(), data=st.data())
    def sync(self, provider: str, changes: list[str], fault: str | None, full: bool,
             data) -> None:
        self.provider_changes(provider, changes, data)
        enabled = self.link_enabled(provider)
        before = self.documents_now()
        with self.fault(provider, fault, data) as injected, self.context():
            report = sync_company(self.company_id, provider, full=full)
            injected.called = enabled
        if not enabled:
            assert report.outcome == "disabled"
        elif fault is None:
            assert report.outcome == "success", report.error
        elif fault == "timeout" or (fault == "listing page 500" and injected.page == 1):
            assert report.outcome == "failed"
        if report.outcome == "failed":
            assert self.documents_now() == before, "a failed run applied changes"

    @rule(fault=st.sampled_from(FAULTS), data=st.data())
    def periodic_run(self, fault: str | None, data) -> None:
        """What `flask sync run` does for the company: each provider whose switch is on."""
        for provider in PROVIDERS:
            if self.link_enabled(provider):
                self.sync(provider, [], fault, False, data)

    # -- the provider's side ------------------------------------------------------------

    def provider_changes(self, provider: str, changes: list[str], data) -> None:
        for change in changes:
            ids = [d.id for d in self.sim.documents(provider, ACME)]
            if change == "add" or not ids:
                self.provider_adds(provider, data)
                continue
            ext_id = data.draw(st.sampled_from(ids))
            if change == "remove":
                self.sim.remove_document(provider, ext_id)
            elif change == "revise":
                issue, start, _end = data.draw(dates).resolve()
                self.sim.revise_document(provider, ext_id, issue_date=issue,
                                         validity_start=start or issue)
            else:
                self.sim.revise_document(provider, ext_id,
                                         state=getattr(STATES[provider], change))

    def provider_adds(self, provider: str, data) -> None:
        code = data.draw(st.sampled_from(provider_types(provider)))
        siret = None
        if code == "CONGES_PAYES_BTP":
            site = data.draw(st.sampled_from([*SITES, UNKNOWN_SITE]))
            siret = make_siret(ACME, site)
        issue, start, end = data.draw(dates).resolve()
        state = getattr(STATES[provider], data.draw(provider_states))
        self.sim.add_document(provider, ACME, code, siret=siret, state=state, issue_date=issue,
                              validity_start=start, validity_end=end)

    # -- people ----------------------------------------------------------------------------

    def manual(self, validated: bool, data) -> None:
        """An upload (pending) or an import (validated), through the doors' checks."""
        # Mostly a type the door accepts; now and then one a provider manages.
        choices = self.open_types if data.draw(st.integers(0, 4)) else sorted(CATALOGUE)
        code = data.draw(st.sampled_from(choices))
        spec = CATALOGUE[code]
        issue, start, end = data.draw(dates).resolve()
        if end is None and spec.end_required and data.draw(st.integers(0, 4)):
            end = (start or issue) + timedelta(days=data.draw(st.integers(30, 400)))
        with self.context():
            company = db.session.get(Company, self.company_id)
            establishment = None
            if spec.level is Level.ESTABLISHMENT:
                siret = make_siret(ACME, data.draw(st.sampled_from(SITES)))
                establishment = db.session.scalar(
                    select(Establishment).where(Establishment.siret == siret))
            replaces = None
            if spec.multi and data.draw(st.booleans()):
                replaces = db.session.scalar(
                    select(Document.id).where(
                        Document.company_id == company.id, Document.doc_type == code,
                        Document.is_current.is_(True)).order_by(Document.id).limit(1))
            # Same type and dates, same bytes: files are shared by content.
            content = make_pdf(spec.label, [f"{code} {issue} {start} {end}"])
            submission = services.Submission(
                doc_type=code, siret=establishment.siret if establishment else None,
                issue_date=issue, validity_start=start, validity_end=end, replaces=replaces,
                validated=validated)
            try:
                services.submit_upload(
                    company, submission, io.BytesIO(content), f"{code.lower()}.pdf",
                    uploaded_by=None if validated else self.user(self.admin_id), today=TODAY)
            except services.UploadRejected:
                db.session.rollback()
                return  # the door refuses it, as the form or the import command would
            db.session.commit()

    @precondition(lambda self: self.open_types)
    @rule(data=st.data())
    def upload(self, data) -> None:
        self.manual(False, data)

    @precondition(lambda self: self.open_types)
    @rule(data=st.data())
    def import_validated(self, data) -> None:
        self.manual(True, data)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def validate(self, data) -> None:
        with self.context():
            services.validate_document(data.draw(st.sampled_from(self.pending)),
                                       self.user(self.operator_id))
            db.session.commit()

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def refuse(self, data) -> None:
        with self.context():
            services.refuse_document(data.draw(st.sampled_from(self.pending)),
                                     self.user(self.operator_id), "Document illisible.")
            db.session.commit()

    # -- after every step ------------------------------------------------------------------

    @invariant()
    def nothing_is_lost_and_everything_agrees(self) -> None:
        dump = check_invariants(self.app)
        documents = dump.documents
        missing = self.fixed.keys() - documents.keys()
        assert not missing, f"documents deleted: {sorted(missing)}"
        newest = max(self.fixed, default=0)
        assert all(i > newest for i in documents.keys() - self.fixed.keys()), "ids went back"
        for document_id, row in documents.items():
            fixed = tuple(row[name] for name in FIXED)
            assert self.fixed.setdefault(document_id, fixed) == fixed, document_id
            for part, value in _settled(row).items():
                if value is not None:
                    kept = self.settled.setdefault((document_id, part), value)
                    assert kept == value, f"document {document_id}: {part} changed"
                else:
                    assert (document_id, part) not in self.settled, (
                        f"document {document_id}: {part} undone")
        self.pending = sorted(i for i, row in documents.items()
                              if row["review_state"] == "pending")
        with self.context():
            self.open_types = sorted(set(CATALOGUE) - managed_types(self.company_id).keys())
        self.check_calls(dump)
        self.check_export(dump)

    def check_calls(self, dump: Dump) -> None:
        calls = self.sim.calls[self.calls_checked:]
        self.calls_checked += len(calls)
        silent = self.off - self.just_enabled
        heard = [c for c in calls if c.provider in silent]
        assert not heard, f"switched off, yet called: {heard}"
        self.just_enabled = set()
        self.off = {link["provider"] for link in dump.rows("provider_links")
                    if not link["sync_enabled"]}

    def check_export(self, dump: Dump) -> None:
        with self.context():
            company = db.session.get(Company, self.company_id)
            first = export_dossier(company, TODAY)
            second = export_dossier(company, TODAY)
        assert first == second
        assert rebuild_export(self.scratch, dump) == first


def _settled(row: dict[str, Any]) -> dict[str, tuple | None]:
    """What may not change, nor be undone, once a document is archived or reviewed."""
    return {
        "archive": (row["archived_at"], row["replaced_by_id"]) if row["archived_at"] else None,
        "review": (None if row["review_state"] == "pending" else
                   (row["review_state"], row["reviewed_by_id"], row["reviewed_at"])),
    }


def rebuild_export(scratch: Flask, dump: Dump) -> dict[str, Any]:
    """Load the raw dump into the empty scratch database, export there, leave it empty."""
    with scratch.app_context():
        try:
            # Rows come in id order; a document may point to a later one.
            db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in db.metadata.sorted_tables:
                rows = dump.rows(table.name)
                if rows:
                    db.session.execute(table.insert(), rows)
            company = db.session.scalar(select(Company).where(Company.siren == ACME))
            return export_dossier(company, TODAY)
        finally:
            db.session.rollback()
            db.session.remove()


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty SQLite database of the current schema, for rebuilds."""
    application = create_app({
        "TESTING": True,
        "SECRET_KEY": "tests-only-secret-key",
        "INSTANCE_DIR": str(tmp_path / "scratch"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'rebuilt.db'}",
        "STORAGE_DIR": str(tmp_path / "scratch-storage"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "ATTESTATION_LEGALE_URL": "",
        "ACTRADIS_URL": "",
        "TODAY": TODAY,
    })
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_random_operations_never_break_an_invariant(app, simulator, scratch):
    machine = type("Machine", (DossierMachine,),
                   {"app": app, "handle": simulator, "scratch": scratch})
    run_state_machine_as_test(machine, settings=SETTINGS)
