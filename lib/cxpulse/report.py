"""Report sections: each function takes the open ``Report`` and returns one displayable
thing (HTML or an Altair chart). Notebooks call one of these per cell.

Wiring only: figures come from ``cxpulse.metrics``, sentences from ``narrative``, charts
from ``charts``, markup from ``templates/sections`` (Jinja, autoescaped: customer text is
untrusted and is escaped there, never interpolated into code). Every table cell goes
is escaped, shows its bidi and control characters and is isolated (``<bdi>``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import altair as alt
import ibis
import jinja2
import pandas as pd
from IPython.display import HTML

from cxpulse import (
    charts,
    config,
    figures,
    history,
    metrics,
    periods,
    themes,
    themes_command,
    warehouse,
)
from cxpulse import formatting as fmt
from cxpulse.metrics import themes as theme_metrics
from cxpulse.metrics.command import choose_engine
from cxpulse.narrative import Kpi, action_sentence, headline_sentences
from cxpulse.quantify import Calibration

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cxpulse", "templates/sections"),
    autoescape=True,
    trim_blocks=False,
)
# A table cell's text may be a customer's: the templates put it inside <bdi> (browsers
# isolate it: it cannot reorder the page around it) through ``visible`` (its bidi and
# control characters are shown, U+202E as [U+202E]: it cannot show text in another order
# than it holds, in the browser or in the PDF, whose WeasyPrint ignores bdi isolation).
_TEMPLATES.filters["visible"] = fmt.visible_controls

ACTION_ROWS = 5
"""Urgent messages listed in the daily brief: enough to act on, few enough for two pages."""
ACTION_THEMES = 2
"""New or fast-rising themes listed in the daily brief (new first, then most messages)."""

# key, label, format kind, better direction, metric field in metrics.headline
KPI_FIELDS: tuple[tuple[str, str, str, str | None], ...] = (
    ("inbound", "Inbound messages", "count", None),
    ("response_rate", "Response rate", "percent", "up"),
    ("frt_median_s", "Median first response", "duration", "down"),
    ("sla_attainment", "Answered within target", "percent", "up"),
    ("net_sentiment", "Net sentiment", "points", "up"),
    ("service_level", "Call service level", "percent", "up"),
    ("asa_s", "Speed of answer (calls)", "duration", "down"),
    ("abandonment_rate", "Calls abandoned", "percent", "down"),
    ("mean_rating", "Review rating", "stars", "up"),
    ("nps", "NPS", "points", "up"),
    ("csat", "CSAT (4–5 of 5)", "percent", "up"),
    ("aht_s", "Handle time (calls)", "duration", None),
)
COUNT_FIELDS = ("inbound", "answered", "offered_calls", "reviews", "survey_responses")
SURVEY_KPIS = ("nps", "csat")
"""Tiles shown only in reports longer than a day (a day holds too few answers for a
figure, and the daily brief keeps to two pages) whose window or comparison has survey
scores."""
SURVEY_CONTRACT = (
    "NPS = % promoters (9–10) − % detractors (0–6) of survey answers on 0–10, in points, "
    "with its 90% interval; CSAT = answers of 4–5 ÷ answers on 1–5, with its 90% interval."
)
KPI_INTERVALS = {
    "net_sentiment": ("net_low", "net_high"),
    "nps": ("nps_low", "nps_high"),
    "csat": ("csat_low", "csat_high"),
}
"""Headline fields that are estimates -> the fields of their 90 % interval."""
KPI_CHANCE = {"net_sentiment": "net_chance"}
"""Headline fields that are estimates -> the field of their sampling half-width."""


def _render(template: str, **context) -> HTML:
    return HTML(_TEMPLATES.get_template(template).render(**context))


class Section(HTML):
    """A section's HTML with the tables it showed (name -> frame, or an Ibis table the
    export has its engine write; "" for its one table) and its contract line, which
    ``figures.capture`` keeps for figures.xlsx."""

    def __init__(
        self, html: HTML, tables: dict[str, pd.DataFrame | ibis.Table], contract: str
    ) -> None:
        super().__init__(html.data)
        self.cx_tables = tables
        self.cx_contract = contract


def _table(
    columns: list,
    rows: list[dict],
    contract: str,
    empty: str,
    data: pd.DataFrame | dict[str, pd.DataFrame] | None = None,
) -> Section:
    """A section table: ``columns`` (_Col), formatted ``rows``, contract line, empty text;
    ``data``: the frame(s) it shows, numbers as numbers (else the rows as shown)."""
    html = _render("table.html.j2", columns=columns, rows=rows, contract=contract, empty=empty)
    if data is None:
        data = pd.DataFrame(rows, columns=[c.key for c in columns]).rename(
            columns={c.key: c.title for c in columns}
        )
    tables = data if isinstance(data, dict) else {"": data}
    return Section(html, tables, contract)


@dataclass(frozen=True)
class ActionLists:
    """The 'needs action now' items: urgent unanswered, spikes, worst reviews, viral posts."""

    urgent: pd.DataFrame
    spikes: pd.DataFrame
    reviews: pd.DataFrame
    viral: pd.DataFrame


@dataclass(frozen=True)
class Comparison:
    """A window the report compares itself with, and how the report names it."""

    label: str
    period: periods.Period


def comparison_window(spec: config.Comparison, period: periods.Period) -> periods.Period:
    """The window ``spec`` (params: previous, year_ago or trailing days) names for ``period``."""
    if spec.window == "previous":
        return periods.previous(period)
    if spec.window == "year_ago":
        return periods.year_ago(period)
    return periods.trailing(period, spec.days)


def comparisons_for(cadence: config.Cadence, period: periods.Period) -> tuple[Comparison, ...]:
    """The comparison windows the cadence declares (``params/<cadence>.yaml``), in order."""
    return tuple(Comparison(c.label, comparison_window(c, period)) for c in cadence.comparisons)


@dataclass(frozen=True)
class ThemeSetup:
    """How a report's themes are made: the settings, the fit, the analysts' taxonomy, the
    names cleaned out of texts."""

    settings: config.ThemesParams
    model: themes.ThemeModel | None
    taxonomy: themes.Taxonomy
    names: tuple[str, ...]


@dataclass
class Report:
    """One report being built: cadence, window, comparison windows, params and data."""

    cadence: str
    period: periods.Period
    comparisons: tuple[Comparison, ...]
    params: config.ReportParams
    table: ibis.Table
    shown: dict[str, figures.Shown] = dataclasses.field(default_factory=dict, repr=False)
    """What each section showed, by section name (``figures.capture``)."""
    warehouse_path: Path | None = None
    """The warehouse file: the themes' fits live beside it (``themes_command.fits_dir``)."""
    window_summaries: dict[tuple[str, periods.Period], pd.DataFrame] = dataclasses.field(
        default_factory=dict, repr=False
    )
    """``window_summary`` frames by metric and window: each queried once."""
    data_range: tuple[pd.Timestamp | None, pd.Timestamp | None] | None = None
    """Earliest and latest ``created_at`` of ``table`` (UTC; (None, None) when it holds
    nothing), when known: a window outside it is not queried (``holds_rows``)."""

    def holds_rows(self, period: periods.Period) -> bool:
        """False when ``period`` lies outside ``data_range`` (it holds no row of any brand,
        so each of its figures is missing without a query); True otherwise."""
        if self.data_range is None:
            return True
        first, last = self.data_range
        return first is not None and period.start <= last and period.end > first

    @property
    def comparison(self) -> periods.Period:
        """The main comparison window (the first of ``comparisons``)."""
        return self.comparisons[0].period

    @property
    def brand(self) -> config.BrandParams:
        return self.params.brand

    @cached_property
    def calibration(self) -> Calibration | None:
        """The sentiment engine's calibration (``metrics.sentiment_calibration``): every
        sentiment figure of the report is corrected with it."""
        return metrics.sentiment_calibration(self.brand)

    @cached_property
    def sentiment_engine(self) -> str:
        """Name and version of the sentiment engine, for contract lines."""
        return metrics.sentiment_engine_label(self.brand)

    @cached_property
    def ours(self) -> ibis.Table:
        """Interactions with or about our brand."""
        return self.table.filter(self.table.brand == self.brand.brand)

    def window_summary(self, metric: str, period: periods.Period) -> pd.DataFrame:
        """``metrics.call_summary`` ("calls") or ``metrics.survey_summary`` ("survey") of
        our rows in ``period``, queried once: the headline record and the calls or
        survey table show the same window's figures."""
        key = (metric, period)
        if key not in self.window_summaries:
            start, end, tz = period.start, period.end, self.brand.timezone
            self.window_summaries[key] = (
                metrics.call_summary(self.ours, start, end, calls=self.brand.calls, tz=tz)
                if metric == "calls"
                else metrics.survey_summary(self.ours, start, end, tz=tz)
            )
        return self.window_summaries[key]

    def headline_record(self, period: periods.Period) -> dict:
        """Our headline figures in ``period`` (``_headline_record``); {} without a query for
        a window that holds no rows (``holds_rows``)."""
        if not self.holds_rows(period):
            return {}
        calls, surveys = (self.window_summary(m, period) for m in ("calls", "survey"))
        return _headline_record(self.ours, period, self.brand, self.calibration, calls, surveys)

    @cached_property
    def current(self) -> dict:
        return self.headline_record(self.period)

    @cached_property
    def comparison_records(self) -> list[dict]:
        """Headline figures of each comparison window, as they are (counts not scaled)."""
        return [self.headline_record(c.period) for c in self.comparisons]

    @cached_property
    def baselines(self) -> list[dict]:
        """Headline figures of each comparison window, counts scaled to this window's days."""
        out = []
        for comparison, record in zip(self.comparisons, self.comparison_records, strict=True):
            scale = self.period.days / comparison.period.days
            out.append(
                {
                    k: (v * scale if k in COUNT_FIELDS and v is not None else v)
                    for k, v in record.items()
                }
            )
        return out

    @property
    def previous(self) -> dict:
        return self.baselines[0]

    @cached_property
    def restatements(self) -> list[history.Restatement]:
        """The figures this report shows, for its own window or one it compares with, whose
        latest publication has since changed beyond brand.yaml's ``restatements``
        tolerance (``history``), each with the files that loaded or updated rows of that
        window since; [] when nothing was published before."""
        published = read_published(self.table)
        if published.empty:
            return []
        windows = [
            (f"this {_period_noun(self)}", self.period, self.current),
            *(
                (c.label, c.period, record)
                for c, record in zip(self.comparisons, self.comparison_records, strict=True)
            ),
        ]
        out = []
        for name, period, record in windows:
            sent = history.latest_publications(published, period.start, period.end)
            found = history.compare(name, sent, record, self.brand.restatements)
            if found:
                since = pd.Timestamp(sent["loaded_until"].iloc[0])
                sources = _sources_since(self, period, None if pd.isna(since) else since)
                out += [dataclasses.replace(x, sources=sources) for x in found]
        return out

    @cached_property
    def by_channel(self) -> pd.DataFrame:
        """Response figures per channel now and in the comparison window, with targets and
        the calendar each target counts in (``calendar``: clock or business)."""
        now = metrics.response_summary(
            self.ours, self.period.start, self.period.end, by=["channel"],
            sla_targets=self.brand.sla_targets_s, tz=self.period.timezone,
            business_hours=self.brand.business_hours, business_targets=self.brand.business_targets,
        )  # fmt: skip
        # Of the comparison only frt_median_s and response_rate are shown: they need neither
        # SLA targets nor business hours (whose day lookups and quantiles cost a third of it).
        before = metrics.response_summary(
            self.ours, self.comparison.start, self.comparison.end, by=["channel"],
            tz=self.period.timezone,
        )  # fmt: skip
        merged = now.merge(
            before[["channel", "frt_median_s", "response_rate"]],
            on="channel",
            how="left",
            suffixes=("", "_prev"),
        )
        merged["target_s"] = merged["channel"].map(self.brand.sla_targets_s)
        business = merged["channel"].isin(self.brand.business_targets)
        merged["calendar"] = business.map({True: "business", False: "clock"})
        return merged.sort_values("inbound", ascending=False, ignore_index=True)

    @cached_property
    def reputation(self) -> pd.DataFrame:
        """Reputation index and its parts over the last eight periods (oldest first)."""
        records = [self.current, *self.baselines]  # rates: the same scaled or not
        windows = [self.period, *(c.period for c in self.comparisons)]
        known = {p.label: record for p, record in zip(windows, records, strict=True) if record}
        shown = reputation_periods(self)
        known |= {p.label: {} for p in shown if not self.holds_rows(p)}
        return metrics.reputation_by_period(self.table, shown, self.brand, known, self.calibration)

    @cached_property
    def reputation_by_quarter(self) -> pd.DataFrame:
        """Reputation index and its parts per quarter over the years held (``quarters_held``)."""
        return metrics.reputation_by_period(
            self.table, quarters_held(self), self.brand, calibration=self.calibration
        )

    @cached_property
    def notes(self) -> pd.DataFrame:
        """Analysts' notes (params/annotations.yaml) dated inside the trend window: day,
        channel, text."""
        start, end = self.trend_window
        first = start.tz_convert(self.period.timezone).date()
        last = self.period.last_day
        rows = [
            {"day": pd.Timestamp(a.date), "channel": a.channel or "all channels", "text": a.text}
            for a in config.load_annotations(self.params.params_dir)
            if first <= a.date <= last
        ]
        return pd.DataFrame(rows, columns=["day", "channel", "text"])

    @cached_property
    def actions(self) -> ActionLists:
        return action_lists(self)

    @cached_property
    def spikes(self) -> pd.DataFrame:
        """Complaint spikes of the trend window (``metrics.negative_spikes`` of the
        negative messages the engine expects a day: see ``daily_series``, not PACC); the
        reports that list no other action item query nothing more (``action_lists``)."""
        expected = self.daily_voices[["day", "expected_negative"]]
        return metrics.negative_spikes(expected.rename(columns={"expected_negative": "negative"}))

    @property
    def cadence_params(self) -> config.Cadence:
        """The ``cadence`` block of ``params/<cadence>.yaml``."""
        return self.params.report.cadence

    @cached_property
    def trend_window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The window of trend charts (params ``trend``): the last ``days`` local days, or
        the last ``periods`` periods, ending with the report's window."""
        trend = self.cadence_params.trend
        if trend.days:
            first = self.period.last_day - dt.timedelta(days=trend.days - 1)
            return periods.local_midnight(first, self.period.timezone), self.period.end
        return periods.previous(self.period, trend.periods - 1).start, self.period.end

    @cached_property
    def daily_voices(self) -> pd.DataFrame:
        """Estimated sentiment per local day of the trend window (``sentiment_summary`` by
        day: shares, estimated negative messages, net sentiment and its 90 % interval):
        the sentiment chart and the spike alerts."""
        start, end = self.trend_window
        tz = self.period.timezone
        return metrics.sentiment_summary(self.ours, start, end, ["day"], tz, self.calibration)

    @cached_property
    def daily_volume(self) -> pd.DataFrame:
        """Interactions per local day and channel of the trend window (``volume_summary``)."""
        start, end = self.trend_window
        return metrics.volume_summary(
            self.ours, start, end, ["day", "channel"], self.period.timezone
        )

    @cached_property
    def theme_setup(self) -> ThemeSetup:
        """themes.yaml, the brand's fit for this window (latest ending by its last day;
        None when none was fitted) and the taxonomy checked against it."""
        settings = config.load_themes(self.params.params_dir)
        model = None
        if self.warehouse_path is not None:
            model = themes_command.load_fit(
                self.warehouse_path, self.brand.brand, settings.scope, self.period.last_day
            )
        taxonomy = themes_command.check_taxonomy(
            themes_command.taxonomy_of(settings), model, self.params.params_dir
        )
        return ThemeSetup(settings, model, taxonomy, config.brand_names(self.params.params_dir))

    @cached_property
    def theme_frame(self) -> pd.DataFrame:
        """Each theme in the window against the main comparison (``theme_summary``)."""
        s = self.theme_setup
        return theme_metrics.theme_summary(
            self.ours, s.model, self.period, self.comparison, self.brand.brand, s.taxonomy,
            s.names, s.settings.scope, self.brand.sentiment.negative_probability,
        )  # fmt: skip

    @property
    def to_date(self) -> bool:
        """True when the period is still running (week or quarter to date)."""
        return periods.is_to_date(self.period)

    def window_text(self, period: periods.Period | None = None) -> str:
        p = period or self.period
        if p.first_day == p.last_day:
            return f"{p.first_day:%a %d %b %Y}"
        return f"{p.first_day:%d %b} – {p.last_day:%d %b %Y}"


