"""One timed synchronisation, or the bare-fetch reference, in a process of its own.

`python -m bench.syncjob reference SIM_URL SIREN` or
`python -m bench.syncjob sync SIM_URL SIREN DATABASE_URL STORAGE_DIR INSTANCE_DIR`;
prints one JSON line: seconds, files fetched, peak RSS of this process (MB).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import requests

TOKEN = "demo-al-token"


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    VmHWM belongs to this process's own memory map; getrusage's ru_maxrss would
    also count the parent's memory, inherited through fork() before exec().
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference(sim_url: str, siren: str) -> dict:
    """What the machine can do at best: the same pages and files, nothing else."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    started = time.perf_counter()
    session.get(f"{sim_url}/v1/companies/{siren}", timeout=10).raise_for_status()
    page, pages, ids = 1, 1, []
    while page <= pages:
        body = session.get(f"{sim_url}/v1/companies/{siren}/documents",
                           params={"page": page, "pageSize": 100}, timeout=10).json()
        pages = body["totalPages"]
        ids.extend(item["id"] for item in body["items"])
        page += 1
    for document_id in ids:
        response = session.get(f"{sim_url}/v1/documents/{document_id}/file", timeout=10)
        response.raise_for_status()
        _ = response.content
    return {"seconds": time.perf_counter() - started, "files": len(ids)}


def sync(sim_url: str, siren: str, database_url: str, storage_dir: str,
         instance_dir: str) -> dict:
    from sqlalchemy import select

    from hiveo import create_app
    from hiveo.extensions import db
    from hiveo.models import Company
    from hiveo.sync.engine import sync_company

    from .dataset import bench_config

    app = create_app(bench_config(
        database_url, storage_dir, instance_dir,
        ATTESTATION_LEGALE_URL=sim_url, ATTESTATION_LEGALE_TOKEN=TOKEN,
    ))
    with app.app_context():
        company_id = db.session.scalar(select(Company.id).where(Company.siren == siren))
        db.session.rollback()
        started = time.perf_counter()
        report = sync_company(company_id, "attestation_legale", trigger="manual")
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "files": report.files_downloaded, "outcome": report.outcome,
            "counts": report.counts, "error": report.error}


def main() -> None:
    mode = sys.argv[1]
    result = reference(*sys.argv[2:4]) if mode == "reference" else sync(*sys.argv[2:7])
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
