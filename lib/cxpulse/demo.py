"""Seeded synthetic multi-channel data in the canonical schema, for ``make demo`` and tests.

The demo imitates one brand (ours, ``brand.brand``) and its competitors over ``days``
days ending at ``end`` (``SPAN_DAYS`` by default; ``cxpulse demo`` makes 1,060 days, from
late December 2023 to the demo's end in November 2026, so the annual report of 2025 and the
monthly reports have a whole previous year to compare with):

- inbound messages on social channels and e-mail, with brand replies whose delays are
  lognormal with a median per channel (some channels meet their SLA target, some miss it)
  and a share per channel that is never answered;
- reviews (J-shaped star ratings, some answered), mentions with reach and engagement,
  brand posts with reach and engagement, and calls (served, abandoned, IVR);
- a daily and weekly rhythm in the brand's time zone, a mild growth trend, daily noise;
- an outage about ten days before ``end`` (negative social inbound several times the
  usual) and one negative mention with a reach in the millions in the last week;
- the customers of ``params/opt_out.csv`` still writing in now and then, and answered:
  opt-out breaches for the boundaries section to find.

Competitors get the public part only (social, reviews, mentions, posts: their calls and
e-mail are not public), at smaller volumes; the first answers faster than us, the second
slower. Texts come from a fixed vocabulary of a few thousand template fillings, so the
sentiment cache stays small however many rows are generated.

Rows are generated in chunks of consecutive time (each at most ``MAX_CHUNK_ROWS``), fully
vectorised; ``write_demo`` writes each chunk to a Parquet file and frees it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxpulse import schema
from cxpulse.config import BrandParams, ParamsError

SPAN_DAYS = 400
MAX_CHUNK_ROWS = 500_000
OURS_SHARE = 0.60
"""Our brand's share of all rows; the competitors share the rest, each less than the one before."""

# (kind, channel) -> share of our brand's rows, replies included. Kinds: message (inbound
# with replies), review, mention, post (brand post), call. Competitors get the public kinds.
OURS_MIX: dict[tuple[str, str], float] = {
    ("call", "phone"): 0.22,
    ("message", "email"): 0.08,
    ("message", "twitter"): 0.17,
    ("message", "facebook"): 0.12,
    ("message", "instagram"): 0.08,
    ("message", "youtube"): 0.03,
    ("review", "review"): 0.06,
    ("mention", "twitter"): 0.08,
    ("mention", "facebook"): 0.03,
    ("mention", "instagram"): 0.03,
    ("mention", "youtube"): 0.01,
    ("mention", "blog"): 0.02,
    ("mention", "tumblr"): 0.02,
    ("mention", "pinterest"): 0.02,
    ("post", "twitter"): 0.008,
    ("post", "facebook"): 0.006,
    ("post", "instagram"): 0.006,
    ("post", "youtube"): 0.002,
    ("post", "pinterest"): 0.003,
    ("post", "tumblr"): 0.002,
    ("post", "blog"): 0.003,
}
PRIVATE: frozenset[tuple[str, str]] = frozenset({("call", "phone"), ("message", "email")})

# channel -> (our median first-reply delay in seconds, our share of inbound never answered).
# Against params/brand.yaml: twitter, instagram, review and e-mail meet their targets at
# the median; facebook and youtube miss them.
CARE: dict[str, tuple[float, float]] = {
    "twitter": (2_400, 0.08),
    "facebook": (12_600, 0.15),
    "instagram": (4_500, 0.12),
    "youtube": (108_000, 0.25),
    "review": (72_000, 0.22),
    "email": (28_800, 0.05),
}
REPLY_SIGMA = 1.0
"""Sigma of the lognormal reply delay: p90 is about 3.6 times the median."""

COMPETITOR_STYLE: tuple[tuple[float, float], ...] = ((0.45, 0.36), (2.6, 0.46), (1.4, 0.41))
"""Competitor n (cycled) -> (reply delay relative to ours, negative share of its inbound)."""
OUR_NEGATIVE = (0.44, 0.38)
"""Negative share of our inbound messages at the start and at the end of the span."""
NEUTRAL_SHARE = 0.38
MENTION_POLARITY = (0.28, 0.47, 0.25)
"""Shares of negative, neutral and positive mentions."""
RATING_P = (0.20, 0.07, 0.09, 0.17, 0.47)
"""Shares of 1 to 5 stars: the J shape of real review sites."""

# channel -> (median reach of a mention, median reach of our post, like, share, comment rates)
ENGAGEMENT: dict[str, tuple[float, float, float, float, float]] = {
    "twitter": (400, 40_000, 0.012, 0.003, 0.002),
    "facebook": (300, 50_000, 0.015, 0.002, 0.003),
    "instagram": (600, 60_000, 0.040, 0.002, 0.004),
    "youtube": (1_500, 25_000, 0.030, 0.002, 0.004),
    "tumblr": (200, 6_000, 0.020, 0.008, 0.002),
    "pinterest": (500, 12_000, 0.010, 0.010, 0.001),
    "blog": (2_500, 10_000, 0.005, 0.002, 0.003),
}
ENGAGEMENT_TABLE = np.array(
    [ENGAGEMENT.get(c, (np.nan,) * 5) for c in schema.CHANNELS], dtype=np.float64
)
"""ENGAGEMENT as an array indexed by channel code."""
MENTION_REACH_MAX = 250_000
"""Ordinary mentions stay under this reach; only the viral one reaches millions."""

OUTCOME_P = {"served": 0.80, "abandoned": 0.12, "ivr": 0.08}
SHORT_ABANDON_SHARE = 0.2
"""Share of abandoned calls that hang up within 5 s of reaching the queue."""
WAIT_SERVED = (9.0, 1.1)
WAIT_ABANDONED = (75.0, 0.8)
HANDLE = (330.0, 0.5)
"""(median seconds, lognormal sigma) of call waits and handle times."""

