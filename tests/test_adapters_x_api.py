"""The X API v2 adapter: tweets, users, replies, metrics, brands from accounts."""

import json

import pandas as pd
import pytest

from cxpulse.adapters import AdapterError, AdapterOptions, read

ACCOUNTS = AdapterOptions(accounts={"NorthwindHelp": "Northwind", "ContosoCares": "Contoso"})
USERS = [
    {"id": "100", "username": "NorthwindHelp"},
    {"id": "200", "username": "ContosoCares"},
    {"id": "7", "username": "ann"},
    {"id": "8", "username": "bob"},
]


def tweet(id_: str, author: str, text: str, **extra) -> dict:
    return {
        "id": id_,
        "author_id": author,
        "text": text,
        "created_at": "2024-03-04T09:00:00.000Z",
        "conversation_id": extra.pop("conversation_id", id_),
        **extra,
    }


def write(tmp_path, *pages: dict, lines: bool = False):
    path = tmp_path / "x.json"
    if lines:
        path.write_text("\n".join(json.dumps(p) for p in pages) + "\n")
    else:
        path.write_text(json.dumps(pages[0], indent=2))
    return path


def test_replies_mentions_and_brand_tweets_get_brand_and_direction(tmp_path):
    data = [
        tweet(
            "1",
            "7",
            "@NorthwindHelp my phone is dead",
            entities={"mentions": [{"username": "NorthwindHelp"}]},
        ),
        tweet(
            "2",
            "100",
            "@ann sorry, DM us",
            conversation_id="1",
            referenced_tweets=[{"type": "replied_to", "id": "1"}],
            in_reply_to_user_id="7",
            public_metrics={
                "like_count": 3,
                "retweet_count": 1,
                "quote_count": 1,
                "reply_count": 2,
                "impression_count": 90,
            },
        ),
        tweet(
            "3",
            "7",
            "done",
            conversation_id="1",
            referenced_tweets=[{"type": "replied_to", "id": "2"}],
            in_reply_to_user_id="100",
        ),
        tweet("4", "8", "@ContosoCares is better"),
        tweet("5", "8", "who reads this"),
    ]
    page = {"data": data, "includes": {"users": USERS}, "meta": {"result_count": 5}}
    rows = read("x-api", write(tmp_path, page), ACCOUNTS).rows.set_index("id")
    assert rows["direction"].tolist() == ["inbound", "outbound", "inbound", "inbound", "mention"]
    assert rows["brand"].fillna("-").tolist() == [
        "Northwind",
        "Northwind",
        "Northwind",
        "Contoso",
        "-",
    ]
    assert rows["reason"].fillna("-").tolist()[-1].startswith("no brand")
    assert rows.loc["twitter:2", ["likes", "shares", "comments", "reach"]].tolist() == [3, 2, 2, 90]
    assert rows.loc["twitter:3", ["thread_id", "parent_id"]].tolist() == ["twitter:1", "twitter:2"]
    assert rows["line"].tolist() == [1, 2, 3, 4, 5]
    assert json.loads(rows.loc["twitter:4", "raw"])["text"] == "@ContosoCares is better"


def test_a_search_export_about_a_brand_makes_unaddressed_tweets_mentions(tmp_path):
    page = {"data": [tweet("5", "8", "Northwind ads everywhere")], "includes": {"users": USERS}}
    rows = read("x-api", write(tmp_path, page), AdapterOptions(brand="Northwind")).rows
    assert rows[["brand", "direction"]].values.tolist() == [["Northwind", "mention"]]
    assert rows["created_at"].tolist() == [pd.Timestamp("2024-03-04 09:00", tz="UTC")]


def test_pages_saved_one_per_line_are_all_read(tmp_path):
    first = {"data": [tweet("1", "7", "a")], "includes": {"users": USERS}}
    last = {"meta": {"result_count": 0}}
    path = write(tmp_path, first, {"data": [tweet("2", "100", "b")]}, last, lines=True)
    rows = read("x-api", path, ACCOUNTS).rows
    assert rows["id"].tolist() == ["twitter:1", "twitter:2"]
    assert rows["direction"].tolist() == ["mention", "outbound"]


def test_a_record_that_is_not_an_object_is_a_reject(tmp_path):
    page = {"data": [tweet("1", "100", "a"), "oops"], "includes": {"users": USERS}}
    parsed = read("x-api", write(tmp_path, page), ACCOUNTS)
    assert parsed.rows["id"].tolist() == ["twitter:1"]
    assert parsed.rejects[["line", "raw", "reason"]].values.tolist() == [
        [2, '"oops"', "record is not a JSON object"]
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([{"id": "1"}], "got a list of 1 item"),
        ({"errors": [{"title": "Unauthorized"}]}, "API errors"),
        ({"data": "nope"}, "got an object with keys"),
    ],
)
def test_json_of_another_shape_is_refused(tmp_path, document, message):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(document))
    with pytest.raises(AdapterError, match=f"x.json: expected an X API v2 response.*{message}"):
        read("x-api", path, ACCOUNTS)
