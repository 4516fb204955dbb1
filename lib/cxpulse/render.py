"""Render a report in one process: validate, execute the notebook, export HTML, print the PDF.

``run_report`` is one short linear pipeline, in the manner of papermill's ``execute.py``:
load and validate params, choose the period, execute the notebook with papermill, export
it twice through our nbconvert template (interactive ``report.html``; the print HTML that
WeasyPrint turns into ``report.pdf``), write ``manifest.json``. Everything is written to a
folder of its own (a version, ``publish.start_version``) and published only when every
stage has succeeded, by switching the link ``reports/<cadence>/<label>`` to it in one
rename (``publish``). A failed run is kept under ``reports/<cadence>/.failed-<label>/``
(the executed notebook holds the traceback) and the published report of that period is
left as it was.

Time goes mostly into starting Python twice (this process and the kernel) and importing
the libraries, so the two overlap: the kernel is started first and imports the report
library while this process validates and imports papermill; nbconvert and WeasyPrint warm
up while the notebook runs (unless its window is large: ``WARM_UP_ROWS``); the summary
for the manifest is read from the kernel's ``Report``, not computed again here.
``run_reports`` renders several reports in one process and one kernel (emptied between
notebooks), as a pipeline: a report is exported to HTML and PDF while the next notebook
executes.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd

from cxpulse import config, history, periods, publish, warehouse
from cxpulse.config import ParamsError
from cxpulse.kernel import Kernel, plain

if TYPE_CHECKING:
    import nbformat

# Papermill, nbformat and nbconvert (about 2 s of imports with the report library) are
# imported where they are used, so that a run starts its kernel first and the kernel
# imports the report library while this process imports the rest.

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
def timed(stage: str, seconds: dict[str, float], cadence: str = "") -> Iterator[None]:
    """Record into ``seconds[stage]`` how long the block took, and log it (prefixed with
    ``cadence``: several reports' stages overlap in one run)."""
    start = time.perf_counter()
    yield
    seconds[stage] = round(time.perf_counter() - start, 3)
    log.info("%s%s: %.2f s", f"{cadence} " if cadence else "", stage, seconds[stage])


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
    as_of: dt.date,
    warehouse_path: Path,
    params_dir: Path,
    today: dt.date,
    engine: str | None = None,
    lake: Path | None = None,
) -> dict[str, str]:
    """The parameters papermill injects, as plain JSON types, checked before injection.
    ``engine`` and ``lake`` ("" when not given: brand.yaml's engine) choose where the
    metrics run (``report.open_report``)."""
    if as_of > today:
        raise ParamsError(f"as_of: {as_of} is in the future (today is {today})")
    for name, path in (("warehouse", warehouse_path), ("params_dir", params_dir)):
        if not path.exists():
            raise ParamsError(f"{name}: {path} does not exist")
    return {
        "as_of": as_of.isoformat(),
        "warehouse": str(warehouse_path.resolve()),
        "params_dir": str(params_dir.resolve()),
        "engine": engine or "",
        "lake": str(Path(lake).resolve()) if lake else "",
    }


def describe_period(period: periods.Period) -> str:
    """The period as a reader says it: 'Sunday 31 March 2024', '2024-W13 · 25 Mar – 31 Mar
    2024', '2024-Q2 · 1 Apr – 12 May 2024 (to date)'."""
    if period.kind == "daily":
        return f"{period.first_day:%A} {period.first_day.day} {period.first_day:%B %Y}"
    first, last = period.first_day, period.last_day
    cut = " (to date)" if periods.is_to_date(period) else ""
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
    a kernel papermill starts); a failing cell raises RenderError.

    ``output`` is written once, at the end (with the traceback when a cell failed), not at
    the start and end of every cell as papermill does by default: each save validates and
    serialises the whole notebook, 20 ms for a weekly report, 0.4 s over its cells. A cell
    that times out leaves no notebook; the error quotes the cell."""
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
            request_save_on_cell_execute=False,
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
    static SVG charts as images (data URLs: WeasyPrint then neither parses nor styles
    their elements as the page's) and no script.
    """
    from cxpulse.charts import VEGALITE_MIME_TYPE

    exporter = _exporter_class()(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_anchor_links=True,
    )
    exporter.register_filter("base64", _base64)
    report = {
        **resources,
        "interactive": interactive,
        "vegalite_mimetype": VEGALITE_MIME_TYPE,
        "vega_js": vega_bundle() if interactive else "",
    }
    body, _ = exporter.from_notebook_node(nb, resources={"report": report})
    return body


