"""What each simulated platform calls its document types and states, and time helpers.

Kept apart from the simulator's state so that the demo seed, the HTTP layer and
the tests share one vocabulary. Instants are read by the connectors' own
`hiveo.providers.reading.parse_instant`, and months are added by the catalogue's
`add_months`: the simulator reuses the portal's date helpers, it does not copy them.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from hiveo.providers.reading import parse_instant as read_instant

AL = "attestation_legale"
ACTRADIS = "actradis"
PROVIDERS = (AL, ACTRADIS)

PLATFORM_NAMES = {AL: "Attestation Légale", ACTRADIS: "Actradis"}


@dataclass(frozen=True)
class DocumentKind:
    """A provider's document type: its French label and validity habits."""

    label: str
    # Attestation Légale's `documentType.validityPeriod`: how long the document
    # counts when it prints no end date (months), or None.
    validity_months: int | None
    # How long after its validity start the document's printed end falls, when
    # the caller gives none; None means such documents print no end date.
    printed_months: int | None


KINDS: dict[str, dict[str, DocumentKind]] = {
    AL: {
        "KBIS": DocumentKind("Extrait Kbis", 3, None),
        "ATTESTATION_URSSAF": DocumentKind("Attestation de vigilance URSSAF", 6, 6),
        "LISTE_SALARIES_ETRANGERS": DocumentKind(
            "Liste nominative des salariés étrangers", 6, None
        ),
        "ATTESTATION_FISCALE": DocumentKind("Attestation de régularité fiscale", None, 12),
        "ASSURANCE_RC_PRO": DocumentKind(
            "Attestation d'assurance responsabilité civile professionnelle", None, 12
        ),
        "ASSURANCE_DECENNALE": DocumentKind("Attestation d'assurance décennale", None, 12),
        "CONGES_PAYES_BTP": DocumentKind("Certificat de la caisse de congés payés BTP", None, 3),
    },
    ACTRADIS: {
        "EXTRAIT_KBIS": DocumentKind("Extrait Kbis", None, None),
        "ATTESTATION_VIGILANCE": DocumentKind("Attestation de vigilance URSSAF", None, 6),
        "LNTE": DocumentKind("Liste nominative des travailleurs étrangers", None, None),
        "ATTESTATION_REGULARITE_FISCALE": DocumentKind(
            "Attestation de régularité fiscale", None, 12
        ),
        "ATTESTATION_ASSURANCE_RC": DocumentKind(
            "Attestation d'assurance responsabilité civile", None, 12
        ),
        "ATTESTATION_ASSURANCE_DECENNALE": DocumentKind(
            "Attestation d'assurance décennale", None, 12
        ),
    },
}

# Types outside the contracts that the demo uses to exercise "skip and report".
_UNKNOWN_LABELS = {
    "CERTIFICAT_QUALIPROPRE": "Certificat de qualification Qualipropre",
    "CERTIFICAT_QUALIFELEC": "Certificat de qualification Qualifelec",
}


def kind_of(provider: str, type_code: str) -> DocumentKind:
    """The provider's description of a type; unknown codes get a readable label."""
    known = KINDS[provider].get(type_code)
    if known is not None:
        return known
    label = _UNKNOWN_LABELS.get(type_code) or type_code.replace("_", " ").capitalize()
    return DocumentKind(label, None, 12)


@dataclass(frozen=True)
class StateWords:
    valid: str
    awaiting: str
    rejected: str
    expired: str

    @property
    def all(self) -> tuple[str, str, str, str]:
        return (self.valid, self.awaiting, self.rejected, self.expired)


STATES = {
    AL: StateWords("VALID", "AWAITING_VALIDATION", "REJECTED", "EXPIRED"),
    ACTRADIS: StateWords("VALIDE", "EN_COURS", "REFUSE", "PERIME"),
}


def check_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
    return provider


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() + 1) % 7)


def paris_offset(instant: datetime) -> timedelta:
    """Europe/Paris's UTC offset at an instant.

    Computed from the EU summer-time rule (last Sunday of March to last Sunday
    of October, both at 01:00 UTC) rather than zoneinfo, so the simulator does
    not depend on the host shipping a time-zone database.
    """
    utc = instant.astimezone(UTC)
    starts = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time(), UTC)
    ends = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time(), UTC)
    summer = starts + timedelta(hours=1) <= utc < ends + timedelta(hours=1)
    return timedelta(hours=2 if summer else 1)


def paris_isoformat(instant: datetime) -> str:
    """RFC 3339 with the Europe/Paris offset, e.g. 2026-10-02T10:00:00+02:00."""
    local = instant.astimezone(timezone(paris_offset(instant)))
    return local.isoformat(timespec="seconds")


def utc_isoformat(instant: datetime) -> str:
    """RFC 3339 in UTC with a Z, e.g. 2026-10-02T08:00:00Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(raw: str) -> datetime | None:
    """An RFC 3339 instant with an explicit offset, as aware UTC; None if malformed.

    The connectors' own reading, so the simulator refuses what they would refuse:
    a date alone or a local time without offset is ambiguous, and a strict
    server does not guess.
    """
    try:
        return read_instant(raw).astimezone(UTC)
    except ValueError:
        return None


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def french_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "non précisée"
