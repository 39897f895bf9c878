"""The simulator's HTTP face: both provider contracts and the control API, one Flask app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .catalogue import ACTRADIS, AL, paris_isoformat, parse_instant, utc_isoformat
from .state import Call, DocumentView, Simulator

# Where the redirect fault sends clients: a host that must never be followed.
REDIRECT_HOST = "http://redirection.simulateur.invalid"
CONTROL_PREFIX = "/_simulateur/"
AL_PAGE_SIZE, AL_MAX_PAGE_SIZE = 50, 100
ACTRADIS_LIMIT, ACTRADIS_MAX_LIMIT = 50, 200

_AL_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "subscription_inactive",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}
_AL_MESSAGES = {
    401: "Missing or invalid partner token.",
    404: "Not found.",
    405: "Only GET is allowed.",
    429: "Too many requests, retry later.",
    503: "Service temporarily unavailable, retry later.",
}
_ACTRADIS_MESSAGES = {
    400: "Requête invalide.",
    401: "Clé d'API absente ou invalide.",
    403: "Abonnement inactif pour cette entreprise.",
    404: "Ressource introuvable.",
    405: "Seule la méthode GET est acceptée.",
    429: "Trop de requêtes, réessayez plus tard.",
    503: "Service momentanément indisponible, réessayez plus tard.",
}


def _sim() -> Simulator:
    return current_app.extensions["hiveo_simulator"]


def provider_of(path: str) -> str | None:
    if path.startswith("/v1/"):
        return AL
    if path.startswith("/api/v2/"):
        return ACTRADIS
    return None


def error(provider: str | None, status: int, message: str | None = None) -> Response:
    """An error in the shape of the provider's contract; throttles carry Retry-After."""
    if provider == ACTRADIS:
        text = message or _ACTRADIS_MESSAGES.get(status, "Erreur interne du serveur.")
        response = jsonify({"erreur": text, "statut": status})
    else:
        text = message or _AL_MESSAGES.get(status, "Internal server error.")
        response = jsonify({"error": {"code": _AL_CODES.get(status, "error"), "message": text}})
    response.status_code = status
    if status in (429, 503):
        response.headers["Retry-After"] = "1"
    return response


def _malformed_listing(provider: str) -> Response:
    # A truncated body, as when a proxy cuts the connection mid-answer.
    body = '{"items": [{"id": "al_doc_' if provider == AL else '{"pieces": [{"uid": "'
    return Response(body, status=200, mimetype="application/json")


def _parse_positive(raw: str | None, default: int) -> int | None:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 1 else None


