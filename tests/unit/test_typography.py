"""French typography and icons: one helper each, used by templates, and the checker."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import Markup

from hiveo.core.text import NBSP, NNBSP, typo_fr, typo_problems
from hiveo.icons import ICONS, icon
from tools.typo_check import check_html, check_template, check_templates


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


# -- the checker (tools/typo_check.py): templates' visible text and rendered pages -------------

ROOT = Path(__file__).resolve().parents[2]
def test_every_template_puts_no_break_spaces_before_high_punctuation_and_in_guillemets():
    problems = check_templates([ROOT / "templates"])
    assert [str(problem) for problem in problems] == []


def test_the_checker_finds_plain_spaces_in_text_attributes_and_literals(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<h1 title="Vraiment ?">Titre</h1>\n'
                    "<p>\n  Raison : {{ reason }}</p>\n"
                    '{{ field(form.x, hint="a ; b") }} {{ "Que faire ?" }}\n'
                    '<p>Taille : {{ size }} ou 0.6 Ko, « {{ q }} »</p>\n')
    found = [(problem.line, problem.message.split(" in ")[0])
             for problem in check_template(page)]
    assert found == [(1, "plain space before '?'"), (3, "plain space before ':'"),
                     (4, "plain space before '?'"), (5, "plain space before ':'"),
                     (5, "decimal point instead of a comma"),
                     (5, "no no-break space after '«'"), (5, "no no-break space before '»'")]


def test_the_checker_leaves_entities_tags_scripts_and_typo_fr_alone(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<p>Raison&nbsp;: {{ reason }} · Que faire&#8239;? «&#8239;x&#8239;»</p>\n'
                    '<a href="/a?b=1" class="x ; y">le 01/12 à 14:05</a>\n'
                    "<script>if (a ? b : c) {}</script>{# Pourquoi ? #}\n"
                    '{{ ("Pourquoi ? " ~ x) | typo_fr }}{% if a == "b ; c" %}{% endif %}\n')
    assert check_template(page) == []


def test_the_checker_reads_plain_text_mail_whole(tmp_path):
    mail = tmp_path / "mail.txt"
    mail.write_text("Bonjour,\n\nOuvrez ce lien :\n{{ link }}\n")
    assert [problem.line for problem in check_template(mail)] == [3]


def test_rendered_html_is_checked_with_its_entities_decoded():
    assert check_html("<p>Que faire&#8239;? Raison&nbsp;: x</p>") == []
    assert [problem.line for problem in check_html("<p>ok</p>\n<p>Que faire ?</p>")] == [2]


def test_the_rules_are_those_typo_fr_applies():
    sentence = "Type inconnu «XYZ» : ignoré ; pourquoi ? Voilà !"
    assert len(typo_problems(sentence)) == 6
    assert typo_problems(typo_fr(sentence)) == []
    assert typo_problems("0,6 Ko, 12,5 %, version 1.2, le 01.12.2026") == []
    assert typo_problems("0.6 Ko") == ["decimal point instead of a comma in '0.6 Ko'"]
