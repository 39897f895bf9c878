"""What a provider cannot do to a run any more: hold it without end, flood it, slip
a hostile file or an absurd date into the dossier (issue 12, items 2 to 4).

Against the simulator over real HTTP. Deadlines are asserted by what the run
read and recorded (bytes the simulator got to send, the reason stored), never
by a wall-clock upper bound.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from hiveo.extensions import db
from hiveo.models import Company, Document, ProviderLink, SyncRun
from hiveo.providers import connector_for
from hiveo.providers.records import ErrorCode, ProviderError
from hiveo.sync.engine import sync_company
from hiveo.sync.state import run_items, run_lines
from tests.helpers import login, page_text, post
from tests.hostile import build

AL = "attestation_legale"
ACTRADIS = "actradis"
ACME = "732829320"
LISTING_PATH = {AL: f"/v1/companies/{ACME}/documents",
                ACTRADIS: f"/api/v2/entreprises/{ACME}/pieces"}
FILE_PATH = {AL: "/v1/documents/", ACTRADIS: "/api/v2/pieces/"}
KBIS = {AL: "KBIS", ACTRADIS: "EXTRAIT_KBIS"}
RC_PRO = {AL: "ASSURANCE_RC_PRO", ACTRADIS: "ATTESTATION_ASSURANCE_RC"}
NAME = {AL: "Attestation Légale", ACTRADIS: "Actradis"}
CORPUS_DIR = Path(build.__file__).parent
END = date(2027, 6, 30)


@pytest.fixture
def app_overrides(simulator):
    # A read timeout well above the trickle's pace: only the deadline can stop it.
    return simulator.config(PROVIDER_TIMEOUT=5.0, PROVIDER_DEADLINE=1.0,
                            PDF_CHECK_TIMEOUT=5.0, PDF_CHECK_MEMORY_MB=256)


@pytest.fixture
def world(app, cast, simulator):
    sim = simulator.sim
    for provider in (AL, ACTRADIS):
        sim.add_company(provider, ACME, "Acme Nettoyage")
    return sim


def run(app, provider, **kwargs):
    with app.app_context():
        company_id = db.session.scalar(select(Company.id).where(Company.siren == ACME))
        return sync_company(company_id, provider, **kwargs)


def documents(app) -> list[tuple[str, str]]:
    with app.app_context():
        return list(db.session.execute(
            select(Document.external_id, Document.sha256).order_by(Document.id)))


def last_run(app) -> SyncRun:
    with app.app_context():
        row = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
        db.session.expunge(row)
        return row


def stored(app) -> set[str]:
    return {path.name for path in Path(app.config["STORAGE_DIR"]).glob("??/*")}


# -- deadlines ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_a_trickling_listing_stops_at_the_call_deadline_and_the_run_says_why(
        app, world, provider):
    world.add_document(provider, ACME, KBIS[provider], issue_date=date(2026, 10, 1))
    # One document's listing is some 500 bytes on either contract.
    full_listing = 300
    world.trickle(provider, 0.2, path_prefix=LISTING_PATH[provider])

    report = run(app, provider)

    assert report.outcome == "failed"
    assert report.error == (f"{NAME[provider]} met trop de temps à répondre : appel "
                            "interrompu (délai de 1 s dépassé)")
    # One byte per 0.2 s within a 1 s deadline: a handful, never the whole body.
    assert 1 <= world.trickled_bytes <= 10 < full_listing
    recorded = last_run(app)
    assert (recorded.outcome, recorded.error) == ("failed", report.error)
    assert documents(app) == []


@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_a_trickling_file_stops_at_the_call_deadline_and_nothing_is_stored(
        app, world, provider):
    world.add_document(provider, ACME, KBIS[provider], issue_date=date(2026, 10, 1))
    size = world.documents(provider, ACME)[0].size
    world.trickle(provider, 0.2, path_prefix=FILE_PATH[provider])

    report = run(app, provider)

    assert report.outcome == "failed"
    assert "met trop de temps à répondre" in report.error
    assert 1 <= world.trickled_bytes <= 10 < size
    assert documents(app) == [] and stored(app) == set()


def test_the_deadline_bounds_the_whole_call_not_each_read(app, world):
    """A read timeout alone never fires on a trickle: the connector stops on the deadline."""
    world.add_document(AL, ACME, "KBIS", issue_date=date(2026, 10, 1))
    world.trickle(AL, 0.2, path_prefix=LISTING_PATH[AL])
    connector = connector_for(AL, {**app.config, "PROVIDER_DEADLINE": 0.6})
    try:
        with pytest.raises(ProviderError) as caught:
            connector.list_documents(ACME)
    finally:
        connector.close()
    assert caught.value.code is ErrorCode.DEADLINE
    assert caught.value.limit == 0.6
    assert "bytes received by the deadline" in caught.value.detail


def test_no_retry_waits_past_the_deadline(app, world):
    world.throttle(AL, count=3, retry_after=1)
    connector = connector_for(AL, {**app.config, "PROVIDER_DEADLINE": 0.5,
                                   "PROVIDER_RETRY_AFTER_MAX": 5.0})
    world.clear_calls()
    try:
        with pytest.raises(ProviderError) as caught:
            connector.discover(ACME)
    finally:
        connector.close()
    assert caught.value.code is ErrorCode.DEADLINE
    # The 1 s Retry-After does not fit in a 0.5 s deadline: one request, no wait, no retry.
    assert [call.status for call in world.calls] == [429]


def test_a_reactivation_is_bounded_and_the_admin_is_told_nothing_was_applied(
        app, client, world):
    world.add_document(AL, ACME, "KBIS", issue_date=date(2026, 10, 1))
    assert run(app, AL).outcome == "success"
    world.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 10, 1))
    # Each call keeps within its own deadline; together they exceed the run's.
    app.config.update(PROVIDER_DEADLINE=30.0, SYNC_REACTIVATION_DEADLINE=1.0)
    login(client, "alice@example.com")
    disable = f"/organisations/{ACME}/synchronisation/{AL}/desactiver"
    post(client, disable)
    world.trickle(AL, 0.2, path_prefix=LISTING_PATH[AL])

    response = post(client, f"/organisations/{ACME}/synchronisation/{AL}/reactiver")

    html = page_text(client.get(response.headers["Location"]))
    assert ("La synchronisation Attestation Légale n'a pas abouti dans le délai de 1 s : "
            "rien n'a été appliqué : la synchronisation reste active et sera retentée.") in html
    assert world.trickled_bytes <= 10
    with app.app_context():
        assert db.session.scalar(select(ProviderLink.sync_enabled)) is True
    recorded = last_run(app)
    assert (recorded.trigger, recorded.outcome) == ("reactivation", "failed")
    assert len(documents(app)) == 1

    world.clear_faults()
    assert run(app, AL).counts["imported"] == 1  # the next run retries


# -- size caps ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_a_listing_past_the_json_limit_fails_the_run_with_the_limit(app, world, provider):
    for month in range(1, 9):
        world.add_document(provider, ACME, RC_PRO[provider], issue_date=date(2026, month, 1),
                           validity_end=END)
    app.config["PROVIDER_MAX_JSON_MB"] = 1 / 1024  # 1 Ko; eight documents take more

    report = run(app, provider)

    assert report.outcome == "failed"
    assert report.error == (f"{NAME[provider]} a envoyé une réponse trop volumineuse "
                            "(limite de 1 Ko dépassée)")
    assert documents(app) == []


def test_a_json_body_without_length_is_cut_at_the_limit(app, world):
    """No Content-Length to refuse up front (a trickle streams): reading stops at the limit."""
    for month in range(1, 9):
        world.add_document(AL, ACME, "ASSURANCE_RC_PRO", issue_date=date(2026, month, 1),
                           validity_end=END)
    world.trickle(AL, 0.001, path_prefix=LISTING_PATH[AL])
    connector = connector_for(AL, {**app.config, "PROVIDER_DEADLINE": 60.0})
    connector.max_json_bytes = 200
    try:
        with pytest.raises(ProviderError) as caught:
            connector.list_documents(ACME)
    finally:
        connector.close()
    assert caught.value.code is ErrorCode.JSON_TOO_LARGE
    assert caught.value.detail.endswith("more than 200 bytes")
    # The simulator is still dripping the rest: reading stopped at the limit, not the end.
    assert world.trickled_bytes < 1000


@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_a_file_past_the_file_limit_is_refused_alone_and_the_run_goes_on(
        app, world, provider):
    big = world.add_document(provider, ACME, RC_PRO[provider], issue_date=date(2026, 9, 1),
                             validity_end=END)
    small = world.add_document(provider, ACME, KBIS[provider], issue_date=date(2026, 10, 1))
    world.serve_file_bytes(provider, big, b"%PDF-1.7\n" + b"0" * 4096)
    app.config["PROVIDER_MAX_FILE_MB"] = 2 / 1024  # 2 Ko

    report = run(app, provider)

    assert report.outcome == "success", report.error
    assert report.counts["imported"] == 1 and report.counts["skipped"] == 1
    assert any("fichier refusé : il dépasse la taille annoncée ou la taille maximale (2 Ko)"
               in line for line in report.details), report.details
    assert [external_id for external_id, _ in documents(app)] == [small]


# -- provider files checked by content ------------------------------------------------------


@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_a_provider_pdf_with_javascript_is_refused_by_content_and_the_run_goes_on(
        app, world, provider):
    hostile = world.add_document(provider, ACME, RC_PRO[provider],
                                 issue_date=date(2026, 9, 1), validity_end=END)
    fine = world.add_document(provider, ACME, KBIS[provider], issue_date=date(2026, 10, 1))
    content = (CORPUS_DIR / "javascript-openaction.pdf").read_bytes()
    world.serve_file_bytes(provider, hostile, content)
    # The listing announces the hostile bytes' own SHA-256: only the content check can tell.
    assert world.document(provider, hostile).size == len(content)

    report = run(app, provider)

    assert report.outcome == "success", report.error
    assert report.counts["imported"] == 1 and report.counts["skipped"] == 1
    assert ("Attestation d'assurance responsabilité civile professionnelle (entreprise) : "
            "fichier refusé : contient du JavaScript ou un autre contenu actif (pièce jointe, "
            "action), non appliqué.") in report.details
    assert [external_id for external_id, _ in documents(app)] == [fine]
    assert world.document(provider, hostile).sha256 not in stored(app)
    # The run stores the refusal as a record; its page words it the same way.
    with app.app_context():
        run_row = db.session.get(SyncRun, report.run_id)
        items = run_items(run_row)
        assert [(item.kind, item.reason) for item in items] == [
            ("file_refused", "active"), ("imported", None)]
        assert [line.text for line in run_lines(run_row)] == report.details


def test_the_whole_hostile_corpus_is_refused_through_the_provider_path(app, world):
    ids = {}
    for month, item in enumerate(build.CORPUS):
        ext_id = world.add_document(AL, ACME, "ASSURANCE_RC_PRO",
                                    issue_date=date(2024 + month // 12, month % 12 + 1, 1),
                                    validity_end=END)
        world.serve_file_bytes(AL, ext_id, (CORPUS_DIR / item.name).read_bytes())
        ids[ext_id] = item.name
    fine = world.add_document(AL, ACME, "KBIS", issue_date=date(2026, 10, 1))

    report = run(app, AL)

    assert report.outcome == "success", report.error
    assert report.counts["imported"] == 1
    assert report.counts["skipped"] == len(build.CORPUS)
    refused = [line for line in report.details if ": fichier refusé : " in line]
    assert len(refused) == len(build.CORPUS), report.details
    assert [external_id for external_id, _ in documents(app)] == [fine]
    hostile_digests = {world.document(AL, ext_id).sha256 for ext_id in ids}
    assert not hostile_digests & stored(app)
    assert not list((Path(app.config["STORAGE_DIR"]) / "tmp").glob("*"))


# -- dates out of range ------------------------------------------------------------------


@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_a_record_dated_9999_is_skipped_and_reported_and_no_longer_blocks_the_company(
        app, world, provider):
    world.add_document(provider, ACME, RC_PRO[provider], issue_date=date(2026, 9, 1),
                       validity_start=date(9999, 12, 1), validity_end=date(9999, 12, 31))
    fine = world.add_document(provider, ACME, KBIS[provider], issue_date=date(2026, 10, 1))

    report = run(app, provider)

    assert report.outcome == "success", report.error
    assert report.counts["imported"] == 1 and report.counts["skipped"] == 1
    assert ("Attestation d'assurance responsabilité civile professionnelle (entreprise) : "
            "date 01/12/9999 hors de la plage acceptée (1990 à 2100), ignoré.") in report.details
    assert [external_id for external_id, _ in documents(app)] == [fine]
    again = run(app, provider, full=True)
    assert again.outcome == "success" and again.counts["skipped"] == 1
