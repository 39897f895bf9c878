"""`flask dossier export SIREN`: a company's dossier as JSON, in a stable shape."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Company, Document, Establishment
from .states import document_state


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_dossier(company: Company, today: date) -> dict[str, Any]:
    establishments = list(db.session.scalars(
        select(Establishment)
        .where(Establishment.company_id == company.id)
        .order_by(Establishment.siret)
    ))
    sirets = {est.id: est.siret for est in establishments}
    documents = db.session.scalars(
        select(Document).where(Document.company_id == company.id).order_by(Document.id)
    )
    return {
        "siren": company.siren,
        "name": company.name,
        "establishments": [{"siret": est.siret, "name": est.name} for est in establishments],
        "providers": export_providers(company),
        "documents": [
            {
                "id": str(doc.id),
                "type": doc.doc_type,
                "siret": sirets.get(doc.establishment_id),
                "current": doc.is_current,
                "state": document_state(doc, today).value,
                "source": doc.source,
                "external_id": doc.external_id,
                "external_revision": doc.external_revision,
                "issue_date": _iso(doc.issue_date),
                "validity_start": _iso(doc.validity_start),
                "validity_end": _iso(doc.effective_end),
                "sha256": doc.sha256,
                "uploaded_at": _iso(doc.uploaded_at),
                "archived_at": _iso(doc.archived_at),
            }
            for doc in documents
        ],
    }


def export_providers(company: Company) -> dict[str, Any]:
    """Filled by the sync engine: one entry per provider."""
    return {}
