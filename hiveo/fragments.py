"""Rendered fragments of a company's pages, kept while the company's data is unchanged.

The Documents tab's overview and the company page's list of establishments
cost a dozen queries and most of the page's rendering. Both depend only on
the company's establishments, documents and provider links, on the day
(states such as "expire bientôt" move with it), on the viewer's role and on
the request's filters. The organisations list depends on the user's
memberships and on each of those companies in the same way. Database
triggers raise `companies.data_version` on every change to those rows
(migration 0005), and every page reads it with the signed-in user. A
fragment is kept under a key made of all of that, so a change anywhere, by
anyone (a sync, the command line, another worker), makes the next request
render afresh: entries are never invalidated, only never asked for again,
and the least recently used go first.

Each process keeps its own cache, bounded in bytes (HIVEO_FRAGMENT_CACHE_MB,
0 turns it off). Only GET requests use it: a POST renders after its own
writes, which the version it read before them does not describe.
Fragments hold no per-session data (no CSRF token) and nothing of the user
but what their key names (the organisations list is keyed by the user).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, render_template, request
from markupsafe import Markup

from .core import clock

if TYPE_CHECKING:
    from .organisations.services import CompanyAccess

_EXTENSION = "hiveo_fragments"


class FragmentCache:
    """A byte-bounded least-recently-used map of rendered HTML, safe across threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[str, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, html: str) -> None:
        size = sys.getsizeof(html)
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            self._entries[key] = (html, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _key, (_html, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


def fragment_cache() -> FragmentCache:
    return current_app.extensions[_EXTENSION]


def company_key(access: CompanyAccess) -> tuple | None:
    """What a fragment of one company's pages depends on besides its own filters.

    None (do not cache) when the company's data version was not read.
    """
    if access.data_version is None:
        return None
    return (access.company, access.data_version, access.role)


def cached_fragment(
    template: str,
    key: tuple | None,
    context: Callable[[], dict[str, Any]],
) -> Markup:
    """`template` rendered with `context()`, or the same HTML rendered earlier.

    `key` must name everything the fragment shows: the data versions of the
    companies in it (see company_key), the viewer's role, the filters and the
    page. The day and the script root are added here. `context` is only called
    on a miss: it is where the queries go. A None key renders without caching.
    """
    cache = fragment_cache()
    if key is None or cache.max_bytes <= 0 or request.method not in ("GET", "HEAD"):
        return Markup(render_template(template, **context()))
    full_key = (template, clock.today(), request.script_root, *key)
    html = cache.get(full_key)
    if html is None:
        html = render_template(template, **context())
        cache.put(full_key, html)
    return Markup(html)


def init_fragments(app: Flask) -> None:
    app.extensions[_EXTENSION] = FragmentCache(
        int(app.config["FRAGMENT_CACHE_MB"] * 1024 * 1024))
