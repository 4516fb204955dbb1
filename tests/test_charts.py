"""Chart builders, theme and renderer, tested through their Vega-Lite specification."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import altair as alt
import nbformat
import pandas as pd
import pytest
import vl_convert as vlc

from cxpulse import charts

CONTRACT = "first brand reply minus inbound; answered inbound; clock hours; 1-31 Mar 2024"


def values(chart: alt.TopLevelMixin) -> list[dict]:
    """The rows of the chart's (single) inline dataset."""
    (rows,) = chart.to_dict()["datasets"].values()
    return rows


def frt_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["twitter", "email", "phone"],
            "frt_median_s": [1800, 30000, 60],
            "frt_p90_s": [7200, 80000, 300],
        }
    )


def sla_frame() -> pd.DataFrame:
    return pd.DataFrame({"channel": ["twitter", "email"], "sla_attainment": [0.9, 0.6]})


def trend_frame() -> pd.DataFrame:
    days = [dt.date(2024, 3, d) for d in (1, 2, 3)]
    return pd.DataFrame(
        {
            "day": days * 2,
            "brand": ["Northwind"] * 3 + ["Contoso"] * 3,
            "net_sentiment": [10.0, 12.0, 9.0, 4.0, 5.0, 6.0],
        }
    )


def volume_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [dt.date(2024, 3, 1)] * 3 + [dt.date(2024, 3, 3)],
            "channel": ["twitter", "email", "blog", "twitter"],
            "inbound": [10, 5, 1, 7],
        }
    )


def hour_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "weekday": [0, 0, 5, 6],
            "hour": [9, 10, 9, 23],
            "sla_due": [10, 4, 2, 5],
            "sla_met": [9, 1, 2, 0],
            "sla_attainment": [0.9, 0.25, 1.0, None],
        }
    )


def benchmark_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "brand": ["Contoso", "Northwind", "Fabrikam", "Tailspin"],
            "inbound": [300, 120, 80, 15],
            "response_rate": [0.6, 0.8, 0.9, None],
            "frt_median_s": [5400.0, 1800.0, 36000.0, None],
        }
    )


def reputation_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["2025-Q2", "2025-Q3"],
            "index": [61.2, 64.8],
            "net_sentiment": [55.0, None],
            "review_stars": [62.5, 70.0],
            "sla_attainment": [66.0, 71.0],
        }
    )


def wait_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["phone", "email", "twitter", "blog"],
            "wait_median_s": [45.0, 20000.0, 1800.0, None],
            "wait_p90_s": [240.0, 90000.0, 9000.0, None],
            "unanswered_share": [0.05, 0.1, 0.2, 1.0],
        }
    )


def spend_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["email", "phone", "review"],
            "inbound_share": [0.3, 0.6, 0.1],
            "cost_share": [0.2, 0.8, None],
        }
    )


def daily_volume(days: int) -> pd.DataFrame:
    """Ten inbound messages a day on twitter from Wed 3 Jan 2024 for ``days`` days."""
    return pd.DataFrame(
        {
            "day": pd.date_range("2024-01-03", periods=days).date,
            "channel": "twitter",
            "inbound": 10,
        }
    )


def empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


CHARTS: dict[str, Callable[[], alt.TopLevelMixin]] = {
    "frt": lambda: charts.frt_by_channel(frt_frame(), {"twitter": 3600}, CONTRACT),
    "sla": lambda: charts.sla_by_channel(sla_frame(), CONTRACT),
    "trend": lambda: charts.trend(trend_frame(), "net_sentiment", "Net sentiment", CONTRACT),
    "volume": lambda: charts.volume_by_channel(volume_frame(), CONTRACT),
    "weekly_volume": lambda: charts.volume_by_channel(daily_volume(92), CONTRACT),
    "heatmap": lambda: charts.hour_of_week_heatmap(
        hour_frame(), "sla_attainment", "Within target", CONTRACT
    ),
    "ranking": lambda: charts.ranking_bars(
        benchmark_frame(), "brand", "frt_median_s", "FRT", CONTRACT, "Northwind", "duration"
    ),
    "reputation": lambda: charts.reputation_trend(reputation_frame(), CONTRACT),
    "wait": lambda: charts.wait_by_channel(wait_frame(), CONTRACT),
    "spend": lambda: charts.volume_vs_spend(spend_frame(), CONTRACT),
}
"""Each builder on a small frame with data."""

