"""Row locks that serialise the changes of one company."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Company


def lock_company(company_id: int) -> None:
    """Serialise the dossier changes of one company (PostgreSQL row lock).

    FOR NO KEY UPDATE: it excludes the other dossier changes, but not the
    key-share lock that inserting a row referring to the company takes (a new
    provider link, an audit event). With FOR UPDATE, two runs of one company
    by two providers, each having just inserted its link, deadlocked here.

    On SQLite every writing transaction already holds the database's write
    lock from its BEGIN IMMEDIATE.
    """
    db.session.execute(
        select(Company.id).where(Company.id == company_id).with_for_update(key_share=True)
    )
