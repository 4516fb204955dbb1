"""``make bench``: how fast cxpulse ingests and renders, against its targets.

Measures, each as the median of ``--runs`` runs (3 by default), every run its own process:

- ingest of a TWCS-format CSV and a reviews CSV (``bench/exports.py``, seeded): rows/s
  before sentiment (read + validate), rows/s of the whole load (sentiment cache empty),
  and sentiment texts/s with the cache empty and warm, and each load's peak RSS;
- one load of a 10M-row TWCS-format CSV: rows/s and peak RSS (ingest streams the file in
  chunks: its memory must not grow with the file);
- ``cxpulse run daily|weekly|quarterly`` (execute, HTML, PDF) on demo warehouses of two
  sizes: wall seconds and peak RSS (the process and its kernel, summed), and the ratio of
  the daily's seconds large/small;
- the three reports in one process (``cxpulse run daily weekly quarterly``);
- ``cxpulse watch`` on the large warehouse, as of its last hour: a first run (it alerts on
  what the data leaves open, to a local aiosmtpd), then runs with nothing new to report;
- the same daily report the naive way, in the same run: the papermill CLI, then
  ``jupyter nbconvert --to html --no-input``, then the WeasyPrint CLI, each its own
  process; the ratio naive/cxpulse.

Prints a table and writes ``bench/results.json``. Demo warehouses are cached under
``bench/.cache/`` by rows, seed, end and schema (``warehouse_fingerprint``), so a second
``make bench`` reuses them. The machine is shared: medians, not means, and the spread is
kept in the JSON.

``--smoke`` runs the same code on small sizes, once each (``make bench-smoke``, under a
minute; the tests run it).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
CX = str(BIN / "cxpulse")
PARAMS = ROOT / "params"
SEED = 7
END = "2026-11-20T08:00"
AS_OF = "2026-11-19"
"""The demo data ends on ``END``: its last full day is ``AS_OF``."""
DAYS = 400
"""Days of demo history: the rows a day of every earlier run (``cxpulse demo``'s default
grew to 1,060 days for the annual report's year-on-year comparison)."""
CADENCES = ("daily", "weekly", "quarterly")

TARGETS = {
    "daily_s_large": 4.0,
    "daily_ratio_large_small": 1.2,
    "naive_over_cxpulse": 4.0,
    "all_three_one_process_s": 10.0,
    "ingest_rows_per_s_before_sentiment": 200_000,
    "sentiment_texts_per_s": 20_000,
    "report_peak_rss_mb": 900,
    "ingest_peak_rss_mb": 1024,
    "watch_nothing_new_s": 2.0,
}


@dataclass(frozen=True)
class Config:
    ingest_rows: int
    small_rows: int
    large_rows: int
    runs: int
    smoke: bool
    large_ingest_rows: int
    """Rows of the TWCS file loaded once to show that ingest memory does not grow."""


FULL = Config(1_000_000, 1_000_000, 10_000_000, 3, False, 10_000_000)
SMOKE = Config(5_000, 20_000, 20_000, 1, True, 20_000)
"""One demo warehouse serves as small and large: the smoke run checks the steps, not the
growth, and building and rendering a second one added 20 s to every ``make test``."""


@dataclass
class Sample:
    seconds: float
    peak_rss_mb: float
    extra: dict = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class RssWatcher:
    """Peak of the summed RSS of a process and all its descendants, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil comes with IPython
            return
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.pid)
            while not self._stop.is_set():
                total = 0
                with contextlib.suppress(psutil.Error):
                    for proc in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            total += proc.memory_info().rss
                self.peak = max(self.peak, total)
                self._stop.wait(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def run(argv: list[str], cwd: Path = ROOT, env: dict | None = None) -> Sample:
    """Run ``argv`` to completion; its wall seconds, peak RSS (MB) and stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watcher = RssWatcher(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    peak = watcher.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-3000:]}")
    return Sample(seconds, peak, {"stdout": out})


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(samples: list[Sample]) -> dict:
    seconds = [s.seconds for s in samples]
    return {
        "seconds": round(median(seconds), 3),
        "seconds_runs": [round(s, 3) for s in seconds],
        "peak_rss_mb": round(max(s.peak_rss_mb for s in samples), 1),
    }


def cache_dir() -> Path:
    path = BENCH / ".cache"
    path.mkdir(exist_ok=True)
    return path


