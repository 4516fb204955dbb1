"""Review-site CSV exports (Trustpilot-style), one row per review.

Fields: ``id, text, rating, title, likes, published, source`` and optionally ``brand`` and
``author_id``; another site's column names are mapped under ``column_map`` in params.
``published`` becomes ``created_at``; ``rating`` must be a whole number of stars.

A review's id is unique only on its site: it is stored as ``review:<site>:<id>``, the site
being the host of the ``source`` URL without ``www.`` (``review:trustpilot.com:65ea...``),
or the brand (as ``id_scope`` writes it) when no URL names one, so two sites' review 17 are
two reviews. (Before ids were scoped they were ``review:<id>``: see ``warehouse.store``.)

The stored text is the title, a blank line, then the review (title first, as the site shows
it): titles carry much of a review's tone ("AVOID!"), and sentiment and the "worst review"
panel should see them. When the review already begins with its title (sites fill the title
with the review's first words), the text is stored alone, so nothing is said twice.

The brand is, in this order: ``--brand`` (or ``brand`` in params), the ``brand`` column,
the brand ``accounts`` maps the review page's domain to, the file's name when it is
``<brand>_reviews.csv`` (``akc_reviews.csv`` -> ``akc``), or the review page's domain
(``https://www.trustpilot.com/review/www.akcpetinsurance.com?page=1`` ->
``akcpetinsurance.com``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxpulse.adapters import AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    id_scope,
    is_blank,
    mapped_fields,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
    prefixed_ids,
    scoped_ids,
    utf8_bytes,
)

NAME = "reviews"
FIELDS = ("id", "text", "rating", "title", "likes", "published", "source", "brand", "author_id")
REQUIRED = ("id", "text", "rating", "published")
EXPECTED = (
    "a review-site CSV with columns id, text, rating, published (and title, likes, source, "
    "brand, author_id when present)"
)
_REVIEW_DOMAIN = re.compile(r"/review/(?:www\.)?([^/?#]+)")
_SITE = re.compile(r"^\s*https?://(?:www\.)?([^/?#:\s]+)")
_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character ``str.isspace`` accepts: what ``str.lstrip()`` removes."""


def parse(table: textfile.Table, path: Path, options: AdapterOptions) -> Parsed:
    """The ``Parsed`` of records of ``path``."""
    fields = mapped_fields(table.records, FIELDS, REQUIRED, options.column_map, str(path), EXPECTED)
    rows, reasons = to_canonical(fields, options, brand_in_name(path))
    return textfile.parsed_from(table, rows, reasons)


read, chunks = textfile.record_readers(EXPECTED, parse)
"""Read a file whole, or in chunks of about ``size`` bytes."""


def brand_in_name(path: Path) -> str | None:
    """``akc`` for ``akc_reviews.csv`` (or ``akc-reviews.csv``); None for other names."""
    match = re.fullmatch(r"(.+?)[_-]reviews?", path.stem, flags=re.IGNORECASE)
    return match.group(1) if match else None