EMPTY_CHARTS: dict[str, Callable[[], alt.TopLevelMixin]] = {
    "frt": lambda: charts.frt_by_channel(
        empty("channel", "frt_median_s", "frt_p90_s"), {}, CONTRACT
    ),
    "sla": lambda: charts.sla_by_channel(empty("channel", "sla_attainment"), CONTRACT),
    "trend": lambda: charts.trend(empty("day", "net_sentiment"), "net_sentiment", "Net", CONTRACT),
    "volume": lambda: charts.volume_by_channel(empty("day", "channel", "inbound"), CONTRACT),
    "heatmap": lambda: charts.hour_of_week_heatmap(
        empty("weekday", "hour", "inbound"), "inbound", "Inbound", CONTRACT, percent=False
    ),
    "ranking": lambda: charts.ranking_bars(
        empty("phrase", "count"), "phrase", "count", "Messages", CONTRACT, None, "count"
    ),
    "reputation": lambda: charts.reputation_trend(
        pd.DataFrame({"label": ["2025-Q3"], "index": [None], "net_sentiment": [None]}), CONTRACT
    ),
    "wait": lambda: charts.wait_by_channel(
        empty("channel", "wait_median_s", "wait_p90_s", "unanswered_share"), CONTRACT
    ),
    "spend": lambda: charts.volume_vs_spend(
        empty("channel", "inbound_share", "cost_share"), CONTRACT
    ),
}
"""Each builder on a frame without rows (or without values)."""


def layer_rows(spec: dict, index: int) -> list[dict]:
    """The rows drawn by layer ``index`` (its own data, else the chart's)."""
    data = spec["layer"][index].get("data", spec.get("data"))
    return spec["datasets"][data["name"]]


def layer(spec: dict, mark: str, n: int = 0) -> dict:
    """The ``n``-th layer of ``spec`` drawing ``mark``."""
    return [x for x in spec["layer"] if x["mark"]["type"] == mark][n]


def test_theme_is_enabled_on_import():
    spec = charts.sla_by_channel(sla_frame(), CONTRACT).to_dict()
    assert alt.theme.active == "cxpulse"
    assert spec["config"]["range"]["category"] == charts.OKABE_ITO
    assert "Helvetica" in spec["config"]["font"]


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_has_title_contract_description_and_tooltips(name):
    spec = CHARTS[name]().to_dict()
    assert spec["title"]["text"]
    assert spec["title"]["subtitle"] == [CONTRACT]
    assert len(spec["description"]) > 20
    layers = spec.get("layer", [spec])
    assert any("tooltip" in layer.get("encoding", {}) for layer in layers)


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_renders_to_svg(name):
    spec = CHARTS[name]().to_dict()
    svg = vlc.vegalite_to_svg(spec, vl_version=charts.VL_VERSION)
    assert spec["title"]["text"] in svg


@pytest.mark.parametrize("name", list(EMPTY_CHARTS))
def test_an_empty_frame_gives_a_chart_saying_no_data(name):
    spec = EMPTY_CHARTS[name]().to_dict()
    assert spec["mark"]["type"] == "text"
    assert spec["title"]["text"] and spec["title"]["subtitle"] == [CONTRACT]
    (rows,) = spec["datasets"].values()
    assert rows[0]["text"].startswith("No ")
    assert "No " in vlc.vegalite_to_svg(spec, vl_version=charts.VL_VERSION)


def test_a_long_contract_wraps_within_the_chart_width():
    contract = "; ".join(["answered within the channel target ÷ messages due"] * 4)
    subtitle = charts.sla_by_channel(sla_frame(), contract).to_dict()["title"]["subtitle"]
    assert len(subtitle) > 1
    assert all(len(line) <= charts.SUBTITLE_CHARS for line in subtitle)
    assert " ".join(subtitle) == contract


def test_renderer_bundle_carries_spec_svg_and_text_alternative():
    chart = charts.sla_by_channel(sla_frame(), CONTRACT)
    bundle = chart._repr_mimebundle_()
    assert alt.renderers.active == "cxpulse"
    assert bundle[charts.VEGALITE_MIME_TYPE]["title"]["text"] == "SLA attainment by channel"
    assert bundle["image/svg+xml"].startswith("<svg")
    assert bundle["text/plain"].startswith("SLA attainment by channel. Horizontal bars")


