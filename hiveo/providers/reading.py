"""Strict reading of providers' JSON: bodies become records or a coded error.

An answer outside the contract becomes `MalformedData` (English, for logs),
which the connector turns into `ProviderError(MALFORMED)`, instead of a
KeyError deep in the sync engine. A record whose dates fall outside the range
the portal accepts (`hiveo.core.dates`) is not malformed: it is one bad
record, which `RecordRejected` lets the connector set aside while the rest of
the listing goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from hiveo.core.dates import out_of_range
from hiveo.core.inputs import without_control_characters

from .records import Rejected, RemoteDocument

SIREN_PATTERN = re.compile(r"^[0-9]{9}$")
SIRET_PATTERN = re.compile(r"^[0-9]{14}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class MalformedData(ValueError):
    """An answer that does not match the provider's contract (English, for logs)."""


class DateOutOfRange(MalformedData):
    """A well-formed date outside the accepted range; `key` is the contract's field."""

    def __init__(self, where: str, key: str, value: str) -> None:
        super().__init__(f"{where}.{key}: {value} is outside the accepted range")
        self.key = key
        self.value = value


class RecordRejected(Exception):
    """One record of a listing set aside (see `Rejected`); the listing goes on."""

    def __init__(self, rejected: Rejected, cursor_value: str | None = None) -> None:
        super().__init__(rejected.field, rejected.value)
        self.rejected = rejected
        self.cursor_value = cursor_value


def json_object(body: bytes, where: str) -> Mapping[str, Any]:
    """A JSON object from raw bytes; MalformedData for anything else."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedData(f"{where}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise MalformedData(f"{where}: expected a JSON object")
    return value


def parse_instant(raw: str) -> datetime:
    """An RFC 3339 instant with its offset, as an aware datetime; ValueError otherwise."""
    if not isinstance(raw, str) or "T" not in raw.upper():
        raise ValueError(f"not an RFC 3339 instant: {raw!r}")
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"an instant needs an offset: {raw!r}")
    return parsed


def latest_instant(values: Iterable[str]) -> str | None:
    """The raw value of the latest instant, compared as instants, not as strings.

    "2026-10-02T10:00:00+02:00" is before "2026-10-02T08:30:00Z" although it
    sorts after it as text.
    """
    latest: tuple[datetime, str] | None = None
    for raw in values:
        instant = parse_instant(raw)
        if latest is None or instant > latest[0]:
            latest = (instant, raw)
    return latest[1] if latest else None


def as_object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedData(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _field(obj: Mapping[str, Any], key: str, where: str, required: bool) -> Any:
    if key not in obj:
        if required:
            raise MalformedData(f"{where}: missing {key!r}")
        return None
    return obj[key]


def text(
    obj: Mapping[str, Any], key: str, where: str, *, pattern: re.Pattern[str] | None = None
) -> str:
    value = _field(obj, key, where, True)
    if not isinstance(value, str):
        raise MalformedData(f"{where}.{key}: expected a string, got {type(value).__name__}")
    # Every provider text reaches the database through here: no control character does.
    value = without_control_characters(value)
    if pattern is not None and not pattern.fullmatch(value):
        raise MalformedData(f"{where}.{key}: {value!r} does not match {pattern.pattern}")
    return value


def optional_text(
    obj: Mapping[str, Any],
    key: str,
    where: str,
    *,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    """A string or null; `required=False` also accepts the key being absent."""
    if _field(obj, key, where, required) is None:
        return None
    return text(obj, key, where, pattern=pattern)


def peek_text(obj: Any, key: str) -> str | None:
    """A string field if there is one, else None: for naming a rejected record."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return without_control_characters(value) if isinstance(value, str) else None


def integer(obj: Mapping[str, Any], key: str, where: str, *, minimum: int | None = None) -> int:
    value = _field(obj, key, where, True)
    # bool is an int in Python, never in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedData(f"{where}.{key}: expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise MalformedData(f"{where}.{key}: {value} is below {minimum}")
    return value


def boolean(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = _field(obj, key, where, True)
    if not isinstance(value, bool):
        raise MalformedData(f"{where}.{key}: expected a boolean, got {value!r}")
    return value


def array(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = _field(obj, key, where, True)
    if not isinstance(value, list):
        raise MalformedData(f"{where}.{key}: expected an array, got {type(value).__name__}")
    return value


def choice(obj: Mapping[str, Any], key: str, where: str, table: Mapping[str, str]) -> str:
    """A value of a closed vocabulary, translated through `table`."""
    value = text(obj, key, where)
    if value not in table:
        raise MalformedData(f"{where}.{key}: {value!r} is not one of {sorted(table)}")
    return table[value]


def day(obj: Mapping[str, Any], key: str, where: str) -> date:
    """A YYYY-MM-DD date within the accepted range (DateOutOfRange otherwise)."""
    value = text(obj, key, where)
    # fromisoformat alone would also take 20261129 or 2026-W48-7.
    if not _DATE_PATTERN.fullmatch(value):
        raise MalformedData(f"{where}.{key}: {value!r} is not a YYYY-MM-DD date")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise MalformedData(f"{where}.{key}: {value!r} is not a date") from None
    if out_of_range(parsed) is not None:
        raise DateOutOfRange(where, key, value)
    return parsed


def optional_day(obj: Mapping[str, Any], key: str, where: str) -> date | None:
    if _field(obj, key, where, True) is None:
        return None
    return day(obj, key, where)


def instant(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, datetime]:
    """The raw string (what goes back to the provider) and the aware instant."""
    raw = text(obj, key, where)
    try:
        return raw, parse_instant(raw)
    except ValueError:
        raise MalformedData(f"{where}.{key}: {raw!r} is not an RFC 3339 instant") from None


def check_siren(siren: str) -> str:
    """A SIREN goes into URL paths: refuse anything else before it gets there."""
    if not isinstance(siren, str) or not SIREN_PATTERN.fullmatch(siren):
        raise ValueError(f"a SIREN is 9 digits, not {siren!r}")
    return siren


def split_known(
    documents: Iterable[RemoteDocument],
) -> tuple[list[RemoteDocument], list[RemoteDocument]]:
    known: list[RemoteDocument] = []
    unknown: list[RemoteDocument] = []
    for document in documents:
        (known if document.doc_type is not None else unknown).append(document)
    return known, unknown
