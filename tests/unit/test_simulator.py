"""The provider simulator honours both contracts, its faults and its call log."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from types import SimpleNamespace

import pypdf
import pytest

from hiveo.demo.companies import BERNARD, DURAND, HORIZON, LEFEVRE, MARTIN, make_siret
from simulator import ACTRADIS, AL, Call, Simulator, create_app
from simulator import web as simulator_web
from simulator.catalogue import paris_isoformat, paris_offset

TODAY = date(2026, 11, 29)
AL_AUTH = {"Authorization": "Bearer demo-al-token"}
ACTRADIS_AUTH = {"X-Api-Key": "demo-actradis-key"}
CONTROL = {"X-Simulateur-Cle": "demo-simulator-control"}
SIREN = "732829320"
SIRETS = tuple(make_siret(SIREN, number) for number in (7, 8, 9))

AL_DOCUMENT_KEYS = {
    "id",
    "documentType",
    "establishment",
    "state",
    "rejectionReason",
    "issueDate",
    "validityStart",
    "validityEnd",
    "revision",
    "updatedAt",
    "file",
}
PIECE_KEYS = {
    "uid",
    "nature",
    "siret",
    "statut",
    "motif_refus",
    "date_emission",
    "debut_validite",
    "fin_validite",
    "version",
    "modifie_le",
    "empreinte",
    "taille",
    "nom_fichier",
}
PARIS_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$")


@pytest.fixture
def sim() -> Simulator:
    """An empty simulator with one company on each platform."""
    simulator = Simulator(today=TODAY, seed=None)
    simulator.add_company(AL, SIREN, "Société Test Rhône")
    simulator.add_company(ACTRADIS, SIREN, "Société Test Rhône")
    return simulator


@pytest.fixture
def demo() -> Simulator:
    return Simulator(today=TODAY, seed="demo")


@pytest.fixture
def client(sim):
    return create_app(sim).test_client()


@pytest.fixture
def demo_client(demo):
    return create_app(demo).test_client()


def al_pages(client, siren: str, page_size: int = 50) -> list[dict]:
    items, page = [], 1
    while True:
        answer = client.get(
            f"/v1/companies/{siren}/documents",
            query_string={"page": page, "pageSize": page_size},
            headers=AL_AUTH,
        )
        assert answer.status_code == 200
        body = answer.get_json()
        items += body["items"]
        if body["totalPages"] == 0 or page == body["totalPages"]:
            return items
        page += 1


def actradis_slices(client, siren: str, **params) -> list[list[dict]]:
    slices, query = [], dict(params)
    while True:
        answer = client.get(
            f"/api/v2/entreprises/{siren}/pieces", query_string=query, headers=ACTRADIS_AUTH
        )
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        slices.append(body["pieces"])
        if body["curseur_suivant"] is None:
            return slices
        query = {**params, "curseur": body["curseur_suivant"]}


def pieces(client, siren: str, **params) -> list[dict]:
    return [piece for part in actradis_slices(client, siren, **params) for piece in part]


# -- authentication -------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"X-Api-Key": "x"}])
def test_al_rejects_a_missing_or_wrong_token_with_the_contract_error(client, headers):
    answer = client.get(f"/v1/companies/{SIREN}", headers=headers)

    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unauthorized"
    assert answer.get_json()["error"]["message"]


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}, AL_AUTH])
def test_actradis_rejects_a_missing_or_wrong_api_key_with_the_contract_error(client, headers):
    answer = client.get(f"/api/v2/entreprises/{SIREN}/pieces", headers=headers)

    assert answer.status_code == 401
    assert answer.get_json()["statut"] == 401
    assert answer.get_json()["erreur"]


def test_credentials_are_whatever_the_simulator_is_told_to_expect(sim, client):
    sim.al_token, sim.actradis_key = "autre-jeton", "autre-cle"

    assert client.get(f"/v1/companies/{SIREN}", headers=AL_AUTH).status_code == 401
    assert (
        client.get(
            f"/v1/companies/{SIREN}", headers={"Authorization": "Bearer autre-jeton"}
        ).status_code
        == 200
    )
    assert (
        client.get(f"/api/v2/entreprises/{SIREN}", headers={"X-Api-Key": "autre-cle"}).status_code
        == 200
    )


def test_create_app_without_a_simulator_reads_credentials_from_the_environment(monkeypatch):
    monkeypatch.setenv("HIVEO_SIMULATOR_AL_TOKEN", "jeton-env")
    monkeypatch.setenv("HIVEO_SIMULATOR_ACTRADIS_KEY", "cle-env")
    client = create_app().test_client()

    company = client.get(
        f"/v1/companies/{HORIZON.siren}", headers={"Authorization": "Bearer jeton-env"}
    )
    assert company.status_code == 200
    assert client.get(f"/v1/companies/{HORIZON.siren}", headers=AL_AUTH).status_code == 401
    assert (
        client.get(
            f"/api/v2/entreprises/{MARTIN.siren}", headers={"X-Api-Key": "cle-env"}
        ).status_code
        == 200
    )


# -- discovery and errors ---------------------------------------------------------------


def test_al_company_reports_its_subscription(client):
    body = client.get(f"/v1/companies/{SIREN}", headers=AL_AUTH).get_json()

    assert body["registrationNumber"] == SIREN
    assert body["name"] == "Société Test Rhône"
    assert body["subscription"]["status"] == "ACTIVE"
    assert date.fromisoformat(body["subscription"]["endsOn"]) > TODAY


def test_actradis_company_reports_its_subscription(sim, client):
    sim.set_subscription(ACTRADIS, SIREN, False)

    body = client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH).get_json()

    assert body == {
        "siren": SIREN,
        "raison_sociale": "Société Test Rhône",
        "abonnement_actif": False,
    }


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/companies/{DURAND.siren}",
        f"/v1/companies/{DURAND.siren}/documents",
        "/v1/documents/al_doc_inconnu/file",
        "/v1/nowhere",
    ],
)
def test_al_answers_404_with_the_error_body_for_unknown_things(demo_client, path):
    answer = demo_client.get(path, headers=AL_AUTH)

    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v2/entreprises/{DURAND.siren}",
        f"/api/v2/entreprises/{DURAND.siren}/pieces",
        "/api/v2/pieces/0000/contenu",
        # Horizon holds an account on Attestation Légale only.
        f"/api/v2/entreprises/{HORIZON.siren}",
    ],
)
def test_actradis_answers_404_with_the_error_body_for_unknown_things(demo_client, path):
    answer = demo_client.get(path, headers=ACTRADIS_AUTH)

    assert answer.status_code == 404
    assert answer.get_json()["statut"] == 404


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_any_method_but_get_answers_405(client, method):
    al = getattr(client, method)(f"/v1/companies/{SIREN}/documents", headers=AL_AUTH)
    actradis = getattr(client, method)(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH)

    assert al.status_code == 405
    assert al.get_json()["error"]["code"] == "method_not_allowed"
    assert actradis.status_code == 405
    assert actradis.get_json()["statut"] == 405


# -- Attestation Légale listing ------------------------------------------------------------


def test_al_listing_follows_pages_until_total_pages(sim, client):
    ids = [sim.add_document(AL, SIREN, "ASSURANCE_RC_PRO") for _ in range(7)]

    first = client.get(
        f"/v1/companies/{SIREN}/documents", query_string={"pageSize": 3}, headers=AL_AUTH
    ).get_json()
    items = al_pages(client, SIREN, page_size=3)

    assert (first["page"], first["pageSize"], first["totalItems"], first["totalPages"]) == (
        1,
        3,
        7,
        3,
    )
    assert [item["id"] for item in items] == ids
    beyond = client.get(
        f"/v1/companies/{SIREN}/documents",
        query_string={"page": 4, "pageSize": 3},
        headers=AL_AUTH,
    ).get_json()
    assert beyond["items"] == []
    assert beyond["totalPages"] == 3


def test_al_listing_of_an_empty_company_has_zero_pages(client):
    body = client.get(f"/v1/companies/{SIREN}/documents", headers=AL_AUTH).get_json()

    assert body == {"items": [], "page": 1, "pageSize": 50, "totalItems": 0, "totalPages": 0}


def test_al_page_size_is_capped_at_100(sim, client):
    sim.seed_bulk(AL, SIREN, 120)

    body = client.get(
        f"/v1/companies/{SIREN}/documents", query_string={"pageSize": 500}, headers=AL_AUTH
    ).get_json()

    assert body["pageSize"] == 100
    assert len(body["items"]) == 100
    assert body["totalPages"] == 2


@pytest.mark.parametrize("query", [{"page": 0}, {"page": "deux"}, {"pageSize": 0}])
def test_al_listing_refuses_a_page_that_is_not_a_positive_integer(client, query):
    answer = client.get(f"/v1/companies/{SIREN}/documents", query_string=query, headers=AL_AUTH)

    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_request"


def test_al_document_entries_follow_the_contract(sim, client):
    siret = SIRETS[0]
    ext_id = sim.add_document(
        AL,
        SIREN,
        "CONGES_PAYES_BTP",
        siret=siret,
        state="REJECTED",
        issue_date=date(2026, 11, 2),
        rejection_reason="Certificat illisible.",
    )

    [item] = al_pages(client, SIREN)

    assert set(item) == AL_DOCUMENT_KEYS
    assert item["id"] == ext_id
    assert item["documentType"] == {
        "code": "CONGES_PAYES_BTP",
        "name": "Certificat de la caisse de congés payés BTP",
        "validityPeriod": None,
    }
    assert item["establishment"] == siret
    assert (item["state"], item["rejectionReason"]) == ("REJECTED", "Certificat illisible.")
    assert (item["issueDate"], item["validityStart"]) == ("2026-11-02", "2026-11-02")
    assert item["validityEnd"] == "2027-02-01"
    assert item["revision"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["updatedAt"])
    assert item["file"]["mediaType"] == "application/pdf"
    assert item["file"]["name"].endswith(".pdf")


def test_al_kbis_prints_no_end_and_declares_a_three_month_validity(sim, client):
    sim.add_document(AL, SIREN, "KBIS")

    [item] = al_pages(client, SIREN)

    assert item["validityEnd"] is None
    assert item["documentType"]["validityPeriod"] == 3


def test_al_expired_subscription_answers_402_on_documents_but_200_on_the_company(demo_client):
    company = demo_client.get(f"/v1/companies/{LEFEVRE.siren}", headers=AL_AUTH)
    documents = demo_client.get(f"/v1/companies/{LEFEVRE.siren}/documents", headers=AL_AUTH)

    assert company.status_code == 200
    assert company.get_json()["subscription"]["status"] == "EXPIRED"
    assert date.fromisoformat(company.get_json()["subscription"]["endsOn"]) < TODAY
    assert documents.status_code == 402
    assert documents.get_json()["error"]["code"] == "subscription_inactive"


def test_set_subscription_turns_listings_off_and_on(sim, client):
    sim.set_subscription(AL, SIREN, False)
    sim.set_subscription(ACTRADIS, SIREN, False)

    assert client.get(f"/v1/companies/{SIREN}/documents", headers=AL_AUTH).status_code == 402
    pieces_path = f"/api/v2/entreprises/{SIREN}/pieces"
    refused = client.get(pieces_path, headers=ACTRADIS_AUTH)
    assert refused.status_code == 403
    assert refused.get_json()["statut"] == 403

    sim.set_subscription(AL, SIREN, True)
    sim.set_subscription(ACTRADIS, SIREN, True)

    assert client.get(f"/v1/companies/{SIREN}/documents", headers=AL_AUTH).status_code == 200
    assert client.get(pieces_path, headers=ACTRADIS_AUTH).status_code == 200


# -- Actradis change feed ------------------------------------------------------------------


def test_actradis_cursor_walk_returns_every_piece_once(sim, client):
    ids = sim.seed_bulk(ACTRADIS, SIREN, 130, sirets=SIRETS)

    slices = actradis_slices(client, SIREN)
    uids = [piece["uid"] for part in slices for piece in part]

    assert [len(part) for part in slices] == [50, 50, 30]
    assert sorted(uids) == sorted(ids)


def test_actradis_feed_is_ordered_by_modification_then_uid(sim, client):
    first = sim.add_document(ACTRADIS, SIREN, "LNTE")
    sim.seed_bulk(ACTRADIS, SIREN, 10)
    sim.revise_document(ACTRADIS, first, state="VALIDE")

    feed = pieces(client, SIREN, limite=3)
    keys = [(datetime.fromisoformat(p["modifie_le"]), p["uid"]) for p in feed]

    assert keys == sorted(keys)
    assert feed[-1]["uid"] == first


def test_actradis_limite_is_capped_and_must_be_positive(sim, client):
    sim.seed_bulk(ACTRADIS, SIREN, 230)
    path = f"/api/v2/entreprises/{SIREN}/pieces"

    capped = client.get(path, query_string={"limite": 1000}, headers=ACTRADIS_AUTH).get_json()
    refused = client.get(path, query_string={"limite": 0}, headers=ACTRADIS_AUTH)

    assert len(capped["pieces"]) == 200
    assert refused.status_code == 400
    assert refused.get_json()["statut"] == 400


def test_actradis_pieces_follow_the_contract(sim, client):
    uid = sim.add_document(
        ACTRADIS,
        SIREN,
        "ATTESTATION_ASSURANCE_DECENNALE",
        siret=SIRETS[1],
        state="REFUSE",
        rejection_reason="Attestation illisible.",
        validity_start=date(2026, 1, 1),
    )

    [piece] = pieces(client, SIREN)

    assert set(piece) == PIECE_KEYS
    assert piece["uid"] == uid
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid)
    assert (piece["nature"], piece["siret"]) == ("ATTESTATION_ASSURANCE_DECENNALE", SIRETS[1])
    assert (piece["statut"], piece["motif_refus"]) == ("REFUSE", "Attestation illisible.")
    assert (piece["debut_validite"], piece["fin_validite"]) == ("2026-01-01", "2026-12-31")
    assert piece["version"] == 1
    assert PARIS_INSTANT.match(piece["modifie_le"])
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", piece["empreinte"])


def test_depuis_returns_only_pieces_modified_strictly_after(sim, client):
    sim.seed_bulk(ACTRADIS, SIREN, 12)
    everything = pieces(client, SIREN)
    middle = everything[5]["modifie_le"]
    latest = max(everything, key=lambda p: datetime.fromisoformat(p["modifie_le"]))

    later = pieces(client, SIREN, depuis=middle)
    nothing_new = pieces(client, SIREN, depuis=latest["modifie_le"])

    assert [p["uid"] for p in later] == [p["uid"] for p in everything[6:]]
    assert nothing_new == []


def test_a_revised_piece_reappears_after_depuis_with_the_next_version(sim, client):
    ids = sim.seed_bulk(ACTRADIS, SIREN, 5)
    applied = max(datetime.fromisoformat(p["modifie_le"]) for p in pieces(client, SIREN))
    before = sim.document(ACTRADIS, ids[2])

    sim.revise_document(ACTRADIS, ids[2], validity_end=date(2027, 6, 30))
    [piece] = pieces(client, SIREN, depuis=applied.isoformat())

    assert piece["uid"] == ids[2]
    assert piece["version"] == before.revision + 1 == 2
    assert piece["fin_validite"] == "2027-06-30"
    assert piece["empreinte"] != f"sha256:{before.sha256}"
    assert datetime.fromisoformat(piece["modifie_le"]) > applied


def test_depuis_accepts_any_offset_for_the_same_instant(sim, client):
    sim.seed_bulk(ACTRADIS, SIREN, 4)
    everything = pieces(client, SIREN)
    in_utc = datetime.fromisoformat(everything[1]["modifie_le"]).astimezone(UTC)

    later = pieces(client, SIREN, depuis=in_utc.strftime("%Y-%m-%dT%H:%M:%SZ"))

    assert [p["uid"] for p in later] == [p["uid"] for p in everything[2:]]


@pytest.mark.parametrize(
    "depuis",
    [
        "hier",
        "",
        "2026-10-02",
        "2026-10-02T10:00:00",
        "2026-10-02T10:00:00 02:00",
        "2026-13-02T10:00:00Z",
    ],
)
def test_a_malformed_depuis_answers_400(client, depuis):
    answer = client.get(
        f"/api/v2/entreprises/{SIREN}/pieces",
        query_string={"depuis": depuis},
        headers=ACTRADIS_AUTH,
    )

    assert answer.status_code == 400
    assert answer.get_json()["statut"] == 400


def test_an_unknown_curseur_answers_400(sim, client):
    sim.seed_bulk(ACTRADIS, SIREN, 3)
    sim.add_company(ACTRADIS, HORIZON.siren, HORIZON.name)
    sim.seed_bulk(ACTRADIS, HORIZON.siren, 3)
    issued = client.get(
        f"/api/v2/entreprises/{SIREN}/pieces", query_string={"limite": 1}, headers=ACTRADIS_AUTH
    ).get_json()["curseur_suivant"]
    body, signature = issued.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged_body = base64.urlsafe_b64encode(json.dumps({**payload, "slice": 9}).encode()).decode()

    def follow(cursor: str, siren: str = SIREN):
        return client.get(
            f"/api/v2/entreprises/{siren}/pieces",
            query_string={"curseur": cursor},
            headers=ACTRADIS_AUTH,
        )

    assert follow(issued).status_code == 200
    for cursor, siren in [
        ("n-importe-quoi", SIREN),
        ("", SIREN),
        ("é.é", SIREN),
        (f"{forged_body}.{signature}", SIREN),
        (issued, HORIZON.siren),
    ]:
        answer = follow(cursor, siren)
        assert answer.status_code == 400, cursor
        assert answer.get_json()["statut"] == 400


def test_the_cursor_stays_correct_when_pieces_change_between_slices(sim, client):
    ids = sim.seed_bulk(ACTRADIS, SIREN, 9)
    path = f"/api/v2/entreprises/{SIREN}/pieces"
    first = client.get(path, query_string={"limite": 4}, headers=ACTRADIS_AUTH).get_json()
    seen = [p["uid"] for p in first["pieces"]]
    unseen = next(uid for uid in ids if uid not in seen)

    sim.revise_document(ACTRADIS, seen[0], state="PERIME")
    sim.revise_document(ACTRADIS, unseen, state="PERIME")
    added = sim.add_document(ACTRADIS, SIREN, "LNTE")
    rest = []
    query = {"limite": 4, "curseur": first["curseur_suivant"]}
    while query["curseur"]:
        body = client.get(path, query_string=query, headers=ACTRADIS_AUTH).get_json()
        rest += body["pieces"]
        query["curseur"] = body["curseur_suivant"]

    rest_ids = [p["uid"] for p in rest]
    assert set(seen + rest_ids) == {*ids, added}
    assert rest_ids.count(unseen) == 1
    assert rest_ids[-3:] == [seen[0], unseen, added]
    assert {p["version"] for p in rest if p["uid"] in (seen[0], unseen)} == {2}


def test_removed_pieces_leave_the_feed_and_their_file(sim, client):
    ids = sim.seed_bulk(ACTRADIS, SIREN, 3)

    sim.remove_document(ACTRADIS, ids[1])

    assert [p["uid"] for p in pieces(client, SIREN)] == [ids[0], ids[2]]
    contenu = client.get(f"/api/v2/pieces/{ids[1]}/contenu", headers=ACTRADIS_AUTH)
    assert contenu.status_code == 404


# -- clock ----------------------------------------------------------------------------------


def test_every_change_advances_the_clock_by_at_least_a_second(sim):
    uid = sim.add_document(ACTRADIS, SIREN, "LNTE")
    instants = [sim.document(ACTRADIS, uid).updated_at]
    for _ in range(5):
        instants.append(sim.revise_document(ACTRADIS, uid, state="VALIDE").updated_at)
    instants.append(sim.document(AL, sim.add_document(AL, SIREN, "KBIS")).updated_at)

    gaps = [later - earlier for earlier, later in pairwise(instants)]
    assert all(gap >= timedelta(seconds=1) for gap in gaps)


def test_a_backdated_change_never_goes_before_the_previous_one(sim):
    recent = sim.add_document(ACTRADIS, SIREN, "LNTE")
    old = sim.add_document(ACTRADIS, SIREN, "LNTE", at=datetime(2020, 1, 1, tzinfo=UTC))

    assert sim.document(ACTRADIS, old).updated_at > sim.document(ACTRADIS, recent).updated_at


def test_modifie_le_carries_the_paris_offset_of_its_season(sim, client):
    summer = sim.add_document(ACTRADIS, SIREN, "LNTE", at=datetime(2026, 7, 1, 8, tzinfo=UTC))
    winter = sim.add_document(ACTRADIS, SIREN, "LNTE", at=datetime(2026, 11, 2, 8, tzinfo=UTC))
    by_uid = {p["uid"]: p["modifie_le"] for p in pieces(client, SIREN)}

    assert by_uid[summer] == "2026-07-01T10:00:00+02:00"
    assert by_uid[winter] == "2026-11-02T09:00:00+01:00"
    assert paris_isoformat(datetime(2026, 10, 2, 8, tzinfo=UTC)) == "2026-10-02T10:00:00+02:00"


@pytest.mark.parametrize(
    ("instant", "hours"),
    [
        (datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), 1),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 2),
        (datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC), 2),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 1),
        (datetime(2027, 7, 14, 12, tzinfo=UTC), 2),
        (datetime(2027, 1, 1, tzinfo=UTC), 1),
    ],
)
def test_paris_offset_switches_on_the_eu_summer_time_dates(instant, hours):
    assert paris_offset(instant) == timedelta(hours=hours)


# -- files ------------------------------------------------------------------------------------


def test_al_file_matches_the_listing_sha256_and_etag_and_is_a_valid_pdf(demo_client):
    for item in al_pages(demo_client, HORIZON.siren):
        answer = demo_client.get(f"/v1/documents/{item['id']}/file", headers=AL_AUTH)
        digest = hashlib.sha256(answer.data).hexdigest()

        assert answer.status_code == 200
        assert answer.mimetype == "application/pdf"
        assert digest == item["file"]["sha256"]
        assert answer.headers["ETag"] == f'"{digest}"'
        assert len(answer.data) == item["file"]["size"]
        assert len(pypdf.PdfReader(io.BytesIO(answer.data), strict=True).pages) == 1


def test_actradis_contenu_matches_empreinte_and_taille_and_is_a_valid_pdf(demo_client):
    for piece in pieces(demo_client, BERNARD.siren):
        answer = demo_client.get(f"/api/v2/pieces/{piece['uid']}/contenu", headers=ACTRADIS_AUTH)

        assert answer.status_code == 200
        assert answer.mimetype == "application/pdf"
        assert f"sha256:{hashlib.sha256(answer.data).hexdigest()}" == piece["empreinte"]
        assert len(answer.data) == piece["taille"]
        pypdf.PdfReader(io.BytesIO(answer.data), strict=True)


def test_the_pdf_shows_the_type_company_identifiers_dates_and_that_it_is_simulated(sim):
    ext_id = sim.add_document(
        AL, SIREN, "CONGES_PAYES_BTP", siret=SIRETS[2], issue_date=date(2026, 11, 3)
    )
    sim.revise_document(AL, ext_id, validity_end=date(2027, 3, 31))

    page = pypdf.PdfReader(io.BytesIO(sim.file_bytes(AL, ext_id)), strict=True).pages[0]
    text = page.extract_text()

    for expected in (
        "Certificat de la caisse de congés payés BTP",
        "Société Test Rhône",
        SIREN,
        SIRETS[2],
        "03/11/2026",
        "31/03/2027",
        "Révision : 2",
        "simulé",
    ):
        assert expected in text


def test_file_bytes_are_deterministic_per_revision_and_change_with_it(sim):
    twin = Simulator(today=TODAY, seed=None)
    twin.add_company(AL, SIREN, "Société Test Rhône")
    ext_id = sim.add_document(AL, SIREN, "KBIS")
    assert twin.add_document(AL, SIREN, "KBIS") == ext_id
    first = sim.file_bytes(AL, ext_id)

    assert twin.file_bytes(AL, ext_id) == first
    sim.revise_document(AL, ext_id, issue_date=date(2026, 11, 20))
    assert sim.file_bytes(AL, ext_id) != first
    assert sim.document(AL, ext_id).sha256 == hashlib.sha256(sim.file_bytes(AL, ext_id)).hexdigest()


# -- faults -------------------------------------------------------------------------------------


def test_fail_listing_page_fails_only_that_al_page(sim, client):
    sim.seed_bulk(AL, SIREN, 5)
    sim.fail_listing_page(AL, SIREN, 2, status=502)
    path = f"/v1/companies/{SIREN}/documents"

    first = client.get(path, query_string={"pageSize": 2}, headers=AL_AUTH)
    second = client.get(path, query_string={"page": 2, "pageSize": 2}, headers=AL_AUTH)

    assert first.status_code == 200
    assert second.status_code == 502
    assert "code" in second.get_json()["error"]


def test_fail_listing_page_fails_the_nth_actradis_slice(sim, client):
    sim.seed_bulk(ACTRADIS, SIREN, 5)
    sim.fail_listing_page(ACTRADIS, SIREN, 2)
    path = f"/api/v2/entreprises/{SIREN}/pieces"

    first = client.get(path, query_string={"limite": 2}, headers=ACTRADIS_AUTH)
    second = client.get(
        path,
        query_string={"limite": 2, "curseur": first.get_json()["curseur_suivant"]},
        headers=ACTRADIS_AUTH,
    )

    assert first.status_code == 200
    assert second.status_code == 500
    assert second.get_json() == {"erreur": second.get_json()["erreur"], "statut": 500}


def test_fail_discovery_fails_the_company_endpoint(sim, client):
    sim.fail_discovery(AL, SIREN, status=503)
    sim.fail_discovery(ACTRADIS, SIREN)

    al = client.get(f"/v1/companies/{SIREN}", headers=AL_AUTH)
    actradis = client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH)

    assert al.status_code == 503
    assert al.headers["Retry-After"] == "1"
    assert actradis.status_code == 500


def test_malformed_json_answers_200_with_a_body_that_does_not_parse(sim, client):
    sim.malformed_json(AL, SIREN)
    sim.malformed_json(ACTRADIS, SIREN)

    for path in (f"/v1/companies/{SIREN}/documents", f"/api/v2/entreprises/{SIREN}/pieces"):
        answer = client.get(path, headers={**AL_AUTH, **ACTRADIS_AUTH})
        assert answer.status_code == 200
        assert answer.mimetype == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(answer.data)


def test_corrupt_file_serves_bytes_that_do_not_match_the_listing(sim, client):
    ext_id = sim.add_document(AL, SIREN, "KBIS")
    uid = sim.add_document(ACTRADIS, SIREN, "EXTRAIT_KBIS")
    sim.corrupt_file(AL, ext_id)
    sim.corrupt_file(ACTRADIS, uid)

    al = client.get(f"/v1/documents/{ext_id}/file", headers=AL_AUTH)
    actradis = client.get(f"/api/v2/pieces/{uid}/contenu", headers=ACTRADIS_AUTH)

    assert al.status_code == 200
    assert hashlib.sha256(al.data).hexdigest() != sim.document(AL, ext_id).sha256
    assert len(al.data) == sim.document(AL, ext_id).size
    assert hashlib.sha256(actradis.data).hexdigest() != sim.document(ACTRADIS, uid).sha256


def test_fail_file_fails_that_download_only(sim, client):
    broken, fine = sim.add_document(AL, SIREN, "KBIS"), sim.add_document(AL, SIREN, "KBIS")
    sim.fail_file(AL, broken, status=503)

    assert client.get(f"/v1/documents/{broken}/file", headers=AL_AUTH).status_code == 503
    assert client.get(f"/v1/documents/{fine}/file", headers=AL_AUTH).status_code == 200


def test_redirect_answers_302_to_another_host(sim, client):
    uid = sim.add_document(ACTRADIS, SIREN, "LNTE")
    sim.redirect(ACTRADIS, "/api/v2/pieces/")

    answer = client.get(f"/api/v2/pieces/{uid}/contenu", headers=ACTRADIS_AUTH)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("http://redirection.simulateur.invalid/")
    assert client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH).status_code == 200


def test_delay_holds_matching_requests(sim, client, monkeypatch):
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(simulator_web, "time", SimpleNamespace(sleep=sleep))
    sim.delay(AL, 0.3, path_prefix="/v1/companies/")

    started = time.monotonic()
    client.get(f"/v1/companies/{SIREN}", headers=AL_AUTH)
    delayed = time.monotonic() - started
    assert pauses == [0.3]
    client.get("/v1/documents/any/file", headers=AL_AUTH)
    client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH)

    assert delayed >= 0.3
    # Neither another path of the provider nor another provider waited.
    assert pauses == [0.3]


@pytest.mark.parametrize("status", [429, 503])
def test_throttle_answers_the_next_requests_with_retry_after(sim, client, status):
    sim.throttle(ACTRADIS, 2, retry_after=7, status=status)
    path = f"/api/v2/entreprises/{SIREN}"

    answers = [client.get(path, headers=ACTRADIS_AUTH) for _ in range(3)]

    assert [a.status_code for a in answers] == [status, status, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].get_json()["statut"] == status
    assert client.get(f"/v1/companies/{SIREN}", headers=AL_AUTH).status_code == 200


def test_al_throttle_uses_the_al_error_body(sim, client):
    sim.throttle(AL, 1)

    answer = client.get(f"/v1/companies/{SIREN}", headers=AL_AUTH)

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.get_json()["error"]["code"] == "rate_limited"


def test_slow_files_delays_each_download(sim, client):
    ext_id = sim.add_document(AL, SIREN, "KBIS")
    sim.slow_files(AL, 0.2)

    started = time.monotonic()
    answer = client.get(f"/v1/documents/{ext_id}/file", headers=AL_AUTH)

    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_clear_faults_restores_normal_answers(sim, client):
    ext_id = sim.add_document(AL, SIREN, "KBIS")
    sim.fail_file(AL, ext_id)
    sim.fail_discovery(AL, SIREN)
    sim.throttle(AL, 5)
    sim.redirect(AL, "/")

    sim.clear_faults()

    assert client.get(f"/v1/companies/{SIREN}", headers=AL_AUTH).status_code == 200
    assert client.get(f"/v1/documents/{ext_id}/file", headers=AL_AUTH).status_code == 200


def test_faults_refuse_an_unknown_provider(sim):
    with pytest.raises(ValueError, match="unknown provider"):
        sim.throttle("docusign", 1)
    with pytest.raises(ValueError, match="429 or 503"):
        sim.throttle(AL, 1, status=500)


# -- call log ------------------------------------------------------------------------------------


def test_the_call_log_records_every_request_with_its_status(sim, client):
    sim.fail_discovery(ACTRADIS, SIREN)
    client.get(f"/v1/companies/{SIREN}")
    client.get(f"/v1/companies/{SIREN}/documents", query_string={"page": 1}, headers=AL_AUTH)
    client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH)

    assert sim.calls == [
        Call(AL, "GET", f"/v1/companies/{SIREN}", {}, 401, SIREN),
        Call(AL, "GET", f"/v1/companies/{SIREN}/documents", {"page": "1"}, 200, SIREN),
        Call(ACTRADIS, "GET", f"/api/v2/entreprises/{SIREN}", {}, 500, SIREN),
    ]
    sim.clear_calls()
    assert sim.calls == []


def test_file_downloads_counts_successful_downloads_per_company(demo, demo_client):
    horizon = [item["id"] for item in al_pages(demo_client, HORIZON.siren)]
    bernard = [piece["uid"] for piece in pieces(demo_client, BERNARD.siren)]
    demo.fail_file(AL, horizon[0])

    for ext_id in horizon[:3]:
        demo_client.get(f"/v1/documents/{ext_id}/file", headers=AL_AUTH)
    demo_client.get(f"/api/v2/pieces/{bernard[0]}/contenu", headers=ACTRADIS_AUTH)
    demo_client.get(f"/api/v2/pieces/{bernard[0]}/contenu")

    assert demo.file_downloads() == 3
    assert demo.file_downloads(AL) == 2
    assert demo.file_downloads(AL, HORIZON.siren) == 2
    assert demo.file_downloads(siren=BERNARD.siren) == 1
    assert demo.file_downloads(ACTRADIS, HORIZON.siren) == 0


def test_control_api_calls_are_not_logged(client, sim):
    client.get("/_simulateur/calls", headers=CONTROL)

    assert sim.calls == []


# -- control API --------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-Simulateur-Cle": "mauvaise"}])
def test_the_control_api_refuses_requests_without_the_key(sim, client, headers):
    answer = client.post("/_simulateur/faults/clear", headers=headers)
    calls = client.get("/_simulateur/calls", headers=headers)

    assert answer.status_code == 403
    assert calls.status_code == 403
    assert "error" in answer.get_json()


def test_the_control_api_is_off_when_the_key_is_empty(sim, client):
    sim.control_key = ""

    assert client.get("/_simulateur/calls", headers={"X-Simulateur-Cle": ""}).status_code == 404


def test_the_control_api_drives_companies_documents_and_revisions(sim, client):
    created = client.post(
        "/_simulateur/companies",
        json={"provider": AL, "siren": HORIZON.siren, "name": HORIZON.name},
        headers=CONTROL,
    )
    added = client.post(
        "/_simulateur/documents",
        json={
            "provider": AL,
            "siren": HORIZON.siren,
            "type_code": "ATTESTATION_URSSAF",
            "issue_date": "2026-11-10",
            "state": "AWAITING_VALIDATION",
        },
        headers=CONTROL,
    )
    ext_id = added.get_json()["id"]
    revised = client.post(
        f"/_simulateur/documents/{AL}/{ext_id}/revise", json={"state": "VALID"}, headers=CONTROL
    )
    shown = client.get(f"/_simulateur/documents/{AL}/{ext_id}", headers=CONTROL)

    assert created.status_code == 200
    assert added.status_code == 201
    assert revised.get_json()["revision"] == 2
    assert shown.get_json()["state"] == "VALID"
    assert shown.get_json()["issue_date"] == "2026-11-10"
    assert sim.document(AL, ext_id).revision == 2

    client.post(f"/_simulateur/documents/{AL}/{ext_id}/remove", headers=CONTROL)
    assert client.get(f"/_simulateur/documents/{AL}/{ext_id}", headers=CONTROL).status_code == 404


def test_the_control_api_sets_subscriptions_and_seeds_in_bulk(sim, client):
    seeded = client.post(
        "/_simulateur/seed-bulk",
        json={"provider": AL, "siren": SIREN, "n_documents": 40, "sirets": list(SIRETS)},
        headers=CONTROL,
    )
    client.post(
        "/_simulateur/subscription",
        json={"provider": AL, "siren": SIREN, "active": False},
        headers=CONTROL,
    )

    assert seeded.status_code == 201
    assert len(seeded.get_json()["ids"]) == 40
    assert len(sim.documents(AL, SIREN)) == 40
    assert client.get(f"/v1/companies/{SIREN}/documents", headers=AL_AUTH).status_code == 402


def test_the_control_api_sets_and_clears_faults(sim, client):
    client.post(
        "/_simulateur/faults",
        json={"fault": "throttle", "provider": ACTRADIS, "count": 1, "retry_after": 3},
        headers=CONTROL,
    )
    throttled = client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH)
    client.post(
        "/_simulateur/faults",
        json={"fault": "fail_discovery", "provider": ACTRADIS, "siren": SIREN},
        headers=CONTROL,
    )
    failed = client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH)
    client.post("/_simulateur/faults/clear", headers=CONTROL)
    cleared = client.get(f"/api/v2/entreprises/{SIREN}", headers=ACTRADIS_AUTH)

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "3")
    assert failed.status_code == 500
    assert cleared.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"fault": "reset", "provider": AL},
        {"fault": "throttle", "provider": AL},
        {"fault": "throttle", "provider": "inconnu", "count": 1},
        "pas un objet",
    ],
)
def test_the_control_api_refuses_bad_fault_requests(client, body):
    answer = client.post("/_simulateur/faults", json=body, headers=CONTROL)

    assert answer.status_code == 400
    assert answer.get_json()["error"]


def test_the_control_api_reports_and_clears_calls(sim, client):
    ext_id = sim.add_document(AL, SIREN, "KBIS")
    client.get(f"/v1/documents/{ext_id}/file", headers=AL_AUTH)
    client.get(f"/v1/documents/{ext_id}/file")

    report = client.get("/_simulateur/calls", headers=CONTROL).get_json()
    client.post("/_simulateur/calls/clear", headers=CONTROL)

    assert report["count"] == 2
    assert report["file_downloads"] == 1
    assert [call["status"] for call in report["calls"]] == [200, 401]
    assert report["calls"][0]["siren"] == SIREN
    assert sim.calls == []


def test_the_control_api_resets_to_the_initial_seed(demo, demo_client):
    horizon_before = [view.id for view in demo.documents(AL, HORIZON.siren)]
    demo.revise_document(AL, horizon_before[0], state="EXPIRED")
    demo.add_company(AL, DURAND.siren, DURAND.name)
    demo.throttle(AL, 10)
    demo_client.get(f"/v1/companies/{HORIZON.siren}", headers=AL_AUTH)

    answer = demo_client.post("/_simulateur/reset", headers=CONTROL)

    assert answer.status_code == 200
    assert [view.id for view in demo.documents(AL, HORIZON.siren)] == horizon_before
    assert demo.document(AL, horizon_before[0]).revision == 1
    assert demo.company(AL, DURAND.siren) is None
    assert demo.calls == []
    assert demo_client.get(f"/v1/companies/{HORIZON.siren}", headers=AL_AUTH).status_code == 200


# -- state API --------------------------------------------------------------------------------


def test_add_document_refuses_what_the_provider_would_not_hold(sim):
    with pytest.raises(ValueError, match="vocabulary"):
        sim.add_document(AL, SIREN, "KBIS", state="VALIDE")
    with pytest.raises(ValueError, match="not an establishment"):
        sim.add_document(AL, SIREN, "KBIS", siret=HORIZON.establishments[0].siret)
    with pytest.raises(KeyError):
        sim.add_document(AL, HORIZON.siren, "KBIS")
    with pytest.raises(TypeError, match="cannot revise"):
        sim.revise_document(AL, sim.add_document(AL, SIREN, "KBIS"), siren=HORIZON.siren)


def test_add_document_defaults_to_sensible_dates_and_state(sim):
    insurance = sim.document(AL, sim.add_document(AL, SIREN, "ASSURANCE_RC_PRO"))
    lapsed = sim.document(
        ACTRADIS, sim.add_document(ACTRADIS, SIREN, "LNTE", validity_end=TODAY - timedelta(days=1))
    )

    assert insurance.state == "VALID"
    assert insurance.issue_date == insurance.validity_start == TODAY - timedelta(days=20)
    assert insurance.validity_end == date(2027, 11, 8)
    assert lapsed.state == "PERIME"


def test_revising_out_of_rejection_drops_the_reason(sim):
    uid = sim.add_document(ACTRADIS, SIREN, "LNTE", state="REFUSE", rejection_reason="Illisible.")

    assert sim.document(ACTRADIS, uid).rejection_reason == "Illisible."
    assert sim.revise_document(ACTRADIS, uid, state="VALIDE").rejection_reason is None


def test_seed_bulk_spreads_establishment_documents_over_the_sirets(sim):
    ids = sim.seed_bulk(AL, SIREN, 40, sirets=SIRETS)
    views = [sim.document(AL, ext_id) for ext_id in ids]

    per_site = [view for view in views if view.siret]
    assert sorted(view.siret for view in per_site) == sorted(SIRETS)
    assert {view.type_code for view in per_site} == {"CONGES_PAYES_BTP"}
    assert {view.type_code for view in views if not view.siret} == {
        "ASSURANCE_RC_PRO",
        "ASSURANCE_DECENNALE",
    }
    assert {view.state for view in views} == {"VALID"}


def test_a_thousand_documents_list_and_download(sim, client):
    ids = sim.seed_bulk(AL, SIREN, 1000, sirets=SIRETS)
    listed = al_pages(client, SIREN, page_size=100)
    for ext_id in ids:
        assert client.get(f"/v1/documents/{ext_id}/file", headers=AL_AUTH).status_code == 200

    assert len(listed) == 1000
    assert sim.file_downloads(AL, SIREN) == 1000
    assert len(sim.calls) == 10 + 1000


# -- demo seed ------------------------------------------------------------------------------------


def test_demo_horizon_has_awaiting_rejected_and_unknown_documents(demo_client):
    items = al_pages(demo_client, HORIZON.siren)
    by_state: dict[str, list[dict]] = {}
    for item in items:
        by_state.setdefault(item["state"], []).append(item)

    [rejected] = by_state["REJECTED"]
    assert len(by_state["AWAITING_VALIDATION"]) == 1
    assert "SIRET" in rejected["rejectionReason"]
    assert len(by_state["EXPIRED"]) == 1
    codes = [item["documentType"]["code"] for item in items]
    assert "CERTIFICAT_QUALIPROPRE" in codes
    assert codes.count("ASSURANCE_RC_PRO") == 2

    def scopes(code: str) -> list[str | None]:
        return [item["establishment"] for item in items if item["documentType"]["code"] == code]

    for code in ("KBIS", "ATTESTATION_URSSAF", "LISTE_SALARIES_ETRANGERS", "ATTESTATION_FISCALE"):
        assert scopes(code) == [None]
    sites = set(scopes("CONGES_PAYES_BTP"))
    assert len(sites) >= 3
    assert sites <= {e.siret for e in HORIZON.establishments}


def test_demo_has_a_document_expiring_within_30_days(demo):
    soon = [
        view
        for provider, siren in [(AL, HORIZON.siren), (ACTRADIS, MARTIN.siren)]
        for view in demo.documents(provider, siren)
        if view.validity_end and TODAY <= view.validity_end <= TODAY + timedelta(days=30)
    ]

    assert {view.type_code for view in soon} == {
        "ATTESTATION_URSSAF",
        "ATTESTATION_ASSURANCE_DECENNALE",
    }


def test_demo_lefevre_subscription_has_expired(demo):
    company = demo.company(AL, LEFEVRE.siren)

    assert company["active"] is False
    assert company["ends_on"] < TODAY
    assert demo.documents(AL, LEFEVRE.siren)


def test_demo_martin_feed_spans_several_slices_with_every_actradis_state(demo_client):
    slices = actradis_slices(demo_client, MARTIN.siren, limite=50)
    feed = [piece for part in slices for piece in part]

    assert len(slices) >= 3
    assert {piece["statut"] for piece in feed} == {"VALIDE", "EN_COURS", "REFUSE", "PERIME"}
    [refused] = [piece for piece in feed if piece["statut"] == "REFUSE"]
    assert refused["motif_refus"].startswith("Attestation illisible")
    assert "CERTIFICAT_QUALIFELEC" in {piece["nature"] for piece in feed}
    assert sum(piece["nature"] == "ATTESTATION_ASSURANCE_RC" for piece in feed) > 50
    assert {piece["siret"] for piece in feed if piece["siret"]} == {
        e.siret for e in MARTIN.establishments
    }


def test_demo_bernard_has_a_kbis_on_both_platforms_with_different_dates(demo_client):
    al_items = al_pages(demo_client, BERNARD.siren)
    [al_kbis] = [item for item in al_items if item["documentType"]["code"] == "KBIS"]
    feed = pieces(demo_client, BERNARD.siren)
    [actradis_kbis] = [piece for piece in feed if piece["nature"] == "EXTRAIT_KBIS"]

    assert date.fromisoformat(actradis_kbis["date_emission"]) > date.fromisoformat(
        al_kbis["issueDate"]
    )


def test_demo_ids_are_deterministic_and_not_sequential(demo):
    again = Simulator(today=TODAY, seed="demo")
    al_ids = [view.id for view in demo.documents(AL, HORIZON.siren)]
    actradis_ids = [view.id for view in demo.documents(ACTRADIS, MARTIN.siren)]

    assert al_ids == [view.id for view in again.documents(AL, HORIZON.siren)]
    assert actradis_ids == [view.id for view in again.documents(ACTRADIS, MARTIN.siren)]
    assert all(re.fullmatch(r"al_doc_[0-9a-f]{20}", ext_id) for ext_id in al_ids)
    assert al_ids != sorted(al_ids)
    assert len(set(actradis_ids)) == len(actradis_ids)


def test_demo_dates_follow_today(demo):
    later = Simulator(today=TODAY + timedelta(days=100), seed="demo")
    before = demo.documents(AL, HORIZON.siren)
    after = later.documents(AL, HORIZON.siren)

    assert [view.issue_date + timedelta(days=100) for view in before] == [
        view.issue_date for view in after
    ]
    assert all(view.updated_at.date() < TODAY for view in before)


def test_durand_holds_no_account_anywhere(demo):
    assert demo.company(AL, DURAND.siren) is None
    assert demo.company(ACTRADIS, DURAND.siren) is None
