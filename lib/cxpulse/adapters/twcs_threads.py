"""The thread context of TWCS tweets (``twcs`` rules 1-3 and ``thread_id``), found out of
core: a file's link fields are gathered, chunk by chunk, in a scratch DuckDB database that
spills to disk past ``MEMORY_LIMIT``, so the memory it takes does not grow with the file.

Definitions (positions are the records' order in the file, the first 0):

- ``up``: the position of the record whose ``tweet_id`` is a record's ``parent``, or none
  when no record, or several, have that id (a duplicated id is not followed);
- ``top``: where ``up`` leads after 2**R steps (a record without ``up`` stays where it is),
  R = the bit length of the number of records, plus one: the end of the reply chain, more
  steps than any chain has. A reply loop has no end: there it is the record 2**R steps up,
  as ``fields.thread_roots`` (its pointer doubling) gives;
- ``root``: the ``parent`` id of ``top`` when it names one that is not followed, else the
  ``tweet_id`` of ``top``;
- ``addressed``: the first of (1) the company of the earliest company tweet whose
  ``parent`` is the record's ``tweet_id`` (ties: alphabetical; no time: last), (2) the
  company of the nearest company tweet above the record (following ``up``), (3) the company
  with the most tweets whose ``root`` is the record's (ties: alphabetical); none if none.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

MEMORY_LIMIT = "256MB"
"""DuckDB memory of the scratch database: past it, its joins spill to its folder."""


class Threads:
    """The scratch database of one file's links: ``add`` each chunk's ``link_fields`` in
    file order, then ``solve``, then read the ``contexts`` of the chunks. A context
    manager; an in-memory DuckDB database that spills to ``folder`` past ``MEMORY_LIMIT``
    (None: a temporary folder of its own, removed after)."""

    def __init__(self, folder: Path | None) -> None:
        config = {"memory_limit": MEMORY_LIMIT, "preserve_insertion_order": False}
        self.spill = tempfile.TemporaryDirectory(prefix="twcs-threads-", dir=folder)
        config["temp_directory"] = self.spill.name
        self.con = duckdb.connect(":memory:", config=config)
        self.rows = 0
        self.codes: dict[str, int] = {}
        """Each company's number, in the order first seen."""
        self.con.execute(
            "CREATE TABLE links (pos BIGINT, tweet_id BIGINT, parent BIGINT, company INTEGER,"
            " created TIMESTAMPTZ)"
        )

    def __enter__(self) -> Threads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self.spill.cleanup()

    def add(self, links: pd.DataFrame) -> None:
        """Append a chunk's ``link_fields`` (the records after those added before)."""
        company = links["company"]
        numbers = [self.codes.setdefault(c, len(self.codes)) for c in company.cat.categories]
        codes = company.cat.codes.to_numpy()
        is_company = codes >= 0
        chunk = pa.table(
            {
                "pos": np.arange(self.rows, self.rows + len(links)),
                "tweet_id": pa.array(links["tweet_id"], type=pa.int64()),
                "parent": pa.array(links["parent"], type=pa.int64()),
                # code -1 (no company) takes the last number, masked
                "company": pa.array(np.array([*numbers, 0], np.int32)[codes], mask=~is_company),
                "created": pa.array(links["created"].where(is_company)),
            }
        )
        self.con.from_arrow(chunk).insert_into("links")
        self.rows += len(links)

    def companies(self) -> list[str]:
        """Every company of the file, alphabetical."""
        return sorted(self.codes)

    def solve(self) -> None:
        """Find every record's ``root`` and ``addressed`` (the module docstring), one join
        at a time (joins that run together must hold their tables in memory at once)."""
        sql = self.con.execute
        ranks = pa.table(
            {
                "code": pa.array(list(self.codes.values()), type=pa.int32()),
                "rank": pa.array(
                    pd.Index(self.companies()).get_indexer(list(self.codes)), type=pa.int32()
                ),
            }
        )
        self.con.from_arrow(ranks).create("ranks")
        # (a number, NULL last; a company's place): one number that orders as the pair, for
        # plain aggregates (ordered ones keep their groups in memory); places < 2**32
        sql(
            "CREATE MACRO ordered(x, company) AS"
            " coalesce(x::HUGEINT, 9223372036854775808) * 4294967296 + company"
        )
        sql(
            "CREATE TABLE first_reply AS SELECT l.parent,"
            " arg_min(l.company, ordered(epoch_us(l.created), r.rank)) AS company"
            " FROM links l JOIN ranks r ON r.code = l.company WHERE l.parent IS NOT NULL"
            " GROUP BY l.parent"
        )
        sql(
            "CREATE TABLE nodes AS SELECT l.pos, l.tweet_id, l.parent, l.company, u.pos AS up"
            " FROM links l LEFT JOIN (SELECT tweet_id, any_value(pos) AS pos FROM links"
            "  WHERE tweet_id IS NOT NULL GROUP BY tweet_id HAVING count(*) = 1) u"
            " ON u.tweet_id = l.parent"
        )
        sql("DROP TABLE links")
        rounds = self.rows.bit_length() + 1
        # roots: a record without ``up`` is its thread's end
        sql(
            "CREATE TABLE roots AS SELECT pos, coalesce(parent, tweet_id) AS val FROM nodes"
            " WHERE up IS NULL"
        )
        sql("CREATE TABLE to_root AS SELECT pos, up AS top FROM nodes WHERE up IS NOT NULL")
        chain_ends(self.con, "to_root", "roots", rounds)
        # reply loops: the tweet 2**R steps up, which has ``up``
        sql(
            "INSERT INTO roots SELECT a.pos, n.tweet_id FROM to_root a"
            " JOIN nodes n ON n.pos = a.top"
        )
        # the company at or above each tweet (a company tweet ends the walk up)
        sql("CREATE TABLE above AS SELECT pos, company AS val FROM nodes WHERE company IS NOT NULL")
        sql(
            "CREATE TABLE to_company AS SELECT pos, up AS top FROM nodes"
            " WHERE company IS NULL AND up IS NOT NULL"
        )
        chain_ends(self.con, "to_company", "above", rounds)
        sql(
            "CREATE TABLE most_active AS"
            " SELECT root, arg_min(company, ordered(-n, rank)) AS company"
            " FROM (SELECT r.val AS root, n.company, count(*) AS n FROM nodes n"
            "  JOIN roots r USING (pos) WHERE n.company IS NOT NULL AND r.val IS NOT NULL"
            "  GROUP BY ALL) JOIN ranks ON code = company GROUP BY root"
        )
        sql(
            "CREATE TABLE found AS SELECT n.pos, n.tweet_id, r.val AS root,"
            " CASE WHEN n.company IS NULL THEN n.pos ELSE n.up END AS below"
            " FROM nodes n LEFT JOIN roots r USING (pos)"
        )
        sql("DROP TABLE nodes; DROP TABLE roots; DROP TABLE to_root; DROP TABLE to_company")
        sql(
            "CREATE OR REPLACE TABLE found AS SELECT n.pos, n.root, n.below, f.company"
            " FROM found n LEFT JOIN first_reply f ON f.parent = n.tweet_id"
        )
        sql(
            "CREATE OR REPLACE TABLE found AS SELECT n.pos, n.root,"
            " coalesce(n.company, a.val) AS company"
            " FROM found n LEFT JOIN above a ON a.pos = n.below"
        )
        sql(
            "CREATE OR REPLACE TABLE found AS SELECT n.pos, n.root,"
            " coalesce(n.company, m.company) AS company"
            " FROM found n LEFT JOIN most_active m ON m.root = n.root"
        )
        self.ranks = np.array([*ranks["rank"].to_numpy(), -1], dtype=np.int32)
        """Each company number's place in ``companies``; -1 (no company) as the last."""

    def contexts(self, parts: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """The thread context of each of ``parts``, the ``link_fields`` ``add``ed, in the
        same order (the next is read as the one before is used): its ``link_fields`` (with
        every company of the file as the categories of ``company``) and each record's
        ``root`` (Int64) and ``addressed`` (categorical, NA when none). Once ``solve``d."""
        companies = self.companies()
        reader = self.con.sql("SELECT root, company FROM found ORDER BY pos").to_arrow_reader()
        rest: list[pa.RecordBatch] = []
        for links in parts:
            found, rest = first_rows(reader, rest, len(links))
            codes = found["company"].combine_chunks().fill_null(-1).to_numpy()
            yield links.assign(
                company=links["company"].cat.set_categories(companies),
                root=pd.array(found["root"].combine_chunks(), dtype="Int64"),
                addressed=pd.Categorical.from_codes(self.ranks[codes], companies),
            )


def first_rows(
    reader: pa.RecordBatchReader, rest: list[pa.RecordBatch], count: int
) -> tuple[pa.Table, list[pa.RecordBatch]]:
    """The next ``count`` rows of ``rest`` (batches read before and not used yet) then
    ``reader``, and the batches left."""
    have = sum(len(batch) for batch in rest)
    while have < count:
        rest.append(reader.read_next_batch())
        have += len(rest[-1])
    rows = pa.Table.from_batches(rest, schema=reader.schema)
    return rows.slice(0, count), rows.slice(count).to_batches()


def chain_ends(con: duckdb.DuckDBPyConnection, walks: str, ends: str, rounds: int) -> None:
    """Walk up the reply chains by pointer doubling, ``rounds`` times at most.

    ``walks`` (``pos``, ``top``): the records on their way, each with a record further up
    (at first one step up); ``ends`` (``pos``, ``val``): records whose ``val`` is known
    (the end of their walk). Each round, a record whose ``top`` is in ``ends`` takes its
    ``val`` and leaves ``walks`` (so does one whose ``top`` is in neither: its ``val`` is
    NA, not added); the others take their ``top``'s ``top``, twice as far up. Stops when
    ``walks`` is empty or a round changes nothing (a reply loop with no end): what is left
    in ``walks`` then is each record's ``top`` 2**``rounds`` steps up, as doubling that
    many times gives."""
    for _ in range(rounds):
        con.execute(
            f"CREATE TABLE step AS SELECT a.pos, a.top AS was, b.top, e.val,"
            f" e.pos IS NOT NULL OR b.pos IS NULL AS done"
            f" FROM {walks} a LEFT JOIN {ends} e ON e.pos = a.top"
            f" LEFT JOIN {walks} b ON b.pos = a.top"
        )
        con.execute(f"INSERT INTO {ends} SELECT pos, val FROM step WHERE done AND val IS NOT NULL")
        con.execute(f"DROP TABLE {walks}")
        con.execute(f"CREATE TABLE {walks} AS SELECT pos, top FROM step WHERE NOT done")
        changed = con.execute("SELECT count(*) FROM step WHERE done OR top <> was").fetchone()[0]
        con.execute("DROP TABLE step")
        if not changed:
            break
