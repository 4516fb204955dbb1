"""The seeded demo data: canonical, deterministic, and shaped like a real brand's year."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxpulse import adapters, config, demo, schema
from cxpulse.adapters import AdapterOptions
from cxpulse.quantify import CLASSES
from cxpulse.sentiment import score_texts

PARAMS = Path(__file__).resolve().parents[1] / "params"
END = "2026-03-15"
END_TS = pd.Timestamp(END, tz="UTC")
ROWS = 40_000
CHUNK_ROWS = 15_000


@pytest.fixture(scope="module")
def brand() -> config.BrandParams:
    return config.load_brand(PARAMS)


@pytest.fixture(scope="module")
def chunks(brand: config.BrandParams) -> list[pd.DataFrame]:
    return list(demo.generate(ROWS, 7, END, brand, chunk_rows=CHUNK_ROWS))


@pytest.fixture(scope="module")
def frame(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """All chunks, with a ``polarity`` column: the default engine's label (as ingest would
    score them, brand names removed)."""
    out = pd.concat(chunks, ignore_index=True)
    texts = out["text"].dropna().unique()
    scores = score_texts(list(texts), names=config.brand_names(PARAMS))
    labels = pd.Series(np.array(CLASSES)[scores[:, 1:].argmax(axis=1)], index=texts)
    out["polarity"] = out["text"].map(labels)
    return out


@pytest.fixture(scope="module")
def first_replies(frame: pd.DataFrame) -> pd.DataFrame:
    """Each reply joined to its parent, with the reply delay ``frt_s``."""
    replies = frame[frame["parent_id"].notna()]
    joined = replies.merge(
        frame, left_on="parent_id", right_on="id", how="left", suffixes=("", "_parent")
    )
    joined["frt_s"] = (joined["created_at"] - joined["created_at_parent"]).dt.total_seconds()
    return joined


def ours(frame: pd.DataFrame, brand: config.BrandParams) -> pd.DataFrame:
    return frame[frame["brand"] == brand.brand]


def test_same_seed_end_and_rows_give_identical_data(brand):
    first = pd.concat(demo.generate(5_000, 3, END, brand), ignore_index=True)
    second = pd.concat(demo.generate(5_000, 3, END, brand), ignore_index=True)
    pd.testing.assert_frame_equal(first, second)


def test_another_seed_gives_other_data(brand):
    first = pd.concat(demo.generate(5_000, 3, END, brand), ignore_index=True)
    other = pd.concat(demo.generate(5_000, 4, END, brand), ignore_index=True)
    assert not first["created_at"].equals(other["created_at"])


def test_rows_come_in_time_sorted_chunks_under_the_chunk_size(chunks):
    assert len(chunks) >= 3
    assert all(len(c) <= CHUNK_ROWS for c in chunks)
    assert all(c["created_at"].is_monotonic_increasing for c in chunks)
    assert sum(len(c) for c in chunks) == pytest.approx(ROWS, rel=0.05)


def test_ids_are_unique_across_chunks_and_name_their_channel(frame):
    assert frame["id"].is_unique
    assert (frame["id"].str.split(":").str[0] == frame["channel"]).all()


def test_frame_has_the_canonical_columns_and_dtypes_and_validates(chunks):
    for chunk in chunks:
        assert list(chunk.columns) == list(schema.COLUMNS)
        pd.testing.assert_series_equal(schema.conform(chunk).dtypes, chunk.dtypes)
    assert schema.validate(pd.concat(chunks, ignore_index=True), now=END_TS).bad.empty


def test_created_at_is_never_after_end_and_spans_about_400_days(frame):
    assert frame["created_at"].max() <= END_TS
    assert frame["created_at"].max() > END_TS - pd.Timedelta(hours=6)
    span = frame["created_at"].max() - frame["created_at"].min()
    assert pd.Timedelta(days=395) < span <= pd.Timedelta(days=demo.SPAN_DAYS)


def test_every_channel_and_brand_appears(frame, brand):
    social = {"twitter", "facebook", "instagram", "youtube", "tumblr", "pinterest", "blog"}
    assert social | {"review", "email", "phone"} <= set(frame["channel"])
    assert set(frame["brand"]) == {brand.brand, *brand.competitors}
    assert set(frame["direction"]) == set(schema.DIRECTIONS)


def test_our_brand_has_about_60_percent_and_phone_about_a_fifth_of_it(frame, brand):
    mine = frame["brand"] == brand.brand
    assert mine.mean() == pytest.approx(0.60, abs=0.03)
    assert (frame.loc[mine, "channel"] == "phone").mean() == pytest.approx(0.22, abs=0.03)


def test_competitors_have_no_calls_or_email(frame, brand):
    theirs = frame[frame["brand"] != brand.brand]
    assert not theirs["channel"].isin(["phone", "email"]).any()


def test_replies_follow_their_parent_in_its_brand_channel_and_thread(first_replies):
    r = first_replies
    assert r["created_at_parent"].notna().all()
    assert (r["frt_s"] >= 0).all()
    assert (r["brand"] == r["brand_parent"]).all()
    assert (r["channel"] == r["channel_parent"]).all()
    assert (r["thread_id"] == r["parent_id"]).all()
    assert (r["thread_id_parent"] == r["parent_id"]).all()
    assert (r["direction"] == "outbound").all() and (r["direction_parent"] == "inbound").all()
    assert (r["author_id"] == r["brand"].map(demo.care_handle)).all()
    assert r["author_id_parent"].str.fullmatch(r"cust-\d{6}").all()


def test_some_channels_meet_their_sla_target_at_the_median_and_others_miss_it(first_replies, brand):
    mine = first_replies[first_replies["brand"] == brand.brand]
    median = mine.groupby("channel")["frt_s"].median()
    target = pd.Series(brand.sla_targets_s).drop(["chat", "webform"])  # demo_exports' tickets
    meets = (median[target.index] <= target).to_dict()
    assert meets == {
        "twitter": True,
        "facebook": False,
        "instagram": True,
        "youtube": False,
        "review": True,
        "email": True,
    }


def test_one_competitor_answers_faster_than_us_and_one_slower(first_replies, brand):
    twitter = first_replies[first_replies["channel"] == "twitter"]
    median = twitter.groupby("brand")["frt_s"].median()
    faster, slower = brand.competitors[0], brand.competitors[1]
    assert median[faster] < median[brand.brand] / 1.5
    assert median[slower] > median[brand.brand] * 1.5


def test_each_channel_leaves_some_inbound_unanswered(frame, brand, first_replies):
    mine = ours(frame, brand)
    settled = (
        (mine["direction"] == "inbound")
        & (mine["channel"] != "phone")
        & (mine["created_at"] < END_TS - pd.Timedelta(days=30))
    )
    inbound = mine[settled]
    unanswered = (~inbound["id"].isin(first_replies["parent_id"])).groupby(inbound["channel"])
    assert unanswered.mean().between(0.03, 0.30).all()


def test_inbound_texts_spread_over_positive_neutral_and_negative(frame):
    shares = frame.loc[frame["direction"] == "inbound", "polarity"].value_counts(normalize=True)
    assert (shares[["positive", "neutral", "negative"]] > 0.15).all()


def test_distinct_texts_stay_in_the_low_thousands(frame, brand):
    vocabulary = demo.build_vocabulary([brand.brand, *brand.competitors])
    assert 1_000 < len(vocabulary.texts) < 5_000
    assert frame["text"].nunique() <= len(vocabulary.texts)


def test_outage_ten_days_before_end_multiplies_negative_inbound(frame, brand):
    mine = ours(frame, brand)
    negative = mine[(mine["direction"] == "inbound") & (mine["polarity"] == "negative")]
    per_day = negative.groupby(negative["created_at"].dt.floor("D")).size()
    around = per_day[END_TS - pd.Timedelta(days=12) : END_TS - pd.Timedelta(days=8)]
    assert around.max() >= 3 * per_day.median()


def test_reviews_have_j_shaped_stars_some_one_star_and_some_brand_replies(frame, brand):
    reviews = frame[(frame["channel"] == "review") & (frame["direction"] == "inbound")]
    assert frame.loc[frame["channel"] != "review", "rating"].isna().all()
    stars = reviews["rating"].value_counts(normalize=True)
    assert stars.idxmax() == 5 and stars[1] > stars[2] and stars[1] > stars[3]
    assert (ours(reviews, brand)["rating"] == 1).sum() > 0
    replied = frame["parent_id"].isin(reviews["id"])
    assert replied.sum() > 0


def test_one_negative_mention_of_us_reaches_millions_in_the_last_week(frame, brand):
    viral = frame[frame["reach"] >= 1_000_000]
    assert len(viral) == 1
    post = viral.iloc[0]
    assert post["brand"] == brand.brand and post["direction"] == "mention"
    assert post["channel"] in ("twitter", "blog") and post["polarity"] == "negative"
    assert END_TS - pd.Timedelta(days=7) <= post["created_at"] <= END_TS
    assert post["likes"] > 1_000 and post["shares"] > 1_000


def test_brand_posts_and_mentions_carry_reach_and_engagement(frame):
    posts = frame[(frame["direction"] == "outbound") & frame["parent_id"].isna()]
    social = pd.concat([posts, frame[frame["direction"] == "mention"]])
    counts = social[list(schema.COUNTS)]
    assert len(posts) > 0 and counts.notna().all().all()
    assert (counts["likes"] <= counts["reach"]).all()
    rate = (posts["likes"] + posts["shares"] + posts["comments"]).sum() / posts["reach"].sum()
    assert 0.005 < rate < 0.10
    assert frame.loc[frame["direction"] == "inbound", "reach"].isna().all()


def test_calls_have_outcomes_waits_and_abandons_without_handle_time(frame):
    calls = frame[frame["channel"] == "phone"]
    assert (calls["direction"] == "inbound").all() and calls["text"].isna().all()
    assert set(calls["outcome"]) == {"served", "abandoned", "ivr"}
    served = calls[calls["outcome"] == "served"]
    abandoned = calls[calls["outcome"] == "abandoned"]
    assert served[["wait_s", "handle_s"]].notna().all().all()
    assert abandoned["wait_s"].notna().all() and abandoned["handle_s"].isna().all()
    assert (abandoned["wait_s"] < 5).any() and (abandoned["wait_s"] >= 5).any()
    assert calls.loc[calls["outcome"] == "ivr", ["wait_s", "handle_s"]].isna().all().all()


def test_volume_follows_the_day_and_the_week_in_the_brand_timezone(frame, brand):
    local = ours(frame, brand)["created_at"].dt.tz_convert(brand.timezone)
    per_hour = local.dt.hour.value_counts()
    assert per_hour[[2, 3, 4]].mean() < per_hour[[10, 11, 12]].mean() / 4
    per_weekday = local.dt.day_of_week.value_counts()
    assert per_weekday[[5, 6]].mean() < per_weekday[[0, 1, 2, 3]].mean() * 0.85


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-15", "2026-03-15T00:00:00+00:00"),
        ("2026-03-15T08:00", "2026-03-15T08:00:00+00:00"),
        ("2026-03-15T08:00:30+01:00", "2026-03-15T07:00:30+00:00"),
    ],
)
def test_parse_end_reads_dates_and_times_as_utc(text, expected):
    assert demo.parse_end(text) == pd.Timestamp(expected)


def test_parse_end_defaults_to_now_floored_to_the_hour():
    end = demo.parse_end(None)
    assert end == end.floor("h") and str(end.tz) == "UTC"
    assert pd.Timestamp.now(tz="UTC") - end < pd.Timedelta(hours=1)


@pytest.mark.parametrize("text", ["2026-3-15", "yesterday", "2026-02-30", "2026-03-15T25:00"])
def test_parse_end_rejects_malformed_text(text):
    with pytest.raises(config.ParamsError, match="--end"):
        demo.parse_end(text)


def test_generate_rejects_a_non_positive_row_count(brand):
    with pytest.raises(config.ParamsError, match="rows"):
        next(demo.generate(0, 7, END, brand))


def test_write_demo_replaces_old_files_with_readable_canonical_parquet(tmp_path, brand):
    (tmp_path / "demo-0009.parquet").write_text("stale")
    (tmp_path / "notes.txt").write_text("keep me")
    paths = demo.write_demo(tmp_path, rows=3_000, seed=7, end=END, brand=brand)
    assert paths == [tmp_path / "demo-0001.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-0001.parquet", "notes.txt"]
    parsed = adapters.read("canonical", paths[0], AdapterOptions())
    assert len(parsed.rows) == pytest.approx(3_000, rel=0.05)
    assert schema.validate(parsed.rows.drop(columns="line"), now=END_TS).bad.empty


def test_write_demo_with_a_bad_end_leaves_old_files_alone(tmp_path, brand):
    (tmp_path / "demo-0001.parquet").write_text("old")
    with pytest.raises(config.ParamsError):
        demo.write_demo(tmp_path, rows=3_000, end="15/03/2026", brand=brand)
    assert (tmp_path / "demo-0001.parquet").read_text() == "old"
