"""``make bench-large``: the reports on 100M rows, and the daily on Spark beside DuckDB.

Measures, each run its own process (wall seconds, peak RSS of the process and its
children summed: the kernel, and Spark's JVM):

- ``cxpulse run daily|weekly|quarterly`` on a 100M-row warehouse, and the daily on the
  10M-row one in the same session: the daily's growth 10M -> 100M (target at most 1.2x);
- the daily on Spark (local mode, ``--engine spark``) over the lake of the 10M warehouse
  (``cxpulse lake``), beside DuckDB's daily on the same rows.

The 10M warehouse is ``make bench``'s seeded demo warehouse. The 100M one is it ten
times: nine copies whose ids, threads, parents and authors carry a suffix (``~1`` ...
``~9``), so each copy is its own customers and conversations over the same days: ten times
the rows a day, as the demo's 10M is ten times its 1M, stored in ``created_at`` order
(``copied_warehouse``). Both, and the lake, are cached under ``bench/.cache/`` (about
5.5 GB; the 100M one takes about 4 minutes). Prints a table with each run's load average
(the machine is shared) and writes ``bench/large.json``.

``--rows-large N`` (a multiple of 10M) builds a smaller "large" warehouse when time or
disk is short; the table says which size ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402 - make bench's helpers

from cxpulse.themes_command import fits_dir  # noqa: E402

BASE_ROWS = 10_000_000
LINKED = ("id", "thread_id", "parent_id", "author_id")
"""Columns a copy suffixes, so its rows are new messages of new customers."""
TARGET_GROWTH = 1.2
TARGET_RSS_MB = 900


def copied_warehouse(base: Path, copies: int) -> Path:
    """``base`` with ``copies - 1`` suffixed copies of its interactions added, in
    ``created_at`` order, built once.

    Rows are stored in time order, as a warehouse filled by daily ingests is (and as
    ingest stores each file's rows): DuckDB keeps the min and max of every column per row
    group (122,880 rows), so a report's ``created_at`` bounds skip the row groups outside
    its period. Appending the ten copies one after another instead would put each day's
    rows in every tenth of the table, and every report would read all 100M rows. The
    copies are inserted a week of ``base`` at a time (each sorted on its own, all ten
    copies of the week together), so no sort holds more than a week of rows. A copy keeps
    ``first_reply_at`` as it is: its replies are its own rows, at the same times.
    """
    import duckdb

    folder = base.parent.with_name(f"{base.parent.name}-x{copies}-time-ordered")
    target = folder / "warehouse.duckdb"
    fits = fits_dir(base)
    if target.exists():
        if fits.exists() and not fits_dir(target).exists():
            shutil.copytree(fits, fits_dir(target))
        return bench.upgraded(target)
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / "building.duckdb"
    building.unlink(missing_ok=True)
    bench.log(f"building the {copies} x {BASE_ROWS:,}-row warehouse (cached in {folder})")
    start = time.perf_counter()
    con = duckdb.connect(str(building))
    con.execute("SET memory_limit = '2GB'")
    con.execute(f"SET temp_directory = '{folder / 'building.tmp'}'")
    con.execute(f"ATTACH '{base}' AS base (READ_ONLY)")
    others = con.execute(  # quarantine, ingest log, sentiment cache, derived_filled, ...
        "SELECT table_name FROM duckdb_tables() "
        "WHERE database_name = 'base' AND table_name <> 'interactions'"
    ).fetchall()
    for (table,) in others:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM base.{table}")
    con.execute("CREATE TABLE interactions AS FROM base.interactions LIMIT 0")
    suffixed = ", ".join(
        f"CASE WHEN n = 0 THEN {c} ELSE {c} || '~' || n END AS {c}" for c in LINKED
    )
    first, last = con.execute(
        "SELECT min(created_at), max(created_at) FROM base.interactions"
    ).fetchone()
    week = first
    while week <= last:
        con.execute(
            f"INSERT INTO interactions SELECT * EXCLUDE (n) REPLACE ({suffixed}) "
            "FROM base.interactions, range(?) AS copies(n) "
            "WHERE created_at >= ? AND created_at < ? + INTERVAL 7 DAY ORDER BY created_at",
            [copies, week, week],
        )
        week += dt.timedelta(days=7)
        bench.log(f"rows before {week:%Y-%m-%d} added")
    con.execute("DETACH base")
    con.execute("CHECKPOINT")
    con.close()
    building.replace(target)
    if fits.exists():
        shutil.copytree(fits, fits_dir(target))  # the same texts, ten times: the same fit
    bench.log(f"built in {time.perf_counter() - start:.0f} s")
    return target


def lake_of(warehouse: Path) -> Path:
    """The lake of ``warehouse`` beside it (``cxpulse lake``; unchanged partitions stay)."""
    folder = warehouse.with_name("lake")
    sample = bench.run([bench.CX, "-q", "lake", str(folder), "--warehouse", str(warehouse)])
    bench.log(f"lake {folder}: {sample.extra['stdout'].strip()} ({sample.seconds:.0f} s)")
    return folder


def report(warehouse: Path, cadence: str, reports: Path, *engine: str) -> dict:
    """One ``cxpulse run cadence`` (as of ``bench.AS_OF``): seconds, peak MB and the
    machine's 1-minute load average when it ended (the machine is shared), or the last
    line of its error when it failed (the other runs go on)."""
    bench.log(f"cxpulse run {cadence} on {warehouse.parent.name} {' '.join(engine)}")
    try:
        sample = bench.run(
            [bench.CX, "-q", "run", cadence, "--as-of", bench.AS_OF, "--warehouse",
             str(warehouse), "--params", str(bench.PARAMS), "--reports", str(reports), *engine]
        )  # fmt: skip
    except RuntimeError as err:
        failure = next(
            line for line in str(err).splitlines() if "Exception" in line or "Error" in line
        )
        bench.log(f"failed: {failure}")
        return {"failed": failure.strip()}
    return {
        "seconds": round(sample.seconds, 2),
        "peak_rss_mb": round(sample.peak_rss_mb),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def table(results: dict) -> str:
    large = f"{results['rows_large']:,}"
    lines = [f"Reports on {large} rows (one run each; as of {bench.AS_OF})"]
    lines.append(f"  {'report':<44} {'seconds':>8} {'peak MB':>8} {'load':>5}")
    for name, v in results["runs"].items():
        if "failed" in v:
            lines.append(f"  {name:<44} FAILED: {v['failed'][:110]}")
        else:
            lines.append(
                f"  {name:<44} {v['seconds']:>8.1f} {v['peak_rss_mb']:>8,} {v['load_1min']:>5.2f}"
            )
    growth = results["daily_growth"]
    lines.append(
        f"  daily growth {BASE_ROWS:,} -> {large}: {growth:.2f}x (target <= {TARGET_GROWTH}x) "
        f"{'ok' if growth <= TARGET_GROWTH else 'MISSED'}"
    )
    worst = max(v.get("peak_rss_mb", 0) for k, v in results["runs"].items() if "spark" not in k)
    lines.append(
        f"  highest DuckDB report RSS: {worst:,} MB (target <= {TARGET_RSS_MB} MB) "
        f"{'ok' if worst <= TARGET_RSS_MB else 'MISSED'}"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-large", type=int, default=100_000_000)
    args = parser.parse_args()
    copies = args.rows_large // BASE_ROWS
    base = bench.demo_warehouse(BASE_ROWS)
    large = copied_warehouse(base, copies)
    lake = lake_of(base)
    reports = bench.cache_dir() / "large-reports"
    runs = {
        f"daily, {BASE_ROWS:,} rows": report(base, "daily", reports),
        f"daily, {args.rows_large:,} rows": report(large, "daily", reports),
        f"weekly, {args.rows_large:,} rows": report(large, "weekly", reports),
        f"quarterly, {args.rows_large:,} rows": report(large, "quarterly", reports),
        f"daily, {BASE_ROWS:,} rows, spark local over the lake": report(
            base, "daily", reports, "--engine", "spark", "--lake", str(lake)
        ),
    }
    names = list(runs)
    results = {
        "rows_large": args.rows_large,
        "runs": runs,
        "daily_growth": round(runs[names[1]]["seconds"] / runs[names[0]]["seconds"], 2),
    }
    (bench.BENCH / "large.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
