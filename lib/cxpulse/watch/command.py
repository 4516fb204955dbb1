"""``cxpulse watch``: one run, every few minutes from cron, under the delivery lock.

A short linear pipeline: take the delivery lock (``deliver.hold_lock``; one process a
run), load the inbox (as ``send --ingest``), settle what a killed run left (``recover``),
evaluate the rules on the recent window (``rules``), advance the episodes (``episodes``),
write the state with its outbox atomically, then deliver each notification that is due
(quiet hours) by e-mail (``deliver``'s SMTP settings and retries of distribution.yaml)
and webhook, and record it.

Under ``reports/``:

- ``alerts/state.json``: the open episodes and the outbox of notifications not yet
  delivered on every channel (written whole, atomically: a crash leaves the old or the new);
- ``alerts/log.jsonl``: one line per notification and channel delivered (or an item's
  episode ended), keyed by the notification's idempotency key: a key and channel found
  there is never sent again;
- ``alerts/sending/``: a journal file exists exactly while one attempt to hand a
  notification to the SMTP server or the webhook is under way. A run killed in that
  moment leaves it; the next run cannot know whether the server took the message, and
  records it as ``unconfirmed`` rather than send it a second time (the window is one
  SMTP or HTTP exchange; an attempt that failed removes its file and is retried);
- ``outbox/alert-*.eml``: each e-mail before it is sent; moved to ``sent/`` when it went.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd

from cxpulse import config, deliver
from cxpulse.deliver import DeliveryError
from cxpulse.metrics.command import open_table
from cxpulse.watch import episodes as ep
from cxpulse.watch import messages, rules
from cxpulse.watch import params as wp

log = logging.getLogger("cxpulse.watch")

STATE = "alerts/state.json"
LOG = "alerts/log.jsonl"
JOURNAL = "alerts/sending"
EMAIL, WEBHOOK, RECORD = "email", "webhook", "record"


@dataclass(frozen=True)
class WatchOutcome:
    """What a run did, in one line; exit code 1 when a notification could not be delivered."""

    sent: int
    waiting: int
    failed: list[str]
    episodes: int

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def summary(self) -> str:
        parts = [f"{self.sent} notification(s) sent", f"{self.episodes} episode(s) open"]
        if self.waiting:
            parts.append(f"{self.waiting} waiting (quiet hours or retry next run)")
        parts += [f"not delivered: {f}" for f in self.failed]
        return "watch: " + "; ".join(parts)


# Files.


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` whole or not at all (temporary file, fsync,
    rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_state(reports_dir: Path) -> dict:
    path = reports_dir / STATE
    if not path.exists():
        return {"episodes": {}, "outbox": []}
    return json.loads(path.read_text(encoding="utf-8"))


def read_log(reports_dir: Path) -> list[dict]:
    """Every line of ``alerts/log.jsonl`` (none when it does not exist)."""
    path = reports_dir / LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def journal_path(reports_dir: Path, key: str, channel: str) -> Path:
    return reports_dir / JOURNAL / f"{key.replace(':', '_').replace('/', '_')}.{channel}"


def log_entry(record: dict, channel: str, status: str, now: pd.Timestamp, **extra) -> dict:
    """The sent-log line of ``record`` on ``channel``."""
    fields = ("key", "kind", "episode", "episodes", "items", "rule", "item", "severity",
              "first_seen", "resolved_at", "peak", "unit", "list", "title")  # fmt: skip
    return {
        **{f: record.get(f) for f in fields},
        "channel": channel,
        "status": status,
        "at": ep.iso(now),
        **extra,
    }


def recover(reports_dir: Path, outbox: list[dict], now: pd.Timestamp) -> None:
    """Settle the journal a killed run left: a notification and channel without a log
    line was perhaps delivered; it is logged ``unconfirmed`` and not sent again."""
    folder = reports_dir / JOURNAL
    if not folder.exists():
        return
    done = {(e["key"], e["channel"]) for e in read_log(reports_dir)}
    by_file = {
        journal_path(reports_dir, r["key"], c).name: (r, c)
        for r in outbox
        for c in (EMAIL, WEBHOOK)
    }
    for path in sorted(folder.iterdir()):
        record, channel = by_file.get(path.name, (None, None))
        if record is not None and (record["key"], channel) not in done:
            log.warning(
                "%s by %s: the run that sent it was stopped during the send; it may have "
                "arrived, so it is not sent again (logged as unconfirmed)",
                record["key"],
                channel,
            )
            deliver.record_sent(reports_dir / LOG, log_entry(record, channel, "unconfirmed", now))
        path.unlink()


@contextlib.contextmanager
def journal(path: Path):
    """The journal file of one attempt: there while it runs; removed when it fails (the
    server did not take it), kept by a kill; the caller removes it once logged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as out:
        out.flush()
        os.fsync(out.fileno())
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