def warehouse_fingerprint() -> str:
    """A short hash of what a cached warehouse must match: the columns ingest stores
    (``schema.COLUMNS``) and the default sentiment engine (a warehouse built by older
    code is built again). A column the warehouse derives from its rows
    (``schema.DERIVED``) is not in it: ``upgraded`` adds it to the cached copy."""
    from cxpulse.schema import COLUMNS
    from cxpulse.sentiment import engine_label

    return hashlib.sha256(json.dumps([COLUMNS, engine_label()]).encode()).hexdigest()[:8]


def demo_warehouse(rows: int) -> Path:
    """The demo warehouse of ``rows`` rows (seed ``SEED``, ending ``END``), built once."""
    end = END.replace("-", "").replace(":", "")
    key = f"wh-{rows}-s{SEED}-d{DAYS}-{end}-{warehouse_fingerprint()}"
    folder = cache_dir() / key
    target = folder / "warehouse.duckdb"
    if target.exists():
        keep_fits(folder / "building.duckdb", target)  # cached before the fits moved too
        return upgraded(target)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log(f"building the {rows:,}-row demo warehouse (cached in {folder})")
    building = folder / "building.duckdb"
    sample = run(
        [CX, "-q", "demo", "--rows", str(rows), "--days", str(DAYS), "--seed", str(SEED),
         "--end", END, "--warehouse", str(building), "--params", str(PARAMS),
         "--out", str(folder / "demo")]
    )  # fmt: skip
    shutil.rmtree(folder / "demo", ignore_errors=True)
    Path(str(building) + ".lock").unlink(missing_ok=True)
    building.replace(target)
    keep_fits(building, target)
    log(f"built in {sample.seconds:.0f} s")
    return target


def keep_fits(source: Path, target: Path) -> None:
    """Move the themes fits of warehouse ``source`` (``themes_command.fits_dir``: the demo
    fits them beside the warehouse it builds) to ``target``'s, where a report looks for
    them; without them a report has no themes section to compute."""
    from cxpulse.themes_command import fits_dir

    if fits_dir(source).exists() and not fits_dir(target).exists():
        fits_dir(source).replace(fits_dir(target))


def upgraded(path: Path) -> Path:
    """``path``, a cached warehouse, migrated (``warehouse.migrate``): a derived column
    added since it was built is computed in it (``first_reply_at``: about a minute on 10M
    rows) rather than the warehouse built again (many minutes)."""
    from cxpulse import warehouse

    warehouse.connect(path).close()
    return path


def export_csv(kind: str, rows: int) -> Path:
    path = cache_dir() / f"{kind}-{rows}.csv"
    if not path.exists():
        log(f"writing {path.name}")
        run([sys.executable, str(BENCH / "exports.py"), kind, str(rows), str(path)])
    return path


def bench_ingest(cfg: Config, scratch: Path) -> dict:
    out = {}
    for fmt in ("twcs", "reviews"):
        csv = export_csv(fmt, cfg.ingest_rows)
        probes = []
        for number in range(cfg.runs):
            log(f"ingest {fmt} run {number + 1}/{cfg.runs}")
            target = scratch / f"ingest-{fmt}-{number}.duckdb"
            sample = run(
                [sys.executable, str(BENCH / "probe_ingest.py"), fmt, str(csv), str(target)]
            )
            probe = json.loads(sample.extra["stdout"].strip().splitlines()[-1])
            probe["peak_rss_mb"] = sample.peak_rss_mb
            probes.append(probe)
            for leftover in scratch.glob(f"ingest-{fmt}-{number}.duckdb*"):
                leftover.unlink()
        rows = probes[0]["rows"]
        texts = probes[0]["texts"]

        def rate(count: int, stages: tuple[str, ...], probes: list[dict] = probes) -> float:
            return round(median([count / sum(p["seconds"][s] for s in stages) for p in probes]))

        out[fmt] = {
            "rows": rows,
            "texts": texts,
            "unique_texts_scored": probes[0]["unique_texts_scored"],
            "rows_per_s_before_sentiment": rate(rows, ("read", "prepare")),
            "rows_per_s_after_sentiment": rate(rows, ("total",)),
            "sentiment_texts_per_s_no_cache": rate(texts, ("sentiment",)),
            "sentiment_texts_per_s_cached": rate(texts, ("sentiment_cached",)),
            "seconds_median": {
                stage: round(median([p["seconds"][stage] for p in probes]), 3)
                for stage in probes[0]["seconds"]
            },
            "peak_rss_mb": round(max(p["peak_rss_mb"] for p in probes), 1),
        }
    return out


