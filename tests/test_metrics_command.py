import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cxpulse import cli, config, schema, warehouse
from cxpulse.config import ParamsError
from cxpulse.metrics import HEADLINE_FIELDS, command, metrics_command, open_table
from cxpulse.metrics.command import REGISTRY, frame_text

BRAND_YAML = """\
brand: Northwind
timezone: Europe/London
sla_targets_s: {twitter: 3600}
"""

ROWS = [
    {"id": "tw:1", "brand": "Northwind", "created_at": "2024-03-30 23:30"},  # 30 Mar GMT
    {"id": "tw:2", "brand": "Northwind", "created_at": "2024-03-31 23:30"},  # 1 Apr BST
    {"id": "em:1", "brand": "Northwind", "created_at": "2024-03-31 12:00", "channel": "email"},
    {"id": "tw:3", "brand": "Contoso", "created_at": "2024-03-31 12:00"},
    # the answer to tw:2 at 09:30 BST on Monday 1 April: 9 h, of which 30 min in business hours
    {"id": "tw:4", "brand": "Northwind", "created_at": "2024-04-01 08:30",
     "direction": "outbound", "parent_id": "tw:2"},
]  # fmt: skip


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics_command")
    (root / "brand.yaml").write_text(BRAND_YAML)
    path = root / "warehouse.duckdb"
    defaults = {"direction": "inbound", "channel": "twitter"}
    frame = pd.DataFrame([{**defaults, **row} for row in ROWS])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    con = warehouse.connect(path)
    warehouse.store(con, schema.conform(frame))
    con.close()
    return path, root


def run(setup, **kwargs) -> pd.DataFrame:
    path, params = setup
    defaults = {"start": None, "end": None, "cadence": None, "as_of": None, "brand": None}
    return metrics_command(
        warehouse=path,
        params_dir=params,
        **{**defaults, "channel": None, "by": [], **kwargs},
    )


def test_open_table_reads_the_interactions_of_a_warehouse_file(setup):
    t = open_table(setup[0])
    assert t.count().execute() == 5
    assert list(t.columns) == list(schema.TABLE_COLUMNS)


EXIT_AS_THE_READER_CLOSES = """
import sys, time
from cxpulse.metrics.command import WarehouseReader, open_table
open_table(sys.argv[1]).count().execute()
time.sleep(WarehouseReader.LINGER_S + float(sys.argv[2]))
"""


