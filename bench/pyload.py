"""A small load generator for machines without wrk: threads with keep-alive connections.

Run in its own process: `python -m bench.pyload URL COOKIE SECONDS CONNECTIONS`.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

from bench.load import USER_AGENT


def worker(url, cookie, deadline, latencies, errors):
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 400:
                errors.append(response.status)
        except (OSError, http.client.HTTPException):
            errors.append(0)
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    connection.close()


def main() -> None:
    url, cookie, seconds, connections = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(
        sys.argv[4])
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(url, cookie, deadline, latencies, errors))
               for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    print(json.dumps({
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) if ordered else 0.0,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0,
        "errors": len(errors),
    }))


if __name__ == "__main__":
    main()
