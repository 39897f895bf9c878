"""The provider simulator over real HTTP, as connectors and benchmarks reach it."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
import requests

from hiveo.demo.companies import HORIZON, MARTIN
from simulator import ACTRADIS, AL, Simulator, serve_in_thread

TODAY = date(2026, 11, 29)
AL_AUTH = {"Authorization": "Bearer demo-al-token"}
ACTRADIS_AUTH = {"X-Api-Key": "demo-actradis-key"}
CONTROL = {"X-Simulateur-Cle": "demo-simulator-control"}
TIMEOUT = (2, 10)


@pytest.fixture
def served():
    sim = Simulator(today=TODAY, seed="demo")
    server, base_url = serve_in_thread(sim, host="127.0.0.1", port=0)
    with requests.Session() as session:
        yield sim, base_url, session
    server.shutdown()


def test_one_port_serves_both_contracts_with_matching_checksums(served):
    sim, base_url, session = served
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)

    listing = session.get(
        f"{base_url}/v1/companies/{HORIZON.siren}/documents", headers=AL_AUTH, timeout=TIMEOUT
    ).json()
    item = listing["items"][0]
    file = session.get(
        f"{base_url}/v1/documents/{item['id']}/file",
        headers=AL_AUTH,
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    feed, query = [], {"limite": 50}
    while True:
        body = session.get(
            f"{base_url}/api/v2/entreprises/{MARTIN.siren}/pieces",
            params=query,
            headers=ACTRADIS_AUTH,
            timeout=TIMEOUT,
        ).json()
        feed += body["pieces"]
        if body["curseur_suivant"] is None:
            break
        query["curseur"] = body["curseur_suivant"]

    assert listing["totalItems"] == len(sim.documents(AL, HORIZON.siren))
    assert file.headers["Content-Type"] == "application/pdf"
    assert file.headers["ETag"] == f'"{hashlib.sha256(file.content).hexdigest()}"'
    assert hashlib.sha256(file.content).hexdigest() == item["file"]["sha256"]
    assert sorted(piece["uid"] for piece in feed) == sorted(
        view.id for view in sim.documents(ACTRADIS, MARTIN.siren)
    )


def test_depuis_with_a_paris_offset_survives_url_encoding(served):
    sim, base_url, session = served
    path = f"{base_url}/api/v2/entreprises/{MARTIN.siren}/pieces"
    first = session.get(path, headers=ACTRADIS_AUTH, timeout=TIMEOUT).json()["pieces"][0]
    assert "+01:00" in first["modifie_le"]

    later = session.get(
        path,
        params={"depuis": first["modifie_le"], "limite": 200},
        headers=ACTRADIS_AUTH,
        timeout=TIMEOUT,
    ).json()["pieces"]

    assert first["uid"] not in {piece["uid"] for piece in later}
    assert len(later) == len(sim.documents(ACTRADIS, MARTIN.siren)) - 1


def test_a_delay_makes_a_client_with_a_short_read_timeout_give_up(served):
    sim, base_url, session = served
    sim.delay(AL, 1.0, path_prefix="/v1/companies/")

    with pytest.raises(requests.ReadTimeout):
        session.get(f"{base_url}/v1/companies/{HORIZON.siren}", headers=AL_AUTH, timeout=(2, 0.2))


def test_the_control_api_drives_a_simulator_in_another_thread(served):
    _, base_url, session = served
    refused = session.post(f"{base_url}/_simulateur/reset", timeout=TIMEOUT)
    session.post(
        f"{base_url}/_simulateur/faults",
        json={"fault": "throttle", "provider": AL, "count": 1, "retry_after": 2, "status": 503},
        headers=CONTROL,
        timeout=TIMEOUT,
    )
    throttled = session.get(
        f"{base_url}/v1/companies/{HORIZON.siren}", headers=AL_AUTH, timeout=TIMEOUT
    )
    calls = session.get(f"{base_url}/_simulateur/calls", headers=CONTROL, timeout=TIMEOUT).json()

    assert refused.status_code == 403
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (503, "2")
    assert [call["status"] for call in calls["calls"]] == [503]
    assert calls["file_downloads"] == 0


def test_a_thousand_files_over_loopback_are_all_served(served):
    sim, base_url, session = served
    siren = "732829320"
    ids = sim.seed_bulk(AL, siren, 1000, sirets=("73282932000074",))

    listed, page = [], 1
    while True:
        body = session.get(
            f"{base_url}/v1/companies/{siren}/documents",
            params={"page": page, "pageSize": 100},
            headers=AL_AUTH,
            timeout=TIMEOUT,
        ).json()
        listed += body["items"]
        if page == body["totalPages"]:
            break
        page += 1
    for item in listed:
        answer = session.get(
            f"{base_url}/v1/documents/{item['id']}/file", headers=AL_AUTH, timeout=TIMEOUT
        )
        assert hashlib.sha256(answer.content).hexdigest() == item["file"]["sha256"]

    assert [item["id"] for item in listed] == ids
    assert sim.file_downloads(AL, siren) == 1000
    # Ten pages and a thousand files: one request each, none failed or retried.
    assert [call.status for call in sim.calls] == [200] * 1010
