"""Load export files into the warehouse: read, validate, mask, score, store, log.

One file is one transaction: its good rows, its quarantined rows and its log entry are
committed together or not at all. A file is read in chunks (memory bounded by the chunk,
not the file): each chunk is validated, masked and scored, then staged as Parquet beside
the warehouse; the staged rows are stored at the end, in that one transaction. (New
sentiment scores are cached as they are computed, outside it: see ``stage``.) The same
content twice loads nothing; an export that overlaps one already loaded updates the rows
that changed and adds the new ones.
Every record read is either stored or quarantined with its line, raw text and reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fnmatch
import hashlib
import json
import logging
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd
import pyarrow as pa

from cxpulse import adapters, config, lake, schema, sentiment, warehouse
from cxpulse.adapters import textfile

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w@(+])[+(]?\d[\d\s().-]{7,}\d(?!\w)")
_MAYBE_PII = r"\S@[^\s.]+\.\S|\p{Nd}[\p{Nd}\s\x{0b}\p{Z}\x{1c}-\x{1f}\x{85}().-]{7,}\p{Nd}"
"""Matches every text ``_EMAIL`` or ``_PHONE`` would (no look-arounds: runs in Arrow)."""
_RAW_TOKENS = re.compile(
    r"(?P<keep>"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"  # 2017-10-31
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)"  # 31.10.2017, 10/31/17
    r"|(?<=\d:\d\d )[+-]\d{4} \d{4}"  # the offset and year of 'Tue Oct 31 22:10:47 +0000 2017'
    r"|[\w@:/.-]*(?:[^\W\d]|[@:/])[\w@:/.-]*"  # words: ids, clock times, handles, URLs
    r")|(?P<phone>(?:\+\d{1,3}[ .\-\xa0]?)?(?:\(\d{1,5}\)[ .\-\xa0]?)?"
    r"\d+(?:[ .\-\xa0]\d+)*(?![\w:/]))"
)
"""Raw-text tokens: what must stay readable (``keep``: dates, timestamps, words holding
digits such as ids), else a run of digits that ``_phone_or_not`` tells apart."""
_AFTER_WORD = re.compile(r"[^\W\d_] $")
"""Text ending in a letter and a space: bare digits after it are written in a sentence."""
MAX_RAW_CHARS = 10_000
"""Quarantined raw text is cut to this length (a 10 MB field is not worth keeping)."""
PROGRESS_BYTES = 8 << 20
"""Loading a file of at least this many bytes shows a progress bar."""
MEMORY_LIMIT = "256MB"
"""DuckDB memory of an ingest's connection: past it, the joins of a large file's store
spill to its staging folder."""
STAGE_MEMORY_LIMIT = "128MB"
"""DuckDB memory of an ingest's connection while the chunks are staged (before the
store): it only looks each chunk's texts up in the sentiment cache and adds new scores
then, but keeps the cache's blocks it read up to its limit, in the same process as the
sentiment workers run (a 10M-row TWCS load grew by some 250 MB so with ``MEMORY_LIMIT``)."""
SENTIMENT_CHUNK = 50_000
_UNFINISHED = ("*.part", "*.tmp", "*.crdownload", ".*", "~*")
"""Inbox names that are still being written or are not exports; never loaded."""


@dataclass(frozen=True)
class IngestResult:
    """What loading one file did. ``status``: loaded | skipped | failed."""

    path: Path
    status: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    conflicts: int = 0
    """Of the quarantined rows, those whose id is stored as another message."""
    texts_scored: int = 0
    message: str = ""
    archived_to: Path | None = None
    seconds: dict[str, float] = dataclasses.field(default_factory=dict, compare=False)
    """Wall seconds per stage: read, prepare (validate, mask), sentiment, store, total."""

    def summary(self) -> str:
        moved = f"; moved to {self.archived_to}" if self.archived_to else ""
        if self.status == "failed":
            return f"{self.path}: FAILED: {self.message}"
        if self.status == "skipped":
            return f"{self.path}: {self.message}{moved}"
        conflicts = f" ({self.conflicts:,} in conflict with stored rows)" if self.conflicts else ""
        return (
            f"{self.path}: read {self.rows_read:,} rows: {self.inserted:,} new, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{self.quarantined:,} quarantined{conflicts}; "
            f"{self.texts_scored:,} new texts scored{moved}"
        )


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def count_lines(path: Path) -> int:
    """The number of lines of the file (``\\n``, and a last line without one)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += textfile.line_breaks(block)
            last = block[-1:]
    return lines + (last != b"\n")


