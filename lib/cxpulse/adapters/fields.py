"""Pure value parsing shared by the adapters: timestamps, whole numbers, durations, ids,
and the reasons a row is set aside. No I/O.

A *reasons* series holds, per row, why the adapter cannot make a canonical row of it
("created_at: not a timestamp"), or NA. Reasons name the field and the rule, never the
value (the quarantined raw text holds it), so they group well in ``cxpulse status``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxpulse.adapters import AdapterError
from cxpulse.schema import TIMESTAMP_DTYPE

_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_INT64_DIGITS = r"[+-]?(?:\d{1,18}|[1-8]\d{18})"
"""Whole numbers written in digits that surely fit in 64 bits (read exactly, not as floats)."""
_POINT_ZERO = r"[+-]?[0-9]{1,15}\.0*"
"""A whole number written as a float with a zero fraction, small enough to be exact."""
_PLAIN_UTC = (
    r"^(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z$"
)
"""UTC times as exports write them, from 1900 to 2099 (which Arrow and pandas read alike)."""
_CLOCK = re.compile(r"^(-)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$")


def no_reasons(index: pd.Index) -> pd.Series:
    """A reasons series with no reason for any row."""
    return pd.Series(pd.NA, index=index, dtype="string")


def add_reason(reasons: pd.Series, mask: pd.Series, reason: str) -> pd.Series:
    """``reasons`` with ``reason`` appended (after ``; ``) where ``mask`` is true."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return reasons
    before = reasons[mask]
    out = reasons.copy()
    out[mask] = (before + "; " + reason).fillna(reason)
    return out


def is_blank(values: pd.Series) -> pd.Series:
    """True where a value is missing or only whitespace."""
    return values.isna() | (values.astype("string").str.strip() == "")


def clean_text(values: pd.Series) -> pd.Series:
    """Strings with surrounding whitespace removed; blanks become NA.

    Done in Arrow: the stripped strings are marked null where empty (their buffers are
    kept, not copied)."""
    text = pa.array(values.astype("string"))  # large strings: the pandas type's own
    stripped = pc.utf8_trim_whitespace(text)  # what ``str.strip()`` does
    if isinstance(stripped, pa.ChunkedArray):
        cleaned = pa.chunked_array([empty_as_null(c) for c in stripped.chunks], stripped.type)
    else:
        cleaned = empty_as_null(stripped)
    return pd.Series(pd.arrays.ArrowStringArray(cleaned), index=values.index, name=values.name)


def empty_as_null(strings: pa.Array) -> pa.Array:
    """``strings`` with its empty strings null: the same buffers, another validity."""
    keep = pc.greater(pc.binary_length(strings), 0).fill_null(False)
    if strings.offset:  # a slice (kernels' results start at 0): not worth sharing
        return pc.if_else(keep, strings, pa.scalar(None, strings.type))
    buffers = [keep.buffers()[1], *strings.buffers()[1:]]
    return pa.Array.from_buffers(strings.type, len(strings), buffers)