def test_static_svg_can_be_left_to_the_exporting_process(monkeypatch):
    spec = charts.sla_by_channel(sla_frame(), CONTRACT).to_dict()
    monkeypatch.setenv(charts.DEFER_SVG, "1")
    deferred = charts.render_mimebundle(spec)
    assert "image/svg+xml" not in deferred and charts.VEGALITE_MIME_TYPE in deferred
    outputs = [{"data": deferred}, {"data": {"text/plain": "a table"}}]
    assert charts.with_static_charts(outputs) == 1
    assert deferred["image/svg+xml"].startswith("<svg")
    assert charts.with_static_charts(outputs) == 0  # already drawn


def test_each_static_chart_has_ids_of_its_own():
    sla = charts.svg_of(charts.sla_by_channel(sla_frame(), CONTRACT).to_dict())
    other = charts.svg_of(charts.sla_by_channel(sla_frame().head(1), CONTRACT).to_dict())
    ids = [set(re.findall(r'\bid="([^"]+)"', svg)) for svg in (sla, other)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    for svg, own in zip((sla, other), ids, strict=True):
        refs = set(re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', svg))
        assert {r for pair in refs for r in pair if r} <= own  # every reference is its own


def test_renderer_bundle_is_a_valid_notebook_output():
    bundle = charts.render_mimebundle(charts.sla_by_channel(sla_frame(), CONTRACT).to_dict())
    output = nbformat.v4.new_output("display_data", data=bundle)
    nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[output])]))


def test_text_alternative_joins_title_and_description():
    spec = {"title": {"text": "Volume", "subtitle": ["x"]}, "description": "Bars per day."}
    assert charts.text_alternative(spec) == "Volume. Bars per day."


def test_frt_by_channel_is_in_hours():
    rows = values(charts.frt_by_channel(frt_frame(), {}, CONTRACT))
    medians = {r["channel"]: r["value"] for r in rows if r["measure"] == "Median"}
    assert medians == {"twitter": 0.5, "email": pytest.approx(30000 / 3600), "phone": 60 / 3600}


def test_frt_by_channel_draws_a_target_only_where_one_is_given():
    rows = values(charts.frt_by_channel(frt_frame(), {"twitter": 3600}, CONTRACT))
    targets = [(r["channel"], r["value"]) for r in rows if r["measure"] == "Target"]
    assert targets == [("twitter", 1.0)]


def test_frt_by_channel_puts_the_slowest_channel_on_top():
    spec = charts.frt_by_channel(frt_frame(), {}, CONTRACT).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"] == ["email", "twitter", "phone"]


def test_sla_by_channel_shows_percent_worst_first():
    spec = charts.sla_by_channel(sla_frame(), CONTRACT).to_dict()
    bars = spec["layer"][0]["encoding"]
    assert bars["x"]["axis"]["format"] == "%"
    assert bars["x"]["scale"]["domain"] == [0, 1]
    assert bars["y"]["sort"] == ["email", "twitter"]
    assert spec["layer"][1]["encoding"]["text"]["format"] == ".0%"


def test_trend_highlights_our_brand_and_greys_the_others():
    chart = charts.trend(
        trend_frame(), "net_sentiment", "Net sentiment", CONTRACT, "brand", highlight="Northwind"
    )
    scale = chart.to_dict()["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Northwind", "Contoso"]
    assert scale["range"][0] == charts.BRAND
    assert scale["range"][1] in charts.COMPETITOR_GREYS


def test_trend_sends_days_as_local_midnight():
    rows = values(charts.trend(trend_frame(), "net_sentiment", "Net sentiment", CONTRACT))
    assert rows[0]["day"] == "2024-03-01T00:00:00"


def test_trend_draws_annotations_as_labelled_rules():
    notes = pd.DataFrame({"day": [dt.date(2024, 3, 2)], "text": ["Outage"]})
    chart = charts.trend(trend_frame(), "net_sentiment", "Net sentiment", CONTRACT, "brand", notes)
    marks = [layer["mark"]["type"] for layer in chart.to_dict()["layer"]]
    assert marks == ["line", "rule", "text", "text"]
    assert "02 Mar Outage" in chart.to_dict()["description"]


