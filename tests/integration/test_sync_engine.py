"""The sync engine against the simulator over real HTTP (DOMAIN.md 3.5 to 3.7)."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from hiveo.demo.companies import make_siret
from hiveo.demo.factories import make_document
from hiveo.dossier.services import refuse_document
from hiveo.extensions import db
from hiveo.models import (
    Company,
    Document,
    Establishment,
    ProviderLink,
    Relation,
    SyncRun,
    SyncRunItem,
    User,
)
from hiveo.sync.engine import SyncHooks, sync_company

AL = "attestation_legale"
ACTRADIS = "actradis"
ACME = "732829320"
SIRET_1 = "73282932000017"


@pytest.fixture
def app_overrides(simulator):
    return simulator.config()


@pytest.fixture
def world(app, cast, simulator):
    sim = simulator.sim
    for provider in (AL, ACTRADIS):
        sim.add_company(provider, ACME, "Acme Nettoyage")
    return sim


def run(app, provider=AL, **kwargs):
    with app.app_context():
        return sync_company(company_id(app), provider, **kwargs)


def company_id(app) -> int:
    return db.session.scalar(select(Company.id).where(Company.siren == ACME))


def export(app) -> dict:
    result = app.test_cli_runner().invoke(args=["dossier", "export", ACME])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def dossier_state(app) -> list[dict]:
    """Documents and links only: what a failed run must leave exactly as it was."""
    data = export(app)
    providers = {name: {k: v for k, v in entry.items() if k != "last_run"}
                 for name, entry in data["providers"].items()}
    return [data["documents"], providers]


def documents(app, **filters) -> list[Document]:
    with app.app_context():
        query = select(Document).order_by(Document.id)
        for key, value in filters.items():
            query = query.where(getattr(Document, key) == value)
        docs = list(db.session.scalars(query))
        db.session.expunge_all()
        return docs


def add_al(sim, code, **kwargs):
    kwargs.setdefault("issue_date", date(2026, 10, 1))
    return sim.add_document(AL, ACME, code, **kwargs)


def test_first_sync_imports_documents_with_their_source(app, world):
    kbis = add_al(world, "KBIS")
    add_al(world, "ATTESTATION_URSSAF", validity_start=date(2026, 10, 1),
           validity_end=date(2027, 3, 31))
    add_al(world, "CONGES_PAYES_BTP", siret=SIRET_1, validity_end=date(2027, 3, 31))
    report = run(app)
    assert report.outcome == "success", report.error
    assert report.counts["imported"] == 3
    assert report.files_downloaded == 3
    data = export(app)
    by_type = {d["type"]: d for d in data["documents"]}
    assert by_type["KBIS"]["source"] == AL
    assert by_type["KBIS"]["external_id"] == kbis
    assert by_type["KBIS"]["external_revision"] == 1
    assert by_type["BTP_PAID_LEAVE"]["siret"] == SIRET_1
    assert data["providers"][AL]["linked"] is True
    assert data["providers"][AL]["sync_enabled"] is True
    last = data["providers"][AL]["last_run"]
    assert last["outcome"] == "success" and last["counts"]["imported"] == 3
    assert data["providers"][ACTRADIS]["linked"] is False


def test_unchanged_resync_downloads_no_file(app, world):
    for code in ("KBIS", "ATTESTATION_URSSAF", "LISTE_SALARIES_ETRANGERS"):
        add_al(world, code)
    run(app)
    downloads = world.file_downloads()
    before = dossier_state(app)
    report = run(app)
    assert report.outcome == "success"
    assert report.files_downloaded == 0
    assert world.file_downloads() == downloads
    assert report.counts == dict.fromkeys(report.counts, 0)
    assert dossier_state(app) == before


def test_a_revision_bump_archives_and_replaces(app, world):
    kbis = add_al(world, "KBIS", issue_date=date(2026, 9, 1))
    run(app)
    world.revise_document(AL, kbis, issue_date=date(2026, 11, 20))
    report = run(app)
    assert report.counts["replaced"] == 1
    old, new = documents(app, doc_type="KBIS")
    assert old.external_revision == 1 and old.archived_at is not None
    assert old.replaced_by_id == new.id
    assert new.external_revision == 2 and new.is_current


def test_awaiting_and_refused_provider_documents_are_reported_not_applied(app, world):
    add_al(world, "KBIS", state="AWAITING_VALIDATION")
    add_al(world, "ATTESTATION_FISCALE", state="REJECTED", rejection_reason="Illisible",
           validity_end=date(2027, 5, 1))
    report = run(app)
    assert report.counts["awaiting"] == 1 and report.counts["refused"] == 1
    assert documents(app) == []
    assert any("en attente de validation chez Attestation Légale" in d for d in report.details)
    assert any("Illisible" in d for d in report.details)
    assert "1 en attente de validation chez Attestation Légale" in report.summary()


def test_an_expired_provider_document_fills_an_empty_slot_shown_expired(app, world):
    add_al(world, "ATTESTATION_URSSAF", state="EXPIRED", issue_date=date(2026, 1, 1),
           validity_end=date(2026, 6, 30))
    run(app)
    assert export(app)["documents"][0]["state"] == "expired"


def run_items(app, run_id: int) -> list[SyncRunItem]:
    with app.app_context():
        items = list(db.session.scalars(select(SyncRunItem).where(SyncRunItem.run_id == run_id)
                                        .order_by(SyncRunItem.position)))
        db.session.expunge_all()
        return items


def test_a_run_records_each_document_it_touched_with_what_its_sentence_needs(app, world):
    with app.app_context():
        company = db.session.get(Company, company_id(app))
        manual = make_document(company, "URSSAF_VIGILANCE", issue_date=date(2026, 9, 1)).id
        db.session.commit()
    kbis = add_al(world, "KBIS")
    urssaf = add_al(world, "ATTESTATION_URSSAF", validity_start=date(2026, 10, 1),
                    validity_end=date(2027, 3, 31))
    add_al(world, "CERTIFICAT_QUALIPROPRE")
    add_al(world, "CONGES_PAYES_BTP", siret=make_siret(ACME, 999),
           validity_end=date(2027, 3, 31))
    add_al(world, "ATTESTATION_FISCALE", state="REJECTED", rejection_reason="Illisible",
           validity_end=date(2027, 5, 1))
    report = run(app)
    items = {item.kind: item for item in run_items(app, report.run_id)}
    assert set(items) == {"imported", "replaced", "unknown_type", "establishment_missing",
                          "refused"}
    new = {d.external_id: d.id for d in documents(app, source=AL)}
    assert (items["imported"].external_id, items["imported"].document_id) == (kbis, new[kbis])
    replaced = items["replaced"]
    assert (replaced.doc_type, replaced.document_id, replaced.archived_id) == (
        "URSSAF_VIGILANCE", new[urssaf], manual)
    assert items["unknown_type"].provider_code == "CERTIFICAT_QUALIPROPRE"
    assert items["unknown_type"].doc_type is None
    assert items["establishment_missing"].siret == make_siret(ACME, 999)
    assert items["refused"].reason == "Illisible"
    with app.app_context():
        assert db.session.get(SyncRun, report.run_id).details == []
    # The sentences are built from the records: the report says what the run page says.
    assert any("votre dépôt du" in line and "a été archivé" in line for line in report.details)
    assert "Type inconnu « CERTIFICAT_QUALIPROPRE » (entreprise) : ignoré." in report.details


def test_a_failed_run_records_no_item(app, world):
    add_al(world, "KBIS")
    world.set_subscription(AL, ACME, False)
    report = run(app)
    assert report.outcome == "failed" and run_items(app, report.run_id) == []


def test_unknown_types_are_skipped_and_reported(app, world):
    add_al(world, "CERTIFICAT_QUALIPROPRE")
    add_al(world, "KBIS")
    report = run(app)
    assert report.outcome == "success"
    assert report.counts["skipped"] == 1 and report.counts["imported"] == 1
    assert any("CERTIFICAT_QUALIPROPRE" in d for d in report.details)


def test_documents_of_establishments_unknown_here_are_skipped(app, world):
    add_al(world, "CONGES_PAYES_BTP", siret=make_siret(ACME, 999),
           validity_end=date(2027, 1, 1))
    report = run(app)
    assert report.counts["skipped"] == 1
    assert documents(app) == []


def test_a_document_missing_from_the_listing_is_never_archived(app, world):
    kbis = add_al(world, "KBIS")
    run(app)
    world.remove_document(AL, kbis)
    run(app)
    (document,) = documents(app)
    assert document.is_current and document.archived_at is None


def manual(app, doc_type, **kwargs):
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.siren == ACME))
        document = make_document(company, doc_type, **kwargs)
        db.session.commit()
        return document.id


def test_a_newer_manual_document_stays_until_a_newer_provider_version(app, world):
    manual_id = manual(app, "KBIS", issue_date=date(2026, 11, 1))
    kbis = add_al(world, "KBIS", issue_date=date(2026, 10, 1))
    report = run(app)
    assert report.counts["kept"] == 1
    assert "1 conservé (votre version est plus récente)" in report.summary()
    (current,) = documents(app, is_current=True)
    assert current.id == manual_id
    # Unchanged: no second download of a file that loses anyway.
    downloads = world.file_downloads()
    run(app)
    assert world.file_downloads() == downloads
    world.revise_document(AL, kbis, issue_date=date(2026, 11, 25),
                          validity_start=date(2026, 11, 25))
    report = run(app)
    assert report.counts["replaced"] == 1
    manual_doc = next(d for d in documents(app) if d.id == manual_id)
    assert manual_doc.archived_at is not None and not manual_doc.is_current
    (current,) = documents(app, is_current=True)
    assert current.source == AL and current.external_revision == 2


def test_multi_types_never_archive_a_manual_document(app, world):
    manual_id = manual(app, "INSURANCE_RC_PRO", issue_date=date(2026, 1, 1),
                       validity_end=date(2026, 12, 31))
    first = add_al(world, "ASSURANCE_RC_PRO", issue_date=date(2026, 11, 1),
                   validity_end=date(2027, 10, 31))
    add_al(world, "ASSURANCE_RC_PRO", issue_date=date(2026, 11, 2),
           validity_end=date(2027, 11, 1))
    run(app)
    current = documents(app, is_current=True)
    assert len(current) == 3
    assert manual_id in [d.id for d in current]
    world.revise_document(AL, first, validity_end=date(2028, 1, 1))
    report = run(app)
    assert report.counts["replaced"] == 1
    current = documents(app, is_current=True)
    assert len(current) == 3 and manual_id in [d.id for d in current]


def refused_upload(app, doc_type, siret=None, **kwargs) -> int:
    """A manual upload by alice that olivia refused."""
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.siren == ACME))
        if siret is not None:
            kwargs["establishment"] = db.session.scalar(
                select(Establishment).where(Establishment.siret == siret))
        alice = db.session.scalar(select(User).where(User.email == "alice@example.com"))
        olivia = db.session.scalar(select(User).where(User.email == "olivia@example.com"))
        document = make_document(company, doc_type, validated=False, uploaded_by=alice,
                                 **kwargs)
        refuse_document(document.id, olivia, "Document illisible.")
        db.session.commit()
        return document.id


def test_a_provider_document_settles_the_refusal_of_its_slot_and_no_other(app, world):
    kbis_refused = refused_upload(app, "KBIS", issue_date=date(2026, 10, 20))
    lnte_refused = refused_upload(app, "LNTE", issue_date=date(2026, 10, 20))
    add_al(world, "KBIS", issue_date=date(2026, 11, 2))
    report = run(app)
    assert report.counts["imported"] == 1
    (provider_kbis,) = documents(app, source=AL)
    assert provider_kbis.is_current
    by_id = {d.id: d for d in documents(app, source="manual")}
    settled, untouched = by_id[kbis_refused], by_id[lnte_refused]
    # Settled: moved to history, replaced by the provider's document, its refusal kept.
    assert settled.archived_at is not None
    assert settled.replaced_by_id == provider_kbis.id
    assert not settled.is_current and settled.current_slot is None
    assert settled.review_state == "refused" and settled.refusal_reason == "Document illisible."
    # The provider sent nothing for the LNTE slot: that refusal still waits for an answer.
    assert untouched.archived_at is None and untouched.replaced_by_id is None
    assert untouched.review_state == "refused"
    # Settled once: a later run moves nothing.
    run(app)
    again = {d.id: d for d in documents(app, source="manual")}
    assert again[kbis_refused].archived_at == settled.archived_at
    assert again[kbis_refused].replaced_by_id == provider_kbis.id
    assert again[lnte_refused].archived_at is None


def test_a_provider_document_settles_refusals_of_its_own_establishment_only(app, world):
    with app.app_context():
        sites = {e.siret: e.id for e in db.session.scalars(select(Establishment))}
    site_1 = refused_upload(app, "BTP_PAID_LEAVE", issue_date=date(2026, 10, 20),
                            validity_end=date(2027, 3, 31), siret=SIRET_1)
    site_2 = refused_upload(app, "BTP_PAID_LEAVE", issue_date=date(2026, 10, 20),
                            validity_end=date(2027, 3, 31),
                            siret=make_siret(ACME, 2))
    add_al(world, "CONGES_PAYES_BTP", siret=SIRET_1, validity_end=date(2027, 3, 31))
    run(app)
    (provider_doc,) = documents(app, source=AL)
    assert provider_doc.establishment_id == sites[SIRET_1]
    by_id = {d.id: d for d in documents(app, source="manual")}
    assert by_id[site_1].replaced_by_id == provider_doc.id
    assert by_id[site_1].archived_at is not None
    assert by_id[site_2].replaced_by_id is None and by_id[site_2].archived_at is None


FAULTS = {
    "500 on page 2": (lambda sim: sim.fail_listing_page(AL, ACME, 2, status=500), "erreur"),
    "timeout": (lambda sim: sim.delay(AL, 2.0, path_prefix="/v1/companies/"), "ne répond pas"),
    "malformed JSON": (lambda sim: sim.malformed_json(AL, ACME), "illisible"),
    "redirect": (lambda sim: sim.redirect(AL, "/v1/documents/"), "ne suit pas"),
    "subscription": (lambda sim: sim.set_subscription(AL, ACME, False), "Abonnement"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_applies_nothing_records_why_and_the_next_run_completes(app, world, fault):
    app.config["PROVIDER_PAGE_SIZE"] = 2
    kbis = add_al(world, "KBIS", issue_date=date(2026, 9, 1))
    run(app)
    world.revise_document(AL, kbis, issue_date=date(2026, 11, 1))
    for code in ("ATTESTATION_URSSAF", "LISTE_SALARIES_ETRANGERS", "ATTESTATION_FISCALE"):
        add_al(world, code, validity_end=date(2027, 6, 1))
    before = dossier_state(app)
    inject, message = FAULTS[fault]
    inject(world)
    report = run(app)
    assert report.outcome == "failed"
    assert message.lower() in report.error.lower(), report.error
    assert dossier_state(app) == before
    last = export(app)["providers"][AL]["last_run"]
    assert last["outcome"] == "failed" and last["error"] == report.error
    world.clear_faults()
    if fault == "subscription":
        world.set_subscription(AL, ACME, True)
    report = run(app)
    assert report.outcome == "success", report.error
    assert report.counts["imported"] == 3 and report.counts["replaced"] == 1


def test_a_checksum_mismatch_applies_nothing_and_stores_nothing(app, world):
    good = add_al(world, "KBIS")
    bad = add_al(world, "ATTESTATION_URSSAF")
    world.corrupt_file(AL, bad)
    report = run(app)
    assert report.outcome == "failed"
    assert "corrompu" in report.error
    assert documents(app) == []
    from pathlib import Path

    stored = {p.name for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()}
    assert world.document(AL, bad).sha256 not in stored
    assert world.document(AL, good).sha256 in stored   # kept for the retry
    world.clear_faults()
    downloads = world.file_downloads()
    assert run(app).outcome == "success"
    assert world.file_downloads() == downloads + 1     # the good file is reused


def test_actradis_403_is_a_subscription_error(app, world):
    world.add_document(ACTRADIS, ACME, "EXTRAIT_KBIS")
    world.set_subscription(ACTRADIS, ACME, False)
    report = run(app, ACTRADIS)
    assert report.outcome == "failed" and "Abonnement Actradis inactif" in report.error


def test_a_disabled_company_receives_no_call_at_all(app, world):
    add_al(world, "KBIS")
    run(app)
    with app.app_context():
        link = db.session.scalar(select(ProviderLink))
        link.sync_enabled = False
        db.session.commit()
    world.clear_calls()
    report = run(app)
    assert report.outcome == "disabled"
    assert world.calls == []
    result = app.test_cli_runner().invoke(args=["sync", "run"])
    assert result.exit_code == 0, result.output
    assert [c for c in world.calls if c.siren == ACME and c.provider == AL] == []


def test_a_company_without_account_is_not_linked(app, cast, simulator):
    report = run(app)
    assert report.outcome == "not_linked"
    with app.app_context():
        assert db.session.scalar(select(func.count(SyncRun.id))) == 0


def test_actradis_incremental_feed_asks_only_for_changes(app, world):
    app.config["PROVIDER_PAGE_SIZE"] = 2
    pieces = [world.add_document(ACTRADIS, ACME, nature, issue_date=date(2026, 10, 1))
              for nature in ("EXTRAIT_KBIS", "ATTESTATION_VIGILANCE", "LNTE")]
    assert run(app, ACTRADIS).counts["imported"] == 3
    with app.app_context():
        cursor = db.session.scalar(select(ProviderLink.cursor))
    assert cursor
    world.clear_calls()
    world.revise_document(ACTRADIS, pieces[0], issue_date=date(2026, 11, 20))
    report = run(app, ACTRADIS)
    assert report.counts["replaced"] == 1
    listing_calls = [c for c in world.calls if c.path.endswith("/pieces")]
    assert listing_calls[0].query.get("depuis") == cursor
    assert len(listing_calls) == 1  # one changed piece: one slice
    incremental = export(app)["documents"]
    # A full listing (as a reactivation does) gives the same end state.
    full = run(app, ACTRADIS, full=True)
    assert full.outcome == "success" and full.counts["imported"] == 0
    assert export(app)["documents"] == incremental


def test_a_switch_turned_off_during_the_fetch_wins(app, world):
    add_al(world, "KBIS")
    run(app)
    world.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 10, 1))

    def turn_off():
        with app.app_context():
            link = db.session.scalar(select(ProviderLink))
            link.sync_enabled = False
            db.session.commit()

    before = dossier_state(app)
    report = run(app, hooks=SyncHooks(before_apply=turn_off))
    assert report.outcome == "cancelled" and report.ok
    assert "désactivée pendant son exécution" in report.error
    after = dossier_state(app)
    assert after[0] == before[0]


def test_an_error_inside_phase_two_rolls_everything_back(app, world):
    for code in ("KBIS", "ATTESTATION_URSSAF"):
        add_al(world, code)
    before = dossier_state(app)

    def boom():
        raise RuntimeError("disk full")

    report = run(app, hooks=SyncHooks(during_apply=boom))
    assert report.outcome == "failed"
    assert "aucun changement n'a été appliqué" in report.error
    assert dossier_state(app) == before
    assert run(app).counts["imported"] == 2


def test_two_runs_of_one_company_at_once_store_each_document_once(app, world):
    for index in range(12):
        add_al(world, "ASSURANCE_RC_PRO", issue_date=date(2026, 10, 1 + index),
               validity_end=date(2027, 10, 1))
    world.slow_files(AL, 0.02)
    reports = []

    def worker():
        with app.app_context():
            reports.append(sync_company(company_id(app), AL))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.outcome for r in reports) == ["busy", "success"]
    with app.app_context():
        rows = db.session.execute(
            select(Document.external_id, func.count()).group_by(Document.external_id)
        ).all()
    assert len(rows) == 12 and all(count == 1 for _id, count in rows)


@pytest.mark.parametrize("outcome", ["busy", "disabled", "off", "not_linked", "échec"])
def test_the_database_stores_only_the_outcomes_of_runs_that_took_place(app, cast, outcome):
    from sqlalchemy.exc import IntegrityError

    from hiveo.models import utcnow
    from hiveo.sync.outcomes import RECORDED, Outcome

    assert {o.value for o in Outcome if o.recorded} == {"success", "failed", "cancelled"}
    with app.app_context():
        for stored in sorted(RECORDED):
            db.session.add(SyncRun(company_id=cast.acme_id, provider=AL, trigger="manual",
                                   started_at=utcnow(), finished_at=utcnow(), outcome=stored))
        db.session.commit()
        db.session.add(SyncRun(company_id=cast.acme_id, provider=AL, trigger="manual",
                               started_at=utcnow(), finished_at=utcnow(), outcome=outcome))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_sync_gives_a_clients_relation_the_standing_of_what_it_imported(app, cast, world):
    from hiveo.demo.factories import make_relation
    from hiveo.relations.figures import stale_standings

    with app.app_context():
        relation_id = make_relation(db.session.get(Company, cast.globex_id),
                                    db.session.get(Company, cast.acme_id)).id
        db.session.commit()

    def standing():
        with app.app_context():
            assert stale_standings() == []
            return tuple(db.session.execute(
                select(Relation.unheld_slots, Relation.held_until)
                .where(Relation.id == relation_id)).one())

    assert standing() == (3, None)
    add_al(world, "KBIS")
    add_al(world, "ATTESTATION_URSSAF", validity_start=date(2026, 10, 1),
           validity_end=date(2027, 3, 31))
    assert run(app).outcome == "success"
    assert standing()[0] == 1                     # the list of foreign workers is missing
    add_al(world, "LISTE_SALARIES_ETRANGERS", validity_end=date(2027, 2, 28))
    assert run(app).outcome == "success"
    with app.app_context():
        kbis_end = db.session.scalar(select(Document.effective_end).where(
            Document.doc_type == "KBIS", Document.is_current.is_(True)))
    assert standing() == (0, min(kbis_end, date(2027, 2, 28)))