def as_text(values: pd.Series) -> pd.Series:
    """``values.astype("string")``; for categorical values, each category is converted once
    (several times faster than pandas, which converts every value)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype("string")
    names = pd.Series(values.cat.categories, dtype=values.cat.categories.dtype).astype("string")
    text = names.array.take(values.cat.codes.to_numpy(), allow_fill=True)
    return pd.Series(text, index=values.index, name=values.name)


def localize(naive: pd.Series, timezone: str) -> pd.Series:
    """Naive wall-clock timestamps read in ``timezone``, as UTC.

    A wall time that occurs twice (the hour repeated when summer time ends) is read as the
    first occurrence; one that does not exist (the hour skipped when it starts) is moved
    forward to the first valid instant. The machine's zone is never used.
    """
    if naive.dt.tz is not None:
        return naive.dt.tz_convert("UTC")
    localized = naive.dt.tz_localize(
        timezone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return localized.dt.tz_convert("UTC")


def parse_timestamps(values: pd.Series, timezone: str, formats: Sequence[str] = ()) -> pd.Series:
    """UTC timestamps from text; NaT where a value is blank or matches no format.

    Each value is tried with each ``strptime`` format in turn, then as ISO 8601. A value
    carrying an offset (``Z``, ``+0000``, ``+02:00``, or ``%z`` in its format) is converted
    to UTC; a value without one is wall time in ``timezone`` (see ``localize``).
    """
    text = clean_text(values)
    out = pd.Series(pd.NaT, index=values.index, dtype=TIMESTAMP_DTYPE)
    todo = text.notna()
    for fmt in formats:
        if not todo.any():
            return out
        aware = "%z" in fmt or "%Z" in fmt
        parsed = strptime(text[todo], fmt)
        parsed = parsed if aware else localize(parsed, timezone)
        out.loc[parsed.index] = parsed.astype(TIMESTAMP_DTYPE)
        todo &= out.isna()
    if todo.any():
        plain = plain_utc_times(text.where(todo))
        found = plain.notna().to_numpy()
        out[found] = plain[found]
        todo &= ~found
    if todo.any():
        has_offset = text.str.contains(_OFFSET, na=False)
        for aware in (True, False):
            part = text[todo & (has_offset == aware)]
            if len(part):
                parsed = pd.to_datetime(part, format="ISO8601", errors="coerce", utc=aware)
                parsed = parsed if aware else localize(parsed, timezone)
                out.loc[parsed.index] = parsed.astype(TIMESTAMP_DTYPE)
    return out


def plain_utc_times(text: pd.Series) -> pd.Series:
    """The instants of the values of stripped ``text`` written as exports usually write UTC
    times (``_PLAIN_UTC``: ``2024-03-08T05:40:39.000Z``), read at once by Arrow (as pandas
    reads them as ISO 8601, several times faster); NaT for the other values, and for all
    when one names a day that does not exist (30 February: Arrow refuses them all)."""
    written = pa.array(text, type=pa.string(), from_pandas=True)
    plain = pc.match_substring_regex(written, _PLAIN_UTC)
    try:
        stamps = pc.cast(pc.if_else(plain, written, None), pa.timestamp("us", "UTC"))
    except pa.ArrowInvalid:
        stamps = pa.nulls(len(written), pa.timestamp("us", "UTC"))
    return pd.Series(stamps.to_pandas().array, index=text.index)


def strptime(text: pd.Series, fmt: str) -> pd.Series:
    """``text`` parsed with the ``strptime`` format ``fmt`` (by Arrow: several times faster
    than pandas), NaT where it does not match; aware (UTC) when ``fmt`` has ``%z``.

    Values are matched to ``text``'s labels by position: ``text`` may be a filtered
    selection whose labels have gaps."""
    parsed = pc.strptime(
        pa.array(text, type=pa.string()), format=fmt, unit="us", error_is_null=True
    )
    return pd.Series(parsed.to_pandas().array, index=text.index)


def _int64(text: pd.Series | pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Whole numbers from text that is all digits (a leading sign allowed) or NA, by Arrow
    (pandas' ``to_numeric`` is several times slower), indexed by ``index``."""
    written = text  # Arrow data as it is: pa.array() would copy a ChunkedArray value by value
    if isinstance(text, pd.Series):
        written = pa.array(text, type=pa.string(), from_pandas=True)
    try:
        numbers = pc.cast(pc.utf8_ltrim(written, characters="+"), pa.int64())
    except pa.ArrowInvalid:  # digits of another script ("١٢"): let pandas read them
        strings = pd.Series(written.to_pylist(), index=index, dtype="string")
        return pd.to_numeric(strings, errors="coerce").astype("Int64")
    values = numbers.fill_null(0).to_numpy(zero_copy_only=False)
    mask = numbers.is_null().to_numpy(zero_copy_only=False)
    return pd.Series(pd.arrays.IntegerArray(values, mask), index=index)


def parse_whole_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(whole numbers as Int64, mask of values that are not whole numbers).

    Blanks become NA and are not bad; ``"3.0"`` is 3 (exports write ids as floats).
    Ids of up to 19 digits (tweet ids) are read exactly.
    """
    text = clean_text(values)
    plain = plain_whole_numbers(text)
    if plain is not None:
        return plain, pd.Series(False, index=text.index)
    is_digits = text.str.fullmatch(_INT64_DIGITS).fillna(False)
    out = _int64(text.where(is_digits), text.index)
    rest = text[~is_digits & text.notna()]
    # "3.0": up to 15 digits a float holds exactly, so this is what the general path gives.
    point_zero = rest.str.fullmatch(_POINT_ZERO).fillna(False)
    if point_zero.any():
        written = pa.array(rest[point_zero], type=pa.string(), from_pandas=True)
        whole_part = pc.replace_substring_regex(written, pattern=r"\.0*$", replacement="")
        labels = point_zero.index[point_zero]
        out[labels] = _int64(whole_part, labels).array
        rest = rest[~point_zero]
    number = pd.to_numeric(rest, errors="coerce").astype("Float64")
    whole = number.notna() & (number % 1 == 0) & (number.abs() < 2**63)
    out[rest.index[whole]] = number[whole].round().astype("Int64")
    bad = pd.Series(False, index=text.index)
    bad[rest.index[~whole]] = True
    return out, bad


def plain_whole_numbers(text: pd.Series) -> pd.Series | None:
    """``parse_whole_numbers`` of stripped ``text`` (blanks NA) whose values all have one of
    the usual forms: up to 18 digits, or up to 15 digits and ``.0`` (a leading ``-``
    allowed); None when any has another (a sign ``+``, more digits, a fraction, ...).

    Read by Arrow in one pass, without the patterns: the forms the general path reads
    exactly, and that Arrow's cast also reads exactly."""
    written = pa.array(text, type=pa.string(), from_pandas=True)
    point_zero = pc.ends_with(written, ".0")
    whole = pc.if_else(point_zero, pc.utf8_slice_codeunits(written, 0, -2), written)
    too_long = pc.greater(pc.binary_length(whole), pc.if_else(point_zero, 15, 18))
    if pc.any(too_long).as_py():
        return None
    try:
        numbers = pc.cast(whole, pa.int64())
    except pa.ArrowInvalid:
        return None
    values = numbers.fill_null(0).to_numpy(zero_copy_only=False)
    mask = numbers.is_null().to_numpy(zero_copy_only=False)
    return pd.Series(pd.arrays.IntegerArray(values, mask), index=text.index)


