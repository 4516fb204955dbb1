import math

import pandas as pd
import pytest

from cxpulse.metrics.benchmark import response_benchmark, share_of_voice

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def answered(brand: str, frt_s: list[float | None]) -> list[dict]:
    """``len(frt_s)`` inbound messages to ``brand`` at 09:00, each answered by ``brand``
    after its number of seconds (None: unanswered)."""
    rows = []
    for i, delay in enumerate(frt_s):
        id_ = f"tw:{brand}-{i}"
        rows.append({"id": id_, "brand": brand, "created_at": "2024-03-04 09:00"})
        if delay is not None:
            at = pd.Timestamp("2024-03-04 09:00", tz="UTC") + pd.Timedelta(seconds=delay)
            rows.append(
                {
                    "id": id_ + "r",
                    "brand": brand,
                    "direction": "outbound",
                    "parent_id": id_,
                    "created_at": at,
                }
            )
    return rows


@pytest.fixture
def brands(make_table):
    return make_table(
        answered("Northwind", [60, 60, 120, 120])
        + answered("Contoso", [30, 30, None, None])
        + answered("Fabrikam", [5])
        + answered("Tailspin", [30, 30])
    )


def test_benchmark_ranks_by_median_frt_then_response_rate(brands):
    out = response_benchmark(brands, START, END, min_inbound=2)
    assert out["brand"].tolist() == ["Tailspin", "Contoso", "Northwind"]
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["frt_median_s"].tolist() == [30.0, 30.0, 90.0]
    assert out["response_rate"].tolist() == [1.0, 0.5, 1.0]
    assert list(out.columns) == [
        "brand",
        "inbound",
        "response_rate",
        "frt_median_s",
        "frt_p90_s",
        "rank",
    ]


def test_benchmark_counts_brands_below_min_inbound(brands):
    out = response_benchmark(brands, START, END, min_inbound=2)
    assert "Fabrikam" not in set(out["brand"])
    assert out.attrs["excluded"] == 1


def test_benchmark_keeps_to_the_brands_asked(brands):
    out = response_benchmark(brands, START, END, brands=["Northwind", "Contoso"], min_inbound=2)
    assert out["brand"].tolist() == ["Contoso", "Northwind"]
    assert out.attrs["excluded"] == 0


def test_benchmark_ignores_a_competitors_reply(make_table):
    rows = answered("Northwind", [None, None]) + [
        {
            "id": "tw:x",
            "brand": "Contoso",
            "direction": "outbound",
            "parent_id": "tw:Northwind-0",
            "created_at": "2024-03-04 09:01",
        },
    ]
    out = response_benchmark(make_table(rows), START, END, min_inbound=1)
    assert out.loc[0, "response_rate"] == 0.0
    assert math.isnan(out.loc[0, "frt_median_s"])


def test_share_of_voice_counts_customer_messages_except_calls(make_table):
    rows = [
        {"id": "tw:1", "brand": "Northwind", "created_at": "2024-03-04 09:00"},
        {
            "id": "bl:1",
            "brand": "Northwind",
            "channel": "blog",
            "direction": "mention",
            "created_at": "2024-03-04 10:00",
        },
        {"id": "rv:1", "brand": "Northwind", "channel": "review", "created_at": "2024-03-04 11:00"},
        {"id": "ph:1", "brand": "Northwind", "channel": "phone", "created_at": "2024-03-04 11:00"},
        {
            "id": "tw:2",
            "brand": "Northwind",
            "direction": "outbound",
            "created_at": "2024-03-04 12:00",
        },
        {"id": "tw:3", "brand": "Contoso", "direction": "mention", "created_at": "2024-03-04 9:00"},
        {
            "id": "tw:4",
            "brand": "Tailspin",
            "direction": "mention",
            "created_at": "2024-03-04 9:00",
        },
        {"id": "tw:5", "brand": "Contoso", "created_at": "2024-03-05 00:00"},
    ]
    out = share_of_voice(make_table(rows), START, END, ["Northwind", "Contoso", "Fabrikam"])
    assert out["brand"].tolist() == ["Northwind", "Contoso", "Fabrikam"]
    assert out["mentions"].tolist() == [3, 1, 0]
    assert out["share"].tolist() == [0.75, 0.25, 0.0]


def test_share_of_voice_without_mentions_is_undefined(make_table):
    out = share_of_voice(make_table([]), START, END, ["Northwind", "Contoso"])
    assert out["mentions"].tolist() == [0, 0]
    assert out["share"].isna().all()


@pytest.fixture(scope="module")
def twcs(load_real):
    return load_real("twcs", ["twcs-head5k/twcs.csv"])


def test_twcs_benchmark_accounts_for_every_inbound_tweet(twcs):
    """SOURCE.md: 2,083 of 2,778 inbound tweets answered, spread over 76 brands."""
    start = pd.Timestamp("2000-01-01", tz="UTC")
    end = pd.Timestamp("2030-01-01", tz="UTC")
    every = response_benchmark(twcs, start, end, min_inbound=1)
    assert every["inbound"].sum() == 2778
    assert round((every["response_rate"] * every["inbound"]).sum()) == 2083
    assert every["frt_median_s"].dropna().is_monotonic_increasing
    busy = response_benchmark(twcs, start, end, min_inbound=30)
    assert len(busy) + busy.attrs["excluded"] == len(every)
    assert busy["rank"].tolist() == list(range(1, len(busy) + 1))
