"""Reading export files: bytes to UTF-8, delimited records with their physical lines, JSON.

A *line* is text ended by ``\\n``; ``\\r\\n`` ends a line too, and a bare ``\\r`` is
content (TWCS has bare carriage returns inside unquoted tweet text: they become ``\\n`` in
the field, and the record keeps its place). A *record* may span several lines when a
quoted field holds line breaks; each record is reported with its first and last line.

A delimited file is read in *chunks* of about ``CHUNK_BYTES`` that end between records
(``delimited_chunks``): memory is bounded by the chunk, not the file. ``read_delimited``
collects every chunk (one code path for both). A file in an encoding other than UTF-8 is
converted whole first (such files are small); JSON files are read whole (API pages).

``read_utf8`` and ``utf8_blocks`` do the I/O here; ``parse_delimited`` and ``load_json``
are pure.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import functools
import json
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from cxpulse.adapters import AdapterError, AdapterOptions, Parsed

_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
# UTF-32 before UTF-16: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SENTINELS = "\ue000\ue001\ue002\ue003\ufdd0\ufdd1"
"""Private-use characters that stand in for bare ``\\r`` while the CSV parser runs."""
EMPTY_RECORD = "record is empty: every field is blank"
_BLOCK = 1 << 22
_CHECK_CHUNK = 1 << 24
CHUNK_BYTES = 1 << 23
"""Bytes of text parsed at once by ``delimited_chunks`` (about 50,000 tweets)."""
_FEW_LINES = 64
"""Lines after a chunk's cut that ``after_lines`` walks back over one by one."""


@dataclass(frozen=True)
class Table:
    """The records of a delimited file.

    ``records``: one column per header name (as written, stripped), text values.
    ``lines``: ``line`` and ``line_end``, each record's first and last physical line.
    ``rejects``: ``line``, ``raw``, ``reason`` for records that do not fit the header.
    ``quote``: ``quote(first, last)`` is the raw text of lines ``first..last``.
    ``first``: the first line after the header that the table covers (a chunk's quote
    reaches only its own lines).
    """

    records: pd.DataFrame
    lines: pd.DataFrame
    rejects: pd.DataFrame
    quote: Callable[[int, int], str]
    first: int = 2


def read_utf8(path: Path, encoding: str | None, expected: str) -> bytes:
    """The file's content as UTF-8 bytes without a byte-order mark.

    Raises ``AdapterError`` naming the file and ``expected`` when it is missing, empty,
    compressed, or not text in UTF-8 (or the ``encoding`` declared for the source, or the
    encoding its byte-order mark names).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise AdapterError(f"{path}: cannot read the file ({err.strerror})") from None
    check_head(data, True, str(path), expected)
    return to_utf8(data, encoding, str(path), expected)


def check_head(head: bytes, whole: bool, where: str, expected: str) -> None:
    """Raise ``AdapterError`` when a file starting with ``head`` (all of it when ``whole``)
    is empty or compressed."""
    if whole and (not head or head.isspace()):  # not ``strip()``: that copies the file
        raise AdapterError(f"{where}: empty file; expected {expected}")
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            raise AdapterError(
                f"{where}: {kind}-compressed data, not {expected}; decompress it first"
            )


def utf8_blocks(
    path: Path, encoding: str | None, expected: str, size: int = CHUNK_BYTES
) -> Iterator[tuple[int, bytes]]:
    """The file's text as UTF-8 without a byte-order mark, in blocks of about ``size``
    bytes that end with a line break (the last one: where the file ends), each with the
    number of lines before it. Checked as ``read_utf8`` checks, block by block.

    A file declared (or marked) in another encoding is converted whole and given as one
    block.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, also when not exhausted)
    except OSError as err:
        raise AdapterError(f"{path}: cannot read the file ({err.strerror})") from None
    with handle:
        head = handle.read(size)
        done = len(head) < size
        check_head(head, done, str(path), expected)
        declared = encoding or next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
        if declared is not None and codecs.lookup(declared).name != "utf-8":
            yield 0, to_utf8(head + handle.read(), encoding, str(path), expected)
            return
        buffer, lines = head.removeprefix(codecs.BOM_UTF8), 0
        while buffer:
            end = len(buffer) if done else buffer.rfind(b"\n") + 1
            if end:
                block, buffer = buffer[:end], buffer[end:]
                check_utf8(block, str(path), expected, declared is not None, lines)
                yield lines, block
                lines += line_breaks(block)
            if not done:
                more = handle.read(size)
                done = len(more) < size
                buffer += more