OUTAGE_DAYS_BEFORE_END = 11
OUTAGE_PLATEAU_H = 36
OUTAGE_DECAY_H = 12
OUTAGE_EXTRA = 3.5
"""Extra negative social inbound during the outage, as a multiple of the usual volume."""
OUTAGE_CHANNELS = {"twitter": 0.5, "facebook": 0.3, "instagram": 0.2}
OUTAGE_DELAY_FACTOR = 3.0
"""Replies are this much slower during the outage (the care team is swamped)."""

VIRAL_REACH_MEDIAN = 2_500_000
VIRAL_RATES = (0.015, 0.006, 0.0025)
DAILY_NOISE = 0.1
GROWTH = (0.92, 1.08)
"""Volume multiplier at the start and at the end of the span."""

# Hourly (local hour 0-23) and weekly (Monday-Sunday) rhythm of each volume profile.
HOURLY: dict[str, tuple[float, ...]] = {
    "social": (0.30, 0.18, 0.12, 0.09, 0.09, 0.13, 0.25, 0.45, 0.70, 0.85, 0.95, 1.00,
               1.00, 0.95, 0.90, 0.90, 0.90, 0.95, 1.00, 1.00, 0.95, 0.85, 0.65, 0.45),
    "office": (0.05, 0.03, 0.02, 0.02, 0.02, 0.04, 0.10, 0.35, 0.80, 1.00, 1.00, 0.95,
               0.85, 0.95, 1.00, 0.95, 0.85, 0.60, 0.40, 0.30, 0.25, 0.20, 0.15, 0.08),
    "phone": (0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.05, 0.70, 1.00, 1.00, 0.95,
              0.85, 0.90, 0.95, 0.90, 0.80, 0.70, 0.55, 0.45, 0.02, 0.01, 0.01, 0.01),
    "posting": (0, 0, 0, 0, 0, 0, 0, 0, 0.60, 1.00, 1.00, 0.80,
                0.90, 1.00, 0.90, 0.70, 0.50, 0.40, 0.30, 0, 0, 0, 0, 0),
}  # fmt: skip
WEEKLY: dict[str, tuple[float, ...]] = {
    "social": (1.0, 1.0, 1.0, 1.0, 0.95, 0.75, 0.7),
    "office": (1.0, 1.0, 1.0, 1.0, 0.9, 0.35, 0.25),
    "phone": (1.0, 0.95, 0.95, 0.95, 0.9, 0.5, 0.25),
    "posting": (1.0, 1.0, 1.0, 1.0, 0.9, 0.3, 0.2),
}

DIRECTION = {d: i for i, d in enumerate(schema.DIRECTIONS)}
CHANNEL = {c: i for i, c in enumerate(schema.CHANNELS)}
OUTCOME = {o: i for i, o in enumerate(schema.OUTCOMES)}
CARE_AUTHOR, MAIN_AUTHOR = -1, -2
"""``author`` codes of brand rows: the care handle (replies) and the main handle (posts)."""
CUSTOMER_FIRST = 100_000
OPTED_OUT_CUSTOMERS: tuple[int, ...] = (999_991, 999_992, 999_993, 999_994)
"""Customers (``cust-<number>``) listed in params/opt_out.csv. Random draws stay below
them (``MAX_POPULATION``), so they write only the ``opted_out_messages``."""
MAX_POPULATION = OPTED_OUT_CUSTOMERS[0] - CUSTOMER_FIRST
OPTED_OUT_EVERY_DAYS = 20
"""One of the opted-out customers writes to us every this many days, in turn, and is
answered: four or five opt-out breaches a quarter."""
OPTED_OUT_REPLY_S = 1_800
"""Median delay of our answers to them (seconds)."""
INT_CODES = ("brand", "channel", "direction", "t", "text", "rating", "reach", "likes",
             "shares", "comments", "outcome", "author", "parent")  # fmt: skip
"""Integer columns of a code frame; -1 means null except in ``author`` (see CARE_AUTHOR)."""

_END = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?(Z|[+-]\d{2}:?\d{2})?$")

# ---------------------------------------------------------------------------- vocabulary