def to_canonical(
    fields: pd.DataFrame, options: AdapterOptions, file_brand: str | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from review fields (text columns, named as ``FIELDS``);
    ``file_brand``: the brand the file's name gives, if any. Pure."""
    reasons = no_reasons(fields.index)
    rating, bad_rating = parse_whole_numbers(fields["rating"])
    reasons = add_reason(reasons, bad_rating, "rating: not a whole number of stars")
    reasons = add_reason(reasons, rating.isna() & ~bad_rating, "rating is missing")
    likes, bad_likes = parse_whole_numbers(column(fields, "likes"))
    reasons = add_reason(reasons, bad_likes, "likes: not a whole number")
    created = parse_timestamps(fields["published"], options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(fields["published"]),
        "published: not an ISO 8601 timestamp",
    )
    pages = review_pages(column(fields, "source"))
    brand = review_brand(fields, options, file_brand, pages)
    reasons = add_reason(
        reasons,
        brand.isna(),
        "no brand: give --brand, a brand column or a source URL naming the review page",
    )
    channel = options.channel or "review"
    scope = id_scope(review_site(column(fields, "source"), pages)).fillna(id_scope(brand))
    ids = scoped_ids(channel, scope, fields["id"])
    rows = pd.DataFrame(
        {
            "id": ids,
            "legacy_id": prefixed_ids(channel, fields["id"]),
            "channel": channel,
            "brand": brand,
            "direction": "inbound",
            "thread_id": ids,
            "author_id": clean_text(column(fields, "author_id")),
            "created_at": created,
            "text": review_text(column(fields, "title"), fields["text"]),
            "rating": rating,
            "likes": likes,
        },
        index=fields.index,
    )
    return rows, reasons


def review_site(
    source: pd.Series, pages: tuple[np.ndarray, pd.DataFrame] | None = None
) -> pd.Series:
    """The review site of each review page URL, without ``www.`` (``https://www.trustpilot.com/
    review/...`` -> ``trustpilot.com``); NA where the source is not a URL. ``pages``:
    ``review_pages(source)``, when already known."""
    page, parts = review_pages(source) if pages is None else pages
    return pd.Series(parts["site"].array.take(page, allow_fill=True), index=source.index)


def review_pages(source: pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
    """(each row's page: its position among the distinct pages, -1 where there is no source;
    the distinct pages' ``site`` (``review_site``) and ``domain`` (the site reviewed:
    ``/review/www.akcpetinsurance.com`` -> ``akcpetinsurance.com``), lower case text, NA
    where the URL names none).

    A few page URLs repeat on every row: each is read once, both patterns at a time."""
    page, pages = pd.factorize(source.astype("string"), use_na_sentinel=True)
    urls = pages.tolist()
    site = [found.group(1) if (found := _SITE.search(url)) else None for url in urls]
    domain = [found.group(1) if (found := _REVIEW_DOMAIN.search(url)) else None for url in urls]
    parts = pd.DataFrame({"site": site, "domain": domain}, dtype="string")
    return page, parts.apply(lambda part: part.str.lower())


def column(fields: pd.DataFrame, name: str) -> pd.Series:
    """Field ``name``, or all-NA text when the file has no such column."""
    if name in fields.columns:
        return fields[name]
    return pd.Series(pd.NA, index=fields.index, dtype="string")


def review_text(title: pd.Series, text: pd.Series) -> pd.Series:
    """Title, blank line, review; the review alone when it starts with its title or has none."""
    title = clean_text(title)
    text = text.astype("string")
    stem = title.str.rstrip(".…! ").fillna("")
    alone = title.isna().to_numpy() | starts_with(text.fillna(""), stem)
    heading = (title + "\n\n").mask(alone, "")
    return (heading + text.fillna("")).mask(alone & text.isna().to_numpy(), pd.NA)


def starts_with(text: pd.Series, prefix: pd.Series) -> np.ndarray:
    """True where ``text``, leading whitespace aside, begins with a non-empty ``prefix``.

    Compared as UTF-8 bytes (a text starts with a prefix exactly when its bytes start with
    the prefix's bytes), all rows at once: only each text's first bytes are read (reviews
    are long) and none becomes a Python string.
    """
    lead_at, lead_size, lead = utf8_bytes(pc.utf8_ltrim(pa.array(text), characters=_SPACE))
    head_at, head_size, head = utf8_bytes(pa.array(prefix))
    out = np.zeros(len(prefix), dtype=bool)
    todo = np.flatnonzero((head_size > 0) & (head_size <= lead_size))
    if not len(todo):
        return out
    sizes = head_size[todo]
    firsts = np.cumsum(sizes) - sizes  # where each prefix's bytes start among all compared
    at = np.arange(int(sizes.sum()))
    same = (
        lead[at + np.repeat(lead_at[todo] - firsts, sizes)]
        == head[at + np.repeat(head_at[todo] - firsts, sizes)]
    )
    out[todo] = np.logical_and.reduceat(same, firsts)
    return out


def review_brand(
    fields: pd.DataFrame,
    options: AdapterOptions,
    file_brand: str | None,
    pages: tuple[np.ndarray, pd.DataFrame] | None = None,
) -> pd.Series:
    """The brand of each review (see the module docstring); NA when nothing names one.
    ``pages``: ``review_pages`` of the ``source`` field, when already known."""
    if options.brand:
        return pd.Series(options.brand, index=fields.index, dtype="string")
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    page, parts = review_pages(column(fields, "source")) if pages is None else pages
    domain = parts["domain"]
    by_page = domain.map(accounts.get, na_action="ignore").astype("string")
    if file_brand:
        by_page = by_page.fillna(file_brand)
    by_page = by_page.fillna(domain)
    from_page = pd.Series(by_page.array.take(page, allow_fill=True), index=fields.index)
    if file_brand:  # a review without a source URL
        from_page = from_page.fillna(file_brand)
    return clean_text(column(fields, "brand")).fillna(from_page).astype("string")