def test_trend_stacks_labels_that_would_overlap_and_turns_the_last_one_leftwards():
    days = [dt.date(2024, 3, d) for d in range(1, 29)]  # 28 days on 560 px: 20 px a day
    frame = pd.DataFrame({"day": days, "net_sentiment": range(28)})
    text = "Outage in the North, fixed"  # 26 characters: about 170 px
    notes = pd.DataFrame(
        {
            "day": [dt.date(2024, 3, d) for d in (16, 2, 3, 4, 28)],
            "text": [f"D {text}", f"A {text}", f"B {text}", f"C {text}", f"E {text}"],
        }
    )
    chart = charts.trend(frame, "net_sentiment", "Net sentiment", CONTRACT, annotations=notes)
    rows = {r["text"][0]: (r["row"], r["right"]) for r in layer_rows(chart.to_dict(), 1)}
    assert rows == {
        "A": (0, False),
        "B": (1, False),
        "C": (2, False),
        "D": (0, False),  # clear of A's label, on A's row
        "E": (1, True),  # at the right edge: reads leftwards, under D, clear of B
    }
    narrow = charts.trend(frame, "net_sentiment", "Net", CONTRACT, annotations=notes, width=270)
    assert narrow.to_dict()["width"] == 270
    assert max(r["row"] for r in layer_rows(narrow.to_dict(), 1)) >= 3  # less room: more rows


def test_a_label_longer_than_the_room_on_either_side_is_cut_to_fit():
    days = [dt.date(2024, 3, d) for d in range(1, 29)]
    frame = pd.DataFrame({"day": days, "net_sentiment": range(28)})
    text = "Broadband outage across the North (INC-2291), fixed 10 Nov 16:00 after the rota"
    notes = pd.DataFrame({"day": [dt.date(2024, 3, 15)], "text": [text]})
    chart = charts.trend(frame, "net_sentiment", "Net", CONTRACT, annotations=notes, width=270)
    (note,) = layer_rows(chart.to_dict(), 1)
    assert note["text"] == text  # the whole note stays in the tooltip
    assert note["label"].endswith("…") and text.startswith(note["label"][:-1])
    assert charts.LABEL_CHAR_PX * len(note["label"]) + 8 <= 270 / 2


def test_trend_labels_mondays_over_a_month_and_months_over_a_quarter():
    def ticks(days: int) -> list[dict]:
        frame = daily_volume(days).rename(columns={"inbound": "net_sentiment"})
        spec = charts.trend(frame, "net_sentiment", "Net", CONTRACT).to_dict()
        return spec["layer"][0]["encoding"]["x"]["axis"]["values"]

    month = ticks(28)
    assert month[0] == {"year": 2024, "month": 1, "date": 8}
    assert [v["date"] for v in month] == [8, 15, 22, 29]
    assert [v["month"] for v in ticks(183)] == [2, 3, 4, 5, 6, 7]


def test_trend_with_seven_channels_keeps_one_colour_each():
    days = [dt.date(2024, 3, d) for d in (1, 2)]
    channels = ["twitter", "facebook", "instagram", "email", "chat", "phone", "review"]
    frame = pd.DataFrame(
        [{"day": d, "channel": c, "net_sentiment": 1.0} for d in days for c in channels]
    )
    spec = charts.trend(frame, "net_sentiment", "Net", CONTRACT, "channel").to_dict()
    assert spec["layer"][0]["encoding"]["color"]["field"] == "channel"
    assert len(spec["config"]["range"]["category"]) >= len(channels)
    assert spec["layer"][0]["mark"]["strokeWidth"] < 2


def test_trend_without_annotations_is_one_line():
    spec = charts.trend(trend_frame(), "net_sentiment", "Net sentiment", CONTRACT).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line"]
    assert "color" not in spec["layer"][0]["encoding"]


def test_trend_with_a_band_shades_the_interval_under_the_line():
    frame = trend_frame().query("brand == 'Northwind'")
    frame = frame.assign(net_low=frame["net_sentiment"] - 7, net_high=frame["net_sentiment"] + 7)
    chart = charts.trend(
        frame, "net_sentiment", "Net sentiment", CONTRACT, band=("net_low", "net_high")
    )
    spec = chart.to_dict()
    area, line = spec["layer"]
    assert (area["mark"]["type"], line["mark"]["type"]) == ("area", "line")
    assert (area["encoding"]["y"]["field"], area["encoding"]["y2"]["field"]) == (
        "net_low",
        "net_high",
    )
    assert "90% low" in str(line["encoding"]["tooltip"])
    assert "shaded 90% interval" in spec["description"]
    assert values(chart)[0]["net_high"] == 17