@functools.cache
def _exporter_class() -> type:
    """nbconvert's ``HTMLExporter`` without its last pass, which parses the whole page
    with BeautifulSoup to give an ``<img>`` without ``alt`` a placeholder text and
    JupyterLab's cells a ``tabindex``, then prints it again: the ``cxpulse`` template
    writes every ``alt`` and has no JupyterLab cells, and the pass cost 0.5 of the 0.65
    CPU seconds of the three 10M reports' six pages. The rest is ``HTMLExporter``'s own
    ``from_notebook_node`` (nbconvert 7)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", Highlight2HTML(parent=self))
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


def _base64(text: str) -> str:
    """``text`` (UTF-8) in base64, for a data URL."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def import_weasyprint() -> None:
    """Import WeasyPrint, opening its libraries (GObject, Pango, HarfBuzz, fontconfig) by
    their file names first. It tries six names for each, and on Linux every name that is
    not a file name costs ctypes' ``find_library``, which runs ``ldconfig``, ``gcc`` and
    ``ld``: 87 programs and 0.2 CPU seconds, each fork counting this whole process once
    more in a tree's summed RSS while it lasts. A library that only that search finds is
    still found: WeasyPrint is then imported again with it."""
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        return
    import ctypes.util

    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint  # noqa: F401 - imported to be ready
    except OSError:
        pass  # imported below, with the search
    finally:
        ctypes.util.find_library = search
    import weasyprint  # noqa: F401, F811


def html_to_pdf(html: str, output: Path, page_size: str) -> int:
    """Print ``html`` to ``output`` with WeasyPrint, fetching nothing from the network.

    Returns the number of pages.
    """
    import_weasyprint()
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data", "file"})
    page = CSS(string=f"@page {{ size: {page_size}; }}", url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher).render(stylesheets=[page])
    document.write_pdf(output)
    return len(document.pages)


_WARM_UP_LOCK = threading.Lock()


@functools.cache
def _warm_up_exporters() -> None:
    import nbformat

    cover = dict.fromkeys(("brand", "title", "period", "generated_at", "data_until"), "")
    export_html(nbformat.v4.new_notebook(), False, cover)
    import_weasyprint()
    from weasyprint import HTML

    HTML(string="<p>cxpulse</p>").render()
    from cxpulse import charts

    charts.warm_up()


def warm_up_exporters() -> None:
    """Import nbconvert and WeasyPrint and put a tiny page through each (template loading,
    font configuration), and draw a tiny chart (the chart engine's start): about 1.5 s,
    once a process, 90-100 MB. ``execute_report`` starts it in a thread while the kernel
    executes a report of fewer than ``WARM_UP_ROWS`` interactions; ``export_report``
    waits for it (or runs it)."""
    with _WARM_UP_LOCK:
        _warm_up_exporters()