def _period_noun(r: Report) -> str:
    """'day', 'week', 'quarter': how the report names its own window."""
    return {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
            "annual": "year"}.get(r.cadence, "period")  # fmt: skip


def read_published(t: ibis.Table) -> pd.DataFrame:
    """``history.TABLE`` of the warehouse behind ``t`` (read-only, as the report reads);
    empty when the warehouse holds none yet."""
    from ibis.common.exceptions import TableNotFound

    backend = t.get_backend()
    try:
        published = backend.table(history.TABLE)
    except TableNotFound:
        return pd.DataFrame(columns=list(history.COLUMNS))
    return backend.execute(published)


def _sources_since(
    r: Report, period: periods.Period, since: pd.Timestamp | None
) -> tuple[history.Source, ...]:
    """The files that loaded or updated our rows of ``period`` after ``since``."""
    t = r.ours
    rows = t.filter((t.created_at >= period.start) & (t.created_at < period.end))
    if since is not None:
        rows = rows.filter(rows.ingested_at > since)
    per_file = (
        rows.group_by("source_file")
        .aggregate(rows=rows.count(), loaded_at=rows.ingested_at.max())
        .execute()
    )
    log = r.table.get_backend().table("ingest_log").execute()
    return history.sources_since(per_file, log)


def _headline_record(
    t: ibis.Table,
    period: periods.Period,
    brand: config.BrandParams,
    calibration: Calibration | None,
    calls: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
) -> dict:
    """Our headline figures in ``period``; {} when the window holds no data at all, so a
    comparison says "no comparison data" instead of a change from zero. ``calls``,
    ``surveys``: the window's summaries when queried already (``metrics.headline``)."""
    frame = metrics.headline(
        t, period.start, period.end, brand, calibration=calibration, calls=calls,
        surveys=surveys,
    )  # fmt: skip
    if frame.empty:
        return {}
    record = frame.iloc[0].to_dict()
    volumes = [record.get(k) for k in ("inbound", "offered_calls", "reviews", "survey_responses")]
    if all(fmt.is_missing(v) or v == 0 for v in volumes):
        return {}
    return {k: (None if fmt.is_missing(v) else v) for k, v in record.items()}