def test_volume_by_channel_sums_small_channels_as_other():
    chart = charts.volume_by_channel(volume_frame(), CONTRACT, top=1)
    rows = values(chart)
    on_first = {r["channel"]: r["inbound"] for r in rows if r["day"].startswith("2024-03-01")}
    assert on_first == {"twitter": 10, "other": 6}
    assert chart.to_dict()["layer"][0]["encoding"]["color"]["scale"]["range"][-1] == charts.OTHER


def test_volume_by_channel_keeps_days_without_inbound():
    rows = values(charts.volume_by_channel(volume_frame(), CONTRACT))
    second = [r["inbound"] for r in rows if r["day"].startswith("2024-03-02")]
    assert second == [0, 0, 0]


def test_volume_by_channel_stays_daily_for_five_weeks():
    spec = charts.volume_by_channel(daily_volume(35), CONTRACT).to_dict()
    assert len(values(charts.volume_by_channel(daily_volume(35), CONTRACT))) == 35
    assert spec["layer"][0]["encoding"]["y"]["title"] == "Inbound messages per day"
    assert len(spec["layer"]) == 1


def test_volume_by_channel_sums_weeks_over_a_quarter():
    chart = charts.volume_by_channel(daily_volume(92), CONTRACT)
    spec = chart.to_dict()
    bars = spec["layer"][0]
    rows = spec["datasets"][bars["data"]["name"]]
    assert rows[0]["day"] == "2024-01-01T00:00:00"  # the Monday of Wed 3 Jan
    assert all(dt.date.fromisoformat(r["day"][:10]).weekday() == 0 for r in rows)
    assert [r["inbound"] for r in rows[:2]] == [50, 70]  # a partial week, then a full one
    assert sum(r["inbound"] for r in rows) == 920
    assert bars["encoding"]["y"]["title"] == "Inbound messages per week"
    notes = layer_rows(spec, 1)
    assert [n["note"] for n in notes] == ["5 of 7 days", "3 of 7 days"]
    assert "partial weeks" in spec["description"]


