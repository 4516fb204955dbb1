"""The Customer Support on Twitter adapter: brands, threads, parents, the real sample."""

import pandas as pd
import pytest

from cxpulse.adapters import AdapterError, AdapterOptions, chunks, read
from cxpulse.adapters.fields import parse_timestamps
from cxpulse.adapters.twcs import TIME_FORMAT, first_known_mention, tweet_times

HEADER = ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
AT = "Tue Oct 31 22:10:47 +0000 2017"


def write(tmp_path, lines: list[str], header: str = HEADER):
    path = tmp_path / "twcs.csv"
    path.write_bytes((header + "".join(line + "\n" for line in lines)).encode())
    return path


def by_id(parsed) -> pd.DataFrame:
    return parsed.rows.set_index("id")


def test_company_tweets_are_outbound_and_customers_take_the_company_that_answers(tmp_path):
    path = write(
        tmp_path,
        [
            f"0,1,115712,True,{AT},@sprintcare help,2,",
            f"1,2,sprintcare,False,{AT},@115712 sure,3,1.0",
            f"2,3,115712,True,{AT},@sprintcare thanks,,2.0",
        ],
    )
    rows = by_id(read("twcs", path, AdapterOptions()))
    assert rows["direction"].tolist() == ["inbound", "outbound", "inbound"]
    assert rows["brand"].tolist() == ["sprintcare"] * 3
    assert rows["thread_id"].tolist() == ["twitter:1"] * 3
    assert rows["parent_id"].fillna("-").tolist() == ["-", "twitter:1", "twitter:2"]
    assert rows["created_at"].iloc[0] == pd.Timestamp("2017-10-31 22:10:47", tz="UTC")


def test_a_thread_with_two_companies_gives_each_customer_tweet_the_one_it_talks_to(tmp_path):
    path = write(
        tmp_path,
        [
            f"0,10,5,True,{AT},@Tesco @AldiUK pies!,,",
            f"1,11,Tesco,False,{AT},@5 ours,,10",
            f"2,12,5,True,{AT},@Tesco yum,,11",
            f"3,13,AldiUK,False,{AT},@5 gin!,,12",
            f"4,14,5,True,{AT},@AldiUK no gin,,13",
        ],
    )
    rows = by_id(read("twcs", path, AdapterOptions()))
    assert rows["brand"].to_dict() == {
        "twitter:10": "Tesco",  # answered first by Tesco
        "twitter:11": "Tesco",
        "twitter:12": "AldiUK",  # answered by AldiUK
        "twitter:13": "AldiUK",
        "twitter:14": "AldiUK",  # nearest company above it
    }


def test_an_unanswered_tweet_takes_the_company_it_mentions_or_is_set_aside(tmp_path):
    path = write(
        tmp_path,
        [
            f"0,1,AmazonHelp,False,{AT},@9 hi,,8",
            f"1,2,7,True,{AT},@amazonhelp where is my parcel,,",
            f"2,3,7,True,{AT},@nobody hello,,",
        ],
    )
    parsed = read("twcs", path, AdapterOptions(accounts={"AmazonHelp": "Amazon"}))
    rows = by_id(parsed)
    assert rows["brand"].fillna("-").tolist() == ["Amazon", "Amazon", "-"]
    assert rows.loc["twitter:1", "thread_id"] == "twitter:8"  # parent not in the file
    assert rows.loc["twitter:3", "reason"].startswith("no company in thread")


def test_bad_values_are_set_aside_with_their_reason(tmp_path):
    path = write(
        tmp_path,
        [
            f"0,x1,115712,True,{AT},a,,",
            f"1,2,115712,maybe,{AT},b,,",
            "2,3,115712,True,yesterday,c,,",
            f"3,4,,False,{AT},d,,",
        ],
    )
    reasons = read("twcs", path, AdapterOptions()).rows["reason"].tolist()
    assert reasons == [
        "tweet_id: not a whole number",
        "inbound: expected True or False",
        "created_at: not a timestamp like 'Tue Oct 31 22:10:47 +0000 2017'",
        "author_id is missing",
    ]


def test_the_export_without_an_index_column_reads_the_same(tmp_path):
    path = write(tmp_path, [f"1,sprintcare,False,{AT},hi,,"], header=HEADER[1:])
    assert read("twcs", path, AdapterOptions()).rows["brand"].tolist() == ["sprintcare"]


def test_a_missing_column_is_refused_naming_it(tmp_path):
    path = write(tmp_path, [], header="tweet_id,author_id,created_at,text\n")
    with pytest.raises(AdapterError, match=r"missing required column\(s\) \['inbound', 'in_resp"):
        read("twcs", path, AdapterOptions())


@pytest.fixture(scope="module")
def real(real_data):
    return read("twcs", real_data / "twcs-head5k" / "twcs.csv", AdapterOptions())