SLOTS: dict[str, tuple[str, ...]] = {
    "hi": ("", "Hi, ", "Hello, ", "Hey, "),
    "thing": (
        "broadband",
        "mobile data",
        "signal",
        "router",
        "eSIM",
        "app",
        "voicemail",
        "5G",
        "landline",
        "TV box",
    ),  # fmt: skip
    "fault": (
        "keeps dropping",
        "has been down",
        "is painfully slow",
        "stopped working",
        "is broken again",
    ),  # fmt: skip
    "since": (
        "since yesterday",
        "since Monday",
        "all week",
        "for three days",
        "since the update",
    ),  # fmt: skip
    "vent": (
        "This is terrible.",
        "Worst service ever.",
        "Really disappointed.",
        "So frustrating.",
        "Awful.",
        "Sort it out!",
    ),  # fmt: skip
    "bill": ("my bill", "my direct debit", "my roaming charge", "my contract", "my refund"),
    "billfault": (
        "is wrong again",
        "doubled for no reason",
        "was taken twice",
        "still has not been fixed",
    ),  # fmt: skip
    "ask": ("how do I", "can I", "is it possible to", "where can I"),
    "task": (
        "change my billing date",
        "add a second line",
        "port my number",
        "upgrade my handset",
        "check my data allowance",
        "set up call forwarding",
        "update my address",
        "move my broadband to a new flat",
    ),  # fmt: skip
    "when": ("today", "this week", "before Friday", "online", "in the app"),
    "thanks": ("Thanks", "Thank you so much", "Big thanks", "Cheers"),
    "who": (
        "to the team",
        "to Sam in support",
        "to the engineer",
        "to your chat agent",
        "to the shop staff",
    ),  # fmt: skip
    "good": ("great", "brilliant", "excellent", "really helpful", "amazing", "super quick"),
    "what": (
        "fixing my broadband",
        "sorting my bill",
        "the upgrade",
        "the quick reply",
        "the new router",
        "setting up my eSIM",
    ),  # fmt: skip
    "outage_since": ("since this morning", "for hours", "all day", "since 7am"),
    "city": (
        "London",
        "Leeds",
        "Bristol",
        "Glasgow",
        "Cardiff",
        "Manchester",
        "Belfast",
        "Newcastle",
    ),  # fmt: skip
    "opening": (
        "Sorry to hear that.",
        "Thanks for getting in touch.",
        "Thanks for letting us know.",
        "We are sorry for the trouble.",
        "Hi there, thanks for the message.",
    ),  # fmt: skip
    "next": (
        "Please DM us your account number and we will take a look.",
        "Could you send us your postcode by DM?",
        "We have passed this to our engineers.",
        "Have you tried restarting your router?",
        "We have replied by private message.",
        "A refund is on its way.",
        "Glad we could help!",
    ),  # fmt: skip
    "agent": ("AB", "JK", "MR", "SP", "LT", "DW"),
    "one_open": ("Avoid.", "Terrible company.", "Zero stars if I could.", "Shocking service."),
    "reason": (
        "Broadband down for a week",
        "Billed after I cancelled",
        "Nobody answers the phone",
        "Three engineers and still no fix",
        "Contract price doubled with no warning",
        "Signal is useless at home",
    ),  # fmt: skip
    "one_close": (
        "Never again.",
        "Leaving as soon as I can.",
        "Complaint filed with the ombudsman.",
        "Avoid at all costs.",
    ),  # fmt: skip
    "two_open": ("Not great.", "Disappointing.", "Poor value."),
    "two_close": ("Support was slow.", "Took weeks to sort out.", "Expected better."),
    "mixed": (
        "Good coverage but the app is clunky",
        "Fair price, average support",
        "Broadband is fine, billing is confusing",
        "Setup took a while, works now",
        "Decent signal in town, weak in the countryside",
    ),  # fmt: skip
    "four_open": ("Good service.", "Happy overall.", "Solid provider."),
    "plus": (
        "Fast broadband",
        "Friendly support",
        "Fair price",
        "Easy setup",
        "Great coverage",
    ),  # fmt: skip
    "minor": (
        "The bill could be clearer.",
        "The app could be better.",
        "Took a while to get through.",
        "No complaints.",
    ),  # fmt: skip
    "five_open": ("Excellent!", "Brilliant service.", "Love it.", "Best provider I have had."),
    "five_close": ("highly recommend.", "great value.", "five stars from me.", "thank you!"),
    "mention_fault": (
        "broadband has been down all day",
        "charged me twice again",
        "kept me on hold for an hour",
        "signal is useless in my area",
        "raised prices again",
    ),  # fmt: skip
    "plan": ("5G plans", "broadband bundles", "roaming prices", "family plans"),
    "need": ("a student flat", "working from home", "a family of four"),
    "review_next": (
        "We are glad you are happy with us.",
        "We are sorry to read this; please contact us so we can put it right.",
        "Your feedback has been passed to the team.",
        "Please send us your account number so we can look into it.",
    ),
    "mention_good": (
        "fast broadband and fair prices",
        "the support team sorted everything",
        "great coverage on my commute",
        "the new app is brilliant",
    ),  # fmt: skip
    "post_open": ("New:", "This week:", "Good news!", "Just launched:"),
    "offer": (
        "unlimited 5G data on all SIM-only plans.",
        "free roaming in 40 destinations.",
        "faster broadband at no extra cost.",
        "our new family bundle.",
        "double data for students.",
        "a brand new app.",
    ),  # fmt: skip
    "post_close": (
        "Find out more on our website.",
        "Tell us what you think!",
        "Available now.",
        "Link in bio.",
    ),  # fmt: skip
}
POOL_LIMIT = 150
"""Most distinct fillings kept per template."""
POOL_SEED = 20_240_601
"""Fixed: the vocabulary is the same whatever the seed, so its sentiment cache is reused."""

# pool name -> templates; a "{brand}" slot makes one pool per brand.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "message_negative": (
        "{hi}my {thing} {fault} {since}. {vent}",
        "{hi}{bill} {billfault}. {vent}",
        "Still waiting for someone to fix my {thing}. {vent}",
    ),
    "message_neutral": (
        "{hi}{ask} {task} {when}?",
        "{hi}is there planned maintenance on {thing} in {city} {when}?",
    ),
    "message_positive": (
        "{thanks} {who} for {what}, {good} service!",
        "{hi}just switched to you and the {thing} is {good}. {thanks}!",
    ),
    "outage": (
        "{hi}is the network down? No {thing} {outage_since}. {vent}",
        "Total outage in {city}, no signal {outage_since}. {vent}",
    ),
    "reply": ("{opening} {next} ^{agent}",),
    "review_reply": ("Thank you for your review. {review_next} ^{agent}",),
    "review_1": ("{one_open} {reason}. {one_close}",),
    "review_2": ("{two_open} {reason}. {two_close}",),
    "review_3": ("OK overall. {mixed}.", "Average. {mixed}."),
    "review_4": ("{four_open} {plus}. {minor}",),
    "review_5": ("{five_open} {plus}, {five_close}",),
    "mention_negative": (
        "{brand} {mention_fault}. {vent}",
        "Anyone else having problems with {brand}? My {thing} {fault}. {vent}",
    ),
    "mention_neutral": (
        "Thinking of switching to {brand}, anyone tried their {plan}?",
        "Comparing {brand} {plan} for {need}.",
        "{brand} announced new {plan} {when}.",
        "Does {brand} cover {city}?",
    ),
    "mention_positive": (
        "Really happy with {brand}, {mention_good}. {thanks}!",
        "{thanks} {brand}, {mention_good}, {good} service!",
    ),
    "post": ("{post_open} {offer} {post_close}",),
}
VIRAL_TEXT = (
    "{brand} cut off my disabled mum's phone line over their own billing error, then hung "
    "up on her twice. Disgraceful, heartless company. Never use them. #boycott"
)


