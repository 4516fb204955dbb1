"""Demo exports in the formats care teams download, for ``make demo``: Instagram Graph API
comments, a Zendesk Incremental Export of tickets and an NPS/CSAT survey CSV, so the demo
goes through the adapters (and their quarantine) the way real data does.

They add to ``demo.write_demo``'s canonical rows, for our brand only, over the same span:
comments on our Instagram posts and our replies; e-mail, web-form and chat tickets whose
first response is a public agent comment or, for most, only Zendesk's
``reply_time_in_minutes``; survey answers rating a chat, e-mail, phone or web-form contact,
with NPS lower for e-mail than for chat and a dip during the demo's outage. One record per
file is broken on purpose (a deleted comment, a ticket from a channel we do not read, an
NPS of 11), so the demo's quarantine shows what the adapters set aside.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxpulse.adapters import AdapterOptions
from cxpulse.adapters.fields import id_scope
from cxpulse.config import BrandParams
from cxpulse.demo import OUTAGE_DAYS_BEFORE_END, SPAN_DAYS, parse_end

PER_DAY = {"instagram": 5.0, "tickets": 9.0, "survey": 7.0}
"""Mean records a day of each export, for a demo of ``DEMO_ROWS`` rows (scaled with it)."""
DEMO_ROWS = 300_000
TICKET_CHANNELS = {"email": 0.55, "web": 0.25, "chat": 0.20}
"""Zendesk ``via.channel`` of the demo tickets, and their shares."""
REPLY_MEDIAN_MIN = {"instagram": 150.0, "email": 600.0, "web": 900.0, "chat": 3.0}
UNANSWERED = {"instagram": 0.2, "email": 0.05, "web": 0.08, "chat": 0.02}
WITH_COMMENTS = 0.25
"""Share of tickets whose export carries their comments (the rest: metrics only)."""
NPS_P = {  # P(score = 0..10) of a survey rating a contact on each channel
    "chat": (0.01, 0.01, 0.01, 0.02, 0.02, 0.03, 0.05, 0.08, 0.17, 0.25, 0.35),
    "phone": (0.02, 0.02, 0.02, 0.03, 0.04, 0.05, 0.07, 0.12, 0.18, 0.2, 0.25),
    "email": (0.04, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.14, 0.16, 0.14, 0.16),
    "webform": (0.03, 0.03, 0.03, 0.04, 0.05, 0.07, 0.09, 0.13, 0.17, 0.17, 0.19),
}
RATED_P = {"chat": 0.3, "phone": 0.3, "email": 0.3, "webform": 0.1}
OUTAGE_NPS_SHIFT = 3
"""During the outage's days survey answers are this many points lower (floored at 0)."""
COMMENTS = {
    "instagram": (
        "Love the new plan, thanks!",
        "My data stopped working again, can someone help?",
        "Still waiting for my refund after two weeks",
        "Great coverage on my trip",
        "Why was I charged twice this month?",
        "The app keeps logging me out",
    ),
    "ticket": (
        "I was charged twice for my bill",
        "Cannot activate my new SIM card",
        "Please cancel my contract at the end of the month",
        "My number transfer has not completed",
        "The roaming pack did not apply abroad",
        "How do I change my billing address?",
    ),
    "promoter": ("Quick and friendly, solved first time", "Great help, thank you", ""),
    "passive": ("Fine, took a while", "", "OK but I had to explain twice"),
    "detractor": (
        "Waited far too long for an answer",
        "Nobody answered my email",
        "Had to call three times, still not fixed",
        "",
    ),
}
REPLIES = {
    "instagram": "Sorry to hear that! Please send us a DM and we will sort it out.",
    "ticket": "Thanks for getting in touch. I have fixed this on our side.",
}


@dataclass(frozen=True)
class Export:
    """One demo export: its file, the format that reads it and the options to read it with."""

    path: Path
    fmt: str
    options: AdapterOptions


