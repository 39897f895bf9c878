"""Which document types a provider manages for a company (DOMAIN.md 3.3)."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import ProviderLink
from ..providers import PROVIDERS, supplied_types


def managed_types(company_id: int, *, lock: bool = False) -> dict[str, str]:
    """Catalogue code -> provider id, for every provider whose sync is on.

    While a provider's sync is on, the types it supplies are its own: manual
    uploads of those types are refused. When two providers supply a type, the
    first in display order names it.

    `lock=True` (a door about to write what it checked) share-locks every link
    of the company, enabled or not, until the transaction ends: a switch turned
    on meanwhile waits for the upload instead of letting it land after the run
    that the switch starts (PostgreSQL; SQLite's writers are already serial).
    """
    query = select(ProviderLink.provider, ProviderLink.linked, ProviderLink.sync_enabled).where(
        ProviderLink.company_id == company_id)
    if lock:
        query = query.with_for_update(read=True)
    enabled = {provider for provider, linked, on in db.session.execute(query) if linked and on}
    managed: dict[str, str] = {}
    for provider in PROVIDERS:
        if provider in enabled:
            for code in supplied_types(provider):
                managed.setdefault(code, provider)
    return managed

