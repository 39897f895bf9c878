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


# Exact messages: the person reads them, and the number's name must be in them.
@pytest.mark.parametrize(("check", "value", "message"), [
    (validate_siren, "", "Le SIREN est obligatoire."),
    (validate_siren, " . ", "Le SIREN est obligatoire."),
    (validate_siren, "7328293X0", "Le SIREN ne doit contenir que des chiffres."),
    (validate_siren, "73282932",
     "Le SIREN doit comporter 9 chiffres (vous en avez saisi 8)."),
    (validate_siren, "732829321",
     "Le SIREN 732829321 n'est pas valide : la clé de contrôle ne correspond pas."),
    (validate_siret, "", "Le SIRET est obligatoire."),
    (validate_siret, "7328293200007X", "Le SIRET ne doit contenir que des chiffres."),
    (validate_siret, "7328293200007",
     "Le SIRET doit comporter 14 chiffres (vous en avez saisi 13)."),
    (validate_siret, "73282932000079",
     "Le SIRET 73282932000079 n'est pas valide : la clé de contrôle ne correspond pas."),
])
def test_each_refusal_names_the_number_and_the_rule(check, value, message):
    with pytest.raises(InvalidIdentifier) as refusal:
        check(value)
    assert str(refusal.value) == message


def test_digits_of_another_script_are_not_a_number_we_accept():
    # str.isdigit() says yes to Arabic-Indic digits: only ASCII digits are a number here.
    with pytest.raises(InvalidIdentifier) as refusal:
        validate_siren("٧٣٢٨٢٩٣٢٠")
    assert str(refusal.value) == "Le SIREN ne doit contenir que des chiffres."


def test_only_separators_are_stripped():
    assert validate_siret("732.829.320\u00a000074") == "73282932000074"
    assert validate_siret("732\u202f829\u202f320\t00074") == "73282932000074"


def test_a_siret_of_the_given_company_is_accepted():
    assert validate_siret("732 829 320 00074", siren="732829320") == "73282932000074"


def test_the_ownership_refusal_names_both_numbers():
    with pytest.raises(InvalidIdentifier) as refusal:
        validate_siret("35600000009075", siren="732829320")
    assert str(refusal.value) == (
        "Le SIRET 35600000009075 n'appartient pas à l'entreprise de SIREN 732 829 320 : "
        "ses 9 premiers chiffres doivent être ce SIREN."
    )
