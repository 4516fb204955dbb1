"""Report sections on the demo warehouse: what the notebooks show, checked as HTML/specs."""

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxpulse import metrics, periods, report, sentiment

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def daily(demo_warehouse):
    return report.open_report("daily", None, demo_warehouse, ROOT / "params")


def test_default_windows_are_the_latest_complete_periods(demo_warehouse):
    # demo data ends 2026-03-20T08:00 UTC (a Friday)
    labels = {
        c: report.open_report(c, None, demo_warehouse, ROOT / "params").period.label
        for c in ("daily", "weekly", "quarterly")
    }
    assert labels == {"daily": "2026-03-19", "weekly": "2026-W11", "quarterly": "2025-Q4"}


def test_headlines_are_three_to_five_sentences_from_the_figures(daily):
    sentences = report.sentences(daily)
    assert 3 <= len(sentences) <= 5
    assert all(s.endswith(".") for s in sentences)
    assert "need" in sentences[0] or "Nothing needs" in sentences[0]


def test_every_kpi_tile_shows_value_change_and_target(daily):
    html = report.kpi_tiles(daily).data
    # all but NPS and CSAT: the daily brief keeps to two pages (the weekly shows them)
    assert html.count('class="cx-tile"') == len(report.KPI_FIELDS) - 2
    assert "vs prior 7-day average" in html and "vs prior 28-day average" in html
    assert "target 90%" in html
    assert 'class="cx-contract"' in html


def test_counts_are_compared_per_day_across_windows_of_different_length(daily):
    week = report.open_report("weekly", None, daily_path(daily), ROOT / "params")
    assert daily.period.days == 1 and week.period.days == 7
    for r in (daily, week):
        inbound_now = r.current["inbound"]
        baseline = r.previous["inbound"]
        assert baseline == pytest.approx(baseline)  # a number, scaled to the window's days
        assert 0.2 < inbound_now / baseline < 5


def daily_path(r: report.Report) -> Path:
    return r.table.get_backend().path


def test_a_quarter_still_running_is_reported_to_date(demo_warehouse):
    r = report.open_report("quarterly", "2026-02-15", demo_warehouse, ROOT / "params")
    assert (r.period.label, str(r.period.last_day)) == ("2026-Q1", "2026-02-15")
    assert r.to_date and "(to date)" in report.scope(r).data


