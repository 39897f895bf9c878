"""French typography and icons: one helper each, used by templates."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from hiveo.core.text import NBSP, NNBSP, typo_fr
from hiveo.icons import ICONS, icon


def test_typo_fr_puts_no_break_spaces_before_high_punctuation():
    assert typo_fr("Que faire ?") == f"Que faire{NNBSP}?"
    assert typo_fr("Attention ! Oui ; non") == f"Attention{NNBSP}! Oui{NNBSP}; non"
    assert typo_fr("Raison : abonnement") == f"Raison{NBSP}: abonnement"


def test_typo_fr_leaves_times_and_addresses_alone():
    assert typo_fr("le 01/12/2026 à 14:05") == "le 01/12/2026 à 14:05"
    assert typo_fr("voir https://example.com/a") == "voir https://example.com/a"


def test_typo_fr_spaces_inside_guillemets_and_curls_apostrophes():
    assert typo_fr("Type inconnu «XYZ» ignoré") == f"Type inconnu «{NNBSP}XYZ{NNBSP}» ignoré"
    assert typo_fr("« Kbis »") == f"«{NNBSP}Kbis{NNBSP}»"
    assert typo_fr("l'entreprise n'a pas") == "l\u2019entreprise n\u2019a pas"


def test_typo_fr_keeps_markup_safe_and_does_not_touch_entities():
    result = typo_fr(Markup("<strong>Pourquoi ?</strong> l&#39;abonnement"))
    assert isinstance(result, Markup)
    assert result == Markup(f"<strong>Pourquoi{NNBSP}?</strong> l&#39;abonnement")


def test_the_filter_is_applied_by_templates(app):
    with app.test_request_context():
        rendered = app.jinja_env.from_string("{{ 'Que faire ?' | typo_fr }}").render()
    assert rendered == f"Que faire{NNBSP}?"


def test_icons_come_from_the_vendored_sprite():
    from pathlib import Path

    sprite = (Path(__file__).resolve().parents[2] / "static" / "vendor" / "lucide"
              / "icons.svg").read_text()
    for name in ICONS:
        assert f'<symbol id="{name}"' in sprite
    assert (Path(__file__).resolve().parents[2] / "static" / "vendor" / "lucide"
            / "LICENSE").read_text().startswith("ISC License")


def test_an_icon_is_decorative_unless_labelled():
    assert 'aria-hidden="true"' in icon("circle-check")
    labelled = icon("refresh-cw", "Géré par <Actradis>")
    assert 'role="img" aria-label="Géré par &lt;Actradis&gt;"' in labelled
    with pytest.raises(ValueError):
        icon("not-an-icon")