def open_report(
    cadence: str,
    as_of: str | None,
    warehouse_path: str | Path,
    params_dir: str | Path,
    engine: str = "",
    lake: str = "",
) -> Report:
    """Validate params, resolve the window (``resolve_period``) and open the data: on
    the engine of brand.yaml, or ``engine`` (duckdb, spark) reading ``lake`` when given.
    On DuckDB the warehouse's data range is the table's (``Report.data_range``)."""
    params = config.load_report_params(cadence, Path(params_dir))
    con = warehouse.connect(Path(warehouse_path), read_only=True)
    try:
        stored = warehouse.data_range(con)
    finally:
        con.close()
    period = config.resolve_period(params, as_of, stored[1])
    chosen = choose_engine(params.brand, engine or None, Path(lake) if lake else None)
    return Report(
        cadence=cadence,
        period=period,
        comparisons=comparisons_for(params.report.cadence, period),
        params=params,
        table=metrics.open_table(Path(warehouse_path), chosen),
        warehouse_path=Path(warehouse_path),
        data_range=stored if chosen.name == "duckdb" else None,
    )


def _interval(record: dict, key: str) -> tuple[float, float] | None:
    """The 90 % interval of headline field ``key`` in ``record``, if it is an estimate."""
    fields = KPI_INTERVALS.get(key)
    return None if fields is None or not record else tuple(record.get(f) for f in fields)


def kpis(r: Report) -> list[Kpi]:
    """The headline figures with their comparison values, targets and, for estimates,
    their 90 % intervals now and in the comparison window; NPS and CSAT only where the
    window or its comparison has them and the report is not the daily brief
    (``SURVEY_KPIS``; a brand without surveys gets no empty tiles)."""
    targets = r.brand.kpi_targets.model_dump()
    scored = [
        key
        for key in SURVEY_KPIS
        if r.cadence != "daily"
        and any(not fmt.is_missing(x.get(key)) for x in (r.current, *r.baselines))
    ]
    return [
        Kpi(
            key=key,
            label=label,
            kind=kind,
            current=r.current.get(key),
            previous=r.previous.get(key),
            target=targets.get(key),
            better=better,
            interval=_interval(r.current, key),
            previous_interval=_interval(r.previous, key),
            chance=r.current.get(KPI_CHANCE.get(key, "")),
            previous_chance=r.previous.get(KPI_CHANCE.get(key, "")),
        )
        for key, label, kind, better in KPI_FIELDS
        if key not in SURVEY_KPIS or key in scored
    ]


def tiles(r: Report) -> list[dict]:
    """Each KPI with its change against every further comparison window (small print)."""
    out = []
    for k in kpis(r):
        others = []
        for comparison, baseline in zip(r.comparisons[1:], r.baselines[1:], strict=True):
            other = dataclasses.replace(
                k,
                previous=baseline.get(k.key),
                previous_interval=_interval(baseline, k.key),
                previous_chance=baseline.get(KPI_CHANCE.get(k.key, "")),
            )
            others.append(
                {
                    "label": comparison.label,
                    "change": other.change_text,
                    "trend": other.trend,
                    "noise": other.within_noise,
                }
            )
        restated = [x for x in r.restatements if x.figure == k.key]
        out.append({"kpi": k, "others": others, "restated": [restated_note(x) for x in restated]})
    return out


def restated_note(x: history.Restatement) -> str:
    """'Restated: this week as sent 85%, now 83%' (what the tile of the figure says)."""
    return (
        f"Restated: {x.window} as sent {history.format_value(x.kind, x.sent)}, now "
        f"{history.format_value(x.kind, x.now)}"
    )


def restated_box(r: Report) -> HTML:
    """The figures of this report's windows that changed since they were sent: as sent,
    now, when sent and why (the files that loaded or updated rows of the window since);
    nothing when none did."""
    if not r.restatements:
        return HTML("")
    tz = r.period.timezone
    rows = [
        {
            "figure": x.label,
            "window": f"{x.window} ({x.period})",
            "sent": history.format_value(x.kind, x.sent),
            "now": history.format_value(x.kind, x.now),
            "when": f"{pd.Timestamp(x.published_at).tz_convert(tz):%d %b %Y %H:%M}"
            + (f" (version {x.report_version})" if x.report_version > 1 else ""),
        }
        for x in r.restatements
    ]
    why = {}
    for x in r.restatements:
        why.setdefault((x.window, x.period), x.sources)
    reasons = [
        {"window": f"{window} ({period})", "sources": [_source_text(s, tz) for s in sources]}
        for (window, period), sources in why.items()
    ]
    t = r.brand.restatements
    counts = "any change" if t.count == 0 else f"more than {t.count:g}"
    contract = (
        "Restated: the figure moved since the report that showed it was published, compared "
        f"with the latest publication of the same window: more than {t.rate_points:g} "
        f"points (rates, net sentiment), {counts} (counts), more than {t.duration_s:g} s "
        f"(durations) or {t.stars:g} stars (brand.yaml restatements). Rows loaded or "
        "updated since: their ingest time is later than the newest load the sent report saw"
    )
    html = _render("restated.html.j2", rows=rows, reasons=reasons, contract=contract)
    data = pd.DataFrame(history.restatement_rows(r.restatements)).drop(columns="sources")
    return Section(html, {"": data}, contract)


def _source_text(s: history.Source, tz: str) -> str:
    """'412 rows from late-export.csv, loaded 24 Nov 09:58 (file: 412 new, 0 updated)'."""
    own = (
        f"file: {fmt.count(s.inserted)} new, {fmt.count(s.updated)} updated"
        if (s.inserted is not None)
        else "not in the ingest log"
    )
    return (
        f"{fmt.count(s.rows)} rows loaded or updated from {Path(s.file).name}, "
        f"{pd.Timestamp(s.loaded_at).tz_convert(tz):%d %b %H:%M} ({own})"
    )


def scope(r: Report) -> HTML:
    """One line under the cover: the window, its time zone and what it is compared with."""
    return _render(
        "scope.html.j2",
        window=r.window_text() + (" (to date)" if r.to_date else ""),
        timezone=r.period.timezone,
        comparison="; ".join(f"{c.label} ({r.window_text(c.period)})" for c in r.comparisons),
    )


def action_lists(r: Report) -> ActionLists:
    """Urgent unanswered and viral negatives (last 7 days, or the window when longer),
    spikes (trend window), worst new reviews (the window)."""
    start = min(r.period.end - pd.Timedelta(days=7), r.period.start)
    urgent = metrics.urgent_unanswered(
        r.ours,
        start,
        r.period.end,
        r.brand.sla_targets_s,
        r.brand.brand,
        limit=ACTION_ROWS,
        strongly_negative_probability=r.brand.sentiment.strongly_negative_probability,
        business_hours=r.brand.business_hours,
        business_targets=r.brand.business_targets,
        tz=r.period.timezone,
    )
    reviews = metrics.worst_reviews(r.ours, r.period.start, r.period.end, r.brand.brand, limit=2)
    reviews = reviews[reviews["rating"] <= 2]
    viral = metrics.viral_negatives(
        r.ours, start, r.period.end, limit=2, negative_probability=_negative(r)
    )
    return ActionLists(urgent, r.spikes, reviews, viral)


@dataclass(frozen=True)
class _Col:
    key: str
    title: str
    num: bool = False


def _clip(text: object, width: int = 110) -> str:
    s = text if isinstance(text, str) else ("" if fmt.is_missing(text) else str(text))
    return s if len(s) <= width else s[: width - 1] + "…"


def _local(ts: object, tz: str) -> str:
    return pd.Timestamp(ts).tz_convert(tz).strftime("%d %b %H:%M")