def test_heatmap_has_weekday_rows_and_hour_columns():
    spec = charts.hour_of_week_heatmap(
        hour_frame(), "sla_attainment", "Within target", CONTRACT
    ).to_dict()
    heat = spec["layer"][1]["encoding"]
    assert heat["y"]["scale"]["domain"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert heat["x"]["scale"]["domain"] == list(range(24))
    background = layer_rows(spec, 0)
    assert len(background) == 7 * 24


def test_heatmap_leaves_missing_cells_blank():
    chart = charts.hour_of_week_heatmap(hour_frame(), "sla_attainment", "Within target", CONTRACT)
    spec = chart.to_dict()
    cells = layer_rows(spec, 1)
    assert [(c["day"], c["hour"]) for c in cells] == [("Mon", 9), ("Mon", 10), ("Sat", 9)]
    assert cells[1]["hours"] == "10:00–11:00"


def test_heatmap_of_attainment_makes_low_values_darkest_on_a_fixed_scale():
    spec = charts.hour_of_week_heatmap(
        hour_frame(), "sla_attainment", "Within target", CONTRACT
    ).to_dict()
    color = spec["layer"][1]["encoding"]["color"]
    assert color["scale"]["domain"] == [0, 1]
    assert color["scale"]["scheme"]["extent"][0] > color["scale"]["scheme"]["extent"][1]
    assert color["legend"]["format"] == ".0%"
    assert "Lowest Mon 10:00–11:00 (25%)" in spec["description"]


def test_heatmap_tooltip_shows_the_counts_behind_the_rate():
    spec = charts.hour_of_week_heatmap(
        hour_frame(), "sla_attainment", "Within target", CONTRACT
    ).to_dict()
    tooltip = spec["layer"][1]["encoding"]["tooltip"]
    assert [t["title"] for t in tooltip] == ["Day", "Hour", "Within target", "Due", "Met"]
    assert tooltip[2]["format"] == ".1%"


def test_heatmap_of_counts_makes_high_values_darkest():
    frame = hour_frame().assign(inbound=[12, 3, 5, 1])
    spec = charts.hour_of_week_heatmap(
        frame, "inbound", "Inbound", CONTRACT, percent=False
    ).to_dict()
    color = spec["layer"][1]["encoding"]["color"]
    assert color["scale"]["scheme"]["name"] == "blues"
    assert color["scale"]["scheme"]["extent"][0] < color["scale"]["scheme"]["extent"][1]
    assert [t["field"] for t in spec["layer"][1]["encoding"]["tooltip"]].count("inbound") == 1


def ranking(value: str, kind: str, highlight: str | None = "Northwind") -> dict:
    return charts.ranking_bars(
        benchmark_frame(), "brand", value, "Figure", CONTRACT, highlight, kind=kind
    ).to_dict()


def test_ranking_puts_the_highest_rate_first_and_missing_last():
    spec = ranking("response_rate", "percent")
    assert layer(spec, "bar")["encoding"]["y"]["sort"] == [
        "Fabrikam",
        "Northwind",
        "Contoso",
        "Tailspin",
    ]
    assert layer(spec, "bar")["encoding"]["x"]["axis"]["format"] == "%"
    labels = [r["label"] for r in layer_rows(spec, 0)]
    assert labels == ["90%", "80%", "60%", "no data"]


def test_ranking_puts_the_shortest_duration_first_in_hours():
    spec = ranking("frt_median_s", "duration")
    bars = layer(spec, "bar")["encoding"]
    assert bars["y"]["sort"] == ["Northwind", "Contoso", "Fabrikam", "Tailspin"]
    assert bars["x"]["title"] == "Figure (h)"
    rows = layer_rows(spec, 0)
    assert [r["x"] for r in rows[:3]] == [0.5, 1.5, 10.0]
    assert [r["label"] for r in rows[:3]] == ["30 min", "1.5 h", "10 h"]


def test_ranking_of_short_durations_reads_in_minutes():
    frame = pd.DataFrame({"brand": ["A", "B"], "frt_median_s": [300.0, 1200.0]})
    spec = charts.ranking_bars(frame, "brand", "frt_median_s", "FRT", CONTRACT, None, "duration")
    assert layer(spec.to_dict(), "bar")["encoding"]["x"]["title"] == "FRT (min)"


def test_ranking_highlights_our_brand_and_greys_the_others():
    spec = ranking("response_rate", "percent")
    color = layer(spec, "bar")["encoding"]["color"]
    assert color["condition"]["value"] == charts.BRAND
    assert "Northwind" in color["condition"]["test"]
    assert color["value"] in charts.COMPETITOR_GREYS
    axis = layer(spec, "bar")["encoding"]["y"]["axis"]
    assert "Northwind" in axis["labelFontWeight"]["expr"]
    assert "Northwind highlighted" in spec["description"]


def test_ranking_without_highlight_is_all_brand_blue():
    color = layer(ranking("response_rate", "percent", None), "bar")["encoding"]["color"]
    assert color == {"value": charts.BRAND}


def test_ranking_of_counts_labels_bar_ends_with_thousands():
    frame = pd.DataFrame({"phrase": ["refund", "late"], "count": [1200, 40]})
    chart = charts.ranking_bars(
        frame, "phrase", "count", "Messages", CONTRACT, None, "count", title="Top issues"
    )
    spec = chart.to_dict()
    assert spec["title"]["text"] == "Top issues"
    assert [r["label"] for r in values(chart)] == ["1,200", "40"]
    assert layer(spec, "text")["encoding"]["text"]["field"] == "label"


def test_ranking_of_negative_points_puts_labels_left_of_the_bar():
    frame = pd.DataFrame({"channel": ["review", "email"], "net": [30.0, -25.0]})
    chart = charts.ranking_bars(frame, "channel", "net", "Net", CONTRACT, None, "points")
    spec = chart.to_dict()
    assert [r["label"] for r in values(chart)] == ["+30", "-25"]
    assert "'right'" in layer(spec, "text")["mark"]["align"]["expr"]
    assert layer(spec, "bar")["encoding"]["x"]["scale"]["domain"][0] < -25


def test_reputation_trend_draws_a_thick_index_and_dashed_parts_on_0_to_100():
    spec = charts.reputation_trend(reputation_frame(), CONTRACT).to_dict()
    parts, index = spec["layer"][0], spec["layer"][1]
    assert index["mark"]["strokeWidth"] > parts["mark"]["strokeWidth"]
    dash = spec["layer"][0]["encoding"]["strokeDash"]["scale"]
    assert dash["range"][0] == [1, 0] and dash["range"][1] == [5, 3]
    assert spec["layer"][0]["encoding"]["y"]["scale"]["domain"] == [0, 100]
    assert spec["layer"][0]["encoding"]["x"]["sort"] == ["2025-Q2", "2025-Q3"]
    assert spec["layer"][0]["encoding"]["color"]["scale"]["range"][0] == charts.BRAND


def test_reputation_trend_labels_the_index_and_keeps_missing_parts_as_gaps():
    chart = charts.reputation_trend(reputation_frame(), CONTRACT)
    spec = chart.to_dict()
    assert layer(spec, "text", 1)["encoding"]["text"]["format"] == ".0f"
    rows = values(chart)
    gap = [r for r in rows if r["label"] == "2025-Q3" and r["series"] == "Net sentiment"]
    assert gap[0]["score"] is None
    assert "2025-Q2 61; 2025-Q3 65" in spec["description"]


def test_thirteen_months_of_reputation_slant_their_labels_and_two_quarters_do_not():
    months = pd.DataFrame(
        {"label": [f"2026-{m:02d}" for m in range(1, 13)] + ["2027-01"], "index": 50.0}
    )
    slanted = charts.reputation_trend(months, CONTRACT).to_dict()["layer"][0]["encoding"]["x"]
    upright = charts.reputation_trend(reputation_frame(), CONTRACT).to_dict()["layer"][0]
    assert slanted["axis"]["labelAngle"] < 0 and slanted["axis"]["labelAlign"] == "right"
    assert upright["encoding"]["x"]["axis"]["labelAngle"] == 0


def test_wait_by_channel_uses_a_log_axis_in_human_units():
    spec = charts.wait_by_channel(wait_frame(), CONTRACT).to_dict()
    x = layer(spec, "rule")["encoding"]["x"]
    assert x["scale"]["type"] == "log"
    assert x["axis"]["values"] == [10, 60, 600, 3600, 86400, 604800]
    assert '"1 min"' in x["axis"]["labelExpr"] and '"1 d"' in x["axis"]["labelExpr"]


def test_wait_by_channel_puts_the_slowest_first_and_writes_unanswered_shares():
    chart = charts.wait_by_channel(wait_frame(), CONTRACT)
    spec = chart.to_dict()
    assert layer(spec, "rule")["encoding"]["y"]["sort"] == ["email", "twitter", "phone", "blog"]
    rows = spec["datasets"][layer(spec, "rule")["data"]["name"]]
    assert [r["unanswered"] for r in rows] == ["10%", "20%", "5%", "100%"]
    assert rows[-1]["label_text"] == "no answer"
    assert "blog no answer (100% unanswered)" in spec["description"]


def test_wait_by_channel_draws_a_zero_wait_at_one_second():
    frame = wait_frame().assign(wait_median_s=[0.0, 20000.0, 1800.0, None])
    chart = charts.wait_by_channel(frame, CONTRACT)
    spec = chart.to_dict()
    rows = spec["datasets"][layer(spec, "rule")["data"]["name"]]
    phone = next(r for r in rows if r["channel"] == "phone")
    assert (phone["median"], phone["median_text"]) == (1.0, "0 s")


def test_volume_vs_spend_groups_volume_and_cost_per_channel():
    chart = charts.volume_vs_spend(spend_frame(), CONTRACT)
    spec = chart.to_dict()
    bars = layer(spec, "bar")["encoding"]
    assert bars["y"]["sort"] == ["phone", "email", "review"]
    assert bars["yOffset"]["field"] == "measure"
    assert bars["x"]["axis"]["format"] == "%"
    labels = {(r["channel"], r["measure"]): r["label"] for r in values(chart)}
    assert labels[("phone", "Share of cost")] == "80%"
    assert labels[("review", "Share of cost")] == "no cost figure"


def test_theme_trend_draws_one_line_a_theme_in_period_order():
    frame = pd.DataFrame(
        {
            "quarter": ["2026-Q2", "2026-Q1", "2026-Q2", "2026-Q1"],
            "label": ["cancelled flight", "cancelled flight", "lost bags", "lost bags"],
            "messages": [40, 10, 5, 7],
        }
    )
    spec = charts.theme_trend(frame, "quarter", CONTRACT).to_dict()
    assert spec["encoding"]["x"]["sort"] == ["2026-Q1", "2026-Q2"]
    assert spec["encoding"]["color"]["field"] == "label"
    assert "in 2026-Q2: cancelled flight 40; lost bags 5" in spec["description"]
    empty = charts.theme_trend(frame.iloc[:0], "quarter", CONTRACT).to_dict()
    assert "No data" in json.dumps(empty)
