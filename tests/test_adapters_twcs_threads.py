"""TWCS thread context found out of core (``twcs_threads``), property-tested against the
in-memory pandas definition it replaced (kept here only as the reference): generated link
sets with duplicated and missing ids, parents outside the file, reply loops, deep chains,
ties in time and in the most active company, added in chunks of any size."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.adapters.fields import parent_positions, thread_roots
from cxpulse.adapters.twcs_threads import Threads

COMPANIES = ["Apple", "apple", "Zed", "AmazonHelp", "Ünï"]
TIMES = [pd.Timestamp("2017-10-31 22:10", tz="UTC") + pd.Timedelta(minutes=m) for m in range(3)]


def reference(links: pd.DataFrame) -> pd.DataFrame:
    """The context as the pure pandas ``thread_context`` found it (up to a8fba82)."""
    author = links["company"]
    is_company = author.notna()
    up = parent_positions(links["tweet_id"], links["parent"])
    root = thread_roots(links["tweet_id"], links["parent"], up)
    replies = pd.DataFrame(
        {"parent": links["parent"], "author": author, "created": links["created"]}
    )[is_company]
    replies = replies.dropna(subset=["parent"]).sort_values(["created", "author"], kind="stable")
    first = look_up(
        replies.drop_duplicates("parent").set_index("parent")["author"], links["tweet_id"]
    )
    company = is_company.to_numpy()
    parent_is_company = (up >= 0) & company[up.clip(0)]
    found = np.where(parent_is_company, up, -1)
    step = np.where(parent_is_company, -1, up)
    for _ in range(len(up).bit_length() + 1):
        active = step >= 0
        if not active.any():
            break
        found_there, step_there = found[step.clip(0)], step[step.clip(0)]
        found = np.where(active, found_there, found)
        step = np.where(active & (found_there < 0), step_there, -1)
    above = pd.Series(author.array.take(found, allow_fill=True), index=author.index)
    companies = pd.DataFrame({"root": root, "author": author})[is_company]
    counts = companies.groupby(["root", "author"], observed=True).size()
    ranked = counts.rename("n").reset_index().sort_values(["n", "author"], ascending=[False, True])
    most = look_up(ranked.drop_duplicates("root").set_index("root")["author"], root)
    addressed = first.fillna(above).fillna(most)
    return links.assign(root=root, addressed=addressed.astype("category"))


def look_up(table: pd.Series, keys: pd.Series) -> pd.Series:
    at = table.index.get_indexer(pd.Index(keys))
    return pd.Series(table.array.take(at, allow_fill=True), index=keys.index)


def links_frame(records: list[tuple]) -> pd.DataFrame:
    """``link_fields``-like links of (tweet_id, parent, company, time) records."""
    tweet_id, parent, company, time = zip(*records, strict=True) if records else ([],) * 4
    return pd.DataFrame(
        {
            "tweet_id": pd.array(tweet_id, dtype="Int64"),
            "parent": pd.array(parent, dtype="Int64"),
            "created": pd.Series(time, dtype="datetime64[us, UTC]"),
            "company": pd.Series(company, dtype="string").astype("category"),
            "reason": pd.Series(pd.NA, index=range(len(records)), dtype="string").astype(
                "category"
            ),
        }
    )


def solved(links: pd.DataFrame, cuts: list[int]) -> pd.DataFrame:
    """The context of ``links`` added to ``Threads`` in chunks cut at ``cuts``."""
    bounds = [0, *sorted({c % (len(links) + 1) for c in cuts}), len(links)]
    parts = [
        links.iloc[a:b].reset_index(drop=True)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        if b > a
    ]
    parts = parts or [links]  # a file without records is one chunk without records
    parts = [p.assign(company=p["company"].astype("string").astype("category")) for p in parts]
    with Threads(None) as threads:
        for part in parts:
            threads.add(part)
        threads.solve()
        found = list(threads.contexts(parts))
    return pd.concat(found, ignore_index=True)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    for column in ("tweet_id", "parent", "created", "root"):
        pd.testing.assert_series_equal(got[column], want[column], check_dtype=False)
    for column in ("company", "addressed"):
        pd.testing.assert_series_equal(got[column].astype("string"), want[column].astype("string"))
    assert list(got["company"].cat.categories) == list(want["company"].cat.categories)


ids = st.one_of(st.none(), st.integers(1, 12))
record = st.tuples(
    ids, ids, st.sampled_from([None, None, *COMPANIES]), st.sampled_from([None, *TIMES])
)


@settings(max_examples=150, deadline=None)
@given(st.lists(record, max_size=30), st.lists(st.integers(0, 40), max_size=4))
def test_the_context_is_the_pandas_definitions(records, cuts):
    links = links_frame(records)
    assert_same(solved(links, cuts), reference(links))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 300),
    st.sets(st.integers(0, 299)),
    st.integers(0, 300),
    st.lists(st.integers(0, 400), max_size=3),
)
def test_deep_chains_and_loops_give_what_pointer_doubling_gave(depth, companies, loop_to, cuts):
    """A chain ``depth`` long whose first tweet answers ``loop_to`` (a loop when it is in
    the chain: the root is then wherever 2**R steps up lead), company tweets at random."""
    records = [
        (n + 1, n if n else loop_to, COMPANIES[n % 3] if n in companies else None, TIMES[0])
        for n in range(depth)
    ]
    links = links_frame(records[::-1] if depth % 2 else records)
    assert_same(solved(links, cuts), reference(links))


def test_a_file_with_no_company_has_no_addressee():
    links = links_frame([(1, None, None, None), (2, 1, None, None)])
    got = solved(links, [])
    assert got["root"].tolist() == [1, 1]
    assert got["addressed"].isna().all()
