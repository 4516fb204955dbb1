"""Render a report in one process: validate, execute the notebook, export HTML, print the PDF.

``run_report`` is one short linear pipeline, in the manner of papermill's ``execute.py``:
load and validate params, choose the period, execute the notebook with papermill, export
it twice through our nbconvert template (interactive ``report.html``; the print HTML that
WeasyPrint turns into ``report.pdf``), write ``manifest.json``. Everything is written to a
temporary folder beside the final one and moved into place only when every stage has
succeeded. A failed run is kept under ``reports/<cadence>/.failed-<label>/`` (the executed
notebook holds the traceback) and the published report of that period is left as it was.

Time goes mostly into starting Python twice (this process and the kernel) and importing
the libraries, so the two overlap: the kernel is started first and imports the report
library while this process validates and imports papermill; nbconvert and WeasyPrint warm
up while the notebook runs; the summary for the manifest is read from the kernel's
``Report``, not computed again here. ``run_reports`` renders several reports in one
process, starting each next kernel while the report before it is exported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd

from cxpulse import config, periods, warehouse
from cxpulse.config import ParamsError
from cxpulse.kernel import Kernel, plain

if TYPE_CHECKING:
    import nbformat

# jsonschema imports the optional rfc3987-syntax when present (jupyterlab brings it), which
# builds a grammar for 1.5 s at every start; no notebook schema uses the formats it checks.
# Papermill, nbformat and nbconvert (about 2 s of imports with the report library) are
# imported where they are used, so that a run starts its kernel first and the kernel
# imports the report library while this process imports the rest.
sys.modules.setdefault("rfc3987_syntax", None)

log = logging.getLogger("cxpulse.render")

TEMPLATES = Path(__file__).parent / "templates" / "nbconvert"
TEMPLATE = "cxpulse"
VERSIONED = ("cxpulse", "pandas", "duckdb", "papermill", "nbconvert", "weasyprint", "altair")


class RenderError(RuntimeError):
    """The notebook failed, timed out or lost its kernel, or the warehouse has no data."""


@dataclass(frozen=True)
class RunResult:
    """What one run wrote and how long each stage took."""

    folder: Path
    pages: int
    sizes: dict[str, int]
    seconds: dict[str, float]

    def summary(self) -> str:
        files = ", ".join(f"{name} {size / 1024:,.0f} KB" for name, size in self.sizes.items())
        stages = ", ".join(f"{stage} {s:.1f} s" for stage, s in self.seconds.items())
        return f"{self.folder}: {self.pages} PDF pages; {files}\n  {stages}"


@contextlib.contextmanager
def timed(stage: str, seconds: dict[str, float]) -> Iterator[None]:
    """Record into ``seconds[stage]`` how long the block took, and log it."""
    start = time.perf_counter()
    yield
    seconds[stage] = round(time.perf_counter() - start, 3)
    log.info("%s: %.2f s", stage, seconds[stage])


def read_data_range(path: Path) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Earliest and latest ``created_at`` in the warehouse (the connection is closed after)."""
    with contextlib.closing(warehouse.connect(path, read_only=True)) as con:
        return warehouse.data_range(con)


def count_interactions(path: Path, period: periods.Period) -> int:
    """Interactions of every brand created inside ``period``."""
    with contextlib.closing(warehouse.connect(path, read_only=True)) as con:
        return con.execute(
            "SELECT count(*) FROM interactions WHERE created_at >= ? AND created_at < ?",
            [period.start.to_pydatetime(), period.end.to_pydatetime()],
        ).fetchone()[0]


def notebook_parameters(
    as_of: dt.date, warehouse_path: Path, params_dir: Path, today: dt.date
) -> dict[str, str]:
    """The parameters papermill injects, as plain JSON types, checked before injection."""
    if as_of > today:
        raise ParamsError(f"as_of: {as_of} is in the future (today is {today})")
    for name, path in (("warehouse", warehouse_path), ("params_dir", params_dir)):
        if not path.exists():
            raise ParamsError(f"{name}: {path} does not exist")
    return {
        "as_of": as_of.isoformat(),
        "warehouse": str(warehouse_path.resolve()),
        "params_dir": str(params_dir.resolve()),
    }