def _file_response(provider: str, ext_id: str) -> Response:
    sim = _sim()
    answer = sim.file_answer(provider, ext_id)
    if answer is None:
        return error(provider, 404)
    if answer.fail_status:
        return error(provider, answer.fail_status)
    if answer.slow_seconds:
        time.sleep(answer.slow_seconds)
    response = Response(answer.body, status=200, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{answer.file_name}"'
    if provider == AL:
        response.headers["ETag"] = f'"{answer.sha256}"'
    return response


# -- Attestation Légale ---------------------------------------------------------

attestation_legale = Blueprint("attestation_legale", __name__, url_prefix="/v1")


def _al_document(view: DocumentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "documentType": {
            "code": view.type_code,
            "name": view.type_name,
            "validityPeriod": view.validity_period,
        },
        "establishment": view.siret,
        "state": view.state,
        "rejectionReason": view.rejection_reason,
        "issueDate": view.issue_date.isoformat(),
        "validityStart": view.validity_start.isoformat(),
        "validityEnd": view.validity_end.isoformat() if view.validity_end else None,
        "revision": view.revision,
        "updatedAt": utc_isoformat(view.updated_at),
        "file": {
            "name": view.file_name,
            "mediaType": "application/pdf",
            "size": view.size,
            "sha256": view.sha256,
        },
    }


@attestation_legale.get("/companies/<siren>")
def al_company(siren: str) -> Response:
    sim = _sim()
    company = sim.company(AL, siren)
    if company is None:
        return error(AL, 404, f"No account for company {siren}.")
    fault = sim.discovery_fault(AL, siren)
    if fault:
        return error(AL, fault)
    ends_on: date | None = company["ends_on"]
    return jsonify(
        {
            "registrationNumber": siren,
            "name": company["name"],
            "subscription": {
                "status": "ACTIVE" if company["active"] else "EXPIRED",
                "endsOn": ends_on.isoformat() if ends_on else None,
            },
        }
    )


@attestation_legale.get("/companies/<siren>/documents")
def al_documents(siren: str) -> Response:
    sim = _sim()
    company = sim.company(AL, siren)
    if company is None:
        return error(AL, 404, f"No account for company {siren}.")
    page = _parse_positive(request.args.get("page"), 1)
    size = _parse_positive(request.args.get("pageSize"), AL_PAGE_SIZE)
    if page is None or size is None:
        return error(AL, 400, "page and pageSize must be integers of at least 1.")
    size = min(size, AL_MAX_PAGE_SIZE)
    fault = sim.listing_fault(AL, siren, page)
    if fault:
        return error(AL, fault)
    if sim.is_malformed(AL, siren):
        return _malformed_listing(AL)
    if not company["active"]:
        return error(AL, 402, "The company's subscription has expired.")
    documents, total = sim.listing(AL, siren, offset=(page - 1) * size, limit=size)
    return jsonify(
        {
            "items": [_al_document(view) for view in documents],
            "page": page,
            "pageSize": size,
            "totalItems": total,
            "totalPages": math.ceil(total / size),
        }
    )


@attestation_legale.get("/documents/<doc_id>/file")
def al_file(doc_id: str) -> Response:
    return _file_response(AL, doc_id)


# -- Actradis ---------------------------------------------------------------------

actradis = Blueprint("actradis", __name__, url_prefix="/api/v2")


def _piece(view: DocumentView) -> dict[str, Any]:
    return {
        "uid": view.id,
        "nature": view.type_code,
        "siret": view.siret,
        "statut": view.state,
        "motif_refus": view.rejection_reason,
        "date_emission": view.issue_date.isoformat(),
        "debut_validite": view.validity_start.isoformat(),
        "fin_validite": view.validity_end.isoformat() if view.validity_end else None,
        "version": view.revision,
        "modifie_le": paris_isoformat(view.updated_at),
        "empreinte": f"sha256:{view.sha256}",
        "taille": view.size,
        "nom_fichier": view.file_name,
    }


def _sign(payload: bytes) -> str:
    digest = hmac.new(_sim().cursor_key, payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(state: dict[str, Any]) -> str:
    """An opaque, signed cursor: the filter, the last position given and the next slice number."""
    payload = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(payload)}"


def decode_cursor(token: str, siren: str) -> dict[str, Any] | None:
    """The cursor's state, or None when it was not issued here for this company."""
    body, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        return None
    if not signature or not hmac.compare_digest(signature.encode(), _sign(payload).encode()):
        return None
    state = json.loads(payload)
    if state.get("siren") != siren:
        return None
    # Positions travel as text; compare them as instants, not as strings.
    state["since"] = datetime.fromisoformat(state["since"]) if state["since"] else None
    if state["after"]:
        state["after"] = (datetime.fromisoformat(state["after"][0]), state["after"][1])
    return state


@actradis.get("/entreprises/<siren>")
def actradis_company(siren: str) -> Response:
    sim = _sim()
    company = sim.company(ACTRADIS, siren)
    if company is None:
        return error(ACTRADIS, 404, f"Entreprise {siren} inconnue.")
    fault = sim.discovery_fault(ACTRADIS, siren)
    if fault:
        return error(ACTRADIS, fault)
    return jsonify(
        {"siren": siren, "raison_sociale": company["name"], "abonnement_actif": company["active"]}
    )


@actradis.get("/entreprises/<siren>/pieces")
def actradis_pieces(siren: str) -> Response:
    """One slice of the change feed, ordered by (modifie_le, uid).

    The cursor remembers the last (modifie_le, uid) given rather than an offset,
    so a piece changed between slices moves to the end of the feed and is given
    again, and no unchanged piece is skipped. With a cursor, the `depuis` filter
    is the one the cursor was issued for.
    """
    sim = _sim()
    company = sim.company(ACTRADIS, siren)
    if company is None:
        return error(ACTRADIS, 404, f"Entreprise {siren} inconnue.")
    limit = _parse_positive(request.args.get("limite"), ACTRADIS_LIMIT)
    if limit is None:
        return error(ACTRADIS, 400, "Le paramètre limite doit être un entier positif.")
    limit = min(limit, ACTRADIS_MAX_LIMIT)
    token = request.args.get("curseur")
    if token is not None:
        cursor = decode_cursor(token, siren)
        if cursor is None:
            return error(ACTRADIS, 400, "Curseur inconnu.")
    else:
        raw_since = request.args.get("depuis")
        since = None if raw_since is None else parse_instant(raw_since)
        if raw_since is not None and since is None:
            return error(
                ACTRADIS, 400, "Le paramètre depuis doit être un instant RFC 3339 avec décalage."
            )
        cursor = {"siren": siren, "since": since, "after": None, "slice": 1}
    fault = sim.listing_fault(ACTRADIS, siren, cursor["slice"])
    if fault:
        return error(ACTRADIS, fault)
    if sim.is_malformed(ACTRADIS, siren):
        return _malformed_listing(ACTRADIS)
    if not company["active"]:
        return error(ACTRADIS, 403)

    since = cursor["since"]
    page, total = sim.listing(ACTRADIS, siren, since=since, after=cursor["after"], limit=limit)
    next_cursor = None
    if total > len(page):
        last = page[-1]
        next_cursor = encode_cursor(
            {
                "siren": siren,
                "since": since.isoformat() if since else None,
                "after": [last.updated_at.isoformat(), last.id],
                "slice": cursor["slice"] + 1,
            }
        )
    return jsonify({"pieces": [_piece(view) for view in page], "curseur_suivant": next_cursor})


@actradis.get("/pieces/<uid>/contenu")
def actradis_file(uid: str) -> Response:
    return _file_response(ACTRADIS, uid)


# -- control API ------------------------------------------------------------------

control = Blueprint("control", __name__, url_prefix="/_simulateur")

_FAULTS = {
    "fail_listing_page",
    "fail_discovery",
    "malformed_json",
    "corrupt_file",
    "fail_file",
    "redirect",
    "delay",
    "throttle",
    "slow_files",
    "trickle",
    "serve_file_bytes",
}


class _BadControlRequest(Exception):
    pass


def _body(*required: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _BadControlRequest("expected a JSON object")
    missing = [name for name in required if name not in body]
    if missing:
        raise _BadControlRequest(f"missing fields: {', '.join(missing)}")
    return body


@control.before_request
def _check_control_key() -> Response | None:
    key = _sim().control_key
    if not key:
        return _control_error(404, "control API disabled")
    given = request.headers.get("X-Simulateur-Cle", "")
    if not hmac.compare_digest(given.encode(), key.encode()):
        return _control_error(403, "missing or wrong X-Simulateur-Cle")
    return None


@control.errorhandler(_BadControlRequest)
@control.errorhandler(TypeError)
@control.errorhandler(ValueError)
def _control_bad_request(exc: Exception) -> Response:
    return _control_error(400, str(exc))


@control.errorhandler(KeyError)
def _control_not_found(exc: KeyError) -> Response:
    return _control_error(404, str(exc.args[0]) if exc.args else "not found")


def _control_error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@control.post("/companies")
def control_company() -> Response:
    body = _body("provider", "siren", "name")
    _sim().add_company(
        body["provider"],
        body["siren"],
        body["name"],
        subscription_active=body.get("subscription_active", True),
        ends_on=body.get("ends_on"),
    )
    return _ok()


@control.post("/subscription")
def control_subscription() -> Response:
    body = _body("provider", "siren", "active")
    _sim().set_subscription(body["provider"], body["siren"], bool(body["active"]))
    return _ok()


@control.post("/documents")
def control_add_document() -> tuple[Response, int]:
    body = _body("provider", "siren", "type_code")
    fields = ("siret", "state", "issue_date", "validity_start", "validity_end")
    options = {name: body[name] for name in (*fields, "rejection_reason", "detail") if name in body}
    ext_id = _sim().add_document(body["provider"], body["siren"], body["type_code"], **options)
    return jsonify({"id": ext_id}), 201


@control.get("/documents/<provider>/<ext_id>")
def control_document(provider: str, ext_id: str) -> Response:
    return jsonify(_sim().document(provider, ext_id).to_json())


@control.post("/documents/<provider>/<ext_id>/revise")
def control_revise(provider: str, ext_id: str) -> Response:
    return jsonify(_sim().revise_document(provider, ext_id, **_body()).to_json())


@control.post("/documents/<provider>/<ext_id>/remove")
def control_remove(provider: str, ext_id: str) -> Response:
    _sim().remove_document(provider, ext_id)
    return _ok()


@control.post("/seed-bulk")
def control_seed_bulk() -> tuple[Response, int]:
    body = _body("provider", "siren", "n_documents")
    ids = _sim().seed_bulk(
        body["provider"],
        body["siren"],
        int(body["n_documents"]),
        sirets=tuple(body.get("sirets", ())),
    )
    return jsonify({"ids": ids}), 201


@control.post("/faults")
def control_fault() -> Response:
    options = dict(_body())
    name = options.pop("fault", None)
    if name not in _FAULTS:
        raise _BadControlRequest(f"fault must be one of {sorted(_FAULTS)}")
    getattr(_sim(), name)(**options)
    return _ok()


@control.post("/faults/clear")
def control_clear_faults() -> Response:
    _sim().clear_faults()
    return _ok()


@control.get("/calls")
def control_calls() -> Response:
    sim = _sim()
    provider, siren = request.args.get("provider"), request.args.get("siren")
    calls = [
        call
        for call in sim.calls
        if provider in (None, call.provider) and siren in (None, call.siren)
    ]
    return jsonify(
        {
            "calls": [
                {
                    "provider": call.provider,
                    "method": call.method,
                    "path": call.path,
                    "query": call.query,
                    "status": call.status,
                    "siren": call.siren,
                }
                for call in calls
            ],
            "count": len(calls),
            "file_downloads": sim.file_downloads(provider, siren),
        }
    )


@control.post("/calls/clear")
def control_clear_calls() -> Response:
    _sim().clear_calls()
    return _ok()


@control.post("/reset")
def control_reset() -> Response:
    _sim().reset()
    return _ok()


def _ok() -> Response:
    return jsonify({"ok": True})


# -- the app ----------------------------------------------------------------------


def _authorised(provider: str) -> bool:
    sim = _sim()
    if provider == AL:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), sim.al_token.encode()
        )
    return hmac.compare_digest(
        request.headers.get("X-Api-Key", "").encode(), sim.actradis_key.encode()
    )