@dataclass(frozen=True)
class Vocabulary:
    """Every demo text once, grouped in pools: pool ``i`` is ``texts[starts[i]:][:sizes[i]]``."""

    texts: pa.Array
    starts: np.ndarray
    sizes: np.ndarray
    index: dict[tuple[str, int], int]
    """(pool name, brand index or -1) -> pool number."""

    def pool(self, name: str, brand: int = -1) -> int:
        """The pool number of ``name`` (for ``{brand}`` pools, of that brand)."""
        return self.index[(name, brand)] if (name, brand) in self.index else self.index[(name, -1)]


def slot_names(template: str) -> list[str]:
    """The ``{slot}`` names of a template, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def fill_template(
    template: str, values: dict[str, tuple[str, ...]], rng: np.random.Generator
) -> list[str]:
    """Every filling of ``template`` from ``values``, at most ``POOL_LIMIT`` (a fixed sample)."""
    names = slot_names(template)
    texts = [
        template.format(**dict(zip(names, combo, strict=True)))
        for combo in product(*(values[n] for n in names))
    ]
    if len(texts) > POOL_LIMIT:
        texts = [texts[i] for i in sorted(rng.choice(len(texts), POOL_LIMIT, replace=False))]
    return [t[0].upper() + t[1:] for t in texts]


def build_vocabulary(brands: list[str]) -> Vocabulary:
    """The demo texts of all pools for ``brands``; the same for the same brand names."""
    rng = np.random.default_rng(POOL_SEED)
    texts: list[str] = []
    starts, sizes, index = [], [], {}
    for name, templates in TEMPLATES.items():
        per_brand = any("brand" in slot_names(t) for t in templates)
        for b in range(len(brands)) if per_brand else [-1]:
            values = {**SLOTS, "brand": (brands[b],)} if per_brand else SLOTS
            pool = sorted({t for tpl in templates for t in fill_template(tpl, values, rng)})
            index[(name, b)] = len(starts)
            starts.append(len(texts))
            sizes.append(len(pool))
            texts.extend(pool)
    for b, brand in enumerate(brands):
        index[("viral", b)] = len(starts)
        starts.append(len(texts))
        sizes.append(1)
        texts.append(VIRAL_TEXT.format(brand=brand))
    return Vocabulary(pa.array(texts, pa.string()), np.array(starts), np.array(sizes), index)


def pick_texts(rng: np.random.Generator, vocab: Vocabulary, pools: np.ndarray) -> np.ndarray:
    """One random text code from each row's pool (a pool number per row)."""
    return vocab.starts[pools] + (rng.random(len(pools)) * vocab.sizes[pools]).astype(np.int64)


# ------------------------------------------------------------------------------ calendar


@dataclass(frozen=True)
class Calendar:
    """The span in hourly bins: bin ``b`` covers ``[start_s + 3600 b, start_s + 3600 (b+1))``.

    ``weights``: profile -> relative volume per bin (local daily and weekly rhythm, growth
    trend, daily noise); the "outage" profile is the social one inside the outage only.
    """

    start_s: int
    end_s: int
    weights: dict[str, np.ndarray]

    @property
    def bins(self) -> int:
        return (self.end_s - self.start_s) // 3600

    def share(self, profile: str, lo: int, hi: int) -> float:
        """The share of the profile's whole volume that falls in bins ``[lo, hi)``."""
        w = self.weights[profile]
        return float(w[lo:hi].sum() / w.sum())


def outage_shape(bins: int) -> np.ndarray:
    """1 during the outage plateau, falling to 0 over its decay, 0 elsewhere."""
    shape = np.zeros(bins)
    first = bins - OUTAGE_DAYS_BEFORE_END * 24
    shape[first : first + OUTAGE_PLATEAU_H] = 1.0
    decay = np.linspace(1.0, 0.0, OUTAGE_DECAY_H + 2)[1:-1]
    shape[first + OUTAGE_PLATEAU_H : first + OUTAGE_PLATEAU_H + OUTAGE_DECAY_H] = decay
    return shape


def build_calendar(
    end: pd.Timestamp, timezone: str, rng: np.random.Generator, days: int = SPAN_DAYS
) -> Calendar:
    """The hourly bins of the ``days`` days before ``end`` and each profile's weights."""
    bins = days * 24
    start = end - pd.Timedelta(days=days)
    middles = pd.date_range(start + pd.Timedelta(minutes=30), periods=bins, freq="h")
    local = middles.tz_convert(timezone)
    hour, weekday = local.hour.to_numpy(), local.day_of_week.to_numpy()
    day = pd.factorize(local.normalize())[0]
    trend = np.linspace(*GROWTH, bins)
    weights = {
        name: np.asarray(HOURLY[name])[hour]
        * np.asarray(WEEKLY[name])[weekday]
        * trend
        * rng.lognormal(0.0, DAILY_NOISE, day.max() + 1)[day]
        for name in HOURLY
    }
    weights["outage"] = weights["social"] * outage_shape(bins)
    return Calendar(int(start.timestamp()), int(end.timestamp()), weights)


# ------------------------------------------------------------------------------- streams


@dataclass(frozen=True)
class Stream:
    """One kind of primary row (not a reply) for one brand on one channel, over the span."""

    brand: int
    """Index into the brands list; 0 is ours."""
    channel: str
    kind: str
    """message | review | outage | mention | post | call"""
    count: float
    """Expected primary rows over the span; answered messages add a reply each."""
    reply_median_s: float = math.nan
    unanswered: float = 1.0
    negative: tuple[float, float] = (0.0, 0.0)
    """Negative share of messages at the start and the end of the span."""
    reach_scale: float = 1.0
    """Reach of this brand's posts relative to ours."""

    @property
    def profile(self) -> str:
        """The calendar profile whose rhythm this stream follows."""
        if self.kind in ("call", "post", "outage"):
            return {"call": "phone", "post": "posting", "outage": "outage"}[self.kind]
        return "office" if self.channel == "email" else "social"

    @property
    def rows_per_primary(self) -> float:
        """Expected rows per primary row, its reply included."""
        answered = self.kind in ("message", "review", "outage")
        return 2.0 - self.unanswered if answered else 1.0