WARM_UP_ROWS = 1_000_000
"""Interactions in a report's window from which its exporters warm up after its notebook,
not while it runs. Such a kernel's queries fill DuckDB's ``READ_MEMORY_LIMIT`` (a
quarter of 10M rows, any report of 100M), and the warmed exporters would add 90-100 MB of
this process to that peak (a 10M quarterly: 948 -> 854 MB summed; the 100M daily, were it
held back: 967 -> 869 MB), for a warm-up of about 1.3 s that such a run then waits for at
its export (no CPU more; in ``run_reports`` it overlaps the next notebook)."""


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages that shape a report."""
    return {"python": platform.python_version(), **{name: version(name) for name in VERSIONED}}


def run_reports(
    cadences: Sequence[str],
    as_of: str | None,
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    kernel: Kernel | None = None,
    engine: str | None = None,
    lake: Path | None = None,
) -> list[RunResult]:
    """``run_report`` for each of ``cadences``, in this one process, pipelined; the results
    in the order of ``cadences``.

    Every report's params are validated first (``plan_report``), so a bad params file stops
    the run before anything renders. Imports are paid once, here and in the kernel: the
    notebooks run one after another on one kernel, emptied between them
    (``Kernel.reset``: a notebook sees nothing of the one before, and no second kernel
    boots or holds memory). A report's charts, HTML and PDF are made in a worker thread,
    at a lower CPU priority, while the next notebook executes; each is recorded in the
    history once the kernel is shut down (writing the warehouse waits for the kernel's
    reader to close: the exports would wait behind it). The longest period goes
    first: only the last report's export overlaps nothing, and the daily's is the
    shortest. After the first report that fails no new report starts; the
    reports already executed are still exported, and the first error is raised at the
    end. ``kernel``: the kernel, when the caller started it (``cxpulse run`` does, first
    thing). ``engine``, ``lake``: where the metrics run (``notebook_parameters``).
    """
    kernel = kernel or Kernel(Path(params_dir).resolve().parent)
    exports: list[tuple[Executed, Future[RunResult]]] = []
    failure: BaseException | None = None
    ordered: list[str] = []
    with ThreadPoolExecutor(1, "export", initializer=lower_thread_priority) as exporter:
        try:
            plans = [
                plan_report(c, as_of, warehouse, params_dir, reports_dir, engine, lake)
                for c in cadences
            ]
            plans.sort(key=lambda plan: -plan.period.days)  # stable: equal spans keep order
            ordered = [plan.cadence for plan in plans]
            for n, plan in enumerate(plans):
                if any(f.done() and f.exception() for _, f in exports):
                    break
                if n:
                    kernel.reset()
                executed = execute_report(plan, kernel)
                exports.append((executed, exporter.submit(export_report, executed, False)))
        except BaseException as err:  # noqa: BLE001 - re-raised below, after the exports
            failure = err
        finally:
            kernel.shutdown()
        results = {}
        for cadence, (executed, future) in zip(ordered, exports, strict=False):  # every export
            try:
                results[cadence] = future.result()
                record_publication(executed.plan, executed.version.path.name, executed.summary)
            except BaseException as err:  # noqa: BLE001 - the first error is raised below
                failure = failure or err
    if failure is not None:
        raise failure
    return [results[c] for c in cadences]


def lower_thread_priority() -> None:
    """Give the calling thread a lower CPU priority (Linux nice +10, per thread), so work
    that can wait does not slow the kernel that everything else waits for."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + 10)


def run_report(
    cadence: str,
    as_of: str | None,
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    kernel: Kernel | None = None,
    engine: str | None = None,
    lake: Path | None = None,
) -> RunResult:
    """Render the ``cadence`` report of the period holding ``as_of`` (to date when the
    period is not over) into ``reports_dir/<cadence>/<period label>/``: report.ipynb,
    report.html, report.pdf, manifest.json. Params are validated before anything runs;
    nothing at the final path changes unless every stage succeeds.

    The notebook runs on ``kernel`` (default: one started here, first thing), which is
    shut down as soon as the notebook and the summary are done.
    """
    kernel = kernel or Kernel(Path(params_dir).resolve().parent)
    try:
        plan = plan_report(cadence, as_of, warehouse, params_dir, reports_dir, engine, lake)
        executed = execute_report(plan, kernel)
    finally:
        kernel.shutdown()
    return export_report(executed)


