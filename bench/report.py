"""The bench's verdicts against the targets, its table, and docs/performance.md."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def _target(name: str, measured: float, limit: float, *, at_least: bool, unit: str = "") -> dict:
    ok = measured >= limit if at_least else measured <= limit
    sign = "≥" if at_least else "≤"
    return {"target": name, "measured": round(measured, 4), "limit": f"{sign} {limit}{unit}",
            "ok": ok}


def check_targets(results: dict) -> dict[str, list[dict]]:
    verdicts: dict[str, list[dict]] = {}
    for backend, out in results["backends"].items():
        rows = []
        pages = out.get("pages")
        if pages:
            for name in ("company_2000", "company_2000_search"):
                rows.append(_target(f"{name}: throughput / signed-in floor",
                                    pages[name]["ratio_to_floor"]["median"], 0.60,
                                    at_least=True))
            rows.append(_target("documents_50_400: throughput / signed-in floor",
                                pages["documents_50_400"]["ratio_to_floor"]["median"], 0.35,
                                at_least=True))
            rows.append(_target("documents_50_400: p99 latency at 16 connections (ms)",
                                pages["documents_50_400"]["p99_ms"]["median"], 100,
                                at_least=False, unit=" ms"))
            if "suppliers_5000" in pages:
                rows.append(_target("suppliers_5000: throughput / signed-in floor",
                                    pages["suppliers_5000"]["ratio_to_floor"]["median"], 0.35,
                                    at_least=True))
                rows.append(_target("suppliers_5000: p99 latency at 16 connections (ms)",
                                    pages["suppliers_5000"]["p99_ms"]["median"], 100,
                                    at_least=False, unit=" ms"))
                rows.append(_target("suppliers_5000: p99 latency, one connection (ms)",
                                    pages["suppliers_5000"]["alone_p99_ms"]["median"], 100,
                                    at_least=False, unit=" ms"))
        scale = out.get("scale")
        if scale:
            for name, sizes in scale.items():
                counts = {size: entry["statements"] for size, entry in sizes.items()}
                rows.append({"target": f"{name} page: SQL statements 10 → 10,000 establishments",
                             "measured": counts, "limit": "constant",
                             "ok": len(set(counts.values())) == 1})
        switch = out.get("switch")
        if switch:
            rows.append(_target("switch: time with 2,000 / time with 1",
                                switch["ratio_of_medians"], 1.2, at_least=False))
        sync = out.get("sync")
        if sync:
            rows.append(_target("first sync of 1,000: rate / bare fetch",
                                sync["first_rate_ratio_to_reference"]["median"], 0.5,
                                at_least=True))
            rows.append(_target("unchanged re-sync: files downloaded", sync["resync_files"], 0,
                                at_least=False))
            rows.append(_target("unchanged re-sync: time / first sync",
                                sync["resync_time_ratio_to_first"]["median"], 0.10,
                                at_least=False))
            rows.append(_target("sync of 1,000: peak RSS (MB)", sync["peak_rss_mb"]["max"], 150,
                                at_least=False, unit=" MB"))
        reminders = out.get("reminders")
        if reminders and "large" in reminders:
            large = reminders["large"]
            rows.append(_target(f"reminder run for {large['suppliers']:,} suppliers (s)",
                                large["seconds"], 30, at_least=False, unit=" s"))
            rows.append(_target(
                f"reminder run: SQL per batch at {large['suppliers']:,} / at "
                f"{reminders['small']['suppliers']:,} suppliers",
                reminders["per_batch_ratio"], 1.1, at_least=False))
        verdicts[backend] = rows
    return verdicts


def _mmm(entry: dict, fmt: str = "{:.2f}") -> str:
    return " / ".join(fmt.format(entry[key]) for key in ("min", "median", "max"))


def _alone(entry: dict) -> str:
    """The page's latency one connection at a time (results before this column: blank)."""
    if "alone_p99_ms" not in entry:
        return ""
    return f"{entry['alone_p50_ms']['median']:.1f} / {entry['alone_p99_ms']['median']:.1f}"