def brand_shares(competitors: int) -> list[float]:
    """Share of all rows per brand: ours first, then competitors each 0.8 of the previous."""
    if competitors == 0:
        return [1.0]
    weights = 0.8 ** np.arange(competitors)
    return [OURS_SHARE, *((1 - OURS_SHARE) * weights / weights.sum())]


def care_for(kind: str, channel: str, speed: float) -> tuple[float, float]:
    """(median reply delay s, share never answered) of a brand replying ``speed`` times as
    slowly as we do; the faster brand also leaves fewer messages unanswered."""
    if kind not in ("message", "review") or channel not in CARE:
        return math.nan, 1.0
    median, unanswered = CARE[channel]
    return median * speed, float(np.clip(unanswered * speed**0.3, 0.02, 0.5))


def plan_streams(rows: int, brands: list[str], outage_share: float) -> list[Stream]:
    """The streams that make about ``rows`` rows over the span.

    ``outage_share`` is the share of the social volume falling in the outage (weighted by its
    shape); the outage streams add ``OUTAGE_EXTRA`` times our usual negative social inbound.
    """
    streams: list[Stream] = []
    shares = brand_shares(len(brands) - 1)
    public_total = sum(v for k, v in OURS_MIX.items() if k not in PRIVATE)
    for b, share in enumerate(shares):
        speed, negative = 1.0, OUR_NEGATIVE
        if b:
            speed, neg = COMPETITOR_STYLE[(b - 1) % len(COMPETITOR_STYLE)]
            negative = (neg, neg)
        for (kind, channel), mix in OURS_MIX.items():
            if b and (kind, channel) in PRIVATE:
                continue
            brand_rows = rows * share * (mix / public_total if b else mix)
            median, unanswered = care_for(kind, channel, speed)
            stream = Stream(b, channel, kind, brand_rows, median, unanswered, negative)
            streams.append(
                dataclasses.replace(
                    stream,
                    count=brand_rows / stream.rows_per_primary,
                    reach_scale=share / shares[0],
                )
            )
    ours = {s.channel: s for s in streams if s.brand == 0 and s.kind == "message"}
    usual_negative = sum(ours[c].count * np.mean(OUR_NEGATIVE) for c in OUTAGE_CHANNELS)
    streams += [
        dataclasses.replace(
            ours[c], kind="outage", count=OUTAGE_EXTRA * usual_negative * outage_share * part
        )
        for c, part in OUTAGE_CHANNELS.items()
    ]
    return streams


def chunk_edges(streams: list[Stream], cal: Calendar, max_rows: int) -> np.ndarray:
    """Bin edges splitting the span into consecutive chunks of about equal expected rows,
    each expected to stay under ``max_rows``."""
    per_bin = sum(
        s.count * s.rows_per_primary * cal.weights[s.profile] / cal.weights[s.profile].sum()
        for s in streams
    )
    cumulative = np.cumsum(per_bin)
    chunks = max(1, math.ceil(cumulative[-1] * 1.05 / max_rows))
    inner = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, chunks) / chunks)
    return np.concatenate([[0], inner, [cal.bins]]).astype(np.int64)


def chunk_counts(streams: list[Stream], cal: Calendar, lo: int, hi: int) -> np.ndarray:
    """Primary rows per stream in bins ``[lo, hi)``: the rounded expected rows before ``hi``
    minus those before ``lo``, so the chunks add up to the same total whatever the split."""

    def before(b: int) -> np.ndarray:
        return np.array([round(s.count * cal.share(s.profile, 0, b)) for s in streams])

    return before(hi) - before(lo)


# ---------------------------------------------------------------------- primary rows


def draw_times(
    rng: np.random.Generator, weights: np.ndarray, lo: int, n: int, start_s: int
) -> np.ndarray:
    """``n`` epoch seconds in bins ``[lo, lo + len(weights))``, bins drawn by ``weights``."""
    cumulative = np.cumsum(weights)
    bins = lo + np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    return start_s + bins * 3600 + rng.integers(0, 3600, n)


def draw_primaries(
    rng: np.random.Generator, streams: list[Stream], cal: Calendar, lo: int, hi: int
) -> pd.DataFrame:
    """One row per primary row in bins ``[lo, hi)``: its stream's fields and its time ``t``."""
    counts = chunk_counts(streams, cal, lo, hi)
    table = pd.DataFrame([dataclasses.asdict(s) for s in streams])
    table["negative_start"], table["negative_end"] = zip(*table.pop("negative"), strict=True)
    table["channel"] = table["channel"].map(CHANNEL)
    rows = table.take(np.repeat(np.arange(len(streams)), counts)).reset_index(drop=True)
    rows["t"] = np.concatenate(
        [np.empty(0, np.int64)]
        + [
            draw_times(rng, cal.weights[s.profile][lo:hi], lo, n, cal.start_s)
            for s, n in zip(streams, counts, strict=True)
            if n
        ]
    )
    return rows


def customers(rng: np.random.Generator, n: int, population: int) -> np.ndarray:
    """Customer numbers (``cust-<number>``), drawn from ``population`` customers."""
    return CUSTOMER_FIRST + rng.integers(0, population, n)


def lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int
) -> np.ndarray:
    """``n`` lognormal draws with the given median(s)."""
    return np.exp(np.log(median) + sigma * rng.standard_normal(n))