@dataclass
class Planned:
    """A report whose params are valid and whose period is chosen: what to execute."""

    cadence: str
    params: config.ReportParams
    source: Path
    project: Path
    period: periods.Period
    parameters: dict[str, str]
    data_range: tuple[pd.Timestamp | None, pd.Timestamp | None]
    rows: int
    now: dt.datetime
    cover: dict[str, str]
    folder: Path
    """``reports_dir/<cadence>``: the report is published there as ``<period label>``."""
    seconds: dict[str, float]
    """Seconds per stage; "total" is their sum: the report's own time, which in a
    pipelined run overlaps other reports' stages."""
    warehouse: Path
    loaded_until: pd.Timestamp | None
    """The newest load the report could see (``history.loaded_until``)."""

    @property
    def final(self) -> Path:
        """Where the report is published: ``<folder>/<period label>``."""
        return self.folder / self.period.label

    @property
    def failed(self) -> Path:
        """Where a failed run's files are kept: ``.failed-<label>`` beside ``final``."""
        return self.folder / f".failed-{self.period.label}"


def plan_report(
    cadence: str,
    as_of: str | None,
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    engine: str | None = None,
    lake: Path | None = None,
) -> Planned:
    """Validate the ``cadence`` params and the notebook parameters, choose the period of
    ``as_of`` (``config.resolve_period``) and count its interactions; nothing runs yet."""
    seconds: dict[str, float] = {}
    warehouse_path, params_dir = Path(warehouse), Path(params_dir)
    with timed("validate", seconds, cadence):
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
        period = config.resolve_period(params, as_of, data_range[1])
        day = period.last_day
        parameters = notebook_parameters(day, warehouse_path, params_dir, now.date(), engine, lake)
        rows = count_interactions(warehouse_path, period)
        loaded = history.loaded_until(warehouse_path)
    log.info("%s report for %s (as of %s, %s interactions)", cadence, period.label, day, rows)
    cover = {
        "brand": params.brand.brand,
        "title": params.report.title,
        "period": describe_period(period),
        "generated_at": f"{now:%Y-%m-%d %H:%M %Z}",
        "data_until": describe_moment(data_range[1], tz),
    }
    return Planned(
        cadence, params, source, project, period, parameters, data_range, rows, now, cover,
        Path(reports_dir) / cadence, seconds, warehouse_path, loaded,
    )  # fmt: skip


@dataclass
class Executed:
    """A report whose notebook has run: what ``export_report`` needs to finish it.

    ``version`` is the report's own folder (locked until published) that holds
    report.ipynb; ``summary`` is what ``report.summary`` said of it."""

    plan: Planned
    version: publish.Version
    nb: nbformat.NotebookNode
    summary: dict

    @property
    def work(self) -> Path:
        return self.version.path


def keep_failed(version: publish.Version, failed: Path) -> None:
    """Move a failed run's version to ``failed``, replacing an older failure."""
    publish.give_up(version, failed)
    log.error("run failed; its files are kept in %s", failed)


def execute_report(plan: Planned, kernel: Kernel) -> Executed:
    """Execute the planned notebook on ``kernel`` (once it is warm) into a new version
    under ``plan.folder`` (after sweeping what killed runs left there), then read the
    report's summary from the kernel (``read_summary``). A failure moves the version to
    ``.failed-<label>`` and raises."""
    publish.sweep(plan.folder)
    version = publish.start_version(plan.folder, plan.period.label)
    work = version.path
    threading.Thread(target=vega_bundle, name="vega-bundle", daemon=True).start()
    if plan.rows < WARM_UP_ROWS:
        threading.Thread(target=warm_up_exporters, name="warm-up", daemon=True).start()
    timeout_s = plan.params.report.timeout_s
    try:
        import papermill  # noqa: F401 - imported while the kernel warms up, not after

        kernel.wait_warm(timeout_s)
        with timed("execute", plan.seconds, plan.cadence):
            nb = execute_notebook(
                plan.source, work / "report.ipynb", plan.parameters, timeout_s, plan.project,
                kernel,
            )  # fmt: skip
        with timed("summary", plan.seconds, plan.cadence):
            summary = read_summary(plan, kernel)
        with timed("figures", plan.seconds, plan.cadence):
            summary["figures"] = (
                kernel.figures(plan.cadence, plan.period.label, work, plan.params.report.timeout_s)
                or {}
            )
    except BaseException:
        keep_failed(version, plan.failed)
        raise
    return Executed(plan, version, nb, summary)


