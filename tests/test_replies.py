"""Each inbound message's first reply, stored in the warehouse (``replies``): its
definition, its upkeep by ``warehouse.store`` and its migration."""

import duckdb
import pandas as pd
import pytest

from cxpulse import replies, schema, warehouse
from cxpulse.config import ParamsError
from cxpulse.metrics import first_responses, open_table

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def rows(*items: dict) -> pd.DataFrame:
    base = {"channel": "twitter", "brand": "Northwind", "direction": "inbound"}
    frame = pd.DataFrame([{**base, **item} for item in items])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return schema.conform(frame)


def reply(id_: str, parent: str, at: str, brand: str = "Northwind") -> dict:
    return {"id": id_, "direction": "outbound", "parent_id": parent, "created_at": at,
            "brand": brand}  # fmt: skip


def stored(con: duckdb.DuckDBPyConnection) -> dict[str, pd.Timestamp | None]:
    """id -> first_reply_at of every row (UTC; None when null)."""
    frame = con.execute(
        "SELECT id, epoch_us(first_reply_at) AS us FROM interactions ORDER BY id"
    ).df()
    return {
        row.id: None if pd.isna(row.us) else pd.Timestamp(int(row.us), unit="us", tz="UTC")
        for row in frame.itertuples()
    }


def from_scratch(con: duckdb.DuckDBPyConnection) -> dict[str, pd.Timestamp | None]:
    """``stored`` after computing the column again for every row."""
    con.execute("CREATE OR REPLACE TABLE again AS FROM interactions")
    con.execute("UPDATE again SET first_reply_at = NULL")
    replies.fill(con, "again")
    frame = con.execute("SELECT id, epoch_us(first_reply_at) AS us FROM again ORDER BY id").df()
    con.execute("DROP TABLE again")
    return {
        row.id: None if pd.isna(row.us) else pd.Timestamp(int(row.us), unit="us", tz="UTC")
        for row in frame.itertuples()
    }


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_the_first_reply_is_the_earliest_of_the_brand_from_a_day_before_the_message(make_table):
    t = make_table(
        [
            {"id": "tw:1", "created_at": "2024-03-04 09:00"},
            reply("tw:r1", "tw:1", "2024-03-04 11:00"),
            reply("tw:r2", "tw:1", "2024-03-04 10:00"),
            reply("tw:c1", "tw:1", "2024-03-04 09:30", brand="Rival"),  # not our answer
            {"id": "tw:2", "created_at": "2024-03-04 12:00"},
            reply("tw:r3", "tw:2", "2024-03-03 13:00"),  # 23 h before: a clock skew, counts
            {"id": "tw:3", "created_at": "2024-03-04 12:00"},
            reply("tw:r4", "tw:3", "2024-03-03 11:00"),  # 25 h before: a clock error
            {"id": "tw:4", "created_at": "2024-03-04 12:00"},  # unanswered
            {"id": "tw:5", "direction": "mention", "created_at": "2024-03-04 12:00"},
            reply("tw:r5", "tw:5", "2024-03-04 13:00"),  # a mention is no message
        ]
    )
    got = t.select("id", "first_reply_at").execute().set_index("id")["first_reply_at"]
    assert got["tw:1"] == utc("2024-03-04 10:00")
    assert got["tw:2"] == utc("2024-03-03 13:00")
    assert got[["tw:3", "tw:4", "tw:5", "tw:r1"]].isna().all()


def test_the_lookback_is_each_messages_own_not_the_windows(make_table):
    """The deliberate change: a reply stamped 25 h before its message late in the window
    is within a day of the window's start (the old bound) but is not its reply."""
    t = make_table(
        [
            {"id": "tw:late", "created_at": "2024-03-04 20:00"},
            reply("tw:early", "tw:late", "2024-03-03 19:00"),
        ]
    )
    frame = first_responses(t, START, END).execute().set_index("id")
    assert pd.isna(frame.loc["tw:late", "first_reply_at"])
    assert pd.isna(frame.loc["tw:late", "frt_s"])


def test_a_reply_after_until_is_not_seen(make_table):
    t = make_table(
        [
            {"id": "tw:1", "created_at": "2024-03-04 09:00"},
            reply("tw:r", "tw:1", "2024-03-04 10:00"),
        ]
    )
    before = first_responses(t, START, END, until=utc("2024-03-04 09:59")).execute()
    at = first_responses(t, START, END, until=utc("2024-03-04 10:00")).execute()
    assert pd.isna(before["frt_s"].iloc[0]) and at["frt_s"].iloc[0] == 3600.0


