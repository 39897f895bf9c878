"""The fragment cache's bounds, and the translation of read statements per driver."""

from __future__ import annotations

import sys

from hiveo.fragments import FragmentCache
from hiveo.reads import Query


def test_the_cache_keeps_the_most_recently_used_within_its_bytes():
    html = "x" * 1000
    size = sys.getsizeof(html)
    cache = FragmentCache(max_bytes=3 * size)
    for key in "abc":
        cache.put(key, html)
    assert cache.get("a") == html          # "a" is now the most recent
    cache.put("d", html)                   # so "b" goes
    assert cache.get("b") is None
    assert [cache.get(key) is not None for key in "acd"] == [True, True, True]
    assert cache.size_bytes == 3 * size and len(cache) == 3
    assert (cache.hits, cache.misses) == (4, 1)


def test_replacing_an_entry_does_not_count_it_twice():
    cache = FragmentCache(max_bytes=10_000)
    cache.put("a", "old")
    cache.put("a", "new")
    assert cache.get("a") == "new" and len(cache) == 1
    assert cache.size_bytes == sys.getsizeof("new")


def test_an_entry_larger_than_the_whole_cache_is_not_kept():
    cache = FragmentCache(max_bytes=100)
    cache.put("big", "y" * 1000)
    assert cache.get("big") is None and cache.size_bytes == 0


def test_statements_are_translated_to_each_drivers_parameters():
    query = Query("SELECT id FROM t WHERE name LIKE :term ESCAPE '\\' AND id = :id "
                  "AND note = '100%' AND created::date = :day")
    assert query.for_style("named") == query.sql
    assert query.for_style("pyformat") == (
        "SELECT id FROM t WHERE name LIKE %(term)s ESCAPE '\\' AND id = %(id)s "
        "AND note = '100%%' AND created::date = %(day)s")