def describe_period(period: periods.Period) -> str:
    """The period as a reader says it: 'Sunday 31 March 2024', '2024-W13 · 25 Mar – 31 Mar
    2024', '2024-Q2 · 1 Apr – 12 May 2024 (to date)'."""
    if period.cadence == "daily":
        return f"{period.first_day:%A} {period.first_day.day} {period.first_day:%B %Y}"
    first, last = period.first_day, period.last_day
    full = periods.period_for(period.cadence, first, period.timezone)
    cut = " (to date)" if last < full.last_day else ""
    return f"{period.label} · {first.day} {first:%b} – {last.day} {last:%b %Y}{cut}"


def describe_moment(moment: pd.Timestamp | None, tz: str) -> str:
    """A UTC timestamp as the brand's local time: '24 Nov 2026 09:58 GMT' ('' for None)."""
    if moment is None:
        return ""
    local = moment.tz_convert(tz)
    return f"{local.day} {local:%b %Y %H:%M %Z}"


def _cell_line(traceback: list[str]) -> str:
    """'line 2: y = x / 0' from an IPython traceback, or '' when it holds no cell frame."""
    from papermill.exceptions import strip_color

    for entry in map(strip_color, traceback):
        lines = entry.splitlines()
        if lines and lines[0].startswith("Cell In["):
            where = lines[0].split(", ")[-1]
            failing = [line for line in lines if line.startswith("---->")]
            code = failing[0].removeprefix("---->").strip().split(" ", 1)[-1] if failing else ""
            return f"{where}: {code}" if code else where
    return ""


def execute_notebook(
    source: Path,
    output: Path,
    parameters: dict,
    timeout_s: int,
    cwd: Path,
    kernel: Kernel | None = None,
) -> nbformat.NotebookNode:
    """Execute ``source`` with papermill into ``output`` (on ``kernel`` when given, else on
    a kernel papermill starts); a failing cell raises RenderError."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    engine = {"km": kernel.manager} if kernel is not None else {}
    try:
        return papermill.execute_notebook(
            source,
            output,
            parameters=parameters,
            kernel_name="python3",
            progress_bar=sys.stderr.isatty(),
            log_output=False,
            cwd=cwd,
            execution_timeout=timeout_s,
            **engine,
        )
    except PapermillExecutionError as err:
        first_line = err.source.strip().splitlines()[0] if err.source.strip() else ""
        where = _cell_line(err.traceback) or f"`{first_line}`"
        raise RenderError(
            f"{source}: cell In [{err.exec_count}] failed at {where}\n  {err.ename}: {err.evalue}"
        ) from err
    except (CellTimeoutError, DeadKernelError) as err:
        raise RenderError(f"{source}: {err}") from err


_BUNDLE_LOCK = threading.Lock()


def _bundle_cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "cxpulse"


@functools.cache
def _build_vega_bundle() -> str:
    import vl_convert as vlc

    from cxpulse.charts import VL_VERSION

    cached = _bundle_cache() / f"vega-bundle-vlc{vlc.__version__}-vl{VL_VERSION}.js"
    with contextlib.suppress(OSError):
        return cached.read_text(encoding="utf-8")
    bundle = vlc.javascript_bundle(vl_version=VL_VERSION)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        partial.write_text(bundle, encoding="utf-8")
        os.replace(partial, cached)
    return bundle


def vega_bundle() -> str:
    """vega, vega-lite and vega-embed as one script (about 0.9 MB, 1.5 s to build), built
    once per version of vl-convert and kept in the user's cache folder
    (``~/.cache/cxpulse``); ``run_report`` reads it while the notebook executes."""
    with _BUNDLE_LOCK:
        return _build_vega_bundle()


def export_html(nb: nbformat.NotebookNode, interactive: bool, resources: dict) -> str:
    """The notebook as one self-contained HTML page through the ``cxpulse`` template.

    ``resources`` holds the cover line: brand, title, period, generated_at and
    data_until (the newest data, '' when unknown). Interactive
    pages draw charts with vega-embed (its bundle inlined once); the print page holds the
    static SVG charts and no script.
    """
    from nbconvert import HTMLExporter

    from cxpulse.charts import VEGALITE_MIME_TYPE

    exporter = HTMLExporter(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_anchor_links=True,
    )
    report = {
        **resources,
        "interactive": interactive,
        "vegalite_mimetype": VEGALITE_MIME_TYPE,
        "vega_js": vega_bundle() if interactive else "",
    }
    body, _ = exporter.from_notebook_node(nb, resources={"report": report})
    return body


def html_to_pdf(html: str, output: Path, page_size: str) -> int:
    """Print ``html`` to ``output`` with WeasyPrint, fetching nothing from the network.

    Returns the number of pages.
    """
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data", "file"})
    page = CSS(string=f"@page {{ size: {page_size}; }}", url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher).render(stylesheets=[page])
    document.write_pdf(output)
    return len(document.pages)


def warm_up_exporters() -> None:
    """Import nbconvert and WeasyPrint and put a tiny page through each (template loading,
    font configuration: about 1.5 s once a process), while the kernel executes."""
    import nbformat

    cover = dict.fromkeys(("brand", "title", "period", "generated_at", "data_until"), "")
    export_html(nbformat.v4.new_notebook(), False, cover)
    from weasyprint import HTML

    HTML(string="<p>cxpulse</p>").render()


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages that shape a report."""
    return {"python": platform.python_version(), **{name: version(name) for name in VERSIONED}}