def write_exports(
    out_dir: Path,
    *,
    brand: BrandParams,
    rows: int = DEMO_ROWS,
    seed: int = 7,
    end: str | None = None,
) -> list[Export]:
    """Write the Instagram, Zendesk and survey exports of the demo span to ``out_dir``, as
    many records as ``PER_DAY`` says for a demo of ``rows`` canonical rows."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = parse_end(end)
    rng = np.random.default_rng(seed + 15)
    scale = rows / DEMO_ROWS
    start = stamp - pd.Timedelta(days=SPAN_DAYS)
    slug = id_scope(pd.Series([brand.brand])).iloc[0].replace("-", "")
    host = f"{slug}.zendesk.com"
    instagram = out_dir / "instagram_comments.json"
    instagram.write_text(json.dumps(instagram_pages(rng, start, stamp, slug, scale), indent=1))
    zendesk = out_dir / "zendesk_tickets.json"
    zendesk.write_text(json.dumps(zendesk_export(rng, start, stamp, host, scale), indent=1))
    survey = out_dir / "survey_responses.csv"
    survey.write_text(survey_csv(rng, start, stamp, scale), encoding="utf-8")
    return [
        Export(instagram, "instagram", AdapterOptions(accounts={slug: brand.brand})),
        Export(zendesk, "tickets", AdapterOptions(accounts={host: brand.brand})),
        Export(survey, "survey", AdapterOptions(brand=brand.brand)),
    ]


def times(rng: np.random.Generator, start: pd.Timestamp, end: pd.Timestamp, per_day: float):
    """Sorted random instants in ``[start, end)``, about ``per_day`` a day, busier by day."""
    days = (end - start).days
    n = int(rng.poisson(per_day * days))
    day = rng.integers(0, days, n)
    hour = np.clip(rng.normal(14, 4, n), 0, 23.99)
    at = start.floor("D") + pd.to_timedelta(day, "D") + pd.to_timedelta(hour, "h").floor("s")
    return sorted(t for t in at if start <= t < end)


def iso(ts: pd.Timestamp, offset: str = "Z") -> str:
    """``2024-03-04T09:15:22Z`` (or with ``+0000``, as the Graph API writes it)."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S") + offset


def reply_after(rng: np.random.Generator, at: pd.Timestamp, median_min: float, end):
    """The time of a reply a lognormal delay after ``at``; None when it comes after ``end``."""
    reply = at + pd.Timedelta(minutes=float(rng.lognormal(np.log(median_min), 0.9)))
    return reply if reply < end else None


