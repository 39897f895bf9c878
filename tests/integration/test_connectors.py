"""The provider connectors over real HTTP, against the bundled simulator and tiny stub servers.

Timeouts and Retry-After bounds are shrunk so that every failure mode runs
in well under a second. The policy's bounds are checked by counts (requests
the server saw, connections tried, the waits the retry policy asked for),
never by a wall-clock ceiling; elapsed time is only a lower bound, where a
wait is the behaviour.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3.util.connection
import urllib3.util.retry

from hiveo.demo.companies import BERNARD, HORIZON, LEFEVRE, MARTIN
from hiveo.dossier.storage import LocalStorage
from hiveo.providers import PROVIDERS, connector_for
from hiveo.providers.http import RETRIES
from hiveo.providers.records import Connector, ProviderError, RemoteDocument
from hiveo.sync.wording import provider_error
from simulator import ACTRADIS, AL, Simulator, serve_in_thread

TODAY = date(2026, 11, 29)
TIMEOUT = 0.4
RETRY_AFTER_MAX = 0.1
UNKNOWN_SIREN = "123456782"


@dataclasses.dataclass
class Served:
    sim: Simulator
    url: str


@pytest.fixture
def served() -> Iterator[Served]:
    sim = Simulator(today=TODAY, seed="demo")
    server, url = serve_in_thread(sim)
    yield Served(sim, url)
    server.shutdown()


def settings(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "ATTESTATION_LEGALE_URL": url,
        "ATTESTATION_LEGALE_TOKEN": "demo-al-token",
        "ACTRADIS_URL": url,
        "ACTRADIS_API_KEY": "demo-actradis-key",
        "PROVIDER_TIMEOUT": TIMEOUT,
        "PROVIDER_RETRY_AFTER_MAX": RETRY_AFTER_MAX,
        **overrides,
    }


@pytest.fixture
def connect(served: Served) -> Iterator[Callable[..., Connector]]:
    """Connectors to the simulator (or to `url=`), closed after the test."""
    made: list[Connector] = []

    def make(provider: str, url: str | None = None, **overrides: Any) -> Connector:
        connector = connector_for(provider, settings(url or served.url, **overrides))
        assert connector is not None
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def said(error: ProviderError) -> str:
    """What a person reads about the error (the sync layer words it)."""
    return provider_error(error, PROVIDERS[error.provider])


@dataclasses.dataclass
class RetryLog:
    """What the retry policy did: each wait it asked for, each connection it opened."""

    waits: list[float]
    connections: list[tuple[str, int]]


@pytest.fixture
def retries(monkeypatch) -> RetryLog:
    log = RetryLog(waits=[], connections=[])

    def sleep(seconds: float) -> None:
        log.waits.append(seconds)
        time.sleep(seconds)

    def create_connection(address, *args, **kwargs):
        log.connections.append(address)
        return real_create_connection(address, *args, **kwargs)

    real_create_connection = urllib3.util.connection.create_connection
    monkeypatch.setattr(urllib3.util.retry, "time", SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return log


def failure(call: Callable[[], object]) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call()
    return caught.value


# -- a stub provider, for answers the simulator cannot give -------------------------


Answer = tuple[int, dict[str, str], bytes]
# A stub header asking the stub to stall for this many seconds halfway through the body.
STALL = "X-Stub-Stall"


@dataclasses.dataclass
class Stub:
    url: str
    hits: list[str]
    headers: list[dict[str, str]]
    connections: list[Any]
    # By path, or by path and query; a list answers its items in turn, then its last.
    routes: dict[str, Answer | list[Answer]]
    upstream: str | None = None


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


@pytest.fixture
def stub() -> Iterator[Stub]:
    """A bare HTTP/1.1 server that keeps connections alive and logs them and every request.

    It answers canned (status, headers, body) by path, else relays to `upstream`
    when set: the simulator's development server closes every connection, so
    keep-alive is observed through this relay.
    """
    state = Stub(url="", hits=[], headers=[], connections=[], routes={})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            state.connections.append(self.client_address)

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            state.hits.append(path)
            state.headers.append(dict(self.headers.items()))
            route = state.routes.get(self.path, state.routes.get(path))
            if isinstance(route, list):
                route = route.pop(0) if len(route) > 1 else route[0]
            if route is None and state.upstream is not None:
                route = self._relay()
            status, headers, body = route or (404, {}, b'{"error": "not found"}')
            self.send_response(status)
            for name, value in headers.items():
                if name != STALL:
                    self.send_header(name, value)
            if "Connection" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if STALL in headers:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    time.sleep(float(headers[STALL]))
                    body = body[len(body) // 2 :]
                self.wfile.write(body)
            except OSError:
                # The client gave up on us, as the test meant it to.
                self.close_connection = True
            if headers.get("Connection") == "close":
                self.close_connection = True

        def _relay(self) -> Answer:
            assert state.upstream is not None
            upstream = http.client.HTTPConnection(urlsplit(state.upstream).netloc, timeout=5)
            try:
                upstream.request("GET", self.path, headers=dict(self.headers.items()))
                answer = upstream.getresponse()
                body = answer.read()
                headers = {
                    name: value
                    for name, value in answer.getheaders()
                    if name.lower() not in _HOP_BY_HOP
                }
                return answer.status, headers, body
            finally:
                upstream.close()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def json_route(body: object, status: int = 200) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def remote_file(body: bytes, external_id: str = "doc-1", size: int | None = None) -> RemoteDocument:
    return RemoteDocument(
        provider=AL,
        external_id=external_id,
        revision=1,
        provider_code="KBIS",
        doc_type="KBIS",
        siret=None,
        state="valid",
        rejection_reason=None,
        issue_date=TODAY,
        validity_start=TODAY,
        validity_end=None,
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body) if size is None else size,
        filename="kbis.pdf",
        modified_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        cursor_value="2026-11-28T09:00:00Z",
    )


def al_item(external_id: str) -> dict[str, Any]:
    """A document as the Attestation Légale contract describes it."""
    return {
        "id": external_id,
        "documentType": {"code": "KBIS", "name": "Extrait Kbis", "validityPeriod": 3},
        "establishment": None,
        "state": "VALID",
        "rejectionReason": None,
        "issueDate": "2026-11-02",
        "validityStart": "2026-11-02",
        "validityEnd": None,
        "revision": 1,
        "updatedAt": "2026-11-03T08:00:00Z",
        "file": {
            "name": "kbis.pdf",
            "mediaType": "application/pdf",
            "size": 10,
            "sha256": "0" * 64,
        },
    }


def al_page(ids: list[str], page: int, total_items: int, total_pages: int) -> Answer:
    return json_route(
        {
            "items": [al_item(external_id) for external_id in ids],
            "page": page,
            "pageSize": 2,
            "totalItems": total_items,
            "totalPages": total_pages,
        }
    )


# -- discovery and listings -------------------------------------------------------------


def test_discovery_tells_an_account_an_inactive_subscription_and_an_unknown_company(
    served, connect
):
    served.sim.set_subscription(ACTRADIS, BERNARD.siren, False)
    al, actradis = connect(AL), connect(ACTRADIS)

    horizon = al.discover(HORIZON.siren)
    lefevre = al.discover(LEFEVRE.siren)
    martin = actradis.discover(MARTIN.siren)
    bernard = actradis.discover(BERNARD.siren)

    assert (horizon.siren, horizon.name, horizon.active) == (HORIZON.siren, HORIZON.name, True)
    assert (lefevre.siren, lefevre.active) == (LEFEVRE.siren, False)
    assert (martin.siren, martin.name, martin.active) == (MARTIN.siren, MARTIN.name, True)
    assert (bernard.siren, bernard.active) == (BERNARD.siren, False)
    assert al.discover(UNKNOWN_SIREN) is None
    assert actradis.discover(UNKNOWN_SIREN) is None


def test_attestation_legale_listing_follows_every_page_and_counts_its_requests(served, connect):
    al = connect(AL, PROVIDER_PAGE_SIZE=5)

    listing = al.list_documents(HORIZON.siren)

    expected = {view.id: view for view in served.sim.documents(AL, HORIZON.siren)}
    assert len(expected) == 12
    assert listing.requests == 3
    pages = [call.query for call in served.sim.calls if call.path.endswith("/documents")]
    assert pages == [{"page": str(n), "pageSize": "5"} for n in (1, 2, 3)]
    got = listing.documents + listing.unknown
    assert {document.external_id for document in got} == set(expected)
    assert listing.high_water is None
    for document in got:
        view = expected[document.external_id]
        assert (document.sha256, document.size, document.filename) == (
            view.sha256,
            view.size,
            view.file_name,
        )
        assert (document.siret, document.revision) == (view.siret, view.revision)
        assert (document.issue_date, document.validity_start, document.validity_end) == (
            view.issue_date,
            view.validity_start,
            view.validity_end,
        )
        assert document.modified_at == view.updated_at
        assert document.cursor_value.endswith("Z")


@pytest.mark.parametrize("provider", [AL, ACTRADIS])
def test_an_empty_company_is_listed_in_a_single_request(served, connect, provider):
    served.sim.add_company(provider, UNKNOWN_SIREN, "Entreprise Vide")

    listing = connect(provider).list_documents(UNKNOWN_SIREN)

    assert (listing.documents, listing.unknown, listing.requests) == ([], [], 1)
    assert listing.high_water is None


def test_actradis_listing_walks_the_cursor_until_it_is_null(served, connect):
    actradis = connect(ACTRADIS, PROVIDER_PAGE_SIZE=50)

    listing = actradis.list_documents(MARTIN.siren)

    views = served.sim.documents(ACTRADIS, MARTIN.siren)
    assert len(views) == 103
    assert listing.requests == 3
    feed = [call.query for call in served.sim.calls if call.path.endswith("/pieces")]
    assert "curseur" not in feed[0]
    assert all("curseur" in query for query in feed[1:])
    got = listing.documents + listing.unknown
    assert sorted(document.external_id for document in got) == sorted(view.id for view in views)
    latest = max(views, key=lambda view: view.updated_at)
    assert datetime.fromisoformat(listing.high_water) == latest.updated_at


def test_actradis_since_returns_only_later_changes_and_a_full_listing_gives_the_same_set(
    served, connect
):
    actradis = connect(ACTRADIS, PROVIDER_PAGE_SIZE=40)
    first = actradis.list_documents(MARTIN.siren)
    before = {(d.external_id, d.revision) for d in first.documents + first.unknown}
    changed = [first.documents[0].external_id, first.documents[7].external_id]
    served.sim.revise_document(ACTRADIS, changed[0], state="PERIME")
    served.sim.revise_document(ACTRADIS, changed[1], validity_end=date(2027, 6, 30))

    later = actradis.list_documents(MARTIN.siren, since=first.high_water)
    unchanged = actradis.list_documents(MARTIN.siren, since=later.high_water)
    full = actradis.list_documents(MARTIN.siren)

    assert sorted(d.external_id for d in later.documents) == sorted(changed)
    assert later.requests == 1
    assert {d.state for d in later.documents if d.external_id == changed[0]} == {"expired"}
    assert datetime.fromisoformat(later.high_water) > datetime.fromisoformat(first.high_water)
    depuis = [call.query.get("depuis") for call in served.sim.calls if "depuis" in call.query]
    assert depuis == [first.high_water, later.high_water]
    assert (unchanged.documents, unchanged.unknown, unchanged.high_water) == ([], [], None)
    applied = {pair for pair in before if pair[0] not in changed} | {
        (d.external_id, d.revision) for d in later.documents
    }
    assert {(d.external_id, d.revision) for d in full.documents + full.unknown} == applied
    assert full.high_water == later.high_water


def test_unknown_provider_codes_are_reported_apart_and_never_fatal(connect):
    horizon = connect(AL).list_documents(HORIZON.siren)
    martin = connect(ACTRADIS).list_documents(MARTIN.siren)

    assert [(d.provider_code, d.doc_type) for d in horizon.unknown] == [
        ("CERTIFICAT_QUALIPROPRE", None)
    ]
    assert [(d.provider_code, d.doc_type) for d in martin.unknown] == [
        ("CERTIFICAT_QUALIFELEC", None)
    ]
    assert all(d.doc_type is not None for d in horizon.documents + martin.documents)
    assert {d.doc_type for d in horizon.documents} == {
        "KBIS",
        "URSSAF_VIGILANCE",
        "LNTE",
        "FISCAL_REGULARITY",
        "INSURANCE_RC_PRO",
        "BTP_PAID_LEAVE",
    }


def test_states_are_normalised_with_the_rejection_reason(connect):
    horizon = connect(AL).list_documents(HORIZON.siren).documents
    martin = connect(ACTRADIS).list_documents(MARTIN.siren).documents

    for documents in (horizon, martin):
        assert {d.state for d in documents} == {"valid", "awaiting", "refused", "expired"}
        for document in documents:
            assert (document.rejection_reason is not None) == (document.state == "refused")
    refused = next(d for d in horizon if d.state == "refused")
    assert refused.doc_type == "BTP_PAID_LEAVE"
    assert refused.siret == HORIZON.establishments[3].siret
    assert "SIRET" in refused.rejection_reason
    assert next(d for d in martin if d.state == "awaiting").doc_type == "LNTE"


def test_an_attestation_legale_listing_that_moved_while_read_is_read_again(stub, connect):
    pages = f"/v1/companies/{HORIZON.siren}/documents?page=%d&pageSize=2"
    # "a" is removed after page 1 is read: page 2 shifts and would hide "c".
    stub.routes[pages % 1] = [al_page(["a", "b"], 1, 3, 2), al_page(["b", "c"], 1, 2, 1)]
    stub.routes[pages % 2] = al_page([], 2, 2, 1)

    listing = connect(AL, url=stub.url, PROVIDER_PAGE_SIZE=2).list_documents(HORIZON.siren)

    assert [d.external_id for d in listing.documents] == ["b", "c"]
    assert listing.requests == 3


def test_a_listing_that_keeps_moving_is_refused_rather_than_half_read(stub, connect):
    pages = f"/v1/companies/{HORIZON.siren}/documents?page=%d&pageSize=2"
    stub.routes[pages % 1] = al_page(["a", "b"], 1, 3, 2)
    stub.routes[pages % 2] = al_page([], 2, 2, 1)

    al = connect(AL, url=stub.url, PROVIDER_PAGE_SIZE=2)
    error = failure(lambda: al.list_documents(HORIZON.siren))

    assert error.code == "malformed"
    assert len(stub.hits) == 4


# -- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "siren"), [(AL, HORIZON.siren), (ACTRADIS, BERNARD.siren)])
def test_fetch_file_stores_the_announced_bytes_over_one_kept_alive_connection(
    served, stub, connect, tmp_path, provider, siren
):
    stub.upstream = served.url
    storage = LocalStorage(tmp_path)
    connector = connect(provider, url=stub.url)

    assert connector.discover(siren) is not None
    documents = connector.list_documents(siren).documents[:3]
    stored = [connector.fetch_file(document, storage.save_chunks) for document in documents]

    for document, file in zip(documents, stored, strict=True):
        assert (file.sha256, file.size) == (document.sha256, document.size)
        body = served.sim.file_bytes(provider, document.external_id)
        assert storage.path(file.sha256).read_bytes() == body
    assert served.sim.file_downloads(provider) == 3
    assert len(stub.hits) == len(served.sim.calls) == 5
    assert len(stub.connections) == 1, "every call should reuse the first TCP connection"


def test_a_corrupted_file_is_a_checksum_error_and_leaves_nothing_in_storage(
    served, connect, tmp_path
):
    actradis = connect(ACTRADIS)
    document = actradis.list_documents(BERNARD.siren).documents[0]
    served.sim.corrupt_file(ACTRADIS, document.external_id)

    error = failure(lambda: actradis.fetch_file(document, LocalStorage(tmp_path).save_chunks))

    assert error.code == "checksum"
    assert error.provider == ACTRADIS
    assert said(error) == "Un fichier reçu d'Actradis est corrompu (empreinte SHA-256 différente)"
    assert stored_files(tmp_path) == []


def test_a_file_larger_than_announced_is_refused_and_leaves_nothing(served, connect, tmp_path):
    al = connect(AL)
    document = al.list_documents(HORIZON.siren).documents[0]
    shrunk = dataclasses.replace(document, size=document.size - 1)

    error = failure(lambda: al.fetch_file(shrunk, LocalStorage(tmp_path).save_chunks))

    assert error.code == "too_large"
    assert stored_files(tmp_path) == []


def test_a_body_longer_than_announced_without_length_is_cut_off(stub, connect, tmp_path):
    body = b"%PDF-1.7\n" + b"x" * 5000
    stub.routes["/v1/documents/doc-1/file"] = (200, {"Connection": "close"}, body)

    error = failure(
        lambda: connect(AL, url=stub.url).fetch_file(
            remote_file(body, size=1000), LocalStorage(tmp_path).save_chunks
        )
    )

    assert error.code == "too_large"
    assert stored_files(tmp_path) == []


def test_a_file_slower_than_the_timeout_is_a_timeout_and_leaves_nothing(served, connect, tmp_path):
    al = connect(AL)
    document = al.list_documents(HORIZON.siren).documents[0]
    served.sim.slow_files(AL, 2.0)

    error = failure(lambda: al.fetch_file(document, LocalStorage(tmp_path).save_chunks))

    assert error.code == "timeout"
    assert stored_files(tmp_path) == []


def test_a_download_stalling_halfway_is_a_timeout_and_leaves_nothing(stub, connect, tmp_path):
    body = b"%PDF-1.7\n" + b"x" * 5000
    stub.routes["/v1/documents/doc-1/file"] = (200, {STALL: "2"}, body)
    al = connect(AL, url=stub.url)

    error = failure(lambda: al.fetch_file(remote_file(body), LocalStorage(tmp_path).save_chunks))

    assert error.code == "timeout"
    assert stub.hits == ["/v1/documents/doc-1/file"]  # tried once
    assert stored_files(tmp_path) == []


def test_a_file_that_is_not_a_pdf_is_refused_before_anything_is_kept(stub, connect, tmp_path):
    body = b"<html><body>Maintenance en cours</body></html>"
    stub.routes["/v1/documents/doc-1/file"] = (200, {"Content-Type": "application/pdf"}, body)

    error = failure(
        lambda: connect(AL, url=stub.url).fetch_file(
            remote_file(body), LocalStorage(tmp_path).save_chunks
        )
    )

    assert error.code == "not_pdf"
    assert "Attestation Légale" in said(error)
    assert stored_files(tmp_path) == []


def test_requests_carry_the_credentials_and_a_user_agent_naming_hiveo(stub, connect):
    al = connect(AL, url=stub.url)
    actradis = connect(ACTRADIS, url=stub.url)

    assert al.discover(HORIZON.siren) is None
    assert actradis.discover(HORIZON.siren) is None

    al_headers, actradis_headers = stub.headers
    assert al_headers["Authorization"] == "Bearer demo-al-token"
    assert actradis_headers["X-Api-Key"] == "demo-actradis-key"
    assert "Authorization" not in actradis_headers
    assert all(h["User-Agent"].startswith("hiveo/") for h in stub.headers)


# -- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "siren"), [(AL, HORIZON.siren), (ACTRADIS, MARTIN.siren)])
def test_a_500_on_page_two_is_an_http_error_and_is_not_retried(served, connect, provider, siren):
    served.sim.fail_listing_page(provider, siren, 2, 500)
    connector = connect(provider, PROVIDER_PAGE_SIZE=5)

    error = failure(lambda: connector.list_documents(siren))

    assert (error.code, error.status) == ("http", 500)
    assert [call.status for call in served.sim.calls] == [200, 500]


def test_a_provider_slower_than_the_timeout_is_a_timeout_tried_once(
    served, stub, connect, retries
):
    # Through the stub's relay, which logs each request as it arrives (the
    # simulator logs a call once it has answered, long after we gave up).
    stub.upstream = served.url
    served.sim.delay(AL, 2.0, "/v1/companies")
    al = connect(AL, url=stub.url)

    started = time.monotonic()
    error = failure(lambda: al.discover(HORIZON.siren))

    assert error.code == "timeout"
    assert said(error) == "Attestation Légale ne répond pas"
    assert time.monotonic() - started >= TIMEOUT * 0.9  # it did wait for the answer
    # One read timeout and no retry.
    assert stub.hits == [f"/v1/companies/{HORIZON.siren}"]
    assert len(retries.connections) == 1 and retries.waits == []


@pytest.mark.parametrize(("provider", "siren"), [(AL, HORIZON.siren), (ACTRADIS, MARTIN.siren)])
def test_a_truncated_json_answer_is_malformed(served, connect, provider, siren):
    served.sim.malformed_json(provider, siren)

    error = failure(lambda: connect(provider).list_documents(siren))

    assert error.code == "malformed"


@pytest.mark.parametrize(
    ("provider", "path", "body"),
    [
        (
            AL,
            f"/v1/companies/{HORIZON.siren}/documents",
            {"items": [{"id": "x"}], "page": 1, "pageSize": 100, "totalItems": 1, "totalPages": 1},
        ),
        (AL, f"/v1/companies/{HORIZON.siren}/documents", {"items": []}),
        (AL, f"/v1/companies/{HORIZON.siren}/documents", ["not", "an", "object"]),
        (ACTRADIS, f"/api/v2/entreprises/{HORIZON.siren}/pieces", {"pieces": []}),
        (
            ACTRADIS,
            f"/api/v2/entreprises/{HORIZON.siren}/pieces",
            {"pieces": [{"uid": 3}], "curseur_suivant": None},
        ),
    ],
)
def test_json_outside_the_contract_is_malformed_not_a_crash(stub, connect, provider, path, body):
    stub.routes[path] = json_route(body)

    error = failure(lambda: connect(provider, url=stub.url).list_documents(HORIZON.siren))

    assert error.code == "malformed"
    assert error.detail


def test_a_discovery_answer_outside_the_contract_is_malformed(stub, connect):
    stub.routes[f"/api/v2/entreprises/{HORIZON.siren}"] = json_route(
        {"siren": HORIZON.siren, "raison_sociale": "Horizon", "abonnement_actif": "oui"}
    )

    error = failure(lambda: connect(ACTRADIS, url=stub.url).discover(HORIZON.siren))

    assert error.code == "malformed"


def test_a_redirect_is_an_error_and_never_followed(served, connect):
    served.sim.redirect(AL, "/v1/companies")

    error = failure(lambda: connect(AL).discover(HORIZON.siren))

    assert (error.code, error.status) == ("redirect", 302)
    assert [(call.path, call.status) for call in served.sim.calls] == [
        (f"/v1/companies/{HORIZON.siren}", 302)
    ]


def test_a_redirect_target_is_never_contacted(stub, connect):
    path = f"/api/v2/entreprises/{MARTIN.siren}"
    stub.routes[path] = (302, {"Location": f"{stub.url}/ailleurs"}, b"")
    stub.routes["/ailleurs"] = json_route(
        {"siren": MARTIN.siren, "raison_sociale": "Martin", "abonnement_actif": True}
    )

    error = failure(lambda: connect(ACTRADIS, url=stub.url).discover(MARTIN.siren))

    assert error.code == "redirect"
    assert stub.hits == [path]


def test_an_expired_subscription_is_a_subscription_error(served, connect):
    served.sim.set_subscription(ACTRADIS, MARTIN.siren, False)

    al_error = failure(lambda: connect(AL).list_documents(LEFEVRE.siren))
    actradis_error = failure(lambda: connect(ACTRADIS).list_documents(MARTIN.siren))

    assert (al_error.code, al_error.status) == ("subscription", 402)
    assert said(al_error) == "Abonnement Attestation Légale inactif"
    assert (actradis_error.code, actradis_error.status) == ("subscription", 403)
    assert said(actradis_error) == "Abonnement Actradis inactif"


def test_wrong_credentials_are_unauthorized(served, connect):
    al = connect(AL, ATTESTATION_LEGALE_TOKEN="wrong-token")
    actradis = connect(ACTRADIS, ACTRADIS_API_KEY="")

    al_error = failure(lambda: al.discover(HORIZON.siren))
    actradis_error = failure(lambda: actradis.list_documents(MARTIN.siren))

    assert al_error.code == actradis_error.code == "unauthorized"
    assert said(al_error) == (
        "Attestation Légale refuse l'accès du portail (identifiants de l'API à vérifier)"
    )
    assert [call.status for call in served.sim.calls] == [401, 401]


def test_a_throttle_is_retried_after_the_bounded_retry_after_wait(served, connect, retries):
    served.sim.throttle(AL, 2, retry_after=1)
    al = connect(AL, PROVIDER_RETRY_AFTER_MAX=0.25)

    started = time.monotonic()
    account = al.discover(HORIZON.siren)

    assert account is not None
    assert [call.status for call in served.sim.calls] == [429, 429, 200]
    # Two waits of min(Retry-After 1 s, bound 0.25 s), really waited.
    assert retries.waits == [0.25, 0.25]
    assert time.monotonic() - started >= 0.45


def test_a_503_within_the_bound_waits_the_full_retry_after(served, connect, retries):
    served.sim.throttle(ACTRADIS, 1, retry_after=1, status=503)
    actradis = connect(ACTRADIS, PROVIDER_RETRY_AFTER_MAX=5)

    started = time.monotonic()
    listing = actradis.list_documents(BERNARD.siren)

    assert listing.requests == 1
    assert [call.status for call in served.sim.calls] == [503, 200]
    assert retries.waits == [1.0]
    assert time.monotonic() - started >= 0.95


def test_a_throttle_outlasting_the_retries_is_a_throttled_error(served, connect):
    served.sim.throttle(ACTRADIS, 10, retry_after=1)

    error = failure(lambda: connect(ACTRADIS).discover(MARTIN.siren))

    assert (error.code, error.status) == ("throttled", 429)
    assert [call.status for call in served.sim.calls] == [429] * 4


def test_a_closed_port_is_unreachable_after_a_few_quick_tries(connect, retries):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    al = connect(AL, url=f"http://127.0.0.1:{port}")

    error = failure(lambda: al.discover(HORIZON.siren))

    assert error.code == "unreachable"
    assert said(error) == "Attestation Légale ne répond pas"
    # The first try and RETRIES more; the backoff (0 s, 1 s, 2 s) capped by the bound.
    assert retries.connections == [("127.0.0.1", port)] * (1 + RETRIES)
    assert retries.waits == [RETRY_AFTER_MAX, RETRY_AFTER_MAX]
