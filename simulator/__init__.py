"""A bundled simulator of the two provider platforms, Attestation Légale and Actradis.

One Flask app answers both contracts on one port, so the portal, its tests and
its benchmarks can synchronise suppliers' documents without the vendors:

    flask --app simulator run --port 5101

Python use::

    sim = Simulator(today=date(2026, 11, 29), seed="demo")   # seed=None: empty
    server, base_url = serve_in_thread(sim)                  # port 0: a free one
    ...
    server.shutdown()

Attestation Légale (contract v1), bearer token `sim.al_token`
---------------------------------------------------------------
- ``GET /v1/companies/{siren}``: 200 ``{registrationNumber, name, subscription:
  {status: ACTIVE|EXPIRED, endsOn}}`` when the company holds an account, else 404.
- ``GET /v1/companies/{siren}/documents?page=1&pageSize=50``: 1-based pages,
  pageSize capped at 100, ``{items, page, pageSize, totalItems, totalPages}``
  (totalPages 0 for an empty company); 402 when the subscription has expired.
  An item: ``id``, ``documentType {code, name, validityPeriod}``,
  ``establishment`` (SIRET or null), ``state`` (VALID, AWAITING_VALIDATION,
  REJECTED, EXPIRED), ``rejectionReason``, ``issueDate``, ``validityStart``,
  ``validityEnd``, ``revision``, ``updatedAt`` (UTC, Z) and
  ``file {name, mediaType, size, sha256}``.
- ``GET /v1/documents/{id}/file``: the PDF, with ``ETag: "<hex sha256>"``.
- Errors: ``{"error": {"code", "message"}}``; codes unauthorized, not_found,
  subscription_inactive, rate_limited, unavailable...

Actradis (contract v2), header ``X-Api-Key: sim.actradis_key``
------------------------------------------------------------------
- ``GET /api/v2/entreprises/{siren}``: ``{siren, raison_sociale, abonnement_actif}``.
- ``GET /api/v2/entreprises/{siren}/pieces?depuis=&curseur=&limite=50``: a change
  feed ordered by (modifie_le, uid); ``depuis`` keeps pieces modified strictly
  after that RFC 3339 instant; follow the opaque ``curseur_suivant`` until null;
  ``limite`` at most 200. 400 on a malformed ``depuis`` or an unknown
  ``curseur``; 403 when ``abonnement_actif`` is false. A piece: ``uid``,
  ``nature``, ``siret``, ``statut`` (VALIDE, EN_COURS, REFUSE, PERIME),
  ``motif_refus``, ``date_emission``, ``debut_validite``, ``fin_validite``,
  ``version``, ``modifie_le`` (Europe/Paris offset), ``empreinte``
  ("sha256:" + hex), ``taille``, ``nom_fichier``.
- ``GET /api/v2/pieces/{uid}/contenu``: the PDF.
- Errors: ``{"erreur": "<message>", "statut": <code>}``.

Both: unknown companies and documents answer 404, any method but GET 405, 429
and 503 carry Retry-After. Every change advances a simulator clock by at least
one second, so ``updatedAt``/``modifie_le`` strictly increase.

Control API (out-of-process tests and benchmarks)
-------------------------------------------------
Under ``/_simulateur/``, header ``X-Simulateur-Cle: sim.control_key`` (403
without it; 404 when the key is empty). JSON in, JSON out; 400 on bad input,
404 on an unknown company or document:

- ``POST companies`` ``{provider, siren, name, subscription_active?, ends_on?}``
- ``POST subscription`` ``{provider, siren, active}``
- ``POST documents`` ``{provider, siren, type_code, siret?, state?, issue_date?,
  validity_start?, validity_end?, rejection_reason?, detail?}`` -> 201 ``{id}``
- ``GET documents/<provider>/<id>``; ``POST documents/<provider>/<id>/revise``
  ``{<field>: <value>...}``; ``POST documents/<provider>/<id>/remove``
- ``POST seed-bulk`` ``{provider, siren, n_documents, sirets?}`` -> 201 ``{ids}``
- ``POST faults`` ``{"fault": <Simulator method name>, ...its arguments}``,
  e.g. ``{"fault": "throttle", "provider": "actradis", "count": 2}``;
  ``POST faults/clear``
- ``GET calls?provider=&siren=`` -> ``{calls, count, file_downloads}``;
  ``POST calls/clear``
- ``POST reset``: back to the initial seed, faults and calls cleared.

Credentials for ``create_app()`` without a simulator come from
HIVEO_SIMULATOR_AL_TOKEN, HIVEO_SIMULATOR_ACTRADIS_KEY and
HIVEO_SIMULATOR_CONTROL_KEY when set.
"""

from .catalogue import ACTRADIS, AL, PROVIDERS
from .state import Call, DocumentView, Simulator
from .web import create_app, serve_in_thread

__all__ = [
    "ACTRADIS",
    "AL",
    "PROVIDERS",
    "Call",
    "DocumentView",
    "Simulator",
    "create_app",
    "serve_in_thread",
]