@pytest.mark.parametrize("late_s", [0.0, 0.002, 0.005])
def test_a_process_that_exits_as_its_reader_closes_exits_cleanly(setup, late_s):
    # the reader's timer closed the warehouse while the interpreter shut down: abort (134)
    done = subprocess.run(
        [sys.executable, "-c", EXIT_AS_THE_READER_CLOSES, str(setup[0]), str(late_s)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_open_table_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no warehouse here"):
        open_table(tmp_path / "nothing.duckdb")


def test_from_and_to_are_local_days_inclusive(setup):
    frame = run(setup, start="2024-03-31", end="2024-03-31")
    assert list(frame.columns) == list(HEADLINE_FIELDS)
    assert frame.iloc[0]["inbound"] == 2  # tw:1 is 30 March, tw:2 is 1 April in London


def test_brand_channel_and_by_narrow_and_group(setup):
    frame = run(
        setup, start="2024-03-30", end="2024-04-01", brand="Northwind", channel="twitter",
        by=["day"],
    )  # fmt: skip
    assert [d.date().isoformat() for d in frame["day"]] == ["2024-03-30", "2024-04-01"]
    assert frame["inbound"].tolist() == [1, 1]


def test_by_hour_groups_by_the_local_hour(setup):
    frame = run(setup, start="2024-03-30", end="2024-04-01", by=["hour"])
    # 23:30 GMT on 30 March; 12:00 UTC = 13:00 BST and 23:30 UTC = 00:30 BST on the 31st
    assert frame[["hour", "inbound"]].values.tolist() == [[0, 1], [13, 2], [23, 1]]


def test_first_response_in_business_hours_follows_the_brand_calendar(setup):
    got = run(setup, start="2024-04-01", end="2024-04-01").iloc[0]  # default hours, 09-17
    assert (got["frt_median_s"], got["frt_median_business_s"]) == (9 * 3600, 1800)


def test_cadence_and_as_of_choose_the_period(setup):
    frame = run(setup, cadence="weekly", as_of="2024-03-27", by=["brand"])
    assert frame[["brand", "inbound"]].values.tolist() == [["Contoso", 1], ["Northwind", 2]]


def test_quarters_follow_the_fiscal_year_of_brand_yaml(setup, tmp_path):
    path, _ = setup
    (tmp_path / "brand.yaml").write_text(BRAND_YAML + "fiscal_year_start_month: 2\n")
    fiscal = run((path, tmp_path), cadence="quarterly", as_of="2024-03-15", by=["brand"])
    calendar = run(setup, cadence="quarterly", as_of="2024-03-15", by=["brand"])
    # FY2025-Q1 is February to April 2024, so it holds tw:2 of 1 April; calendar Q1 does not
    assert fiscal[["brand", "inbound"]].values.tolist() == [["Contoso", 1], ["Northwind", 3]]
    assert calendar[["brand", "inbound"]].values.tolist() == [["Contoso", 1], ["Northwind", 2]]


def test_cadence_alone_reports_the_last_full_day_of_data(setup):
    # the newest row is on 1 April local, so the last full day is 31 March
    assert run(setup, cadence="daily", by=["brand"])["inbound"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2024-03-01", "end": "2024-03-02", "cadence": "weekly"}, "not both"),
        ({"start": "2024-03-01"}, "go together"),
        ({"start": "2024-03-02", "end": "2024-03-01"}, "before --from"),
        ({"start": "2024-3-1", "end": "2024-03-02"}, "--from: expected a date"),
        ({"as_of": "2024-03-01"}, "--as-of needs --cadence"),
        ({"cadence": "hourly"}, "unknown cadence"),
        ({"cadence": "daily", "by": ["month"]}, "--by: unknown month"),
        ({"cadence": "daily", "channel": "fax"}, "--channel: unknown channel 'fax'"),
    ],
)
def test_bad_combinations_raise_a_clear_params_error(setup, kwargs, message):
    with pytest.raises(ParamsError, match=message):
        run(setup, **kwargs)


# cxpulse metrics --metric NAME: every metric of the catalogue from the command line

PARAMS = Path(__file__).resolve().parents[1] / "params"
WEEK = ["--cadence", "weekly", "--as-of", "2026-03-12"]  # 9-15 March 2026 of the demo data
QUARTER = ["--cadence", "quarterly", "--as-of", "2026-03-01"]


def cli_metrics(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["-q", "metrics", *args])
    out, err = capsys.readouterr()
    return code, out, err


def demo_metrics(capsys, warehouse: Path, *args: str) -> str:
    code, out, err = cli_metrics(
        capsys, "--warehouse", str(warehouse), "--params", str(PARAMS), *args
    )
    assert code == 0, err
    return out


def demo_json(capsys, warehouse: Path, *args: str) -> list[dict]:
    return json.loads(demo_metrics(capsys, warehouse, *args, "--json"))


# metric -> (window, columns its table shows)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "headline": (WEEK, ["frt_median_business_s", "net_sentiment", "offered_calls"]),
    "response": (WEEK, ["response_rate", "frt_median_business_s", "sla_attainment"]),
    "calls": (WEEK, ["offered_calls", "service_level", "aht_s"]),
    "reviews": (WEEK, ["reviews", "mean_rating", "one_star"]),
    "survey": (WEEK, ["responses", "nps", "nps_low", "nps_high", "csat"]),
    "nps-by-channel": (WEEK, ["rated_channel", "responses", "nps", "csat"]),
    "sentiment": (WEEK, ["positive_share", "net_sentiment", "net_low", "net_high"]),
    "volume": (WEEK, ["inbound", "outbound", "mentions", "total"]),
    "daily": (WEEK, ["day", "negative", "frt_median_s"]),
    "hour-of-week": (WEEK, ["weekday", "hour", "inbound"]),
    "sla-hour-of-week": (WEEK, ["weekday", "hour", "due", "sla_attainment"]),
    "wait": (WEEK, ["channel", "wait_median_s", "unanswered_share"]),
    "urgent": (WEEK, ["id", "overdue_s", "reasons"]),
    "spikes": (WEEK, ["peak_day", "peak_negative", "severity"]),
    "viral": (WEEK, ["id", "reach", "engagement"]),
    "worst-reviews": (WEEK, ["id", "rating", "text"]),
    "benchmark": (WEEK, ["brand", "frt_median_s", "rank"]),
    "share-of-voice": (WEEK, ["brand", "mentions", "share"]),
    "engagement": (WEEK, ["posts", "reach", "engagement_rate"]),
    "top-issues": (WEEK, ["phrase", "count", "share_of_negative"]),
    "rising-issues": (WEEK, ["phrase", "previous_count", "change"]),
    "themes": (WEEK, ["theme_id", "label", "messages", "share", "change", "example_ids"]),
    "spend": (WEEK, ["channel", "cost_share", "gap"]),
    "boundaries": (QUARTER, ["id", "author_id", "text"]),
}
TESTED_ELSEWHERE = {"reputation", "churn"}  # on the small warehouse; with --customers


