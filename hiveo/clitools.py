"""Shared pieces of the `flask --app app ...` commands."""

from __future__ import annotations

from typing import NoReturn

import click
from sqlalchemy import select

from .extensions import db
from .identifiers import InvalidIdentifier, validate_siren
from .models import Company


def fail(message: str) -> NoReturn:
    """Print a refusal and exit non-zero, leaving the database untouched."""
    db.session.rollback()
    raise click.ClickException(message)


def company_by_siren(siren: str) -> Company:
    """The company of a SIREN typed on the command line, or a French refusal."""
    try:
        number = validate_siren(siren)
    except InvalidIdentifier as error:
        fail(str(error))
    company = db.session.scalar(select(Company).where(Company.siren == number))
    if company is None:
        fail(f"Aucune entreprise de SIREN {number} n'existe.")
    return company