def bench_ingest_large(cfg: Config, scratch: Path) -> dict:
    """One load of a ``large_ingest_rows`` TWCS file: rows/s and peak RSS (the cached
    rescore is skipped: it reads every stored text into memory)."""
    csv = export_csv("twcs", cfg.large_ingest_rows)
    log(f"ingest twcs, {cfg.large_ingest_rows:,} rows, once (sentiment included: minutes)")
    target = scratch / "ingest-twcs-large.duckdb"
    sample = run(
        [sys.executable, str(BENCH / "probe_ingest.py"), "twcs", str(csv), str(target),
         "--no-rescore"]
    )  # fmt: skip
    for leftover in scratch.glob("ingest-twcs-large.duckdb*"):
        leftover.unlink()
    probe = json.loads(sample.extra["stdout"].strip().splitlines()[-1])
    seconds = probe["seconds"]
    return {
        "rows": probe["rows"],
        "unique_texts_scored": probe["unique_texts_scored"],
        "rows_per_s_before_sentiment": round(
            probe["rows"] / (seconds["read"] + seconds["prepare"])
        ),
        "rows_per_s_after_sentiment": round(probe["rows"] / seconds["total"]),
        "seconds": seconds,
        "peak_rss_mb": round(sample.peak_rss_mb, 1),
    }


def cxpulse_run(warehouse: Path, cadences: tuple[str, ...], reports: Path) -> Sample:
    return run(
        [CX, "-q", "run", *cadences, "--warehouse", str(warehouse), "--params", str(PARAMS),
         "--reports", str(reports)]
    )  # fmt: skip


def naive_daily(warehouse: Path, work: Path) -> Sample:
    """The daily brief the naive way: three CLIs, each its own process."""
    notebook = work / "daily.ipynb"
    html = work / "daily.html"
    steps = [
        [str(BIN / "papermill"), str(ROOT / "notebooks" / "daily.ipynb"), str(notebook),
         "-p", "as_of", AS_OF, "-p", "warehouse", str(warehouse), "-p", "params_dir",
         str(PARAMS), "-k", "python3", "--cwd", str(ROOT), "--no-progress-bar"],
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(notebook),
         "--output", str(html)],
        [str(BIN / "weasyprint"), str(html), str(work / "daily.pdf")],
    ]  # fmt: skip
    parts = [run(step) for step in steps]
    names = ("papermill", "nbconvert", "weasyprint")
    return Sample(
        sum(p.seconds for p in parts),
        max(p.peak_rss_mb for p in parts),
        {name: round(p.seconds, 3) for name, p in zip(names, parts, strict=True)},
    )


def bench_reports(cfg: Config, scratch: Path) -> dict:
    sizes = {"small": cfg.small_rows, "large": cfg.large_rows}
    warehouses = {name: demo_warehouse(rows) for name, rows in sizes.items()}
    out: dict = {"sizes": sizes}
    # The smoke run renders weekly and quarterly only in the one-process run.
    cadences = ("daily",) if cfg.smoke else CADENCES
    for name, path in warehouses.items():
        if name == "large" and sizes["large"] == sizes["small"]:  # one warehouse: one run
            out.update({f"{c}_large": out[f"{c}_small"] for c in cadences})
            continue
        for cadence in cadences:
            samples = []
            for number in range(cfg.runs):
                log(f"cxpulse run {cadence} on {sizes[name]:,} rows, run {number + 1}/{cfg.runs}")
                samples.append(cxpulse_run(path, (cadence,), scratch / "reports"))
            out[f"{cadence}_{name}"] = summary(samples)
    large = warehouses["large"]
    together, daily, naive = [], [], []
    for number in range(cfg.runs):
        log(f"three reports in one process, run {number + 1}/{cfg.runs}")
        together.append(cxpulse_run(large, CADENCES, scratch / "reports"))
        log(f"daily: cxpulse then the naive way, run {number + 1}/{cfg.runs}")
        if cfg.smoke:  # the daily run above stands in: the smoke run is about paths, not time
            daily.append(Sample(out["daily_large"]["seconds"], out["daily_large"]["peak_rss_mb"]))
        else:
            daily.append(cxpulse_run(large, ("daily",), scratch / "reports"))
        work = Path(tempfile.mkdtemp(dir=scratch))
        naive.append(naive_daily(large, work))
    out["all_three_one_process_large"] = summary(together)
    out["daily_large_side_by_side"] = summary(daily)
    out["naive_daily_large"] = {
        **summary(naive),
        "stages": {k: round(median([s.extra[k] for s in naive]), 3) for k in naive[0].extra},
    }
    return out


