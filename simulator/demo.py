"""The demo seed: the demo companies' documents on the provider side.

Dates are relative to the simulator's `today`, so the demo looks current
whenever it runs: mostly valid documents, one expiring within 30 days, some
expired, one awaiting validation and one refused per platform, and a type code
outside each contract to show that unknown types are skipped and reported.

- Horizon Propreté Services, Attestation Légale: the company documents, two RC
  pro certificates, congés payés BTP for five agencies (one expired, one
  rejected, one awaiting validation), a Qualipropre certificate (unknown type).
- Transports Lefèvre, Attestation Légale: subscription expired (402 on its
  documents) over three documents.
- Martin Électricité, Actradis: 103 pieces, so the feed spans three slices at
  limite=50: company pieces (one EN_COURS, one REFUSE, one PERIME, one expiring
  soon), a Qualifelec certificate (unknown nature), an RC certificate for each
  of its six establishments and one for each of its 90 vehicles.
- Bernard Maintenance Industrielle, on both platforms with overlapping types:
  Actradis's Kbis and vigilance are newer than Attestation Légale's, its fiscal
  certificate older.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from hiveo.demo.companies import BERNARD, HORIZON, LEFEVRE, MARTIN

from .catalogue import ACTRADIS, AL

if TYPE_CHECKING:
    from .state import Simulator

_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
MARTIN_VEHICLES = 90


def _plate(index: int) -> str:
    """A French registration plate (AA-123-AA), deterministic per vehicle."""
    digest = hashlib.sha256(f"vehicule-martin-{index}".encode()).digest()
    letters = [_PLATE_LETTERS[byte % len(_PLATE_LETTERS)] for byte in digest[:4]]
    number = int.from_bytes(digest[4:6], "big") % 900 + 100
    return f"{letters[0]}{letters[1]}-{number}-{letters[2]}{letters[3]}"


Spec = tuple[str, str, str, dict[str, Any]]


def _specs(today: date) -> list[Spec]:
    def ago(days: int) -> date:
        return today - timedelta(days=days)

    def al(siren: str, type_code: str, issued: int, **options: Any) -> Spec:
        return (AL, siren, type_code, {"issue_date": ago(issued), **options})

    def actradis(siren: str, type_code: str, issued: int, **options: Any) -> Spec:
        return (ACTRADIS, siren, type_code, {"issue_date": ago(issued), **options})

    horizon, martin = HORIZON.establishments, MARTIN.establishments
    specs = [
        # Horizon Propreté Services, Attestation Légale
        al(HORIZON.siren, "KBIS", 12),
        # Six months of validity from 162 days ago: expires within 30 days.
        al(HORIZON.siren, "ATTESTATION_URSSAF", 162),
        al(HORIZON.siren, "LISTE_SALARIES_ETRANGERS", 41),
        al(HORIZON.siren, "ATTESTATION_FISCALE", 95),
        al(
            HORIZON.siren,
            "ASSURANCE_RC_PRO",
            214,
            validity_start=ago(210),
            detail="Assureur : AXA France IARD — contrat n° RCP-4471209",
        ),
        al(
            HORIZON.siren,
            "ASSURANCE_RC_PRO",
            64,
            validity_start=ago(60),
            detail="Assureur : Hiscox — extension milieu hospitalier, contrat n° HX-20931",
        ),
        al(HORIZON.siren, "CONGES_PAYES_BTP", 25, siret=horizon[0].siret),
        al(HORIZON.siren, "CONGES_PAYES_BTP", 31, siret=horizon[1].siret),
        # Three months from 120 days ago: expired about a month ago.
        al(HORIZON.siren, "CONGES_PAYES_BTP", 120, siret=horizon[2].siret),
        al(
            HORIZON.siren,
            "CONGES_PAYES_BTP",
            6,
            siret=horizon[3].siret,
            state="REJECTED",
            rejection_reason="Le certificat déposé est au nom d'un autre établissement : "
            "le SIRET ne correspond pas.",
        ),
        al(
            HORIZON.siren,
            "CONGES_PAYES_BTP",
            3,
            siret=horizon[4].siret,
            state="AWAITING_VALIDATION",
        ),
        al(HORIZON.siren, "CERTIFICAT_QUALIPROPRE", 80),
        # Transports Lefèvre, Attestation Légale (subscription expired)
        al(LEFEVRE.siren, "KBIS", 118),
        al(LEFEVRE.siren, "ATTESTATION_URSSAF", 200),
        al(
            LEFEVRE.siren,
            "ASSURANCE_RC_PRO",
            300,
            detail="Assureur : Groupama — flotte poids lourds",
        ),
        # Bernard Maintenance Industrielle, Attestation Légale
        al(BERNARD.siren, "KBIS", 34),
        al(BERNARD.siren, "ATTESTATION_URSSAF", 50),
        al(BERNARD.siren, "ATTESTATION_FISCALE", 40),
        al(BERNARD.siren, "ASSURANCE_RC_PRO", 130, detail="Assureur : MMA IARD — n° 145 889 302"),
        al(BERNARD.siren, "CONGES_PAYES_BTP", 18, siret=BERNARD.establishments[0].siret),
        # Bernard Maintenance Industrielle, Actradis
        actradis(BERNARD.siren, "EXTRAIT_KBIS", 9),
        actradis(BERNARD.siren, "ATTESTATION_VIGILANCE", 20),
        actradis(BERNARD.siren, "ATTESTATION_REGULARITE_FISCALE", 130),
        actradis(
            BERNARD.siren,
            "ATTESTATION_ASSURANCE_RC",
            150,
            detail="Assureur : Allianz IARD — contrat n° 58 114 227",
        ),
        # Martin Électricité, Actradis
        actradis(MARTIN.siren, "EXTRAIT_KBIS", 15),
        actradis(MARTIN.siren, "ATTESTATION_VIGILANCE", 70),
        actradis(MARTIN.siren, "LNTE", 2, state="EN_COURS"),
        actradis(MARTIN.siren, "ATTESTATION_REGULARITE_FISCALE", 380, state="PERIME"),
        # A year of cover from 340 days ago: expires within 30 days.
        actradis(
            MARTIN.siren,
            "ATTESTATION_ASSURANCE_DECENNALE",
            340,
            detail="Assureur : SMABTP — contrat n° DEC-2211-0457",
        ),
        actradis(
            MARTIN.siren,
            "ATTESTATION_ASSURANCE_DECENNALE",
            4,
            state="REFUSE",
            rejection_reason="Attestation illisible : la page des activités garanties "
            "est manquante.",
            detail="Assureur : MAAF Assurances — contrat n° 7 402 118",
        ),
        actradis(MARTIN.siren, "CERTIFICAT_QUALIFELEC", 150),
    ]
    specs += [
        actradis(
            MARTIN.siren,
            "ATTESTATION_ASSURANCE_RC",
            45 + 11 * index,
            siret=establishment.siret,
            detail=f"Assureur : AXA France IARD — site {establishment.name}",
        )
        for index, establishment in enumerate(martin)
    ]
    specs += [
        actradis(
            MARTIN.siren,
            "ATTESTATION_ASSURANCE_RC",
            30 + (index * 37) % 270,
            detail=f"Véhicule immatriculé {_plate(index)} — flotte Martin Électricité",
        )
        for index in range(MARTIN_VEHICLES)
    ]
    return specs


def load_demo(sim: Simulator) -> None:
    """Open the demo companies' accounts and store their documents."""
    today = sim.today
    for company in (HORIZON, LEFEVRE, MARTIN, BERNARD):
        for provider in company.providers:
            sim.add_company(provider, company.siren, company.name)
    sim.add_company(
        AL,
        LEFEVRE.siren,
        LEFEVRE.name,
        subscription_active=False,
        ends_on=today - timedelta(days=45),
    )

    def changed_at(index: int, spec: Spec) -> datetime:
        # Validated on the platform the day after issue, at office hours, and
        # never later than yesterday so that live changes always come after.
        day = min(spec[3]["issue_date"] + timedelta(days=1), today - timedelta(days=1))
        return datetime.combine(day, time(7, 30), UTC) + timedelta(minutes=(index * 37) % 420)

    stamped = sorted(
        ((changed_at(index, spec), spec) for index, spec in enumerate(_specs(today))),
        key=lambda pair: pair[0],
    )
    for at, (provider, siren, type_code, options) in stamped:
        sim.add_document(provider, siren, type_code, at=at, **options)
