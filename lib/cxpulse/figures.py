"""The figures behind a report: every table and chart it showed, as data an analyst can use.

A section of ``report`` (a function of the ``Report`` that returns HTML or an Altair chart)
is *captured*: what it showed is kept on the Report as a ``Shown`` (its tables as frames,
numbers as numbers, and its metric contract line), with no I/O in the section itself.
Charts give their own data (what was drawn, the chart's data frames); tables give the frame
they were built from (``report._table(..., data=frame)``), else their rows as shown.
When the notebook has run, ``write_figures`` writes them once into the report's folder:
``figures.xlsx`` (one sheet per table, the contract line as its first row, then the header
and the rows) and ``figures/<sheet>.parquet`` (the same tables), and returns what the
manifest lists. A table longer than ``XLSX_ROWS`` (a theme's member messages over a
quarter: a row per message) is in Parquet only; its sheet names the Parquet file. A
section may show such a table as an Ibis expression instead of a frame: its engine writes
it (``write_parquet``), and the kernel never holds its rows.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import ibis.expr.types as ir
import pandas as pd
import pyarrow.parquet as pq

XLSX = "figures.xlsx"
PARQUET_DIR = "figures"
SHEET_CHARS = 31
"""The longest sheet name Excel accepts."""
XLSX_ROWS = 20_000
"""The longest table written into the workbook. A longer one is a list of messages, not a
figure to read: openpyxl writes about 25,000 rows a second (a quarter of 100M rows has
950,000 theme members, and Excel holds at most 1,048,576 rows a sheet)."""


@dataclass
class Shown:
    """What one section showed: its title, contract line and tables (name -> frame, or
    an Ibis table ``write_parquet`` has its engine write)."""

    section: str
    title: str
    contract: str
    tables: dict[str, pd.DataFrame | ir.Table] = field(default_factory=dict)


def chart_frames(chart: object) -> list[pd.DataFrame]:
    """The data frames an Altair chart draws (its own and its layers' and panels'), each
    once, in order."""
    found: list[pd.DataFrame] = []

    def walk(node: object) -> None:
        data = getattr(node, "data", None)
        if isinstance(data, pd.DataFrame) and not any(data is f for f in found):
            found.append(data)
        for part in ("layer", "hconcat", "vconcat", "concat"):
            for child in getattr(node, part, None) or []:
                walk(child)
        spec = getattr(node, "spec", None)
        if spec is not None and spec is not alt.Undefined:
            walk(spec)

    walk(chart)
    return found


def chart_title(chart: object) -> tuple[str, str]:
    """(title, contract) of a chart: its title text and its subtitle lines joined (the
    contract line, ``charts._title``); the first panel's for a side-by-side chart."""
    title = getattr(chart, "title", alt.Undefined)
    if title is alt.Undefined:
        for part in ("hconcat", "vconcat", "concat", "layer"):
            children = getattr(chart, part, None) or []
            if children:
                return chart_title(children[0])
        return "", ""
    if isinstance(title, str):
        return title, ""
    text = title.text if isinstance(title.text, str) else " ".join(title.text)
    subtitle = title.subtitle
    if subtitle is alt.Undefined:
        return text, ""
    return text, subtitle if isinstance(subtitle, str) else " ".join(subtitle)


def shown_by(section: str, value: object) -> Shown | None:
    """What ``value``, returned by ``section``, showed: a chart's frames, a table's
    ``cx_tables``; None for what holds no table (sentences, an empty box)."""
    tables = getattr(value, "cx_tables", None)
    if tables:
        named = {f"{section}.{k}" if k else section: frame for k, frame in tables.items()}
        return Shown(section, section, value.cx_contract, named)
    if isinstance(value, alt.TopLevelMixin):
        frames = chart_frames(value)
        if not frames:
            return None
        title, contract = chart_title(value)
        names = (
            [section] if len(frames) == 1 else [f"{section}.{i + 1}" for i in range(len(frames))]
        )
        return Shown(section, title or section, contract, dict(zip(names, frames, strict=True)))
    return None


class _Depth(threading.local):
    depth = 0


_inside = _Depth()
"""How many captured sections the current thread is inside: only the outermost keeps."""


def capture(section: Callable) -> Callable:
    """``section`` that also keeps what it showed on its Report (``r.shown``, by section
    name: running a cell again replaces it)."""

    @functools.wraps(section)
    def captured(r, *args, **kwargs):
        if _inside.depth:  # a section drawn inside another (trends: sentiment and volume)
            return section(r, *args, **kwargs)
        _inside.depth += 1
        try:
            value = section(r, *args, **kwargs)
        finally:
            _inside.depth -= 1
        shown = shown_by(section.__name__, value)
        if shown is not None:
            r.shown[section.__name__] = shown
        return value

    captured.cx_captured = True
    return captured


