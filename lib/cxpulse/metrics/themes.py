"""Themes in the warehouse: which messages a theme holds, how many, how fast it grows.

The messages of themes are our inbound messages with a text, negative ones only
(p_negative >= ``negative_probability``) unless the scope is ``inbound``
(params/themes.yaml). The engine selects them and counts them per distinct text; the
(small) frame of distinct texts is assigned to themes here (``cxpulse.themes.assign``),
and the engine counts each theme's messages by joining the texts back (an in-memory
table of text -> theme id). A theme's figures:

- messages: its messages in the window; share = messages / all messages of the scope
  (fraction, "other" included);
- previous: its messages in the comparison window; expected = previous x window days /
  comparison days; change = messages / expected (ratio; NaN when previous is 0);
- a theme grows fast when it has at least ``min_count`` messages and change >= ``RISING``
  (or none before); status "new" when it grows fast and was first seen by a fit ending
  inside or after the comparison window, "rising" when it grows fast otherwise;
- channels: the ``CHANNELS_SHOWN`` channels with most of its messages, with their shares;
- frt_median_s: median first response of its answered messages (``first_responses``);
- net_sentiment: (positive - negative) / (positive + negative) x 100 of the mean class
  probabilities of its messages (not bias-corrected: negative messages were chosen by
  their p_negative);
- examples: up to ``EXAMPLES`` messages of the window most like the theme and unlike
  each other (``_varied``), id and text.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

from cxpulse import periods, themes
from cxpulse.config import NEGATIVE_PROBABILITY
from cxpulse.metrics.grouping import with_group_keys, within
from cxpulse.metrics.response import first_responses
from cxpulse.metrics.sentiment import is_negative

EXAMPLES = 3
CHANNELS_SHOWN = 3
RISING = 2.0
MIN_COUNT = 5
SUMMARY_COLUMNS = [
    "theme_id", "label", "messages", "share", "previous", "change", "status", "channels",
    "frt_median_s", "net_sentiment", "example_ids", "example_texts",
]  # fmt: skip


def in_scope(t: ir.Table, brand: str, scope: str, threshold: float) -> ir.Table:
    """Inbound rows of ``brand`` with a text; only negative ones (p_negative >=
    ``threshold``) when ``scope`` is ``negative``."""
    rows = t.filter(_.brand == brand, _.direction == "inbound", _.text.notnull())
    return rows.filter(is_negative(rows, threshold)) if scope == "negative" else rows


def scope_texts(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: str,
    scope: str = "negative",
    negative_probability: float = NEGATIVE_PROBABILITY,
) -> pd.Series:
    """The text of each message of the scope created in ``[start, end)``, oldest first."""
    rows = within(in_scope(t, brand, scope, negative_probability), start, end)
    return rows.order_by("created_at", "id").select("text").execute()["text"]


def text_counts(
    t: ir.Table,
    current: periods.Period,
    comparison: periods.Period,
    brand: str,
    scope: str = "negative",
    negative_probability: float = NEGATIVE_PROBABILITY,
) -> pd.DataFrame:
    """Messages of the scope per distinct text and channel, in ``current`` (now) and
    ``comparison`` (before), with the sums of p_negative and p_positive of those of
    ``current`` and the smallest id among them (null when none). Columns: text, channel,
    now, before, neg, pos, first_id."""
    rows = in_scope(t, brand, scope, negative_probability)
    now = (_.created_at >= current.start) & (_.created_at < current.end)
    before = (_.created_at >= comparison.start) & (_.created_at < comparison.end)
    counts = (
        rows.filter(now | before)
        .group_by(["text", "channel"])
        .aggregate(
            now=now.ifelse(1, 0).sum(),
            before=before.ifelse(1, 0).sum(),
            neg=now.ifelse(_.p_negative, 0.0).sum(),
            pos=now.ifelse(_.p_positive, 0.0).sum(),
            first_id=now.ifelse(_.id, ibis.null("string")).min(),
        )
    )
    return counts.execute().sort_values(["text", "channel"], ignore_index=True)


def _themed(t: ir.Table, assignment: pd.DataFrame) -> ir.Table:
    """``t`` joined with ``assignment`` (text, theme_id and any more columns of its theme):
    its rows with those columns."""
    table = ibis.memtable(assignment.rename(columns={"text": "a_text"}))
    return t.join(table, t.text == table.a_text).drop("a_text")


def assign_texts(
    texts: pd.Series, model: themes.ThemeModel | None, taxonomy: themes.Taxonomy, names=()
) -> pd.DataFrame:
    """Theme of each distinct text (``themes.assign`` of the cleaned text). Columns: text,
    theme_id, label, similarity."""
    texts = pd.Series(texts, dtype=object).reset_index(drop=True)
    assigned = themes.assign(themes.cleaned(texts, names), model, taxonomy).frame()
    return assigned.assign(text=texts)[["text", "theme_id", "label", "similarity"]]


def _channels(frame: pd.DataFrame) -> pd.Series:
    """Theme id -> "twitter 60%, email 30%, review 5%": its ``CHANNELS_SHOWN`` channels
    with the most messages, from (theme_id, channel, n) rows."""
    shares = frame.assign(share=frame["n"] / frame.groupby("theme_id")["n"].transform("sum"))
    shares = shares.sort_values(["theme_id", "share", "channel"], ascending=[True, False, True])
    return (
        shares.groupby("theme_id")
        .head(CHANNELS_SHOWN)
        .groupby("theme_id")
        .apply(
            lambda g: ", ".join(
                f"{c} {s:.0%}" for c, s in zip(g["channel"], g["share"], strict=True)
            ),
            include_groups=False,
        )
    )


def theme_summary(
    t: ir.Table,
    model: themes.ThemeModel | None,
    current: periods.Period,
    comparison: periods.Period,
    brand: str,
    taxonomy: themes.Taxonomy = themes.NO_TAXONOMY,
    names: tuple[str, ...] = (),
    scope: str = "negative",
    negative_probability: float = NEGATIVE_PROBABILITY,
    min_count: int = MIN_COUNT,
) -> pd.DataFrame:
    """Each theme of ``model`` (after ``taxonomy``) in ``current`` against
    ``comparison``, as in the module docstring, ranked by messages ("other" last).

    Columns: ``SUMMARY_COLUMNS``.
    """
    by_text = text_counts(t, current, comparison, brand, scope, negative_probability)
    texts = by_text.groupby("text", sort=True).agg(
        now=("now", "sum"), before=("before", "sum"), first_id=("first_id", "min")
    )
    assigned = assign_texts(pd.Series(texts.index), model, taxonomy, names)
    counts = texts.reset_index().join(assigned[["theme_id", "similarity"]])
    by_text = by_text.merge(counts[["text", "theme_id"]], on="text")
    labels = themes.labels(model, taxonomy)
    per_theme = counts.groupby("theme_id")[["now", "before"]].sum()
    frame = pd.DataFrame({"theme_id": list(labels), "label": list(labels.values())})
    frame = frame.join(per_theme, on="theme_id").fillna({"now": 0, "before": 0})
    frame = frame[(frame["now"] > 0) | (frame["before"] > 0)]
    total = max(int(counts["now"].sum()), 1)
    expected = frame["before"] * current.days / comparison.days
    first_seen = {th.id: th.first_seen for th in model.themes} if model else {}
    recent = frame["theme_id"].map(lambda i: first_seen.get(i, "") >= str(comparison.first_day))
    change = (frame["now"] / expected).where(expected > 0)
    grows = (frame["now"] >= min_count) & ((frame["before"] == 0) | (change >= RISING))
    status = np.where(grows & recent, "new", np.where(grows, "rising", ""))
    by_channel = by_text[by_text["now"] > 0].groupby(["theme_id", "channel"], as_index=False)
    by_channel = by_channel.agg(n=("now", "sum"), neg=("neg", "sum"), pos=("pos", "sum"))
    sums = by_channel.groupby("theme_id")[["neg", "pos"]].sum()
    net = (sums["pos"] - sums["neg"]) / (sums["pos"] + sums["neg"]).replace(0, np.nan) * 100
    examples = _examples(counts)
    frame = frame.assign(
        messages=frame["now"].astype("int64"),
        share=frame["now"] / total,
        previous=frame["before"].astype("int64"),
        change=change,
        status=np.where(frame["theme_id"] == themes.OTHER, "", status),
        channels=frame["theme_id"].map(_channels(by_channel) if len(by_channel) else {}),
        frt_median_s=frame["theme_id"].map(
            _frt(t, counts, current, brand, scope, negative_probability)
        ),
        net_sentiment=frame["theme_id"].map(net).astype("float64"),
        example_ids=frame["theme_id"].map(lambda i: examples.get(i, ([], []))[0]),
        example_texts=frame["theme_id"].map(lambda i: examples.get(i, ([], []))[1]),
        _other=frame["theme_id"] == themes.OTHER,
    )
    frame = frame.sort_values(["_other", "messages", "label"], ascending=[True, False, True])
    return frame[SUMMARY_COLUMNS].reset_index(drop=True)


def _frt(
    t: ir.Table,
    counts: pd.DataFrame,
    current: periods.Period,
    brand: str,
    scope: str,
    threshold: float,
) -> pd.Series:
    """Theme id -> median first response (s) of its answered messages of ``current``
    (``first_responses``; ``counts``: text -> theme_id)."""
    answered = first_responses(t, current.start, current.end).filter(
        _.brand == brand, _.frt_s.notnull()
    )
    if scope == "negative":
        answered = answered.filter(is_negative(answered, threshold))
    themed = _themed(answered, counts.loc[counts["now"] > 0, ["text", "theme_id"]])
    frt = themed.group_by("theme_id").aggregate(frt_median_s=_.frt_s.median()).execute()
    return frt.set_index("theme_id")["frt_median_s"].astype("float64")


def _varied(texts: pd.Series, count: int = EXAMPLES, overlap: float = 0.6) -> list:
    """Index labels of up to ``count`` of ``texts`` (best first), each sharing at most
    ``overlap`` of its words (Jaccard) with the ones picked before it; the best others
    fill up when too few differ."""
    picked: list = []
    seen: list[set[str]] = []
    for label, text in texts.items():
        words = set(str(text).lower().split())
        if all(len(words & w) / max(len(words | w), 1) <= overlap for w in seen):
            picked.append(label)
            seen.append(words)
        if len(picked) == count:
            return picked
    rest = [label for label in texts.index if label not in picked]
    return picked + rest[: count - len(picked)]


def _examples(counts: pd.DataFrame) -> dict[str, tuple[list[str], list[str]]]:
    """Theme id -> (ids, texts) of up to ``EXAMPLES`` messages of the window: its distinct
    texts most similar to the theme (pinned and "other": the most frequent) and unlike
    each other (``_varied``), each with the smallest id holding it (``counts``: text,
    theme_id, similarity, now, first_id)."""
    now = counts[counts["now"] > 0].assign(rank=lambda f: f["similarity"].fillna(0))
    now = now.sort_values(["theme_id", "rank", "now", "text"], ascending=[True, False, False, True])
    out: dict[str, tuple[list[str], list[str]]] = {}
    for theme_id, group in now.groupby("theme_id"):
        picked = group.loc[_varied(group["text"])]
        out[theme_id] = (list(picked["first_id"].astype(str)), list(picked["text"]))
    return out


def theme_members(
    t: ir.Table,
    model: themes.ThemeModel | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: str,
    taxonomy: themes.Taxonomy = themes.NO_TAXONOMY,
    names: tuple[str, ...] = (),
    scope: str = "negative",
    negative_probability: float = NEGATIVE_PROBABILITY,
) -> ir.Table:
    """Every message of the scope created in ``[start, end)`` with its theme: the
    members of each theme, for exports. Columns: id, theme_id, label (null for a theme
    id without one); by theme, then id.

    An expression (its distinct texts are assigned now): the engine sorts the rows and
    an export writes them straight from it (``figures.write_parquet``), never holding
    them here (a quarter of 100M rows has 950,000 members: 360 MB of pandas at the peak
    of labelling and sorting them)."""
    rows = within(in_scope(t, brand, scope, negative_probability), start, end)
    texts = rows.select("text").distinct().execute()["text"]
    assigned = assign_texts(texts, model, taxonomy, names)
    assigned["label"] = assigned["theme_id"].map(themes.labels(model, taxonomy))
    members = _themed(rows, assigned[["text", "theme_id", "label"]])
    return members.select("id", "theme_id", "label").order_by(["theme_id", "id"])


def theme_trend(
    t: ir.Table,
    model: themes.ThemeModel | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: str,
    grain: str,
    tz: str,
    taxonomy: themes.Taxonomy = themes.NO_TAXONOMY,
    names: tuple[str, ...] = (),
    scope: str = "negative",
    negative_probability: float = NEGATIVE_PROBABILITY,
) -> pd.DataFrame:
    """Messages of each theme per local ``grain`` (week or quarter) of ``[start, end)``,
    every theme counted with the same fit. Columns: ``grain``, theme_id, label, messages."""
    rows = with_group_keys(
        within(in_scope(t, brand, scope, negative_probability), start, end),
        [grain],
        tz,
        (start, end),
    )
    counts = rows.group_by(["text", grain]).aggregate(n=_.count()).execute()
    assigned = assign_texts(pd.Series(counts["text"].unique()), model, taxonomy, names)
    counts = counts.merge(assigned[["text", "theme_id"]], on="text")
    out = counts.groupby([grain, "theme_id"], as_index=False)["n"].sum()
    out["label"] = out["theme_id"].map(themes.labels(model, taxonomy))
    out = out.rename(columns={"n": "messages"})
    return out.sort_values([grain, "theme_id"], ignore_index=True)[
        [grain, "theme_id", "label", "messages"]
    ]
