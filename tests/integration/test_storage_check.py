"""`flask storage check [--fix]`: stored files against the documents that name them."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_document
from hiveo.demo.pdfgen import make_pdf
from hiveo.dossier.storage import storage
from hiveo.extensions import db
from hiveo.identifiers import format_siren
from hiveo.maintenance import remove_stale, scan
from hiveo.models import Company, Document
from tests.helpers import count_queries

HOUR = 3600


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def check(runner, *options):
    return runner.invoke(args=["storage", "check", *options])


def add_documents(app, siren: str, *doc_types: str) -> dict[str, str]:
    """Documents with their files; returns doc type -> SHA-256."""
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.siren == siren))
        digests = {doc_type: make_document(company, doc_type, issue_date=date(2026, 10, 1),
                                           validity_end=date(2027, 6, 1)).sha256
                   for doc_type in doc_types}
        db.session.commit()
        return digests


def store_loose(app, text: str, *, hours_old: float = 0) -> Path:
    """A stored file that no document names, last modified `hours_old` ago."""
    with app.app_context():
        store = storage()
        stored = store.save_chunks([make_pdf("Orphelin", [text])])
        path = store.path(stored.sha256)
    age(path, hours_old)
    return path


def temporary(app, name: str, *, hours_old: float = 0) -> Path:
    path = Path(app.config["STORAGE_DIR"]) / "tmp" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 interrompu")
    age(path, hours_old)
    return path


def age(path: Path, hours: float) -> None:
    when = time.time() - hours * HOUR
    os.utime(path, (when, when))


def file_of(app, sha256: str) -> Path:
    with app.app_context():
        return storage().path(sha256)


def test_a_consistent_store_passes_with_exit_status_zero(app, cast, runner):
    add_documents(app, cast.acme, "KBIS", "URSSAF_VIGILANCE")
    add_documents(app, cast.globex, "KBIS")
    result = check(runner)
    assert result.exit_code == 0, result.output
    assert "3 fichiers stockés, 3 empreintes référencées par les documents." in result.output
    assert "Fichiers orphelins (aucun document ne les référence) : 0" in result.output
    assert "Documents dont le fichier est manquant : 0" in result.output
    assert "Chaque document a son fichier, intact." in result.output


def test_orphans_are_reported_with_their_age_and_removed_only_after_the_grace_period(
        app, cast, runner):
    digests = add_documents(app, cast.acme, "KBIS")
    old = store_loose(app, "ancien", hours_old=30)
    young = store_loose(app, "récent", hours_old=2)

    result = check(runner)
    assert result.exit_code == 0, result.output
    assert "Fichiers orphelins (aucun document ne les référence) : 2" in result.output
    assert f"{old.parent.name}/{old.name} (âge : 30 h)" in result.output
    assert f"{young.parent.name}/{young.name} (âge : 2 h)" in result.output
    assert "Relancez avec --fix" in result.output
    assert old.exists() and young.exists()  # a check alone deletes nothing

    result = check(runner, "--fix")
    assert result.exit_code == 0, result.output
    assert "Supprimés (plus anciens que 24 h) : 1 fichier orphelin" in result.output
    assert "Conservés (plus récents que 24 h" in result.output
    assert not old.exists() and young.exists()
    assert file_of(app, digests["KBIS"]).exists()

    result = check(runner, "--fix", "--grace-hours", "1")
    assert result.exit_code == 0, result.output
    assert not young.exists()
    assert file_of(app, digests["KBIS"]).exists()
    assert "Fichiers orphelins (aucun document ne les référence) : 0" in check(runner).output


def test_a_file_a_document_references_is_never_removed_however_old(app, cast, runner):
    digests = add_documents(app, cast.acme, "KBIS", "LNTE")
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        # An archived version still names its file: history keeps its evidence.
        make_document(company, "KBIS", issue_date=date(2026, 11, 1))
        db.session.commit()
        every = set(db.session.scalars(select(Document.sha256)))
    assert len(every) == 3 and set(digests.values()) <= every
    for sha256 in every:
        age(file_of(app, sha256), 24 * 365)
    result = check(runner, "--fix", "--grace-hours", "0")
    assert result.exit_code == 0, result.output
    assert "Supprimés (plus anciens que 0 h) : 0 fichier orphelin" in result.output
    assert all(file_of(app, sha256).exists() for sha256 in every)


def test_missing_and_corrupted_files_are_reported_with_exit_status_one(app, cast, runner):
    digests = add_documents(app, cast.acme, "KBIS", "URSSAF_VIGILANCE", "LNTE")
    shared = make_pdf("Partagé", ["même contenu pour deux documents"])
    with app.app_context():
        globex = db.session.scalar(select(Company).where(Company.siren == cast.globex))
        twins = [make_document(globex, doc_type, issue_date=date(2026, 10, 1),
                               validity_end=date(2027, 6, 1), content=shared)
                 for doc_type in ("KBIS", "LNTE")]
        db.session.commit()
        twin_ids = {twin.id: twin.doc_type for twin in twins}
        rows_before = db.session.execute(select(Document.__table__)).all()
    file_of(app, twins[0].sha256).unlink()
    corrupted = file_of(app, digests["URSSAF_VIGILANCE"])
    corrupted.write_bytes(corrupted.read_bytes()[:-10] + b"0123456789")
    age(corrupted, 100)

    for options in ((), ("--fix", "--grace-hours", "0")):
        result = check(runner, *options)
        assert result.exit_code == 1, result.output
        assert "Documents dont le fichier est manquant : 2" in result.output
        for twin_id, doc_type in twin_ids.items():
            label = {"KBIS": "Extrait Kbis", "LNTE": "Liste nominative"}[doc_type]
            assert f"document {twin_id} : {label}" in result.output
        assert f"SIREN {format_siren(cast.globex)}" in result.output
        assert ("Documents dont le fichier ne correspond pas à son empreinte SHA-256 : 1"
                in result.output)
        assert "SIREN 732 829 320" in result.output
        assert "À reprendre par une personne : 3 documents sans fichier intact" in result.output
        # Neither the documents nor a referenced (even altered) file are touched.
        assert corrupted.exists()
        assert file_of(app, digests["KBIS"]).exists()
        with app.app_context():
            assert db.session.execute(select(Document.__table__)).all() == rows_before


def test_temporary_leftovers_are_reported_and_removed_after_the_grace_period(app, cast, runner):
    add_documents(app, cast.acme, "KBIS")
    stale = temporary(app, "incoming-interrompu", hours_old=48)
    fresh = temporary(app, "incoming-en-cours", hours_old=0.1)
    result = check(runner)
    assert result.exit_code == 0, result.output
    assert "Fichiers temporaires restants (tmp/) : 2" in result.output
    assert "tmp/incoming-interrompu (âge : 2 j)" in result.output
    assert "tmp/incoming-en-cours (âge : 6 min)" in result.output

    result = check(runner, "--fix")
    assert result.exit_code == 0, result.output
    assert "1 fichier temporaire." in result.output
    assert "0 fichier orphelin et 1 fichier temporaire." in result.output  # kept: the fresh one
    assert not stale.exists() and fresh.exists()


def test_a_file_outside_its_place_or_with_a_foreign_name_is_an_orphan(app, cast, runner):
    digests = add_documents(app, cast.acme, "KBIS")
    root = Path(app.config["STORAGE_DIR"])
    kbis = digests["KBIS"]
    misplaced = root / "00" / kbis  # a documents reads <first two hex digits>/<digest> only
    misplaced.parent.mkdir(exist_ok=True)
    misplaced.write_bytes(file_of(app, kbis).read_bytes())
    foreign = root / kbis[:2] / "notes.txt"
    foreign.write_text("à ne pas garder")
    for path in (misplaced, foreign):
        age(path, 30)
    result = check(runner)
    assert "Fichiers orphelins (aucun document ne les référence) : 2" in result.output
    result = check(runner, "--fix")
    assert result.exit_code == 0, result.output
    assert not misplaced.exists() and not foreign.exists()
    assert file_of(app, kbis).exists()


def test_an_orphan_named_by_a_document_committed_during_the_check_is_kept(app, cast):
    orphan = store_loose(app, "repris par une synchronisation", hours_old=30)
    with app.app_context():
        report = scan(Path(app.config["STORAGE_DIR"]), set())
        assert [item.name for item in report.orphans] == [orphan.name]
        # A run commits a document naming the file between the scan and the removal.
        company = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        make_document(company, "KBIS", issue_date=date(2026, 10, 1),
                      content=orphan.read_bytes())
        db.session.commit()
        removal = remove_stale(report, grace_seconds=0)
    assert removal.orphans == 0 and removal.now_named == 1
    assert orphan.exists()


def test_the_check_reads_the_references_in_one_query_whatever_the_number_of_files(
        app, cast, runner):
    add_documents(app, cast.acme, "KBIS", "URSSAF_VIGILANCE", "LNTE", "FISCAL_REGULARITY")
    for index in range(20):
        store_loose(app, f"orphelin {index}")
    with count_queries(app) as statements:
        result = check(runner)
    assert result.exit_code == 0, result.output
    assert len(statements) == 1, statements
    assert "… et 10 autres" in result.output  # the first ten are listed