def capture_sections(namespace: dict, report_type: str = "Report") -> list[str]:
    """Capture every section defined in a module's ``namespace``: each public function
    whose first parameter is annotated ``report_type`` and that returns HTML or a chart.
    Called at the end of ``report`` (and of any module of sections): a section added
    there is captured with nothing to do. The names captured."""
    names = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or not callable(value) or getattr(value, "cx_captured", False):
            continue
        annotations = getattr(value, "__annotations__", {})
        params = [k for k in annotations if k != "return"]
        returns = str(annotations.get("return", ""))
        if not params or str(annotations[params[0]]) != report_type:
            continue
        if not ("HTML" in returns or "Chart" in returns):
            continue
        namespace[name] = capture(value)
        names.append(name)
    return names


def sheet_names(names: list[str]) -> list[str]:
    """Excel sheet names for ``names``: characters Excel refuses replaced, at most 31
    characters, unique (a number added when two would clash)."""
    out: list[str] = []
    for name in names:
        base = re.sub(r"[\[\]:*?/\\]", "_", name)[:SHEET_CHARS] or "sheet"
        candidate, n = base, 2
        while candidate.lower() in (o.lower() for o in out):
            suffix = f"~{n}"
            candidate, n = base[: SHEET_CHARS - len(suffix)] + suffix, n + 1
        out.append(candidate)
    return out


def for_excel(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as Excel can hold it: time-zone-aware timestamps as UTC wall time (Excel
    has no time zones; the column name says UTC), lists and objects as text; numbers stay
    numbers."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None)
            out = out.rename(columns={column: f"{column} (UTC)"})
        elif (
            series.dtype == object
            and series.map(lambda v: isinstance(v, list | dict | set | tuple)).any()
        ):
            out[column] = series.map(str)
    return out


def write_figures(shown: list[Shown], folder: Path, xlsx_rows: int = XLSX_ROWS) -> dict:
    """Write ``figures.xlsx`` and ``figures/<sheet>.parquet`` into ``folder``; what the
    manifest lists: the workbook and, per table, its sheet, section, title, contract line,
    Parquet file, row count and whether its rows are in the workbook (``in_xlsx``: not
    for a table longer than ``xlsx_rows``, whose sheet names its Parquet file). Nothing is
    written when no section showed a table."""
    tables = [(s, name, frame) for s in shown for name, frame in s.tables.items()]
    if not tables:
        return {}
    sheets = sheet_names([name for _, name, _ in tables])
    (folder / PARQUET_DIR).mkdir(exist_ok=True)
    listed = []
    with pd.ExcelWriter(folder / XLSX, engine="openpyxl") as book:
        for sheet, (s, _, table) in zip(sheets, tables, strict=True):
            parquet = f"{PARQUET_DIR}/{sheet}.parquet"
            rows = write_parquet(table, folder / parquet)
            in_xlsx = rows <= xlsx_rows
            if in_xlsx:
                if not isinstance(table, pd.DataFrame):  # short: read back from its file
                    table = pd.read_parquet(folder / parquet)
                for_excel(table).to_excel(book, sheet_name=sheet, index=False, startrow=1)
            else:
                pd.DataFrame([[f"{rows:,} rows: in {parquet} beside this workbook"]]).to_excel(
                    book, sheet_name=sheet, index=False, header=False, startrow=1
                )
            book.sheets[sheet]["A1"] = s.contract or s.title
            listed.append(
                {"sheet": sheet, "section": s.section, "title": s.title,
                 "contract": s.contract, "parquet": parquet, "rows": rows,
                 "in_xlsx": in_xlsx}
            )  # fmt: skip
    return {"xlsx": XLSX, "tables": listed}


def write_parquet(table: pd.DataFrame | ir.Table, path: Path) -> int:
    """Write ``table`` to the Parquet file ``path``; its rows. An Ibis table on DuckDB is
    written by DuckDB (``COPY ... TO``), in bounded memory and never held here; on another
    engine it is fetched, then written as a frame is."""
    if isinstance(table, ir.Table):
        if table.get_backend().name == "duckdb":
            table.to_parquet(path)
            return pq.read_metadata(path).num_rows
        table = table.execute()
    plain = table.reset_index(drop=True)
    plain.columns = [str(c) for c in plain.columns]
    plain.to_parquet(path, index=False)
    return len(plain)