def test_customer_text_is_escaped_in_the_needs_action_list(demo_warehouse, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copy(demo_warehouse, path)
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO interactions (id, channel, brand, direction, author_id, created_at, text, "
        "sentiment, p_negative, p_neutral, p_positive) VALUES ('twitter:evil', 'twitter', "
        "'Northwind Mobile', 'inbound', 'x', TIMESTAMPTZ '2026-03-19 09:00:00+00', "
        "'<script>alert(1)</script> refund now or I sue <b>you</b>', -0.9, 0.95, 0.04, 0.01)"
    )
    con.close()
    r = report.open_report("daily", "2026-03-19", path, ROOT / "params")
    html = report.needs_action(r).data
    assert "twitter:evil" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>you</b>" not in html


def test_a_bidi_override_in_customer_text_is_shown_and_isolated(demo_warehouse, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copy(demo_warehouse, path)
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO interactions (id, channel, brand, direction, author_id, created_at, text, "
        "sentiment, p_negative, p_neutral, p_positive) VALUES ('twitter:spoof', 'twitter', "
        "'Northwind Mobile', 'inbound', 'x', TIMESTAMPTZ '2026-03-19 09:00:00+00', ?, -0.9, "
        "0.92, 0.06, 0.02)",
        ["Outage again \u202eLTR\u202c \u2067RTL\u2069 \u200f!"],
    )
    con.close()
    r = report.open_report("daily", "2026-03-19", path, ROOT / "params")
    html = report.needs_action(r).data
    shown = "<bdi>Outage again [U+202E]LTR[U+202C] [U+2067]RTL[U+2069] [U+200F]!</bdi>"
    assert shown in html
    assert not {"\u202e", "\u202c", "\u2067", "\u2069", "\u200f"} & set(html)
    assert html.count("<td") == html.count("<bdi>")  # every cell isolated


def test_analysts_notes_reach_charts_and_alert_lists(demo_warehouse, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    (params / "annotations.yaml").write_text(
        "annotations:\n  - date: 2026-03-19\n    text: Billing run failed overnight\n"
        "  - date: 2025-01-01\n    text: Far outside every window\n"
    )
    r = report.open_report("daily", None, demo_warehouse, params)
    assert list(r.notes["text"]) == ["Billing run failed overnight"]
    assert "Billing run failed overnight" in report.needs_action(r).data
    spec = report.sentiment_trend(r).to_dict()
    assert "Billing run failed overnight" in str(spec)


def test_bad_annotation_names_file_and_key(demo_warehouse, tmp_path):
    from cxpulse.config import ParamsError

    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    (params / "annotations.yaml").write_text("annotations:\n  - date: 2026-13-40\n    text: x\n")
    r = report.open_report("daily", None, demo_warehouse, params)
    with pytest.raises(ParamsError, match=r"annotations\.yaml: key 'annotations\.0\.date'"):
        _ = r.notes


def test_weekly_and_quarterly_sections_render(demo_warehouse):
    week = report.open_report("weekly", None, demo_warehouse, ROOT / "params")
    quarter = report.open_report("quarterly", None, demo_warehouse, ROOT / "params")
    for section in (
        report.wait_chart,
        report.sla_heatmap,
        report.benchmark_chart,
        report.share_of_voice_chart,
        report.review_trend,
        report.volume_chart,
    ):
        assert section(week).to_dict()["$schema"]  # fmt: skip
    assert quarter.theme_setup.model is not None  # the demo warehouse fits its themes
    assert report.themes_trend_chart(quarter).to_dict()["$schema"]
    for section in (
        report.themes_table,
        report.reputation_table,
        report.alerts_of_period,
        report.benchmark_table,
        report.boundaries_table,
    ):
        assert 'class="cx-contract"' in section(quarter).data  # fmt: skip
    reputation = quarter.reputation
    assert len(reputation) == 8 and reputation["label"].iloc[-1] == quarter.period.label
    assert reputation["index"].dropna().between(0, 100).all()


def test_quarterly_boundaries_list_messages_to_opted_out_customers(demo_warehouse):
    quarter = report.open_report("quarterly", None, demo_warehouse, ROOT / "params")
    html = report.boundaries_table(quarter).data
    assert "cust-99999" in html


def test_summary_for_manifest_and_email_is_plain_json(daily):
    import json

    summary = report.summary(daily)
    json.dumps(summary)
    assert summary["headlines"] == report.sentences(daily)
    daily_kpis = {f[0] for f in report.KPI_FIELDS} - set(report.SURVEY_KPIS)  # weekly has them
    assert {k["key"] for k in summary["kpis"]} == daily_kpis
    assert sum(summary["rows_by_channel"].values()) > 0
    assert isinstance(pd.Series(summary["headline_figures"]).sum(), float)


def test_business_impact_splits_churn_by_how_complaints_were_handled(demo_warehouse, tmp_path):
    import yaml

    quarter = report.open_report("quarterly", None, demo_warehouse, ROOT / "params")
    assert "No customer file configured" in report.business_impact(quarter).data

    con = duckdb.connect(str(demo_warehouse), read_only=True)
    authors = [
        a for (a,) in con.execute(
            "SELECT DISTINCT author_id FROM interactions WHERE brand = 'Northwind Mobile' AND "
            "direction = 'inbound' AND sentiment <= -0.05 AND channel <> 'phone' AND "
            "created_at >= TIMESTAMPTZ '2025-10-01 00:00+00' ORDER BY 1 LIMIT 40"
        ).fetchall()
    ]  # fmt: skip
    con.close()
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    rows = ["customer_id,author_ids,plan_value_month,churned_at"]
    rows += [f"c{i},{a},30,{'2025-12-01' if i % 4 == 0 else ''}" for i, a in enumerate(authors)]
    rows += ["quiet,nobody-writes,50,"]
    (params / "customers.csv").write_text("\n".join(rows) + "\n")
    brand = yaml.safe_load((params / "brand.yaml").read_text())
    brand["customers_file"] = "customers.csv"
    (params / "brand.yaml").write_text(yaml.safe_dump(brand))

    quarter = report.open_report("quarterly", None, demo_warehouse, params)
    html = report.business_impact(quarter).data
    assert "Complaint failed" in html and "No complaint" in html
    assert "Revenue at risk" in html


def test_reputation_reuses_the_headline_records_without_changing_a_figure(demo_warehouse):
    quarter = report.open_report("quarterly", None, demo_warehouse, ROOT / "params")
    reused = quarter.reputation
    computed = metrics.reputation_by_period(
        quarter.table,
        report.reputation_periods(quarter),
        quarter.brand,
        calibration=quarter.calibration,
    )
    pd.testing.assert_frame_equal(reused, computed)
    assert quarter.period.label in set(reused["label"])


def test_a_window_outside_the_data_gives_the_queried_figures_without_a_query(demo_warehouse):
    quarter = report.open_report("quarterly", None, demo_warehouse, ROOT / "params")
    first, last = quarter.data_range
    assert first <= quarter.period.start < last and quarter.holds_rows(quarter.period)
    before = next(
        p for n in range(1, 40) if (p := periods.previous(quarter.period, n)).end <= first
    )
    tz = quarter.period.timezone
    next_day = last.tz_convert(tz).date() + pd.Timedelta(days=1)
    after = periods.span(next_day, next_day + pd.Timedelta(days=6), tz)
    queried = dataclasses.replace(quarter, data_range=None)  # every window queried
    for window in (before, after):
        assert not quarter.holds_rows(window) and queried.holds_rows(window)
        assert quarter.headline_record(window) == {} == queried.headline_record(window)
    shown = report.reputation_periods(quarter)
    assert not quarter.holds_rows(shown[0])
    pd.testing.assert_frame_equal(quarter.reputation, queried.reputation)


@pytest.mark.parametrize("cadence", ["daily", "weekly", "quarterly"])
def test_summary_counts_the_rows_of_the_period_per_channel(demo_warehouse, cadence):
    r = report.open_report(cadence, None, demo_warehouse, ROOT / "params")
    rows = metrics.volume_summary(r.ours, r.period.start, r.period.end, by=["channel"])
    expected = {str(c): int(n) for c, n in zip(rows["channel"], rows["total"], strict=True)}
    assert report.summary(r)["rows_by_channel"] == expected


def test_sentiment_trend_draws_the_90_percent_band_and_names_the_engine(daily):
    spec = report.sentiment_trend(daily).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]][:2] == ["area", "line"]
    contract = " ".join(spec["title"]["subtitle"])
    assert "band: 90% sampling interval" in contract
    assert f"sentiment engine {sentiment.engine_label()}" in contract  # the default engine
    area = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "area")
    assert {area["encoding"]["y"]["field"], area["encoding"]["y2"]["field"]} == {
        "chance_low",
        "chance_high",
    }  # sampling error only: the engine's error is a bias every day shares
    voices = daily.daily_voices
    assert (voices["net_low"] <= voices["net_sentiment"]).all()
    assert (voices["net_sentiment"] <= voices["net_high"]).all()