def needs_action(r: Report) -> HTML:
    """What an agent or manager should act on now, each item with an id they can find."""
    lists = r.actions
    tz = r.period.timezone
    groups = [
        {
            "title": "Unanswered and urgent",
            "columns": [
                _Col("id", "Id"),
                _Col("when", "Received"),
                _Col("text", "Message"),
                _Col("why", "Why"),
            ],
            "rows": [
                {
                    "id": x.id,
                    "when": _local(x.created_at, tz),
                    "text": _clip(x.text),
                    "why": x.reasons,
                }
                for x in lists.urgent.itertuples()
            ],
            "empty": "No unanswered message is past its target or flagged urgent.",
        },
        {
            "title": "Complaint spikes, new and ongoing",
            "columns": [
                _Col("status", "Status"),
                _Col("days", "Days"),
                _Col("peak", "Peak negative / day", True),
                _Col("base", "Usual", True),
                _Col("sev", "Severity (z)", True),
            ],
            "rows": [
                {
                    "status": x.status.capitalize(),
                    "days": _spike_days(x),
                    "peak": fmt.count(x.peak_negative),
                    "base": fmt.count(x.baseline_median),
                    "sev": f"{x.severity:.1f}",
                }
                for x in current_spikes(r).itertuples()
            ],
            "empty": "No new or ongoing spike in negative messages.",
            "folded": past_spikes_line(r),
        },
        {
            "title": "Worst new reviews",
            "columns": [_Col("id", "Id"), _Col("stars", "Stars", True), _Col("text", "Review")],
            "rows": [
                {"id": x.id, "stars": f"{int(x.rating)}★", "text": _clip(x.text)}
                for x in lists.reviews.itertuples()
            ],
            "empty": "No new 1- or 2-star review.",
        },
        {
            "title": "Negative posts with the widest reach",
            "columns": [
                _Col("id", "Id"),
                _Col("channel", "Channel"),
                _Col("reach", "Reach", True),
                _Col("text", "Post"),
            ],
            "rows": [
                {
                    "id": x.id,
                    "channel": x.channel,
                    "reach": fmt.count(x.reach),
                    "text": _clip(x.text),
                }
                for x in lists.viral.itertuples()
            ],
            "empty": "No negative post in this window.",
        },
    ]
    flagged = r.theme_frame[r.theme_frame["status"] != ""]
    flagged = flagged.sort_values(["status", "messages"], ascending=[True, False])
    flagged = flagged.head(ACTION_THEMES)  # "new" sorts before "rising"
    if len(flagged):  # listed only when there is one: the brief keeps to two pages
        groups.append(
            {
                "title": "New or fast-rising themes",
                "columns": [
                    _Col("label", "Theme"),
                    _Col("messages", "Messages", True),
                    _Col("change", f"vs {r.comparisons[0].label}", True),
                    _Col("text", "Example"),
                ],
                "rows": [
                    {
                        "label": f"{x.label} ({x.status})",
                        "messages": fmt.count(x.messages),
                        "change": _change(x),
                        "text": _clip(x.example_texts[0]) if x.example_texts else "",
                    }
                    for x in flagged.itertuples()
                ],
            }
        )
    notes = r.notes[r.notes["day"] >= pd.Timestamp(r.period.first_day)]
    if len(notes):
        groups.append(
            {
                "title": "Analysts' notes",
                "columns": [_Col("day", "Day"), _Col("channel", "Channel"), _Col("text", "Note")],
                "rows": [
                    {"day": f"{x.day:%d %b}", "channel": x.channel, "text": x.text}
                    for x in notes.itertuples()
                ],
            }
        )
    strongly = r.brand.sentiment.strongly_negative_probability
    contract = (
        "Urgent: our inbound messages of the last 7 days unanswered at "
        f"{_local(r.period.end, tz)}, past the channel target, strongly negative (p(negative) "
        f"≥ {strongly:g}) or with an urgency word. Spike: estimated negative messages a day "
        "with robust z ≥ 3 against the trailing 28 days; new = began on the report's day, "
        f"ongoing = last spike day at most {metrics.alerts.SPIKE_COOLDOWN_DAYS} days before it, "
        "past = over. Reviews: 1–2 stars in the window. "
        f"Posts: negative posts (p(negative) ≥ {_negative(r):g}) of the last 7 days, by the "
        f"reach the channel reports. Themes: new since the last fit, or ≥ "
        f"×{theme_metrics.RISING:g} the {r.comparisons[0].label}, with ≥ "
        f"{theme_metrics.MIN_COUNT} negative messages. Sentiment engine {r.sentiment_engine}."
    )
    html = _render("action.html.j2", groups=groups, contract=contract)
    tables = {"urgent": lists.urgent, "spikes": lists.spikes, "reviews": lists.reviews,
              "viral": lists.viral}  # fmt: skip
    return Section(html, tables, contract)


def spikes_with_status(r: Report) -> pd.DataFrame:
    """The spikes of the trend window with their status on the report's last day
    (``metrics.spike_status``: new, ongoing, past), new ones first, then by start."""
    spikes = r.spikes
    status = metrics.spike_status(spikes, r.period.last_day)
    order = status.map({s: i for i, s in enumerate(metrics.alerts.SPIKE_STATUSES)})
    ranked = spikes.assign(status=status, _order=order)
    return ranked.sort_values(["_order", "start_day"], ignore_index=True).drop(columns="_order")


def current_spikes(r: Report) -> pd.DataFrame:
    """The spikes that are news on the report's day: new and ongoing."""
    spikes = spikes_with_status(r)
    return spikes[spikes["status"] != "past"]


def past_spikes_line(r: Report) -> str:
    """The spikes of the trend window that are over, folded into one line ('' if none)."""
    spikes = spikes_with_status(r)
    past = spikes[spikes["status"] == "past"]
    if past.empty:
        return ""
    noun = "spike" if len(past) == 1 else "spikes"
    episodes = "; ".join(
        f"{_spike_days(x)} (peak ~{fmt.count(x.peak_negative)} a day, z {x.severity:.1f})"
        for x in past.itertuples()
    )
    return f"Over, earlier in the trend window: {len(past)} {noun}, {episodes}."


def _spike_days(x) -> str:
    return f"{x.start_day:%d %b} – {x.end_day:%d %b}"


def _negative(r: Report) -> float:
    """p_negative at or above which one message is negative (brand.yaml ``sentiment``)."""
    return r.brand.sentiment.negative_probability


def negative_messages(r: Report) -> str:
    """How a list of negative messages is chosen, for contract lines."""
    return (
        f"Negative inbound messages (p(negative) ≥ {_negative(r):g}, sentiment engine "
        f"{r.sentiment_engine})"
    )


def sentiment_method(r: Report) -> str:
    """How the report's sentiment shares are made, for contract lines: the engine (name
    and version), and estimated shares (PACC) or, without a calibration, plain means."""
    engine = f"sentiment engine {r.sentiment_engine}"
    if r.calibration is None:
        return f"{engine}; shares = mean class probabilities, not bias-corrected (no calibration)"
    return (
        f"{engine}; shares PACC-estimated; intervals add its calibration error "
        f"(±{r.calibration.net_p90_abs:.0f} pts); changes judged on sampling error"
    )


def sentences(r: Report) -> list[str]:
    """Three to five headline sentences generated from the figures."""
    action = None
    if r.cadence == "daily":
        urgent = r.actions.urgent
        past_sla = int(urgent["reasons"].str.contains("past SLA").sum()) if len(urgent) else 0
        action = action_sentence(len(urgent), past_sla, len(current_spikes(r)))
    return headline_sentences(kpis(r), r.by_channel, action=action)


def headlines(r: Report) -> HTML:
    """The headline sentences as a list."""
    return _render("headlines.html.j2", sentences=sentences(r))


def kpi_tiles(r: Report) -> HTML:
    """Value, change against the comparison window, and target for each headline figure."""
    contract = (
        f"Window {r.window_text()} ({r.period.timezone}); counts compared per day. Response: "
        "inbound messages (all channels but phone and surveys) with ≥1 reply from us ÷ "
        "inbound; first response in clock hours, median of answered messages; within "
        "target = answered within the channel target ÷ messages due. Net sentiment = "
        "(positive − negative) ÷ (positive + negative) × 100 of customer messages and "
        f"mentions, with its 90% interval; {sentiment_method(r)}. Call service "
        f"level = served within {r.brand.calls.service_level_threshold_s:.0f} s ÷ (served + "
        f"abandoned after {r.brand.calls.short_abandon_s:.0f} s); abandoned ÷ offered; "
        "handle time = mean talk time of served calls."
    )
    shown = tiles(r)
    if any(t["kpi"].key in SURVEY_KPIS for t in shown):
        contract += " " + SURVEY_CONTRACT
    html = _render(
        "tiles.html.j2", tiles=shown, comparison=r.comparisons[0].label, contract=contract
    )
    return Section(html, {"": kpi_frame(r)}, contract)


def kpi_frame(r: Report) -> pd.DataFrame:
    """The KPI tiles as numbers: figure, value, the value of each comparison window (counts
    scaled to this window's days, as the tiles compare them) and the target."""
    targets = r.brand.kpi_targets.model_dump()
    return pd.DataFrame(
        [
            {
                "figure": key,
                "label": label,
                "value": r.current.get(key),
                **{c.label: b.get(key) for c, b in zip(r.comparisons, r.baselines, strict=True)},
                "target": targets.get(key),
            }
            for key, label, _, _ in KPI_FIELDS
        ]
    )