def publish_folder(work: Path, final: Path) -> None:
    """Move ``work`` to ``final``, replacing an older render of the same period."""
    if not final.exists():
        os.replace(work, final)
        return
    old = Path(tempfile.mkdtemp(prefix=f".old-{final.name}-", dir=final.parent))
    os.replace(final, old / final.name)
    try:
        os.replace(work, final)
    except OSError:
        os.replace(old / final.name, final)
        raise
    finally:
        shutil.rmtree(old)


def run_reports(
    cadences: Sequence[str],
    as_of: str | None,
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    kernel: Kernel | None = None,
) -> list[RunResult]:
    """``run_report`` for each of ``cadences`` in turn, in this one process: imports are
    paid once, and the kernel of the next report starts (and imports the report library)
    while the one before it exports HTML and PDF; one kernel at a time, so memory stays
    that of one report. Stops at the first report that fails. ``kernel``: the first
    report's kernel, when the caller started it (``cxpulse run`` does, first thing)."""
    project = Path(params_dir).resolve().parent
    kernels: list[Kernel] = [kernel or Kernel(project)]

    def start_next() -> None:
        if len(kernels) < len(cadences):
            kernels.append(Kernel(project))

    try:
        return [
            run_report(cadence, as_of, warehouse, params_dir, reports_dir, kernels[n], start_next)
            for n, cadence in enumerate(cadences)
        ]
    finally:
        for kernel in kernels:
            kernel.shutdown()


