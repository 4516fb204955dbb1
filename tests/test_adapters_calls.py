"""The call-log adapter: an ACD CSV mapped in params, the Anonymous Bank log, real months."""

import pandas as pd
import pytest

from cxpulse.adapters import AdapterError, AdapterOptions, read

ACD = AdapterOptions(
    brand="Northwind",
    timezone="Europe/London",
    column_map={
        "id": "CallID",
        "created_at": "Start",
        "outcome": "Disposition",
        "wait_s": "Queue",
        "handle_s": "Talk",
        "author_id": "Caller",
    },
    outcomes={"ANSWERED": "served", "ABANDONED": "abandoned", "SELF-SERVICE": "ivr"},
)
ACD_HEADER = "CallID,Start,Disposition,Queue,Talk,Caller\n"
ANONBANK_HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)


def write(tmp_path, text: str, name: str = "calls.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_acd_calls_map_columns_outcomes_and_durations(tmp_path):
    path = write(
        tmp_path,
        ACD_HEADER
        + "c1,2024-07-01 09:00:00,ANSWERED,0:00:42,0:05:00,+44 7700 900123\n"
        + "c2,2024-07-01 09:01:00,abandoned,95,,\n"
        + "c3,2024-07-01 09:02:00,Self-Service,0,0,\n",
    )
    rows = read("calls", path, ACD).rows.set_index("id")
    assert rows["outcome"].tolist() == ["served", "abandoned", "ivr"]
    assert rows["wait_s"].tolist() == [42, 95, 0]
    assert rows["handle_s"].fillna(-1).tolist() == [300, -1, 0]
    assert rows["created_at"].iloc[0] == pd.Timestamp("2024-07-01 08:00", tz="UTC")  # BST
    assert set(rows["channel"]) == {"phone"} and set(rows["direction"]) == {"inbound"}
    assert rows.index.tolist() == ["phone:northwind:c1", "phone:northwind:c2", "phone:northwind:c3"]


def test_acd_unknown_outcome_and_bad_duration_are_set_aside(tmp_path):
    path = write(
        tmp_path,
        ACD_HEADER + "c1,2024-07-01 09:00,TRANSFER,1,1,\nc2,2024-07-01 09:00,ANSWERED,soon,1,\n",
    )
    reasons = read("calls", path, ACD).rows["reason"].tolist()
    assert reasons[0].startswith("outcome: not served, abandoned, ivr, phantom nor mapped")
    assert reasons[1] == "wait_s: not a duration (seconds or H:MM:SS)"


def test_acd_without_a_mapping_names_the_missing_fields(tmp_path):
    path = write(tmp_path, ACD_HEADER + "c1,2024-07-01 09:00,ANSWERED,1,1,\n")
    with pytest.raises(
        AdapterError, match=r"missing required column\(s\) \['id', 'created_at', 'outcome'\]"
    ):
        read("calls", path, AdapterOptions(brand="Northwind"))


def call(id_: str, date: str = "990101", entry: str = "10:00:00", q: int = 0, **kw) -> str:
    """One Anonymous Bank line, tab-separated (``customer``, ``outcome``, ``ser`` optional)."""
    fields = [
        kw.get("line", "AA0101"), id_, str(kw.get("customer", 0)), "0", "PS", date, entry,
        entry, "5", "0:00:00", "0:00:00", str(q), kw.get("outcome", "HANG"), "0:00:00",
        "0:00:00", str(kw.get("ser", 0)), "NO_SERVER",
    ]  # fmt: skip
    return "\t".join(fields)


def test_anonbank_outcomes_waits_and_local_times(tmp_path):
    lines = [
        ANONBANK_HEADER,
        call("1", entry="0:00:31", q=153, customer=9664491),
        call("2", entry="0:34:12"),
        call("3", entry="6:55:20", q=17, customer=27997683, outcome="AGENT", ser=54),
        call("3", line="AA0108", outcome="PHANTOM").replace("0\tPS", "0       PS"),
    ]
    path = write(tmp_path, "\r\n".join(lines) + "\r\n", "january.txt")
    parsed = read("calls", path, AdapterOptions())
    rows = parsed.rows.set_index("id")
    assert parsed.rejects.empty and rows["reason"].isna().all()
    assert rows.index.tolist() == [
        "phone:anonymous-bank:AA0101-1",
        "phone:anonymous-bank:AA0101-2",
        "phone:anonymous-bank:AA0101-3",
        "phone:anonymous-bank:AA0108-3",
    ]
    assert rows["outcome"].tolist() == ["abandoned", "ivr", "served", "phantom"]
    assert rows["wait_s"].tolist() == [153, 0, 17, 0]
    assert rows["handle_s"].fillna(-1).tolist() == [-1, -1, 54, -1]
    assert rows["author_id"].fillna("-").tolist() == ["9664491", "-", "27997683", "-"]
    assert set(rows["brand"]) == {"Anonymous Bank"}
    # Israel was on UTC+2 in January 1999: the first call was on 31 December in UTC.
    assert rows["created_at"].iloc[0] == pd.Timestamp("1998-12-31 22:00:31", tz="UTC")
    assert parsed.quote(5, 5).startswith("AA0108\t3\t0\t0       PS")


def test_anonbank_brand_and_zone_can_be_given(tmp_path):
    path = write(tmp_path, ANONBANK_HEADER + "\n" + call("1") + "\n", "x.txt")
    rows = read("calls", path, AdapterOptions(brand="Bank", timezone="UTC")).rows
    assert rows["brand"].tolist() == ["Bank"]
    assert rows["created_at"].tolist() == [pd.Timestamp("1999-01-01 10:00", tz="UTC")]


def test_anonbank_bad_rows_are_set_aside(tmp_path):
    lines = [
        call("1", date="991341"),
        call("2", outcome="TRANSFER"),
        call("3", q=-5),
        "AA0101\t4\t0",
    ]
    path = write(tmp_path, ANONBANK_HEADER + "\n" + "\n".join(lines) + "\n", "x.txt")
    parsed = read("calls", path, AdapterOptions())
    assert parsed.rows["reason"].fillna("-").tolist() == [
        "date: not a YYMMDD date",
        "outcome: expected AGENT, HANG or PHANTOM",
        "-",  # a negative wait is the schema's to refuse
    ]
    assert parsed.rows["wait_s"].iloc[2] == -5
    assert parsed.rejects[["line", "reason"]].values.tolist() == [[5, "expected 17 fields, got 3"]]


@pytest.mark.parametrize(
    ("month", "rows", "outcomes", "queued", "days"),
    [
        (
            "january",
            31599,
            {"served": 27060, "abandoned": 3080, "ivr": 1219, "phantom": 240},
            16905,
            29,
        ),
        (
            "october",
            34625,
            {"served": 30861, "abandoned": 2089, "ivr": 1528, "phantom": 147},
            12047,
            31,
        ),
    ],
)
def test_real_months_match_source(real_data, month, rows, outcomes, queued, days):
    parsed = read(
        "calls", real_data / "callcenter-anonbank-1999" / f"{month}.txt", AdapterOptions()
    )
    got = parsed.rows
    assert parsed.rejects.empty and got["reason"].isna().all()
    assert len(got) == rows and got["id"].nunique() == rows
    assert got["outcome"].value_counts().to_dict() == outcomes
    assert (
        outcomes["served"] + outcomes["abandoned"] + outcomes["ivr"]
        == {
            "january": 27060 + 4299,
            "october": 30861 + 3617,
        }[month]
    )  # AGENT + HANG
    assert (got["wait_s"] > 0).sum() == queued
    local = got["created_at"].dt.tz_convert("Asia/Jerusalem")
    assert local.dt.date.nunique() == days
    served = got[got["outcome"] == "served"]
    assert round(served["wait_s"].mean(), 1) == {"january": 35.0, "october": 23.2}[month]
    assert round(served["handle_s"].mean(), 1) == {"january": 183.5, "october": 180.1}[month]
    within = (served["wait_s"] <= 20).sum() / (
        len(served) + outcomes["abandoned"] + outcomes["ivr"]
    )
    assert round(within, 3) == {"january": 0.523, "october": 0.683}[month]
