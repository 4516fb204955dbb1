"""The canonical interaction: one row per message, call or review (DESIGN.md).

Every adapter returns a frame with ``COLUMNS``; ``validate`` splits it into the rows that
may be stored and the rows that go to quarantine, each with its reason.

An ``id`` names one message for good. Where the source's ids are unique on the channel
(tweets, Facebook Graph and YouTube comment ids) it is ``<channel>:<source id>``; where they
are local to the source (reviews, calls, generic mention exports) it is
``<channel>:<scope>:<source id>``, the scope being what numbers them (the review site, the
brand's call centre or export): each adapter's docstring says which. A row whose id is
stored with another brand, created_at, direction or text is another message, and is
quarantined as a conflict (``warehouse.store``).

Survey responses are rows of the ``survey`` channel (direction ``inbound``, the comment as
``text``) with ``nps`` (0-10), ``csat`` (1-5) and ``rated_channel`` (the channel of the
contact the response rates); other rows leave the three null. A warehouse made before
they existed gets them, null, when it is opened (``warehouse.migrate``).

The warehouse stores one more column per row, computed from the others (``DERIVED``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow

if TYPE_CHECKING:
    import pandera.pandas as pa

CHANNELS: tuple[str, ...] = (
    "twitter",
    "facebook",
    "instagram",
    "youtube",
    "tumblr",
    "pinterest",
    "blog",
    "review",
    "email",
    "chat",
    "phone",
    "webform",
    "reddit",
    "survey",
)
"""``webform``: help-desk tickets sent from a web form or app; ``survey``: NPS / CSAT
responses (their ``rated_channel`` says which contact they rate)."""
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound", "mention")
OUTCOMES: tuple[str, ...] = ("served", "abandoned", "ivr", "phantom")
"""Call outcomes: served by an agent, abandoned while queued, ended in the IVR/VRU
(never offered to an agent), phantom (a line artefact the source says to ignore)."""

# column -> DuckDB type; the order is the table's column order.
COLUMNS: dict[str, str] = {
    "id": "VARCHAR",
    "channel": "VARCHAR",
    "brand": "VARCHAR",
    "direction": "VARCHAR",
    "thread_id": "VARCHAR",
    "parent_id": "VARCHAR",
    "author_id": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "text": "VARCHAR",
    "rating": "TINYINT",
    "nps": "TINYINT",
    "csat": "TINYINT",
    "rated_channel": "VARCHAR",
    "reach": "BIGINT",
    "likes": "BIGINT",
    "shares": "BIGINT",
    "comments": "BIGINT",
    "wait_s": "DOUBLE",
    "handle_s": "DOUBLE",
    "outcome": "VARCHAR",
    "sentiment": "DOUBLE",
    "p_negative": "DOUBLE",
    "p_neutral": "DOUBLE",
    "p_positive": "DOUBLE",
    "source_file": "VARCHAR",
    "ingested_at": "TIMESTAMPTZ",
}
DERIVED: dict[str, str] = {"first_reply_at": "TIMESTAMPTZ"}
"""Columns the warehouse computes from its rows, after ``COLUMNS`` in its table (column ->
DuckDB type): first_reply_at, an inbound message's first reply (``replies``). Adapters
never give them; ``warehouse.store`` keeps them up to date."""
TABLE_COLUMNS: dict[str, str] = {**COLUMNS, **DERIVED}
"""The warehouse's ``interactions`` table, and the lake's, in order: ``COLUMNS`` then
``DERIVED``."""
PROBABILITIES: tuple[str, ...] = ("p_negative", "p_neutral", "p_positive")
"""Class probabilities from the engine that scored the text (sum 1; null without text)."""
REQUIRED: tuple[str, ...] = ("id", "channel", "brand", "direction", "created_at")
COUNTS: tuple[str, ...] = ("reach", "likes", "shares", "comments")
TEXT_COLUMNS: tuple[str, ...] = (
    "id",
    "channel",
    "brand",
    "direction",
    "thread_id",
    "parent_id",
    "author_id",
    "text",
    "outcome",
    "rated_channel",
    "source_file",
)
MAX_TEXT_CHARS = 100_000
"""Longer texts are not messages but a broken export; such rows go to quarantine."""

DEFAULT_FLOOR = pd.Timestamp("1990-01-01", tz="UTC")
TIMESTAMP_DTYPE = "datetime64[us, UTC]"
"""The unit timestamps are parsed and checked in: microseconds, as DuckDB stores them
(nanoseconds would overflow after 2262, so a year-9999 typo could not even be read)."""


def empty_frame() -> pd.DataFrame:
    """A frame with the canonical columns and dtypes and no rows."""
    return conform(pd.DataFrame({c: [] for c in COLUMNS}))


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order, with canonical dtypes.

    Missing optional columns are added as nulls. Values that cannot be coerced raise
    ``ValueError``; adapters coerce their own columns first, so this only fixes dtypes.
    """
    columns = []
    for col, sql_type in COLUMNS.items():
        if col in frame.columns:
            columns.append(as_type(frame[col], sql_type))
        else:
            columns.append(pd.Series(nulls(sql_type, len(frame)), index=frame.index, name=col))
    return pd.concat(columns, axis=1)  # unlike pd.DataFrame(dict), copies no column