_COMPANY_PATH = re.compile(r"^/(?:v1/companies|api/v2/entreprises)/([^/]+)")
_FILE_PATH = re.compile(r"^/(?:v1/documents|api/v2/pieces)/([^/]+)/")


def _siren_of(sim: Simulator, provider: str, path: str) -> str | None:
    """The company a request concerns, for the call log (even when it is refused)."""
    company = _COMPANY_PATH.match(path)
    if company:
        return company.group(1)
    file = _FILE_PATH.match(path)
    return sim.document_siren(provider, file.group(1)) if file else None


def _before_provider_request() -> Response | None:
    """Faults that apply to any request of a provider, in the order a real edge would."""
    provider = g.provider = provider_of(request.path)
    if provider is None:
        return None
    sim = _sim()
    g.siren = _siren_of(sim, provider, request.path)
    if request.method != "GET":
        response = error(provider, 405)
        response.headers["Allow"] = "GET"
        return response
    pause = sim.request_delay(provider, request.path)
    if pause:
        time.sleep(pause)
    if sim.is_redirected(provider, request.path):
        location = REDIRECT_HOST + request.full_path.rstrip("?")
        return Response(status=302, headers={"Location": location})
    throttled = sim.take_throttle(provider)
    if throttled:
        status, retry_after = throttled
        response = error(provider, status)
        response.headers["Retry-After"] = str(retry_after)
        return response
    if not _authorised(provider):
        response = error(provider, 401)
        if provider == AL:
            response.headers["WWW-Authenticate"] = 'Bearer realm="attestation-legale"'
        return response
    return None


