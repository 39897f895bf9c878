"""`flask storage check [--fix] [--grace-hours N]`: stored files against the documents.

The store (`hiveo.dossier.storage.LocalStorage`) keeps each file at `<root>/ab/<sha256>`
and writes incoming bytes under `<root>/tmp/` first. Nothing in the portal
deletes a stored file: a failed synchronisation leaves the files it received
for the next run to reuse, and a killed process may leave a temporary file.
This command finds

- orphans: stored files that no document names (their age is shown);
- temporary files left under tmp/;
- documents whose file is missing;
- documents whose file no longer hashes to the document's SHA-256.

`--fix` deletes orphans and temporary files older than the grace period, and
nothing else: a younger file may be about to be named by a synchronisation
that is still running, and a file a document names is never deleted. Documents
are never changed; a missing or altered file needs a person (exit status 1).

The scan costs one query for every digest the documents name, then a set
lookup per file; every named file is read once, in chunks, to hash it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .core.text import plural, size_fr
from .dossier.catalogue import CATALOGUE
from .dossier.storage import storage as configured_storage
from .extensions import db
from .identifiers import format_siren
from .models import Company, Document

DEFAULT_GRACE_HOURS = 24.0
SHOWN = 10
_HEX = frozenset("0123456789abcdef")
_QUERY_CHUNK = 500

storage_group = AppGroup("storage", help="Fichiers stockés des documents.")


@dataclass(frozen=True)
class LooseFile:
    """A file no document names: an orphan, or a temporary file."""

    relative: str  # "ab/abcd…" or "tmp/incoming-…", under the storage root
    age: float  # seconds since its last modification
    size: int

    @property
    def name(self) -> str:
        return self.relative.rsplit("/", 1)[-1]


@dataclass
class StorageReport:
    root: Path
    referenced: int = 0
    files: int = 0
    orphans: list[LooseFile] = field(default_factory=list)
    temporary: list[LooseFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)


def _is_prefix(name: str) -> bool:
    return len(name) == 2 and set(name) <= _HEX


def _sorted_entries(path: str | Path) -> list[os.DirEntry]:
    with os.scandir(path) as entries:
        return sorted(entries, key=lambda entry: entry.name)


def _loose(entries: Iterable[os.DirEntry], prefix: str, now: float) -> Iterator[LooseFile]:
    for entry in entries:
        try:
            stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # renamed or removed meanwhile (a sync moving a file into place)
        yield LooseFile(f"{prefix}/{entry.name}", max(0.0, now - stat.st_mtime), stat.st_size)


def _sha256(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_sha256(path: str | Path) -> str | None:
    """The file's SHA-256, read in chunks; None when it cannot be read."""
    try:
        return _sha256(path)
    except OSError:
        return None


def scan(root: Path, referenced: set[str], *, now: float | None = None) -> StorageReport:
    """Compare the files under `root` with the digests that documents name."""
    now = time.time() if now is None else now
    report = StorageReport(root=root, referenced=len(referenced))
    present: set[str] = set()
    try:
        top = _sorted_entries(root)
    except FileNotFoundError:
        top = []
    for entry in top:
        if not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name == "tmp":
            report.temporary.extend(_loose(
                (item for item in _sorted_entries(entry.path)
                 if item.is_file(follow_symlinks=False)), "tmp", now))
            continue
        if not _is_prefix(entry.name):
            continue
        strays = []
        for item in _sorted_entries(entry.path):
            if not item.is_file(follow_symlinks=False):
                continue
            report.files += 1
            name = item.name
            # Only the file at its own place (ab/ab…) is the one a document reads.
            if name not in referenced or name[:2] != entry.name:
                strays.append(item)
                continue
            try:
                actual = _sha256(item.path)
            except FileNotFoundError:
                continue  # removed meanwhile: reported as missing
            except OSError:
                actual = None  # unreadable: as unusable as an altered file
            present.add(name)
            if actual != name:
                report.corrupt.append(name)
        report.orphans.extend(_loose(strays, entry.name, now))
    report.missing = sorted(referenced - present)
    return report


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _QUERY_CHUNK):
        yield values[start:start + _QUERY_CHUNK]


def referenced_digests() -> set[str]:
    """Every SHA-256 a document names, current, archived or refused alike: one query."""
    digests = set(db.session.scalars(select(Document.sha256).distinct()))
    db.session.rollback()  # no transaction stays open while the files are read
    return digests


def _still_referenced(digests: Iterable[str]) -> set[str]:
    """Which of these digests a document names now (one may have been committed meanwhile)."""
    names = sorted(set(digests))
    found: set[str] = set()
    for chunk in _chunks(names):
        found.update(db.session.scalars(
            select(Document.sha256).where(Document.sha256.in_(chunk)).distinct()))
    db.session.rollback()
    return found


def _documents_naming(digests: list[str]) -> tuple[int, list[str]]:
    """How many documents name these digests, and a line for each of the first ones."""
    count = 0
    lines: list[str] = []
    for chunk in _chunks(digests):
        count += db.session.scalar(
            select(func.count(Document.id)).where(Document.sha256.in_(chunk))) or 0
        if len(lines) >= SHOWN:
            continue
        rows = db.session.execute(
            select(Document.id, Document.doc_type, Company.siren, Document.sha256)
            .join(Company, Company.id == Document.company_id)
            .where(Document.sha256.in_(chunk))
            .order_by(Document.id)
            .limit(SHOWN - len(lines))
        )
        for document_id, doc_type, siren, sha256 in rows:
            label = CATALOGUE[doc_type].label if doc_type in CATALOGUE else doc_type
            lines.append(f"document {document_id} : {label}, SIREN {format_siren(siren)} "
                         f"(fichier {sha256[:2]}/{sha256})")
    db.session.rollback()
    return count, lines


