import pytest

from hiveo.identifiers import (
    InvalidIdentifier,
    format_siren,
    format_siret,
    validate_siren,
    validate_siret,
)


@pytest.mark.parametrize("value", ["732829320", "732 829 320", "732.829.320", " 732829320 "])
def test_valid_siren_is_accepted_with_spaces_and_dots(value):
    assert validate_siren(value) == "732829320"


@pytest.mark.parametrize("value", ["73282932000074", "732 829 320 00074", "35600000009075"])
def test_valid_siret_is_accepted(value):
    assert validate_siret(value) == value.replace(" ", "")


def test_siret_with_bad_checksum_names_the_checksum():
    with pytest.raises(InvalidIdentifier, match="clé de contrôle"):
        validate_siret("73282932000079")


def test_la_poste_siret_follows_its_own_rule():
    assert validate_siret("35600000009075") == "35600000009075"
    with pytest.raises(InvalidIdentifier, match="clé de contrôle"):
        validate_siret("35600000049838")


def test_siren_refusals_say_which_rule_failed():
    with pytest.raises(InvalidIdentifier, match="9 chiffres"):
        validate_siren("73282932")
    with pytest.raises(InvalidIdentifier, match="que des chiffres"):
        validate_siren("73282932A")
    with pytest.raises(InvalidIdentifier, match="clé de contrôle"):
        validate_siren("732829321")
    with pytest.raises(InvalidIdentifier, match="obligatoire"):
        validate_siren("  ")


def test_siret_length_is_checked_before_checksum():
    with pytest.raises(InvalidIdentifier, match="14 chiffres"):
        validate_siret("7328293200007")


def test_siret_must_belong_to_the_given_company():
    with pytest.raises(InvalidIdentifier, match="n'appartient pas"):
        validate_siret("35600000009075", siren="732829320")


def test_numbers_are_formatted_in_groups():
    assert format_siren("732829320") == "732 829 320"
    assert format_siret("73282932000074") == "732 829 320 00074"
