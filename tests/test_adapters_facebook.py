"""The Facebook Graph API adapter: page posts, nested comments, engagement, the page."""

import json

import pytest

from cxpulse.adapters import AdapterError, AdapterOptions, read

PAGE = {"id": "555", "name": "Northwind Mobile"}


def write(tmp_path, document) -> object:
    path = tmp_path / "facebook.json"
    path.write_text(json.dumps(document))
    return path


def post_with_comments() -> dict:
    return {
        "data": [
            {
                "id": "555_1",
                "created_time": "2024-03-04T09:00:00+0000",
                "from": PAGE,
                "message": "New plans are live",
                "reactions": {"summary": {"total_count": 40}},
                "shares": {"count": 5},
                "comments": {
                    "summary": {"total_count": 2},
                    "data": [
                        {
                            "id": "1_10",
                            "created_time": "2024-03-04T09:30:00+0000",
                            "from": {"id": "9", "name": "Ann"},
                            "message": "Call me on 020 7946 0958",
                            "like_count": 1,
                            "comments": {
                                "data": [
                                    {
                                        "id": "1_11",
                                        "created_time": "2024-03-04T10:00:00+0000",
                                        "from": PAGE,
                                        "message": "We sent you a DM",
                                        "parent": {"id": "1_10"},
                                    }
                                ]
                            },
                        }
                    ],
                },
            }
        ],
        "paging": {"cursors": {}},
    }


def test_posts_comments_and_replies_get_thread_parent_and_direction(tmp_path):
    rows = read("facebook", write(tmp_path, post_with_comments()), AdapterOptions()).rows
    rows = rows.set_index("id")
    assert rows.index.tolist() == ["facebook:555_1", "facebook:1_10", "facebook:1_11"]
    assert rows["direction"].tolist() == ["outbound", "inbound", "outbound"]
    assert set(rows["brand"]) == {"Northwind Mobile"}
    assert set(rows["thread_id"]) == {"facebook:555_1"}
    assert rows["parent_id"].fillna("-").tolist() == ["-", "facebook:555_1", "facebook:1_10"]
    assert rows.loc["facebook:555_1", ["likes", "shares", "comments"]].tolist() == [40, 5, 2]
    assert rows.loc["facebook:1_10", "likes"] == 1
    assert rows["line"].tolist() == [1, 2, 3]


def test_brand_option_and_accounts_name_the_page(tmp_path):
    path = write(tmp_path, post_with_comments())
    by_option = read("facebook", path, AdapterOptions(brand="Northwind"))
    by_account = read("facebook", path, AdapterOptions(accounts={"555": "NW"}))
    assert set(by_option.rows["brand"]) == {"Northwind"}
    assert set(by_account.rows["brand"]) == {"NW"}


def test_comments_exported_alone_follow_their_parents(tmp_path):
    document = {
        "data": [
            {
                "id": "1_10",
                "created_time": "2024-03-04T09:30:00+0000",
                "from": {"id": "9"},
                "message": "hi",
            },
            {
                "id": "1_11",
                "created_time": "2024-03-04T10:00:00+0000",
                "from": {"id": "555", "name": "Northwind"},
                "message": "hello",
                "parent": {"id": "1_10"},
            },
            {"id": "1_12", "from": {"id": "9"}, "message": "no time"},
        ]
    }
    parsed = read(
        "facebook", write(tmp_path, document), AdapterOptions(accounts={"555": "Northwind"})
    )
    rows = parsed.rows.set_index("id")
    assert rows["direction"].tolist() == ["inbound", "outbound", "inbound"]
    assert rows.loc["facebook:1_11", ["thread_id", "parent_id"]].tolist() == ["facebook:1_10"] * 2
    assert rows["created_at"].isna().tolist() == [False, False, True]  # the schema refuses it


def test_an_export_that_names_no_page_is_refused(tmp_path):
    document = {
        "data": [{"id": "1_10", "created_time": "2024-03-04T09:30:00+0000", "message": "hi"}]
    }
    with pytest.raises(AdapterError, match="cannot tell which page this export is from"):
        read("facebook", write(tmp_path, document), AdapterOptions())


def test_json_of_another_shape_is_refused(tmp_path):
    with pytest.raises(AdapterError, match="expected a Facebook Graph API export.*got a list"):
        read("facebook", write(tmp_path, [{"id": "1"}]), AdapterOptions())