# Webhook.


def post_json(url: str, payload: dict, key: str, timeout_s: float) -> None:
    """POST ``payload`` as JSON once; ``OSError`` (``HTTPError`` for a non-2xx answer)
    when it fails. ``Idempotency-Key`` carries the notification's key."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": key,
                 "User-Agent": "cxpulse-watch"},
        method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) only
        response.read()


def webhook_transient(err: OSError) -> bool:
    """Worth retrying: no answer, or 408, 429 or 5xx; another HTTP answer is final."""
    if isinstance(err, urllib.error.HTTPError):
        return err.code in (408, 429) or err.code >= 500
    return True


def describe_webhook_error(err: OSError) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return f"{type(err).__name__}: {err.reason}"
    return f"{type(err).__name__}: {err}"


# Delivery.


@dataclass
class Sender:
    """Delivers outbox records on their channels, each key and channel once."""

    reports_dir: Path
    params: config.DistributionParams
    credentials: tuple[str, str] | None
    brand: str
    environ: Mapping[str, str]
    done: set

    def once(self, record: dict, channel: str, now: pd.Timestamp) -> bool:
        """Send ``record`` on ``channel`` unless the log has it; log it. False when it
        could not be delivered (it stays in the outbox)."""
        if (record["key"], channel) in self.done:
            return True
        path = journal_path(self.reports_dir, record["key"], channel)

        def attempt(send_once: Callable[[], object]) -> object:
            with journal(path):
                return send_once()

        smtp = self.params.smtp
        try:
            if channel == EMAIL:
                message = messages.build_email(record, self.params, self.brand, now)
                eml = self.reports_dir / deliver.OUTBOX / f"alert-{path.stem}.eml"
                deliver.write_message(message, eml)
                deliver.deliver_message(
                    message, smtp, self.credentials,
                    send=lambda m, s, c: attempt(lambda: deliver.transmit(m, s, c)),
                )  # fmt: skip
                deliver.archive_message(eml, self.reports_dir / deliver.SENT, now)
                sent_to = record["to"]
            else:
                alert_list = wp.AlertList(to=record["to"], webhook_env=record["webhook_env"])
                url = wp.webhook_url(alert_list, self.environ)
                payload = messages.webhook_payload(record, self.brand)
                deliver.retry(
                    lambda: attempt(lambda: post_json(url, payload, record["key"], smtp.timeout_s)),
                    f"webhook of list {record['list']!r}",
                    smtp.attempts,
                    smtp.backoff_s,
                    webhook_transient,
                    describe_webhook_error,
                )
                sent_to = [f"webhook ({record['webhook_env']})"]
        except DeliveryError as err:
            log.error("%s by %s: %s; it stays in the outbox", record["key"], channel, err)
            return False
        deliver.record_sent(
            self.reports_dir / LOG, log_entry(record, channel, "sent", now, sent_to=sent_to)
        )
        self.done.add((record["key"], channel))
        path.unlink(missing_ok=True)
        log.info("%s: sent by %s to %s", record["key"], channel, ", ".join(sent_to))
        return True

    def deliver(self, record: dict, now: pd.Timestamp) -> bool:
        """Every channel of ``record``; True when all of them went."""
        if record["kind"] == "ended":
            if (record["key"], RECORD) not in self.done:
                entry = log_entry(record, RECORD, "recorded", now,
                                  answered_at=record.get("answered_at"))  # fmt: skip
                deliver.record_sent(self.reports_dir / LOG, entry)
                self.done.add((record["key"], RECORD))
            return True
        channels = [EMAIL, *([WEBHOOK] if record["webhook_env"] else [])]
        return all([self.once(record, channel, now) for channel in channels])


# Reading what the rules do not.


def answered_at(t: ibis.Table, brand: str, ids: list[str]) -> dict[str, str]:
    """The first reply of ``brand`` to each message of ``ids`` (ISO, UTC), where one exists."""
    if not ids:
        return {}
    replies = t.filter(t.direction == "outbound", t.brand == brand, t.parent_id.isin(ids))
    frame = replies.group_by("parent_id").aggregate(first=replies.created_at.min()).execute()
    return {row.parent_id: ep.iso(row.first) for row in frame.itertuples()}


def last_brief_link(reports_dir: Path, base_url: str | None) -> str | None:
    """The link to the HTML of the newest daily brief under ``reports/daily``."""
    briefs = sorted((reports_dir / "daily").glob("*/report.html"))
    if not briefs:
        return None
    label = briefs[-1].parent.name
    if base_url:
        return f"{base_url.rstrip('/')}/daily/{label}/report.html"
    return briefs[-1].absolute().as_uri()


def ended_record(episode: dict, answered: str | None) -> dict:
    """The outbox record of an item's episode that ended: only logged."""
    return {
        "key": f"{episode['id']}:ended", "kind": "ended", "episode": episode["id"],
        "rule": episode["rule"], "item": episode["item"], "severity": episode["severity"],
        "first_seen": episode["started_at"], "resolved_at": episode["ended_at"],
        "peak": episode["peak"], "unit": episode["unit"], "list": None,
        "title": episode["signal"]["summary"], "answered_at": answered, "not_before": None,
    }  # fmt: skip