def test_weekly_tiles_show_nps_and_csat_with_their_intervals(demo_warehouse):
    week = report.open_report("weekly", None, demo_warehouse, ROOT / "params")
    html = report.kpi_tiles(week).data
    assert html.count('class="cx-tile"') == len(report.KPI_FIELDS)
    nps = next(k for k in report.kpis(week) if k.key == "nps")
    assert nps.current == week.current["nps"] and -100 <= nps.current <= 100
    assert nps.interval == (week.current["nps_low"], week.current["nps_high"])
    assert f"90% interval {nps.interval_text}" in html
    assert report.SURVEY_CONTRACT in html
    table = report.survey_table(week).data
    assert "All channels" in table and "Chat" in table


def test_net_sentiment_tile_shows_its_interval(daily):
    html = report.kpi_tiles(daily).data
    assert html.count("90% interval") == 1 + 1  # the net sentiment tile, and the contract
    engine = f"sentiment engine {sentiment.engine_label()}; shares PACC-estimated"
    assert engine in html and "changes judged on sampling error" in html
    (k,) = [k for k in report.kpis(daily) if k.key == "net_sentiment"]
    assert k.interval == (daily.current["net_low"], daily.current["net_high"])
    assert k.previous_interval == (daily.previous["net_low"], daily.previous["net_high"])


