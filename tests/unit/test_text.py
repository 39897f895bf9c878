"""fold() and its SQL twin fold_sql() (hiveo/core/text.py): search without case or accents."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from hiveo.core.text import _ACCENTED, fold, fold_sql
from hiveo.extensions import configure_postgresql, configure_sqlite

NAMES = ["Bêta Société", "ÉCOLE DES MÉTIERS", "Œuvres de l'Île", "Façades Müller",
         "Ça Roule", "Ÿvelines Énergie", "Plain ASCII 42", "".join(_ACCENTED.values())]


def test_fold_takes_off_case_and_accents():
    assert [fold(name) for name in NAMES[:-1]] == [
        "beta societe", "ecole des metiers", "oeuvres de l'ile", "facades muller",
        "ca roule", "yvelines energie", "plain ascii 42"]


def _engines() -> list[sa.Engine]:
    sqlite = sa.create_engine("sqlite://")
    configure_sqlite(sqlite, 1000)
    engines = [sqlite]
    url = os.environ.get("HIVEO_TEST_DATABASE_URL", "").strip()
    if url:
        postgresql = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        configure_postgresql(postgresql)
        engines.append(postgresql)
    return engines


@pytest.mark.parametrize("engine", _engines(), ids=lambda engine: engine.dialect.name)
def test_fold_sql_gives_what_fold_gives_on_each_backend(engine):
    with engine.connect() as connection:
        for text in NAMES:
            assert connection.scalar(sa.select(fold_sql(sa.literal(text)))) == fold(text), text
        assert connection.scalar(sa.select(fold_sql(sa.null()))) is None
        pattern = f"%{fold('société')}%"
        assert connection.scalar(sa.select(fold_sql(sa.literal("BÊTA SOCIÉTÉ")).like(pattern)))
