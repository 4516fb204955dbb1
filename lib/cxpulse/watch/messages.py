"""What one notification says: the plain record kept in the outbox, its e-mail and its
webhook JSON. Pure.

A notification is one event (``episodes.Event``) for one list; its ``key``
(``<episode>:<kind>:<list>``) is its idempotency key: the sent log holds each key and
channel at most once, the e-mail's Message-ID and the webhook's ``Idempotency-Key`` header
are made from it. Customer text is escaped where it lands: autoescaped HTML in the e-mail,
Slack's ``&``, ``<``, ``>`` in the webhook; its PII was masked at ingest and is masked again
here (``ingest.mask_text``).
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import format_datetime

import pandas as pd

from cxpulse.config import DistributionParams
from cxpulse.deliver import _TEMPLATES, header_text, new_message
from cxpulse.formatting import visible_controls
from cxpulse.ingest import mask_text
from cxpulse.watch import episodes as ep
from cxpulse.watch import params as wp
from cxpulse.watch import rules

LINES = 10
"""Items listed by name in one notification; the rest are counted."""


def lists_for(kind: str, rule: wp._Rule) -> list[str]:
    """The lists told of an event: the rule's, or its escalation lists."""
    if kind == ep.ESCALATION:
        return list(rule.escalate.notify)  # type: ignore[attr-defined]
    return list(rule.notify)


def headline(kind: str, group: list[dict], rule: wp._Rule) -> tuple[str, list[str]]:
    """(subject line, lines of the body) of an event of the episodes ``group`` (one for a
    flow rule; the items one run found for a rule about messages)."""
    first, signal = group[0], group[0]["signal"]
    if kind == ep.RESOLVED:
        title = f"Resolved: {first['rule']} after {ep.lasted(first)}, {ep.peak_text(first)}"
        lines = [
            f"The episode that began {first['started_at']} ended {first['ended_at']} "
            f"(UTC); it lasted {ep.lasted(first)}, {ep.peak_text(first)}.",
            f"Last seen: {signal['summary']}.",
        ]
        return title, lines
    lines = [f"{e['signal']['summary']}." for e in group[:LINES]]
    if len(group) > LINES:
        lines.append(f"… and {len(group) - LINES} more.")
    what = signal["summary"] if len(group) == 1 else f"{len(group)} new"
    if kind == ep.ESCALATION:
        after = ep.hours_minutes(rule.escalate.after_min * 60)  # type: ignore[attr-defined]
        return f"Escalated: {first['rule']}, still unanswered {after} after the alert ({what})", [
            *lines,
            f"First alerted {first['started_at']} (UTC).",
        ]
    return f"{first['rule']}: {what}", lines


def group_key(kind: str, group: list[dict], name: str) -> str:
    """The idempotency key of the notification of ``group`` to list ``name``."""
    if len(group) == 1:
        return f"{group[0]['id']}:{kind}:{name}"
    digest = hashlib.sha256("|".join(sorted(e["id"] for e in group)).encode()).hexdigest()[:8]
    return f"{group[0]['id'].rsplit('-', 1)[0]}-{digest}:{kind}:{name}"


def notifications(
    kind: str,
    group: list[dict],
    rule: wp._Rule,
    alerts: wp.AlertsParams,
    tz: str,
    now: pd.Timestamp,
    link: str | None,
) -> list[dict]:
    """One outbox record per list told of ``kind`` for the episodes ``group`` (one rule,
    one run), each with ``not_before`` from that list's quiet hours
    (``episodes.release_time``)."""
    title, lines = headline(kind, group, rule)
    first = group[0]
    shown = [m for e in group for m in e["signal"]["messages"]][: rules.ITEMS_SHOWN + 2]
    figures = first["signal"]["figures"] if len(group) == 1 else {"count": len(group)}
    records = []
    for name in lists_for(kind, rule):
        alert_list = alerts.lists[name]
        release = ep.release_time(now, first["severity"], alert_list.quiet_hours, tz)
        records.append(
            {
                "key": group_key(kind, group, name),
                "kind": kind,
                "episode": first["id"],
                "episodes": [e["id"] for e in group],
                "items": [e["item"] for e in group if e["item"]],
                "rule": first["rule"],
                "item": first["item"],
                "severity": first["severity"],
                "first_seen": first["started_at"],
                "resolved_at": first["ended_at"],
                "peak": first["peak"],
                "unit": first["unit"],
                "list": name,
                "to": list(alert_list.to),
                "webhook_env": alert_list.webhook_env,
                "made_at": ep.iso(now),
                "not_before": ep.iso(release),
                "title": title,
                "lines": lines,
                "figures": figures,
                "messages": [{**m, "text": mask_text(m["text"])} for m in shown],
                "link": link,
            }
        )
    return records


def message_id(key: str, sender_domain: str) -> str:
    """The same Message-ID for the same notification, whoever builds it: a receiving
    server that sees it twice can drop the second."""
    return f"<alert-{hashlib.sha256(key.encode()).hexdigest()[:24]}@{sender_domain}>"


def build_email(
    record: dict, params: DistributionParams, brand: str, now: pd.Timestamp
) -> EmailMessage:
    """The e-mail of an outbox record: plain text and HTML (autoescaped)."""
    severity = "" if record["kind"] == ep.RESOLVED else f"[{record['severity']}] "
    subject = header_text(f"[cxpulse] {severity}{brand} · {record['title']}")
    message = new_message(params, record["to"], [], subject, now)
    domain = params.sender.rsplit("@", 1)[1].rstrip(">")
    message.replace_header("Message-ID", message_id(record["key"], domain))
    message.replace_header("Date", format_datetime(now.to_pydatetime()))
    message["X-Cxpulse-Alert"] = record["key"]
    context = {
        "brand": brand,
        "headline": record["title"],
        "severity": record["severity"],
        "rule": record["rule"],
        "lines": record["lines"],
        "figures": record["figures"],
        "messages": record["messages"],
        "link": record["link"],
        "episode": record["episode"],
        "key": record["key"],
    }
    message.set_content(_TEMPLATES.get_template("alert.txt.j2").render(context))
    message.add_alternative(
        _TEMPLATES.get_template("alert.html.j2").render(context), subtype="html"
    )
    return message


def slack_escape(text: object) -> str:
    """``text`` safe inside Slack/Teams mrkdwn: ``&``, ``<``, ``>`` escaped (a customer
    cannot write a link or a mention), control and bidi characters shown."""
    return visible_controls(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_payload(record: dict, brand: str) -> dict:
    """The incoming-webhook JSON (Slack and Microsoft Teams accept ``text``; Slack also
    draws ``blocks``): title, figures, the few messages behind it, the daily brief link."""
    title = slack_escape(f"{brand} · {record['title']}")
    figures = ", ".join(f"{k}: {slack_escape(v)}" for k, v in record["figures"].items())
    behind = [
        f"• {slack_escape(m['created_at'])} {slack_escape(m['channel'])}"
        + (f" (reach {m['reach']:,})" if "reach" in m else "")
        + f": {slack_escape(m['text'])}"
        for m in record["messages"]
    ]
    link = f"<{record['link']}|Last daily brief>" if record["link"] else ""
    text = "\n".join(filter(None, [f"*{title}*", figures, *behind, link]))
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}}]
    if figures:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": figures}})
    if behind:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(behind)}})
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    return {
        "text": text,
        "blocks": blocks,
        "cxpulse": {
            "key": record["key"],
            "kind": record["kind"],
            "episode": record["episode"],
            "rule": record["rule"],
            "severity": record["severity"],
            "figures": record["figures"],
        },
    }