def test_a_calibration_corrects_every_sentiment_figure_and_says_so(demo_warehouse):
    from conftest import SYMMETRIC

    plain = report.open_report("daily", None, demo_warehouse, ROOT / "params")
    corrected = report.open_report("daily", None, demo_warehouse, ROOT / "params")
    corrected.__dict__["calibration"] = SYMMETRIC  # what metrics.sentiment_calibration returns
    assert corrected.current["net_sentiment"] != plain.current["net_sentiment"]
    assert corrected.reputation["net_sentiment"].iloc[-1] == corrected.current["net_sentiment"]
    method = report.sentiment_method(corrected)
    assert "shares PACC-estimated" in method and "(±6 pts)" in method
    assert "PACC" in " ".join(report.sentiment_trend(corrected).to_dict()["title"]["subtitle"])


def test_monthly_compares_with_the_previous_month_and_the_same_month_last_year(demo_warehouse):
    r = report.open_report("monthly", None, demo_warehouse, ROOT / "params")
    assert r.period.label == "2026-02"  # demo data ends 2026-03-20
    assert [(c.label, c.period.label) for c in r.comparisons] == [
        ("previous month", "2026-01"),
        ("same month last year", "2025-02"),
    ]
    start, end = r.trend_window  # 13 months: February 2025 to February 2026, London time
    assert (start, end) == (pd.Timestamp("2025-02-01", tz="UTC"), r.period.end)
    assert "vs same month last year" in report.kpi_tiles(r).data


def test_a_reputation_row_is_compared_with_the_same_period_a_year_before(demo_warehouse):
    r = report.open_report("monthly", None, demo_warehouse, ROOT / "params")
    frame = r.reputation.set_index("label")["index"]
    assert len(frame) == 13
    html = report.reputation_table(r).data
    expected = report.fmt.change_text(frame["2026-02"], frame["2025-02"], "points")
    rows = html.split("<tr")[2:]  # newest first, after the header
    assert expected in rows[0] and "—" in rows[1]  # 2026-01's year ago is not in the table


def test_annual_reputation_is_by_whole_quarter_over_the_years_held(demo_warehouse):
    # The demo's 400 days start in February 2025: 2025-Q1 is held only in part.
    r = report.open_report("annual", "2026-03-19", demo_warehouse, ROOT / "params")
    assert (r.period.label, r.comparisons[0].period.label) == ("2026", "2025")
    labels = r.reputation_by_quarter["label"].tolist()
    assert labels == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    assert 'class="cx-contract"' in report.reputation_quarters_table(r).data
    assert report.reputation_quarters_chart(r).to_dict()["$schema"]


def test_a_long_trend_window_draws_sentiment_per_week(demo_warehouse):
    r = report.open_report("monthly", None, demo_warehouse, ROOT / "params")
    spec = report.sentiment_trend(r).to_dict()
    assert "per week" in str(spec["title"])
    assert len(spec["datasets"][next(iter(spec["datasets"]))]) <= 60


