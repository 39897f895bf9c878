"""Which document types a provider manages for a company (DOMAIN.md 3.3)."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import ProviderLink
from ..providers import PROVIDERS, supplied_types


def managed_types(company_id: int) -> dict[str, str]:
    """Catalogue code -> provider id, for every provider whose sync is on.

    While a provider's sync is on, the types it supplies are its own: manual
    uploads of those types are refused. When two providers supply a type, the
    first in display order names it.
    """
    enabled = set(db.session.scalars(
        select(ProviderLink.provider).where(
            ProviderLink.company_id == company_id,
            ProviderLink.linked.is_(True),
            ProviderLink.sync_enabled.is_(True),
        )
    ))
    managed: dict[str, str] = {}
    for provider in PROVIDERS:
        if provider in enabled:
            for code in supplied_types(provider):
                managed.setdefault(code, provider)
    return managed