def nulls(sql_type: str, length: int) -> pd.api.extensions.ExtensionArray:
    """``length`` nulls in the pandas dtype ``as_type`` gives the DuckDB type ``sql_type``,
    made as such (several times faster than pandas converting ``None`` to it)."""
    if sql_type == "VARCHAR":
        return pd.arrays.ArrowStringArray(pyarrow.nulls(length, pyarrow.large_string()))
    if sql_type in ("TINYINT", "BIGINT"):
        return pd.arrays.IntegerArray(np.zeros(length, np.int64), np.ones(length, bool))
    if sql_type == "DOUBLE":
        return pd.arrays.FloatingArray(np.zeros(length, np.float64), np.ones(length, bool))
    null = as_type(pd.Series([], dtype=object), sql_type).dtype
    return pd.array([None] * length, dtype=null)


EXACT_DTYPES = {
    "VARCHAR": pd.StringDtype(),
    "TINYINT": pd.Int64Dtype(),
    "BIGINT": pd.Int64Dtype(),
    "DOUBLE": pd.Float64Dtype(),
}
"""The pandas dtype of each DuckDB type but TIMESTAMPTZ (any unit, in UTC)."""


def as_type(values: pd.Series, sql_type: str) -> pd.Series:
    """``values`` in the pandas dtype that holds the DuckDB type ``sql_type`` (as they
    are when they already have it: a chunk's columns pass here twice)."""
    if sql_type == "TIMESTAMPTZ":
        dtype = values.dtype
        if isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC":
            return values
        return pd.to_datetime(values, utc=True)
    if values.dtype == EXACT_DTYPES.get(sql_type):
        return values
    if sql_type == "VARCHAR":
        return values.astype("string")
    if sql_type in ("TINYINT", "BIGINT"):
        return pd.to_numeric(values).astype("Int64")
    return pd.to_numeric(values).astype("Float64")


@functools.lru_cache(maxsize=4)  # a file's chunks share ``now`` and ``floor``
def _rules(now: pd.Timestamp, floor: pd.Timestamp) -> pa.DataFrameSchema:
    # pandera is imported here, not with the module: the reports use this module's column
    # lists, not its checks, and each report process would pay 0.1 s for it.
    import pandera.pandas as pa

    def in_set(values: tuple[str, ...], name: str) -> pa.Check:
        return pa.Check.isin(list(values), error=f"{name} must be one of {', '.join(values)}")

    return pa.DataFrameSchema(
        {
            "id": pa.Column(
                "string",
                checks=pa.Check.str_length(min_value=3, error="id must be '<channel>:<id>'"),
                unique=False,
                nullable=False,
            ),
            "channel": pa.Column("string", in_set(CHANNELS, "channel"), nullable=False),
            "brand": pa.Column(
                "string",
                pa.Check.str_length(min_value=1, error="brand must not be empty"),
                nullable=False,
            ),
            "direction": pa.Column("string", in_set(DIRECTIONS, "direction"), nullable=False),
            "created_at": pa.Column(
                TIMESTAMP_DTYPE,
                [
                    pa.Check.less_than_or_equal_to(now, error="created_at is in the future"),
                    pa.Check.greater_than_or_equal_to(
                        floor, error=f"created_at is before the floor {floor.date()}"
                    ),
                ],
                nullable=False,
                coerce=True,
            ),
            "text": pa.Column(
                "string",
                pa.Check(
                    lambda s: s.str.len() <= MAX_TEXT_CHARS,
                    element_wise=False,
                    error=f"text longer than {MAX_TEXT_CHARS} characters",
                ),
                nullable=True,
            ),
            "rating": pa.Column(
                "Int64", pa.Check.in_range(1, 5, error="rating must be 1 to 5"), nullable=True
            ),
            "nps": pa.Column(
                "Int64", pa.Check.in_range(0, 10, error="nps must be 0 to 10"), nullable=True
            ),
            "csat": pa.Column(
                "Int64", pa.Check.in_range(1, 5, error="csat must be 1 to 5"), nullable=True
            ),
            "rated_channel": pa.Column("string", in_set(CHANNELS, "rated_channel"), nullable=True),
            **{
                c: pa.Column(
                    "Int64", pa.Check.ge(0, error=f"{c} must not be negative"), nullable=True
                )
                for c in COUNTS
            },
            **{
                c: pa.Column(
                    "Float64", pa.Check.ge(0, error=f"{c} must not be negative"), nullable=True
                )
                for c in ("wait_s", "handle_s")
            },
            "outcome": pa.Column("string", in_set(OUTCOMES, "outcome"), nullable=True),
            "sentiment": pa.Column(
                "Float64",
                pa.Check.in_range(-1, 1, error="sentiment must be in [-1, 1]"),
                nullable=True,
            ),
            **{
                c: pa.Column(
                    "Float64",
                    pa.Check.in_range(0, 1, error=f"{c} must be a probability in [0, 1]"),
                    nullable=True,
                )
                for c in PROBABILITIES
            },
        },
        strict=False,
    )