def test_every_registered_metric_is_run_from_the_command_line_here():
    assert set(CASES) | TESTED_ELSEWHERE == set(REGISTRY)


@pytest.mark.parametrize("name", list(CASES))
def test_metric_prints_a_table_with_its_columns(capsys, demo_warehouse, name):
    window, columns = CASES[name]
    out = demo_metrics(capsys, demo_warehouse, "--metric", name, *window)
    header = out.splitlines()[0].split()
    assert set(columns) <= set(header)


def test_metric_defaults_to_the_headline(capsys, demo_warehouse):
    default = demo_json(capsys, demo_warehouse, *WEEK)
    assert default == demo_json(capsys, demo_warehouse, "--metric", "headline", *WEEK)
    assert list(default[0]) == list(HEADLINE_FIELDS)


def test_json_records_carry_the_by_groups(capsys, demo_warehouse):
    rows = demo_json(capsys, demo_warehouse, "--metric", "volume", "--by", "channel", *WEEK)
    whole = demo_json(capsys, demo_warehouse, "--metric", "volume", *WEEK)
    assert {"twitter", "phone", "review"} <= {r["channel"] for r in rows}
    assert sum(r["total"] for r in rows) == whole[0]["total"]


def test_brand_narrows_a_metric_that_filters_and_names_ours_for_the_others(capsys, demo_warehouse):
    everyone = demo_json(capsys, demo_warehouse, "--metric", "volume", *WEEK)
    contoso = ["--brand", "Contoso Telecom", *WEEK]
    narrowed = demo_json(capsys, demo_warehouse, "--metric", "volume", *contoso)
    assert 0 < narrowed[0]["total"] < everyone[0]["total"]
    ours = demo_json(capsys, demo_warehouse, "--metric", "share-of-voice", *WEEK)
    theirs = demo_json(capsys, demo_warehouse, "--metric", "share-of-voice", *contoso)
    assert [r["brand"] for r in ours] == [
        "Northwind Mobile", "Contoso Telecom", "Fabrikam Wireless", "Tailspin Connect"
    ]  # fmt: skip
    assert [r["brand"] for r in theirs] == [
        "Contoso Telecom", "Northwind Mobile", "Fabrikam Wireless", "Tailspin Connect"
    ]  # fmt: skip


def test_spikes_read_the_28_days_before_the_window_and_list_episodes_ending_in_it(
    capsys, demo_warehouse
):
    ours = ["--brand", "Northwind Mobile"]  # the demo's outage is ours
    one_day = demo_json(capsys, demo_warehouse, "--metric", "spikes", "--from", "2026-03-09",
                        "--to", "2026-03-09", *ours)  # fmt: skip
    assert [r["peak_day"][:10] for r in one_day] == ["2026-03-09"]
    after = demo_json(capsys, demo_warehouse, "--metric", "spikes", "--from", "2026-03-11",
                      "--to", "2026-03-15", *ours)  # fmt: skip
    assert after == []  # the episode of 9-10 March ended before


def test_churn_reads_the_customer_file(capsys, demo_warehouse, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id,author_ids,plan_value_month,churned_at\n"
        "c1,cust-104555;cust-103104,40,2026-03-15\nc2,cust-117317,30,\nc3,cust-100001,25,\n"
    )
    rows = demo_json(capsys, demo_warehouse, "--metric", "churn", "--customers", str(path),
                     "--cadence", "monthly", "--as-of", "2026-03-01")  # fmt: skip
    assert [r["care"] for r in rows] == ["failed", "in_time", "no_complaint"]
    assert sum(r["customers"] for r in rows) == 3


