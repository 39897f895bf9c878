"""A client's reading of a supplier's documents: every download is recorded (DOMAIN.md 5).

One function writes the rows, for single downloads and for the ZIP export
alike; the supplier reads them back ("Consulté par <client> le …").
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert

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
