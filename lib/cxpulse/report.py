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

from cxpulse import charts, config, metrics, periods, themes, themes_command, warehouse
from cxpulse import formatting as fmt
from cxpulse.metrics import themes as theme_metrics
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

TREND_DAYS = {"daily": 28, "weekly": 35}
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
)
COUNT_FIELDS = ("inbound", "answered", "offered_calls", "reviews")
KPI_INTERVALS = {"net_sentiment": ("net_low", "net_high")}
"""Headline fields that are estimates -> the fields of their 90 % interval."""
KPI_CHANCE = {"net_sentiment": "net_chance"}
"""Headline fields that are estimates -> the field of their sampling half-width."""


def _render(template: str, **context) -> HTML:
    return HTML(_TEMPLATES.get_template(template).render(**context))


def _table(columns: list, rows: list[dict], contract: str, empty: str) -> HTML:
    """A section table: ``columns`` (_Col), formatted ``rows``, contract line, empty text."""
    return _render("table.html.j2", columns=columns, rows=rows, contract=contract, empty=empty)


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


def comparisons_for(cadence: str, period: periods.Period) -> tuple[Comparison, ...]:
    """Daily: the prior 7 and 28 days. Weekly: the previous week, the previous four weeks
    and the same ISO week last year. Quarterly: the previous quarter and a year earlier."""
    if cadence == "daily":
        return (
            Comparison("prior 7-day average", periods.trailing(period, 7)),
            Comparison("prior 28-day average", periods.trailing(period, 28)),
        )
    if cadence == "weekly":
        return (
            Comparison("previous week", periods.previous(period)),
            Comparison("previous 4 weeks", periods.trailing(period, 28)),
            Comparison("same week last year", periods.year_ago(period)),
        )
    return (
        Comparison("previous quarter", periods.previous(period)),
        Comparison("same quarter last year", periods.year_ago(period)),
    )


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
    warehouse_path: Path | None = None
    """The warehouse file: the themes' fits live beside it (``themes_command.fits_dir``)."""

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

    @cached_property
    def current(self) -> dict:
        return _headline_record(self.ours, self.period, self.brand, self.calibration)

    @cached_property
    def baselines(self) -> list[dict]:
        """Headline figures of each comparison window, counts scaled to this window's days."""
        out = []
        for comparison in self.comparisons:
            record = _headline_record(self.ours, comparison.period, self.brand, self.calibration)
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
    def by_channel(self) -> pd.DataFrame:
        """Response figures per channel now and in the comparison window, with targets."""
        now = metrics.response_summary(
            self.ours,
            self.period.start,
            self.period.end,
            by=["channel"],
            sla_targets=self.brand.sla_targets_s,
        )
        before = metrics.response_summary(
            self.ours,
            self.comparison.start,
            self.comparison.end,
            by=["channel"],
            sla_targets=self.brand.sla_targets_s,
        )
        merged = now.merge(
            before[["channel", "frt_median_s", "response_rate"]],
            on="channel",
            how="left",
            suffixes=("", "_prev"),
        )
        merged["target_s"] = merged["channel"].map(self.brand.sla_targets_s)
        return merged.sort_values("inbound", ascending=False, ignore_index=True)

    @cached_property
    def reputation(self) -> pd.DataFrame:
        """Reputation index and its parts over the last eight periods (oldest first)."""
        records = [self.current, *self.baselines]  # rates: the same scaled or not
        windows = [self.period, *(c.period for c in self.comparisons)]
        known = {p.label: record for p, record in zip(windows, records, strict=True) if record}
        return metrics.reputation_by_period(
            self.table, reputation_periods(self), self.brand, known, self.calibration
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
    def trend_window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The window of trend charts: 28 days (daily), 5 weeks (weekly), 2 quarters."""
        days = TREND_DAYS.get(self.cadence)
        if days:
            first = self.period.last_day - dt.timedelta(days=days - 1)
            start = periods.period_for("daily", first, self.period.timezone).start
            return start, self.period.end
        return periods.previous(self.period).start, self.period.end

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
        full = periods.period_for(self.cadence, self.period.first_day, self.period.timezone)
        return self.period.last_day < full.last_day

    def window_text(self, period: periods.Period | None = None) -> str:
        p = period or self.period
        if p.first_day == p.last_day:
            return f"{p.first_day:%a %d %b %Y}"
        return f"{p.first_day:%d %b} – {p.last_day:%d %b %Y}"


def _headline_record(
    t: ibis.Table,
    period: periods.Period,
    brand: config.BrandParams,
    calibration: Calibration | None,
) -> dict:
    """Our headline figures in ``period``; {} when the window holds no data at all, so a
    comparison says "no comparison data" instead of a change from zero."""
    frame = metrics.headline(t, period.start, period.end, brand, calibration=calibration)
    if frame.empty:
        return {}
    record = frame.iloc[0].to_dict()
    volumes = [record.get(k) for k in ("inbound", "offered_calls", "reviews")]
    if all(fmt.is_missing(v) or v == 0 for v in volumes):
        return {}
    return {k: (None if fmt.is_missing(v) else v) for k, v in record.items()}


def open_report(
    cadence: str, as_of: str | None, warehouse_path: str | Path, params_dir: str | Path
) -> Report:
    """Validate params, resolve the window (``resolve_period``) and open the data."""
    params = config.load_report_params(cadence, Path(params_dir))
    tz = params.brand.timezone
    con = warehouse.connect(Path(warehouse_path), read_only=True)
    try:
        _, latest = warehouse.data_range(con)
    finally:
        con.close()
    period = config.resolve_period(cadence, as_of, latest, tz)
    return Report(
        cadence=cadence,
        period=period,
        comparisons=comparisons_for(cadence, period),
        params=params,
        table=metrics.open_table(Path(warehouse_path)),
        warehouse_path=Path(warehouse_path),
    )


def _interval(record: dict, key: str) -> tuple[float, float] | None:
    """The 90 % interval of headline field ``key`` in ``record``, if it is an estimate."""
    fields = KPI_INTERVALS.get(key)
    return None if fields is None or not record else tuple(record.get(f) for f in fields)


def kpis(r: Report) -> list[Kpi]:
    """The headline figures with their comparison values, targets and, for estimates,
    their 90 % intervals now and in the comparison window."""
    targets = r.brand.kpi_targets.model_dump()
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
        out.append({"kpi": k, "others": others})
    return out


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
    )
    expected = r.daily_voices[["day", "expected_negative"]]  # see daily_series: not PACC
    spikes = metrics.negative_spikes(expected.rename(columns={"expected_negative": "negative"}))
    reviews = metrics.worst_reviews(r.ours, r.period.start, r.period.end, r.brand.brand, limit=2)
    reviews = reviews[reviews["rating"] <= 2]
    viral = metrics.viral_negatives(
        r.ours, start, r.period.end, limit=2, negative_probability=_negative(r)
    )
    return ActionLists(urgent, spikes, reviews, viral)


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
            "title": "Complaint spikes in the trend window",
            "columns": [
                _Col("days", "Days"),
                _Col("peak", "Peak negative / day", True),
                _Col("base", "Usual", True),
                _Col("sev", "Severity (z)", True),
            ],
            "rows": [
                {
                    "days": f"{x.start_day:%d %b} – {x.end_day:%d %b}",
                    "peak": fmt.count(x.peak_negative),
                    "base": fmt.count(x.baseline_median),
                    "sev": f"{x.severity:.1f}",
                }
                for x in lists.spikes.itertuples()
            ],
            "empty": "No spike in negative messages in the trend window.",
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
        "with robust z ≥ 3 against the trailing 28 days. Reviews: 1–2 stars in the window. "
        f"Posts: negative posts (p(negative) ≥ {_negative(r):g}) of the last 7 days, by the "
        f"reach the channel reports. Themes: new since the last fit, or ≥ "
        f"×{theme_metrics.RISING:g} the {r.comparisons[0].label}, with ≥ "
        f"{theme_metrics.MIN_COUNT} negative messages. Sentiment engine {r.sentiment_engine}."
    )
    return _render("action.html.j2", groups=groups, contract=contract)


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
        action = action_sentence(len(urgent), past_sla, len(r.actions.spikes))
    return headline_sentences(kpis(r), r.by_channel, action=action)


def headlines(r: Report) -> HTML:
    """The headline sentences as a list."""
    return _render("headlines.html.j2", sentences=sentences(r))


def kpi_tiles(r: Report) -> HTML:
    """Value, change against the comparison window, and target for each headline figure."""
    contract = (
        f"Window {r.window_text()} ({r.period.timezone}); counts compared per day. Response: "
        "inbound messages (all channels but phone) with ≥1 reply from us ÷ inbound; first "
        "response in clock hours, median of answered messages; within target = answered "
        "within the channel target ÷ messages due. Net sentiment = (positive − negative) ÷ "
        "(positive + negative) × 100 of customer messages and mentions, with its 90% "
        f"interval; {sentiment_method(r)}. Call service "
        f"level = served within {r.brand.calls.service_level_threshold_s:.0f} s ÷ (served + "
        f"abandoned after {r.brand.calls.short_abandon_s:.0f} s); abandoned ÷ offered."
    )
    return _render(
        "tiles.html.j2", tiles=tiles(r), comparison=r.comparisons[0].label, contract=contract
    )


def response_table(r: Report) -> HTML:
    """Response rate, first response and target attainment per channel."""
    rows = [
        {
            "channel": x.channel.capitalize(),
            "inbound": fmt.count(x.inbound),
            "rate": fmt.percent(x.response_rate),
            "median": fmt.duration(x.frt_median_s),
            "p90": fmt.duration(x.frt_p90_s),
            "target": fmt.duration(x.target_s),
            "sla": fmt.percent(x.sla_attainment),
            "change": fmt.change_text(x.frt_median_s, x.frt_median_s_prev, "duration"),
            "_class": "cx-miss"
            if not fmt.is_missing(x.target_s)
            and not fmt.is_missing(x.frt_median_s)
            and x.frt_median_s > x.target_s
            else "",
        }
        for x in r.by_channel.itertuples()
    ]
    columns = [
        _Col("channel", "Channel"),
        _Col("inbound", "Inbound", True),
        _Col("rate", "Answered", True),
        _Col("median", "Median first response", True),
        _Col("p90", "p90", True),
        _Col("target", "Target", True),
        _Col("sla", "Within target", True),
        _Col("change", f"Median vs {r.comparisons[0].label}", True),
    ]
    contract = (
        f"Inbound messages received {r.window_text()}; replies counted until the window's "
        "end. Answered = ≥1 reply from us ÷ inbound. First response = first reply − message, "
        "clock hours; median and 90th percentile of answered messages. Within target = "
        "answered within the channel target ÷ messages due."
    )
    return _table(columns, rows, contract, empty="No inbound messages in this window.")


def frt_chart(r: Report) -> alt.Chart:
    """Median and p90 first response per channel against each channel's target."""
    frame = r.by_channel.dropna(subset=["frt_median_s"])
    contract = f"First reply − message, clock hours, answered messages, {r.window_text()}"
    return charts.frt_by_channel(frame, r.brand.sla_targets_s, contract)


def sentiment_trend(r: Report, width: int = charts.WIDTH) -> alt.Chart:
    """Net sentiment per day over the trend window, ``width`` pixels wide."""
    contract = (
        "(positive − negative) ÷ (positive + negative) × 100 per local day, customer "
        f"messages and mentions; band: 90% sampling interval; {sentiment_method(r)}"
    )
    days = r.daily_voices
    days = days.assign(
        chance_low=(days["net_sentiment"] - days["net_chance"]).clip(-100, 100),
        chance_high=(days["net_sentiment"] + days["net_chance"]).clip(-100, 100),
    )
    return charts.trend(
        days, "net_sentiment", "Net sentiment (points)", contract,
        annotations=r.notes, width=width, band=("chance_low", "chance_high"),
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
        "rows_by_channel": {
            str(c): int(n) for c, n in zip(rows["channel"], rows["total"], strict=True)
        },
    }


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
    return _table(columns, rows, contract, empty="No brand has enough inbound messages.")


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


def reputation_periods(r: Report, count: int = 8) -> list[periods.Period]:
    """The last ``count`` periods of the report's cadence, oldest first, ending with this one."""
    out = [r.period]
    while len(out) < count:
        out.insert(0, periods.previous(out[0]))
    return out


def reputation_contract(r: Report) -> str:
    """How the reputation index is made, with the weights in force."""
    w = r.brand.reputation_weights
    return (
        "Index 0–100 = weighted blend of net sentiment (−100..100 → 0..100; sentiment engine "
        f"{r.sentiment_engine}), mean review "
        "stars (1..5 → 0..100) and answered within target (%); weights "
        f"{w.net_sentiment:g} / {w.review_stars:g} / {w.sla_attainment:g}; a missing part "
        "is left out and the other weights rescaled"
    )


def reputation_chart(r: Report) -> alt.Chart:
    """The reputation index and its three parts over eight periods."""
    parts = ("net_sentiment", "review_stars", "sla_attainment")
    frame = r.reputation[["label", "index", *(f"{p}_score" for p in parts)]]
    frame = frame.rename(columns={f"{p}_score": p for p in parts})
    return charts.reputation_trend(frame, reputation_contract(r))


def reputation_table(r: Report) -> HTML:
    """The index and its parts per period, with the change on the period before and a year
    before (four quarters back)."""
    frame = r.reputation
    rows = []
    for i, x in enumerate(frame.itertuples()):
        before = frame.iloc[i - 1] if i >= 1 else None
        year = frame.iloc[i - 4] if i >= 4 and r.cadence == "quarterly" else None
        rows.append(
            {
                "label": x.label,
                "index": fmt.count(x.index) if not fmt.is_missing(x.index) else "—",
                "qoq": fmt.change_text(
                    x.index, None if before is None else before["index"], "points"
                ),
                "yoy": fmt.change_text(x.index, None if year is None else year["index"], "points"),
                "sent": fmt.points(x.net_sentiment),
                "stars": fmt.stars(x.mean_rating),
                "sla": fmt.percent(x.sla_attainment),
            }
        )
    columns = [
        _Col("label", "Period"), _Col("index", "Index", True), _Col("qoq", "vs previous", True),
        _Col("yoy", "vs a year before", True), _Col("sent", "Net sentiment", True),
        _Col("stars", "Review stars", True), _Col("sla", "Within target", True),
    ]  # fmt: skip
    return _table(columns, rows[::-1], reputation_contract(r), empty="No data in these periods.")


def sla_heatmap(r: Report) -> alt.Chart:
    """Answered within target by the hour of the week the customer wrote: when do we fail?"""
    start, end = r.trend_window
    frame = metrics.sla_by_hour_of_week(
        r.ours, start, end, r.period.timezone, r.brand.sla_targets_s
    )
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
    return _render(
        "themes.html.j2", columns=columns, rows=rows, contract=themes_contract(r), empty=empty
    )


def theme_members(r: Report) -> pd.DataFrame:
    """Every message of the themes' scope in the window with its theme: id, theme_id,
    label (``metrics.themes.theme_members``), for a report's figures export."""
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
    history = reputation_periods(r, 8 if grain == "quarter" else 13)
    s = r.theme_setup
    frame = theme_metrics.theme_trend(
        r.ours, s.model, history[0].start, r.period.end, r.brand.brand, grain,
        r.period.timezone, s.taxonomy, s.names, s.settings.scope,
        r.brand.sentiment.negative_probability,
    )  # fmt: skip
    named = r.theme_frame[r.theme_frame["theme_id"] != themes.OTHER]
    shown = frame[frame["theme_id"].isin(named["theme_id"].head(TREND_THEMES))]
    contract = (
        f"Messages of each theme per {grain} (the {TREND_THEMES} largest of this window), "
        f"all assigned with the fit of this report; {_window_of(r, history[0].start, r.period.end)}"
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
    return _table(columns, rows, contract, empty="No message went to a customer who opted out.")


def alerts_of_period(r: Report) -> HTML:
    """Complaint spikes that ended in the window, beside the analysts' notes of the window."""
    spikes = r.actions.spikes
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
    return _table(columns, rows, contract, empty="No spike and no note in this window.")


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
    return _table(columns, rows, contract, empty="We published no posts in this window.")


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
    return _table(columns, rows, contract, empty="No customer in the file.")