def business_hours_text(hours: config.BusinessHours) -> str:
    """'Mon–Fri 08:00–20:00': the care team's working calendar in a few words."""
    days = [d.capitalize() for d in hours.days]
    span = f"{days[0]}–{days[-1]}" if len(days) > 2 else ", ".join(days)
    return f"{span} {hours.start:%H:%M}–{hours.end:%H:%M}"


def response_table(r: Report) -> HTML:
    """Response rate, first response and target attainment per channel; for a target
    counted in business hours, the first response in business hours beside clock hours."""
    rows = []
    for x in r.by_channel.itertuples():
        business = x.calendar == "business"
        measured = x.frt_median_business_s if business else x.frt_median_s
        rows.append(
            {
                "channel": x.channel.capitalize(),
                "inbound": fmt.count(x.inbound),
                "rate": fmt.percent(x.response_rate),
                "median": fmt.duration(x.frt_median_s),
                "p90": fmt.duration(x.frt_p90_s),
                "business": fmt.duration(x.frt_median_business_s) if business else "—",
                "target": "—"
                if fmt.is_missing(x.target_s)
                else f"{fmt.duration(x.target_s)} {x.calendar}",
                "sla": fmt.percent(x.sla_attainment),
                "change": fmt.change_text(x.frt_median_s, x.frt_median_s_prev, "duration"),
                "_class": "cx-miss"
                if not fmt.is_missing(x.target_s)
                and not fmt.is_missing(measured)
                and measured > x.target_s
                else "",
            }
        )
    columns = [
        _Col("channel", "Channel"),
        _Col("inbound", "Inbound", True),
        _Col("rate", "Answered", True),
        _Col("median", "First response", True),
        _Col("p90", "p90", True),
        _Col("business", "Business hours", True),
        _Col("target", "Target", True),
        _Col("sla", "Within target", True),
        _Col("change", f"vs {r.comparisons[0].label}", True),
    ]
    business = ", ".join(r.brand.business_targets) or "no channel"
    contract = (
        f"Inbound messages received {r.window_text()}; replies counted until the window's "
        "end. Answered = ≥1 reply from us ÷ inbound. First response = first reply − message, "
        "clock hours (business hours: the median in them), median and p90 of answered "
        "messages; last column: change of the median. "
        "Within target = answered within target ÷ due, in the target's calendar: clock, or "
        f"business hours ({business_hours_text(r.brand.business_hours)}, holidays off; "
        f"{business})."
    )
    return _table(columns, rows, contract, "No inbound messages in this window.", r.by_channel)


CALL_ROWS: tuple[tuple[str, str, str], ...] = (
    ("offered_calls", "Offered (reached the queue)", "count"),
    ("served_calls", "Served", "count"),
    ("abandoned_calls", "Abandoned in the queue", "count"),
    ("ivr_calls", "Ended in the IVR (not offered)", "count"),
    ("abandonment_rate", "Abandonment rate", "percent"),
    ("service_level", "Service level", "percent"),
    ("asa_s", "Average speed of answer", "duration"),
    ("aht_s", "Average handle time", "duration"),
)
"""The rows of the calls table: ``metrics.call_summary`` field, label, format kind."""


def call_figures(r: Report) -> list[dict]:
    """``metrics.call_summary`` of the window and of each comparison window, as records
    (counts, the ``*_calls`` fields, scaled to the window's days); {} for a window that
    holds no call, offered or ended in the IVR."""
    out = []
    for period in (r.period, *(c.period for c in r.comparisons)):
        frame = r.window_summary("calls", period)
        record = {k: None if fmt.is_missing(v) else v for k, v in frame.iloc[0].items()}
        if not (record["offered_calls"] or record["ivr_calls"]):
            out.append({})
            continue
        scale = r.period.days / period.days
        out.append(
            {
                k: v * scale if k.endswith("_calls") and v is not None else v
                for k, v in record.items()
            }
        )
    return out


def calls_table(r: Report) -> HTML:
    """Call-centre figures (offered, served, abandoned, IVR, rates, ASA, handle time) with
    their change against each comparison window."""
    now, *before = call_figures(r)
    formats = {"count": fmt.count, "percent": fmt.percent, "duration": fmt.duration}
    rows = [
        {
            "what": label,
            "value": formats[kind](now.get(key)) if now else "—",
            **{f"c{i}": fmt.change_text(now.get(key), b.get(key), kind) if now and b else "—"
               for i, b in enumerate(before)},
        }
        for key, label, kind in CALL_ROWS
    ]  # fmt: skip
    columns = [
        _Col("what", "Calls"), _Col("value", r.window_text(), True),
        *(_Col(f"c{i}", f"vs {c.label}", True) for i, c in enumerate(r.comparisons)),
    ]  # fmt: skip
    calls = r.brand.calls
    contract = (
        "Phone calls: offered = reached the agent queue (served + abandoned); calls ending "
        "in the IVR are counted apart; abandonment = abandoned ÷ offered; service level = "
        f"served within {calls.service_level_threshold_s:.0f} s ÷ (served + abandoned after "
        f"{calls.short_abandon_s:.0f} s); speed of answer = mean queue wait of served calls; "
        "handle time = mean talk time of served calls; counts compared per day; "
        f"{r.window_text()}"
    )
    if not now:
        rows = []
    return _table(columns, rows, contract, empty="No phone calls in this window.")


def frt_chart(r: Report) -> alt.Chart:
    """Median and p90 first response per channel against each channel's target."""
    frame = r.by_channel.dropna(subset=["frt_median_s"])
    contract = f"First reply − message, clock hours, answered messages, {r.window_text()}"
    return charts.frt_by_channel(frame, r.brand.sla_targets_s, contract)


def sentiment_trend(r: Report, width: int = charts.WIDTH) -> alt.Chart:
    """Net sentiment per day over the trend window, ``width`` pixels wide; per ISO week
    when the window is longer than ``charts.WEEKLY_AFTER_DAYS`` days."""
    start, end = r.trend_window
    weekly = (end - start).days > charts.WEEKLY_AFTER_DAYS
    grain = "week" if weekly else "day"
    contract = (
        f"(positive − negative) ÷ (positive + negative) × 100 per local {grain}, customer "
        f"messages and mentions; band: 90% sampling interval; {sentiment_method(r)}"
    )
    if weekly:
        days = metrics.sentiment_summary(
            r.ours, start, end, ["week"], r.period.timezone, r.calibration
        )
        days = days.assign(day=[_week_start(w) for w in days["week"]])
    else:
        days = r.daily_voices
    days = days.assign(
        chance_low=(days["net_sentiment"] - days["net_chance"]).clip(-100, 100),
        chance_high=(days["net_sentiment"] + days["net_chance"]).clip(-100, 100),
    )
    return charts.trend(
        days, "net_sentiment", "Net sentiment (points)", contract,
        annotations=r.notes, width=width, band=("chance_low", "chance_high"), grain=grain,
    )  # fmt: skip


def trends(r: Report) -> alt.HConcatChart:
    """Net sentiment and inbound volume side by side (compact, for the daily brief)."""
    return charts.side_by_side(sentiment_trend(r, charts.HALF_WIDTH), volume_chart(r))


def volume_chart(r: Report) -> alt.Chart:
    """Inbound messages per day and channel over the trend window."""
    contract = "Inbound messages and calls per local day, by channel"
    return charts.volume_by_channel(r.daily_volume, contract)


def summary(r: Report) -> dict:
    """What a manifest and an e-mail carry: figures, KPI texts, sentences, rows per channel.

    Plain JSON values only.
    """
    days = r.daily_volume["day"].dt.date  # the trend window holds the period
    inside = r.daily_volume[(days >= r.period.first_day) & (days <= r.period.last_day)]
    rows = inside.groupby("channel", as_index=False)["total"].sum()
    return {
        "headline_figures": {
            k: (float(v) if isinstance(v, int | float) else v) for k, v in r.current.items()
        },
        "headlines": sentences(r),
        "kpis": [
            {
                "key": k.key,
                "label": k.label,
                "value": k.value_text,
                "change": k.change_text,
                "target": k.target_text,
                "meets_target": k.meets_target,
            }
            for k in kpis(r)
        ],
        "comparison": r.comparisons[0].label,
        "recorded_figures": recorded_figures(r),
        "restatements": history.restatement_rows(r.restatements),
        "rows_by_channel": {
            str(c): int(n) for c, n in zip(rows["channel"], rows["total"], strict=True)
        },
    }


COUNT_LABELS = {"answered": "Answered messages", "offered_calls": "Calls offered",
                "reviews": "Reviews"}  # fmt: skip
"""Labels of the headline counts that have no KPI tile."""