def mask_pii(text: pd.Series) -> pd.Series:
    """Replace e-mail addresses with ``[email]`` and phone numbers with ``[phone]``.

    Only texts that may hold one (a fast first pass) go through the exact patterns.
    """
    text = text.astype("string")
    maybe = text.str.contains(_MAYBE_PII, regex=True).fillna(False)
    out = text.copy()
    out[maybe] = text[maybe].map(mask_text)
    return out


def mask_text(text: str) -> str:
    """``mask_pii`` for one string."""
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def mask_raw(raw: str) -> str:
    """Quarantined raw text with e-mail addresses and phone numbers masked, ids and
    timestamps kept readable so the row can be traced.

    A phone number has 7 to 15 digits (E.164): written after ``+`` or a bracket, or in
    groups of at most 6 digits separated by a space, ``.`` or ``-``, or, after a word and
    a space, as 10 to 12 bare digits not starting with 1 (epoch seconds and milliseconds
    start with 1). Bare digits elsewhere (fields: ids, counts, epoch times), dates, clock
    times and digits inside words (ids, handles, URLs) are never phone numbers here.
    Stored text is masked more broadly (``mask_text``).
    """
    return _RAW_TOKENS.sub(_phone_or_not, _EMAIL.sub("[email]", raw))


def _phone_or_not(match: re.Match) -> str:
    text = match.group(0)
    if match.group("keep") is not None:
        return text
    groups = re.findall(r"\d+", text)
    digits = sum(map(len, groups))
    if not 7 <= digits <= 15:
        return text
    if len(groups) == 1 and text.isdigit():  # bare digits: a phone only within words
        in_words = (
            _AFTER_WORD.search(match.string, max(0, match.start() - 2), match.start()) is not None
        )
        return "[phone]" if in_words and 10 <= digits <= 12 and text[0] != "1" else text
    if text[0].isdigit() and len(groups) > 1 and max(map(len, groups)) > 6:  # fields
        return text
    return "[phone]"


def pseudonymise_authors(authors: pd.Series, hash_all: bool) -> pd.Series:
    """Author ids as stored: as given, or ``sha256:<16 hex digits>`` of the id.

    Hashed when ``hash_all`` (params ``hash_authors``), and always for an id that is an
    e-mail address. (Numeric ids cannot be told from phone numbers: a source whose ids are
    phone numbers sets ``hash_authors``.)
    """
    authors = authors.astype("string")
    email = authors.str.contains("@", regex=False).fillna(False)  # a fast first pass
    if email.any() and not hash_all:
        email[email] = authors[email].str.fullmatch(_EMAIL.pattern).fillna(False)
    todo = authors.notna() & (hash_all | email)
    if not todo.any():
        return authors
    hashed = {
        a: "sha256:" + hashlib.sha256(a.encode("utf-8")).hexdigest()[:16]
        for a in authors[todo].unique()
    }
    return authors.mask(todo, authors.map(hashed.get, na_action="ignore")).astype("string")


def cut_raw(raw: str) -> str:
    """``raw`` cut to ``MAX_RAW_CHARS``, saying how long it was."""
    if len(raw) <= MAX_RAW_CHARS:
        return raw
    return f"{raw[:MAX_RAW_CHARS]}... [cut: {len(raw):,} characters in all]"


def _raw_json(frame: pd.DataFrame) -> pd.Series:
    cols = [c for c in frame.columns if c in schema.COLUMNS]
    records = frame[cols].astype(object).where(frame[cols].notna(), None).to_dict("records")
    return pd.Series(
        [json.dumps(r, default=str, ensure_ascii=False) for r in records], index=frame.index
    )


