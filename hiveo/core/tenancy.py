"""Who may see a company: its members. Every feature's views ask here.

The signed-in user arrives with their memberships and companies, read in one
statement by the user loader (hiveo/security.py), so the access check of a
page costs no query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, url_for
from flask_login import current_user
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Company, Membership, Role, User
from .errors import abort_fr
from .inputs import ascii_digits

ADMINS_ONLY = "Réservé aux administrateurs de l'entreprise."


@dataclass(frozen=True)
class CompanyAccess:
    """A company seen by one of its members."""

    company: Company
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships with their companies, by company name.

    Free for the signed-in user (loaded with them); one query for a user
    whose memberships are not loaded (the command line, or after a commit
    expired them).
    """
    if "memberships" in inspect(user).unloaded:
        memberships = list(db.session.scalars(
            select(Membership).where(Membership.user_id == user.id)
            .options(joinedload(Membership.company).undefer(Company.has_provider_links))
        ))
    else:
        memberships = list(user.memberships)
    return sorted(memberships, key=lambda m: (m.company.name_key, m.company.id))


def companies_of(user: User) -> list[Company]:
    """The user's companies, by name."""
    return [membership.company for membership in memberships_of(user)]


def company_access(user: User, siren: str) -> CompanyAccess | None:
    """The company and the user's role in it; None for outsiders."""
    for membership in memberships_of(user):
        if membership.company.siren == siren:
            return CompanyAccess(membership.company, membership.role)
    return None


def member_required(siren: str) -> CompanyAccess:
    """The company for the signed-in member; 404 for everyone else, so ids do not leak."""
    access = (company_access(current_user, siren)
              if current_user.is_authenticated and ascii_digits(siren) else None)
    if access is None:
        abort(404)
    return access


def admin_required(siren: str) -> CompanyAccess:
    """The company for one of its admins; 404 for outsiders, 403 for its other members."""
    access = member_required(siren)
    if not access.is_admin:
        abort_fr(403, ADMINS_ONLY)
    return access


def landing_url(user: User) -> str:
    """Where a signed-in person starts: operators at the queue, one company at its page."""
    if user.is_operator:
        return url_for("review.queue")
    memberships = memberships_of(user)
    if len(memberships) == 1:
        return url_for("organisations.company", siren=memberships[0].company.siren)
    return url_for("organisations.index")


def signed_in_user() -> User:
    """The signed-in person's User row: the user loader read it with this request."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if not isinstance(user, User):
        abort(401)
    return user
