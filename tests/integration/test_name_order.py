"""Lists sort companies the way French readers do: "Électricité" with the E, not after Z.

Bytes put "É" (and "é") after every ASCII letter, on SQLite and on PostgreSQL
under the C locale; companies.name_key holds the folded name the lists sort by.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from hiveo.core.tenancy import companies_of
from hiveo.demo.bulk import add_companies_bulk
from hiveo.demo.factories import make_company, make_relation, make_user
from hiveo.extensions import db
from hiveo.models import Company, User, name_key
from hiveo.organisations.services import companies_page
from hiveo.relations.queries import SupplierSort, suppliers_page

TODAY = date(2026, 11, 29)
SHUFFLED = ("Zénith Levage", "électricité Martin", "Delta Transports", "Ébénisterie Roux",
            "Fournil du Coin", "Œuvres Communes", "Oasis Propreté")
EXPECTED = ["Delta Transports", "Ébénisterie Roux", "électricité Martin", "Fournil du Coin",
            "Oasis Propreté", "Œuvres Communes", "Zénith Levage"]


def test_the_key_folds_case_accents_and_ligatures():
    assert name_key("  Œuvres Ébène") == "  oeuvres ebene"
    assert name_key("É" * 300) == "e" * 200


def test_suppliers_sort_by_folded_name_both_ways(app):
    with app.app_context():
        client = make_company("Initech Services")
        for name in SHUFFLED:
            make_relation(client, make_company(name), state="active")
        db.session.commit()
        ascending = suppliers_page(client, TODAY, sort=SupplierSort("nom"), per_page=50)
        assert [row.name for row in ascending.items] == EXPECTED
        descending = suppliers_page(client, TODAY, sort=SupplierSort("nom", True), per_page=50)
        assert [row.name for row in descending.items] == EXPECTED[::-1]


def test_bulk_inserted_companies_get_their_key_too(app):
    with app.app_context():
        ids = add_companies_bulk([("732829320", "Éclair Nettoyage")])
        company = db.session.get(Company, ids["732829320"])
        assert company is not None and company.name_key == "eclair nettoyage"


def test_the_users_companies_and_the_operators_list_sort_the_same_way(app):
    with app.app_context():
        companies = [make_company(name) for name in SHUFFLED]
        user = make_user("dan@example.com", profile="fast",
                         memberships=tuple((company, "member") for company in companies))
        db.session.commit()
        user = db.session.scalar(select(User).where(User.id == user.id))
        assert [company.name for company in companies_of(user)] == EXPECTED
        listed = companies_page(page=1, per_page=50).items
        assert [row.name for row in listed] == EXPECTED


def test_the_operators_search_finds_a_name_without_its_accents(app):
    with app.app_context():
        for name in SHUFFLED:
            make_company(name)
        db.session.commit()
        found = companies_page(query="ELECTRICITE", page=1, per_page=50).items
        assert [row.name for row in found] == ["électricité Martin"]
        found = companies_page(query="œuvres", page=1, per_page=50).items
        assert [row.name for row in found] == ["Œuvres Communes"]


def test_a_companys_members_are_listed_by_name_the_french_way(app):
    from hiveo.members.services import members_section

    with app.app_context():
        company = make_company("Initech Services")
        for number, name in enumerate(("Zoé Zeller", "Émilie Roux", "david Martin",
                                       "Élodie Blanc", "Fabrice Noir")):
            make_user(f"person{number}@example.com", name=name, profile="fast",
                      memberships=((company, "member"),))
        db.session.commit()
        names = [member.name for member in members_section(company.id).members]
        assert names == ["david Martin", "Élodie Blanc", "Émilie Roux", "Fabrice Noir",
                         "Zoé Zeller"]
