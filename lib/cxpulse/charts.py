"""Altair chart builders with one executive theme, and the renderer the reports display with.

Importing this module registers and enables the ``cxpulse`` theme and the ``cxpulse``
renderer. A displayed chart then carries three representations: the Vega-Lite spec (the
interactive HTML report embeds it with vega-embed), a static SVG made by vl-convert (the
PDF, which runs no JavaScript) and a one-line text alternative (title and description).

Builders are pure: a small frame in, an ``alt.Chart`` out. Each chart has a title, a
``description`` for screen readers, tooltips, and a subtitle holding its metric contract
(formula, denominator, calendar, window) as given by the caller. A frame without rows
(or without values) gives a chart that says so under the same title, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import textwrap

import altair as alt
import pandas as pd

from cxpulse import formatting as fmt
from cxpulse.kernel import DEFER_SVG

VEGALITE_MIME_TYPE = f"application/vnd.vegalite.{alt.SCHEMA_VERSION.split('.')[0]}+json"
"""The Vega-Lite spec's mimetype. Altair 6.3 spells it ``...v6.json``, which nbformat does
not accept as JSON (only ``application/[...+]json`` may hold a dict): a notebook holding
it fails validation, so the spec travels under the ``+json`` spelling."""
VL_VERSION = "_".join(alt.SCHEMA_VERSION.split(".")[:2])
"""The Vega-Lite version Altair writes, in vl-convert's spelling (``v6_4``)."""

FONT = '"Helvetica Neue", Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif'
INK = "#1f2328"
MUTED = "#6e7781"
GRID = "#e8eaed"
BRAND = "#0072B2"
"""Our brand: Okabe-Ito blue."""
TARGET = "#D55E00"
"""Targets and thresholds: Okabe-Ito vermillion."""
COMPETITOR_GREYS = ["#8c959f", "#afb8c1", "#c9d1d9", "#d8dee4"]
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]
"""Colour-blind-safe categories (Okabe and Ito 2008), the hard-to-see yellow left out."""
OTHER = "#bdbdbd"
NO_DATA = "#f6f8fa"
"""Cells and slots without data: the report's light wash."""
WIDTH = 560
SUBTITLE_CHARS = 110
"""Contract lines wrap at this many characters so they stay within the chart's width."""
WEEKLY_AFTER_DAYS = 60
"""Daily bars over a longer span are too thin to read: ``volume_by_channel`` shows weeks."""
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@alt.theme.register("cxpulse", enable=True)
def cxpulse_theme() -> alt.theme.ThemeConfig:
    """Clean sans-serif, light grid, no frame, left-aligned titles with a grey subtitle."""
    axis = {
        "labelColor": MUTED,
        "labelFontSize": 11,
        "titleColor": MUTED,
        "titleFontSize": 11,
        "titleFontWeight": "normal",
        "gridColor": GRID,
        "domainColor": "#c9d1d9",
        "tickColor": "#c9d1d9",
    }
    return {
        "config": {
            "background": "white",
            "font": FONT,
            "padding": {"left": 0, "top": 4, "right": 8, "bottom": 4},
            "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 220},
            "title": {
                "anchor": "start",
                "color": INK,
                "fontSize": 15,
                "fontWeight": 600,
                "subtitleColor": MUTED,
                "subtitleFontSize": 11,
                "subtitlePadding": 4,
                "offset": 14,
            },
            "axis": axis,
            "axisBand": {"grid": False, "ticks": False, "domain": False, "labelPadding": 6},
            "legend": {
                "orient": "top",
                "labelColor": INK,
                "labelFontSize": 11,
                "titleColor": MUTED,
                "titleFontSize": 11,
                "titleFontWeight": "normal",
                "symbolSize": 80,
            },
            "range": {"category": OKABE_ITO},
            "bar": {"color": BRAND, "cornerRadiusEnd": 2},
            "line": {"color": BRAND, "strokeWidth": 2},
            "point": {"color": BRAND},
            "text": {"color": INK, "fontSize": 11},
        }
    }


def text_alternative(spec: dict) -> str:
    """The chart's title and description as one line: the text/plain alternative."""
    title = spec.get("title", "")
    if isinstance(title, dict):
        title = title.get("text", "")
    parts = [str(title).strip(), str(spec.get("description", "")).strip()]
    return ". ".join(p.rstrip(".") for p in parts if p) + "."


def render_mimebundle(spec: dict, **metadata) -> dict:
    """Altair renderer: the Vega-Lite spec, a static SVG (unless ``DEFER_SVG``) and a text
    alternative."""
    bundle = {VEGALITE_MIME_TYPE: spec, "text/plain": text_alternative(spec)}
    if os.environ.get(DEFER_SVG) != "1":
        bundle["image/svg+xml"] = svg_of(spec)
    return bundle


def svg_of(spec: dict) -> str:
    """The chart ``spec`` drawn as a static SVG (vl-convert; for print and e-mail), its
    element ids made its own (``own_ids``). vl-convert is imported here: a kernel that
    defers its SVG (``DEFER_SVG``) never loads it (14 MB)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    digest = hashlib.md5(json.dumps(spec, sort_keys=True).encode(), usedforsecurity=False)
    return own_ids(svg, f"c{digest.hexdigest()[:8]}-")


def own_ids(svg: str, prefix: str) -> str:
    """``svg`` with every element id, and every reference to one, prefixed by ``prefix``.

    vl-convert numbers the ids of each drawing from 0 (``gradient_0``, ``clip3``): two
    charts inlined in one page then share ids, and a PDF fills one chart's legend or clips
    its marks with the other's."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    names = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    svg = re.sub(rf'\bid="({names})"', rf'id="{prefix}\1"', svg)
    return re.sub(rf'(url\(#|href="#)({names})([)"])', rf"\g<1>{prefix}\2\3", svg)