def table(results: dict) -> str:
    lines = []
    for backend, out in results["backends"].items():
        lines.append(f"\n### {backend}\n")
        pages = out.get("pages")
        if pages:
            lines.append("| page | req/s (min / median / max) | ÷ hello world | ÷ signed-in floor "
                         "| p50 ms | p99 ms | one connection: p50 / p99 ms (medians) |")
            lines.append("|---|---|---|---|---|---|---|")
            lines.append(f"| hello world (reference) | {_mmm(pages['hello']['rps'], '{:.0f}')} "
                         "| 1 | | | | |")
            for name, entry in pages.items():
                if name == "hello":
                    continue
                lines.append(
                    f"| {name} `{entry['path']}` | {_mmm(entry['rps'], '{:.0f}')} | "
                    f"{_mmm(entry['ratio_to_hello'], '{:.1%}')} | "
                    f"{_mmm(entry['ratio_to_floor'], '{:.1%}')} | "
                    f"{_mmm(entry['p50_ms'], '{:.1f}')} | {_mmm(entry['p99_ms'], '{:.1f}')} | "
                    f"{_alone(entry)} |")
        scale = out.get("scale")
        if scale:
            sizes = sorted(next(iter(scale.values())), key=int)
            lines.append("\n| page (in-process, per request) | "
                         + " | ".join(f"{int(s):,} est." for s in sizes) + " |")
            lines.append("|---|" + "---|" * len(sizes))
            for name, entries in scale.items():
                cells = [f"{entries[s]['ms']['median']:.1f} ms, {entries[s]['statements']} SQL"
                         for s in sizes]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        switch = out.get("switch")
        if switch:
            lines.append("\n| switch (deactivate + reactivate) | seconds (min / median / max) |")
            lines.append("|---|---|")
            lines.append(f"| 1 establishment | {_mmm(switch['seconds_1'], '{:.3f}')} |")
            lines.append(f"| 2,000 establishments | {_mmm(switch['seconds_2000'], '{:.3f}')} |")
            lines.append(f"| ratio 2,000 ÷ 1 (of medians) | {switch['ratio_of_medians']:.2f} |")
        sync = out.get("sync")
        if sync:
            lines.append(f"\n| sync of {sync['documents']:,} documents | min / median / max |")
            lines.append("|---|---|")
            lines.append(f"| bare fetch reference (s) | {_mmm(sync['reference_seconds'])} |")
            lines.append(f"| first sync (s) | {_mmm(sync['first_sync_seconds'])} |")
            lines.append("| first sync rate ÷ reference rate | "
                         f"{_mmm(sync['first_rate_ratio_to_reference'], '{:.1%}')} |")
            lines.append(f"| unchanged re-sync (s) | {_mmm(sync['resync_seconds'], '{:.3f}')} |")
            lines.append("| re-sync time ÷ first sync | "
                         f"{_mmm(sync['resync_time_ratio_to_first'], '{:.1%}')} |")
            lines.append(f"| files downloaded: first / re-sync | {sync['first_sync_files']} / "
                         f"{sync['resync_files']} |")
            rss = _mmm(sync["peak_rss_mb"], "{:.0f}")
            lines.append(f"| peak RSS of the sync process (MB) | {rss} |")
        reminders = out.get("reminders")
        if reminders:
            lines.append("\n| reminder run | suppliers | batch size | batches | seconds "
                         "| SQL statements | SQL per batch |")
            lines.append("|---|---|---|---|---|---|---|")
            for key in ("small", "large"):
                run = reminders[key]
                lines.append(f"| {key} | {run['suppliers']:,} | {run['batch_size']} | "
                             f"{run['batches']} | {run['seconds']:.2f} | {run['statements']} | "
                             f"{run['statements_per_batch']:.1f} |")
        verdicts = results.get("targets", {}).get(backend, [])
        if verdicts:
            lines.append("\n| target | measured | limit | |")
            lines.append("|---|---|---|---|")
            for row in verdicts:
                lines.append(f"| {row['target']} | {row['measured']} | {row['limit']} | "
                             f"{'✅' if row['ok'] else '❌'} |")
    return "\n".join(lines)