def describe_failure(check: str, column: str, value: object) -> str:
    """A reason for one failed pandera check: its own message, or one said plainly."""
    if " " in check:
        return check
    if check == "not_nullable":
        return f"{column} is missing"
    if "dtype" in check:
        return f"{column}: wrong type"
    return f"{column}: {check} (got {value!r})"


def suspects(frame: pd.DataFrame, rules: pa.DataFrameSchema) -> np.ndarray:
    """True for each row of the conformed ``frame`` that a column of ``rules`` rejects: null
    where the column is not nullable, or failing one of its checks. Each check runs once on
    its column's values, and not at all on a column of nulls (a third of the time of
    ``rules.validate`` on a chunk of 30,000 rows, which also collects failure cases); the
    checks are row by row, so pandera gives these rows alone the same reasons."""
    ok = np.ones(len(frame), dtype=bool)
    for name, column in rules.columns.items():
        present = frame[name].notna().to_numpy()
        if not column.nullable:
            ok &= present
        if not present.any():
            continue
        values = frame[name] if present.all() else frame[name][present]
        for check in column.checks:
            ok[present] &= check(values).check_output.to_numpy(dtype=bool)
    return ~ok


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one canonical frame."""

    good: pd.DataFrame
    bad: pd.DataFrame
    """The rejected rows' index labels with a ``reason`` column (one row per bad row)."""


def validate(
    frame: pd.DataFrame,
    now: pd.Timestamp,
    floor: pd.Timestamp = DEFAULT_FLOOR,
) -> Validated:
    """Split a canonical frame into storable rows and rejected rows with their reasons.

    Besides the per-column rules, an ``id`` that occurs more than once in the same frame
    rejects every row holding it (the export contradicts itself; which one is right is
    not ours to guess). Only the ``suspects`` go through pandera, which gives the reasons.
    """
    from pandera.errors import SchemaErrors

    frame = conform(frame)
    rules = _rules(now, floor)
    suspect = suspects(frame, rules)
    reasons: dict[object, list[str]] = {}
    try:
        if suspect.any():
            rules.validate(frame[suspect], lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        found = zip(
            cases["index"].tolist(),
            cases["check"].astype(str).tolist(),
            cases["column"].tolist(),
            cases["failure_case"].tolist(),
            strict=True,
        )
        for label, check, column, value in found:
            reasons.setdefault(label, []).append(describe_failure(check, column, value))
    dup = frame["id"].notna() & frame["id"].duplicated(keep=False)
    for label in frame.index[dup]:
        reasons.setdefault(label, []).append("id occurs more than once in this file")
    bad_labels = list(reasons)
    bad = pd.DataFrame(
        {"reason": ["; ".join(dict.fromkeys(reasons[k])) for k in bad_labels]},
        index=pd.Index(bad_labels, name=frame.index.name),
    )
    good = frame.drop(index=bad_labels) if bad_labels else frame
    return Validated(good=good, bad=bad)