def utf8_bytes(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(where each string starts in the bytes, its length in bytes, the bytes) of a string
    array (a null is an empty string), read from its buffers without a copy when it is one
    chunk."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.null_count:
        values = values.fill_null("")
    _, offsets, data = values.buffers()
    kind = np.int64 if pa.types.is_large_string(values.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=kind)[values.offset : values.offset + len(values) + 1]
    content = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return bounds[:-1].astype(np.int64), np.diff(bounds).astype(np.int64), content


def parse_seconds(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(durations in seconds as Float64, mask of values that are not durations).

    A duration is a number of seconds (``"95"``, ``"95.5"``) or a clock string
    (``"1:35"`` = 1 min 35 s, ``"0:01:35"`` = 1 min 35 s). Negative values are kept so the
    schema can say they are negative. Blanks become NA and are not bad.
    """
    text = clean_text(values)
    seconds = pd.to_numeric(text, errors="coerce").astype("Float64")
    clock = text.str.extract(_CLOCK)
    has_clock = clock[1].notna()
    if has_clock.any():
        first = clock[1].astype("Float64")
        second = clock[2].astype("Float64")
        third = clock[3].astype("Float64")
        total = (first * 3600 + second * 60 + third).where(third.notna(), first * 60 + second)
        total = total.where(clock[0].isna(), -total)
        seconds = seconds.where(~has_clock, total)
    bad = text.notna() & seconds.isna()
    return seconds, bad


def prefixed_ids(prefix: str | pd.Series, values: pd.Series) -> pd.Series:
    """``"<prefix>:<value>"`` for each non-blank value (``"twitter:123"``), else NA: the id
    of a message whose source id is unique on its channel (tweet, Graph API and YouTube
    ids), and the id rows of local-id sources had before ids were scoped (``scoped_ids``).

    ``prefix`` is one channel for all rows or a channel per row.
    """
    text = clean_text(values)
    return (prefix + ":" + text).astype("string")


def id_scope(values: pd.Series) -> pd.Series:
    """Names as they scope ids: lower case, each run of characters other than letters,
    digits, ``.`` and ``-`` as one ``-`` (``Anonymous Bank`` -> ``anonymous-bank``); NA
    for a blank name. Worked out once per distinct name."""
    codes, names = pd.factorize(values.astype("string"), use_na_sentinel=True)
    slugs = (
        pd.Series(names, dtype="string")
        .str.strip()
        .str.lower()
        .str.replace(r"[^\w.-]+|_+", "-", regex=True)
        .str.strip("-")
    )
    slugs = slugs.mask(slugs == "")
    return pd.Series(slugs.array.take(codes, allow_fill=True), index=values.index)


def scoped_ids(prefix: str | pd.Series, scope: str | pd.Series, values: pd.Series) -> pd.Series:
    """``"<prefix>:<scope>:<value>"`` (``"phone:northwind:C1"``) for source-local ids,
    which another source may use for another message; NA where the value or scope is.

    ``scope`` is an ``id_scope`` (a name without ``:``) for all rows or one per row.
    """
    return (prefix + ":" + scope + ":" + clean_text(values)).astype("string")


def dig(record: object, *keys: str) -> object:
    """``record[k1][k2]...`` in parsed JSON, or None where a key or object is missing."""
    for key in keys:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def json_rows(
    records: Sequence[object], extract: Callable[[dict], dict]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fields, rejects) of JSON records: ``extract(record)`` as text for each object, with
    ``line`` (1-based position among ``records``) and ``raw`` (the record as JSON); a
    record that is not an object is a reject. ``extract({})`` names the fields, so a file
    without objects still has them."""
    lines = np.arange(1, len(records) + 1)
    raw = pd.array([json.dumps(r, ensure_ascii=False) for r in records], dtype="string")
    is_object = np.array([isinstance(r, dict) for r in records], dtype=bool)
    objects = [extract(r) for r in records if isinstance(r, dict)]
    frame = pd.DataFrame(objects, columns=list(extract({}))).astype("string")
    frame["line"] = lines[is_object]
    frame["raw"] = raw[is_object]
    rejects = pd.DataFrame(
        {
            "line": pd.array(lines[~is_object], dtype="Int64"),
            "raw": raw[~is_object],
            "reason": pd.array(
                ["record is not a JSON object"] * int((~is_object).sum()), dtype="string"
            ),
        }
    )
    return frame, rejects


def map_columns(
    columns: Sequence[str], fields: Sequence[str], column_map: Mapping[str, str], where: str
) -> dict[str, str]:
    """Which file column holds each adapter field: ``column_map`` first, else the same name.

    Fields with no column are left out (``column_map`` keys are checked against ``fields``
    when params are loaded). A mapped column missing from the file raises ``AdapterError``
    naming ``where`` (the file) and the columns it has.
    """
    missing = {f: c for f, c in column_map.items() if c not in columns}
    if missing:
        raise AdapterError(
            f"{where}: mapped column(s) {sorted(missing.values())} not in the file; "
            f"its columns are {list(columns)}"
        )
    found = {f: f for f in fields if f in columns}
    return {**found, **column_map}


def require_fields(
    found: Mapping[str, str], required: Sequence[str], where: str, expected: str
) -> None:
    """Raise ``AdapterError`` naming the required fields that have no column."""
    missing = [f for f in required if f not in found]
    if missing:
        raise AdapterError(f"{where}: missing required column(s) {missing}; expected {expected}")


def mapped_fields(
    records: pd.DataFrame,
    fields: Sequence[str],
    required: Sequence[str],
    column_map: Mapping[str, str],
    where: str,
    expected: str,
) -> pd.DataFrame:
    """``records``' columns renamed to the adapter ``fields`` they hold (``map_columns``),
    after ``require_fields`` checked the ``required`` ones are there."""
    found = map_columns(records.columns, fields, column_map, where)
    require_fields(found, required, where, expected)
    return pd.DataFrame({f: records[c] for f, c in found.items()})


def parent_positions(ids: pd.Series, parents: pd.Series) -> np.ndarray:
    """For each row, the position of the row whose id is its parent, or -1.

    ``ids`` and ``parents`` hold the same kind of values (whole numbers or text). A parent
    id that is missing, or that several rows share, is not followed.
    """
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids))
    position = position[position.index.notna() & ~position.index.duplicated(keep=False)]
    found = position.reindex(pd.Index(parents))
    return found.fillna(-1).to_numpy(dtype=np.int64)