def with_static_charts(outputs: list[dict]) -> int:
    """Add the static SVG to each chart output (``VEGALITE_MIME_TYPE``) of ``outputs``
    (notebook output dicts, changed in place) that has none; the number added."""
    missing = [o["data"] for o in outputs if VEGALITE_MIME_TYPE in o.get("data", {})]
    missing = [data for data in missing if "image/svg+xml" not in data]
    for data in missing:
        data["image/svg+xml"] = svg_of(data[VEGALITE_MIME_TYPE])
    return len(missing)


def warm_up() -> None:
    """Draw a one-point chart to SVG: vl-convert's first conversion in a process starts its
    JavaScript engine and loads Vega-Lite (0.3 s or more), which then serves every chart."""
    svg_of({"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}})


alt.renderers.register("cxpulse", render_mimebundle)
alt.renderers.enable("cxpulse")


def _title(text: str, contract: str) -> alt.Title:
    return alt.Title(text, subtitle=textwrap.wrap(contract, SUBTITLE_CHARS) or [""])


def _is_empty(frame: pd.DataFrame, *columns: str) -> bool:
    """True when ``frame`` has no rows, or no value in any of ``columns``."""
    if frame is None or frame.empty:
        return True
    present = [c for c in columns if c in frame.columns]
    return bool(columns) and (not present or frame[present].isna().all().all())


def _no_data(title: str, contract: str, text: str = "No data in this window.") -> alt.Chart:
    """The chart a builder returns for an empty frame: its title, contract and ``text``."""
    return (
        alt.Chart(pd.DataFrame({"text": [text]}))
        .mark_text(align="left", baseline="middle", x=0, color=MUTED, fontSize=13)
        .encode(text="text:N")
        .properties(title=_title(title, contract), description=text, width=WIDTH, height=40)
    )


def _plot_width(labels: list[str], label_limit: int) -> int:
    """The plot width that keeps a chart with these y labels within ``WIDTH`` + 70 px
    overall (about 6 px a character at the theme's 11 px labels)."""
    label_px = min(label_limit, 6 * max((len(s) for s in labels), default=0) + 8)
    return max(320, min(WIDTH, WIDTH + 70 - label_px))


def _missing_muted(field: str) -> dict:
    """Text colour: ink where ``field`` has a value, muted where it is missing."""
    return alt.condition(f"isValid(datum.{field})", alt.value(INK), alt.value(MUTED))


def _js(value: object) -> str:
    """``value`` as a literal in a Vega expression."""
    return json.dumps(value)


def _channel_axis(frame: pd.DataFrame, by: str, worst_first_descending: bool) -> alt.Y:
    order = frame.sort_values(by, ascending=not worst_first_descending)["channel"].tolist()
    return alt.Y("channel:N", sort=order, title=None)


def frt_by_channel(
    frame: pd.DataFrame, targets: dict[str, float], contract: str
) -> alt.LayerChart | alt.Chart:
    """Median first response time per channel (bar), its p90 (dark tick) and target (tick).

    ``frame`` has columns channel, frt_median_s, frt_p90_s; ``targets`` maps channel to
    seconds; a channel without a target is drawn without one. Slowest channel on top.
    """
    title = "First response time by channel"
    if _is_empty(frame, "frt_median_s", "frt_p90_s"):
        return _no_data(title, contract, "No answered message in this window.")
    wide = frame.assign(
        median_h=frame["frt_median_s"] / 3600,
        p90_h=frame["frt_p90_s"] / 3600,
        target_h=frame["channel"].map(targets) / 3600,
    )[["channel", "median_h", "p90_h", "target_h"]]
    measures = {"median_h": "Median", "p90_h": "90th percentile", "target_h": "Target"}
    data = (
        wide.melt(id_vars="channel", var_name="measure")
        .dropna(subset=["value"])
        .assign(measure=lambda f: f["measure"].map(measures))
        .merge(wide, on="channel")
    )
    base = alt.Chart(data).encode(
        y=_channel_axis(wide, "median_h", worst_first_descending=True),
        x=alt.X("value:Q", title="Hours to first response"),
        color=alt.Color(
            "measure:N",
            title=None,
            scale=alt.Scale(domain=list(measures.values()), range=[BRAND, INK, TARGET]),
            legend=alt.Legend(symbolType="square", symbolOpacity=1),
        ),
        tooltip=[
            alt.Tooltip("channel:N", title="Channel"),
            alt.Tooltip("median_h:Q", title="Median (h)", format=".1f"),
            alt.Tooltip("p90_h:Q", title="90th percentile (h)", format=".1f"),
            alt.Tooltip("target_h:Q", title="Target (h)", format=".1f"),
        ],
    )
    bars = base.transform_filter("datum.measure == 'Median'").mark_bar(height={"band": 0.6})
    p90 = base.transform_filter("datum.measure == '90th percentile'").mark_tick(
        thickness=2, bandSize=18, opacity=1
    )
    target = base.transform_filter("datum.measure == 'Target'").mark_tick(
        thickness=3, bandSize=22, opacity=1
    )
    return alt.layer(bars, p90, target).properties(
        title=_title(title, contract),
        description=(
            "Horizontal bars of median hours to first response per channel, slowest first, "
            "with the 90th percentile and the channel target as ticks."
        ),
        width=WIDTH,
    )


def sla_by_channel(frame: pd.DataFrame, contract: str) -> alt.LayerChart | alt.Chart:
    """Share of inbound answered within the channel target (bars, as %), worst on top.

    ``frame`` has columns channel, sla_attainment (a fraction in [0, 1]).
    """
    title = "SLA attainment by channel"
    if _is_empty(frame, "sla_attainment"):
        return _no_data(title, contract, "No message was due in this window.")
    data = frame[["channel", "sla_attainment"]]
    y = _channel_axis(data, "sla_attainment", worst_first_descending=False)
    base = alt.Chart(data).encode(
        y=y,
        x=alt.X(
            "sla_attainment:Q",
            title="Answered within target",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=[
            alt.Tooltip("channel:N", title="Channel"),
            alt.Tooltip("sla_attainment:Q", title="Within target", format=".1%"),
        ],
    )
    bars = base.mark_bar(height={"band": 0.6})
    labels = base.mark_text(align="left", dx=4).encode(
        text=alt.Text("sla_attainment:Q", format=".0%")
    )
    return alt.layer(bars, labels).properties(
        title=_title(title, contract),
        description="Horizontal bars of the share of inbound messages answered within the "
        "channel target, lowest first.",
        width=WIDTH,
    )


def _days(frame: pd.DataFrame) -> pd.DataFrame:
    """``day`` as naive datetimes: Vega reads them as local midnight, so no day shifts."""
    return frame.assign(day=pd.to_datetime(frame["day"]))


def _day_axis(days: pd.Series) -> alt.Axis:
    """Date labels that never collide: each day up to 10 days, Mondays up to 10 weeks, then
    the first of each month."""
    first, last = days.min(), days.max()
    span = (last - first).days + 1
    if span <= 10:
        ticks = pd.date_range(first, last)
    elif span <= 70:
        ticks = pd.date_range(first, last, freq="W-MON")
    else:
        ticks = pd.date_range(first, last, freq="MS")
    return alt.Axis(
        format="%-d %b",
        grid=False,
        values=[alt.DateTime(year=t.year, month=t.month, date=t.day) for t in ticks],
        labelOverlap=True,
    )


LABEL_CHAR_PX = 6.2
"""Width of one character of an 11 px annotation label, in pixels (a generous average)."""


def _label_layout(
    notes: pd.DataFrame, first: pd.Timestamp, span_days: int, width: int
) -> pd.DataFrame:
    """Where each annotation label goes (``notes`` in day order: day, text), so that no
    two overlap and none runs off the plot (``width`` pixels for ``span_days`` days from
    ``first``).

    A label of n characters is ``LABEL_CHAR_PX`` x n + 8 pixels wide. It reads rightwards
    from its rule when it fits there, else leftwards when it fits there, else it is cut
    (with "…") to the wider side. Each takes the first text row where it clears the
    labels already there. Columns: label (the text shown), row (0 = top), right (True:
    reads leftwards, ending at its rule).
    """
    ends: list[float] = []  # per row: the right end, in pixels, of its last label
    labels, rows, right = [], [], []
    for day, text in zip(notes["day"], notes["text"], strict=True):
        x = (day - first).days / max(span_days, 1) * width
        label = str(text)
        size = LABEL_CHAR_PX * len(label) + 8
        leftwards = x + size > width and (size <= x or x > width - x)
        room = x if leftwards else width - x
        if size > room:
            label = label[: max(int((room - 8) / LABEL_CHAR_PX) - 1, 1)].rstrip() + "…"
            size = LABEL_CHAR_PX * len(label) + 8
        start = x - size if leftwards else x
        row = next((i for i, end in enumerate(ends) if start > end), len(ends))
        if row == len(ends):
            ends.append(-1.0)
        ends[row] = x if leftwards else x + size
        labels.append(label)
        rows.append(row)
        right.append(leftwards)
    return pd.DataFrame({"label": labels, "row": rows, "right": right}, index=notes.index)


def _series_color(frame: pd.DataFrame, column: str, highlight: str | None) -> alt.Color:
    if highlight is None:
        return alt.Color(f"{column}:N", title=None)
    others = sorted(v for v in frame[column].dropna().unique() if v != highlight)
    greys = [COMPETITOR_GREYS[i % len(COMPETITOR_GREYS)] for i in range(len(others))]
    return alt.Color(
        f"{column}:N",
        title=None,
        scale=alt.Scale(domain=[highlight, *others], range=[BRAND, *greys]),
    )


def trend(
    frame: pd.DataFrame,
    y: str,
    y_title: str,
    contract: str,
    color: str | None = None,
    annotations: pd.DataFrame | None = None,
    highlight: str | None = None,
    grain: str = "day",
    width: int = WIDTH,
    band: tuple[str, str] | None = None,
) -> alt.Chart | alt.LayerChart:
    """A line of ``y`` over ``day``, one line per value of ``color`` when given, ``width``
    pixels wide.

    ``grain`` names what one point is ("day", or "week" when ``day`` holds week starts).
    ``band`` names the columns (low, high) of an interval around ``y`` (one line only),
    drawn as a light band under the line: a 90 % interval.

    ``highlight`` names the ``color`` value drawn in the brand colour (our brand); the
    others are grey. ``annotations`` (columns day, text) become labelled vertical rules;
    labels that would overlap stack and a label near the right edge reads leftwards
    (``_label_layout``), on a white halo so the lines under them don't hide them. Days
    carry points up to ``WEEKLY_AFTER_DAYS`` days.
    """
    subject = f"{y_title} per {grain}" + (f" by {color.replace('_', ' ')}" if color else "")
    title = subject[0].upper() + subject[1:]
    if _is_empty(frame, y):
        return _no_data(title, contract)
    data = _days(frame)
    span = (data["day"].max() - data["day"].min()).days + 1
    tooltip = [alt.Tooltip("day:T", title=grain.capitalize(), format="%a %d %b %Y")]
    if color:
        tooltip.append(alt.Tooltip(f"{color}:N", title=color.replace("_", " ").capitalize()))
    tooltip.append(alt.Tooltip(f"{y}:Q", title=y_title, format=",.4~r"))
    if band:
        tooltip += [alt.Tooltip(f"{b}:Q", title=f"90% {end}", format=",.0f")
                    for b, end in zip(band, ("low", "high"), strict=True)]  # fmt: skip
    point = alt.OverlayMarkDef(size=14, filled=True) if span <= WEEKLY_AFTER_DAYS else False
    many = bool(color) and frame[color].nunique() > 4
    line = (
        alt.Chart(data)
        .mark_line(point=point, strokeWidth=1.5 if many else 2)
        .encode(
            x=alt.X("day:T", title=None, axis=_day_axis(data["day"])),
            y=alt.Y(f"{y}:Q", title=y_title),
            tooltip=tooltip,
        )
    )
    if color:
        line = line.encode(color=_series_color(frame, color, highlight))
    layers = [line]
    if band:
        low, high = band
        area = (
            alt.Chart(data)
            .mark_area(color=BRAND, opacity=0.15)
            .encode(x="day:T", y=alt.Y(f"{low}:Q"), y2=alt.Y2(f"{high}:Q"), tooltip=tooltip)
        )
        layers.insert(0, area)
    notes = None
    if annotations is not None and len(annotations):
        notes = _days(annotations).sort_values("day", ignore_index=True)
        notes = notes.join(_label_layout(notes, data["day"].min(), span, width))
        base = alt.Chart(notes).encode(
            x="day:T", tooltip=[alt.Tooltip("day:T", title="Day", format="%d %b"), "text:N"]
        )
        layers.append(base.mark_rule(color=TARGET, strokeDash=[4, 3]))
        text = {
            "align": alt.expr("datum.right ? 'right' : 'left'"),
            "baseline": "top",
            "dx": alt.expr("datum.right ? -4 : 4"),
            "y": 2,
            "dy": alt.expr("datum.row * 14"),
        }
        halo = base.mark_text(**text, stroke="white", strokeWidth=3, strokeJoin="round")
        layers.append(halo.encode(text="label:N"))
        layers.append(base.mark_text(**text, color=TARGET).encode(text="label:N"))
    noted = (
        "; annotated: "
        + "; ".join(f"{d:%d %b} {t}" for d, t in zip(notes["day"], notes["text"], strict=True))
        if notes is not None
        else ""
    )
    return alt.layer(*layers).properties(
        title=_title(title, contract),
        description=f"Line chart of {y_title.lower()} per day"
        + (f", one line per {color.replace('_', ' ')}" if color else "")
        + (f", {highlight} highlighted" if highlight else "")
        + (", in a shaded 90% interval" if band else "")
        + noted
        + ".",
        width=width,
    )


def volume_by_channel(
    frame: pd.DataFrame, contract: str, top: int = 6
) -> alt.LayerChart | alt.Chart:
    """Inbound messages per day, stacked by channel (columns day, channel, inbound).

    The ``top`` channels by total inbound get their own colour; the rest are summed as
    "other", so every colour on the chart stays distinguishable. Days without any inbound
    are drawn as empty slots, not skipped. Over more than ``WEEKLY_AFTER_DAYS`` days the
    bars are ISO weeks (Monday to Sunday; the tooltip says how many of a week's days fall
    in the span: partial first and last weeks are paler and labelled "3 of 7 days").
    """
    if _is_empty(frame, "inbound"):
        return _no_data("Inbound volume by channel", contract)
    totals = frame.groupby("channel")["inbound"].sum().sort_values(ascending=False)
    kept = totals.index[:top].tolist()
    order = kept + (["other"] if len(totals) > top else [])
    grid = (
        _days(frame)
        .assign(channel=frame["channel"].where(frame["channel"].isin(kept), "other"))
        .pivot_table(index="day", columns="channel", values="inbound", aggfunc="sum")
    )
    every_day = pd.date_range(grid.index.min(), grid.index.max())
    wide = grid.reindex(index=every_day, columns=order, fill_value=0).fillna(0)
    weekly = len(every_day) > WEEKLY_AFTER_DAYS
    days_in = pd.Series(1, index=every_day)
    if weekly:
        monday = every_day - pd.to_timedelta(every_day.day_of_week, unit="D")
        wide, days_in = wide.groupby(monday).sum(), days_in.groupby(monday).sum()
    data = (
        wide.rename_axis(index="day", columns=None)
        .reset_index()
        .melt(id_vars="day", var_name="channel", value_name="inbound")
        .assign(
            channel_rank=lambda f: f["channel"].map(order.index),
            days=lambda f: f["day"].map(days_in),
        )
    )
    unit = "week" if weekly else "day"
    tooltip = [
        alt.Tooltip("day:T", title="Week of" if weekly else "Day", format="%a %d %b %Y"),
        alt.Tooltip("channel:N", title="Channel"),
        alt.Tooltip("inbound:Q", title="Inbound", format=","),
    ]
    if weekly:
        tooltip.append(alt.Tooltip("days:Q", title="Days in the span"))
    x = alt.X(
        "yearmonthdate(day):O",
        title="Week starting" if weekly else None,
        axis=alt.Axis(
            format="%-d %b", labelAngle=0, labelOverlap="greedy", labelSeparation=12, ticks=False
        ),
    )
    bars = (
        alt.Chart(data)
        .mark_bar(width={"band": 0.85})
        .encode(
            x=x,
            y=alt.Y("inbound:Q", stack="zero", title=f"Inbound messages per {unit}"),
            color=alt.Color(
                "channel:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[*OKABE_ITO[: len(kept)], OTHER]),
            ),
            order=alt.Order("channel_rank:Q"),
            tooltip=tooltip,
        )
    )
    if weekly:
        bars = bars.encode(opacity=alt.condition("datum.days < 7", alt.value(0.45), alt.value(1)))
    partial = (
        data.groupby("day", as_index=False)
        .agg(inbound=("inbound", "sum"), days=("days", "first"))
        .query("days < 7")
        .assign(note=lambda f: f["days"].astype(int).astype(str) + " of 7 days")
    )
    notes = (
        alt.Chart(partial)
        .mark_text(baseline="bottom", dy=-3, fontSize=10, color=MUTED)
        .encode(x=x, y="inbound:Q", text="note:N")
    )
    layers = [bars, notes] if weekly and len(partial) else [bars]
    return alt.layer(*layers).properties(
        title=_title("Inbound volume by channel", contract),
        description=f"Stacked bars of inbound messages per {unit}, one colour per channel, "
        "largest channel at the bottom"
        + (
            "; paler bars are partial weeks: "
            + ", ".join(
                f"week of {d:%d %b} {n}"
                for d, n in zip(partial["day"], partial["note"], strict=True)
            )
            if weekly and len(partial)
            else ""
        )
        + ".",
        width=WIDTH,
    )


HEATMAP_COUNTS = ("inbound", "due", "met", "sla_due", "sla_met")
"""Counts shown in a heatmap cell's tooltip when the frame has them."""


def hour_of_week_heatmap(
    frame: pd.DataFrame, value: str, value_title: str, contract: str, percent: bool = True
) -> alt.LayerChart | alt.Chart:
    """``value`` by weekday (rows, Mon to Sun) and local hour (columns, 0 to 23).

    ``frame`` has columns weekday (0 = Monday .. 6 = Sunday), hour (0-23) and ``value``;
    optionally the counts behind it for the tooltip (due and met, or sla_due and sla_met,
    and inbound). ``percent``: ``value`` is a fraction in [0, 1] (e.g. SLA attainment) on
    a fixed 0-100% scale whose low end is darkest, so the hours that miss stand out;
    otherwise a count whose high end is darkest. Cells without a value stay blank.
    """
    title = f"{value_title} by hour of the week"
    if _is_empty(frame, value):
        return _no_data(title, contract)
    counts = [c for c in HEATMAP_COUNTS if c in frame.columns and c != value]
    cells = frame.dropna(subset=[value]).astype({"weekday": int, "hour": int})
    data = cells[["weekday", "hour", value, *counts]].assign(
        day=lambda f: f["weekday"].map(dict(enumerate(WEEKDAYS))),
        hours=lambda f: [f"{h:02d}:00–{(h + 1) % 24:02d}:00" for h in f["hour"]],
    )
    blank = pd.DataFrame(
        [(WEEKDAYS[d], h) for d in range(7) for h in range(24)], columns=["day", "hour"]
    )
    x = alt.X(
        "hour:O",
        title="Hour of day (local time)",
        scale=alt.Scale(domain=list(range(24)), paddingInner=0.08),
        axis=alt.Axis(labelAngle=0, ticks=False, domain=False),
    )
    y = alt.Y(
        "day:O",
        title=None,
        scale=alt.Scale(domain=WEEKDAYS, paddingInner=0.08),
        axis=alt.Axis(ticks=False, domain=False),
    )
    if percent:
        scale = alt.Scale(domain=[0, 1], scheme={"name": "orangered", "extent": [1, 0.12]})
        # Swatches, not a gradient: WeasyPrint draws this scale's gradient wrongly once the
        # chart is scaled to the page (no bar, squeezed labels).
        legend = alt.Legend(
            format=".0%", type="symbol", symbolType="square", values=[0, 0.25, 0.5, 0.75, 1]
        )
        number = ".1%"
    else:
        scale = alt.Scale(scheme={"name": "blues", "extent": [0.15, 1]}, zero=True)
        legend = alt.Legend(format=",d", gradientLength=200, tickCount=4)
        number = ","
    tooltip = [
        alt.Tooltip("day:N", title="Day"),
        alt.Tooltip("hours:N", title="Hour"),
        alt.Tooltip(f"{value}:Q", title=value_title, format=number),
        *(
            alt.Tooltip(f"{c}:Q", title=c.replace("sla_", "").capitalize(), format=",")
            for c in counts
        ),
    ]
    background = alt.Chart(blank).mark_rect(color=NO_DATA).encode(x=x, y=y)
    heat = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color(f"{value}:Q", title=value_title, scale=scale, legend=legend),
            tooltip=tooltip,
        )
    )
    fmt_value = fmt.percent if percent else fmt.count
    low = data.loc[data[value].idxmin()]
    high = data.loc[data[value].idxmax()]
    return alt.layer(background, heat).properties(
        title=_title(title, contract),
        description=f"Heatmap of {value_title.lower()} by weekday (rows, Monday to Sunday) and "
        f"local hour (columns, 0 to 23); {len(data)} of 168 hours have data, darker is "
        f"{'lower' if percent else 'higher'}. Lowest {low['day']} {low['hours']} "
        f"({fmt_value(low[value])}); highest {high['day']} {high['hours']} "
        f"({fmt_value(high[value])}).",
        width=WIDTH,
        height=7 * 22,
    )


DURATION_UNITS = (("s", 1), ("min", 60), ("h", 3600), ("d", 86400))


def _duration_unit(seconds: float) -> tuple[str, int]:
    """The unit an axis up to ``seconds`` reads best in: s, min, h or d."""
    if seconds < 120:
        return DURATION_UNITS[0]
    if seconds < 2 * 3600:
        return DURATION_UNITS[1]
    if seconds < 3 * 86400:
        return DURATION_UNITS[2]
    return DURATION_UNITS[3]


RANKING_LABEL_PX = 220
"""Longer category labels (issue phrases) are cut with an ellipsis; the tooltip has them."""
RANKING_COUNTS = ("inbound", "answered", "mentions")
"""Counts shown in a ranking's tooltip when the frame has them (the denominators)."""


def ranking_bars(
    frame: pd.DataFrame,
    category: str,
    value: str,
    value_title: str,
    contract: str,
    highlight: str | None = None,
    kind: str = "percent",
    title: str | None = None,
) -> alt.LayerChart | alt.Chart:
    """Horizontal bars of ``value`` per ``category``, best first, labelled at the bar ends.

    ``kind`` says what ``value`` is and how it reads (``formatting.FORMATS``): percent (a
    fraction), duration (seconds; shortest first, axis in s, min, h or d from the data's
    range), count or points (highest first). ``highlight`` (our brand) is drawn in the
    brand colour with a bold label, the others grey; without it every bar is brand blue.
    Rows without a value keep their place at the bottom, labelled "no data".
    """
    title = title or f"{value_title} by {category.replace('_', ' ')}"
    if _is_empty(frame, value):
        return _no_data(title, contract)
    counts = [c for c in RANKING_COUNTS if c in frame.columns and c != value]
    data = frame[[category, value, *counts]].sort_values(
        value, ascending=kind == "duration", na_position="last", ignore_index=True
    )
    data[category] = data[category].astype(str)
    data["label"] = ["no data" if fmt.is_missing(v) else fmt.FORMATS[kind](v) for v in data[value]]
    axis_title, axis_format = value_title, {"percent": "%", "count": ",d", "points": "d"}.get(kind)
    divisor = 1
    if kind == "duration":
        unit, divisor = _duration_unit(data[value].max())
        axis_title, axis_format = f"{value_title} ({unit})", "~r"
    data["x"] = data[value] / divisor
    data["at"] = data["x"].fillna(0)
    lo, hi = min(0.0, data["x"].min()), max(0.0, data["x"].max())
    pad = 0.14 * (hi - lo or 1)
    x_scale = alt.Scale(domain=[lo - pad if lo < 0 else 0, hi + pad], nice=False)
    order = data[category].tolist()
    mine = f"datum.value === {_js(highlight)}"
    y = alt.Y(
        f"{category}:N",
        sort=order,
        title=None,
        axis=alt.Axis(
            labelLimit=RANKING_LABEL_PX,
            labelFontWeight=alt.expr(f"{mine} ? 'bold' : 'normal'"),
            labelColor=alt.expr(f"{mine} ? {_js(INK)} : {_js(MUTED)}"),
        ),
    )
    if highlight is None:
        color = alt.value(BRAND)
    else:
        color = alt.condition(
            alt.datum[category] == highlight, alt.value(BRAND), alt.value(COMPETITOR_GREYS[0])
        )
    tooltip = [
        alt.Tooltip(f"{category}:N", title=category.replace("_", " ").capitalize()),
        alt.Tooltip("label:N", title=value_title),
        *(alt.Tooltip(f"{c}:Q", title=c.capitalize(), format=",") for c in counts),
    ]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    bars = base.mark_bar(height={"band": 0.65}).encode(
        x=alt.X("x:Q", title=axis_title, scale=x_scale, axis=alt.Axis(format=axis_format)),
        color=color,
    )
    labels = base.mark_text(
        align=alt.expr("datum.at < 0 ? 'right' : 'left'"),
        dx=alt.expr("datum.at < 0 ? -4 : 4"),
    ).encode(x="at:Q", text="label:N", color=_missing_muted("x"))
    best = "shortest" if kind == "duration" else "highest"
    listed = "; ".join(f"{c} {v}" for c, v in zip(data[category], data["label"], strict=True))
    return alt.layer(bars, labels).properties(
        title=_title(title, contract),
        description=f"Horizontal bars of {value_title.lower()} per "
        f"{category.replace('_', ' ')}, {best} first"
        + (f", {highlight} highlighted" if highlight else "")
        + f": {listed}.",
        width=_plot_width(order, RANKING_LABEL_PX),
        height=alt.Step(24),
    )


REPUTATION_SERIES = {
    "index": "Reputation index",
    "net_sentiment": "Net sentiment",
    "review_stars": "Review stars",
    "sla_attainment": "SLA attainment",
    "nps": "Survey NPS",
}
"""The index and its parts (NPS optional), in legend order."""
REPUTATION_COLORS = [BRAND, "#E69F00", "#009E73", "#CC79A7", "#56B4E9"]


UPRIGHT_PERIOD_LABELS = 8
"""Up to this many period labels ('2026-Q3', '2026-10') fit upright across a chart; more
are slanted so that neighbours do not touch."""


def _period_axis(labels: int) -> alt.Axis:
    """The x axis of a chart over ``labels`` periods: upright labels, slanted past
    ``UPRIGHT_PERIOD_LABELS``."""
    if labels <= UPRIGHT_PERIOD_LABELS:
        return alt.Axis(labelAngle=0, ticks=False)
    return alt.Axis(labelAngle=-35, labelAlign="right", labelBaseline="top", ticks=False)


def reputation_trend(frame: pd.DataFrame, contract: str) -> alt.LayerChart | alt.Chart:
    """The reputation index per period (thick line, labelled) and its parts (thin dashed
    lines), all on 0-100.

    ``frame`` has one row per period in order: label (e.g. ``2025-Q3``), index,
    net_sentiment, review_stars, sla_attainment and optionally nps, each already on 0-100
    (the parts of ``metrics.reputation_index``) and possibly missing; a missing value breaks
    its line. The legend lists the columns ``frame`` has.
    """
    title = "Reputation index and its parts"
    if _is_empty(frame, *REPUTATION_SERIES):
        return _no_data(title, contract)
    labels = frame["label"].astype(str).tolist()
    present = [c for c in REPUTATION_SERIES if c in frame.columns]
    names = [REPUTATION_SERIES[c] for c in present]
    colors = [REPUTATION_COLORS[list(REPUTATION_SERIES).index(c)] for c in present]
    data = (
        frame.assign(label=labels)
        .melt(id_vars="label", value_vars=present, var_name="series", value_name="score")
        .assign(
            series=lambda f: f["series"].map(REPUTATION_SERIES),
            score=lambda f: pd.to_numeric(f["score"], errors="coerce"),
        )
    )
    is_index = f"datum.series === {_js(REPUTATION_SERIES['index'])}"
    base = alt.Chart(data).encode(
        x=alt.X("label:O", sort=labels, title=None, axis=_period_axis(len(labels))),
        y=alt.Y("score:Q", title="Score (0–100)", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color(
            "series:N",
            title=None,
            sort=names,
            scale=alt.Scale(domain=names, range=colors),
            legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2.5),
        ),
        strokeDash=alt.StrokeDash(
            "series:N",
            title=None,
            sort=names,
            scale=alt.Scale(domain=names, range=[[1, 0]] + [[5, 3]] * (len(names) - 1)),
        ),
        tooltip=[
            alt.Tooltip("label:N", title="Period"),
            alt.Tooltip("series:N", title="Measure"),
            alt.Tooltip("score:Q", title="Score (0–100)", format=".0f"),
        ],
    )
    parts = base.transform_filter(f"!({is_index})").mark_line(
        strokeWidth=1.5, point=alt.OverlayMarkDef(size=24, filled=True)
    )
    index = base.transform_filter(is_index)
    line = index.mark_line(strokeWidth=3.5, point=alt.OverlayMarkDef(size=70, filled=True))
    text = {"dy": -14, "fontSize": 12, "fontWeight": "bold"}
    halo = index.mark_text(**text, stroke="white", strokeWidth=4, strokeJoin="round").encode(
        text=alt.Text("score:Q", format=".0f")
    )
    values = index.mark_text(**text, color=BRAND).encode(text=alt.Text("score:Q", format=".0f"))
    latest = frame.iloc[-1]
    parts_text = ", ".join(
        f"{REPUTATION_SERIES[col]} {fmt.count(latest.get(col))}" for col in present[1:]
    )
    scores = data[data["series"] == REPUTATION_SERIES["index"]]
    indexes = "; ".join(
        f"{p} {'—' if fmt.is_missing(v) else f'{v:.0f}'}"
        for p, v in zip(scores["label"], scores["score"], strict=True)
    )
    return alt.layer(parts, line, halo, values).properties(
        title=_title(title, contract),
        description="Reputation index per period on 0 to 100 (thick line) with its parts as "
        f"dashed lines: {indexes}. Latest parts: {parts_text}.",
        width=WIDTH,
        height=200,
    )


WAIT_TICKS = {10: "10 s", 60: "1 min", 600: "10 min", 3600: "1 h", 86400: "1 d", 604800: "1 wk"}
"""Axis ticks of ``wait_by_channel``'s log scale: seconds and how they read."""


def wait_by_channel(frame: pd.DataFrame, contract: str) -> alt.LayerChart | alt.Chart:
    """Median (dot) and 90th percentile (tick) wait per channel on one log time scale, so
    phone waits in seconds and e-mail replies in hours share an axis; the share of inbound
    left unanswered is written at the end of each row. Slowest median on top.

    ``frame`` has columns channel, wait_median_s, wait_p90_s (seconds; waits under 1 s
    are drawn at 1 s, the log scale has no zero) and unanswered_share (fraction).
    """
    title = "Wait for an answer by channel"
    if _is_empty(frame, "wait_median_s", "wait_p90_s", "unanswered_share"):
        return _no_data(title, contract)
    data = frame[["channel", "wait_median_s", "wait_p90_s", "unanswered_share"]].sort_values(
        "wait_median_s", ascending=False, na_position="last", ignore_index=True
    )
    data = data.assign(
        median=data["wait_median_s"].clip(lower=1),
        p90=data["wait_p90_s"].clip(lower=1),
        median_text=data["wait_median_s"].map(fmt.duration),
        p90_text=data["wait_p90_s"].map(fmt.duration),
        unanswered=data["unanswered_share"].map(fmt.percent),
    )
    waits = pd.concat([data["median"], data["p90"]]).dropna()
    ticks = [1, *WAIT_TICKS, 4 * 604800]
    lo = max([t for t in ticks if t <= waits.min() / 3] or [1]) if len(waits) else 10
    hi = min([t for t in ticks if t >= waits.max() * 3] or [ticks[-1]]) if len(waits) else 86400
    # The median's label sits left of its dot when there is room, else above it; a channel
    # without any answer says so at the start of its row.
    answered = data["median"].notna()
    room = answered & (data["median"] >= 4 * lo)
    data = data.assign(
        label_at=data["median"].fillna(lo),
        label_text=data["median_text"].where(answered, "no answer"),
        label_align=[
            "right" if r else "center" if a else "left" for r, a in zip(room, answered, strict=True)
        ],
        label_dx=[-8 if r else 0 if a else 2 for r, a in zip(room, answered, strict=True)],
        label_dy=[0 if r or not a else -12 for r, a in zip(room, answered, strict=True)],
    )
    shown = {t: s for t, s in WAIT_TICKS.items() if lo <= t <= hi}
    label = " : ".join(f"datum.value == {t} ? {_js(s)}" for t, s in shown.items()) + " : ''"
    plot_width = WIDTH - 90
    scale = alt.Scale(type="log", domain=[lo, hi], nice=False)
    axis = alt.Axis(values=list(shown), labelExpr=label)
    x = alt.X("median:Q", title="Time to answer (log scale)", scale=scale, axis=axis)
    y = alt.Y("channel:N", sort=data["channel"].tolist(), title=None)
    tooltip = [
        alt.Tooltip("channel:N", title="Channel"),
        alt.Tooltip("median_text:N", title="Median"),
        alt.Tooltip("p90_text:N", title="90th percentile"),
        alt.Tooltip("unanswered:N", title="Unanswered"),
    ]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    measures = {"median": "Median", "p90": "90th percentile"}
    marks = (
        data.melt(id_vars="channel", value_vars=list(measures), var_name="measure", value_name="s")
        .dropna(subset=["s"])
        .assign(measure=lambda f: f["measure"].map(measures))
        .merge(data.drop(columns=list(measures)), on="channel")
    )
    points = alt.Chart(marks).encode(
        y=y,
        x=alt.X("s:Q", title="Time to answer (log scale)", scale=scale, axis=axis),
        color=alt.Color(
            "measure:N",
            title=None,
            scale=alt.Scale(domain=list(measures.values()), range=[BRAND, INK]),
        ),
        tooltip=tooltip,
    )
    spread = base.mark_rule(color=COMPETITOR_GREYS[1], strokeWidth=2).encode(x=x, x2="p90:Q")
    median = points.transform_filter("datum.measure === 'Median'").mark_circle(size=90, opacity=1)
    p90 = points.transform_filter("datum.measure !== 'Median'").mark_tick(thickness=2, size=16)
    median_label = base.mark_text(
        align=alt.expr("datum.label_align"),
        dx=alt.expr("datum.label_dx"),
        dy=alt.expr("datum.label_dy"),
    ).encode(
        x=alt.X("label_at:Q", title="Time to answer (log scale)", scale=scale, axis=axis),
        text="label_text:N",
        color=_missing_muted("median"),
    )
    p90_label = base.mark_text(align="left", dx=6, color=MUTED).encode(x="p90:Q", text="p90_text:N")
    unanswered = base.mark_text(align="right").encode(x=alt.value(WIDTH), text="unanswered:N")
    header = (
        alt.Chart(pd.DataFrame({"text": ["Unanswered"]}))
        .mark_text(align="right", baseline="bottom", color=MUTED, y=-4, x=WIDTH)
        .encode(text="text:N")
    )
    rows = "; ".join(
        f"{r.channel} {r.median_text} (p90 {r.p90_text}, {r.unanswered} unanswered)"
        if r.label_text != "no answer"
        else f"{r.channel} no answer ({r.unanswered} unanswered)"
        for r in data.itertuples()
    )
    return alt.layer(spread, median, p90, median_label, p90_label, unanswered, header).properties(
        title=_title(title, contract),
        description="Median and 90th percentile time to answer per channel on a log "
        f"scale, slowest first, with the share left unanswered: {rows}.",
        width=plot_width,
        height=alt.Step(34),
    )


def volume_vs_spend(frame: pd.DataFrame, contract: str) -> alt.LayerChart | alt.Chart:
    """Each channel's share of inbound volume beside its share of cost (grouped bars).

    ``frame`` has columns channel, inbound_share and cost_share (fractions; cost_share may
    be missing, labelled "no cost figure"). Channels by inbound share, largest on top.
    """
    title = "Share of volume and of cost by channel"
    if _is_empty(frame, "inbound_share", "cost_share"):
        return _no_data(title, contract)
    measures = {"inbound_share": "Share of inbound", "cost_share": "Share of cost"}
    wide = frame.reindex(columns=["channel", *measures]).sort_values(
        "inbound_share", ascending=False, na_position="last"
    )
    data = wide.melt(id_vars="channel", var_name="measure", value_name="share").assign(
        measure=lambda f: f["measure"].map(measures),
        share=lambda f: pd.to_numeric(f["share"], errors="coerce"),
        at=lambda f: f["share"].fillna(0),
        label=lambda f: [
            ("no cost figure" if m == "Share of cost" else "no data")
            if fmt.is_missing(v)
            else fmt.percent(v)
            for m, v in zip(f["measure"], f["share"], strict=True)
        ],
    )
    hi = max(float(data["share"].max()), 0.01)
    base = alt.Chart(data).encode(
        y=alt.Y(
            "channel:N",
            sort=wide["channel"].tolist(),
            title=None,
            scale=alt.Scale(paddingInner=0.25, paddingOuter=0.1),
        ),
        yOffset=alt.YOffset("measure:N", sort=list(measures.values())),
        tooltip=[
            alt.Tooltip("channel:N", title="Channel"),
            alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("label:N", title="Share"),
        ],
    )
    bars = base.mark_bar(height={"band": 0.9}).encode(
        x=alt.X(
            "share:Q",
            title="Share of the total",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, min(1.0, hi * 1.18)], nice=False),
        ),
        color=alt.Color(
            "measure:N",
            title=None,
            sort=list(measures.values()),
            scale=alt.Scale(domain=list(measures.values()), range=[BRAND, "#E69F00"]),
            legend=alt.Legend(symbolType="square"),
        ),
    )
    labels = base.mark_text(align="left", dx=4, fontSize=10).encode(
        x="at:Q", text="label:N", color=_missing_muted("share")
    )
    rows = "; ".join(
        f"{c} {fmt.percent(v)} of inbound, "
        + ("no cost figure" if fmt.is_missing(s) else f"{fmt.percent(s)} of cost")
        for c, v, s in zip(wide["channel"], wide["inbound_share"], wide["cost_share"], strict=True)
    )
    return alt.layer(bars, labels).properties(
        title=_title(title, contract),
        description="Grouped horizontal bars of each channel's share of inbound volume and "
        f"share of cost, largest volume first: {rows}.",
        width=WIDTH,
        height=42 * len(wide),
    )


