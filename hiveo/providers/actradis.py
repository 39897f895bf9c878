"""Actradis (partner API contract v2): API key header, a cursor-paginated change feed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

from .http import HttpConnector, HttpSettings, http_settings
from .reading import (
    SHA256_PATTERN,
    SIREN_PATTERN,
    SIRET_PATTERN,
    DateOutOfRange,
    MalformedData,
    RecordRejected,
    array,
    as_object,
    boolean,
    check_siren,
    choice,
    day,
    instant,
    integer,
    latest_instant,
    optional_day,
    optional_text,
    parse_instant,
    peek_text,
    split_known,
    text,
)
from .records import Account, ErrorCode, Listing, Rejected, RemoteDocument

PROVIDER = "actradis"
DISPLAY_NAME = "Actradis"
URL_KEY = "ACTRADIS_URL"
API_KEY = "ACTRADIS_API_KEY"
DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 200
# A feed handing out more cursors than this is broken, not big: stop rather than loop.
MAX_SLICES = 100_000

# Provider code -> catalogue code. Actradis has no congés payés BTP certificate.
CODES: dict[str, str] = {
    "EXTRAIT_KBIS": "KBIS",
    "ATTESTATION_VIGILANCE": "URSSAF_VIGILANCE",
    "LNTE": "LNTE",
    "ATTESTATION_REGULARITE_FISCALE": "FISCAL_REGULARITY",
    "ATTESTATION_ASSURANCE_RC": "INSURANCE_RC_PRO",
    "ATTESTATION_ASSURANCE_DECENNALE": "INSURANCE_DECENNALE",
}

STATES: dict[str, str] = {
    "VALIDE": "valid",
    "EN_COURS": "awaiting",
    "REFUSE": "refused",
    "PERIME": "expired",
}

_EMPREINTE_PREFIX = "sha256:"
# On the feed only: a 403 elsewhere is an ordinary refusal.
_SUBSCRIPTION_STATUSES = frozenset({403})


class ActradisConnector(HttpConnector):
    provider = PROVIDER
    display_name = DISPLAY_NAME

    def __init__(
        self, settings: HttpSettings, api_key: str, *, session: requests.Session | None = None
    ) -> None:
        super().__init__(settings, session=session)
        self._api_key = api_key

    def _authorize(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["X-Api-Key"] = self._api_key
        return request

    def _file_path(self, external_id: str) -> str:
        return f"/api/v2/pieces/{external_id}/contenu"

    def discover(self, siren: str) -> Account | None:
        path = f"/api/v2/entreprises/{check_siren(siren)}"
        body = self._find_json(path, missing_ok=True)
        if body is None:
            return None
        try:
            return Account(
                siren=text(body, "siren", "entreprise", pattern=SIREN_PATTERN),
                name=text(body, "raison_sociale", "entreprise"),
                active=boolean(body, "abonnement_actif", "entreprise"),
            )
        except MalformedData as exc:
            raise self._malformed(exc, path) from exc

    def list_documents(self, siren: str, *, since: str | None = None) -> Listing:
        """The feed from `since` (a `modifie_le` given back earlier), following every cursor.

        `high_water` is the latest `modifie_le` read, compared as instants since
        offsets vary (+01:00 in winter, +02:00 in summer); None when nothing
        changed, so the caller keeps its previous cursor.
        """
        path = f"/api/v2/entreprises/{check_siren(siren)}/pieces"
        if since is not None:
            # A `depuis` the provider would refuse is our bug, not the provider's fault.
            parse_instant(since)
        params: dict[str, Any] = {"limite": self.page_size}
        if since is not None:
            params["depuis"] = since
        by_uid: dict[str, RemoteDocument] = {}
        rejected: dict[str, Rejected] = {}
        stamps: list[str] = []
        seen_cursors: set[str] = set()
        requests_made = 0
        while True:
            body = self._get_json(path, params=params, subscription_statuses=_SUBSCRIPTION_STATUSES)
            requests_made += 1
            where = f"slice {requests_made}"
            try:
                pieces = array(body, "pieces", where)
                next_cursor = optional_text(body, "curseur_suivant", where)
                for index, value in enumerate(pieces):
                    try:
                        piece = self._piece(value, f"{where}.pieces[{index}]")
                    except RecordRejected as set_aside:
                        if set_aside.cursor_value is not None:
                            stamps.append(set_aside.cursor_value)
                        uid = set_aside.rejected.external_id
                        by_uid.pop(uid, None)
                        rejected[uid] = set_aside.rejected
                        continue
                    stamps.append(piece.cursor_value)
                    rejected.pop(piece.external_id, None)
                    previous = by_uid.get(piece.external_id)
                    # A piece changed while we read the feed comes again, later in it.
                    if previous is None or (piece.modified_at, piece.revision) >= (
                        previous.modified_at,
                        previous.revision,
                    ):
                        by_uid[piece.external_id] = piece
            except MalformedData as exc:
                raise self._malformed(exc, path) from exc
            if next_cursor is None:
                break
            if next_cursor in seen_cursors or requests_made >= MAX_SLICES:
                raise self.error(ErrorCode.MALFORMED, detail=f"GET {path}: the cursors loop")
            seen_cursors.add(next_cursor)
            # The cursor carries the `depuis` it was issued for.
            params = {"limite": self.page_size, "curseur": next_cursor}
        known, unknown = split_known(by_uid.values())
        return Listing(
            documents=known,
            unknown=unknown,
            high_water=latest_instant(stamps),
            requests=requests_made,
            rejected=list(rejected.values()),
        )

    def _piece(self, value: Any, where: str) -> RemoteDocument:
        piece = as_object(value, where)
        nature = text(piece, "nature", where)
        empreinte = text(piece, "empreinte", where)
        digest = empreinte.removeprefix(_EMPREINTE_PREFIX)
        if not empreinte.startswith(_EMPREINTE_PREFIX) or not SHA256_PATTERN.fullmatch(digest):
            raise MalformedData(f"{where}.empreinte: {empreinte!r} is not sha256:<hex>")
        raw_modified, modified = instant(piece, "modifie_le", where)
        uid = text(piece, "uid", where)
        try:
            return self._dated_piece(piece, where, nature, digest, uid, raw_modified, modified)
        except DateOutOfRange as exc:
            rejected = Rejected(PROVIDER, uid, nature, CODES.get(nature),
                                peek_text(piece, "siret"), exc.key, exc.value)
            raise RecordRejected(rejected, raw_modified) from exc

    def _dated_piece(self, piece: Mapping[str, Any], where: str, nature: str, digest: str,
                     uid: str, raw_modified: str, modified: datetime) -> RemoteDocument:
        return RemoteDocument(
            provider=PROVIDER,
            external_id=uid,
            revision=integer(piece, "version", where, minimum=1),
            provider_code=nature,
            doc_type=CODES.get(nature),
            siret=optional_text(piece, "siret", where, pattern=SIRET_PATTERN),
            state=choice(piece, "statut", where, STATES),
            rejection_reason=optional_text(piece, "motif_refus", where, required=False),
            issue_date=day(piece, "date_emission", where),
            validity_start=day(piece, "debut_validite", where),
            validity_end=optional_day(piece, "fin_validite", where),
            sha256=digest,
            size=integer(piece, "taille", where, minimum=0),
            filename=text(piece, "nom_fichier", where),
            modified_at=modified,
            cursor_value=raw_modified,
        )


def from_config(
    config: Mapping[str, Any], *, session: requests.Session | None = None
) -> ActradisConnector | None:
    settings = http_settings(
        config, URL_KEY, default_page_size=DEFAULT_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE
    )
    if settings is None:
        return None
    return ActradisConnector(settings, str(config.get(API_KEY) or ""), session=session)
