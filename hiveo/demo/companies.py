"""The demo world: companies, establishments and people, as plain data.

Shared by the demo loader (which writes them to the portal's database) and by
the provider simulator (which holds the same companies' documents on the
"provider" side), so that a newcomer running `make demo` sees documents
arrive for the companies they can open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stdnum import luhn

# (street, postal code, city)
ADDRESSES = [
    ("12 rue de la République", "69002", "Lyon"),
    ("48 avenue Jean Jaurès", "69007", "Lyon"),
    ("3 place Bellecour", "69002", "Lyon"),
    ("27 boulevard Haussmann", "75009", "Paris"),
    ("101 rue de Rivoli", "75001", "Paris"),
    ("8 rue du Faubourg Saint-Antoine", "75012", "Paris"),
    ("15 quai des Chartrons", "33000", "Bordeaux"),
    ("62 cours de l'Intendance", "33000", "Bordeaux"),
    ("5 rue Paradis", "13001", "Marseille"),
    ("210 avenue du Prado", "13008", "Marseille"),
    ("19 rue Nationale", "59000", "Lille"),
    ("44 rue Esquermoise", "59800", "Lille"),
    ("7 place du Capitole", "31000", "Toulouse"),
    ("33 allées Jean Jaurès", "31000", "Toulouse"),
    ("2 rue Crébillon", "44000", "Nantes"),
    ("90 quai de la Fosse", "44100", "Nantes"),
    ("11 rue de la Liberté", "21000", "Dijon"),
    ("6 place Kléber", "67000", "Strasbourg"),
    ("24 rue d'Antibes", "06400", "Cannes"),
    ("18 avenue Jean Médecin", "06000", "Nice"),
    ("9 rue Saint-Ferréol", "13001", "Marseille"),
    ("73 rue de Siam", "29200", "Brest"),
    ("14 rue Jeanne d'Arc", "76000", "Rouen"),
    ("50 boulevard de la Liberté", "35000", "Rennes"),
    ("1 place de l'Hôtel de Ville", "42000", "Saint-Étienne"),
    ("36 rue Foch", "34000", "Montpellier"),
    ("22 avenue de Grenoble", "38000", "Grenoble"),
    ("4 rue des Carmes", "45000", "Orléans"),
    ("17 rue Gambetta", "87000", "Limoges"),
    ("28 rue de Metz", "54000", "Nancy"),
]


def make_siret(siren: str, number: int) -> str:
    """A valid SIRET for the company's `number`-th establishment (0 to 9999).

    The Luhn key leaves one valid NIC in ten, so a SIREN has 10,000 SIRETs.
    """
    if not 0 <= number <= 9999:
        raise ValueError("a SIREN has room for establishments 0 to 9999 only")
    nic_base = f"{number:04d}"
    return siren + nic_base + luhn.calc_check_digit(siren + nic_base)


@dataclass(frozen=True)
class DemoEstablishment:
    siret: str
    name: str
    address: str
    postal_code: str
    city: str


@dataclass(frozen=True)
class DemoCompany:
    siren: str
    name: str
    trade: str
    establishments: tuple[DemoEstablishment, ...]
    # Provider platforms on which this company holds an account.
    providers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    password: str
    memberships: tuple[tuple[str, str], ...] = field(default=())  # (siren, role)
    is_operator: bool = False


def _establishments(siren: str, label: str, count: int, start: int = 0):
    result = []
    for index in range(count):
        street, postal_code, city = ADDRESSES[(start + index) % len(ADDRESSES)]
        # "Agence Lyon — rue de la République": the street tells apart a city's agencies.
        name = f"{label} {city} — {street.split(' ', 1)[1]}" if count > 1 else label
        if count > len(ADDRESSES) and index >= len(ADDRESSES):
            name = f"{name} ({index // len(ADDRESSES) + 1})"
        result.append(
            DemoEstablishment(
                siret=make_siret(siren, index + 1),
                name=name,
                address=street,
                postal_code=postal_code,
                city=city,
            )
        )
    return tuple(result)


HORIZON = DemoCompany(
    siren="812345676",
    name="Horizon Propreté Services",
    trade="Nettoyage de locaux professionnels",
    establishments=_establishments("812345676", "Agence", 45),
    providers=("attestation_legale",),
)
MARTIN = DemoCompany(
    siren="792458135",
    name="Martin Électricité",
    trade="Installation électrique",
    establishments=_establishments("792458135", "Martin Électricité", 6, start=3),
    providers=("actradis",),
)
DURAND = DemoCompany(
    siren="521387464",
    name="Durand Bâtiment",
    trade="Maçonnerie générale",
    establishments=_establishments("521387464", "Durand Bâtiment — siège", 1, start=16),
)
LEFEVRE = DemoCompany(
    siren="448702159",
    name="Transports Lefèvre",
    trade="Transport routier de marchandises",
    establishments=_establishments("448702159", "Transports Lefèvre", 3, start=10),
    providers=("attestation_legale",),
)
BERNARD = DemoCompany(
    siren="903124584",
    name="Bernard Maintenance Industrielle",
    trade="Maintenance industrielle",
    establishments=_establishments("903124584", "Bernard Maintenance", 2, start=20),
    providers=("attestation_legale", "actradis"),
)

COMPANIES: tuple[DemoCompany, ...] = (HORIZON, MARTIN, DURAND, LEFEVRE, BERNARD)

# The clients (donneurs d'ordre, DOMAIN.md 5): they keep no dossier of their own
# here and hold no provider account, so the simulator does not know them.
FONCIERE = DemoCompany(
    siren="418273603",
    name="Foncière Rhône Habitat",
    trade="Gestion de logements sociaux",
    establishments=_establishments("418273603", "Foncière Rhône Habitat — siège", 1, start=1),
)
CLINIQUE = DemoCompany(
    siren="534091277",
    name="Clinique du Parc",
    trade="Établissement de santé",
    establishments=_establishments("534091277", "Clinique du Parc", 1, start=25),
)
CLIENTS: tuple[DemoCompany, ...] = (FONCIERE, CLINIQUE)

# The big client's purchase categories and the sets that replace its default one
# (the legal dossier) for them: (category, extra types, establishment-level types).
CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Nettoyage", (), ()),
    ("Travaux", ("INSURANCE_DECENNALE",), ("BTP_PAID_LEAVE",)),
    ("Maintenance", ("INSURANCE_RC_PRO",), ()),
    ("Espaces verts", (), ()),
    ("Sécurité", ("INSURANCE_RC_PRO", "FISCAL_REGULARITY"), ()),
)

# What the big client's generated suppliers look like, in this order, with how many
# of each: every state "Mes fournisseurs" can show (see load.load_demo_clients).
SUPPLIER_PROFILES: tuple[tuple[str, int], ...] = (
    ("conforme", 70),
    ("expiring", 14),
    ("missing", 14),
    ("expired", 12),
    ("refused", 8),
    ("pending", 8),
    ("never", 10),
    ("invited", 12),
    ("suspended", 6),
    ("closed", 6),
)

_SURNAMES = (
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
    "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu",
    "Gautier", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire",
)
_TRADES = {
    "Nettoyage": ("Nettoyage", "Propreté", "Services de propreté"),
    "Travaux": ("Bâtiment", "Plomberie", "Peinture", "Menuiserie", "Couverture"),
    "Maintenance": ("Ascenseurs", "Chauffage", "Maintenance"),
    "Espaces verts": ("Paysages", "Jardins", "Élagage"),
    "Sécurité": ("Sécurité", "Gardiennage", "Protection incendie"),
}


@dataclass(frozen=True)
class DemoSupplier:
    siren: str
    name: str
    category: str
    profile: str
    city: str
    postal_code: str
    address: str


def demo_suppliers() -> tuple[DemoSupplier, ...]:
    """The big client's 160 generated suppliers: valid SIRENs 6xxxxxxxx, stable names."""
    result = []
    categories = [name for name, _extra, _per_establishment in CATEGORIES]
    index = 0
    for profile, count in SUPPLIER_PROFILES:
        for _ in range(count):
            category = categories[index % len(categories)]
            trades = _TRADES[category]
            surname = _SURNAMES[index % len(_SURNAMES)]
            trade = trades[(index // len(categories)) % len(trades)]
            street, postal_code, city = ADDRESSES[index % len(ADDRESSES)]
            base = f"6{index + 1:07d}"
            result.append(DemoSupplier(
                siren=base + luhn.calc_check_digit(base),
                name=f"{trade} {surname} {city}" if index >= len(_SURNAMES) else
                     f"{trade} {surname}",
                category=category, profile=profile, city=city, postal_code=postal_code,
                address=street))
            index += 1
    return tuple(result)

USERS: tuple[DemoUser, ...] = (
    DemoUser(
        email="marie.dupont@horizon-proprete.fr",
        name="Marie Dupont",
        password="demo-marie-2026",
        memberships=((HORIZON.siren, "admin"), (BERNARD.siren, "admin")),
    ),
    DemoUser(
        email="paul.girard@horizon-proprete.fr",
        name="Paul Girard",
        password="demo-paul-2026",
        memberships=((HORIZON.siren, "member"),),
    ),
    DemoUser(
        email="luc.martin@martin-electricite.fr",
        name="Luc Martin",
        password="demo-luc-2026",
        memberships=((MARTIN.siren, "admin"),),
    ),
    DemoUser(
        email="sophie.durand@durand-batiment.fr",
        name="Sophie Durand",
        password="demo-sophie-2026",
        memberships=((DURAND.siren, "admin"), (LEFEVRE.siren, "member")),
    ),
    DemoUser(
        email="julie.moreau@fonciere-rhone.fr",
        name="Julie Moreau",
        password="demo-julie-2026",
        memberships=((FONCIERE.siren, "admin"), (CLINIQUE.siren, "admin")),
    ),
    DemoUser(
        email="karim.haddad@fonciere-rhone.fr",
        name="Karim Haddad",
        password="demo-karim-2026",
        memberships=((FONCIERE.siren, "member"),),
    ),
    DemoUser(
        email="claire.petit@hiveo.example",
        name="Claire Petit",
        password="demo-claire-2026",
        is_operator=True,
    ),
)