def recorded_figures(r: Report) -> list[dict]:
    """The headline figures of the report's own window as published (``history.record``):
    key, label, kind and value of each KPI and count."""
    shown = [(key, label, kind) for key, label, kind, _ in KPI_FIELDS]
    shown += [(k, COUNT_LABELS[k], "count") for k in COUNT_FIELDS if k in COUNT_LABELS]
    return [
        {"key": key, "label": label, "kind": kind, "value": r.current.get(key)}
        for key, label, kind in shown
    ]


def _brands(r: Report) -> list[str]:
    return [r.brand.brand, *r.brand.competitors]


BENCHMARK_BARS = 12
"""Brands drawn in the benchmark chart besides ours and the named competitors."""


def benchmark_chart(r: Report) -> alt.Chart:
    """Median first response of our brand, our named competitors and the fastest others."""
    frame = metrics.response_benchmark(r.table, r.period.start, r.period.end)
    named = frame["brand"].isin(_brands(r))
    shown = frame[named | (frame["rank"] <= BENCHMARK_BARS)]
    contract = (
        f"First reply − message, clock hours, median of answered inbound messages, "
        f"{r.window_text()}; {len(shown)} of {len(frame)} brands with at least 10 inbound "
        "messages: ours, our competitors and the fastest others"
    )
    frame = shown
    return charts.ranking_bars(
        frame,
        "brand",
        "frt_median_s",
        "Median first response",
        contract,
        highlight=r.brand.brand,
        kind="duration",
    )


def benchmark_table(r: Report) -> HTML:
    """Competitor response ranking: response rate and first response per brand."""
    frame = metrics.response_benchmark(r.table, r.period.start, r.period.end)
    rows = [
        {
            "rank": str(int(x.rank)),
            "brand": x.brand,
            "inbound": fmt.count(x.inbound),
            "rate": fmt.percent(x.response_rate),
            "median": fmt.duration(x.frt_median_s),
            "p90": fmt.duration(x.frt_p90_s),
            "_class": "cx-ours" if x.brand == r.brand.brand else "",
        }
        for x in frame.itertuples()
    ]
    columns = [
        _Col("rank", "Rank", True), _Col("brand", "Brand"), _Col("inbound", "Inbound", True),
        _Col("rate", "Answered", True), _Col("median", "Median first response", True),
        _Col("p90", "p90", True),
    ]  # fmt: skip
    excluded = frame.attrs.get("excluded", 0)
    contract = (
        "Ranked by median first response, then response rate; answered = ≥1 reply from the "
        f"brand ÷ inbound; clock hours; {r.window_text()}"
        + (f"; {excluded} brands with fewer than 10 inbound messages left out" if excluded else "")
    )
    return _table(columns, rows, contract, "No brand has enough inbound messages.", frame)


def share_of_voice_chart(r: Report) -> alt.Chart:
    """Our share of all public mentions of us and the competitor set."""
    frame = metrics.share_of_voice(r.table, r.period.start, r.period.end, _brands(r))
    contract = (
        "Mentions of the brand (inbound messages and public mentions, all channels but "
        f"phone) ÷ mentions of all brands listed in params, {r.window_text()}"
    )
    return charts.ranking_bars(
        frame,
        "brand",
        "share",
        "Share of voice",
        contract,
        highlight=r.brand.brand,
        kind="percent",
    )


def survey_table(r: Report) -> HTML:
    """NPS and CSAT of the window, overall and by the channel of the contact rated, with
    their 90 % intervals and the NPS change on the comparison window."""
    start, end = r.period.start, r.period.end
    before = r.comparison
    overall = r.window_summary("survey", r.period).assign(rated_channel="All channels")
    by_channel = metrics.nps_by_channel(r.ours, start, end)
    previous = metrics.nps_by_channel(r.ours, before.start, before.end)
    previous = dict(zip(previous["rated_channel"], previous["nps"], strict=True))
    previous["All channels"] = r.previous.get("nps")
    rows = [
        {
            "channel": str(x.rated_channel).capitalize(),
            "responses": fmt.count(x.responses),
            "nps": fmt.points(x.nps),
            "range": "—" if fmt.is_missing(x.nps_low) else f"{x.nps_low:+.0f} to {x.nps_high:+.0f}",
            "split": "—"
            if not x.nps_responses
            else f"{x.promoters / x.nps_responses:.0%} / {x.detractors / x.nps_responses:.0%}",
            "change": fmt.change_text(x.nps, previous.get(x.rated_channel), "points"),
            "csat": fmt.percent(x.csat),
        }
        for x in pd.concat([overall, by_channel], ignore_index=True).itertuples()
        if x.responses
    ]
    columns = [
        _Col("channel", "Contact rated"), _Col("responses", "Responses", True),
        _Col("nps", "NPS", True), _Col("range", "90% interval", True),
        _Col("split", "Promoters / detractors", True),
        _Col("change", f"NPS vs {r.comparisons[0].label}", True), _Col("csat", "CSAT", True),
    ]  # fmt: skip
    contract = (
        f"Survey responses received {r.window_text()}, by the channel of the contact they "
        f"rate. {SURVEY_CONTRACT} Fewer than 2 answers: no interval."
    )
    return _table(columns, rows, contract, empty="No survey responses in this window.")


def nps_trend(r: Report) -> alt.Chart:
    """NPS per week over the trend window, with its 90 % interval as a band."""
    start, end = r.trend_window
    frame = metrics.survey_summary(r.ours, start, end, by=["week"], tz=r.period.timezone)
    frame = frame.assign(day=[_week_start(w) for w in frame["week"]])
    contract = "NPS of the survey answers received each ISO week (points, 90% interval band)"
    return charts.trend(
        frame,
        "nps",
        "NPS",
        contract,
        annotations=r.notes,
        grain="week",
        band=("nps_low", "nps_high"),
    )


def review_trend(r: Report) -> alt.Chart:
    """Mean review stars per week over the trend window."""
    start, end = r.trend_window
    frame = metrics.review_summary(r.ours, start, end, by=["week"], tz=r.period.timezone)
    frame = frame.assign(day=[_week_start(w) for w in frame["week"]])
    contract = "Mean stars of reviews published each ISO week (1–5)"
    return charts.trend(
        frame, "mean_rating", "Mean stars", contract, annotations=r.notes, grain="week"
    )


def _week_start(label: str) -> pd.Timestamp:
    year, week = label.split("-W")
    return pd.Timestamp(dt.date.fromisocalendar(int(year), int(week), 1))


def last_periods(r: Report, count: int) -> list[periods.Period]:
    """The last ``count`` periods of the report's kind, oldest first, ending with this one."""
    return [periods.previous(r.period, n) for n in range(count - 1, -1, -1)]


def reputation_periods(r: Report) -> list[periods.Period]:
    """The last ``history_periods`` (params) periods of the report's kind."""
    return last_periods(r, r.cadence_params.history_periods)


def reputation_contract(r: Report) -> str:
    """How the reputation index is made, with the weights in force."""
    w = r.brand.reputation_weights
    return (
        "Index 0–100 = weighted blend of net sentiment (−100..100 → 0..100; sentiment engine "
        f"{r.sentiment_engine}), mean review "
        "stars (1..5 → 0..100), answered within target (%)"
        + (" and survey NPS (−100..100 → 0..100)" if w.nps > 0 else "")
        + f"; weights {w.net_sentiment:g} / {w.review_stars:g} / {w.sla_attainment:g}"
        + (f" / {w.nps:g}" if w.nps > 0 else "")
        + "; a missing part is left out and the other weights rescaled"
    )


def reputation_chart(r: Report) -> alt.Chart:
    """The reputation index and its three parts over the last periods of the cadence."""
    return _reputation_chart(r, r.reputation)


def reputation_table(r: Report) -> HTML:
    """The index and its parts per period, with the change on the period before and on the
    same period a year before (``periods.year_ago``), when the table holds it."""
    return _reputation_table(r, r.reputation, reputation_periods(r))


def quarters_held(r: Report) -> list[periods.Period]:
    """The whole (fiscal) quarters the warehouse holds, from the first that starts on or
    after our first interaction, to the one the report ends in, oldest first; the report's
    own quarters always (a part quarter before them would be compared with whole ones)."""
    tz, fiscal = r.period.timezone, r.brand.fiscal_year_start_month
    first = r.ours.created_at.min().execute()
    start = r.period.first_day if first is None else pd.Timestamp(first).tz_convert(tz).date()
    quarters = periods.spanning(
        "quarterly", min(start, r.period.first_day), r.period.last_day, tz, fiscal
    )
    return [q for q in quarters if q.first_day >= start or q.last_day >= r.period.first_day]


def reputation_quarters_chart(r: Report) -> alt.Chart:
    """The reputation index and its parts by quarter over every year the warehouse holds."""
    return _reputation_chart(r, r.reputation_by_quarter)


def reputation_quarters_table(r: Report) -> HTML:
    """The index and its parts by quarter over the years held, with the change on the
    quarter before and on the same quarter a year before."""
    return _reputation_table(r, r.reputation_by_quarter, quarters_held(r))