def to_utf8(data: bytes, encoding: str | None, where: str, expected: str) -> bytes:
    """``data`` decoded as declared (or as its byte-order mark says, else UTF-8), as UTF-8."""
    declared = encoding
    if declared is None:
        declared = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if declared is None or codecs.lookup(declared).name == "utf-8":
        check_utf8(data, where, expected, declared is not None)
        return data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode(declared)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise AdapterError(
            f"{where}: not {declared} text ({err.reason} at byte {err.start}, line {line}); "
            f"expected {expected}"
        ) from None
    return text.removeprefix("\ufeff").encode("utf-8")


def check_utf8(
    data: bytes, where: str, expected: str, declared: bool, lines_before: int = 0
) -> None:
    """Raise ``AdapterError`` with the line of the first byte that is not UTF-8
    (``lines_before``: the lines of the file before ``data``).

    Arrow validates the whole file at once; only a file that fails is decoded again, in
    chunks, to find where (so a large file never becomes one large Python string).
    """
    offsets = pa.array([0, len(data)], type=pa.int64()).buffers()[1]
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        whole.cast(pa.large_string())
        return
    except pa.ArrowInvalid:
        pass
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), _CHECK_CHUNK):
        chunk = data[start : start + _CHECK_CHUNK]
        try:
            decoder.decode(chunk, final=start + len(chunk) >= len(data))
        except UnicodeDecodeError as err:
            at = start - (len(err.object) - len(chunk)) + err.start
            line = lines_before + data.count(b"\n", 0, at) + 1
            hint = (
                ""
                if declared
                else "; declare the source's encoding in params/sources.yaml "
                "(for example encoding: cp1252)"
            )
            raise AdapterError(
                f"{where}: not UTF-8 text (byte 0x{data[at]:02x} at line {line}); "
                f"expected {expected}{hint}"
            ) from None


def parse_delimited(
    data: bytes,
    where: str,
    expected: str,
    delimiter: str = ",",
    quoting: bool = True,
    quote_from: bytes | None = None,
) -> Table:
    """Split UTF-8 ``data`` (header on line 1) into records, each with its physical lines.

    A record whose field count differs from the header's, that holds NUL bytes, or whose
    fields are all empty (``,,,``) is a reject with its reason; a blank line (nothing but
    white space) is not a record and is skipped. ``quote_from``: the bytes to quote raw
    text from, when ``data`` was rewritten line for line before parsing (default: ``data``).

    Raises ``AdapterError`` when the header is missing, has repeated names, or is one
    column (the file is not separated by ``delimiter``).
    """
    data = unix_newlines(data)
    source = data if quote_from is None else unix_newlines(quote_from)
    sentinel = None
    if b"\r" in source:
        sentinel = next(s for s in _SENTINELS if s.encode() not in source)
        data = data.replace(b"\r", sentinel.encode())
        source = data if quote_from is None else source.replace(b"\r", sentinel.encode())
    quote = SourceLines(source, sentinel)
    header_end = data.find(b"\n")
    header = data if header_end < 0 else data[:header_end]
    names = parse_header(header.decode("utf-8"), where, expected, delimiter, quoting)
    body = b"" if header_end < 0 else data[header_end + 1 :]
    table, invalid = read_records(body, names, where, expected, delimiter, quoting)
    lines = record_lines(table, invalid, body, where)
    misfit = {
        row.number - 1: f"expected {row.expected_columns} fields, got {row.actual_columns}"
        for row in invalid
    }
    records = table.to_pandas()
    records.columns = names
    records.index = lines.index.drop(list(misfit))
    fitted = lines.loc[records.index]
    if sentinel is not None:
        touched = touching(fitted, quote.containing(sentinel.encode()))
        records.loc[touched] = records.loc[touched].apply(
            lambda col: col.str.replace(sentinel, "\n", regex=False)
        )
    empty = records.iloc[:, 0] == ""
    if empty.any():  # only a record whose first field is empty can be all empty
        empty[empty] = (records[empty] == "").all(axis=1)
    blank = pd.Series(False, index=records.index)
    if empty.any():  # a blank line reads as an empty record too
        spans = fitted[empty].to_numpy()
        blank[empty] = np.array([not quote(a, b).strip() for a, b in spans], dtype=bool)
    nul = touching(fitted, quote.containing(b"\x00")) & ~empty
    reasons = pd.concat(
        [
            pd.Series(misfit, dtype="string"),
            pd.Series("record contains NUL bytes", index=records.index[nul], dtype="string"),
            pd.Series(EMPTY_RECORD, index=records.index[empty & ~blank], dtype="string"),
        ]
    )
    if (empty | nul).any():
        records, fitted = records[~empty & ~nul], fitted[~empty & ~nul]
    return Table(records, fitted, reject_lines(lines, reasons, quote), quote)