def test_reputation_covers_the_last_eight_periods_of_the_cadence(capsys, setup):
    path, params = setup
    where = ["--warehouse", str(path), "--params", str(params), "--metric", "reputation", "--json"]
    code, out, err = cli_metrics(capsys, *where, "--cadence", "weekly", "--as-of", "2024-04-01")
    assert code == 0, err
    assert [r["label"] for r in json.loads(out)] == [f"2024-W{w:02d}" for w in range(7, 15)]


def test_reputation_is_quarterly_without_a_cadence(capsys, setup, monkeypatch):
    seen = []

    def record(t, periods, brand, calibration=None):
        seen.extend(periods)
        return pd.DataFrame()

    monkeypatch.setattr(command, "reputation_by_period", record)
    path, params = setup
    where = ["--warehouse", str(path), "--params", str(params), "--metric", "reputation"]
    code, _, err = cli_metrics(capsys, *where, "--from", "2024-03-30", "--to", "2024-04-01")
    assert code == 0, err
    assert [p.label for p in seen] == [
        "2022-Q3", "2022-Q4", "2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2"
    ]  # fmt: skip


def test_rising_issues_compare_with_the_equally_long_window_before_a_span(
    capsys, setup, monkeypatch
):
    seen = []

    def record(t, current, previous, brand, negative_probability=0.5):
        seen.append((current.first_day.isoformat(), previous.first_day.isoformat(),
                     previous.last_day.isoformat(), brand))  # fmt: skip
        return pd.DataFrame()

    monkeypatch.setattr(command, "rising_issues", record)
    path, params = setup
    where = ["--warehouse", str(path), "--params", str(params), "--metric", "rising-issues"]
    code, _, err = cli_metrics(capsys, *where, "--from", "2024-03-30", "--to", "2024-04-01")
    assert code == 0, err
    assert seen == [("2024-03-30", "2024-03-27", "2024-03-29", "Northwind")]


def test_list_metrics_prints_every_name_with_its_summary(capsys, tmp_path):
    code, out, _ = cli_metrics(capsys, "--warehouse", str(tmp_path / "none.duckdb"),
                               "--list-metrics")  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == list(REGISTRY)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "nps"], "--metric: unknown metric 'nps'"),
        (["--metric", "spikes", "--by", "day"], "metric 'spikes' does not group"),
        (["--metric", "churn"], "metric 'churn' needs --customers PATH"),
        (["--metric", "volume", "--customers", "c.csv"], "--customers: only metric churn"),
        (["--metric", "benchmark", "--brand", "Contoso"], "compares every brand"),
    ],
)
def test_metric_options_it_cannot_take_exit_2_with_a_clear_message(capsys, setup, args, message):
    path, params = setup
    code, out, err = cli_metrics(capsys, "--warehouse", str(path), "--params", str(params), *args)
    assert (code, out) == (2, "")
    assert message in err


def test_a_missing_customer_file_is_named(capsys, setup, tmp_path):
    path, params = setup
    missing = tmp_path / "customers.csv"
    code, _, err = cli_metrics(capsys, "--warehouse", str(path), "--params", str(params),
                               "--metric", "churn", "--customers", str(missing))  # fmt: skip
    assert code == 2
    assert f"{missing}: file not found" in err


def test_table_puts_long_texts_on_one_line_and_cuts_them():
    text = frame_text(pd.DataFrame({"id": ["a:1"], "text": ["line one\nline two " + "x" * 100]}))
    row = text.splitlines()[1]
    assert "line one line two" in row
    assert row.rstrip().endswith("…")
    assert len(row) < 100


def test_spark_without_a_lake_or_table_says_what_it_needs(setup):
    with pytest.raises(ParamsError, match=r"engine spark needs a lake \(--lake DIR"):
        run(setup, engine="spark")


def test_spark_on_a_folder_that_is_not_a_lake_names_it(setup, tmp_path):
    with pytest.raises(ParamsError, match="not a lake .no _lake.json; run 'cxpulse lake"):
        run(setup, engine="spark", lake=tmp_path)


def test_brand_yaml_engine_takes_a_lake_or_a_table_not_both(tmp_path):
    (tmp_path / "brand.yaml").write_text(
        "brand: Northwind\nengine: {name: spark, lake: data/lake, table: care.interactions}\n"
    )
    with pytest.raises(ParamsError, match="give lake or table, not both"):
        config.load_brand(tmp_path)
