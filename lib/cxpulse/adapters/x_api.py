"""X (Twitter) API v2 responses: ``data`` (tweets) and ``includes.users``, as JSON.

A file holds one response, or one per line (JSON Lines, as paginated exports are saved).
Tweet fields used: ``id, text, author_id, created_at, conversation_id,
referenced_tweets`` (``replied_to``), ``in_reply_to_user_id``, ``entities.mentions``,
``public_metrics`` (likes = like_count; shares = retweet_count + quote_count;
comments = reply_count; reach = impression_count).

Brands come from ``accounts`` in params (username or user id -> brand). A tweet by such an
account is ``outbound`` for its brand. Another tweet is ``inbound`` to the brand it
replies to, else the first brand it @-mentions (``entities.mentions``, else the text),
else the brand that speaks in its conversation; failing all three it is a ``mention`` of
``--brand`` when one is given (a search export about the brand), else it is quarantined
("no brand").
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cxpulse.adapters import AdapterError, AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    dig,
    is_blank,
    json_rows,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
    prefixed_ids,
)

NAME = "x-api"
EXPECTED = (
    "an X API v2 response: a JSON object with a 'data' list of tweets (id, text, author_id, "
    "created_at, conversation_id, referenced_tweets, public_metrics) and 'includes.users'"
)


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read an X API v2 tweets response (JSON or JSON Lines)."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    documents = textfile.load_json(data, str(path), EXPECTED)
    tweets, usernames = collect(documents, str(path))
    fields, rejects = json_rows(tweets, lambda t: tweet_fields(t, usernames))
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from_json(rows, fields, reasons, rejects)


def collect(documents: list[object], where: str) -> tuple[list[object], dict[str, str]]:
    """(every tweet record in order, user id -> username) from the responses.

    Raises ``AdapterError`` when a document is not a v2 response object.
    """
    tweets: list = []
    usernames: dict[str, str] = {}
    for document in documents:
        data = dig(document, "data")
        if isinstance(data, dict):
            data = [data]
        if not isinstance(document, dict) or not isinstance(data, list | None):
            raise AdapterError(f"{where}: expected {EXPECTED}; got {textfile.describe(document)}")
        if data is None and "meta" not in document:
            raise AdapterError(
                f"{where}: expected {EXPECTED}; got an object with keys {sorted(document)}"
                + (f" (API errors: {document['errors']})" if "errors" in document else "")
            )
        tweets.extend(data or [])
        for user in dig(document, "includes", "users") or []:
            if isinstance(user, dict) and user.get("id") is not None:
                usernames[str(user["id"])] = str(user.get("username") or "")
    return tweets, usernames


def tweet_fields(tweet: dict, usernames: dict[str, str]) -> dict:
    """The values the canonical row needs from one tweet record (None when absent)."""
    replied_to = next(
        (
            r.get("id")
            for r in tweet.get("referenced_tweets") or []
            if isinstance(r, dict) and r.get("type") == "replied_to"
        ),
        None,
    )
    metrics = tweet.get("public_metrics") or {}
    mentions = [m.get("username", "") for m in dig(tweet, "entities", "mentions") or []]
    mentions = mentions or re.findall(r"@(\w+)", str(tweet.get("text") or ""))
    author = tweet.get("author_id")
    return {
        "id": tweet.get("id"),
        "text": tweet.get("text"),
        "author_id": author,
        "username": usernames.get(str(author)) if author is not None else None,
        "reply_to_user": usernames.get(str(tweet.get("in_reply_to_user_id"))),
        "mentions": " ".join(m for m in mentions if isinstance(m, str)),
        "created_at": tweet.get("created_at"),
        "conversation_id": tweet.get("conversation_id"),
        "replied_to": replied_to,
        "likes": dig(metrics, "like_count"),
        "retweets": dig(metrics, "retweet_count"),
        "quotes": dig(metrics, "quote_count"),
        "comments": dig(metrics, "reply_count"),
        "reach": dig(metrics, "impression_count"),
    }


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from extracted tweet fields (text columns). Pure."""
    reasons = no_reasons(fields.index)
    numbers = {}
    for name in ("likes", "retweets", "quotes", "comments", "reach"):
        numbers[name], bad = parse_whole_numbers(fields[name])
        reasons = add_reason(reasons, bad, f"public_metrics: {name} not a whole number")
    created = parse_timestamps(fields["created_at"], options.zone())
    reasons = add_reason(
        reasons, created.isna() & ~is_blank(fields["created_at"]), "created_at: not a timestamp"
    )
    accounts = {k.lower(): v for k, v in options.accounts.items()}

    def brand_of(handles: pd.Series) -> pd.Series:
        return (
            clean_text(handles).str.lower().map(accounts.get, na_action="ignore").astype("string")
        )

    own = brand_of(fields["username"]).fillna(brand_of(fields["author_id"]))
    conversation = clean_text(fields["conversation_id"])
    spoken = pd.DataFrame({"c": conversation, "b": own}).dropna().drop_duplicates("c")
    in_conversation = conversation.map(spoken.set_index("c")["b"]).astype("string")
    first_mention = (
        fields["mentions"]
        .str.split(" ")
        .map(
            lambda names: next((accounts[n.lower()] for n in names if n.lower() in accounts), None),
            na_action="ignore",
        )
    )
    addressed = (
        brand_of(fields["reply_to_user"])
        .fillna(first_mention.astype("string"))
        .fillna(in_conversation)
    )
    given = pd.Series(options.brand, index=fields.index, dtype="string")
    brand = own.fillna(addressed).fillna(given)
    direction = np.select([own.notna(), addressed.notna()], ["outbound", "inbound"], "mention")
    reasons = add_reason(
        reasons,
        brand.isna(),
        "no brand: not from, to or about an account under accounts in params; give --brand",
    )
    ids = prefixed_ids("twitter", fields["id"])
    rows = pd.DataFrame(
        {
            "id": ids,
            "channel": "twitter",
            "brand": brand,
            "direction": direction,
            "thread_id": prefixed_ids("twitter", conversation).fillna(ids),
            "parent_id": prefixed_ids("twitter", fields["replied_to"]),
            "author_id": clean_text(fields["author_id"]),
            "created_at": created,
            "text": fields["text"],
            "likes": numbers["likes"],
            "shares": numbers["retweets"] + numbers["quotes"].fillna(0),
            "comments": numbers["comments"],
            "reach": numbers["reach"],
        },
        index=fields.index,
    )
    return rows, reasons
