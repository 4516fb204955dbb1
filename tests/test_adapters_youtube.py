"""The YouTube commentThreads adapter: top comments, replies, the channel's own answers."""

import json

import pytest

from cxpulse.adapters import AdapterError, AdapterOptions, read

CHANNEL = "UCnorthwind"


def comment(id_: str, author: str, text: str, **snippet) -> dict:
    return {
        "kind": "youtube#comment",
        "id": id_,
        "snippet": {
            "textOriginal": text,
            "textDisplay": f"<b>{text}</b>",
            "authorChannelId": {"value": author},
            "publishedAt": "2024-03-04T09:00:00Z",
            "likeCount": 4,
            **snippet,
        },
    }


def response() -> dict:
    return {
        "kind": "youtube#commentThreadListResponse",
        "items": [
            {
                "kind": "youtube#commentThread",
                "id": "T1",
                "snippet": {
                    "channelId": CHANNEL,
                    "videoId": "v1",
                    "totalReplyCount": 1,
                    "topLevelComment": comment("T1", "UCann", "Battery drains fast"),
                },
                "replies": {
                    "comments": [comment("T1.r1", CHANNEL, "Update to 2.1", parentId="T1")]
                },
            }
        ],
    }


def write(tmp_path, document):
    path = tmp_path / "youtube.json"
    path.write_text(json.dumps(document))
    return path


def test_top_comments_and_replies_get_thread_parent_and_direction(tmp_path):
    rows = read("youtube", write(tmp_path, response()), AdapterOptions(brand="Northwind")).rows
    assert rows["id"].tolist() == ["youtube:T1", "youtube:T1.r1"]
    assert rows["direction"].tolist() == ["inbound", "outbound"]
    assert rows["thread_id"].tolist() == ["youtube:T1"] * 2
    assert rows["parent_id"].fillna("-").tolist() == ["-", "youtube:T1"]
    assert rows["text"].tolist() == ["Battery drains fast", "Update to 2.1"]
    assert rows["comments"].fillna(-1).tolist() == [1, -1]
    assert rows["likes"].tolist() == [4, 4]


def test_the_brand_comes_from_accounts_or_the_comment_is_set_aside(tmp_path):
    path = write(tmp_path, response())
    mapped = read("youtube", path, AdapterOptions(accounts={CHANNEL: "Northwind"})).rows
    unknown = read("youtube", path, AdapterOptions()).rows
    assert set(mapped["brand"]) == {"Northwind"}
    assert unknown["reason"].str.startswith("no brand").all()


def test_json_of_another_shape_is_refused(tmp_path):
    with pytest.raises(AdapterError, match="expected a YouTube Data API commentThreads response"):
        read(
            "youtube",
            write(tmp_path, {"kind": "youtube#videoListResponse", "items": []}),
            AdapterOptions(),
        )
