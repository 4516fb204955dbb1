"""The generic mentions adapter: any channel through a column map."""

import pandas as pd
import pytest

from cxpulse.adapters import AdapterError, AdapterOptions, read

TUMBLR = AdapterOptions(
    channel="tumblr",
    brand="Northwind",
    timezone="America/New_York",
    column_map={
        "id": "post_id",
        "created_at": "timestamp",
        "text": "summary",
        "likes": "note_count",
    },
)


def write(tmp_path, text: str):
    path = tmp_path / "mentions.csv"
    path.write_text(text)
    return path


def test_a_channel_is_a_column_map(tmp_path):
    path = write(
        tmp_path, "post_id,timestamp,summary,note_count,blog\n77,2024-01-05 10:00,love it,12,x\n"
    )
    rows = read("mentions", path, TUMBLR).rows
    assert rows[["id", "channel", "brand", "direction", "text", "likes"]].values.tolist() == [
        ["tumblr:northwind:77", "tumblr", "Northwind", "mention", "love it", 12]
    ]
    assert rows["created_at"].tolist() == [pd.Timestamp("2024-01-05 15:00", tz="UTC")]


def test_channel_brand_and_direction_can_come_from_columns(tmp_path):
    path = write(
        tmp_path,
        "id,created_at,channel,brand,direction,parent_id,likes\n"
        "1,2024-01-05T10:00:00Z,blog,Contoso,,,\n"
        "2,2024-01-05T11:00:00Z,blog,Contoso,outbound,1,many\n",
    )
    rows = read("mentions", path, AdapterOptions()).rows
    assert rows["direction"].tolist() == ["mention", "outbound"]
    assert rows["parent_id"].fillna("-").tolist() == ["-", "blog:contoso:1"]
    assert rows["reason"].fillna("-").tolist() == ["-", "likes: not a whole number"]


def test_without_a_channel_the_file_is_refused(tmp_path):
    path = write(tmp_path, "id,created_at\n1,2024-01-05T10:00:00Z\n")
    with pytest.raises(AdapterError, match=r"missing required column\(s\) \['channel'\]"):
        read("mentions", path, AdapterOptions(brand="Northwind"))