def run_report(
    cadence: str,
    as_of: str | None,
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    kernel: Kernel | None = None,
    kernel_done: Callable[[], None] | None = None,
) -> RunResult:
    """Render the ``cadence`` report of the period holding ``as_of`` (to date when the
    period is not over) into ``reports_dir/<cadence>/<period label>/``: report.ipynb,
    report.html, report.pdf, manifest.json. Params are validated before anything runs;
    nothing at the final path changes unless every stage succeeds.

    The notebook runs on ``kernel`` (default: one started here, first thing); the
    kernel is shut down when the notebook and the summary are done, and then
    ``kernel_done`` is called (``run_reports`` starts the next report's kernel).
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    warehouse_path, params_dir = Path(warehouse), Path(params_dir)
    project = params_dir.resolve().parent
    kernel = kernel or Kernel(project)
    try:
        return _run_report(
            cadence, as_of, warehouse_path, params_dir, Path(reports_dir), kernel, seconds, started,
            kernel_done or (lambda: None),
        )  # fmt: skip
    finally:
        kernel.shutdown()


def _run_report(
    cadence: str,
    as_of: str | None,
    warehouse_path: Path,
    params_dir: Path,
    reports_dir: Path,
    kernel: Kernel,
    seconds: dict[str, float],
    started: float,
    kernel_done: Callable[[], None],
) -> RunResult:
    with timed("validate", seconds):
        params = config.load_report_params(cadence, params_dir)
        project = params_dir.resolve().parent
        source = project / params.report.notebook
        if not source.is_file():
            raise ParamsError(
                f"{params_dir / f'{cadence}.yaml'}: key 'notebook': {source} not found"
            )
        tz = params.brand.timezone
        now = dt.datetime.now(ZoneInfo(tz))
        data_range = read_data_range(warehouse_path)
        period = config.resolve_period(cadence, as_of, data_range[1], tz)
        day = period.last_day
        parameters = notebook_parameters(day, warehouse_path, params_dir, now.date())
        rows = count_interactions(warehouse_path, period)
    log.info("%s report for %s (as of %s, %s interactions)", cadence, period.label, day, rows)

    cadence_dir = reports_dir / cadence
    cadence_dir.mkdir(parents=True, exist_ok=True)
    final, failed = cadence_dir / period.label, cadence_dir / f".failed-{period.label}"
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{period.label}-", dir=cadence_dir))
    work.chmod(0o755)  # mkdtemp makes it private; the published report is for readers
    cover = {
        "brand": params.brand.brand,
        "title": params.report.title,
        "period": describe_period(period),
        "generated_at": f"{now:%Y-%m-%d %H:%M %Z}",
        "data_until": describe_moment(data_range[1], tz),
    }
    threading.Thread(target=vega_bundle, name="vega-bundle").start()
    warm_up = threading.Thread(target=warm_up_exporters, name="warm-up", daemon=True)
    warm_up.start()
    try:
        with timed("execute", seconds):
            nb = execute_notebook(
                source, work / "report.ipynb", parameters, params.report.timeout_s, project, kernel
            )
        with timed("summary", seconds):
            summary = kernel.summary(cadence, period.label, params.report.timeout_s)
            kernel.shutdown()
            kernel_done()
            if summary is None:  # the notebook holds no Report ``r``: open one here
                from cxpulse import report

                summary = report.summary(
                    report.open_report(cadence, parameters["as_of"], warehouse_path, params_dir)
                )
        with timed("html", seconds):
            warm_up.join()
            (work / "report.html").write_text(export_html(nb, True, cover), encoding="utf-8")
            printable = export_html(nb, False, cover)
        with timed("pdf", seconds):
            pages = html_to_pdf(printable, work / "report.pdf", params.brand.page_size)
        seconds["total"] = round(time.perf_counter() - started, 3)
        manifest = {
            "cadence": cadence,
            "period": period.label,
            "window": {
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "first_day": period.first_day.isoformat(),
                "last_day": period.last_day.isoformat(),
                "timezone": tz,
            },
            "as_of": parameters["as_of"],
            "parameters": parameters,
            "data_range": [t.isoformat() if t is not None else None for t in data_range],
            "rows": rows,
            **summary,
            "generated_at": now.isoformat(timespec="seconds"),
            "versions": package_versions(),
            "seconds": seconds,
        }
        (work / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=plain) + "\n", encoding="utf-8"
        )
    except BaseException:
        shutil.rmtree(failed, ignore_errors=True)
        os.replace(work, failed)
        log.error("run failed; its files are kept in %s", failed)
        raise
    publish_folder(work, final)
    shutil.rmtree(failed, ignore_errors=True)
    sizes = {p.name: p.stat().st_size for p in sorted(final.iterdir())}
    return RunResult(final, pages, sizes, seconds)