# The run.


def group_events(events: list[ep.Event]) -> list[tuple[str, list[dict]]]:
    """Events of one run by (kind, rule), in order: a rule about messages that finds 30
    new ones sends one notification listing them, not 30."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for event in events:
        groups.setdefault((event.kind, event.episode["rule"]), []).append(event.episode)
    return [(kind, group) for (kind, _), group in groups.items()]


def watch(
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    *,
    now: pd.Timestamp | None = None,
    ingest_inbox: bool = True,
    environ: Mapping[str, str] = os.environ,
) -> WatchOutcome:
    """One ``cxpulse watch`` run at ``now`` (default: the clock)."""
    params_dir, reports_dir = Path(params_dir), Path(reports_dir)
    distribution = config.load_distribution(params_dir)
    alerts = wp.load_alerts(params_dir)
    brand_params = config.load_brand(params_dir)
    brand = alerts.brand or brand_params.brand
    credentials = deliver.read_credentials(distribution.smtp, environ)
    for name, alert_list in alerts.lists.items():
        with deliver.stage(f"reading the webhook of list {name!r}"):
            wp.webhook_url(alert_list, environ)
    with deliver.hold_lock(reports_dir, distribution.lock_wait_s):
        if ingest_inbox:
            deliver.load_inbox(warehouse, params_dir)
        now = pd.Timestamp.now(tz="UTC") if now is None else now.tz_convert("UTC")
        state = read_state(reports_dir)
        recover(reports_dir, state.get("outbox", []), now)
        t = open_table(warehouse)
        scope = rules.Scope(brand, brand_params)
        _, signals = rules.evaluate(t, alerts.rules, now, scope)
        by_name = {rule.name: rule for rule in alerts.rules}
        advanced, events = ep.advance(state, signals, alerts.rules, now)
        ended = [e.episode for e in events if e.kind == "ended"]
        replies = answered_at(t, brand, [e["item"] for e in ended])
        link = last_brief_link(reports_dir, alerts.report_url)
        outbox = list(state.get("outbox", []))
        for kind, group in group_events(events):
            if kind == "ended":
                outbox += [ended_record(e, replies.get(e["item"])) for e in group]
            else:
                rule = by_name[group[0]["rule"]]
                outbox += messages.notifications(
                    kind, group, rule, alerts, brand_params.timezone, now, link
                )
        write_json_atomic(reports_dir / STATE, {**advanced, "outbox": outbox})

        sender = Sender(
            reports_dir, distribution, credentials, brand, environ,
            {(e["key"], e["channel"]) for e in read_log(reports_dir)},
        )  # fmt: skip
        kept, failed, sent = [], [], 0
        for record in outbox:
            due = record["not_before"] is None or pd.Timestamp(record["not_before"]) <= now
            if due and sender.deliver(record, now):
                sent += record["kind"] != "ended"
            else:
                kept.append(record)
                if due:
                    failed.append(record["key"])
        write_json_atomic(reports_dir / STATE, {**advanced, "outbox": kept})
    return WatchOutcome(sent, len(kept) - len(failed), failed, len(advanced["episodes"]))


def parse_now(value: str | None) -> pd.Timestamp | None:
    """``--now`` as a UTC timestamp; ``ParamsError`` saying what was expected."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except ValueError:
        ts = None
    if ts is None or pd.isna(ts):
        raise config.ParamsError(f"--now: expected YYYY-MM-DDTHH:MM (UTC), got {value!r}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