def _record(response: Response) -> Response:
    if not request.path.startswith(CONTROL_PREFIX):
        _sim().record_call(
            Call(
                provider=g.get("provider"),
                method=request.method,
                path=request.path,
                query=request.args.to_dict(),
                status=response.status_code,
                siren=g.get("siren"),
            )
        )
    return response


def _trickle(response: Response) -> Response:
    """The trickle fault: the body goes out one byte at a time, each after a pause."""
    provider = g.get("provider")
    seconds = _sim().trickle_interval(provider, request.path) if provider else None
    if seconds is None or response.direct_passthrough:
        return response
    sim, body = _sim(), response.get_data()

    def drip() -> Iterator[bytes]:
        for index in range(len(body)):
            time.sleep(seconds)
            sim.count_trickled_byte()
            yield body[index : index + 1]

    response.response = drip()
    # Sent chunked, as a stream with no announced length would be.
    del response.headers["Content-Length"]
    return response


def _http_error(exc: HTTPException) -> Response:
    if request.path.startswith(CONTROL_PREFIX):
        return _control_error(exc.code or 500, exc.description or exc.name)
    return error(provider_of(request.path), exc.code or 500)


def create_app(sim: Simulator | None = None) -> Flask:
    """The simulator's WSGI app; without a simulator, the demo one.

    Credentials then come from HIVEO_SIMULATOR_AL_TOKEN,
    HIVEO_SIMULATOR_ACTRADIS_KEY and HIVEO_SIMULATOR_CONTROL_KEY when set.
    """
    if sim is None:
        sim = Simulator(seed="demo")
        sim.al_token = os.environ.get("HIVEO_SIMULATOR_AL_TOKEN", sim.al_token)
        sim.actradis_key = os.environ.get("HIVEO_SIMULATOR_ACTRADIS_KEY", sim.actradis_key)
        sim.control_key = os.environ.get("HIVEO_SIMULATOR_CONTROL_KEY", sim.control_key)
    app = Flask(__name__)
    # Keep the contracts' field order and readable French in the bodies.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["hiveo_simulator"] = sim
    app.before_request(_before_provider_request)
    app.after_request(_record)
    app.after_request(_trickle)
    app.register_error_handler(HTTPException, _http_error)
    app.register_blueprint(attestation_legale)
    app.register_blueprint(actradis)
    app.register_blueprint(control)
    return app


class _QuietHandler(WSGIRequestHandler):
    # HTTP/1.1 keeps connections alive, as a real platform would: a client's
    # connection reuse is then visible, and measured, against the simulator.
    protocol_version = "HTTP/1.1"

    # A benchmark makes thousands of requests; one log line each would dominate.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def serve_in_thread(
    sim: Simulator | None = None, host: str = "127.0.0.1", port: int = 0
) -> tuple[BaseWSGIServer, str]:
    """Serve the simulator from a daemon thread; port 0 picks a free port.

    `server.shutdown()` stops it and closes its socket.
    """
    server = make_server(host, port, create_app(sim), threaded=True, request_handler=_QuietHandler)
    # A short poll interval so that shutdown() returns promptly in tests.
    threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="hiveo-simulator",
        daemon=True,
    ).start()
    return server, f"http://{host}:{server.server_port}"
