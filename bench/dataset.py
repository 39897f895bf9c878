"""Bench data sets, built with the same factories as the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select, text
from stdnum import luhn

from hiveo import create_app
from hiveo.demo.bulk import add_admins_bulk, add_companies_bulk, add_relations_bulk
from hiveo.demo.factories import (
    add_documents_bulk,
    add_establishments,
    make_company,
    make_relation,
    make_user,
)
from hiveo.extensions import db
from hiveo.models import Company, Establishment

PASSWORD = "bench password 2026"
EMAIL = "bench@example.com"
TODAY = date(2026, 11, 29)
SCALES = (10, 100, 1000, 10000)
SUPPLIERS = 5000


@dataclass
class Dataset:
    database_url: str
    storage_dir: str
    chain: str = ""            # 2,000 establishments
    dossier: str = ""          # 50 establishments, 400 documents
    single: str = ""           # 1 establishment
    client: str = ""           # a client with SUPPLIERS suppliers ("Mes fournisseurs")
    scale: dict[int, str] = field(default_factory=dict)


def bench_config(database_url: str, storage_dir: str, instance_dir: str, **extra) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_DIR": storage_dir,
        "INSTANCE_DIR": instance_dir,
        "SECRET_KEY": "bench-secret-key",
        "SESSION_COOKIE_SECURE": False,
        "TODAY": TODAY,
        **extra,
    }


def reset_database(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def analyze(database_url: str) -> None:
    """Table statistics for PostgreSQL's planner and the tables' visibility maps, as
    autovacuum gathers and sets them within a minute or so of a bulk load (it vacuums
    a table after inserts too). Without the statistics, the planner takes the tables
    just filled for nearly empty ones and loops where it should hash (the reminder run
    took 0.5 s a batch instead of 12 ms); without the visibility maps, a count that an
    index covers still reads the table. The bench measures the portal, not the minute
    after a load. SQLite has nothing to gather."""
    if not database_url.startswith("postgresql"):
        return
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _dossier_documents(company, establishment_ids: list[int], count: int) -> list[dict]:
    """`count` documents: the company-level ones, then establishment certificates."""
    rows = [
        {"doc_type": "KBIS", "issue_date": TODAY - timedelta(days=20)},
        {"doc_type": "URSSAF_VIGILANCE", "issue_date": TODAY - timedelta(days=170)},
        {"doc_type": "LNTE", "issue_date": TODAY - timedelta(days=40)},
        {"doc_type": "FISCAL_REGULARITY", "issue_date": TODAY - timedelta(days=200),
         "validity_end": TODAY - timedelta(days=3)},
    ]
    index = 0
    while len(rows) < count:
        establishment_id = establishment_ids[index % len(establishment_ids)]
        kind = index // len(establishment_ids)
        if kind == 0:
            rows.append({"doc_type": "BTP_PAID_LEAVE", "establishment_id": establishment_id,
                         "issue_date": TODAY - timedelta(days=index % 90),
                         "validity_end": TODAY + timedelta(days=10 + index % 200)})
        else:
            # Establishment-level insurance certificates (a multi type).
            rows.append({"doc_type": "INSURANCE_RC_PRO", "establishment_id": establishment_id,
                         "issue_date": TODAY - timedelta(days=index % 300),
                         "validity_end": TODAY + timedelta(days=index % 365)})
        index += 1
    return rows[:count]


def supplier_sirens(count: int, prefix: str = "7") -> list[str]:
    """`count` valid SIRENs that no factory hands out (unused_siren() starts with 3)."""
    return [base + luhn.calc_check_digit(base)
            for base in (f"{prefix}{number:07d}" for number in range(1, count + 1))]


# What the bench's suppliers look like, in turn: mostly conforme, every other state too.
_SUPPLIER_MIX = ("conforme",) * 12 + ("missing", "expired", "expiring", "never",
                                       "invited", "suspended", "closed")


def add_client_with_suppliers(name: str, count: int, *, prefix: str = "7",
                              admins: bool = False) -> Company:
    """A client following `count` new suppliers in a mix of states, in bulk.

    `admins`: each supplier gets an admin account (the reminders need recipients).
    """
    from hiveo.demo.pdfgen import make_pdf
    from hiveo.dossier.services import add_current_bulk
    from hiveo.dossier.storage import storage
    from hiveo.relations.requirements import Rule, default_rules, set_requirements

    client = make_company(name, establishments=1)
    sirens = supplier_sirens(count, prefix)
    ids = add_companies_bulk([(siren, f"Fournisseur {number:05d}")
                              for number, siren in enumerate(sirens, start=1)])
    first = sirens[0]
    supplier = db.session.get(Company, ids[first])
    assert supplier is not None
    make_relation(client, supplier, supplier_code="B-00001", category="Travaux")
    set_requirements(client, "Travaux", [*default_rules(), Rule("INSURANCE_DECENNALE",
                                                                "company")])
    documents: list[dict] = []
    relations: list[dict] = []
    for number, siren in enumerate(sirens):
        profile = _SUPPLIER_MIX[number % len(_SUPPLIER_MIX)]
        spread = number % 40
        category = "Travaux" if number % 3 == 0 else ""
        if profile != "never":
            rows = [
                {"doc_type": "KBIS", "issue_date": TODAY - timedelta(days=5 + spread)},
                {"doc_type": "URSSAF_VIGILANCE",
                 "issue_date": TODAY - timedelta(days=(160 if profile == "expiring" else 20)
                                                 + spread % 10)},
                {"doc_type": "LNTE", "issue_date": TODAY - timedelta(days=10 + spread)},
                {"doc_type": "INSURANCE_DECENNALE", "issue_date": TODAY - timedelta(days=60),
                 "validity_end": TODAY + timedelta(days=100 + spread)},
            ]
            if profile == "missing":
                rows = rows[:2] + rows[3:]
            elif profile == "expired":
                rows[0] = {"doc_type": "KBIS", "issue_date": TODAY - timedelta(days=100)}
            documents.extend({**row, "company_id": ids[siren]} for row in rows)
        if number:
            state = profile if profile in ("invited", "suspended", "closed") else "active"
            relations.append({
                "supplier_id": ids[siren], "state": state, "category": category,
                "state_reason": "Banc d'essai" if state in ("suspended", "closed") else None,
                "supplier_code": f"B-{number + 1:05d}",
                "contact_email": f"contact-{siren}@example.com"})
    add_relations_bulk(client, relations)
    add_current_bulk(0, documents, storage().save_chunks([make_pdf("Document", [name])]))
    if admins:
        add_admins_bulk(ids, password=PASSWORD)
    return client


def build(database_url: str, storage_dir: str, instance_dir: str, *, scales=SCALES,
          suppliers: int = SUPPLIERS) -> Dataset:
    """A fresh database: the bench user admin of every company below."""
    reset_database(database_url)
    app = create_app(bench_config(database_url, storage_dir, instance_dir))
    data = Dataset(database_url, storage_dir)
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        companies = []
        chain = make_company("Enseigne Nationale", establishments=0)
        add_establishments(chain, 2000)
        companies.append(chain)
        dossier = make_company("Réseau Services", establishments=0)
        add_establishments(dossier, 50)
        ids = list(db.session.scalars(select(Establishment.id).where(
            Establishment.company_id == dossier.id)))
        add_documents_bulk(dossier, _dossier_documents(dossier, ids, 400))
        companies.append(dossier)
        single = make_company("Boutique Unique", establishments=1)
        companies.append(single)
        for size in scales:
            company = make_company(f"Échelle {size}")
            add_establishments(company, size, start=0 if size > 9999 else 1)
            ids = list(db.session.scalars(select(Establishment.id).where(
                Establishment.company_id == company.id)))
            add_documents_bulk(company, _dossier_documents(company, ids, len(ids) // 2 + 4))
            data.scale[size] = company.siren
            companies.append(company)
        for index in range(4):
            companies.append(make_company(f"Filiale {index + 1}", establishments=3))
        client = add_client_with_suppliers("Donneur d'Ordre National", suppliers)
        data.client = client.siren
        companies.append(client)
        make_user(EMAIL, name="Banc d'essai", password=PASSWORD,
                  memberships=tuple((company, "admin") for company in companies))
        data.chain, data.dossier, data.single = chain.siren, dossier.siren, single.siren
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    analyze(database_url)
    return data


def build_reminders(database_url: str, storage_dir: str, instance_dir: str, suppliers: int
                    ) -> None:
    """A fresh database for one reminder run: one client, `suppliers` suppliers with admins."""
    reset_database(database_url)
    app = create_app(bench_config(database_url, storage_dir, instance_dir))
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        client = add_client_with_suppliers("Donneur d'Ordre Relances", suppliers, admins=True)
        make_user(EMAIL, name="Banc d'essai", password=PASSWORD, profile="fast",
                  memberships=((client, "admin"),))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    analyze(database_url)