def bench_watch(cfg: Config, scratch: Path) -> dict:
    """``cxpulse watch`` on the large demo warehouse as of ``END``, the repository's
    alerts.yaml and an empty inbox: the first run, then runs with nothing new."""
    import yaml
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    warehouse = demo_warehouse(cfg.large_rows)
    project = scratch / "watch"
    shutil.copytree(PARAMS, project / "params")
    settings = {"distribution.yaml": None, "inbox.yaml": None}
    for name in settings:
        settings[name] = yaml.safe_load((project / "params" / name).read_text())
    settings["inbox.yaml"].update(inbox=str(project / "inbox"), archive=str(project / "archive"))
    with socket.socket() as probe:  # a free port for the SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(Sink(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        settings["distribution.yaml"]["smtp"].update(port=smtp.port, backoff_s=0.1)
        for name, data in settings.items():
            (project / "params" / name).write_text(yaml.safe_dump(data))
        argv = [CX, "-q", "watch", "--warehouse", str(warehouse), "--now", END, "--params",
                str(project / "params"), "--reports", str(project / "reports")]  # fmt: skip
        first = run(argv)
        log(f"watch, first run: {first.seconds:.2f} s ({first.extra['stdout'].strip()})")
        quiet = [run(argv) for _ in range(cfg.runs if cfg.smoke else max(cfg.runs, 3))]
    finally:
        smtp.stop()
    log(f"watch, nothing new: {', '.join(f'{s.seconds:.2f}' for s in quiet)} s")
    return {"rows": cfg.large_rows, "first_run": summary([first]), "nothing_new": summary(quiet),
            "output": quiet[-1].extra["stdout"].strip()}  # fmt: skip


def verdicts(
    ingest: dict, reports: dict, watch: dict | None = None, large: dict | None = None
) -> list[dict]:
    daily_large = reports["daily_large"]["seconds"]
    side = reports["daily_large_side_by_side"]["seconds"]
    peak = max(
        v["peak_rss_mb"] for v in reports.values() if isinstance(v, dict) and "peak_rss_mb" in v
    )
    rows = [
        ("daily report, large warehouse (s)", daily_large, "<=", TARGETS["daily_s_large"]),
        ("daily large / small", daily_large / reports["daily_small"]["seconds"], "<=",
         TARGETS["daily_ratio_large_small"]),
        ("naive / cxpulse (daily, large)", reports["naive_daily_large"]["seconds"] / side, ">=",
         TARGETS["naive_over_cxpulse"]),
        ("three reports, one process (s)", reports["all_three_one_process_large"]["seconds"], "<=",
         TARGETS["all_three_one_process_s"]),
        ("ingest twcs before sentiment (rows/s)", ingest["twcs"]["rows_per_s_before_sentiment"],
         ">=", TARGETS["ingest_rows_per_s_before_sentiment"]),
        ("ingest reviews before sentiment (rows/s)",
         ingest["reviews"]["rows_per_s_before_sentiment"], ">=",
         TARGETS["ingest_rows_per_s_before_sentiment"]),
        ("sentiment, twcs, no cache (texts/s)", ingest["twcs"]["sentiment_texts_per_s_no_cache"],
         ">=", TARGETS["sentiment_texts_per_s"]),
        ("peak RSS of a report run (MB)", peak, "<=", TARGETS["report_peak_rss_mb"]),
        ("ingest peak RSS (MB), twcs", ingest["twcs"]["peak_rss_mb"], "<=",
         TARGETS["ingest_peak_rss_mb"]),
        ("ingest peak RSS (MB), reviews", ingest["reviews"]["peak_rss_mb"], "<=",
         TARGETS["ingest_peak_rss_mb"]),
    ]  # fmt: skip
    if large:
        rows.append((f"ingest peak RSS (MB), twcs {large['rows']:,} rows",
                     large["peak_rss_mb"], "<=", TARGETS["ingest_peak_rss_mb"]))  # fmt: skip
    if watch:
        rows.append(("watch, nothing new, large warehouse (s)", watch["nothing_new"]["seconds"],
                     "<=", TARGETS["watch_nothing_new_s"]))  # fmt: skip
    out = []
    for name, value, op, target in rows:
        ok = value <= target if op == "<=" else value >= target
        out.append({"measure": name, "value": round(value, 3), "target": f"{op} {target:g}",
                    "met": bool(ok)})  # fmt: skip
    return out


