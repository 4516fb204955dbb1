"""Published figures are history: what each publication showed, and what has changed since.

Every report that is published records its headline figures in the warehouse table
``published_figures``: one row per figure, with the cadence, the period's label and window,
when it was published, the newest data it held (``data_as_of``), the newest load it had
seen (``loaded_until``, the latest ``ingested_at``) and the version folder it was published
as (``version``; ``report_version`` counts the publications of that period, 1, 2, ...).

A later report compares each figure it shows for a window (its own period and the windows
it compares with) with the latest publication of exactly that window. A change beyond the
tolerance of the figure's kind (brand.yaml ``restatements``: points for rates and net
sentiment, any change for counts) is a *restatement*: the figure as sent, the figure now,
when it was sent and why, when known: the rows of that window loaded or updated since it
was sent (their ``ingested_at`` is later than its ``loaded_until``), by the file that
brought them, with that file's counts from ``ingest_log``.

Reading and comparing are pure functions of frames; ``record`` writes (under the
warehouse's writer lock, ``warehouse.lock``) and ``history_command`` reads for
``cxpulse history``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from cxpulse import config, warehouse

TABLE = "published_figures"
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    cadence VARCHAR, period VARCHAR, window_start TIMESTAMPTZ, window_end TIMESTAMPTZ,
    figure VARCHAR, label VARCHAR, kind VARCHAR, value DOUBLE,
    published_at TIMESTAMPTZ, data_as_of TIMESTAMPTZ, loaded_until TIMESTAMPTZ,
    version VARCHAR, report_version INTEGER)"""
NOTICED = "restated_figures"
NOTICED_DDL = f"""CREATE TABLE IF NOT EXISTS {NOTICED} (
    version VARCHAR, published_at TIMESTAMPTZ, restatement VARCHAR)"""
"""The restatements each publication reported (``Restatement.as_dict`` as JSON), so
``cxpulse history`` says what changed without computing any figure again."""
COLUMNS = (
    "cadence", "period", "window_start", "window_end", "figure", "label", "kind", "value",
    "published_at", "data_as_of", "loaded_until", "version", "report_version",
)  # fmt: skip
KINDS = ("count", "percent", "points", "duration", "stars")
"""Kinds of headline figure: how a change is measured and shown."""


@dataclass(frozen=True)
class Publication:
    """One published report: what ``record`` writes beside each of its figures."""

    cadence: str
    period: str
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    published_at: pd.Timestamp
    data_as_of: pd.Timestamp | None
    loaded_until: pd.Timestamp | None
    version: str


def changed(kind: str, sent: float | None, now: float | None, tolerance: config.Tolerances) -> bool:
    """Whether a figure of ``kind`` moved beyond ``tolerance`` from ``sent`` to ``now``:
    percent (fractions) by more than ``rate_points`` points, net sentiment by more than
    ``rate_points``, counts by more than ``count`` (0: any change), durations by more than
    ``duration_s`` seconds, stars by more than ``stars``. A figure that appeared or
    disappeared has changed."""
    if sent is None or now is None or pd.isna(sent) or pd.isna(now):
        return (sent is None or pd.isna(sent)) != (now is None or pd.isna(now))
    difference = abs(float(now) - float(sent))
    limits = {
        "percent": (100.0, tolerance.rate_points),
        "points": (1.0, tolerance.rate_points),
        "count": (1.0, tolerance.count),
        "duration": (1.0, tolerance.duration_s),
        "stars": (1.0, tolerance.stars),
    }
    scale, limit = limits.get(kind, (1.0, 0.0))  # a kind not known here: any change
    return difference * scale > limit + 1e-9


@dataclass(frozen=True)
class Source:
    """A file that loaded or updated rows of a window after a publication."""

    file: str
    rows: int
    """Rows of the window it brought (inserted or updated), ours only."""
    loaded_at: str
    inserted: int | None
    updated: int | None
    """The file's own counts, all windows and brands (``ingest_log``)."""


@dataclass(frozen=True)
class Restatement:
    """A published figure that has changed beyond its tolerance."""

    window: str
    """How the report names the window: 'this week', 'previous week'."""
    period: str
    cadence: str
    figure: str
    label: str
    kind: str
    sent: float | None
    now: float | None
    published_at: str
    version: str
    report_version: int
    sources: tuple[Source, ...] = field(default=())

    def as_dict(self) -> dict:
        return asdict(self)


