"""What customers tell us is broken: the phrases of negative messages, top and rising.

A phrase is a word or a pair of neighbouring words of a message, once the text is
lower-cased and stripped of URLs, @handles, numbers, the brand's own name and
``STOP_WORDS``; a pair never spans a punctuation mark. A phrase counts once per message
however often the message repeats it. A message is negative when its p_negative >=
``negative_probability`` (brand.yaml ``sentiment``): which texts to mine is a decision
about each message, so a threshold on its probability; share_of_negative is then a share
of those messages. The engine selects the negative texts; the (small) frame of texts is
counted here.
"""

from __future__ import annotations

import re
from collections import Counter

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.config import NEGATIVE_PROBABILITY
from cxpulse.metrics.grouping import within
from cxpulse.metrics.sentiment import is_negative
from cxpulse.periods import Period

STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done during
    each even ever few for from further get gets getting got had has have having he her
    here hers him his how i if in into is it its itself just let me more most my myself
    no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself can't cannot couldn't didn't doesn't don't hadn't
    hasn't haven't i'd i'll i'm i've isn't it's let's shouldn't that's there's they're
    wasn't we're weren't won't wouldn't you're you've us else another every much many
    im ive dont cant wont isnt u ur pm dm via etc lol omg
    hi hello hey dear thanks thank thx please pls plz ok okay yes yeah cheers guys team
    still really already yet since anyone someone anything something everything nothing
    see like need want know go going back way make made
    one two three four five six seven eight nine ten first
    today yesterday tomorrow tonight morning afternoon evening day days week weeks month
    months year years hour hours minute minutes time times monday tuesday wednesday
    thursday friday saturday sunday
    terrible awful worst bad poor horrible horrendous appalling shocking disgraceful
    disgusting dreadful pathetic ridiculous rubbish joke unacceptable disappointed
    disappointing disappointment frustrating frustrated annoyed annoying angry furious
    fuming upset hate sick tired fed seriously absolutely totally literally honestly never
    sort
    """.split()  # noqa: SIM905 (a block of words reads better than a list of 200 strings)
)
"""Words that say nothing about an issue: English function words and their contractions,
greetings and thanks, fillers and intensifiers, number words, words of time ("all
week", "since Monday") and venting ("terrible", "so frustrating": how it feels, not what
is broken); what is left names things and faults ("broadband", "router",
"keeps dropping", "charged twice"); "down" is kept, as "network down" is an issue."""

_URL = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"@\w+")
_CLAUSE = re.compile(r"[.,!?;:()\[\]\"…]+|\s[-–—]+\s")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_NUMBER = re.compile(r"\d+(?:st|nd|rd|th|am|pm|k|p)?")

PHRASE_COLUMNS = ["phrase", "count", "share_of_negative"]
RISING_COLUMNS = ["phrase", "count", "previous_count", "change", "share_of_negative"]


def _words(clause: str) -> list[str]:
    words = (w.removesuffix("'s") for w in _WORD.findall(clause))
    return [w for w in words if len(w) > 1 and w not in STOP_WORDS and not _NUMBER.fullmatch(w)]


def phrases(text: str, brand: str = "") -> set[str]:
    """The phrases of one message: its kept words (``STOP_WORDS``, numbers such as
    ``30``, ``2nd``, ``7am``, one-letter words, possessive 's and the name ``brand``
    dropped) and each pair of kept words that follow one another within a clause."""
    text = _HANDLE.sub(" ", _URL.sub(" ", text.lower().replace("\u2019", "'")))
    if brand:
        text = text.replace(brand.lower(), " ")
    found: set[str] = set()
    for clause in _CLAUSE.split(text):
        words = _words(clause)
        found.update(words)
        found.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return found


def phrase_counts(texts: pd.Series, brand: str = "") -> pd.Series:
    """Number of ``texts`` holding each phrase (``phrases``), indexed by phrase, int64."""
    counter: Counter[str] = Counter()
    for text, repeats in texts.dropna().value_counts().items():
        counter.update(dict.fromkeys(phrases(text, brand), repeats))
    return pd.Series(counter, dtype="int64")


def _negative_inbound(t: ir.Table, brand: str, threshold: float) -> ir.Table:
    """Inbound rows of ``brand`` with a text and p_negative >= ``threshold``."""
    return t.filter(
        _.brand == brand, _.direction == "inbound", is_negative(t, threshold), _.text.notnull()
    )


def without_subsumed(counts: pd.Series) -> pd.Series:
    """``counts`` (``phrase_counts``) less the words counted exactly as often as a pair
    holding them: then every message with the word has the pair ("tv" and "tv box"),
    and the pair says more."""
    pairs = ((pair, n) for pair, n in counts.items() if " " in pair)
    subsumed = {w for pair, n in pairs for w in pair.split() if counts.get(w) == n}
    return counts.drop(list(subsumed))


def top_issues(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: str,
    limit: int = 10,
    negative_probability: float = NEGATIVE_PROBABILITY,
) -> pd.DataFrame:
    """The ``limit`` most frequent phrases of negative inbound messages to ``brand``
    created in ``[start, end)``.

    Negative: p_negative >= ``negative_probability``. count = negative messages holding
    the phrase (``phrase_counts``, ``without_subsumed``); share_of_negative = count /
    negative messages (fraction). Ranked by count, then phrase.

    Columns: phrase, count, share_of_negative.
    """
    negative = _negative_inbound(t, brand, negative_probability)
    texts = within(negative, start, end).select("text").execute()["text"]
    top = without_subsumed(phrase_counts(texts, brand)).rename_axis("phrase").reset_index()
    top = top.set_axis(["phrase", "count"], axis=1)
    top["share_of_negative"] = top["count"] / len(texts)
    top = top.sort_values(["count", "phrase"], ascending=[False, True], ignore_index=True)
    return top.head(limit)[PHRASE_COLUMNS]


def rising_issues(
    t: ir.Table,
    current: Period,
    previous: Period,
    brand: str,
    limit: int = 10,
    min_count: int = 5,
    negative_probability: float = NEGATIVE_PROBABILITY,
) -> pd.DataFrame:
    """The phrases of negative inbound messages to ``brand`` that grew most from the
    ``previous`` window to the ``current`` one (negative: p_negative >=
    ``negative_probability``).

    count, previous_count = negative messages holding the phrase in each window (as in
    ``top_issues``); expected = previous_count x current days / previous days (windows
    of different length compare fairly); change = count / expected (ratio; NaN when the
    phrase is new, previous_count 0); share_of_negative = count / negative messages of
    ``current`` (fraction). A phrase is rising when count >= ``min_count`` and count >
    expected; ranked by growth = (count + 1) / (expected + 1), which ranks a new phrase
    by its count among the others, then by count, then phrase.

    Columns: phrase, count, previous_count, change, share_of_negative.
    """
    negative = _negative_inbound(t, brand, negative_probability)
    both = negative.filter(
        ((_.created_at >= current.start) & (_.created_at < current.end))
        | ((_.created_at >= previous.start) & (_.created_at < previous.end))
    )
    texts = both.select("created_at", "text").execute()
    now = texts["created_at"].between(current.start, current.end, inclusive="left")
    counts = without_subsumed(phrase_counts(texts["text"][now], brand))
    before = phrase_counts(texts["text"][~now], brand).reindex(counts.index, fill_value=0)
    expected = before * current.days / previous.days
    rising = pd.DataFrame(
        {
            "phrase": counts.index,
            "count": counts,
            "previous_count": before,
            "change": (counts / expected).where(expected > 0),
            "share_of_negative": counts / max(int(now.sum()), 1),
            "growth": (counts + 1) / (expected + 1),
        }
    )[(counts >= min_count) & (counts > expected)]
    rising = rising.sort_values(
        ["growth", "count", "phrase"], ascending=[False, False, True], ignore_index=True
    )
    return rising.head(limit)[RISING_COLUMNS]