def _reputation_chart(r: Report, frame: pd.DataFrame) -> alt.Chart:
    parts = ("net_sentiment", "review_stars", "sla_attainment")
    parts += ("nps",) if r.brand.reputation_weights.nps > 0 else ()
    frame = frame[["label", "index", *(f"{p}_score" for p in parts)]]
    frame = frame.rename(columns={f"{p}_score": p for p in parts})
    return charts.reputation_trend(frame, reputation_contract(r))


def _reputation_table(r: Report, frame: pd.DataFrame, held: list[periods.Period]) -> HTML:
    """``frame`` (``reputation_by_period`` of the periods ``held``) newest first, with the
    change on the row before and on the same period a year earlier when it is a row."""
    index_by_label = dict(zip(frame["label"], frame["index"], strict=True))
    rows = []
    for i, (x, period) in enumerate(zip(frame.itertuples(), held, strict=True)):
        before = None if i == 0 else frame["index"].iloc[i - 1]
        year = index_by_label.get(periods.year_ago(period).label)
        rows.append(
            {
                "label": x.label,
                "index": fmt.count(x.index) if not fmt.is_missing(x.index) else "—",
                "qoq": "—" if before is None else fmt.change_text(x.index, before, "points"),
                "yoy": "—" if year is None else fmt.change_text(x.index, year, "points"),
                "sent": fmt.points(x.net_sentiment),
                "stars": fmt.stars(x.mean_rating),
                "sla": fmt.percent(x.sla_attainment),
                "nps": fmt.points(x.nps),
            }
        )
    columns = [
        _Col("label", "Period"), _Col("index", "Index", True), _Col("qoq", "vs previous", True),
        _Col("yoy", "vs a year before", True), _Col("sent", "Net sentiment", True),
        _Col("stars", "Review stars", True), _Col("sla", "Within target", True),
    ]  # fmt: skip
    if r.brand.reputation_weights.nps > 0:
        columns.append(_Col("nps", "NPS", True))
    return _table(columns, rows[::-1], reputation_contract(r), "No data in these periods.", frame)


def sla_heatmap(r: Report) -> alt.Chart:
    """Answered within target by the hour of the week the customer wrote: when do we fail?"""
    start, end = r.trend_window
    frame = metrics.sla_by_hour_of_week(
        r.ours, start, end, r.period.timezone, r.brand.sla_targets_s,
        business_hours=r.brand.business_hours, business_targets=r.brand.business_targets,
    )  # fmt: skip
    contract = (
        "Answered within the channel target ÷ messages due, by local weekday and hour the "
        f"message arrived; clock hours; {_window_of(r, start, end)}"
    )
    return charts.hour_of_week_heatmap(frame, "sla_attainment", "Within target", contract)


def _window_of(r: Report, start: pd.Timestamp, end: pd.Timestamp) -> str:
    tz = r.period.timezone
    last = (end - pd.Timedelta(seconds=1)).tz_convert(tz)
    return f"{start.tz_convert(tz):%d %b} – {last:%d %b %Y}"


def wait_chart(r: Report) -> alt.Chart:
    """How long customers waited for a first human answer, phone and social on one scale."""
    frame = metrics.customer_wait(
        r.ours, r.period.start, r.period.end, calls=r.brand.calls, tz=r.period.timezone
    )
    contract = (
        "Messages: first reply − message; calls: queue wait of served calls; median and p90 "
        "of answered contacts, clock time; unanswered = no reply by the window's end, or "
        f"abandoned; {r.window_text()}"
    )
    return charts.wait_by_channel(frame, contract)


def themes_contract(r: Report) -> str:
    """How the themes were made and counted, for the contract line."""
    s = r.theme_setup
    who = negative_messages(r) if s.settings.scope == "negative" else "Inbound messages"
    fit = (
        "no fit yet (cxpulse themes fit)"
        if s.model is None
        else f"fitted on {s.model.messages:,} of them, {s.model.first_day} – {s.model.last_day}"
    )
    return (
        f"Themes: {who}, text cleaned of handles, URLs, masks and brand names; NMF on TF-IDF "
        f"of words and word pairs, {fit}; a message joins the theme its words are most like "
        f"(cosine ≥ {s.settings.min_similarity:g}), else other; pinned themes "
        "(params/themes.yaml) by their phrases first. Share = ÷ all such messages of the "
        f"window; change = messages ÷ expected from {r.comparisons[0].label} (scaled to this "
        "window's days); new = first found since then. First response: median of answered "
        "messages, clock hours. Net sentiment within the theme: mean class probabilities, "
        f"not bias-corrected; {r.window_text()}"
    )


THEME_ROWS = 10
"""Themes listed in a report (the most messages first); "other" always."""


def _change(x) -> str:
    if x.status == "new" or (fmt.is_missing(x.change) and x.messages):
        return "new"
    return "—" if fmt.is_missing(x.change) else f"×{x.change:.1f}"


def themes_table(r: Report) -> HTML:
    """What customers say is broken: themes ranked by messages, with their share, change,
    channels, first response, net sentiment and example messages."""
    frame = r.theme_frame
    named = frame[frame["theme_id"] != themes.OTHER].head(THEME_ROWS)
    frame = pd.concat([named, frame[frame["theme_id"] == themes.OTHER]])
    rows = [
        {
            "label": x.label,
            "status": x.status,
            "messages": fmt.count(x.messages),
            "share": fmt.percent(x.share),
            "change": _change(x),
            "channels": x.channels if isinstance(x.channels, str) else "—",
            "frt": fmt.duration(x.frt_median_s),
            "net": fmt.points(x.net_sentiment),
            "examples": [
                (i, _clip(t, 160)) for i, t in zip(x.example_ids, x.example_texts, strict=True)
            ][: 2 if x.theme_id == themes.OTHER else 3],
        }
        for x in frame[frame["messages"] > 0].itertuples()
    ]
    columns = [
        _Col("label", "Theme"), _Col("messages", "Messages", True),
        _Col("share", "Share", True), _Col("change", f"vs {r.comparisons[0].label}", True),
        _Col("channels", "Channels"), _Col("frt", "Median first response", True),
        _Col("net", "Net sentiment", True),
    ]  # fmt: skip
    empty = (
        f"No themes fitted for {r.brand.brand}: run 'cxpulse themes fit'."
        if r.theme_setup.model is None and not r.theme_setup.taxonomy.pinned
        else "No negative message in this window."
    )
    contract = themes_contract(r)
    html = _render("themes.html.j2", columns=columns, rows=rows, contract=contract, empty=empty)
    numbers = frame.drop(columns=["example_texts"]).assign(
        example_ids=frame["example_ids"].map(lambda ids: ", ".join(map(str, ids)))
    )
    return Section(html, {"": numbers, "members": theme_members(r)}, contract)


def theme_members(r: Report) -> ibis.Table:
    """Every message of the themes' scope in the window with its theme: id, theme_id,
    label (``metrics.themes.theme_members``), for a report's figures export: an
    expression the export has the engine write (``figures.write_parquet``)."""
    s = r.theme_setup
    return theme_metrics.theme_members(
        r.ours, s.model, r.period.start, r.period.end, r.brand.brand, s.taxonomy, s.names,
        s.settings.scope, r.brand.sentiment.negative_probability,
    )  # fmt: skip


TREND_THEMES = 6
"""Themes drawn in the trend chart: the largest of the window."""


def themes_trend_chart(r: Report) -> alt.Chart:
    """Messages of the window's largest themes per period over the last eight periods
    (quarters, or weeks for a weekly), every period assigned with the same fit."""
    grain = "quarter" if r.cadence == "quarterly" else "week"
    span = last_periods(r, 8 if grain == "quarter" else 13)
    s = r.theme_setup
    frame = theme_metrics.theme_trend(
        r.ours, s.model, span[0].start, r.period.end, r.brand.brand, grain,
        r.period.timezone, s.taxonomy, s.names, s.settings.scope,
        r.brand.sentiment.negative_probability,
    )  # fmt: skip
    named = r.theme_frame[r.theme_frame["theme_id"] != themes.OTHER]
    shown = frame[frame["theme_id"].isin(named["theme_id"].head(TREND_THEMES))]
    contract = (
        f"Messages of each theme per {grain} (the {TREND_THEMES} largest of this window), "
        f"all assigned with the fit of this report; {_window_of(r, span[0].start, r.period.end)}"
    )
    return charts.theme_trend(shown, grain, contract)


def spend_chart(r: Report) -> alt.Chart:
    """Each channel's share of contacts beside its share of the cost of handling them."""
    frame = metrics.volume_vs_spend(
        r.ours, r.period.start, r.period.end, r.brand.brand, r.brand.costs_per_contact
    )
    contract = (
        "Contacts = inbound messages (calls: offered + IVR) ÷ all contacts; cost = contacts × "
        f"cost per contact (params) ÷ cost of all channels with a cost; {r.window_text()}"
    )
    return charts.volume_vs_spend(frame, contract)