def delimited_chunks(
    path: Path,
    encoding: str | None,
    expected: str,
    delimiter: str = ",",
    quoting: bool = True,
    size: int = CHUNK_BYTES,
) -> Iterator[Table]:
    """The records of a delimited file (header on line 1) as ``parse_delimited`` reads
    them, in chunks of about ``size`` bytes: at least one ``Table``, each with the lines its
    records have in the file.

    Each block of text is parsed after the text left over from the one before; its last
    record may be cut off (a quoted field with line breaks can go on in the next block), so
    it is left over for the next, and the records before it are given. A block that holds
    no whole record is read on with the next (doubling) until one ends or the file does.
    """
    where = str(path)
    blocks = utf8_blocks(path, encoding, expected, size)
    _, pending = next(blocks, (0, b""))
    cut = pending.find(b"\n") + 1 or len(pending)
    header, pending = pending[:cut], pending[cut:]
    parse_delimited(header, where, expected, delimiter, quoting)  # header errors at once
    before, need = header.count(b"\n"), 0
    ahead = next(blocks, None)
    while True:
        if ahead is None:
            yield shifted(
                parse_delimited(header + pending, where, expected, delimiter, quoting), None, before
            )
            return
        if len(pending) >= need:
            try:
                table = parse_delimited(header + pending, where, expected, delimiter, quoting)
                last = max([2, *table.lines["line"].tail(1), *table.rejects["line"].tail(1)])
            except AdapterError:  # the cut-off record, when it is all there is: read on
                last = 2
            if last > 2:
                yield shifted(table, last, before)
                pending = pending[after_lines(pending, last - 2) :]
                before += last - 2
            need = 0 if last > 2 else 2 * len(pending)
        pending += ahead[1]
        ahead = next(blocks, None)