def read_summary(plan: Planned, kernel: Kernel) -> dict:
    """``report.summary`` of the notebook's ``r``, read from ``kernel``; computed here when
    the notebook holds no ``Report`` named ``r``."""
    summary = kernel.summary(plan.cadence, plan.period.label, plan.params.report.timeout_s)
    if summary is not None:
        return summary
    from cxpulse import report

    return report.summary(
        report.open_report(
            plan.cadence, plan.parameters["as_of"], plan.parameters["warehouse"],
            plan.parameters["params_dir"],
        )
    )  # fmt: skip


def add_static_charts(nb: nbformat.NotebookNode, path: Path) -> None:
    """Draw the static SVG of each chart the kernel left without one (it does under
    ``cxpulse run``: ``kernel.DEFER_SVG``) and save the notebook to ``path`` with them."""
    import nbformat

    from cxpulse.charts import with_static_charts

    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    if with_static_charts(outputs):
        nbformat.write(nb, path)


def record_publication(plan: Planned, version: str, summary: dict) -> None:
    """Record the headline figures the published report showed (``recorded_figures``)
    in the warehouse's history (``history.record``, under the writer lock)."""
    figures = summary.get("recorded_figures")
    if not figures:
        return
    publication = history.Publication(
        cadence=plan.cadence, period=plan.period.label,
        window_start=plan.period.start, window_end=plan.period.end,
        published_at=pd.Timestamp.now(tz="UTC"), data_as_of=plan.data_range[1],
        loaded_until=plan.loaded_until, version=version,
    )  # fmt: skip
    number = history.record(plan.warehouse, publication, figures, summary.get("restatements", []))
    log.info(
        "%s %s: publication %d recorded in the history", plan.cadence, plan.period.label, number
    )


def export_report(executed: Executed, record: bool = True) -> RunResult:
    """Export an executed report to report.html and report.pdf, write manifest.json,
    publish the version in place of an older render of the period (``publish_version``)
    and, with ``record``, record it in the history (``record_publication``: the caller
    does it otherwise). A failure moves the folder to ``.failed-<label>`` and raises."""
    e, plan, seconds = executed, executed.plan, executed.plan.seconds
    try:
        with timed("charts", seconds, plan.cadence):
            warm_up_exporters()
            add_static_charts(e.nb, e.work / "report.ipynb")
        with timed("html", seconds, plan.cadence):
            (e.work / "report.html").write_text(
                export_html(e.nb, True, plan.cover), encoding="utf-8"
            )
            printable = export_html(e.nb, False, plan.cover)
        with timed("pdf", seconds, plan.cadence):
            pages = html_to_pdf(printable, e.work / "report.pdf", plan.params.brand.page_size)
        seconds["total"] = round(sum(seconds.values()), 3)
        tz = plan.params.brand.timezone
        manifest = {
            "cadence": plan.cadence,
            "period": plan.period.label,
            "window": {
                "start": plan.period.start.isoformat(),
                "end": plan.period.end.isoformat(),
                "first_day": plan.period.first_day.isoformat(),
                "last_day": plan.period.last_day.isoformat(),
                "timezone": tz,
            },
            "as_of": plan.parameters["as_of"],
            "parameters": plan.parameters,
            "data_range": [t.isoformat() if t is not None else None for t in plan.data_range],
            "rows": plan.rows,
            **e.summary,
            "generated_at": plan.now.isoformat(timespec="seconds"),
            "versions": package_versions(),
            "seconds": seconds,
        }
        (e.work / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=plain) + "\n", encoding="utf-8"
        )
    except BaseException:
        keep_failed(e.version, plan.failed)
        raise
    try:
        publish.publish_version(e.version, plan.final)
    except BaseException:
        keep_failed(e.version, plan.failed)
        raise
    shutil.rmtree(plan.failed, ignore_errors=True)
    if record:
        record_publication(plan, e.version.path.name, e.summary)
    sizes = {p.name: p.stat().st_size for p in sorted(plan.final.iterdir())}
    return RunResult(plan.final, pages, sizes, seconds)
