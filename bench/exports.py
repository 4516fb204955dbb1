"""Seeded synthetic exports for the ingest benchmark: a TWCS-format CSV and a reviews CSV.

Nothing here is copied from the real samples; the shapes are.

- TWCS (``twcs.csv``): threads between numeric customer handles and about twenty company
  accounts. A customer tweet names the company (``@NorthwindCare my broadband ...``); the
  company answers most of them, from a few dozen templates per company, addressed to the
  customer and signed by one of a few agents (``@104233 Sorry to hear that ... ^JK``), as
  real care teams do; some customers answer back and get a second reply. Ids are whole
  numbers, parent ids are written as floats (``3.0``), ``response_tweet_id`` lists the
  replies, timestamps look like ``Tue Oct 31 22:10:47 +0000 2017``, a leading unnamed
  index column is there, and a few tweets hold a line break (quoted).
- Reviews (``reviews.csv``): Trustpilot-style columns ``id, filtered, pending, text,
  rating, title, likes, experienced, published, source``; J-shaped stars, text whose tone
  follows the stars, a title, several sentences, and about one review in nine written in
  paragraphs (a quoted field over several lines).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

SPAN_DAYS = 400
COMPANIES = (
    "NorthwindCare", "ContosoHelp", "FabrikamSupport", "TailspinAir", "WoodgroveBank",
    "AdventureWorks", "LitwareHelp", "ProseWareCare", "FourthCoffee", "AlpineSkiHouse",
    "BlueYonderAir", "CohoWinery", "HumongousIns", "LucernePub", "MargiesTravel",
    "NodPublishers", "WideWorldImp", "TreyResearch", "GraphicDesign", "SouthridgeVid",
)  # fmt: skip
COMPANY_WEIGHTS = 1.0 / np.arange(1, len(COMPANIES) + 1) ** 0.8

GREETING = ("", "hi ", "hello ", "hey ", "so ", "um ")
THING = ("my broadband", "the app", "my bill", "my flight", "my order", "the wifi",
         "my card", "my account", "the website", "my refund", "my parcel", "my booking",
         "the router", "my phone", "my subscription", "checkout")  # fmt: skip
PROBLEM = ("has been down since this morning", "keeps crashing", "is wrong again",
           "still hasn't arrived", "was cancelled without notice", "won't load",
           "charged me twice", "is painfully slow", "stopped working after the update",
           "says my password is wrong", "has been stuck for days",
           "is fine now thanks")  # fmt: skip
FEELING = ("", " this is ridiculous", " really disappointed", " any ideas?", " please help",
           " absolutely furious", " not impressed", " thanks in advance", " seriously??",
           " love you guys but come on", " great service as always", " :(", " 😡",
           " 🙏")  # fmt: skip
FOLLOW_UP = ("done, sent you a DM", "still waiting", "thanks that worked!", "no it didn't help",
             "ok will try that", "that's what I did already", "brilliant, sorted",
             "why does this keep happening", "DM sent", "cheers")  # fmt: skip
REPLY_TEMPLATES = (
    "Sorry to hear that! Please send us a DM with your account details and we'll take a look.",
    "We're sorry for the trouble. Can you tell us a little more about what's happening?",
    "Thanks for reaching out. We'd love to help, please DM us your order number.",
    "That's not the experience we want for you. Let's get this sorted in DM.",
    "Hi there, we're aware of an issue in your area and our engineers are working on it.",
    "Glad to hear it's working now! Let us know if there's anything else we can do.",
    "We understand how frustrating this must be. Please follow the link to reset it.",
    "Thanks for your patience. Your refund has been processed and should arrive soon.",
    "Could you try restarting the device and let us know if that helps?",
    "We've passed this on to the team. You'll hear back from us within 24 hours.",
    "So sorry about the wait! We're looking into this for you now.",
    "Happy to help! Please check your DMs, we've sent you the next steps.",
)
AGENTS = ("AB", "JK", "MR", "TS", "LW", "PD", "EC", "NH")

TITLES = {
    1: ("Avoid!", "Terrible service", "Never again", "Scam", "Worst company ever"),
    2: ("Disappointing", "Not great", "Slow claims", "Could be better"),
    3: ("It's ok", "Average", "Mixed feelings", "Fine I guess"),
    4: ("Good value", "Pretty good", "Helpful staff", "Happy overall"),
    5: ("Excellent!", "Highly recommend", "Great experience", "Five stars", "Amazing service"),
}
SENTENCES = {
    1: (
        "They denied {pet}'s claim after {n} weeks of waiting.",
        "Nobody ever calls back.",
        "I was charged ${n} twice and they refuse to refund me.",
        "{staff} on the phone was rude and useless.",
        "Cancelled my policy the moment {pet} needed surgery.",
        "Do not trust this company.",
    ),
    2: (
        "The claim for {pet} took {n} days, far too long.",
        "Support was slow to answer.",
        "Premiums went up ${n} without explanation.",
        "The app is confusing.",
    ),
    3: (
        "The process was ok but slow.",
        "{staff} was helpful, others not.",
        "Price is average for what you get: ${n} a month for {pet}.",
        "Nothing special.",
    ),
    4: (
        "The claim for {pet} was paid within {n} days.",
        "{staff} was friendly and helpful.",
        "Good coverage for ${n} a month.",
        "The app makes it easy to submit receipts.",
    ),
    5: (
        "They paid {pet}'s claim in {n} days!",
        "Wonderful, caring staff, thank you {staff}.",
        "Best decision I made for {pet}.",
        "Fast, fair and friendly.",
        "I recommend them to everyone.",
        "Absolutely fantastic support.",
    ),
}
PETS = (
    "Bella",
    "Max",
    "Luna",
    "Charlie",
    "Daisy",
    "Milo",
    "Coco",
    "Rocky",
    "Bailey",
    "Lucy",
    "Cooper",
    "Sadie",
    "Tucker",
    "Molly",
    "Bear",
    "Rosie",
    "Duke",
    "Zoe",
    "Ollie",
    "Penny",
    "my dog",
    "my cat",
    "our puppy",
    "our kitten",
    "my old lab",
)
STAFF = (
    "Sam",
    "Chase",
    "Priya",
    "Jordan",
    "Alex",
    "Maria",
    "Tom",
    "Aisha",
    "Ben",
    "Kim",
    "the agent",
    "the vet liaison",
    "the manager",
)
SITES = ("northwindpet", "contosopaws", "fabrikamvet", "tailwagins", "woodgrovepets",
         "adventurecover", "litwarepet", "prosewarepaws", "fourthpet", "alpinevet")  # fmt: skip
RATING_P = (0.20, 0.07, 0.09, 0.17, 0.47)


def _times(rng: np.random.Generator, n: int, end: pd.Timestamp) -> np.ndarray:
    """``n`` instants (epoch seconds) over ``SPAN_DAYS`` before ``end``, busier by day."""
    days = rng.integers(0, SPAN_DAYS, n)
    hour = rng.choice(24, n, p=_HOURLY / _HOURLY.sum())
    seconds = rng.integers(0, 3600, n)
    start = int(end.timestamp()) - SPAN_DAYS * 86_400
    return start + days * 86_400 + hour * 3600 + seconds


_HOURLY = np.array(
    [3, 2, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 10, 9, 9, 9, 9, 10, 10, 9, 8, 6, 4], dtype=float
)


def _twitter_time(epoch: np.ndarray) -> pa.Array:
    stamps = pa.array(epoch.astype("datetime64[s]"))
    return pc.strftime(stamps, format="%a %b %d %H:%M:%S +0000 %Y")


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def twcs_frame(rows: int, seed: int = 11, end: str = "2026-11-20T08:00") -> pd.DataFrame:
    """About ``rows`` tweets in TWCS columns (see the module docstring), in thread order."""
    rng = np.random.default_rng(seed)
    end_ts = pd.Timestamp(end, tz="UTC")
    # A thread: inbound, reply (85 %), follow-up (35 % of answered), second reply (80 %).
    threads = max(1, int(rows / 2.2) + 10)
    answered = rng.random(threads) < 0.85
    follow = answered & (rng.random(threads) < 0.35)
    second = follow & (rng.random(threads) < 0.8)
    sizes = 1 + answered + follow + second
    threads = min(len(sizes), int(np.searchsorted(np.cumsum(sizes), rows)) + 1)
    sizes, answered, follow, second = (a[:threads] for a in (sizes, answered, follow, second))
    total = int(sizes.sum())
    thread = np.repeat(np.arange(threads), sizes)
    step = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # 0..3 in a thread
    ids = np.arange(1, total + 1)

    company = rng.choice(len(COMPANIES), threads, p=COMPANY_WEIGHTS / COMPANY_WEIGHTS.sum())
    customer = 100_000 + rng.integers(0, max(1_000, threads // 2), threads)
    start = _times(rng, threads, end_ts - pd.Timedelta(days=2))
    delays = np.exp(rng.normal(np.log(1_800), 1.2, (threads, 3))).astype(np.int64) + 30
    offsets = np.zeros((threads, 4), dtype=np.int64)
    offsets[:, 1:] = np.cumsum(delays, axis=1)
    created = start[thread] + offsets[thread, step]

    inbound = step % 2 == 0
    author = np.where(inbound, customer[thread].astype(str), np.asarray(COMPANIES)[company[thread]])
    parent = np.where(step > 0, ids - 1, 0)
    has_reply = np.zeros(total, dtype=bool)
    has_reply[:-1] = (step[1:] > 0) & (thread[1:] == thread[:-1])
    response = np.where(has_reply, (ids + 1).astype(str), "")

    handle = np.asarray(COMPANIES, dtype=object)[company[thread]]
    order = rng.integers(10_000, 99_999, total).astype(str)
    customer_text = (
        "@" + handle + " " + _pick(rng, GREETING, total) + _pick(rng, THING, total) + " "
        + _pick(rng, PROBLEM, total) + np.where(rng.random(total) < 0.3, " order " + order, "")
        + _pick(rng, FEELING, total)
    )  # fmt: skip
    follow_text = "@" + handle + " " + _pick(rng, FOLLOW_UP, total)
    # Each company uses a dozen templates, some far more than others.
    template = (company[thread] + rng.zipf(1.6, total)) % len(REPLY_TEMPLATES)
    reply_text = (
        "@" + customer[thread].astype(str) + " "
        + np.asarray(REPLY_TEMPLATES, dtype=object)[template]
        + " ^" + _pick(rng, AGENTS, total)
    )  # fmt: skip
    text = np.where(step == 0, customer_text, np.where(inbound, follow_text, reply_text))
    broken = rng.random(total) < 0.005
    text = np.where(broken, text + "\nsent from my phone", text)
    frame = pd.DataFrame(
        {
            "": np.arange(total),
            "tweet_id": ids,
            "author_id": author,
            "inbound": np.where(inbound, "True", "False"),
            "created_at": _twitter_time(created).to_numpy(zero_copy_only=False),
            "text": text,
            "response_tweet_id": response,
            "in_response_to_tweet_id": np.where(parent > 0, parent.astype(str) + ".0", ""),
        }
    )
    return frame.head(rows)


def reviews_frame(rows: int, seed: int = 13, end: str = "2026-11-20T08:00") -> pd.DataFrame:
    """``rows`` reviews in Trustpilot columns (see the module docstring)."""
    rng = np.random.default_rng(seed)
    end_ts = pd.Timestamp(end, tz="UTC")
    rating = rng.choice(np.arange(1, 6), rows, p=RATING_P)
    n_sentences = rng.integers(1, 6, rows)
    paragraphs = rng.random(rows) < 0.11
    texts = []
    picks = rng.integers(0, 1 << 30, (rows, 6))
    for stars, count, para, pick in zip(rating, n_sentences, paragraphs, picks, strict=True):
        pool = SENTENCES[stars]
        first = int(pick[0])
        slots = {
            "pet": PETS[first % len(PETS)],
            "staff": STAFF[int(pick[5]) % len(STAFF)],
            "n": int(pick[5]) % 400 + 2,
        }
        parts = [pool[(first + k * (1 + int(pick[k]) % 5)) % len(pool)] for k in range(count)]
        texts.append(("\n\n" if para else " ").join(dict.fromkeys(parts)).format(**slots))
    titles = np.array(
        [TITLES[s][p % len(TITLES[s])] for s, p in zip(rating, picks[:, 0], strict=True)]
    )
    published = _times(rng, rows, end_ts - pd.Timedelta(days=1)).astype("datetime64[s]")
    experienced = published.astype("datetime64[D]") - rng.integers(0, 10, rows)
    site = _pick(rng, SITES, rows)
    page = rng.integers(1, 400, rows).astype(str)
    return pd.DataFrame(
        {
            "id": [f"{v:024x}" for v in rng.integers(0, 1 << 62, rows)],
            "filtered": "False",
            "pending": "False",
            "text": texts,
            "rating": rating,
            "title": titles,
            "likes": rng.poisson(0.3, rows),
            "experienced": pd.to_datetime(experienced).strftime("%Y-%m-%dT00:00:00.000Z"),
            "published": pd.to_datetime(published).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "source": "https://www.trustpilot.com/review/www." + site + ".com?page=" + page,
        }
    )


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as a CSV quoted only where needed (as pandas and the sites write them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
    options = pa_csv.WriteOptions(quoting_style="needed")
    tmp = path.with_suffix(".tmp")
    pa_csv.write_csv(table, tmp, write_options=options)
    tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["twcs", "reviews"])
    parser.add_argument("rows", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    frame = twcs_frame(args.rows) if args.kind == "twcs" else reviews_frame(args.rows)
    write_csv(frame, args.out)
    print(f"{args.out}: {len(frame):,} rows")


if __name__ == "__main__":
    main()