HOW_TO_READ = """\
## How to read it

The machine is shared and noisy, so no figure here is an absolute speed: each is
measured side by side with a reference in the same run, and every run prints
min / median / max over its rounds.

- **Pages under load**: the portal under gunicorn (2 `gthread` workers, 4 threads each) on
  loopback, loaded by a second process (wrk, or `bench/pyload.py` without wrk) at 16
  concurrent connections, signed in as one browser (the same User-Agent and the cookie the
  portal last sent). The reference is a bare Flask "hello world" under the same gunicorn
  settings, loaded the same way just before each page, in each round. "÷ hello world" is
  the page's requests per second divided by that of the hello world load just before it
  (or by the run's median hello world, when that load came out slower: a noisy moment must
  not flatter a page): the share of this machine's serving capacity that the page leaves.
  "÷ signed-in floor" divides that share by the one of `floor_signed_in_layout` in the
  same round (a signed-in page that is only the layout: the user query, the session, the
  base template): the part of what every signed-in page costs anyway that the page's own
  work leaves. The page targets are written against it. Nothing is cached: every request
  reads the database.
- **Scale**: the company page and the Documents tab at 10, 100, 1,000 and 10,000
  establishments, through Flask's test client: time per request and SQL statements per
  request (the statement count must not grow with the number of establishments; tests
  assert it too).
- **Mes fournisseurs**: `suppliers_5000` is the list page of a client following 5,000
  suppliers (a mix of states: mostly conforme, some missing, expired or expiring, never
  deposited, invited, suspended, closed; a third in a purchase category with a requirement
  set of its own), loaded like the other pages; its targets are ≥ 35 % of the signed-in
  floor and a p99 under 100 ms. Each page is also loaded by one connection at a time
  (half as long): its p50 and p99 there are each request's own latency, with no request
  ahead of it. At 16 connections on this machine's two cores a request mostly waits in
  the queue (the floor page's own p99 there is about 300 ms), so both p99 are reported.
- **Reminders**: one run of `hiveo.reminders.engine.send_reminders(today, batch_size=…)`
  in-process on a fresh database of 1,000 then 5,000 suppliers (each with an admin, the
  same mix of states), timed, with its SQL statements counted (BEGIN, COMMIT and ROLLBACK
  aside). The target is under 30 s at 5,000, and as many statements per batch at 5,000 as
  at 1,000 (at most 10 % more): the run's SQL grows with the number of batches, not of
  suppliers. `--quick` measures 250 and 1,000 suppliers in batches of 250.
- **The switch**: deactivate then reactivate (a full sync with nothing new on the
  provider) through the real pages, for a company with 1 establishment and one with 2,000.
- **Sync throughput**: a first sync of 1,000 documents from the simulator (in its own
  process, over loopback) against a bare `requests.Session` loop that fetches the same
  listing pages and files and nothing else; then an unchanged re-sync. Each runs in a fresh
  process, whose peak resident memory is reported.

Run it with `make bench` (add `HIVEO_BENCH_DATABASE_URL=postgresql+psycopg://…` to also
measure PostgreSQL; that database is emptied first). `make bench ARGS=--quick` is shorter.
"""


def write_docs(results: dict, table_text: str) -> None:
    machine = results["machine"]
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    notes = ""
    if DOCS.exists():
        text = DOCS.read_text()
        marker = "## Notes"
        if marker in text:
            notes = text[text.index(marker):]
    DOCS.write_text(
        "# Performance\n\n"
        "Written by `make bench` (bench/run.py); the raw figures are in "
        "`bench/results/latest.json`.\n\n"
        f"Latest run: {machine['date']} on {machine['cpu']} ({machine['cores']} cores, "
        f"{machine['memory']}), {machine['os']}, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}, load from {machine['load_tool']}"
        f"{' (quick run)' if results.get('quick') else ''}.\n"
        f"{table_text}\n\n{HOW_TO_READ}\n{notes}"
    )