def latest_publications(
    published: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """The figures of the latest publication of exactly the window [start, end) (empty when
    none), from the rows of ``published_figures``."""
    if published.empty:
        return published
    same = published[
        (pd.to_datetime(published["window_start"], utc=True) == start)
        & (pd.to_datetime(published["window_end"], utc=True) == end)
    ]
    if same.empty:
        return same
    latest = pd.to_datetime(same["published_at"], utc=True).max()
    return same[pd.to_datetime(same["published_at"], utc=True) == latest]


def compare(
    window: str, sent: pd.DataFrame, now: dict, tolerance: config.Tolerances
) -> list[Restatement]:
    """The figures of one publication (``latest_publications``) that ``now`` (figure ->
    value, the same window computed today) holds changed beyond ``tolerance``."""
    out = []
    for x in sent.itertuples():
        if x.figure not in now or not changed(x.kind, x.value, now[x.figure], tolerance):
            continue
        out.append(
            Restatement(
                window=window,
                period=x.period,
                cadence=x.cadence,
                figure=x.figure,
                label=x.label,
                kind=x.kind,
                sent=None if pd.isna(x.value) else float(x.value),
                now=None if now[x.figure] is None else float(now[x.figure]),
                published_at=pd.Timestamp(x.published_at).isoformat(),
                version=x.version,
                report_version=int(x.report_version),
            )  # fmt: skip
        )
    return out


def sources_since(changed_rows: pd.DataFrame, log: pd.DataFrame) -> tuple[Source, ...]:
    """The files behind ``changed_rows`` (source_file, rows, loaded_at: the rows of a window
    loaded or updated since a publication, per file), with each file's counts from the
    ingest log (its latest 'loaded' entry), the most rows first."""
    loaded = (
        log[log["status"] == "loaded"]
        .sort_values("finished_at")
        .drop_duplicates("source_file", keep="last")
    )
    counts = loaded.set_index("source_file")[["rows_inserted", "rows_updated"]]
    out = []
    for x in changed_rows.sort_values("rows", ascending=False).itertuples():
        inserted = counts["rows_inserted"].get(x.source_file)
        updated = counts["rows_updated"].get(x.source_file)
        out.append(
            Source(
                file=str(x.source_file),
                rows=int(x.rows),
                loaded_at=pd.Timestamp(x.loaded_at).isoformat(timespec="seconds"),
                inserted=None if inserted is None or pd.isna(inserted) else int(inserted),
                updated=None if updated is None or pd.isna(updated) else int(updated),
            )  # fmt: skip
        )
    return tuple(out)


# Writing: the render process, under the warehouse's writer lock.


def record(
    path: Path, publication: Publication, figures: Sequence[dict], restated: Sequence[dict] = ()
) -> int:
    """Record ``figures`` (key, label, kind, value) of ``publication``, and the restatements
    it reported (``restatement_rows``), in the warehouse at ``path``, holding its writer
    lock; the publication's ``report_version`` (1 for the first publication of its cadence
    and period)."""
    with warehouse.lock(path), contextlib.closing(warehouse.connect(path)) as con:
        con.execute(DDL).fetchall()
        con.execute(NOTICED_DDL).fetchall()
        for x in restated:
            con.execute(
                f"INSERT INTO {NOTICED} VALUES (?, ?, ?)",
                [publication.version, publication.published_at.to_pydatetime(), json.dumps(x)],
            ).fetchall()
        number = con.execute(
            f"SELECT count(DISTINCT version) + 1 FROM {TABLE} WHERE cadence = ? AND period = ?",
            [publication.cadence, publication.period],
        ).fetchall()[0][0]
        rows = pd.DataFrame(
            [
                {
                    **{k: getattr(publication, k) for k in ("cadence", "period")},
                    "window_start": publication.window_start,
                    "window_end": publication.window_end,
                    "figure": f["key"],
                    "label": f["label"],
                    "kind": f["kind"],
                    "value": None if f["value"] is None else float(f["value"]),
                    "published_at": publication.published_at,
                    "data_as_of": publication.data_as_of,
                    "loaded_until": publication.loaded_until,
                    "version": publication.version,
                    "report_version": number,
                }  # fmt: skip
                for f in figures
            ],
            columns=list(COLUMNS),
        )
        with warehouse.registered(con, "figures", rows):
            con.execute(f"INSERT INTO {TABLE} SELECT {', '.join(COLUMNS)} FROM figures").fetchall()
    return int(number)


def loaded_until(path: Path) -> pd.Timestamp | None:
    """The latest ``ingested_at`` in the warehouse (what a report about to run can see)."""
    with contextlib.closing(warehouse.connect(path, read_only=True)) as con:
        value = con.execute("SELECT epoch_us(max(ingested_at)) FROM interactions").fetchone()[0]
    return None if value is None else pd.Timestamp(value, unit="us", tz="UTC")


# Reading for ``cxpulse history``.


def read_noticed(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """The restatements each publication reported, by its version."""
    try:
        rows = con.execute(f"SELECT version, restatement FROM {NOTICED}").fetchall()
    except duckdb.CatalogException:
        return {}
    out: dict[str, list[dict]] = {}
    for version, text in rows:
        out.setdefault(version, []).append(json.loads(text))
    return out


def read_published(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every row of ``published_figures`` (none in a warehouse made before it existed)."""
    try:
        return con.execute(f"SELECT * FROM {TABLE} ORDER BY published_at, cadence, period").df()
    except duckdb.CatalogException:
        return pd.DataFrame(columns=list(COLUMNS))


def changes(published: pd.DataFrame, tolerance: config.Tolerances) -> pd.DataFrame:
    """Each publication's figures beside the same window's publication before it: columns
    of ``published_figures`` plus ``previous`` (the value published before, NaN for a
    first publication) and ``restated`` (changed beyond ``tolerance``)."""
    if published.empty:
        return published.assign(previous=pd.Series(dtype=float), restated=pd.Series(dtype=bool))
    frame = published.sort_values("published_at", kind="stable")
    keys = ["window_start", "window_end", "figure"]
    frame = frame.assign(previous=frame.groupby(keys)["value"].shift(1))
    first = frame.groupby(keys).cumcount() == 0
    restated = [
        not is_first and changed(k, p, v, tolerance)
        for is_first, k, p, v in zip(
            first, frame["kind"], frame["previous"], frame["value"], strict=True
        )
    ]
    return frame.assign(restated=restated)


def history_command(
    warehouse_path: Path, params_dir: Path, cadence: str | None = None, period: str | None = None
) -> pd.DataFrame:
    """What ``cxpulse history`` lists: every published figure (of ``cadence`` and
    ``period`` when given), oldest publication first, with the change from the same
    window's publication before it."""
    tolerance = config.load_brand(Path(params_dir)).restatements
    with contextlib.closing(warehouse.connect(Path(warehouse_path), read_only=True)) as con:
        published = read_published(con)
        noticed = read_noticed(con)
    frame = changes(published, tolerance)
    frame = frame.assign(noticed=[noticed.get(v, []) for v in frame["version"]])
    if cadence:
        frame = frame[frame["cadence"] == cadence]
    if period:
        frame = frame[frame["period"] == period]
    return frame.reset_index(drop=True)


def history_text(frame: pd.DataFrame, tz: str = "UTC") -> str:
    """One block per publication: when, which version, its figures (those changed since
    the same window's publication before marked RESTATED), and the restatements of earlier
    publications it reported."""
    if frame.empty:
        return "No report has been published (or none matches)."
    lines = []
    for (published_at, cadence, period, version, number), rows in frame.groupby(
        ["published_at", "cadence", "period", "version", "report_version"], sort=False
    ):
        at = pd.Timestamp(published_at).tz_convert("UTC")
        lines.append(
            f"{cadence} {period} · publication {number} · {at:%Y-%m-%d %H:%M} UTC · {version}"
        )
        for x in rows.itertuples():
            was = "" if pd.isna(x.previous) else f" (was {format_value(x.kind, x.previous)})"
            mark = "  RESTATED" if x.restated else ""
            lines.append(f"  {x.label:<28} {format_value(x.kind, x.value):>10}{was}{mark}")
        for noticed in rows["noticed"].iloc[0]:
            lines.append(f"  RESTATED here: {describe(noticed, tz)}")
    restated = int(frame["restated"].sum())
    noticed = sum(len(n) for n in frame.drop_duplicates("version")["noticed"])
    lines.append(
        f"{frame['version'].nunique()} publication(s); {restated} figure(s) changed on a "
        f"re-render; {noticed} restatement(s) reported by later reports"
    )
    return "\n".join(lines)


def history_json(frame: pd.DataFrame) -> str:
    """The rows of ``history_command`` as JSON records (timestamps in ISO 8601)."""
    out = frame.copy()
    for column in ("window_start", "window_end", "published_at", "data_as_of", "loaded_until"):
        out[column] = [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in out[column]]
    records = out.astype(object).where(out.notna(), None).to_dict("records")
    return json.dumps(records, indent=2, default=str)


def format_value(kind: str, value: float | None) -> str:
    """A figure as reports show it (``formatting``), '—' when missing."""
    from cxpulse import formatting as fmt

    if value is None or pd.isna(value):
        return "—"
    return {
        "count": fmt.count,
        "percent": fmt.percent,
        "points": fmt.points,
        "duration": fmt.duration,
        "stars": fmt.stars,
    }[kind](value)


def describe(restated: dict, tz: str) -> str:
    """One sentence for a restatement (a ``restatement_rows`` record), as the e-mail says
    it: 'Response rate, previous week (2026-W46): sent as 85% on 16 Nov 2026 09:00, now
    83%; since then 412 rows were loaded or updated by late.csv.'"""
    when = pd.Timestamp(restated["published_at"]).tz_convert(tz)
    files = [Path(s["file"]).name for s in restated["sources"]]
    rows = sum(s["rows"] for s in restated["sources"])
    why = (
        f"since then {rows:,} rows of that window were loaded or updated by {', '.join(files)}"
        if files
        else "no row of that window was loaded or updated since"
    )
    return (
        f"{restated['label']}, {restated['window']} ({restated['period']}): sent as "
        f"{format_value(restated['kind'], restated['sent'])} on {when.day} {when:%b %Y %H:%M}, "
        f"now {format_value(restated['kind'], restated['now'])}; {why}."
    )


def restatement_rows(restatements: Iterable[Restatement]) -> list[dict]:
    """Plain JSON records of ``restatements`` (manifest, e-mail)."""
    return [r.as_dict() for r in restatements]