HALF_WIDTH = WIDTH // 2 - 20
"""The width of each chart of ``side_by_side``."""


def side_by_side(left: alt.TopLevelMixin, right: alt.TopLevelMixin) -> alt.HConcatChart:
    """Two charts in one row, each ``HALF_WIDTH`` wide and shorter: for pages where space
    is short (the daily brief). Each keeps its own title, contract and tooltips."""
    half = HALF_WIDTH

    description = " ".join(str(c.to_dict().get("description", "")) for c in (left, right))
    return alt.hconcat(
        left.properties(width=half, height=110),
        right.properties(width=half, height=110),
        spacing=30,
    ).properties(description=description.strip())


def theme_trend(frame: pd.DataFrame, period: str, contract: str) -> alt.Chart:
    """Messages of each theme per period (one line a theme, labelled at its last point).

    ``frame`` has one row per period and theme: ``period`` (a label such as ``2026-Q3``,
    in order), label (the theme's), messages.
    """
    title = "Themes over time"
    if _is_empty(frame, "messages"):
        return _no_data(title, contract)
    order = sorted(frame[period].astype(str).unique())
    data = frame.assign(**{period: frame[period].astype(str)})
    base = alt.Chart(data).encode(
        x=alt.X(f"{period}:O", sort=order, title=None, axis=_period_axis(len(order))),
        y=alt.Y("messages:Q", title="Messages"),
        color=alt.Color("label:N", title=None, legend=alt.Legend(orient="right", labelLimit=200)),
        tooltip=[
            alt.Tooltip(f"{period}:N", title="Period"),
            alt.Tooltip("label:N", title="Theme"),
            alt.Tooltip("messages:Q", title="Messages", format=","),
        ],
    )
    latest = data[data[period] == order[-1]].sort_values("messages", ascending=False)
    described = "; ".join(f"{x.label} {fmt.count(x.messages)}" for x in latest.itertuples())
    return base.mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=24, filled=True)).properties(
        title=_title(title, contract),
        description=f"Messages per theme and period; in {order[-1]}: {described}.",
        width=WIDTH,
        height=220,
    )