def test_calls_table_shows_the_computed_call_figures(demo_warehouse):
    r = report.open_report("weekly", None, demo_warehouse, ROOT / "params")
    calls = metrics.call_summary(r.ours, r.period.start, r.period.end, calls=r.brand.calls)
    x = calls.iloc[0]
    html = report.calls_table(r).data
    for label, text in [
        ("Offered (reached the queue)", report.fmt.count(x.offered_calls)),
        ("Abandoned in the queue", report.fmt.count(x.abandoned_calls)),
        ("Ended in the IVR (not offered)", report.fmt.count(x.ivr_calls)),
        ("Average handle time", report.fmt.duration(x.aht_s)),
    ]:
        row = next(row for row in html.split("<tr") if label in row)
        assert f"<bdi>{text}</bdi>" in row, label
    assert html.count("vs same week last year") == 1
    assert "handle time = mean talk time of served calls" in html


def test_a_window_without_calls_says_so(demo_warehouse):
    r = report.open_report("daily", "2025-02-01", demo_warehouse, ROOT / "params")
    r.table = r.table.filter(r.table.channel != "phone")
    assert "No phone calls in this window." in report.calls_table(r).data


def test_handle_time_is_a_tile_without_a_verdict(daily):
    tile = next(k for k in report.kpis(daily) if k.key == "aht_s")
    assert tile.current == daily.current["aht_s"] and tile.better is None
    assert "Handle time (calls)" in report.kpi_tiles(daily).data


def test_response_table_shows_business_hours_where_the_target_counts_them(daily):
    week = report.open_report("weekly", None, daily_path(daily), ROOT / "params")
    html = report.response_table(week).data
    email = next(row for row in html.split("<tr") if "<bdi>Email</bdi>" in row)
    twitter = next(row for row in html.split("<tr") if "<bdi>Twitter</bdi>" in row)
    business = week.by_channel.set_index("channel").loc["email", "frt_median_business_s"]
    assert f"<bdi>{report.fmt.duration(business)}</bdi>" in email
    assert "<bdi>24 h business</bdi>" in email
    assert "<bdi>1 h clock</bdi>" in twitter and "<bdi>—</bdi>" in twitter
    assert "Business hours" in html and "holidays off; email" in html


def test_the_daily_brief_leads_with_new_and_ongoing_spikes_and_folds_past_ones(daily):
    path = daily_path(daily)
    spike = daily.actions.spikes.iloc[-1]  # the demo's outage, about ten days before the end
    first = spike["start_day"].date()
    on_day = report.open_report("daily", str(first), path, ROOT / "params")
    assert report.current_spikes(on_day)["status"].tolist()[-1:] == ["new"]
    assert "<bdi>New</bdi>" in report.needs_action(on_day).data
    assert "complaint spike" in report.sentences(on_day)[0]

    after = first + pd.Timedelta(days=1)
    next_day = report.open_report("daily", str(after), path, ROOT / "params")
    assert "ongoing" in report.spikes_with_status(next_day)["status"].tolist()

    assert report.current_spikes(daily).empty  # ten days later: past, one folded line
    html = report.needs_action(daily).data
    assert "No new or ongoing spike in negative messages." in html
    assert f'class="cx-folded">Over, earlier in the trend window: 1 spike, {first:%d %b}' in html
    assert "complaint spike" not in report.sentences(daily)[0]


def test_themes_table_ranks_named_themes_with_escaped_examples(demo_warehouse):
    week = report.open_report("weekly", None, demo_warehouse, ROOT / "params")
    frame = week.theme_frame
    named = frame[frame["theme_id"] != "other"]
    assert len(named) >= 5 and named["messages"].is_monotonic_decreasing
    assert frame["theme_id"].iloc[-1] == "other"
    html = report.themes_table(week).data
    for label in named["label"].head(3):
        assert f"<strong><bdi>{label}</bdi></strong>" in html
    assert html.count('class="cx-example"') >= 2 * len(named.head(report.THEME_ROWS))
    assert "NMF on TF-IDF" in html and "vs previous week" in html
    members = report.theme_members(week).execute()
    present = frame[frame["messages"] > 0]
    assert members.groupby("theme_id").size().to_dict() == dict(
        zip(present["theme_id"], present["messages"], strict=True)
    )


