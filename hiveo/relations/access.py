"""A client's reading of a supplier's documents: every download is recorded (DOMAIN.md 5).

One function writes the rows, for single downloads and for the ZIP export
alike; the supplier reads them back ("Consulté par <client> le …").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select

from ..extensions import db
from ..models import Company, Document, DocumentAccess, User, utcnow

VIAS = ("download", "zip")


def record_access(client: Company, user: User | None, documents: Iterable[Document],
                  via: str) -> int:
    """Record that `user` of `client` obtained `documents`, in the caller's transaction.

    One statement whatever the number of documents; returns how many were recorded.
    The caller commits before the file leaves, so no file leaves unrecorded.
    """
    if via not in VIAS:
        raise ValueError(f"unknown access route {via!r}")
    now = utcnow()
    rows = [{"document_id": document.id, "client_id": client.id,
             "user_id": user.id if user else None, "via": via, "created_at": now}
            for document in documents]
    if rows:
        db.session.execute(insert(DocumentAccess), rows)
    return len(rows)


@dataclass(frozen=True)
class Consultation:
    """A client's latest reading of one document: "Consulté par <client> le …"."""

    client_name: str
    last_at: datetime
    times: int


def consultations(document_ids: Iterable[int]) -> dict[int, list[Consultation]]:
    """For each document, each client that read it (latest first), in one query."""
    ids = sorted(set(document_ids))
    found: dict[int, list[Consultation]] = {}
    if not ids:
        return found
    last_at = func.max(DocumentAccess.created_at)
    rows = db.session.execute(
        select(DocumentAccess.document_id, Company.name, last_at,
               func.count(DocumentAccess.id))
        .join(Company, Company.id == DocumentAccess.client_id)
        .where(DocumentAccess.document_id.in_(ids))
        .group_by(DocumentAccess.document_id, Company.id, Company.name)
        .order_by(DocumentAccess.document_id, last_at.desc(), Company.name_key))
    for document_id, name, at, times in rows:
        found.setdefault(document_id, []).append(Consultation(name, at, times))
    return found
