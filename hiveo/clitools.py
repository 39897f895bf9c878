"""Shared pieces of the `flask --app app ...` commands."""

from __future__ import annotations

from typing import NoReturn

import click

from .extensions import db


def fail(message: str) -> NoReturn:
    """Print a refusal and exit non-zero, leaving the database untouched."""
    db.session.rollback()
    raise click.ClickException(message)