def table(results: dict) -> str:
    lines = []
    ing = results["ingest"]
    lines.append(f"Ingest ({results['config']['ingest_rows']:,} rows per file; median of "
                 f"{results['config']['runs']})")  # fmt: skip
    lines.append(f"  {'format':<8} {'rows/s before sent.':>20} {'rows/s whole load':>18} "
                 f"{'sent. texts/s (no cache)':>25} {'(cached)':>10} {'peak MB':>8}")  # fmt: skip
    for fmt, v in ing.items():
        lines.append(
            f"  {fmt:<8} {v['rows_per_s_before_sentiment']:>20,} "
            f"{v['rows_per_s_after_sentiment']:>18,} "
            f"{v['sentiment_texts_per_s_no_cache']:>25,} {v['sentiment_texts_per_s_cached']:>10,} "
            f"{v['peak_rss_mb']:>8,.0f}"
        )
    if results.get("ingest_large"):
        big = results["ingest_large"]
        lines.append(
            f"  twcs, {big['rows']:,} rows, one run: {big['rows_per_s_before_sentiment']:,} rows/s "
            f"before sentiment, {big['rows_per_s_after_sentiment']:,} rows/s whole load "
            f"({big['seconds']['total']:,.0f} s), peak {big['peak_rss_mb']:,.0f} MB"
        )
    rep = results["reports"]
    sizes = rep["sizes"]
    lines.append("")
    lines.append(f"Reports (cxpulse run; wall s, median of {results['config']['runs']}; "
                 "peak RSS of process + kernel)")  # fmt: skip
    lines.append(f"  {'report (rows)':<48} {'seconds':>8} {'peak MB':>8}   runs")
    for key, v in rep.items():
        if not isinstance(v, dict) or "seconds" not in v:
            continue
        size = "small" if key.endswith("_small") else "large"
        name = key.removesuffix("_small").removesuffix("_large").removesuffix("_large_side_by_side")
        name = {
            "all_three_one_process_large": "daily+weekly+quarterly, 1 process",
            "daily_large_side_by_side": "daily (beside the naive)",
            "naive_daily_large": "daily, naive way (3 CLIs)",
        }.get(key, name)
        label = f"{name} ({sizes[size]:,})"
        runs = ", ".join(f"{s:.1f}" for s in v["seconds_runs"])
        lines.append(f"  {label:<48} {v['seconds']:>8.2f} {v['peak_rss_mb']:>8,.0f}   {runs}")
    stages = rep["naive_daily_large"]["stages"]
    lines.append("  naive stages: " + ", ".join(f"{k} {s:.1f} s" for k, s in stages.items()))
    if results.get("watch"):
        w = results["watch"]
        lines.append("")
        quiet = w["nothing_new"]
        runs = ", ".join(f"{s:.2f}" for s in quiet["seconds_runs"])
        lines.append(f"cxpulse watch ({w['rows']:,} rows; wall s): first run "
                     f"{w['first_run']['seconds']:.2f}, nothing new {quiet['seconds']:.2f} "
                     f"(runs {runs})")  # fmt: skip
    lines.append("")
    lines.append("Targets")
    for v in results["targets"]:
        mark = "met" if v["met"] else "MISSED"
        lines.append(f"  {v['measure']:<44} {v['value']:>12,.2f}  target {v['target']:<10} {mark}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="cxpulse benchmark (see bench/run.py)")
    parser.add_argument("--smoke", action="store_true", help="small sizes, one run each")
    parser.add_argument("--runs", type=int, help="runs per measure (default 3; smoke 1)")
    parser.add_argument("--out", type=Path, help="results file (default bench/results.json)")
    parser.add_argument("--skip-ingest", action="store_true", help="reports only")
    parser.add_argument("--watch-only", action="store_true", help="cxpulse watch only")
    args = parser.parse_args()
    cfg = SMOKE if args.smoke else FULL
    if args.runs:
        cfg = dataclasses.replace(cfg, runs=args.runs)
    out = args.out or BENCH / ("results-smoke.json" if cfg.smoke else "results.json")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cxpulse-bench-") as tmp:
        scratch = Path(tmp)
        if args.watch_only:
            watch = bench_watch(cfg, scratch)
            print(json.dumps(watch, indent=2))
            return 0
        ingest = {} if args.skip_ingest else bench_ingest(cfg, scratch)
        large = {} if args.skip_ingest else bench_ingest_large(cfg, scratch)
        reports = bench_reports(cfg, scratch)
        watch = bench_watch(cfg, scratch)
    results = {
        "config": cfg.__dict__,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_end": os.getloadavg(),
        },
        "ingest": ingest,
        "ingest_large": large,
        "reports": reports,
        "watch": watch,
        "seconds": round(time.perf_counter() - started, 1),
    }
    results["targets"] = verdicts(ingest, reports, watch, large) if ingest else []
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results) if ingest else json.dumps(reports, indent=2))
    print(f"\nwrote {out} ({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