def fill_inbound(
    rng: np.random.Generator, rows: pd.DataFrame, vocab: Vocabulary, cal: Calendar, population: int
) -> pd.DataFrame:
    """Codes of inbound messages, reviews and outage complaints, with a reply ``delay`` (s,
    NaN when never answered)."""
    n = len(rows)
    kind, brand = rows["kind"].to_numpy(), rows["brand"].to_numpy()
    progress = (rows["t"].to_numpy() - cal.start_s) / (cal.end_s - cal.start_s)
    negative = rows["negative_start"] + (rows["negative_end"] - rows["negative_start"]) * progress
    u = rng.random(n)
    polarity = np.where(u < negative, 0, np.where(u < negative + NEUTRAL_SHARE, 1, 2))
    message_pools = np.array(
        [vocab.pool(f"message_{p}") for p in ("negative", "neutral", "positive")]
    )
    rating = rng.choice(np.arange(1, 6), n, p=RATING_P)
    review_pools = np.array([0] + [vocab.pool(f"review_{r}") for r in range(1, 6)])
    pools = np.select(
        [kind == "review", kind == "outage"],
        [review_pools[rating], vocab.pool("outage")],
        message_pools[polarity],
    )
    answered = rng.random(n) >= rows["unanswered"].to_numpy()
    slower = np.where(kind == "outage", OUTAGE_DELAY_FACTOR, 1.0)
    delay = lognormal(rng, rows["reply_median_s"].to_numpy() * slower, REPLY_SIGMA, n)
    return pd.DataFrame(
        {
            "brand": brand,
            "channel": rows["channel"].to_numpy(),
            "direction": DIRECTION["inbound"],
            "t": rows["t"].to_numpy(),
            "text": pick_texts(rng, vocab, pools),
            "rating": np.where(kind == "review", rating, -1),
            "author": customers(rng, n, population),
            "delay": np.where(answered, delay, np.nan),
        }
    )


def engagement(
    rng: np.random.Generator, reach: np.ndarray, rates: np.ndarray
) -> dict[str, np.ndarray]:
    """Likes, shares and comments drawn from ``reach`` with per-row rates (n x 3)."""
    return {
        col: rng.binomial(reach, np.minimum(rates[:, i] * rng.lognormal(0, 0.4, len(reach)), 1))
        for i, col in enumerate(("likes", "shares", "comments"))
    }


def fill_social(
    rng: np.random.Generator, rows: pd.DataFrame, vocab: Vocabulary, population: int
) -> pd.DataFrame:
    """Codes of mentions and brand posts, with reach and engagement."""
    n = len(rows)
    brand, channel = rows["brand"].to_numpy(), rows["channel"].to_numpy()
    is_post = (rows["kind"] == "post").to_numpy()
    table = ENGAGEMENT_TABLE[channel]
    mention_reach = np.minimum(lognormal(rng, table[:, 0], 1.4, n), MENTION_REACH_MAX)
    post_reach = lognormal(rng, table[:, 1] * rows["reach_scale"].to_numpy(), 0.6, n)
    reach = np.maximum(np.where(is_post, post_reach, mention_reach), 1).astype(np.int64)
    polarity = rng.choice(3, n, p=MENTION_POLARITY)
    mention_pools = np.array(
        [
            [vocab.pool(f"mention_{p}", b) for b in range(brand.max(initial=0) + 1)]
            for p in ("negative", "neutral", "positive")
        ]
    )
    pools = np.where(is_post, vocab.pool("post"), mention_pools[polarity, brand])
    return pd.DataFrame(
        {
            "brand": brand,
            "channel": channel,
            "direction": np.where(is_post, DIRECTION["outbound"], DIRECTION["mention"]),
            "t": rows["t"].to_numpy(),
            "text": pick_texts(rng, vocab, pools),
            "reach": reach,
            **engagement(rng, reach, table[:, 2:]),
            "author": np.where(is_post, MAIN_AUTHOR, customers(rng, n, population)),
        }
    )


def fill_calls(rng: np.random.Generator, rows: pd.DataFrame, population: int) -> pd.DataFrame:
    """Codes of calls: served (wait, handle), abandoned (wait only, some under 5 s), IVR."""
    n = len(rows)
    outcome = rng.choice([OUTCOME[o] for o in OUTCOME_P], n, p=list(OUTCOME_P.values()))
    served, abandoned = outcome == OUTCOME["served"], outcome == OUTCOME["abandoned"]
    short = rng.random(n) < SHORT_ABANDON_SHARE
    wait = np.select(
        [served, abandoned & short, abandoned],
        [
            lognormal(rng, WAIT_SERVED[0], WAIT_SERVED[1], n),
            rng.uniform(0.5, 4.9, n),
            np.maximum(lognormal(rng, WAIT_ABANDONED[0], WAIT_ABANDONED[1], n), 5.0),
        ],
        np.nan,
    )
    handle = np.where(served, lognormal(rng, HANDLE[0], HANDLE[1], n), np.nan)
    return pd.DataFrame(
        {
            "brand": rows["brand"].to_numpy(),
            "channel": CHANNEL["phone"],
            "direction": DIRECTION["inbound"],
            "t": rows["t"].to_numpy(),
            "outcome": outcome,
            "author": customers(rng, n, population),
            "wait_s": np.round(wait, 1),
            "handle_s": np.round(handle, 0),
        }
    )


def draw_replies(
    rng: np.random.Generator, primaries: pd.DataFrame, vocab: Vocabulary, end_s: int
) -> pd.DataFrame:
    """Codes of the care team's replies to answered inbound rows, those landing by ``end_s``.

    ``parent`` is the position of the answered row in ``primaries``.
    """
    t = primaries["t"].to_numpy() + np.round(primaries["delay"].to_numpy())
    keep = np.flatnonzero(t <= end_s)  # NaN (never answered) compares False
    on_review = primaries["channel"].to_numpy()[keep] == CHANNEL["review"]
    pool = np.where(on_review, vocab.pool("review_reply"), vocab.pool("reply"))
    return pd.DataFrame(
        {
            "brand": primaries["brand"].to_numpy()[keep],
            "channel": primaries["channel"].to_numpy()[keep],
            "direction": DIRECTION["outbound"],
            "t": t[keep].astype(np.int64),
            "text": pick_texts(rng, vocab, pool),
            "author": CARE_AUTHOR,
            "parent": keep,
        }
    )


