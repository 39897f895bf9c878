"""A failure at any step of a sync run leaves the dossier exactly as it was.

Against the simulator over real HTTP, for both providers: a fault at the
discovery, at each listing page (Attestation Légale pages, Actradis cursor
slices), at the first, middle and last file, between the two phases, inside
phase 2, and a switch turned off during the run. Each one leaves every column
of every document and provider link as before, records a failed run with a
French reason, and the next run completes, downloading only the files the
failed run had not already stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.models import Company, Document, ProviderLink, SyncRun
from hiveo.sync.engine import SyncHooks, sync_company
from hiveo.sync.switch import set_sync_enabled

AL = "attestation_legale"
ACTRADIS = "actradis"
ACME = "732829320"
SIRET_1 = "73282932000017"
END = date(2027, 6, 1)

# Per provider: documents of the first run, the one revised afterwards, and
# the ones added afterwards (the failing run then needs five files).
FIRST = {
    AL: [("KBIS", {}), ("ATTESTATION_URSSAF", {"validity_end": END})],
    ACTRADIS: [("EXTRAIT_KBIS", {}), ("ATTESTATION_VIGILANCE", {"validity_end": END})],
}
LATER = {
    AL: [("LISTE_SALARIES_ETRANGERS", {"validity_end": END}),
         ("ATTESTATION_FISCALE", {"validity_end": END}),
         ("ASSURANCE_RC_PRO", {"validity_end": END}),
         ("CONGES_PAYES_BTP", {"siret": SIRET_1, "validity_end": END})],
    ACTRADIS: [("LNTE", {"validity_end": END}),
               ("ATTESTATION_REGULARITE_FISCALE", {"validity_end": END}),
               ("ATTESTATION_ASSURANCE_DECENNALE", {"validity_end": END}),
               ("ATTESTATION_ASSURANCE_RC", {"siret": SIRET_1, "validity_end": END})],
}
DISCOVERY_PATH = {AL: f"/v1/companies/{ACME}", ACTRADIS: f"/api/v2/entreprises/{ACME}"}
LISTING_PATH = {AL: f"/v1/companies/{ACME}/documents",
                ACTRADIS: f"/api/v2/entreprises/{ACME}/pieces"}
NAME = {AL: "Attestation Légale", ACTRADIS: "Actradis"}
FROM = {"Attestation Légale": "d'Attestation Légale", "Actradis": "d'Actradis"}
INTERNAL = "Erreur interne pendant la synchronisation {name} : aucun changement n'a été appliqué."


@pytest.fixture
def app_overrides(simulator):
    # Two documents per page: the failing run's listing spans three pages or slices.
    return simulator.config(PROVIDER_PAGE_SIZE=2)


@pytest.fixture
def world(app, cast, simulator):
    sim = simulator.sim
    for provider in (AL, ACTRADIS):
        sim.add_company(provider, ACME, "Acme Nettoyage")
    return sim


def company_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Company.id).where(Company.siren == ACME))


def run(app, provider, **kwargs):
    cid = company_id(app)
    with app.app_context():
        return sync_company(cid, provider, **kwargs)


def dump(app) -> dict[str, list[dict]]:
    """Every column of every document and provider link, in id order."""
    with app.app_context():
        state = {}
        for model in (Document, ProviderLink):
            table = model.__table__
            rows = db.session.execute(select(table).order_by(table.c.id)).mappings()
            state[table.name] = [dict(row) for row in rows]
        db.session.rollback()
    return state


def runs(app) -> list[SyncRun]:
    with app.app_context():
        result = list(db.session.scalars(select(SyncRun).order_by(SyncRun.id)))
        db.session.expunge_all()
        return result


def stored(app) -> set[str]:
    root = Path(app.config["STORAGE_DIR"])
    return {path.name for path in root.glob("??/*") if path.is_file()}


def prepare(app, sim, provider) -> list[str]:
    """A synchronised dossier, then changes on the platform; returns the ids whose
    files the next run needs, in the order the run reaches them."""
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.siren == ACME))
        make_document(company, "INSURANCE_DECENNALE", issue_date=date(2026, 9, 1),
                      validity_end=date(2027, 8, 31))
        db.session.commit()
    first = [sim.add_document(provider, ACME, code, issue_date=date(2026, 9, 1), **options)
             for code, options in FIRST[provider]]
    report = run(app, provider)
    assert report.outcome == "success" and report.counts["imported"] == 2, report
    sim.revise_document(provider, first[0], issue_date=date(2026, 11, 2),
                        validity_start=date(2026, 11, 2))
    for code, options in LATER[provider]:
        sim.add_document(provider, ACME, code, issue_date=date(2026, 11, 1), **options)
    with app.app_context():
        known = {(external_id, revision) for external_id, revision in db.session.execute(
            select(Document.external_id, Document.external_revision))}
        db.session.rollback()
    needed = [view.id for view in sim.documents(provider, ACME)
              if (view.id, view.revision) not in known]
    assert len(needed) == 5
    return needed


@dataclass(frozen=True)
class Fault:
    """How to break one run; `received(n)`: files the failed run stored, of n needed."""

    inject: Callable[..., SyncHooks | None]
    message: Callable[[str], str]
    received: Callable[[int], int]
    listing_calls: int | None = None
    cancels: bool = False


def _http_500(name: str) -> str:
    return f"{name} est en erreur (HTTP 500)"


def _timeout(sim, app, provider, needed, context):
    app.config["PROVIDER_TIMEOUT"] = 0.3
    sim.delay(provider, 0.6, path_prefix=DISCOVERY_PATH[provider])


def _raise(_sim, _app, _provider, _needed, context, *, hook):
    def boom():
        # Inside phase 2 the transaction already holds the new rows: the rollback has work.
        context["rows seen"] = db.session.scalar(select(func.count(Document.id)))
        raise RuntimeError("disque plein")

    return SyncHooks(**{hook: boom})


def _switch_off(_sim, app, provider, _needed, context):
    def turn_off():
        with app.app_context():
            cid = db.session.scalar(select(Company.id).where(Company.siren == ACME))
            assert set_sync_enabled(cid, provider, False, None).changed
        # What the run must leave alone from here on: the switch is someone else's change.
        context["before"] = dump(app)

    return SyncHooks(before_apply=turn_off)


FILE_INDEX = {"first": 0, "middle": 2, "last": 4}


def _faults() -> dict[str, Fault]:
    faults = {
        "discovery answers 500": Fault(
            lambda sim, app, provider, needed, context: sim.fail_discovery(provider, ACME, 500),
            _http_500, lambda n: 0),
        "discovery times out": Fault(_timeout, lambda name: f"{name} ne répond pas",
                                     lambda n: 0),
    }
    for page in (1, 2, 3):
        faults[f"listing page {page} answers 500"] = Fault(
            lambda sim, app, provider, needed, context, page=page: sim.fail_listing_page(
                provider, ACME, page, 500),
            _http_500, lambda n: 0, listing_calls=page)
    for where, index in FILE_INDEX.items():
        faults[f"{where} file answers 500"] = Fault(
            lambda sim, app, provider, needed, context, index=index: sim.fail_file(
                provider, needed[index], 500),
            _http_500, lambda n, index=index: index)
        faults[f"{where} file is corrupted"] = Fault(
            lambda sim, app, provider, needed, context, index=index: sim.corrupt_file(
                provider, needed[index]),
            lambda name: f"Un fichier reçu {FROM[name]} est corrompu (empreinte SHA-256 "
                         "différente)",
            lambda n, index=index: index)
    faults["error between the two phases"] = Fault(
        lambda *args: _raise(*args, hook="before_apply"),
        lambda name: INTERNAL.format(name=name), lambda n: n)
    faults["error inside phase 2"] = Fault(
        lambda *args: _raise(*args, hook="during_apply"),
        lambda name: INTERNAL.format(name=name), lambda n: n)
    faults["switch turned off before phase 2"] = Fault(
        _switch_off,
        lambda name: f"Synchronisation {name} désactivée pendant son exécution : "
                     "rien n'a été appliqué.",
        lambda n: n, cancels=True)
    return faults


FAULTS = _faults()


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_a_failure_at_any_step_changes_nothing_and_the_retry_reuses_the_files_received(
        app, world, provider, fault):
    case = FAULTS[fault]
    name = NAME[provider]
    needed = prepare(app, world, provider)
    digests = [world.document(provider, ext_id).sha256 for ext_id in needed]
    context: dict = {"before": dump(app)}
    runs_before = len(runs(app))
    files_before = stored(app)
    timeout = app.config["PROVIDER_TIMEOUT"]
    world.clear_calls()

    report = run(app, provider, hooks=case.inject(world, app, provider, needed, context))

    assert report.outcome == ("cancelled" if case.cancels else "failed")
    assert report.error == case.message(name)
    assert dump(app) == context["before"]
    if fault == "error inside phase 2":
        assert context["rows seen"] == len(context["before"]["documents"]) + len(needed)
    history = runs(app)
    assert len(history) == runs_before + 1
    assert history[-1].outcome == report.outcome and history[-1].error == report.error
    assert history[-1].imported == 0 and history[-1].replaced == 0
    received = case.received(len(needed))
    assert stored(app) == files_before | set(digests[:received])
    if case.listing_calls is not None:
        listing = [call for call in world.calls if call.path == LISTING_PATH[provider]]
        assert len(listing) == case.listing_calls and listing[-1].status == 500

    world.clear_faults()
    app.config["PROVIDER_TIMEOUT"] = timeout
    downloads = world.file_downloads(provider)
    if case.cancels:
        with app.app_context():
            retry = set_sync_enabled(company_id(app), provider, True, None).report
    else:
        retry = run(app, provider)

    assert retry.outcome == "success", retry.error
    assert retry.counts["imported"] == 4 and retry.counts["replaced"] == 1
    assert world.file_downloads(provider) - downloads == len(needed) - received
    assert retry.files_downloaded == len(needed) - received
    assert stored(app) == files_before | set(digests)
    with app.app_context():
        rows = db.session.execute(
            select(Document.external_id, Document.external_revision, func.count())
            .where(Document.source == provider)
            .group_by(Document.external_id, Document.external_revision)).all()
    assert len(rows) == 7 and all(count == 1 for *_key, count in rows)
    assert runs(app)[-1].outcome == "success"