def thread_roots(ids: pd.Series, parents: pd.Series, up: np.ndarray | None = None) -> pd.Series:
    """Each row's thread root: follow parent links until a row without a parent in the data.

    The root is that row's parent id when it names one that is not in the data (so a later
    export that holds the parent gives the same root), else that row's own id. Links that
    loop stop where the loop is noticed. ``up``: ``parent_positions(ids, parents)`` when
    already known.
    """
    up = parent_positions(ids, parents) if up is None else up
    top = np.where(up >= 0, up, np.arange(len(up)))
    for _ in range(len(up).bit_length() + 1):
        higher = top[top]
        if (higher == top).all():
            break
        top = higher
    roots = pd.Series(ids.array.take(top), index=ids.index, dtype=ids.dtype)
    parent_at_top = parents.array.take(top)
    outside = pd.notna(parent_at_top) & (up[top] < 0)
    roots[outside] = parent_at_top[outside]
    return roots


def parse_epoch(values: pd.Series, unit: str = "s") -> tuple[pd.Series, pd.Series]:
    """(UTC timestamps from numbers of ``unit`` since 1970, mask of values that are not
    numbers). Reddit writes ``created_utc`` in seconds (``1709542800.0``), Google Play its
    ``Millis Since Epoch`` in milliseconds. Blanks become NaT and are not bad."""
    text = clean_text(values)
    number = pd.to_numeric(text, errors="coerce").astype("Float64")
    bad = text.notna() & number.isna()
    out = pd.Series(pd.NaT, index=values.index, dtype=TIMESTAMP_DTYPE)
    ok = number.notna() & (number.abs() < 1e11 * (1000 if unit == "ms" else 1))
    stamps = pd.to_datetime(number[ok].astype("float64"), unit=unit, utc=True)
    out[ok] = stamps.astype(TIMESTAMP_DTYPE)
    return out, bad | (number.notna() & ~ok)


def pages(documents: Sequence[object]) -> list[object]:
    """The API pages in ``documents``: each document, or the items of a document that is a
    list (several pages of a paginated export saved as one JSON array)."""
    out: list[object] = []
    for document in documents:
        out.extend(document if isinstance(document, list) else [document])
    return out