def viral_mention(
    rng: np.random.Generator, cal: Calendar, vocab: Vocabulary, population: int
) -> pd.DataFrame:
    """Codes of the one negative mention of our brand with a reach in the millions, posted
    one to six days before the end."""
    t = cal.end_s - int(rng.integers(86_400, 6 * 86_400))
    reach = np.array([max(int(lognormal(rng, VIRAL_REACH_MEDIAN, 0.3, 1)[0]), 1_200_000)])
    return pd.DataFrame(
        {
            "brand": 0,
            "channel": CHANNEL[str(rng.choice(["twitter", "blog"]))],
            "direction": DIRECTION["mention"],
            "t": [t],
            "text": vocab.starts[vocab.pool("viral", 0)],
            "reach": reach,
            **engagement(rng, reach, np.array([VIRAL_RATES])),
            "author": customers(rng, 1, population),
        }
    )


def opted_out_messages(rng: np.random.Generator, cal: Calendar, vocab: Vocabulary) -> pd.DataFrame:
    """Codes of questions to our brand on twitter from the ``OPTED_OUT_CUSTOMERS``, in
    turn, one every ``OPTED_OUT_EVERY_DAYS`` days back from the end, each with a reply
    ``delay`` (s)."""
    n = cal.bins // 24 // OPTED_OUT_EVERY_DAYS - 1
    days_back = OPTED_OUT_EVERY_DAYS * np.arange(1, n + 1)
    return pd.DataFrame(
        {
            "brand": 0,
            "channel": CHANNEL["twitter"],
            "direction": DIRECTION["inbound"],
            "t": cal.end_s - days_back * 86_400 + rng.integers(0, 86_400, n),
            "text": pick_texts(rng, vocab, np.full(n, vocab.pool("message_neutral"))),
            "rating": -1,
            "author": np.resize(OPTED_OUT_CUSTOMERS, n),
            "delay": lognormal(rng, OPTED_OUT_REPLY_S, REPLY_SIGMA, n),
        }
    )


# ------------------------------------------------------------------------- canonical


def join_strings(left: pa.Array, numbers: np.ndarray, separator: str) -> pa.Array:
    """``left + separator + str(number)`` for each row (vectorised in Arrow)."""
    return pc.binary_join_element_wise(left, pa.array(numbers).cast(pa.string()), separator)


def as_string(values: pa.Array) -> pd.arrays.ArrowStringArray:
    """An Arrow string array as pandas' ``string`` dtype, without a copy."""
    return pd.arrays.ArrowStringArray(values)