def test_real_sample_counts_match_source(real):
    rows = real.rows
    assert len(rows) == 5000 and real.rejects.empty and rows["reason"].isna().all()
    assert rows["id"].nunique() == 5000
    inbound, outbound = rows[rows.direction == "inbound"], rows[rows.direction == "outbound"]
    assert (len(inbound), len(outbound)) == (2778, 2222)
    assert outbound["brand"].nunique() == 76
    assert set(inbound["brand"]) <= set(outbound["brand"])
    assert inbound["id"].isin(outbound["parent_id"]).sum() == 2083
    assert outbound["brand"].value_counts().head(3).to_dict() == {
        "ChipotleTweets": 210,
        "AmazonHelp": 192,
        "AppleSupport": 140,
    }
    assert rows["created_at"].min() == pd.Timestamp("2011-08-29 03:20:05", tz="UTC")
    assert rows["created_at"].dt.strftime("%Y-%m").value_counts()[
        ["2017-10", "2017-11"]
    ].tolist() == [3358, 1600]


def test_real_sample_bare_carriage_returns_stay_in_their_tweet(real):
    tweet = real.rows.set_index("id").loc["twitter:3399"]
    assert tweet["text"].startswith("@AskPayPal \n\nI just love")
    assert (tweet["line"], tweet["line_end"]) == (2589, 2589)
    assert real.rows["line_end"].max() == 5310  # lines in the file, header included


def test_long_reply_chains_and_reply_loops_are_walked_quickly(tmp_path):
    chain = [f"0,1,Delta,False,{AT},@5 hi,,"]
    chain += [f"0,{n},5,True,{AT},@x more,,{n - 1}" for n in range(2, 3000)]
    loop = [f"0,9001,6,True,{AT},@x a,,9002", f"0,9002,6,True,{AT},@Delta b,,9001"]
    rows = by_id(read("twcs", write(tmp_path, chain + loop), AdapterOptions()))
    assert (rows.loc["twitter:2999", "brand"], rows.loc["twitter:2999", "thread_id"]) == (
        "Delta",
        "twitter:1",
    )
    assert rows.loc[["twitter:9001", "twitter:9002"], "brand"].fillna("-").tolist() == [
        "-",
        "Delta",
    ]


def test_chunks_keep_the_parsed_chunks_in_the_folder_between_passes_and_remove_them(
    tmp_path, real_data, real
):
    """Read in chunks of 64 KB, the rows and the raw text each chunk quotes are those of
    one read; the chunks wait on disk in a folder in ``folder`` that is gone after."""
    source = real_data / "twcs-head5k" / "twcs.csv"
    parts = chunks("twcs", source, AdapterOptions(), 1 << 16, tmp_path)
    done = [next(parts)]
    (folder,) = tmp_path.iterdir()
    assert len(list(folder.glob("*.table"))) > 3 and list(folder.glob("*.context"))
    done += list(parts)
    assert list(tmp_path.iterdir()) == []
    pd.testing.assert_frame_equal(pd.concat([p.rows for p in done], ignore_index=True), real.rows)
    for part in done:
        span = part.rows[["line", "line_end"]].iloc[-1].tolist()
        assert part.quote(*span) == real.quote(*span)


TIMES = [
    AT, f" {AT} ", "Xyz Oct 31 22:10:47 +0000 2017", "Tue Feb 29 10:00:00 +0000 2017",
    "Mon Feb 29 10:00:00 +0000 2016", "Mon Jan 01 23:59:59 -0800 9999",
    "Mon Jan 01 00:00:00 +0530 0001", "Tue Oct 31 24:10:47 +0000 2017",
    "Tue Oct 31 22:60:47 +0000 2017", "Tue Oct 31 22:10:60 +0000 2017",
    "TUE OCT 31 22:10:47 +0000 2017", "Tue Oct 32 22:10:47 +0000 2017",
    "Tue Oct 31 22:10:47 +9999 2017", "2017-10-31T22:10:47Z", "", None, "   ",
    "Tue Oct  3 22:10:47 +0000 2017", "Tuesday October 31 22:10:47 +0000 2017",
    f"{AT}x", "Tue Oct 31 02:03:04 +1400 2017", "Tue Oct 31 00:00:00 -0000 0000",
]  # fmt: skip


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
@pytest.mark.parametrize(
    "values",
    [
        pd.Series(TIMES, index=range(5, 5 + 3 * len(TIMES), 3)),
        pd.concat([pd.Series(TIMES, dtype="string")] * 2, ignore_index=True),  # two chunks
        pd.Series([], dtype="string"),
        pd.Series([None, None]),
    ],
)
def test_tweet_times_are_the_instants_the_general_parse_gives(values, zone):
    expected = parse_timestamps(values, zone, (TIME_FORMAT,))
    pd.testing.assert_series_equal(tweet_times(values, zone), expected)
    assert tweet_times(pd.Series([AT]), zone)[0] == pd.Timestamp("2017-10-31 22:10:47", tz="UTC")


def test_the_first_known_mention_is_found_in_any_script():
    handles = {"northwindcare": "NorthwindCare", "contoso": "Contoso", "café": "Café"}
    text = pd.Series(
        ["@NorthwindCare hi", "@bob @contoso x", "no mention", None, "@Café hi", "@bob @Café"]
        + ["@northwindcaré", "@NORTHWINDCARE", "mail a@contoso.com", "@bob", "@Contoso_"],
        index=range(100, 111),
    )
    expected = ["NorthwindCare", "Contoso", None, None, "Café", "Café", None, "NorthwindCare"]
    expected += ["Contoso", None, None]
    got = first_known_mention(text, handles)
    assert got.tolist() == [pd.NA if e is None else e for e in expected]
    assert got.index.tolist() == text.index.tolist() and str(got.dtype) == "string"