def line_breaks(data: bytes) -> int:
    """The number of ``\\n`` in ``data`` (counted by numpy: twice as fast as ``bytes.count``)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10))


def after_lines(data: bytes, count: int) -> int:
    """The offset just after the ``count``-th line break of ``data`` (which has at least
    that many). Found from the end when few lines follow it (a chunk is cut before its last
    record, whose few lines are all that follow), without scanning ``data`` twice."""
    following = line_breaks(data) - count
    if following > _FEW_LINES:
        return int(np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)[count - 1]) + 1
    at = len(data)
    for _ in range(following + 1):
        at = data.rfind(b"\n", 0, at)
    return at + 1


def shifted(table: Table, below: int | None, before: int) -> Table:
    """``table`` (parsed from a header and the text after ``before`` lines of the file)
    with its records that start before line ``below`` (all when None), numbered as in the
    file."""
    shift = before - 1
    records, lines, rejects = table.records, table.lines, table.rejects
    if below is not None:  # records are in line order: a prefix, sliced without a copy
        keep = int(np.searchsorted(lines["line"].to_numpy(), below))
        records, lines = records.iloc[:keep], lines.iloc[:keep]
        rejects = rejects[rejects["line"] < below]
    rejects = rejects.assign(line=rejects["line"] + shift)
    return Table(
        records,
        lines + shift,
        rejects.reset_index(drop=True),
        Shifted(table.quote, shift),
        before + 1,
    )


@dataclass(frozen=True)
class Shifted:
    """``quote`` with lines numbered ``shift`` more (a chunk's lines as in the file); a
    value, not a closure, so that a ``Table`` can be written to disk (``spill``)."""

    quote: Callable[[int, int], str]
    shift: int

    def __call__(self, first: int, last: int) -> str:
        return self.quote(first - self.shift, last - self.shift)


def spill(table: Table, target: Path) -> None:
    """Write ``table`` to the file ``target`` (for ``unspill``): a chunk kept on disk
    between two passes over a file, not parsed again (its records are Arrow buffers: the
    chunk's size, written and read back in a few milliseconds)."""
    with open(target, "wb") as handle:
        pickle.dump(table, handle, protocol=pickle.HIGHEST_PROTOCOL)


def unspill(target: Path) -> Table:
    """The ``Table`` that ``spill`` wrote to ``target``."""
    with open(target, "rb") as handle:
        return pickle.load(handle)


def read_delimited(
    path: Path,
    encoding: str | None,
    expected: str,
    delimiter: str = ",",
    quoting: bool = True,
    size: int = CHUNK_BYTES,
) -> Table:
    """All of a delimited file: its ``delimited_chunks`` as one ``Table``."""
    parts = list(delimited_chunks(path, encoding, expected, delimiter, quoting, size))
    if len(parts) == 1:
        return parts[0]
    firsts = [part.first for part in parts]
    quotes = [part.quote for part in parts]

    def quote(first: int, last: int) -> str:
        return quotes[bisect.bisect_right(firsts, first) - 1](first, last)

    return Table(
        pd.concat([part.records for part in parts], ignore_index=True),
        pd.concat([part.lines for part in parts], ignore_index=True),
        pd.concat(
            [p.rejects for p in parts if len(p.rejects)] or [parts[0].rejects], ignore_index=True
        ),
        quote,
        parts[0].first,
    )


def quote_lines(
    path: Path, encoding: str | None, expected: str, spans: Sequence[tuple[int, int]]
) -> list[str]:
    """The raw text of lines ``first..last`` of each of ``spans`` (records: they do not
    overlap), as a ``Table``'s ``quote`` gives it, read again from the file in one pass."""
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    pieces: list[list[str]] = [[] for _ in spans]
    at = 0
    for before, block in utf8_blocks(path, encoding, expected):
        lines = SourceLines(unix_newlines(block), None)
        after = before + len(lines.newlines) + (not block.endswith(b"\n"))
        for i in order[at:]:
            first, last = spans[i]
            if first > after:
                break
            if max(first, before + 1) <= min(last, after):
                low, high = max(first, before + 1), min(last, after)
                pieces[i].append(lines(low - before, high - before))
        while at < len(order) and spans[order[at]][1] <= after:
            at += 1
    return ["\n".join(piece) for piece in pieces]


def unix_newlines(data: bytes) -> bytes:
    """``data`` with each ``\\r\\n`` as ``\\n`` (the same object when it holds no ``\\r``)."""
    return data.replace(b"\r\n", b"\n") if b"\r" in data else data


def touching(spans: pd.DataFrame, numbers: np.ndarray) -> pd.Series:
    """True for each record whose lines ``line..line_end`` include one of ``numbers``."""
    low = np.searchsorted(numbers, spans["line"].to_numpy())
    high = np.searchsorted(numbers, spans["line_end"].to_numpy(), side="right")
    return pd.Series(high > low, index=spans.index)


def reject_lines(
    lines: pd.DataFrame, reasons: pd.Series, quote: Callable[[int, int], str]
) -> pd.DataFrame:
    """Rejects (``line``, ``raw``, ``reason``) for the records labelled in ``reasons``."""
    reasons = reasons.sort_index()
    spans = lines.loc[reasons.index]
    raw = [quote(a, b).replace("\x00", "\\x00") for a, b in spans.itertuples(index=False)]
    return pd.DataFrame(
        {
            "line": spans["line"].astype("Int64").to_numpy(),
            "raw": pd.array(raw, dtype="string"),
            "reason": reasons.astype("string").to_numpy(),
        }
    )


def parse_header(text: str, where: str, expected: str, delimiter: str, quoting: bool) -> list[str]:
    """The column names on the header line."""
    if "\x00" in text:
        raise AdapterError(
            f"{where}: NUL bytes in the header line: not a text CSV (UTF-16 without a "
            f"byte-order mark?); expected {expected}"
        )
    dialect = {"delimiter": delimiter, "quoting": csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE}
    names = [name.strip() for name in next(csv.reader([text], **dialect), [])]
    if len(names) < 2:
        seen = next((d for d in (";", "\t", "|", ",") if d != delimiter and d in text), None)
        hint = f"; it looks separated by {seen!r}" if seen else ""
        raise AdapterError(
            f"{where}: the header line has {len(names)} column(s) separated by "
            f"{delimiter!r}{hint}; expected {expected}"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise AdapterError(
            f"{where}: repeated column name(s) {repeated} in the header; expected {expected}"
        )
    return names


def read_records(
    body: bytes, names: Sequence[str], where: str, expected: str, delimiter: str, quoting: bool
) -> tuple[pa.Table, list]:
    """Parse the lines after the header with pyarrow: (records that fit, invalid rows).

    Records are read on all cores; when some do not fit, the body is read again on one
    core, which numbers them (``number`` = 1-based position among the body's records).
    """
    if not body:
        return pa.table({f"c{i}": pa.array([], pa.string()) for i in range(len(names))}), []
    for threads in (True, False):
        invalid: list = []
        try:
            table = _pyarrow_read(body, len(names), delimiter, quoting, threads, invalid.append)
        except pa.ArrowInvalid as err:
            raise AdapterError(
                f"{where}: cannot be read as CSV ({err}); expected {expected}"
            ) from None
        if not invalid:
            return table, invalid
        if all(row.number is not None for row in invalid):
            break
    return table, invalid


def _pyarrow_read(
    body: bytes, width: int, delimiter: str, quoting: bool, threads: bool, on_invalid: Callable
) -> pa.Table:
    columns = [f"c{i}" for i in range(width)]

    def handler(row: object) -> str:
        on_invalid(row)
        return "skip"

    block = _BLOCK
    while True:
        try:
            return pa_csv.read_csv(
                pa.BufferReader(body),
                read_options=pa_csv.ReadOptions(
                    column_names=columns, use_threads=threads, block_size=block
                ),
                parse_options=pa_csv.ParseOptions(
                    delimiter=delimiter,
                    quote_char='"' if quoting else False,
                    double_quote=True,
                    newlines_in_values=quoting,
                    ignore_empty_lines=False,
                    invalid_row_handler=handler,
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types={c: pa.string() for c in columns},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as err:
            if "straddling" in str(err) and block < len(body) + 1:
                block = min(block * 16, len(body) + 1)
                continue
            raise


def record_lines(table: pa.Table, invalid: list, body: bytes, where: str) -> pd.DataFrame:
    """``line`` and ``line_end`` of every body record, in file order (header = line 1).

    A record spans one line plus one per line break inside its quoted fields; the records
    that do not fit the header sit at their ``number``. The total must equal the body's
    line count, else the parse is not trusted.
    """
    total = table.num_rows + len(invalid)
    counts = np.ones(total, dtype=np.int64)
    fit = np.ones(total, dtype=bool)
    positions = np.array([row.number - 1 for row in invalid], dtype=np.int64)
    if len(positions) and (positions.max() >= total or positions.min() < 0):
        raise AdapterError(f"{where}: could not place the malformed records in the file")
    fit[positions] = False
    counts[positions] += np.array([row.text.count("\n") for row in invalid], dtype=np.int64)
    good = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        good += newline_counts(column)
    counts[fit] += good
    body_lines = line_breaks(body) + (1 if body and not body.endswith(b"\n") else 0)
    if total and counts.sum() == body_lines + 1 and body.endswith(b"\n"):
        counts[-1] -= 1  # an unclosed quote took the file's last line break into a field
    if counts.sum() != body_lines:
        raise AdapterError(
            f"{where}: records span {counts.sum()} lines but the file has {body_lines} "
            "after the header; cannot tell which line each record is on"
        )
    last = 1 + np.cumsum(counts)
    return pd.DataFrame({"line": last - counts + 1, "line_end": last})


def newline_counts(column: pa.ChunkedArray) -> np.ndarray:
    """The number of ``\\n`` in each value of a string column.

    Found in each chunk's value bytes at once and assigned to values by their offsets
    (several times faster than ``pc.count_substring``).
    """
    counts = [np.zeros(0, dtype=np.int64)]
    for chunk in column.chunks:
        if len(chunk) == 0:
            continue
        _, offsets, values = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[chunk.offset :][: len(chunk) + 1]
        text = np.frombuffer(values or b"", dtype=np.uint8)[bounds[0] : bounds[-1]]
        found = np.flatnonzero(text == 10) + bounds[0]
        owner = np.searchsorted(bounds, found, side="right") - 1
        counts.append(np.bincount(owner, minlength=len(chunk)))
    return np.concatenate(counts)


class SourceLines:
    """The physical lines of a file's bytes: quote a record's raw text, find a byte string.

    Calling it as ``quote(first, last)`` gives the text of lines ``first..last`` (1-based),
    with ``sentinel`` turned back into the ``\\r`` it stood for.
    """

    def __init__(self, data: bytes, sentinel: str | None) -> None:
        self.data = data
        self.sentinel = sentinel

    @functools.cached_property
    def newlines(self) -> np.ndarray:
        """Byte offsets of every ``\\n``."""
        return np.flatnonzero(np.frombuffer(self.data, dtype=np.uint8) == 10)

    def __call__(self, first: int, last: int) -> str:
        ends = self.newlines
        start = 0 if first <= 1 else int(ends[first - 2]) + 1
        stop = int(ends[last - 1]) if last - 1 < len(ends) else len(self.data)
        text = self.data[start:stop].decode("utf-8", errors="replace")
        return text.replace(self.sentinel, "\r") if self.sentinel else text

    def containing(self, needle: bytes) -> np.ndarray:
        """Sorted 1-based numbers of the lines that hold ``needle``."""
        numbers, line, previous = [], 1, 0
        at = self.data.find(needle)
        while at >= 0:
            line += self.data.count(b"\n", previous, at)
            numbers.append(line)
            previous = at
            at = self.data.find(needle, at + 1)
        return np.unique(np.array(numbers, dtype=np.int64))


def load_json(data: bytes, where: str, expected: str) -> list[object]:
    """The JSON documents in UTF-8 ``data``: one document, or one per line (JSON Lines).

    Raises ``AdapterError`` naming the line and column where the text stops being JSON,
    and saying the file looks truncated when it does not end with ``}`` or ``]``.
    """
    try:
        return [json.loads(data)]
    except json.JSONDecodeError as err:
        if err.msg != "Extra data":
            raise AdapterError(
                f"{where}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}"
                f"{'' if data.rstrip()[-1:] in (b'}', b']') else '; the file looks truncated'}"
                f"); expected {expected}"
            ) from None
    documents = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise AdapterError(
                    f"{where}: not valid JSON Lines ({err.msg} at line {number}, column "
                    f"{err.colno}); expected {expected}"
                ) from None
    return documents


def parsed_from(table: Table, rows: pd.DataFrame, reasons: pd.Series) -> Parsed:
    """The ``Parsed`` of canonical ``rows`` built from ``table``'s records (same index)."""
    rows = rows.join(table.lines)
    rows["reason"] = reasons
    return Parsed(rows=rows.reset_index(drop=True), rejects=table.rejects, quote=table.quote)


def record_readers(
    expected: str, parse: Callable[[Table, Path, AdapterOptions], Parsed]
) -> tuple[Callable[[Path, AdapterOptions], Parsed], Callable[..., Iterator[Parsed]]]:
    """``read(path, options)`` and ``chunks(path, options, size, folder)`` of a delimited
    format whose rows depend on their own record only: ``parse(table, path, options)`` of
    the whole file (``read_delimited``), or of each of its ``delimited_chunks`` (read
    once: nothing is kept in ``folder``)."""

    def read(path: Path, options: AdapterOptions) -> Parsed:
        delimiter = options.delimiter or ","
        return parse(read_delimited(path, options.encoding, expected, delimiter), path, options)

    def chunks(
        path: Path, options: AdapterOptions, size: int = CHUNK_BYTES, folder: Path | None = None
    ) -> Iterator[Parsed]:
        delimiter = options.delimiter or ","
        for table in delimited_chunks(path, options.encoding, expected, delimiter, size=size):
            yield parse(table, path, options)

    return read, chunks


def describe(value: object) -> str:
    """A short description of a JSON value's shape, for error messages."""
    if isinstance(value, dict):
        return f"an object with keys {sorted(value)[:8]}"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    return f"a {type(value).__name__}"


def parsed_from_json(
    rows: pd.DataFrame, fields: pd.DataFrame, reasons: pd.Series, rejects: pd.DataFrame
) -> Parsed:
    """The ``Parsed`` of canonical ``rows`` built from ``json_rows`` fields (same index)."""
    rows = rows.join(fields[["line", "raw"]])
    rows["reason"] = reasons
    return Parsed(rows=rows.reset_index(drop=True), rejects=rejects)


def data_items(documents: list[object], where: str, expected: str) -> list[object]:
    """The items of the ``data`` list of every response (a Graph API page); ``AdapterError``
    naming ``where`` and ``expected`` when one is not such a response."""
    items: list[object] = []
    for document in documents:
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, list):
            raise AdapterError(f"{where}: expected {expected}; got {describe(document)}")
        items.extend(data)
    return items
