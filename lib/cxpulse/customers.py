"""Lists of customers kept beside the warehouse: who opted out of contact, and the
customer file (who is who across channels, what they pay, when they left).

Both are CSV files read once and checked line by line; a mistake raises ``ParamsError``
naming the file and the line. Ids are author ids as the warehouse stores them.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cxpulse.config import BrandParams, ParamsError

CUSTOMER_COLUMNS = ["customer_id", "author_id", "plan_value_month", "churned_at"]


def parse_local_time(value: str, tz: str) -> pd.Timestamp:
    """``value`` as a UTC timestamp: empty is NaT; an ISO date ``2024-03-05`` is the start
    of that day in ``tz``; an ISO time without offset is local to ``tz``. Anything else
    raises ``ValueError``."""
    if not value:
        return pd.NaT
    try:
        stamp = pd.Timestamp(dt.datetime.fromisoformat(value))
    except ValueError:
        raise ValueError(f"expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, got {value!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    return stamp.tz_convert("UTC")


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """(``<path>: line <n>``, row with stripped values) for each row of the CSV ``path``,
    whose header must hold the ``required`` columns."""
    if not path.is_file():
        raise ParamsError(f"{path}: file not found")
    try:
        with path.open(encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise ParamsError(
                    f"{path}: line 1: expected a header with the column(s) "
                    f"{', '.join(required)}; missing {', '.join(missing)}"
                )
            for row in reader:
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                yield f"{path}: line {reader.line_num}", clean
    except UnicodeDecodeError as err:
        reason = f"{err.reason} at byte {err.start}"
        raise ParamsError(f"{path}: not UTF-8 text ({reason})") from None


def _time(row: dict[str, str], column: str, tz: str, where: str) -> pd.Timestamp:
    try:
        return parse_local_time(row.get(column, ""), tz)
    except ValueError as err:
        raise ParamsError(f"{where}: {column}: {err}") from None


def load_opt_out(params_dir: Path, brand: BrandParams) -> pd.DataFrame:
    """The customers on ``brand.opt_out_file`` (a CSV relative to ``params_dir``: column
    author_id, optional column opted_out_at).

    Columns: author_id (string), opted_out_at (UTC timestamp, ``parse_local_time`` in the
    brand's time zone; NaT when opted out for good). No file configured: no rows.
    """
    authors: list[str] = []
    stamps: list[pd.Timestamp] = []
    if brand.opt_out_file is not None:
        for where, row in _rows(Path(params_dir) / brand.opt_out_file, ("author_id",)):
            if not row["author_id"]:
                raise ParamsError(f"{where}: author_id is empty")
            authors.append(row["author_id"])
            stamps.append(_time(row, "opted_out_at", brand.timezone, where))
    return pd.DataFrame(
        {
            "author_id": pd.array(authors, dtype="string"),
            "opted_out_at": pd.to_datetime(pd.Series(stamps, dtype=object), utc=True),
        }
    )


def load_customers(path: Path, tz: str) -> pd.DataFrame:
    """The customer file ``path``: a CSV with columns customer_id, author_ids (the ids
    that are this customer on any channel, handles or hashed phone numbers, separated by
    ``;``), plan_value_month (what they pay a month, >= 0) and, optional, churned_at
    (when they left; a date is the start of that day in ``tz``).

    One row per author id: customer_id, author_id (strings), plan_value_month (float),
    churned_at (UTC timestamp; NaT while still a customer). A customer id listed twice,
    or an author id claimed by two customers, is a mistake.
    """
    records: list[tuple[str, str, float, pd.Timestamp]] = []
    owners: dict[str, str] = {}
    seen: set[str] = set()
    for where, row in _rows(Path(path), ("customer_id", "author_ids", "plan_value_month")):
        customer = row["customer_id"]
        if not customer or customer in seen:
            raise ParamsError(f"{where}: customer_id {customer!r} is empty or listed before")
        seen.add(customer)
        try:
            value = float(row["plan_value_month"])
        except ValueError:
            value = -1.0
        if not value >= 0:
            raise ParamsError(
                f"{where}: plan_value_month: expected a number >= 0, "
                f"got {row['plan_value_month']!r}"
            )
        churned_at = _time(row, "churned_at", tz, where)
        authors = [a.strip() for a in row["author_ids"].split(";") if a.strip()]
        if not authors:
            raise ParamsError(f"{where}: author_ids is empty")
        for author in authors:
            if owners.setdefault(author, customer) != customer:
                raise ParamsError(
                    f"{where}: author id {author!r} already belongs to {owners[author]!r}"
                )
            records.append((customer, author, value, churned_at))
    frame = pd.DataFrame(records, columns=CUSTOMER_COLUMNS)
    return frame.astype(
        {"customer_id": "string", "author_id": "string", "plan_value_month": "float64"}
    ).assign(churned_at=pd.to_datetime(frame["churned_at"], utc=True))