def test_a_theme_appearing_today_is_a_needs_action_item(demo_warehouse, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copy(demo_warehouse, path)
    shutil.copytree(demo_warehouse.with_suffix(".themes"), path.with_suffix(".themes"))
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    (params / "themes.yaml").write_text(
        "pinned:\n  - name: Lost <i>SIM</i> cards\n    phrases: [sim card lost]\n"
    )
    con = duckdb.connect(str(path))
    for n in range(6):
        con.execute(
            "INSERT INTO interactions (id, channel, brand, direction, author_id, created_at, "
            "text, sentiment, p_negative, p_neutral, p_positive) VALUES (?, 'twitter', "
            "'Northwind Mobile', 'inbound', 'x', TIMESTAMPTZ '2026-03-19 09:00:00+00', ?, "
            "-0.9, 0.95, 0.04, 0.01)",
            [f"twitter:sim{n}", f"My SIM card lost in the post <script>x</script> #{n}"],
        )
    con.close()
    r = report.open_report("daily", "2026-03-19", path, params)
    html = report.needs_action(r).data
    assert "Lost &lt;i&gt;SIM&lt;/i&gt; cards (rising)" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    week = report.open_report("weekly", "2026-03-19", path, params)
    assert "Lost &lt;i&gt;SIM&lt;/i&gt; cards" in report.themes_table(week).data


def test_a_taxonomy_naming_an_unknown_theme_names_file_and_key(demo_warehouse, tmp_path):
    from cxpulse.config import ParamsError

    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    (params / "themes.yaml").write_text("names:\n  T999: Billing\n")
    week = report.open_report("weekly", None, demo_warehouse, params)
    with pytest.raises(ParamsError, match=r"themes\.yaml: key 'names\.T999': no theme T999"):
        report.themes_table(week)


def stored_in_order(source: Path, target: Path, order: str) -> Path:
    """A copy of the warehouse ``source`` whose interactions are stored ``ORDER BY order``
    in row groups of 2,048 rows, so DuckDB can skip the row groups outside a period."""
    shutil.copytree(source.with_suffix(".themes"), target.with_suffix(".themes"))
    con = duckdb.connect()
    con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
    con.execute(f"ATTACH '{target}' AS dst (ROW_GROUP_SIZE 2048)")
    for (table,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'"
    ).fetchall():
        ordered = f" ORDER BY {order}" if table == "interactions" else ""
        con.execute(f"CREATE TABLE dst.{table} AS FROM src.{table}{ordered}")
    con.close()
    return target


def rounded(value: object) -> object:
    """``value`` with every float rounded to 9 significant digits, in lists and dicts."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


@pytest.mark.parametrize("cadence", ["daily", "weekly", "quarterly"])
def test_figures_are_the_same_whatever_order_the_rows_are_stored_in(
    demo_warehouse, tmp_path, cadence
):
    by_time = stored_in_order(demo_warehouse, tmp_path / "by-time.duckdb", "created_at")
    shuffled = stored_in_order(demo_warehouse, tmp_path / "shuffled.duckdb", "hash(id)")
    con = duckdb.connect(str(by_time), read_only=True)
    row_groups = con.execute(
        "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('interactions')"
    ).fetchone()[0]
    con.close()
    assert row_groups > 10  # a period's bounds skip row groups of the time-ordered copy
    reports = [report.open_report(cadence, None, w, ROOT / "params") for w in (by_time, shuffled)]
    first, second = (report.summary(r) for r in reports)
    assert rounded(first) == rounded(second)  # sums of floats in another order: 1e-12 apart
    pd.testing.assert_frame_equal(reports[0].by_channel, reports[1].by_channel, rtol=1e-9)