def take_strings(values: pa.Array, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
    """``values[code]`` for each row; a negative code is null."""
    return as_string(pc.take(values, pa.array(codes, mask=codes < 0)))


def nullable_int(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 with -1 as null."""
    return pd.arrays.IntegerArray(values.astype(np.int64), values < 0)


def nullable_float(values: np.ndarray) -> pd.arrays.FloatingArray:
    """Float64 with NaN as null."""
    return pd.arrays.FloatingArray(values.astype(np.float64), np.isnan(values))


def to_canonical(
    codes: pd.DataFrame, brands: list[str], vocab: Vocabulary, first_id: int
) -> pd.DataFrame:
    """The canonical frame (``schema.COLUMNS``, canonical dtypes) of a code frame, sorted by
    time, ids numbered from ``first_id``; sentiment and lineage are left null for ingest.

    A reply's ``parent_id`` and ``thread_id`` are its parent's id (every parent opens its
    thread); customers are ``cust-<number>``; our brand's handles are ``care_handle`` and
    ``main_handle``.
    """
    order = np.argsort(codes["t"].to_numpy(), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    c = {col: codes[col].to_numpy()[order] for col in codes.columns}
    number = first_id + np.arange(len(order))
    parent = np.where(c["parent"] >= 0, first_id + rank[np.maximum(c["parent"], 0)], -1)
    channel = pc.take(pa.array(schema.CHANNELS, pa.string()), pa.array(c["channel"]))
    handles = pa.array([h for b in brands for h in (care_handle(b), main_handle(b))], pa.string())
    author = c["author"]
    brand_author = pc.take(handles, pa.array(2 * c["brand"] + (author == MAIN_AUTHOR)))
    customer = join_strings(pa.array(["cust"] * len(author), pa.string()), author, "-")
    parent_id = join_strings(channel, np.maximum(parent, 0), ":")
    created = pd.Series(c["t"].astype("datetime64[s]")).dt.tz_localize("UTC")
    return pd.DataFrame(
        {
            "id": as_string(join_strings(channel, number, ":")),
            "channel": as_string(channel),
            "brand": take_strings(pa.array(brands, pa.string()), c["brand"]),
            "direction": take_strings(pa.array(schema.DIRECTIONS, pa.string()), c["direction"]),
            "thread_id": as_string(
                join_strings(channel, np.where(parent >= 0, parent, number), ":")
            ),
            "parent_id": as_string(pc.if_else(pa.array(parent >= 0), parent_id, None)),
            "author_id": as_string(pc.if_else(pa.array(author >= 0), customer, brand_author)),
            "created_at": created.array,
            "text": take_strings(vocab.texts, c["text"]),
            "rating": nullable_int(c["rating"]),
            "nps": nullable_int(np.full(len(order), -1)),
            "csat": nullable_int(np.full(len(order), -1)),
            "rated_channel": pd.array([pd.NA] * len(order), dtype="string"),
            **{col: nullable_int(c[col]) for col in schema.COUNTS},
            "wait_s": nullable_float(c["wait_s"]),
            "handle_s": nullable_float(c["handle_s"]),
            "outcome": take_strings(pa.array(schema.OUTCOMES, pa.string()), c["outcome"]),
            "sentiment": nullable_float(np.full(len(order), np.nan)),
            "p_negative": nullable_float(np.full(len(order), np.nan)),
            "p_neutral": nullable_float(np.full(len(order), np.nan)),
            "p_positive": nullable_float(np.full(len(order), np.nan)),
            "source_file": as_string(pa.nulls(len(order), pa.string())),
            "ingested_at": pd.Series(pd.NaT, index=range(len(order)), dtype=created.dtype),
        }
    )


def slug(name: str) -> str:
    """``Northwind Mobile`` -> ``northwind-mobile``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def care_handle(brand: str) -> str:
    """The author id of a brand's customer-care replies, e.g. ``northwind-mobile-care``."""
    return f"{slug(brand)}-care"


def main_handle(brand: str) -> str:
    """The author id of a brand's own posts, e.g. ``northwind-mobile``."""
    return slug(brand)


def code_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate code frames, nulls as -1 in integer columns and NaN in the others."""
    frame = pd.concat(parts, ignore_index=True)
    for col in (*INT_CODES, "wait_s", "handle_s"):
        if col not in frame.columns:
            frame[col] = np.nan
    ints = {col: frame[col].fillna(-1).astype(np.int64) for col in INT_CODES}
    return frame.assign(**ints)


# ---------------------------------------------------------------------------- public


def parse_end(end: str | dt.datetime | None) -> pd.Timestamp:
    """The last timestamp of the demo data, UTC, to the second.

    None is now, floored to the hour. A string is ``YYYY-MM-DD`` (midnight UTC) or
    ``YYYY-MM-DDTHH:MM[:SS]`` (UTC unless it carries an offset); naive datetimes are UTC.
    """
    if end is None:
        return pd.Timestamp.now(tz="UTC").floor("h")
    if isinstance(end, str):
        if not _END.match(end.strip()):
            raise ParamsError(
                f"--end: expected a UTC time as YYYY-MM-DD or YYYY-MM-DDTHH:MM, got {end!r}"
            )
        try:
            stamp = pd.Timestamp(end.strip())
        except ValueError as err:
            raise ParamsError(f"--end: {err} (got {end!r})") from None
    elif isinstance(end, dt.datetime):
        stamp = pd.Timestamp(end)
    else:
        raise ParamsError(f"--end: expected a date or time, got {type(end).__name__}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("s")


def generate(
    rows: int,
    seed: int,
    end: str | dt.datetime | None,
    brand: BrandParams,
    chunk_rows: int = MAX_CHUNK_ROWS,
    days: int = SPAN_DAYS,
) -> Iterator[pd.DataFrame]:
    """About ``rows`` canonical demo rows over the ``days`` days before ``end``, as
    consecutive time chunks (each under about ``chunk_rows`` rows), every ``created_at``
    at or before ``end``.

    Same ``rows``, ``seed``, ``end``, ``days`` and brand params give the same data. Ids are
    ``<channel>:<n>``, unique across chunks; ``sentiment`` and lineage are left to ingest.
    """
    if rows <= 0:
        raise ParamsError(f"rows: expected a positive number, got {rows}")
    if days < 2 * OUTAGE_DAYS_BEFORE_END:
        raise ParamsError(f"days: expected at least {2 * OUTAGE_DAYS_BEFORE_END}, got {days}")
    stamp = parse_end(end)
    brands = [brand.brand, *brand.competitors]
    vocab = build_vocabulary(brands)
    rng = np.random.default_rng([seed, 0])
    cal = build_calendar(stamp, brand.timezone, rng, days)
    outage_share = cal.weights["outage"].sum() / cal.weights["social"].sum()
    streams = plan_streams(rows, brands, outage_share)
    population = int(np.clip(rows // 2, 1_000, MAX_POPULATION))
    viral = viral_mention(rng, cal, vocab, population)
    viral_bin = (int(viral["t"].iloc[0]) - cal.start_s) // 3600
    opted_out = opted_out_messages(rng, cal, vocab)
    opted_out_bins = (opted_out["t"] - cal.start_s) // 3600
    edges = chunk_edges(streams, cal, chunk_rows)
    first_id = 1
    for number, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True), start=1):
        chunk_rng = np.random.default_rng([seed, number])
        base = draw_primaries(chunk_rng, streams, cal, int(lo), int(hi))
        kind = base["kind"]
        inbound = fill_inbound(
            chunk_rng, base[kind.isin(["message", "review", "outage"])], vocab, cal, population
        )
        social = fill_social(chunk_rng, base[kind.isin(["mention", "post"])], vocab, population)
        calls = fill_calls(chunk_rng, base[kind == "call"], population)
        in_chunk = opted_out[(opted_out_bins >= lo) & (opted_out_bins < hi)]
        inbound = pd.concat([inbound, in_chunk], ignore_index=True)
        replies = draw_replies(chunk_rng, inbound, vocab, cal.end_s)
        extra = [viral] if lo <= viral_bin < hi else []
        # inbound first: the replies' parent positions index into it
        codes = code_frame([inbound.drop(columns="delay"), replies, social, calls, *extra])
        yield to_canonical(codes, brands, vocab, first_id)
        first_id += len(codes)


def write_demo(
    out_dir: Path,
    rows: int = 300_000,
    seed: int = 7,
    end: str | dt.datetime | None = None,
    *,
    brand: BrandParams,
    days: int = SPAN_DAYS,
) -> list[Path]:
    """Write the demo data to ``out_dir/demo-0001.parquet``... and return their paths.

    Old ``demo-*.parquet`` files in ``out_dir`` are removed first; each chunk is written,
    then freed, so memory stays bounded however many rows are asked for.
    """
    stamp = parse_end(end)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.glob("demo-*.parquet")):
        old.unlink()
    paths = []
    for number, frame in enumerate(generate(rows, seed, stamp, brand, days=days), start=1):
        path = out_dir / f"demo-{number:04d}.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        paths.append(path)
    return paths
