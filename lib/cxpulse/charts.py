"""Altair chart builders with one executive theme, and the renderer the reports display with.

Importing this module registers and enables the ``cxpulse`` theme and the ``cxpulse``
renderer. A displayed chart then carries three representations: the Vega-Lite spec (the
interactive HTML report embeds it with vega-embed), a static SVG made by vl-convert (the
PDF, which runs no JavaScript) and a one-line text alternative (title and description).

Builders are pure: a small frame in, an ``alt.Chart`` out. Each chart has a title, a
``description`` for screen readers, tooltips, and a subtitle holding its metric contract
(formula, denominator, calendar, window) as given by the caller.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert as vlc

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
WIDTH = 560
DAY_AXIS = alt.Axis(format="%-d %b", grid=False, tickCount=8, labelFlush=True)


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
    """Altair renderer: the Vega-Lite spec, a static SVG and a text alternative."""
    return {
        VEGALITE_MIME_TYPE: spec,
        "image/svg+xml": vlc.vegalite_to_svg(spec, vl_version=VL_VERSION),
        "text/plain": text_alternative(spec),
    }


alt.renderers.register("cxpulse", render_mimebundle)
alt.renderers.enable("cxpulse")


def _title(text: str, contract: str) -> alt.Title:
    return alt.Title(text, subtitle=[contract])


def _channel_axis(frame: pd.DataFrame, by: str, worst_first_descending: bool) -> alt.Y:
    order = frame.sort_values(by, ascending=not worst_first_descending)["channel"].tolist()
    return alt.Y("channel:N", sort=order, title=None)


def frt_by_channel(frame: pd.DataFrame, targets: dict[str, float], contract: str) -> alt.Chart:
    """Median first response time per channel (bar), its p90 (dark tick) and target (tick).

    ``frame`` has columns channel, frt_median_s, frt_p90_s; ``targets`` maps channel to
    seconds; a channel without a target is drawn without one. Slowest channel on top.
    """
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
        title=_title("First response time by channel", contract),
        description=(
            "Horizontal bars of median hours to first response per channel, slowest first, "
            "with the 90th percentile and the channel target as ticks."
        ),
        width=WIDTH,
    )


def sla_by_channel(frame: pd.DataFrame, contract: str) -> alt.Chart:
    """Share of inbound answered within the channel target (bars, as %), worst on top.

    ``frame`` has columns channel, sla_attainment (a fraction in [0, 1]).
    """
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
        title=_title("SLA attainment by channel", contract),
        description="Horizontal bars of the share of inbound messages answered within the "
        "channel target, lowest first.",
        width=WIDTH,
    )


def _days(frame: pd.DataFrame) -> pd.DataFrame:
    """``day`` as naive datetimes: Vega reads them as local midnight, so no day shifts."""
    return frame.assign(day=pd.to_datetime(frame["day"]))


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
) -> alt.Chart | alt.LayerChart:
    """A line of ``y`` over ``day``, one line per value of ``color`` when given.

    ``highlight`` names the ``color`` value drawn in the brand colour (our brand); the
    others are grey. ``annotations`` (columns day, text) become labelled vertical rules.
    """
    tooltip = [alt.Tooltip("day:T", title="Day", format="%a %d %b %Y")]
    if color:
        tooltip.append(alt.Tooltip(f"{color}:N", title=color.replace("_", " ").capitalize()))
    tooltip.append(alt.Tooltip(f"{y}:Q", title=y_title, format=",.4~r"))
    line = (
        alt.Chart(_days(frame))
        .mark_line(point=alt.OverlayMarkDef(size=14, filled=True))
        .encode(
            x=alt.X("day:T", title=None, axis=DAY_AXIS),
            y=alt.Y(f"{y}:Q", title=y_title),
            tooltip=tooltip,
        )
    )
    if color:
        line = line.encode(color=_series_color(frame, color, highlight))
    layers = [line]
    if annotations is not None and len(annotations):
        notes = alt.Chart(_days(annotations)).encode(
            x="day:T", tooltip=[alt.Tooltip("day:T", format="%d %b"), "text:N"]
        )
        layers.append(notes.mark_rule(color=TARGET, strokeDash=[4, 3]))
        layers.append(
            notes.mark_text(align="left", baseline="top", dx=4, y=2, color=TARGET).encode(
                text="text:N"
            )
        )
    subject = f"{y_title} per day" + (f" by {color.replace('_', ' ')}" if color else "")
    return alt.layer(*layers).properties(
        title=_title(subject[0].upper() + subject[1:], contract),
        description=f"Line chart of {y_title.lower()} per day"
        + (f", one line per {color.replace('_', ' ')}" if color else "")
        + (f", {highlight} highlighted" if highlight else "")
        + (f", with {len(annotations)} annotated events" if annotations is not None else "")
        + ".",
        width=WIDTH,
    )


def volume_by_channel(frame: pd.DataFrame, contract: str, top: int = 6) -> alt.Chart:
    """Inbound messages per day, stacked by channel (columns day, channel, inbound).

    The ``top`` channels by total inbound get their own colour; the rest are summed as
    "other", so every colour on the chart stays distinguishable. Days without any inbound
    are drawn as empty slots, not skipped.
    """
    totals = frame.groupby("channel")["inbound"].sum().sort_values(ascending=False)
    kept = totals.index[:top].tolist()
    order = kept + (["other"] if len(totals) > top else [])
    grid = (
        _days(frame)
        .assign(channel=frame["channel"].where(frame["channel"].isin(kept), "other"))
        .pivot_table(index="day", columns="channel", values="inbound", aggfunc="sum")
    )
    every_day = pd.date_range(grid.index.min(), grid.index.max()) if len(grid) else grid.index
    data = (
        grid.reindex(index=every_day, columns=order, fill_value=0)
        .fillna(0)
        .rename_axis(index="day", columns=None)
        .reset_index()
        .melt(id_vars="day", var_name="channel", value_name="inbound")
        .assign(channel_rank=lambda f: f["channel"].map(order.index))
    )
    return (
        alt.Chart(data)
        .mark_bar(width={"band": 0.85})
        .encode(
            x=alt.X(
                "yearmonthdate(day):O",
                title=None,
                axis=alt.Axis(
                    format="%-d %b",
                    labelAngle=0,
                    labelOverlap="greedy",
                    labelSeparation=12,
                    ticks=False,
                ),
            ),
            y=alt.Y("sum(inbound):Q", title="Inbound messages"),
            color=alt.Color(
                "channel:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[*OKABE_ITO[: len(kept)], OTHER]),
            ),
            order=alt.Order("channel_rank:Q"),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
                alt.Tooltip("channel:N", title="Channel"),
                alt.Tooltip("sum(inbound):Q", title="Inbound", format=","),
            ],
        )
        .properties(
            title=_title("Inbound volume by channel", contract),
            description="Stacked bars of inbound messages per day, one colour per channel, "
            "largest channel at the bottom.",
            width=WIDTH,
        )
    )