def boundaries_table(r: Report) -> HTML:
    """Our messages to customers who had opted out of contact (should be none)."""
    from cxpulse.customers import load_opt_out

    opted_out = load_opt_out(r.params.params_dir, r.brand)
    frame = metrics.opt_out_breaches(
        r.table, r.period.start, r.period.end, r.brand.brand, opted_out
    )
    tz = r.period.timezone
    rows = [
        {"id": x.id, "when": _local(x.created_at, tz), "channel": x.channel,
         "author": x.author_id, "text": _clip(x.text)}
        for x in frame.itertuples()
    ]  # fmt: skip
    columns = [
        _Col("id", "Id"), _Col("when", "Sent"), _Col("channel", "Channel"),
        _Col("author", "Customer"), _Col("text", "Message"),
    ]  # fmt: skip
    contract = (
        f"Our outbound messages to a customer on the opt-out list ({r.brand.opt_out_file or 'none'}"
        f", {len(opted_out)} customers) sent after they opted out; {r.window_text()}"
    )
    return _table(columns, rows, contract, "No message went to a customer who opted out.", frame)


def alerts_of_period(r: Report) -> HTML:
    """Complaint spikes that ended in the window, beside the analysts' notes of the window."""
    spikes = r.spikes
    first = pd.Timestamp(r.period.first_day)
    if len(spikes):
        spikes = spikes[pd.to_datetime(spikes["end_day"]) >= first]
    notes = r.notes[r.notes["day"] >= first]
    rows = [
        {
            "when": f"{x.start_day:%d %b} – {x.end_day:%d %b}",
            "what": f"Complaint spike: ~{fmt.count(x.peak_negative)} negative messages at peak "
            f"({x.peak_day:%d %b}) against a usual {fmt.count(x.baseline_median)}",
            "severity": f"{x.severity:.1f}",
            "note": "; ".join(
                n.text for n in notes.itertuples() if x.start_day <= n.day <= x.end_day
            ),
        }
        for x in spikes.itertuples()
    ]
    rows += [
        {"when": f"{n.day:%d %b}", "what": f"Note ({n.channel})", "severity": "",
         "note": n.text}
        for n in notes.itertuples()
    ]  # fmt: skip
    columns = [
        _Col("when", "Days"), _Col("what", "Alert"), _Col("severity", "Severity (z)", True),
        _Col("note", "Analyst's note"),
    ]  # fmt: skip
    contract = (
        "Spike: a day whose estimated negative messages (messages × estimated negative "
        "share) have robust z ≥ 3 against the trailing 28 days (median and MAD) and number "
        f"at least 20; one row per episode; {sentiment_method(r)}. Notes: "
        f"params/annotations.yaml; {r.window_text()}"
    )
    return _table(
        columns, rows, contract, "No spike and no note in this window.",
        {"spikes": spikes, "notes": notes},
    )  # fmt: skip


def engagement_table(r: Report) -> HTML:
    """Engagement on our own posts, per channel."""
    frame = metrics.engagement_rate(
        r.table, r.period.start, r.period.end, r.brand.brand, by=["channel"]
    )
    rows = [
        {
            "channel": str(x.channel).capitalize(),
            "posts": fmt.count(x.posts),
            "reach": fmt.count(x.reach),
            "engagements": fmt.count(x.engagements),
            "rate": "—" if fmt.is_missing(x.engagement_rate) else f"{x.engagement_rate:.2f}%",
        }
        for x in frame.sort_values("reach", ascending=False).itertuples()
    ]
    columns = [
        _Col("channel", "Channel"), _Col("posts", "Posts", True), _Col("reach", "Reach", True),
        _Col("engagements", "Likes + comments + shares", True), _Col("rate", "Engagement", True),
    ]  # fmt: skip
    contract = (
        "Our posts (outbound, not replies); engagement = (likes + comments + shares) ÷ reach "
        f"× 100, over posts with a reported reach; {r.window_text()}"
    )
    return _table(columns, rows, contract, "We published no posts in this window.", frame)


def volume_heatmap(r: Report) -> alt.Chart:
    """Inbound messages and calls by the hour of the week: when customers reach us."""
    start, end = r.trend_window
    frame = metrics.inbound_by_hour_of_week(r.ours, start, end, r.period.timezone)
    contract = (
        "Inbound messages, reviews and calls by local weekday and hour of arrival; "
        f"{_window_of(r, start, end)}"
    )
    return charts.hour_of_week_heatmap(
        frame, "inbound", "Inbound contacts", contract, percent=False
    )


def business_impact(r: Report) -> HTML:
    """Churn and monthly revenue at risk by how customers' complaints were handled."""
    from cxpulse.customers import load_customers

    contract = (
        "Customers (brand.yaml customers_file) by their complaints (inbound messages with "
        f"p(negative) ≥ {_negative(r):g}, {r.sentiment_engine}) in the window: failed = "
        "unanswered or answered after the channel target; "
        "churn rate = left in the window ÷ customers; revenue at risk = monthly plan value "
        f"of those still with us; {r.window_text()}"
    )
    if r.brand.customers_file is None:
        return _table(
            [], [], contract, empty="No customer file configured (brand.yaml customers_file)."
        )
    customers = load_customers(r.params.params_dir / r.brand.customers_file, r.period.timezone)
    frame = metrics.churn_by_care(r.table, customers, r.period.start, r.period.end, r.brand)
    labels = {
        "failed": "Complaint failed",
        "in_time": "Answered in time",
        "no_complaint": "No complaint",
    }
    rows = [
        {
            "care": labels.get(x.care, x.care),
            "customers": fmt.count(x.customers),
            "churned": fmt.count(x.churned),
            "rate": fmt.percent(x.churn_rate, 1),
            "risk": fmt.count(x.revenue_at_risk),
        }
        for x in frame.itertuples()
    ]
    columns = [
        _Col("care", "Customers whose…"), _Col("customers", "Customers", True),
        _Col("churned", "Left", True), _Col("rate", "Churn rate", True),
        _Col("risk", "Revenue at risk / month", True),
    ]  # fmt: skip
    return _table(columns, rows, contract, "No customer in the file.", frame)


def _watch_log(r: Report) -> list[dict]:
    """The lines of the watch log (``cxpulse watch``) of the project: ``reports/`` beside
    the params folder; none when watch never ran."""
    from cxpulse.watch.command import read_log

    return read_log(Path(r.params.params_dir).resolve().parent / "reports")


def watch_alerts(r: Report) -> HTML:
    """The alerts ``cxpulse watch`` sent in the window, with what came of each, under their
    own heading; nothing at all on a day without any (the brief keeps its two pages)."""
    from cxpulse.watch.history import alerts_of

    alerts = alerts_of(_watch_log(r), r.period.start, r.period.end)
    if alerts.empty:
        return HTML("")
    rows = [
        {"at": _local(a.at, r.period.timezone), "what": _clip(a.title),
         "severity": a.severity, "lists": a.lists, "outcome": a.outcome}
        for a in alerts.itertuples()
    ]  # fmt: skip
    columns = [
        _Col("at", "Sent"), _Col("what", "Alert"), _Col("severity", "Severity"),
        _Col("lists", "Told"), _Col("outcome", "Outcome"),
    ]  # fmt: skip
    contract = (
        "Alerts and escalations e-mailed between reports by cxpulse watch (params/alerts.yaml; "
        "reports/alerts/log.jsonl), one per episode; outcome: how long after the alert the "
        f"brand answered its messages, or how long the episode lasted; {r.window_text()}"
    )
    table = _table(columns, rows, contract, empty="")
    html = _render("titled.html.j2", title="Alerts between reports", body=table.data)
    return Section(html, table.cx_tables, table.cx_contract)


def watch_alert_counts(r: Report) -> HTML:
    """How many alerts ``cxpulse watch`` sent in the window, per rule."""
    from cxpulse.watch.history import alert_counts

    counts = alert_counts(_watch_log(r), r.period.start, r.period.end)
    rows = [
        {"rule": c.rule, "episodes": fmt.count(c.episodes),
         "notifications": fmt.count(c.notifications), "escalations": fmt.count(c.escalations),
         "answered": fmt.duration(None if pd.isna(c.answered_median_min)
                                  else c.answered_median_min * 60)}
        for c in counts.itertuples()
    ]  # fmt: skip
    columns = [
        _Col("rule", "Rule"), _Col("episodes", "Episodes", True),
        _Col("notifications", "Notifications", True), _Col("escalations", "Escalated", True),
        _Col("answered", "Answered after alert (median)", True),
    ]  # fmt: skip
    contract = (
        "cxpulse watch (params/alerts.yaml; reports/alerts/log.jsonl): episodes alerted, "
        "notifications sent (one per list), items escalated, median time from an alert to "
        f"the brand's answer of its messages; {r.window_text()}"
    )
    return _table(
        columns, rows, contract, empty="No alert between reports in this window.", data=counts
    )


CAPTURED = figures.capture_sections(globals())
"""Every section of this module: what each shows is kept on its Report (``figures``)."""