@dataclass
class Removal:
    orphans: int = 0
    orphan_bytes: int = 0
    temporary: int = 0
    kept_orphans: int = 0
    kept_temporary: int = 0
    now_named: int = 0  # orphans named by a document committed since the scan


def _unlink(path: Path) -> bool:
    """Delete a file; False when it was already gone (another cleaner, a concurrent fix)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def remove_stale(report: StorageReport, grace_seconds: float) -> Removal:
    """Delete orphans and temporary files older than the grace period; never a named file."""
    removal = Removal()
    old_orphans = [item for item in report.orphans if item.age >= grace_seconds]
    removal.kept_orphans = len(report.orphans) - len(old_orphans)
    named = _still_referenced(item.name for item in old_orphans)
    for item in old_orphans:
        if item.name in named and item.relative == f"{item.name[:2]}/{item.name}":
            removal.now_named += 1
            continue
        if not _unlink(report.root / item.relative):
            continue
        removal.orphans += 1
        removal.orphan_bytes += item.size
    for item in report.temporary:
        if item.age < grace_seconds:
            removal.kept_temporary += 1
            continue
        if not _unlink(report.root / item.relative):
            continue
        removal.temporary += 1
    return removal


# -- what people read ------------------------------------------------------------



def format_age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} j"



def _hours(value: float) -> str:
    return f"{value:g} h".replace(".", ",")


def _echo_loose(title: str, items: list[LooseFile]) -> None:
    click.echo(f"{title} : {len(items)}"
               + (f" ({size_fr(sum(item.size for item in items))})" if items else ""))
    for item in items[:SHOWN]:
        click.echo(f"  {item.relative} (âge : {format_age(item.age)})")
    if len(items) > SHOWN:
        click.echo(f"  … et {len(items) - SHOWN} autres")


def _echo_documents(title: str, digests: list[str]) -> int:
    if not digests:
        click.echo(f"{title} : 0")
        return 0
    count, lines = _documents_naming(digests)
    click.echo(f"{title} : {count}")
    for line in lines:
        click.echo(f"  {line}")
    if count > len(lines):
        click.echo(f"  … et {count - len(lines)} autres")
    return count


@storage_group.command("check", help=(
    "Vérifie les fichiers stockés : fichiers orphelins, fichiers temporaires, documents "
    "dont le fichier manque ou ne correspond pas à son empreinte SHA-256."))
@click.option("--fix", is_flag=True,
              help="Supprime les fichiers orphelins et temporaires plus anciens que le délai "
                   "de grâce (jamais un fichier référencé, jamais un document).")
@click.option("--grace-hours", type=click.FloatRange(min=0), default=DEFAULT_GRACE_HOURS,
              show_default=True, help="Âge minimal, en heures, d'un fichier supprimé.")
def storage_check(fix: bool, grace_hours: float) -> None:
    root = configured_storage().root
    report = scan(root, referenced_digests())
    click.echo(f"Stockage : {root}")
    click.echo(f"{plural(report.files, 'fichier stocké', 'fichiers stockés')}, "
               f"{plural(report.referenced, 'empreinte référencée', 'empreintes référencées')} "
               "par les documents.")
    _echo_loose("Fichiers orphelins (aucun document ne les référence)", report.orphans)
    _echo_loose("Fichiers temporaires restants (tmp/)", report.temporary)
    missing = _echo_documents("Documents dont le fichier est manquant", report.missing)
    corrupt = _echo_documents(
        "Documents dont le fichier ne correspond pas à son empreinte SHA-256", report.corrupt)

    grace = _hours(grace_hours)
    if fix:
        removal = remove_stale(report, grace_hours * 3600)
        click.echo(
            f"Supprimés (plus anciens que {grace}) : "
            f"{plural(removal.orphans, 'fichier orphelin', 'fichiers orphelins')} "
            f"({size_fr(removal.orphan_bytes)}) et "
            f"{plural(removal.temporary, 'fichier temporaire', 'fichiers temporaires')}.")
        if removal.kept_orphans or removal.kept_temporary:
            click.echo(
                f"Conservés (plus récents que {grace} : une synchronisation en cours peut "
                "encore s'en servir) : "
                f"{plural(removal.kept_orphans, 'fichier orphelin', 'fichiers orphelins')} et "
                f"{plural(removal.kept_temporary, 'fichier temporaire', 'fichiers temporaires')}."
            )
        if removal.now_named:
            click.echo("Conservés : " + plural(
                removal.now_named, "fichier désormais référencé", "fichiers désormais référencés")
                + " par un document enregistré pendant la vérification.")
    elif report.orphans or report.temporary:
        click.echo(f"Relancez avec --fix pour supprimer ceux qui ont plus de {grace}.")

    if missing or corrupt:
        click.echo(
            f"À reprendre par une personne : "
            f"{plural(missing + corrupt, 'document', 'documents')} sans fichier intact "
            "(cette commande ne modifie jamais les documents).")
        raise SystemExit(1)
    click.echo("Chaque document a son fichier, intact.")


def register(app: Flask) -> None:
    app.cli.add_command(storage_group)
