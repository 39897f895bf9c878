"""SIREN and SIRET: cleaning, checking (python-stdnum) and display.

Every refusal says, in French, which rule failed, because the people typing
these numbers copy them from paper and need to know what to look at.
"""

from __future__ import annotations

from stdnum import exceptions
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from .core.inputs import ascii_digits


class InvalidIdentifier(ValueError):
    """The message is meant for the person who typed the number."""


def clean(value: str) -> str:
    """Strip the spaces and dots people write inside these numbers."""
    return "".join(ch for ch in (value or "") if ch not in " .\u00a0\u202f\t")


def _check(value: str, kind: str, length: int, module) -> str:
    number = clean(value)
    if not number:
        raise InvalidIdentifier(f"Le {kind} est obligatoire.")
    if not ascii_digits(number):
        raise InvalidIdentifier(f"Le {kind} ne doit contenir que des chiffres.")
    if len(number) != length:
        raise InvalidIdentifier(
            f"Le {kind} doit comporter {length} chiffres (vous en avez saisi {len(number)})."
        )
    try:
        return module.validate(number)
    except exceptions.InvalidChecksum:
        raise InvalidIdentifier(
            f"Le {kind} {number} n'est pas valide : la clé de contrôle ne correspond pas."
        ) from None
    except exceptions.ValidationError:
        # Unreachable today (digits and length are checked above, so python-stdnum can
        # only find a bad checksum); kept so that a new rule of a later stdnum is a
        # French refusal, not a 500. Its mutants are equivalent: no input reaches it.
        raise InvalidIdentifier(f"Le {kind} {number} n'est pas valide.") from None  # pragma: no mutate  # noqa: E501


def validate_siren(value: str) -> str:
    """The SIREN without separators, or InvalidIdentifier."""
    return _check(value, "SIREN", 9, stdnum_siren)


def validate_siret(value: str, *, siren: str | None = None) -> str:
    """The SIRET without separators, or InvalidIdentifier.

    With `siren`, the SIRET must also belong to that company.
    """
    number = _check(value, "SIRET", 14, stdnum_siret)
    if siren is not None and number[:9] != siren:
        raise InvalidIdentifier(
            f"Le SIRET {number} n'appartient pas à l'entreprise de SIREN "
            f"{format_siren(siren)} : ses 9 premiers chiffres doivent être ce SIREN."
        )
    return number


def format_siren(siren: str) -> str:
    return f"{siren[:3]} {siren[3:6]} {siren[6:]}"


def format_siret(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
