"""Attestation Légale (partner API contract v1): bearer token, numbered pages."""

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
    check_siren,
    choice,
    day,
    instant,
    integer,
    optional_day,
    optional_text,
    peek_text,
    split_known,
    text,
)
from .records import Account, ErrorCode, Listing, Rejected, RemoteDocument

PROVIDER = "attestation_legale"
DISPLAY_NAME = "Attestation Légale"
URL_KEY = "ATTESTATION_LEGALE_URL"
TOKEN_KEY = "ATTESTATION_LEGALE_TOKEN"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100
# A listing claiming more pages than this is broken, not big: stop rather than loop.
MAX_PAGES = 10_000

# Provider code -> catalogue code. Codes outside this table are reported, never fatal.
CODES: dict[str, str] = {
    "KBIS": "KBIS",
    "ATTESTATION_URSSAF": "URSSAF_VIGILANCE",
    "LISTE_SALARIES_ETRANGERS": "LNTE",
    "ATTESTATION_FISCALE": "FISCAL_REGULARITY",
    "ASSURANCE_RC_PRO": "INSURANCE_RC_PRO",
    "ASSURANCE_DECENNALE": "INSURANCE_DECENNALE",
    "CONGES_PAYES_BTP": "BTP_PAID_LEAVE",
}

STATES: dict[str, str] = {
    "VALID": "valid",
    "AWAITING_VALIDATION": "awaiting",
    "REJECTED": "refused",
    "EXPIRED": "expired",
}

_SUBSCRIPTION = {"ACTIVE": "active", "EXPIRED": "expired"}
# 402 Payment Required: the contract's way of saying the subscription lapsed.
_SUBSCRIPTION_STATUSES = frozenset({402})


class AttestationLegaleConnector(HttpConnector):
    provider = PROVIDER
    display_name = DISPLAY_NAME

    def __init__(
        self, settings: HttpSettings, token: str, *, session: requests.Session | None = None
    ) -> None:
        super().__init__(settings, session=session)
        self._token = token

    def _authorize(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def _file_path(self, external_id: str) -> str:
        return f"/v1/documents/{external_id}/file"

    def discover(self, siren: str) -> Account | None:
        path = f"/v1/companies/{check_siren(siren)}"
        body = self._find_json(path, subscription_statuses=_SUBSCRIPTION_STATUSES,
                               missing_ok=True)
        if body is None:
            return None
        try:
            number = text(body, "registrationNumber", "company", pattern=SIREN_PATTERN)
            name = text(body, "name", "company")
            subscription = as_object(body.get("subscription"), "company.subscription")
            status = choice(subscription, "status", "company.subscription", _SUBSCRIPTION)
        except MalformedData as exc:
            raise self._malformed(exc, path) from exc
        return Account(siren=number, name=name, active=status == "active")

    def list_documents(self, siren: str, *, since: str | None = None) -> Listing:
        """Every current document, all pages; `since` is ignored (no change feed here).

        Pages are offsets into a list that may change while we read it: a
        document removed meanwhile shifts the next pages and hides another one,
        which the sync engine would then take as gone. When the totals moved
        during the walk or disagree with what was read, the listing is read
        once more from the start.
        """
        path = f"/v1/companies/{check_siren(siren)}/documents"
        requests_made = 0
        for _attempt in range(2):
            documents, rejected, consistent, count = self._walk(path)
            requests_made += count
            if consistent:
                break
        else:
            raise self.error(
                "malformed", detail=f"GET {path}: the listing kept changing while read"
            )
        known, unknown = split_known(documents)
        return Listing(documents=known, unknown=unknown, high_water=None, requests=requests_made,
                       rejected=rejected)

    def _walk(self, path: str) -> tuple[list[RemoteDocument], list[Rejected], bool, int]:
        """One pass over the pages: (documents, records set aside, whether the totals
        held, requests made)."""
        by_id: dict[str, RemoteDocument] = {}
        rejected: dict[str, Rejected] = {}
        totals: set[int] = set()
        page, requests_made = 1, 0
        while True:
            body = self._get_json(
                path,
                params={"page": page, "pageSize": self.page_size},
                subscription_statuses=_SUBSCRIPTION_STATUSES,
            )
            requests_made += 1
            where = f"page {page}"
            try:
                items = array(body, "items", where)
                integer(body, "page", where, minimum=0)
                integer(body, "pageSize", where, minimum=0)
                totals.add(integer(body, "totalItems", where, minimum=0))
                total_pages = integer(body, "totalPages", where, minimum=0)
                for index, item in enumerate(items):
                    try:
                        document = self._document(item, f"{where}.items[{index}]")
                    except RecordRejected as set_aside:
                        rejected[set_aside.rejected.external_id] = set_aside.rejected
                        continue
                    previous = by_id.get(document.external_id)
                    if previous is None or document.revision >= previous.revision:
                        by_id[document.external_id] = document
            except MalformedData as exc:
                raise self._malformed(exc, path) from exc
            if page >= total_pages:
                consistent = totals == {len(by_id.keys() | rejected.keys())}
                return list(by_id.values()), list(rejected.values()), consistent, requests_made
            page += 1
            if page > MAX_PAGES:
                raise self.error(ErrorCode.MALFORMED,
                                 detail=f"GET {path}: more than {MAX_PAGES} pages")

    def _document(self, value: Any, where: str) -> RemoteDocument:
        item = as_object(value, where)
        document_type = as_object(item.get("documentType"), f"{where}.documentType")
        code = text(document_type, "code", f"{where}.documentType")
        text(document_type, "name", f"{where}.documentType")
        file = as_object(item.get("file"), f"{where}.file")
        raw_updated, updated = instant(item, "updatedAt", where)
        external_id = text(item, "id", where)
        try:
            return self._dated_document(item, where, code, file, external_id, raw_updated,
                                        updated)
        except DateOutOfRange as exc:
            rejected = Rejected(PROVIDER, external_id, code, CODES.get(code),
                                peek_text(item, "establishment"), exc.key, exc.value)
            raise RecordRejected(rejected, raw_updated) from exc

    def _dated_document(self, item: Mapping[str, Any], where: str, code: str,
                        file: Mapping[str, Any], external_id: str, raw_updated: str,
                        updated: datetime) -> RemoteDocument:
        return RemoteDocument(
            provider=PROVIDER,
            external_id=external_id,
            revision=integer(item, "revision", where, minimum=1),
            provider_code=code,
            doc_type=CODES.get(code),
            siret=optional_text(item, "establishment", where, pattern=SIRET_PATTERN),
            state=choice(item, "state", where, STATES),
            rejection_reason=optional_text(item, "rejectionReason", where, required=False),
            issue_date=day(item, "issueDate", where),
            validity_start=day(item, "validityStart", where),
            validity_end=optional_day(item, "validityEnd", where),
            sha256=text(file, "sha256", f"{where}.file", pattern=SHA256_PATTERN),
            size=integer(file, "size", f"{where}.file", minimum=0),
            filename=text(file, "name", f"{where}.file"),
            modified_at=updated,
            cursor_value=raw_updated,
        )


def from_config(
    config: Mapping[str, Any], *, session: requests.Session | None = None
) -> AttestationLegaleConnector | None:
    settings = http_settings(
        config, URL_KEY, default_page_size=DEFAULT_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE
    )
    if settings is None:
        return None
    return AttestationLegaleConnector(settings, str(config.get(TOKEN_KEY) or ""), session=session)
