"""A supplier's required documents as a ZIP with a manifest, for a client to hand on.

The archive is written to a spooled temporary file (in memory up to a few
megabytes, on disk beyond), each PDF copied from storage in chunks: memory
stays bounded whatever the size of the dossier.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from datetime import date
from typing import IO

from ..dossier.catalogue import CATALOGUE
from ..dossier.states import document_state
from ..dossier.storage import CHUNK, storage
from ..models import Company, Document
from ..providers import PROVIDERS

SPOOL_BYTES = 8 * 1024 * 1024
MANIFEST_FIELDS = ("type", "libelle", "siret", "date_delivrance", "debut_validite",
                   "fin_validite", "etat", "source", "sha256", "fichier")


class MissingFile(LookupError):
    """A document's file is not in storage: the archive cannot be complete."""

    def __init__(self, document: Document):
        super().__init__(f"file {document.sha256} of document {document.id} is missing")
        self.document = document


@dataclass(frozen=True)
class ManifestLine:
    type: str
    libelle: str
    siret: str
    date_delivrance: str
    debut_validite: str
    fin_validite: str
    etat: str
    source: str
    sha256: str
    fichier: str


def source_label(source: str) -> str:
    return "Dépôt manuel" if source == "manual" else PROVIDERS.get(source, source)


def zip_name(document: Document, supplier: Company, siret: str | None) -> str:
    """A name built from facts we trust (never the uploader's file name), unique per document."""
    owner = siret or supplier.siren
    return f"{document.doc_type}-{owner}-{document.issue_date.isoformat()}-{document.id}.pdf"


def manifest_line(document: Document, supplier: Company, siret: str | None,
                  today: date) -> ManifestLine:
    return ManifestLine(
        type=document.doc_type, libelle=CATALOGUE[document.doc_type].label, siret=siret or "",
        date_delivrance=document.issue_date.isoformat(),
        debut_validite=document.validity_start.isoformat(),
        fin_validite=document.effective_end.isoformat(),
        etat=document_state(document, today).label, source=source_label(document.source),
        sha256=document.sha256, fichier=zip_name(document, supplier, siret))


def build_zip(supplier: Company, documents: list[tuple[Document, str | None]],
              today: date) -> IO[bytes]:
    """The archive, rewound, in a temporary file the caller closes (send_file does)."""
    files = storage()
    for document, _siret in documents:
        if not files.exists(document.sha256):
            raise MissingFile(document)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned)
    lines = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for document, siret in documents:
            line = manifest_line(document, supplier, siret, today)
            lines.append(line)
            with files.open(document.sha256) as source, archive.open(line.fichier, "w") as target:
                shutil.copyfileobj(source, target, CHUNK)
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=MANIFEST_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for line in lines:
            writer.writerow(asdict(line))
        # A BOM so that spreadsheet software reads the accents right.
        archive.writestr("manifest.csv", "\ufeff" + table.getvalue(),
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("manifest.json", json.dumps(
            {"fournisseur": {"siren": supplier.siren, "raison_sociale": supplier.name},
             "date": today.isoformat(), "documents": [asdict(line) for line in lines]},
            ensure_ascii=False, indent=2), compress_type=zipfile.ZIP_DEFLATED)
    spool.seek(0)
    return spool
