"""fold() (hiveo/core/text.py): search and sort without case or accents."""

from __future__ import annotations

from hiveo.core.text import fold

NAMES = ["Bêta Société", "ÉCOLE DES MÉTIERS", "Œuvres de l'Île", "Façades Müller",
         "Ça Roule", "Ÿvelines Énergie", "Plain ASCII 42"]


def test_fold_takes_off_case_and_accents():
    assert [fold(name) for name in NAMES] == [
        "beta societe", "ecole des metiers", "oeuvres de l'ile", "facades muller",
        "ca roule", "yvelines energie", "plain ascii 42"]