def raw_text(parsed: adapters.Parsed, rows: pd.DataFrame) -> pd.Series:
    """The source text of ``rows`` (a subset of ``parsed.rows``): their ``raw`` column, the
    lines they span, or their fields as JSON."""
    if "raw" in rows.columns:
        return rows["raw"].astype("string")
    if parsed.quote is not None and "line_end" in rows.columns:
        spans = rows[["line", "line_end"]].itertuples(index=False)
        return pd.Series([parsed.quote(a, b) for a, b in spans], index=rows.index, dtype="string")
    return _raw_json(rows)


def prepare(
    parsed: adapters.Parsed,
    source_file: str,
    now: pd.Timestamp,
    options: adapters.AdapterOptions,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate parsed rows; return (canonical good rows, quarantine rows). Pure.

    Rows the adapter set aside keep its reason; the others are checked against the
    schema (a quarantine row of theirs keeps its ``id``, else NA). Good rows get their PII
    masked, author ids pseudonymised and lineage set.
    """
    rows = parsed.rows
    reason = rows.get("reason", pd.Series(pd.NA, index=rows.index, dtype="string"))
    set_aside = reason.notna()
    checked = schema.validate(rows[~set_aside] if set_aside.any() else rows, now, options.floor)
    good = checked.good  # copied on write (pandas' copy-on-write): not to copy each text
    good["text"] = mask_pii(good["text"])
    good["author_id"] = pseudonymise_authors(good["author_id"], options.hash_authors)
    good["source_file"] = source_file
    good["ingested_at"] = now
    bad = pd.concat([rows[set_aside], rows.loc[checked.bad.index]])
    reasons = pd.concat([reason[set_aside], checked.bad["reason"]])
    checked_id = pd.Series(pd.NA, index=bad.index, dtype="string")
    checked_id[checked.bad.index] = rows.loc[checked.bad.index, "id"].astype("string")
    rejects = pd.concat(
        [
            pd.DataFrame(
                {
                    "line": bad["line"],
                    "raw": raw_text(parsed, bad),
                    "reason": reasons,
                    "id": checked_id,
                },
                index=bad.index,
            ),
            parsed.rejects[["line", "raw", "reason"]],
        ],
        ignore_index=True,
    ).sort_values("line", kind="stable", ignore_index=True)
    rejects["line"] = rejects["line"].astype("Int64")
    rejects["raw"] = (
        rejects["raw"].astype("string").map(lambda r: mask_raw(cut_raw(r)), na_action="ignore")
    )
    rejects["source_file"] = source_file
    rejects["quarantined_at"] = now
    return schema.conform(good), rejects


def conflict_rejects(conflicts: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows (``line``, ``raw``, ``reason``) for the rows ``warehouse.store``
    found in conflict (``id``, ``fields``, ``stored``, and their ``line`` and ``raw``
    text): the reason names the id and the fields that differ, the raw text is the record
    followed by the stored row's identity."""
    reason = (
        "conflict: id "
        + conflicts["id"]
        + " is stored with another "
        + conflicts["fields"]
        + "; the stored row is kept"
    )
    stored = conflicts["stored"].map(cut_raw)
    return pd.DataFrame(
        {
            "line": conflicts["line"].astype("Int64").to_numpy(),
            "raw": (conflicts["raw"].to_numpy() + "\n[stored] " + stored.to_numpy()),
            "reason": reason.to_numpy(),
        }
    )


def options_for(fmt: str, params_dir: Path, brand: str | None = None) -> adapters.AdapterOptions:
    """The options for reading source ``fmt`` (a source in ``sources.yaml`` or an adapter).

    ``brand`` (``--brand``) overrides the source's brand.
    """
    params = config.load_sources(params_dir)
    source = params.sources.get(fmt)
    if source is None:
        if fmt not in adapters.REGISTRY:
            known = sorted(set(adapters.REGISTRY) | set(params.sources))
            raise adapters.AdapterError(
                f"unknown format {fmt!r}; expected an adapter or a source in "
                f"{Path(params_dir) / 'sources.yaml'}: {', '.join(known)}"
            )
        source = config.SourceParams()
    hash_authors = source.hash_authors if source.hash_authors is not None else params.hash_authors
    return adapters.AdapterOptions(
        brand=brand or source.brand,
        timezone=source.timezone,
        encoding=source.encoding,
        column_map=dict(source.column_map),
        channel=source.channel,
        adapter=source.format or fmt,
        delimiter=source.delimiter,
        accounts=dict(source.accounts),
        outcomes=dict(source.outcomes),
        floor=pd.Timestamp(source.floor or params.floor, tz="UTC"),
        hash_authors=hash_authors,
    )


def ingest_file(
    path: Path,
    fmt: str,
    warehouse_path: Path,
    options: adapters.AdapterOptions | None = None,
    now: pd.Timestamp | None = None,
    engine: str | None = None,
    names: tuple[str, ...] = (),
    chunk_bytes: int = textfile.CHUNK_BYTES,
) -> IngestResult:
    """Load one file into the warehouse, under the writer lock, in one transaction.

    The file is read, validated, masked and scored in chunks of about ``chunk_bytes`` of
    text, each staged as Parquet in a folder beside the warehouse (``stage``); the staged
    rows are then stored at once (``store_staged``). Texts are scored by the sentiment
    ``engine`` (default: the default engine), with the brand ``names`` removed first.
    Raises ``AdapterError`` (and logs the failure) when the file cannot be read as
    ``fmt``, and ``EngineError`` when the warehouse's rows were scored by another engine
    or version; then nothing from it is stored.
    """
    path = Path(path)
    options = options or adapters.AdapterOptions()
    now = now or pd.Timestamp.now(tz="UTC")
    clock = _StageClock()
    adapter = options.adapter or fmt
    adapters.get(adapter)
    scorer = sentiment.get_engine(engine)
    if not path.is_file():
        raise adapters.AdapterError(f"{path}: file not found")
    sha = file_sha256(path)
    source_file = str(path.resolve())  # lineage that means the same from any directory
    entry = {"source_file": source_file, "sha256": sha, "format": fmt, "started_at": now}
    with warehouse.lock(warehouse_path):
        con = warehouse.connect(warehouse_path)
        try:
            check_engine(con, warehouse_path, scorer)
            seen = warehouse.already_ingested(con, sha)
            if seen is not None:
                return IngestResult(
                    path,
                    "skipped",
                    message=f"same content already loaded from {seen}; nothing to do",
                )
            with staging(warehouse_path) as folder, system_memory_pool():
                con.execute(f"SET memory_limit = '{STAGE_MEMORY_LIMIT}'")
                con.execute(f"SET temp_directory = '{folder}'")
                con.execute("BEGIN TRANSACTION")
                try:
                    parts = adapters.chunks(adapter, path, options, chunk_bytes, folder)
                    staged = stage(con, parts, folder, entry, options, scorer.name, names, clock)
                    sentiment.stop_workers()  # not to hold their memory while the store runs
                    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                except adapters.AdapterError as err:
                    rollback(con, err)
                    finished = pd.Timestamp.now(tz="UTC")
                    warehouse.log_ingest(
                        con,
                        {**entry, "status": "failed", "finished_at": finished, "message": str(err)},
                    )
                    raise
                except BaseException as err:
                    rollback(con, err)
                    raise
                try:
                    with clock("store"):
                        log.info("%s: storing %s staged rows", path, f"{staged.rows_read:,}")
                        counts, quarantined = store_staged(con, staged, entry, options)
                        if staged.any_sentiment and warehouse.scored_by(con) is None:
                            warehouse.record_engine(con, scorer.name, scorer.version)
                    result = IngestResult(
                        path,
                        "loaded",
                        rows_read=staged.rows_read,
                        inserted=counts.inserted,
                        updated=counts.updated,
                        unchanged=counts.unchanged,
                        quarantined=quarantined,
                        conflicts=counts.conflicting,
                        texts_scored=staged.texts_scored,
                        seconds=clock.seconds,
                    )
                    warehouse.log_ingest(
                        con,
                        {
                            **entry,
                            "status": "loaded",
                            "rows_read": result.rows_read,
                            "rows_inserted": result.inserted,
                            "rows_updated": result.updated,
                            "rows_unchanged": result.unchanged,
                            "rows_quarantined": result.quarantined,
                            "rows_conflicting": result.conflicts,
                            "finished_at": pd.Timestamp.now(tz="UTC"),
                            "message": "",
                        },
                    )
                except BaseException as err:
                    rollback(con, err)
                    raise
                with clock("store"):
                    con.execute("COMMIT")  # a commit that fails ends the transaction itself
        finally:
            con.close()
    clock.seconds["total"] = round(time.perf_counter() - clock.started, 3)
    log.info("%s", result.summary())
    return result


@contextlib.contextmanager
def system_memory_pool() -> Iterator[None]:
    """Arrow allocates through ``malloc`` meanwhile: its default pool (mimalloc) keeps
    what earlier chunks freed, about 80 MB more at the peak of a 1M-row load."""
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@contextlib.contextmanager
def staging(warehouse_path: Path) -> Iterator[Path]:
    """A new staging folder beside the warehouse (``.<name>.staging-*``), removed after;
    folders left by a killed ingest are removed first (the caller holds the writer lock)."""
    warehouse_path = Path(warehouse_path)
    pattern = f".{warehouse_path.name}.staging-*"
    for stale in warehouse_path.parent.glob(pattern):
        shutil.rmtree(stale, ignore_errors=True)
    folder = tempfile.mkdtemp(prefix=pattern[:-1], dir=warehouse_path.parent)
    try:
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Staged:
    """What ``stage`` wrote into ``folder``: ``good-N.parquet`` (canonical rows with their
    ``line``, ``line_end`` and ``raw`` text when the source has no lines, and ``legacy_id``
    when it has one) and ``rejects-N.parquet`` (quarantine rows with ``id``)."""

    folder: Path
    rows_read: int = 0
    texts_scored: int = 0
    any_sentiment: bool = False
    chunks: int = 0
    rejects: int = 0

    def good(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        """The staged good rows."""
        return con.read_parquet(str(self.folder / "good-*.parquet"), union_by_name=True)


def stage(
    con: duckdb.DuckDBPyConnection,
    parts: Iterator[adapters.Parsed],
    folder: Path,
    entry: dict,
    options: adapters.AdapterOptions,
    engine: str,
    names: tuple[str, ...],
    clock: _StageClock,
) -> Staged:
    """Prepare and score each chunk of ``parts`` and write it to Parquet in ``folder``,
    with a progress line over the file's lines for a big file.

    New scores go into the sentiment cache in a transaction of their own per chunk, not
    the file's: the cache is a memo of what the engine says of a text (a load that fails
    or is killed keeps the scores it paid for), and a file's millions of new scores held
    uncommitted would grow with the file."""
    path = Path(entry["source_file"])
    big = path.stat().st_size >= PROGRESS_BYTES
    bar = Progress(f"loading {path}", count_lines(path), unit="lines") if big else None
    staged = Staged(folder)
    scoring = con.cursor()  # the cache's own transactions: see the docstring
    try:
        while True:
            with clock("read"):
                parsed = next(parts, None)
            if parsed is None:
                break
            with clock("prepare"):
                good, rejects = prepare(parsed, entry["source_file"], entry["started_at"], options)
                rejects["format"] = entry["format"]
                good = good.join(origin(parsed, good.index))
            with clock("sentiment"):
                good, scored = sentiment.attach_sentiment(scoring, good, engine, names)
            with clock("store"):
                write_staged(good, folder / f"good-{staged.chunks:05d}.parquet")
                if len(rejects):
                    write_staged(rejects, folder / f"rejects-{staged.chunks:05d}.parquet")
            staged.chunks += 1
            staged.rows_read += len(parsed.rows) + len(parsed.rejects)
            staged.rejects += len(rejects)
            staged.texts_scored += scored
            staged.any_sentiment |= bool(good["sentiment"].notna().any())
            if bar is not None:
                last = max(
                    [bar.done, *parsed.rows["line"].tail(1), *parsed.rejects["line"].tail(1)]
                )
                bar.advance(int(last) - bar.done)
    finally:
        scoring.close()
    if bar is not None:
        bar.close()
    return staged


def write_staged(frame: pd.DataFrame, target: Path) -> None:
    """Write ``frame`` to the Parquet file ``target`` in a staging folder; a full disk is
    said of the warehouse beside it (its load is what failed, and is rolled back)."""
    try:
        frame.to_parquet(target, index=False)
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        warehouse_path = target.parent.parent / target.parent.name[1:].split(".staging-")[0]
        raise OSError(
            err.errno,
            f"No space left on device (staging the load in {target.parent})",
            str(warehouse_path),
        ) from err


def origin(parsed: adapters.Parsed, index: pd.Index) -> pd.DataFrame:
    """Where the ``parsed`` rows at ``index`` come from: ``line``, ``line_end`` (NA without
    lines to quote), ``raw`` (the adapter's, else NA) and, when the source has legacy ids,
    ``legacy_id``."""
    wanted = ["line", "line_end", "raw", "legacy_id"]
    rows = parsed.rows[[c for c in wanted if c in parsed.rows.columns]]  # not the text
    if not index.equals(rows.index):  # some rows were set aside
        rows = rows.loc[index]
    quotable = parsed.quote is not None and "line_end" in rows.columns
    out = pd.DataFrame(
        {
            "line": rows["line"].astype("Int64"),
            "line_end": (
                rows["line_end"].astype("Int64") if quotable else schema.nulls("BIGINT", len(index))
            ),
            "raw": (
                rows["raw"].astype("string")
                if "raw" in rows.columns
                else schema.nulls("VARCHAR", len(index))
            ),
        },
        index=index,
    )
    if "legacy_id" in rows.columns:
        out["legacy_id"] = rows["legacy_id"].astype("string")
    return out


REPEATED = "id occurs more than once in this file"


def store_staged(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    entry: dict,
    options: adapters.AdapterOptions,
) -> tuple[warehouse.StoreCounts, int]:
    """Store the ``staged`` rows of the file ``entry`` names (inside the caller's
    transaction): upsert the good rows; quarantine the rejects, the rows whose id occurs
    more than once in the file (chunks were validated one by one) and the rows in
    conflict (their raw text read again from the file). Returns the store counts and the
    number of rows quarantined."""
    path = Path(entry["source_file"])
    glob = str(staged.folder / "rejects-*.parquet")
    with contextlib.ExitStack() as views:
        views.enter_context(warehouse.registered(con, "staged", staged.good(con)))
        if staged.rejects:
            rejects = con.read_parquet(glob, union_by_name=True)
            views.enter_context(warehouse.registered(con, "staged_rejects", rejects))
        checked = (
            "SELECT id FROM staged_rejects WHERE id IS NOT NULL"
            if staged.rejects
            else "SELECT NULL::VARCHAR AS id WHERE false"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE repeated AS SELECT id FROM "
            f"(SELECT id FROM staged UNION ALL {checked}) GROUP BY id HAVING count(*) > 1"
        )
        columns = [d[0] for d in con.execute("SELECT * FROM staged LIMIT 0").description]
        keep = [c for c in columns if c in warehouse.COLUMNS or c == "legacy_id"]
        counts = warehouse.store(
            con, con.sql(f"SELECT {', '.join(keep)} FROM staged ANTI JOIN repeated USING (id)")
        )
        twice = con.execute("SELECT * FROM staged SEMI JOIN repeated USING (id)").df()
        more = [twice.assign(raw=staged_raw(twice, path, options), reason=REPEATED)]
        if counts.conflicting:
            with warehouse.registered(con, "conflicts", counts.conflicts):
                found = con.execute(
                    "SELECT c.*, s.* EXCLUDE (id) FROM conflicts c JOIN staged s USING (id)"
                ).df()
            more.append(conflict_rejects(found.assign(raw=staged_raw(found, path, options))))
        extra = pd.concat(more, ignore_index=True)[["line", "raw", "reason"]].astype(
            {"line": "Int64", "raw": "string", "reason": "string"}
        )
        extra["source_file"], extra["format"] = entry["source_file"], entry["format"]
        extra["quarantined_at"] = entry["started_at"]
        union = "SELECT source_file, format, line, reason, raw, quarantined_at FROM extra"
        if staged.rejects:
            union += (
                " UNION ALL SELECT source_file, format, line, CASE WHEN id IN "
                f"(SELECT id FROM repeated) AND NOT contains(reason, '{REPEATED}') "
                f"THEN concat(reason, '; {REPEATED}') ELSE reason END AS reason, raw, "
                "quarantined_at FROM staged_rejects"
            )
        with warehouse.registered(con, "extra", extra):
            warehouse.quarantine(con, con.sql(union))
        con.execute("DROP TABLE repeated")
    return counts, staged.rejects + len(extra)


def staged_raw(rows: pd.DataFrame, path: Path, options: adapters.AdapterOptions) -> pd.Series:
    """The raw text of staged ``rows``, masked and cut: their ``raw``, else their lines
    read again from the file at ``path``, else their fields as JSON."""
    raw = rows["raw"].astype("string")
    todo = raw.isna() & rows["line_end"].notna()
    unquotable = raw.isna() & ~todo
    if unquotable.any():
        raw[unquotable] = _raw_json(rows[unquotable])
    if todo.any():
        first, last = rows["line"][todo].astype(int), rows["line_end"][todo].astype(int)
        spans = list(zip(first, last, strict=True))
        raw[todo] = textfile.quote_lines(path, options.encoding, str(path), spans)
    return raw.map(lambda r: mask_raw(cut_raw(r)), na_action="ignore")


def rollback(con: duckdb.DuckDBPyConnection, err: BaseException) -> None:
    """Roll back the open transaction after ``err``. When DuckDB already ended it (a fatal
    error such as a full disk invalidates the database), the original error is what the
    caller raises: the rollback's own failure is only noted on it."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error as failed:
        err.add_note(f"(the rollback after it failed too: {failed})")


class _StageClock:
    """Adds the wall seconds of each ``with clock(stage):`` block to ``seconds[stage]``."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - start
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + spent, 3)


def ingest_inbox(
    warehouse_path: Path, params_dir: Path, now: pd.Timestamp | None = None
) -> list[IngestResult]:
    """Load every file in the inbox (``params/inbox.yaml``) and archive each one loaded.

    A file is read as the format of the first rule whose pattern its name matches. Loaded
    files, and files whose content was loaded before, move to the archive; a file that
    matches no rule or cannot be read stays in the inbox, and its result says why.
    """
    params = config.load_inbox(params_dir)
    engine, names = config.sentiment_setup(params_dir)
    params.inbox.mkdir(parents=True, exist_ok=True)
    results = []
    for path in sorted(params.inbox.iterdir()):
        if not path.is_file() or any(fnmatch.fnmatch(path.name, p) for p in _UNFINISHED):
            continue
        rule = next((r for r in params.files if fnmatch.fnmatch(path.name, r.pattern)), None)
        if rule is None:
            message = "no pattern in inbox.yaml matches this name; left in the inbox"
            results.append(IngestResult(path, "skipped", message=message))
            continue
        options = options_for(rule.format, params_dir, brand=rule.brand)
        try:
            result = ingest_file(
                path, rule.format, warehouse_path, options, now, engine.engine, names
            )
        except adapters.AdapterError as err:
            results.append(IngestResult(path, "failed", message=f"{err}; left in the inbox"))
            continue
        lake.keep_current(warehouse_path, params_dir)
        archived = archive_file(path, params.archive)
        results.append(dataclasses.replace(result, archived_to=archived))
    return results


def archive_file(path: Path, archive: Path) -> Path:
    """Move ``path`` into ``archive``; a different file already there under that name
    keeps it, and this one gets its content hash in its name."""
    archive.mkdir(parents=True, exist_ok=True)
    target = archive / path.name
    if target.exists() and file_sha256(target) != file_sha256(path):
        target = archive / f"{path.stem}.{file_sha256(path)[:12]}{path.suffix}"
    shutil.move(str(path), str(target))
    return target


def check_engine(
    con: duckdb.DuckDBPyConnection, warehouse_path: Path, engine: sentiment.Engine
) -> None:
    """Raise ``EngineError`` when the warehouse's rows were scored by an engine (or
    version) other than ``engine``: one warehouse never mixes two engines' scores."""
    held = warehouse.scored_by(con)
    if held is None or held == (engine.name, engine.version):
        return
    raise sentiment.EngineError(
        f"{warehouse_path}: its rows were scored by sentiment engine {held[0]} {held[1]}, "
        f"this ingest scores with {engine.label}; rescore the warehouse first: "
        f"cxpulse sentiment rescore --warehouse {warehouse_path} --engine {engine.name} "
        f"(or set sentiment.engine: {held[0]} in params/brand.yaml)"
    )


def rescore(
    warehouse_path: Path,
    engine: str | None = None,
    names: tuple[str, ...] = (),
    stream: TextIO | None = None,
) -> tuple[int, int]:
    """Score every stored text with ``engine`` and record it as the warehouse's engine, in
    one transaction, with a progress bar on ``stream``; texts the cache holds for this
    engine and version are not scored again. Returns (rows updated, texts scored)."""
    scorer = sentiment.get_engine(engine)
    with warehouse.lock(warehouse_path):
        con = warehouse.connect(warehouse_path)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                texts = con.execute(
                    "SELECT DISTINCT text FROM interactions WHERE text IS NOT NULL AND text <> '' "
                    "ORDER BY text"
                ).df()
                bar = Progress(f"rescoring with {scorer.label}", len(texts), stream)
                scored = 0
                for start in range(0, len(texts), SENTIMENT_CHUNK):
                    part = texts.iloc[start : start + SENTIMENT_CHUNK]
                    scored += sentiment.attach_sentiment(con, part, scorer.name, names)[1]
                    bar.advance(len(part))
                bar.close()
                sets = ", ".join(f"{c} = c.{c}" for c in sentiment.SCORE_COLUMNS)
                updated = con.execute(
                    f"UPDATE interactions AS i SET {sets} FROM sentiment_cache c "
                    "WHERE c.engine = ? AND c.version = ? AND c.text_md5 = md5(i.text) "
                    "AND i.text <> ''",
                    [scorer.name, scorer.version],
                ).fetchone()[0]
                nulls = ", ".join(f"{c} = NULL" for c in sentiment.SCORE_COLUMNS)
                con.execute(f"UPDATE interactions SET {nulls} WHERE text IS NULL OR text = ''")
                warehouse.record_engine(con, scorer.name, scorer.version)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
    return updated, scored


def progress_line(label: str, done: int, total: int, elapsed_s: float, unit: str = "rows") -> str:
    """``label: 120,000/1,000,000 rows (12%), 9,500 rows/s, ETA 1 min 33 s``."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else None
    minutes, seconds = divmod(round(eta), 60) if eta is not None else (0, 0)
    eta_text = (
        "ETA --"
        if eta is None
        else f"ETA {minutes} min {seconds:02d} s"
        if minutes
        else f"ETA {seconds} s"
    )
    share = done / total if total else 1.0
    return f"{label}: {done:,}/{total:,} {unit} ({share:.0%}), {rate:,.0f} {unit}/s, {eta_text}"


class Progress:
    """A progress line on a stream (stderr): redrawn in place on a terminal at most every
    half second, else printed at most every 10 seconds, and once more when closed."""

    def __init__(
        self, label: str, total: int, stream: TextIO | None = None, unit: str = "rows"
    ) -> None:
        self.label, self.total, self.done, self.unit = label, total, 0, unit
        self.stream = stream or sys.stderr
        self.started = self.shown = time.monotonic()
        self.live = self.stream.isatty()

    def advance(self, rows: int) -> None:
        """Count ``rows`` more as done, redrawing the line when it is due."""
        self.done += rows
        now = time.monotonic()
        if now - self.shown >= (0.5 if self.live else 10.0):
            self.shown = now
            self.show(end="\r" if self.live else "\n")

    def close(self) -> None:
        """Show the final line."""
        self.show(end="\n")

    def show(self, end: str) -> None:
        elapsed = time.monotonic() - self.started
        line = progress_line(self.label, self.done, self.total, elapsed, self.unit)
        self.stream.write(line + end)
        self.stream.flush()
