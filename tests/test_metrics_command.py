import pandas as pd
import pytest

from cxpulse import schema, warehouse
from cxpulse.config import ParamsError
from cxpulse.metrics import HEADLINE_FIELDS, metrics_command, open_table

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
    assert list(t.columns) == list(schema.COLUMNS)


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