def test_store_keeps_first_replies_current_as_files_arrive(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.store(
        con,
        rows(
            {"id": "tw:1", "created_at": "2024-03-04 09:00"},
            {"id": "tw:2", "created_at": "2024-03-04 09:00"},
            reply("tw:r1", "tw:1", "2024-03-04 12:00"),
            reply("tw:early", "tw:9", "2024-03-04 08:00"),  # its message comes later
        ),
    )
    assert stored(con)["tw:1"] == utc("2024-03-04 12:00")
    # a later file: an earlier reply to tw:1 arrives late, tw:2 is answered, the message
    # tw:9 arrives after its reply
    warehouse.store(
        con,
        rows(
            reply("tw:r0", "tw:1", "2024-03-04 10:00"),
            reply("tw:r2", "tw:2", "2024-03-05 09:00"),
            {"id": "tw:9", "created_at": "2024-03-04 07:00"},
        ),
    )
    got = stored(con)
    assert got["tw:1"] == utc("2024-03-04 10:00")
    assert got["tw:2"] == utc("2024-03-05 09:00")
    assert got["tw:9"] == utc("2024-03-04 08:00")
    # a restated export links the reply tw:r0 to tw:2 instead: tw:1 falls back to tw:r1
    warehouse.store(con, rows(reply("tw:r0", "tw:2", "2024-03-04 10:00")))
    got = stored(con)
    assert got["tw:1"] == utc("2024-03-04 12:00")
    assert got["tw:2"] == utc("2024-03-04 10:00")
    assert got == from_scratch(con)
    # the same file again changes nothing
    warehouse.store(con, rows(reply("tw:r0", "tw:2", "2024-03-04 10:00")))
    assert stored(con) == got


def test_a_warehouse_from_before_the_column_gets_it_computed_when_opened(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    columns = ", ".join(f"{c} {t}" for c, t in schema.COLUMNS.items())
    con.execute(f"CREATE TABLE interactions ({columns})")
    con.register("batch", rows(
        {"id": "tw:1", "created_at": "2024-03-04 09:00"},
        reply("tw:r1", "tw:1", "2024-03-04 09:30"),
        {"id": "tw:2", "created_at": "2024-03-04 09:00"},
    ))  # fmt: skip
    con.execute("INSERT INTO interactions SELECT * FROM batch")
    con.close()
    con = warehouse.connect(path)
    assert list(schema.TABLE_COLUMNS) == [
        name
        for (name,) in con.execute("SELECT column_name FROM (DESCRIBE interactions)").fetchall()
    ]
    assert stored(con) == {"tw:1": utc("2024-03-04 09:30"), "tw:2": None, "tw:r1": None}
    con.close()
    again = warehouse.connect(path)  # opened again: kept as it is
    assert stored(again)["tw:1"] == utc("2024-03-04 09:30")


def test_a_report_on_a_warehouse_not_yet_migrated_says_what_to_do(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        f"CREATE TABLE interactions ({', '.join(f'{c} {t}' for c, t in schema.COLUMNS.items())})"
    )
    con.close()
    with pytest.raises(ParamsError, match="first_reply_at not yet computed .*open it for writing"):
        open_table(path)


def test_an_upgrade_stopped_after_adding_the_column_is_done_again_at_the_next_open(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    columns = ", ".join(f"{c} {t}" for c, t in schema.COLUMNS.items())
    con.execute(f"CREATE TABLE interactions ({columns})")
    con.register("batch", rows(
        {"id": "tw:1", "created_at": "2024-03-04 09:00"},
        reply("tw:r1", "tw:1", "2024-03-04 09:30"),
    ))  # fmt: skip
    con.execute("INSERT INTO interactions SELECT * FROM batch")
    # what a migration killed during replies.fill leaves: the column added, still null
    con.execute("ALTER TABLE interactions ADD COLUMN first_reply_at TIMESTAMPTZ")
    con.close()
    with pytest.raises(ParamsError, match="first_reply_at not yet computed"):
        open_table(path)
    con = warehouse.connect(path)
    assert stored(con)["tw:1"] == utc("2024-03-04 09:30")
    con.close()
    assert "first_reply_at" in open_table(path).columns


@pytest.mark.parametrize("batch", [1, 2, None])
def test_refresh_in_batches_computes_what_one_pass_does(tmp_path, batch):
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.store(
        con,
        rows(
            {"id": "tw:1", "created_at": "2024-03-04 09:00"},
            {"id": "tw:2", "created_at": "2024-03-04 10:00"},
            {"id": "tw:3", "created_at": "2024-03-05 10:00"},
            reply("tw:r1", "tw:1", "2024-03-04 12:00"),
            reply("tw:r3", "tw:3", "2024-03-04 11:00"),  # before its message: clock skew
            reply("tw:r3b", "tw:3", "2024-03-06 11:00"),
            reply("tw:x", "tw:2", "2024-03-04 11:00", brand="Contoso"),  # not our answer
        ),
    )
    expected = stored(con)
    assert (expected["tw:1"], expected["tw:2"], expected["tw:3"]) == (
        utc("2024-03-04 12:00"), None, utc("2024-03-04 11:00")
    )  # fmt: skip
    con.execute("UPDATE interactions SET first_reply_at = NULL")
    con.execute("CREATE TEMP TABLE every AS SELECT id FROM interactions")
    assert replies.refresh(con, "every", batch=batch) == 2
    assert stored(con) == expected