def instagram_pages(rng, start, end, account: str, scale: float) -> list[dict]:
    """Graph API pages (``data``, ``paging``) of our media, each with its comments and our
    replies nested, ten media a page; the last comment has no time (deleted while the
    export ran)."""
    comments = times(rng, start, end, PER_DAY["instagram"] * scale)
    media_at = pd.date_range(start.ceil("D") + pd.Timedelta(hours=9), end, freq="3D")
    media = []
    for m, posted in enumerate(media_at):
        media.append(
            {
                "id": f"1790{m:011d}",
                "caption": "News from us: see what's new this week.",
                "media_type": "IMAGE",
                "timestamp": iso(posted, "+0000"),
                "username": account,
                "like_count": int(rng.integers(50, 900)),
                "comments_count": 0,
                "comments": {"data": []},
            }
        )
    for c, at in enumerate(comments):
        post = media[min(len(media) - 1, max(0, (at - media_at[0]) // pd.Timedelta(days=3)))]
        comment = {
            "id": f"1785{c:011d}",
            "text": str(rng.choice(COMMENTS["instagram"])),
            "timestamp": iso(at, "+0000"),
            "username": f"fan{int(rng.integers(1, 5000))}",
            "like_count": int(rng.integers(0, 12)),
        }
        reply = reply_after(rng, at, REPLY_MEDIAN_MIN["instagram"], end)
        if reply is not None and rng.random() >= UNANSWERED["instagram"]:
            answer = {"id": f"1786{c:011d}", "text": REPLIES["instagram"]}
            answer |= {"timestamp": iso(reply, "+0000"), "username": account, "like_count": 0}
            comment["replies"] = {"data": [answer]}
        post["comments"]["data"].append(comment)
        post["comments_count"] += 1
    media[-1]["comments"]["data"].append({"id": "1785deleted", "username": "ghost"})
    pages = [media[i : i + 10] for i in range(0, len(media), 10)]
    return [
        {"data": page, "paging": {"cursors": {"before": f"QVF{n}", "after": f"QVF{n + 1}"}}}
        for n, page in enumerate(pages)
    ]


def zendesk_export(rng, start, end, host: str, scale: float) -> dict:
    """One Incremental Export response: tickets, their metric sets, comments for some; the
    last ticket came by a channel the adapter does not read."""
    tickets, metric_sets = [], []
    channels = list(TICKET_CHANNELS)
    for n, at in enumerate(times(rng, start, end, PER_DAY["tickets"] * scale), start=1001):
        via = str(rng.choice(channels, p=list(TICKET_CHANNELS.values())))
        requester = int(rng.integers(100_000, 130_000))
        text = str(rng.choice(COMMENTS["ticket"]))
        ticket = {
            "url": f"https://{host}/api/v2/tickets/{n}.json",
            "id": n,
            "via": {"channel": via},
            "created_at": iso(at),
            "subject": text,
            "description": text,
            "status": "solved",
            "requester_id": requester,
        }
        reply = reply_after(rng, at, REPLY_MEDIAN_MIN[via], end)
        if rng.random() < UNANSWERED[via]:
            reply = None
        minutes = None if reply is None else round((reply - at).total_seconds() / 60)
        if reply is not None and rng.random() < WITH_COMMENTS:
            ticket["comments"] = [
                {"id": n * 10, "author_id": requester, "body": text, "public": True,
                 "created_at": iso(at)},
                {"id": n * 10 + 1, "author_id": 7001, "body": "Billing team, please check.",
                 "public": False, "created_at": iso(at)},
                {"id": n * 10 + 2, "author_id": 7001, "body": REPLIES["ticket"], "public": True,
                 "created_at": iso(reply)},
            ]  # fmt: skip
        tickets.append(ticket)
        calendar = {"calendar": minutes, "business": minutes}
        metric_sets.append({"ticket_id": n, "reply_time_in_minutes": calendar})
    tickets.append({**tickets[-1], "id": 999_999, "via": {"channel": "telegram"}})
    return {
        "tickets": tickets,
        "metric_sets": metric_sets,
        "after_cursor": "MTU3NjYxMzUzOS4wfHw0Njd8",
        "end_of_stream": True,
    }


def survey_csv(rng, start, end, scale: float) -> str:
    """Survey responses (response_id, submitted_at, nps, csat, comment, customer_id,
    channel); the last one scores 11."""
    outage = end.floor("D") - pd.Timedelta(days=OUTAGE_DAYS_BEFORE_END)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["response_id", "submitted_at", "nps", "csat", "comment", "customer_id",
                     "channel"])  # fmt: skip
    rated = list(RATED_P)
    for n, at in enumerate(times(rng, start, end, PER_DAY["survey"] * scale), start=1):
        channel = str(rng.choice(rated, p=list(RATED_P.values())))
        score = int(rng.choice(11, p=NPS_P[channel]))
        if outage <= at < outage + pd.Timedelta(days=3):
            score = max(0, score - OUTAGE_NPS_SHIFT)
        csat = "" if rng.random() < 0.3 else str(1 + min(4, score // 2))
        group = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        comment = str(rng.choice(COMMENTS[group]))
        customer = f"cust-{int(rng.integers(100_000, 130_000))}"
        writer.writerow([f"S{n:06d}", iso(at), score, csat, comment, customer, channel])
    writer.writerow(["S999999", iso(end - pd.Timedelta(hours=1)), 11, "", "", "", "chat"])
    return out.getvalue()
