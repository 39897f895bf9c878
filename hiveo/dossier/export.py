"""`flask dossier export SIREN`: a company's dossier as JSON, in a stable shape."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Company, Document, Establishment
from .states import sql_dates, state_column


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_dossier(company: Company, today: date) -> dict[str, Any]:
    establishments = list(db.session.scalars(
        select(Establishment)
        .where(Establishment.company_id == company.id)
        .order_by(Establishment.siret)
    ))
    sirets = {est.id: est.siret for est in establishments}
    # Each document's state comes from the states table's SQL column, as the
    # Documents tab's filters select them.
    documents = db.session.execute(
        select(Document, state_column())
        .where(Document.company_id == company.id).order_by(Document.id),
        sql_dates(today),
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
                "siret": (sirets.get(doc.establishment_id)
                          if doc.establishment_id is not None else None),
                "current": doc.is_current,
                "state": state,
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
            for doc, state in documents
        ],
    }


def export_providers(company: Company) -> dict[str, Any]:
    """One entry per provider: the link, its switch, and the last run."""
    from sqlalchemy.orm import selectinload

    from ..models import ProviderLink, SyncRun
    from ..providers import PROVIDERS

    links = {
        link.provider: link
        for link in db.session.scalars(
            select(ProviderLink)
            .where(ProviderLink.company_id == company.id)
            .options(selectinload(ProviderLink.changed_by))
        )
    }
    result: dict[str, Any] = {}
    for provider in PROVIDERS:
        link = links.get(provider)
        last = db.session.scalar(
            select(SyncRun)
            .where(SyncRun.company_id == company.id, SyncRun.provider == provider)
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
            .limit(1)
        )
        result[provider] = {
            "linked": bool(link and link.linked),
            "sync_enabled": bool(link and link.linked and link.sync_enabled),
            "changed_by": link.changed_by.email if link and link.changed_by else None,
            "changed_at": _iso(link.changed_at) if link else None,
            "last_run": None if last is None else {
                "outcome": last.outcome,
                "trigger": last.trigger,
                "started_at": _iso(last.started_at),
                "finished_at": _iso(last.finished_at),
                "counts": last.counts,
                "error": last.error,
            },
        }
    return result
