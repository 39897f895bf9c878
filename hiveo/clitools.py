"""Shared pieces of the `flask --app app ...` commands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NoReturn

import click
from sqlalchemy import select

from .core.dates import out_of_range
from .core.inputs import has_control_characters
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


class Day(click.ParamType):
    """A date typed as AAAA-MM-JJ, within the range the portal accepts (hiveo/core/dates.py)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            parsed = value
        else:
            try:
                parsed = datetime.strptime(str(value), "%Y-%m-%d").date()
            except ValueError:
                self.fail(f"« {value} » n'est pas une date : écrivez-la AAAA-MM-JJ.", param, ctx)
        problem = out_of_range(parsed)
        if problem:
            self.fail(problem, param, ctx)
        return parsed


DAY = Day()


class WithoutControlCharacters(click.ParamType):
    """A text or path argument, refused when it holds a control character (NUL, ESC...)."""

    def __init__(self, inner: click.ParamType) -> None:
        self.inner = inner
        self.name = inner.name

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and has_control_characters(value):
            self.fail("contient des caractères de contrôle, qui ne sont pas acceptés.",
                      param, ctx)
        return self.inner.convert(value, param, ctx)

    def to_info_dict(self) -> Any:
        return self.inner.to_info_dict()

    def get_metavar(self, *args: Any, **kwargs: Any) -> str | None:
        return self.inner.get_metavar(*args, **kwargs)


def refuse_control_characters(group: click.Group) -> None:
    """Give every text and path parameter of every command under `group` that check.

    Done once for all commands, those added later included, rather than on
    each option: a command that forgot it would let NUL reach PostgreSQL.
    """
    for command in group.commands.values():
        if isinstance(command, click.Group):
            refuse_control_characters(command)
        for param in command.params:
            if isinstance(param.type, click.types.StringParamType | click.Path):
                param.type = WithoutControlCharacters(param.type)
