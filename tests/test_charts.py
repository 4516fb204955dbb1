"""Chart builders, theme and renderer, tested through their Vega-Lite specification."""

from __future__ import annotations

import datetime as dt

import altair as alt
import nbformat
import pandas as pd
import pytest

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


def all_charts() -> dict[str, alt.TopLevelMixin]:
    return {
        "frt": charts.frt_by_channel(frt_frame(), {"twitter": 3600}, CONTRACT),
        "sla": charts.sla_by_channel(sla_frame(), CONTRACT),
        "trend": charts.trend(trend_frame(), "net_sentiment", "Net sentiment", CONTRACT),
        "volume": charts.volume_by_channel(volume_frame(), CONTRACT),
    }


def test_theme_is_enabled_on_import():
    spec = charts.sla_by_channel(sla_frame(), CONTRACT).to_dict()
    assert alt.theme.active == "cxpulse"
    assert spec["config"]["range"]["category"] == charts.OKABE_ITO
    assert "Helvetica" in spec["config"]["font"]


@pytest.mark.parametrize("name", ["frt", "sla", "trend", "volume"])
def test_every_chart_has_title_contract_description_and_tooltips(name):
    spec = all_charts()[name].to_dict()
    assert spec["title"]["text"]
    assert spec["title"]["subtitle"] == [CONTRACT]
    assert len(spec["description"]) > 20
    layers = spec.get("layer", [spec])
    assert any("tooltip" in layer.get("encoding", {}) for layer in layers)


def test_renderer_bundle_carries_spec_svg_and_text_alternative():
    chart = charts.sla_by_channel(sla_frame(), CONTRACT)
    bundle = chart._repr_mimebundle_()
    assert alt.renderers.active == "cxpulse"
    assert bundle[charts.VEGALITE_MIME_TYPE]["title"]["text"] == "SLA attainment by channel"
    assert bundle["image/svg+xml"].startswith("<svg")
    assert bundle["text/plain"].startswith("SLA attainment by channel. Horizontal bars")


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
    assert marks == ["line", "rule", "text"]


def test_trend_without_annotations_is_one_line():
    spec = charts.trend(trend_frame(), "net_sentiment", "Net sentiment", CONTRACT).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line"]
    assert "color" not in spec["layer"][0]["encoding"]


def test_volume_by_channel_sums_small_channels_as_other():
    chart = charts.volume_by_channel(volume_frame(), CONTRACT, top=1)
    rows = values(chart)
    on_first = {r["channel"]: r["inbound"] for r in rows if r["day"].startswith("2024-03-01")}
    assert on_first == {"twitter": 10, "other": 6}
    assert chart.to_dict()["encoding"]["color"]["scale"]["range"][-1] == charts.OTHER


def test_volume_by_channel_keeps_days_without_inbound():
    rows = values(charts.volume_by_channel(volume_frame(), CONTRACT))
    second = [r["inbound"] for r in rows if r["day"].startswith("2024-03-02")]
    assert second == [0, 0, 0]
