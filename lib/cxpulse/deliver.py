"""E-mail a rendered report to its readers: send gate, outbox, SMTP with retries, sent log.

``send_report`` is one short linear pipeline: skip a period already sent, check the data
is fresh, render the report, check the run and its channels, build the message, write it
to the outbox, send it (retrying with backoff), record it in the sent log. When the gate
holds a report back or it cannot be delivered, the analyst gets a notice saying why
instead. ``send_scheduled`` is what ``cxpulse send`` runs around it (the delivery lock, the
inbox): once ``distribution.yaml`` is loaded, any failure at all reaches the analyst as a
one-line notice naming the stage, and the executives get nothing. Building messages and
the gate decisions are pure functions; the SMTP talk and the files are kept apart from them.

Under ``reports/``:

- ``outbox/``: every message is written here before it is sent; what stays was not sent
  (delivery failed, or a dry run);
- ``sent/``: the messages delivered (moved from the outbox), and ``sent/log.jsonl``, the
  sent log: one line per report delivered, keyed by cadence and period;
- ``.delivery.lock``: held by a scheduled run from ingest to send (``hold_lock``).

The SMTP user name and password come only from the environment variables named in
``distribution.yaml``; they are never written to a file or a log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mimetypes
import os
import smtplib
import socket
import ssl
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import TypeVar

import jinja2
import pandas as pd

from cxpulse import config, history, periods, render, warehouse
from cxpulse.config import DistributionParams, ParamsError, Recipients, SmtpParams
from cxpulse.demo import slug
from cxpulse.formatting import visible_controls
from cxpulse.warehouse import explain_error

log = logging.getLogger("cxpulse.deliver")

OUTBOX = "outbox"
SENT = "sent"
SENT_LOG = "sent/log.jsonl"
LOCK = ".delivery"

EXIT_CODES: dict[str, int] = {
    "sent": 0,
    "already sent": 0,
    "dry run": 0,
    "run failed": 1,
    "delivery failed": 1,
    "stopped": 2,
    "held back": 3,
}
"""The exit code of ``cxpulse send`` for each outcome."""

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cxpulse", "templates/email"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters["visible"] = visible_controls


_T = TypeVar("_T")


class DeliveryError(RuntimeError):
    """The message could not be handed to the SMTP server (after every retry)."""


@dataclass(frozen=True)
class Outcome:
    """What ``send_report`` did: a status among ``EXIT_CODES`` and one line saying why."""

    status: str
    detail: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def summary(self) -> str:
        return f"{self.status}: {self.detail}"


# The gate: pure decisions.


def check_freshness(
    latest: pd.Timestamp | None, period_end: pd.Timestamp, now: pd.Timestamp, max_age_hours: float
) -> str | None:
    """Why the data is too old for the report, or None when its newest timestamp is within
    ``max_age_hours`` of the end of the period (of ``now``, while the period runs)."""
    if latest is None:
        return "the warehouse holds no interactions"
    due = min(period_end, now)
    age_h = (due - latest).total_seconds() / 3600
    if age_h <= max_age_hours:
        return None
    what = "now" if due == now else "the end of the period"
    return (
        f"stale data: the newest interaction is from {latest:%Y-%m-%d %H:%M} UTC, "
        f"{age_h:,.1f} h before {what} (limit {max_age_hours:g} h); did the exports arrive?"
    )


def expected_channels(
    gate: list[str] | None, brand: config.BrandParams, warehouse_path: Path, end: pd.Timestamp
) -> list[str]:
    """The channels a report must have rows on: the gate's (distribution.yaml), else
    brand.yaml's, else those with rows of ours in the ``warehouse.RECENT_DAYS`` before
    ``end`` (the channels whose sources deliver: a channel never loaded is not expected,
    one that stopped is)."""
    if gate is not None:
        return gate
    if brand.channels is not None:
        return brand.channels
    with contextlib.closing(warehouse.connect(warehouse_path, read_only=True)) as con:
        return warehouse.recent_channels(con, brand.brand, end)


def check_channel_rows(rows_by_channel: Mapping[str, int], expected: list[str]) -> str | None:
    """Why the report is incomplete (expected channels without rows), or None."""
    missing = [c for c in expected if not rows_by_channel.get(c)]
    if not missing:
        return None
    return f"no rows in the report's window for expected channel(s): {', '.join(missing)}"


# Failures: which stage, said in one line.


@contextlib.contextmanager
def stage(what: str) -> Iterator[None]:
    """Note on any exception raised inside that it happened ``what`` ("while reading the
    warehouse"), unless an inner stage noted it first; ``describe_failure`` says it."""
    try:
        yield
    except Exception as err:
        if not getattr(err, "__notes__", None):
            err.add_note(f"while {what}")
        raise


FAILURE_CHARS = 600
"""The longest failure line a notice or the log gets."""


def describe_failure(
    err: BaseException, secrets: Sequence[str] = (), explained: str | None = None
) -> str:
    """One line for the analyst: the stage (``stage``), then ``explained`` (what went wrong
    and what to do, when known) or the error's type and the first line of its message (with
    how many more), control and bidi characters shown as ``[U+000A]``, each of ``secrets``
    as ``[secret]``, at most ``FAILURE_CHARS``."""
    lines = str(err).strip().splitlines() or [""]
    more = f" (and {len(lines) - 1} more line(s))" if len(lines) > 1 else ""
    where = "".join(f"{note}: " for note in getattr(err, "__notes__", [])[:1])
    text = f"{where}{explained or f'{type(err).__name__}: {lines[0]}{more}'}"
    for secret in filter(None, secrets):
        text = text.replace(secret, "[secret]")
    text = visible_controls(text)
    return text if len(text) <= FAILURE_CHARS else text[: FAILURE_CHARS - 1] + "…"


# Messages: pure builders.


def header_text(value: str) -> str:
    """``value`` fit for a header: each control character or line break is a space, so a
    header is one line whatever the params hold (they are checked when loaded, too)."""
    return "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value
    ).strip()


def format_subject(
    template: str, brand: str, title: str, cadence: str, period: periods.Period
) -> str:
    """The subject line from the ``distribution.yaml`` template."""
    return template.format(
        brand=brand,
        title=title,
        period=render.describe_period(period),
        label=period.label,
        cadence=cadence,
    )


def attachment_name(brand: str, cadence: str, label: str, suffix: str) -> str:
    """``northwind-mobile-daily-2026-03-19.pdf``: a name that still says what it is in a
    downloads folder."""
    return f"{slug(brand)}-{cadence}-{label}{suffix}"


def new_message(
    params: DistributionParams, to: list[str], cc: list[str], subject: str, now: pd.Timestamp
) -> EmailMessage:
    """An empty message with the headers every cxpulse e-mail carries."""
    message = EmailMessage()
    message["From"] = params.sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if params.reply_to:
        message["Reply-To"] = params.reply_to
    message["Subject"] = header_text(subject)
    message["Date"] = format_datetime(now.to_pydatetime())
    message["Message-ID"] = make_msgid("cxpulse", domain=parseaddr(params.sender)[1].split("@")[1])
    message["Auto-Submitted"] = "auto-generated"
    return message


def build_report_message(
    params: DistributionParams,
    recipients: Recipients,
    report: config.ReportParams,
    period: periods.Period,
    manifest: dict,
    attachments: dict[str, bytes],
    now: pd.Timestamp,
) -> EmailMessage:
    """The report e-mail: headline sentences and KPI tiles as plain text and as HTML
    (autoescaped: customer text is untrusted), with ``attachments`` (name -> bytes)."""
    brand, tz = report.brand.brand, report.brand.timezone
    subject = format_subject(params.subject, brand, report.report.title, report.cadence, period)
    message = new_message(params, recipients.to, recipients.cc, subject, now)
    message["X-Cxpulse-Cadence"] = report.cadence
    message["X-Cxpulse-Period"] = period.label
    latest = manifest["data_range"][1]
    context = {
        "brand": brand,
        "title": report.report.title,
        "period": render.describe_period(period),
        "headlines": manifest["headlines"],
        "kpis": manifest["kpis"],
        "comparison": manifest["comparison"],
        "data_until": render.describe_moment(pd.Timestamp(latest), tz) if latest else "unknown",
        "generated_at": render.describe_moment(pd.Timestamp(manifest["generated_at"]), tz),
        "attachments": list(attachments),
        "restated": [history.describe(x, tz) for x in manifest.get("restatements", [])],
    }
    message.set_content(_TEMPLATES.get_template("report.txt.j2").render(context))
    message.add_alternative(
        _TEMPLATES.get_template("report.html.j2").render(context), subtype="html"
    )
    for name, content in attachments.items():
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def build_notice(
    params: DistributionParams,
    subject: str,
    reasons: list[str],
    recipients: list[str],
    cadence: str,
    as_of: str | None,
    outbox: Path,
    now: pd.Timestamp,
) -> EmailMessage:
    """The plain-text notice to the analyst: what was not sent, why, and what to run."""
    message = new_message(params, [params.analyst], [], f"[cxpulse] {subject}", now)
    message["X-Cxpulse-Cadence"] = cadence
    message.set_content(
        _TEMPLATES.get_template("notice.txt.j2").render(
            headline=subject[0].upper() + subject[1:] + ".",
            reasons=reasons,
            recipients=recipients,
            cadence=cadence,
            as_of=as_of,
            outbox=outbox,
            host=socket.gethostname(),
            now=f"{now:%Y-%m-%d %H:%M} UTC",
        )
    )
    return message


# SMTP.


def read_credentials(smtp: SmtpParams, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, password) from the environment variables named in params; None when neither
    is set. Only one of them set is a mistake, said without revealing the value."""
    user, password = environ.get(smtp.user_env), environ.get(smtp.password_env)
    if not user and not password:
        return None
    if not user or not password:
        have, lack = (
            (smtp.user_env, smtp.password_env) if user else (smtp.password_env, smtp.user_env)
        )
        raise ParamsError(f"environment: {have} is set but {lack} is not; set both or neither")
    return user, password


def is_transient(err: OSError) -> bool:
    """Whether trying again later may succeed: the server was unreachable, dropped the
    connection or answered 4xx. A 5xx answer or an untrusted certificate is final."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in err.recipients.values())
    if isinstance(err, smtplib.SMTPResponseException):
        return 400 <= err.smtp_code < 500
    if isinstance(err, smtplib.SMTPServerDisconnected):
        return True
    return not isinstance(err, smtplib.SMTPException | ssl.SSLCertVerificationError)


def describe_error(err: OSError) -> str:
    """One line for an SMTP or network error, with the server's code and text."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + describe_refused(err.recipients)
    if isinstance(err, smtplib.SMTPResponseException):
        text = err.smtp_error.decode(errors="replace") if isinstance(err.smtp_error, bytes) else ""
        return f"{type(err).__name__} {err.smtp_code} {text}".strip()
    return f"{type(err).__name__}: {err}"


def describe_refused(refused: Mapping[str, tuple[int, bytes]]) -> str:
    """``a@b.example (550 no such user); ...``."""
    return "; ".join(
        f"{address} ({code} {text.decode(errors='replace')})"
        for address, (code, text) in refused.items()
    )


def transmit(
    message: EmailMessage, smtp: SmtpParams, credentials: tuple[str, str] | None
) -> dict[str, tuple[int, bytes]]:
    """Hand ``message`` to the server once; the recipients it refused (others got it)."""
    context = ssl.create_default_context(cafile=smtp.tls_ca_file)
    if smtp.tls == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    with client:
        if smtp.tls == "starttls":
            client.starttls(context=context)
        if credentials:
            client.login(*credentials)
        return client.send_message(message)


def deliver_message(
    message: EmailMessage,
    smtp: SmtpParams,
    credentials: tuple[str, str] | None,
    send: Callable[..., dict[str, tuple[int, bytes]]] = transmit,
) -> dict[str, tuple[int, bytes]]:
    """``transmit`` (or ``send``, which takes the same arguments) with the retries of
    ``retry``: ``smtp.attempts`` tries, ``backoff_s`` apart, doubling."""
    return retry(
        lambda: send(message, smtp, credentials),
        f"{smtp.host}:{smtp.port} ({smtp.tls})",
        smtp.attempts,
        smtp.backoff_s,
        is_transient,
        describe_error,
    )


def retry(
    attempt_once: Callable[[], _T],
    where: str,
    attempts: int,
    backoff_s: float,
    transient: Callable[[OSError], bool],
    describe: Callable[[OSError], str],
) -> _T:
    """``attempt_once()`` up to ``attempts`` times, waiting ``backoff_s`` then twice as
    long each time after an ``OSError`` that ``transient`` says may pass; a
    ``DeliveryError`` naming ``where`` when it never succeeds."""
    attempt = 1
    while True:
        try:
            return attempt_once()
        except OSError as err:
            problem = describe(err)
            if attempt == attempts or not transient(err):
                raise DeliveryError(
                    f"{where}: {problem} (attempt {attempt} of {attempts})"
                ) from err
            delay = backoff_s * 2 ** (attempt - 1)
            log.warning(
                "%s: attempt %d of %d failed: %s; retrying in %g s",
                where,
                attempt,
                attempts,
                problem,
                delay,
            )
            time.sleep(delay)
            attempt += 1


# Files: outbox, sent archive, sent log, lock.


def hold_lock(reports_dir: Path, wait_s: float) -> contextlib.AbstractContextManager[None]:
    """The delivery lock (``reports/.delivery.lock``): one scheduled run at a time; another
    waits up to ``wait_s`` and then gives up with ``WarehouseLocked``."""
    return warehouse.lock(Path(reports_dir) / LOCK, wait_s)


def write_message(message: EmailMessage, path: Path) -> Path:
    """Write ``message`` to ``path`` as an .eml file, atomically (replacing an older one);
    a write that fails (a full disk) leaves no partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(message.as_bytes())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def archive_message(path: Path, sent_dir: Path, now: pd.Timestamp) -> Path:
    """Move a delivered message from the outbox to ``sent_dir``, stamped with the time."""
    sent_dir.mkdir(parents=True, exist_ok=True)
    target = sent_dir / f"{path.stem}-{now:%Y%m%dT%H%M%SZ}{path.suffix}"
    os.replace(path, target)
    return target


def find_sent(log_path: Path, cadence: str, period: str) -> dict | None:
    """The last sent-log entry of ``cadence`` and ``period``, or None."""
    if not log_path.exists():
        return None
    entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    found = [e for e in entries if e["cadence"] == cadence and e["period"] == period]
    return found[-1] if found else None


def record_sent(log_path: Path, entry: dict) -> None:
    """Append ``entry`` to the sent log as one JSON line, flushed to disk."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_manifest(folder: Path, cadence: str) -> dict:
    """``manifest.json`` of a rendered report."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder}: no rendered report here; render it (cxpulse run {cadence}) "
            "or send without --no-render"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def notify_analyst(
    params: DistributionParams,
    credentials: tuple[str, str] | None,
    reports_dir: Path,
    notice: EmailMessage,
    dry_run: bool,
    now: pd.Timestamp,
) -> None:
    """Write the notice to the outbox and send it (unless a dry run); a notice that cannot
    be delivered is logged and stays in the outbox. When the outbox cannot be written (a
    full disk), the notice is sent all the same."""
    cadence = notice["X-Cxpulse-Cadence"]
    try:
        path: Path | None = write_message(
            notice, reports_dir / OUTBOX / f"notice-{cadence}-{now:%Y%m%dT%H%M%SZ}.eml"
        )
    except OSError as err:
        log.error("could not write the notice to the outbox (%s); sending it anyway", err)
        path = None
    if dry_run:
        log.info("dry run: wrote the notice to %s; nothing sent", path)
        return
    try:
        deliver_message(notice, params.smtp, credentials)
    except DeliveryError as err:
        log.error(
            "could not notify the analyst %s: %s; notice kept in %s", params.analyst, err, path
        )
        return
    if path is not None:
        archive_message(path, reports_dir / SENT, now)
    log.info("notified the analyst %s", params.analyst)


def check_pdf(content: bytes) -> str | None:
    """Why ``content`` is not a whole PDF (no header, or no end-of-file marker in its last
    kilobyte: a truncated write), or None."""
    if not content.startswith(b"%PDF-"):
        return "the report's PDF does not start as a PDF does"
    if b"%%EOF" not in content[-1024:]:
        return "the report's PDF is truncated (no %%EOF at its end)"
    return None


def send_scheduled(
    cadence: str,
    as_of: str | None,
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    *,
    ingest_inbox: bool = False,
    dry_run: bool = False,
    force: bool = False,
    render_report: bool = True,
    usage_errors: tuple[type[Exception], ...] = (ParamsError,),
    engine: str | None = None,
    lake: Path | None = None,
) -> Outcome:
    """A scheduled run (``cxpulse send``): take the delivery lock, load the inbox when
    ``ingest_inbox``, then ``send_report``.

    ``distribution.yaml`` is loaded first: without it nobody can be told, so its errors
    are raised. After it, any exception reaches the analyst as a notice whose reason is
    ``describe_failure`` (stage, error, one line, no secret); nothing is sent to the
    executives; the outcome is "stopped" (exit 2) for ``usage_errors`` (params, command
    line, a lock held too long), else "run failed" (exit 1). ``engine``, ``lake``: where
    the report's metrics run (``render.notebook_parameters``).
    """
    params_dir, reports_dir = Path(params_dir), Path(reports_dir)
    params = config.load_distribution(params_dir)
    credentials = None
    try:
        with stage("reading the SMTP credentials"):
            credentials = read_credentials(params.smtp, os.environ)
        with contextlib.ExitStack() as held:
            with stage("waiting for the delivery lock"):
                held.enter_context(hold_lock(reports_dir, params.lock_wait_s))
            if ingest_inbox:
                with stage("loading the inbox"):
                    load_inbox(warehouse, params_dir)
            return send_report(
                cadence, as_of, warehouse, params_dir, reports_dir,
                dry_run=dry_run, force=force, render_report=render_report,
                credentials=credentials, engine=engine, lake=lake,
            )  # fmt: skip
    except Exception as err:
        usage = isinstance(err, usage_errors)
        status, verb = ("stopped", "stopped") if usage else ("run failed", "failed")
        what = f"the {cadence} run{f' as of {as_of}' if as_of else ''} {verb}"
        explained = explain_error(err, warehouse)  # a damaged warehouse or a full disk
        reason = describe_failure(err, [c for c in credentials or () if c], explained)
        log.error("%s: %s", what, reason, exc_info=not (usage or explained))
        recipients = params.recipients.get(cadence)
        now = pd.Timestamp.now(tz="UTC")
        notice = build_notice(
            params, what, [reason], recipients.to + recipients.cc if recipients else [],
            cadence, as_of, reports_dir / OUTBOX, now,
        )  # fmt: skip
        try:
            notify_analyst(params, credentials, reports_dir, notice, dry_run, now)
        except Exception as notify_err:  # noqa: BLE001 - the run's own failure is reported
            log.error("could not notify the analyst: %s", describe_failure(notify_err))
        return Outcome(status, f"{what}: {reason}")


def load_inbox(warehouse: Path, params_dir: Path) -> None:
    """``cxpulse ingest --inbox`` before a scheduled send: each file's result is logged (a
    file that failed is an error in the log, and the run goes on with the others)."""
    from cxpulse import ingest

    for result in ingest.ingest_inbox(warehouse, params_dir):
        log.log(
            logging.ERROR if result.status == "failed" else logging.INFO, "%s", result.summary()
        )


def send_report(
    cadence: str,
    as_of: str | None,
    warehouse: Path,
    params_dir: Path,
    reports_dir: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    render_report: bool = True,
    credentials: tuple[str, str] | None = None,
    engine: str | None = None,
    lake: Path | None = None,
) -> Outcome:
    """Render the ``cadence`` report of the period holding ``as_of`` (default: yesterday)
    and e-mail it to its recipients, unless the sent log says it went already or the gate
    holds it back.

    ``render_report=False`` sends the report already rendered for the period; ``force``
    sends a period again; ``dry_run`` writes the message to the outbox and sends nothing.
    The caller holds ``hold_lock`` when runs may overlap. Any other failure is raised,
    noted with its stage (``send_scheduled`` tells the analyst).
    """
    params_dir, reports_dir = Path(params_dir), Path(reports_dir)
    with stage("reading params"):
        params = config.load_distribution(params_dir)
        report = config.load_report_params(cadence, params_dir)
        recipients = config.recipients_for(params, cadence, params_dir)
    now = pd.Timestamp.now(tz="UTC")
    outbox = reports_dir / OUTBOX

    def hold_back(status: str, what: str, reasons: list[str], day: str | None) -> Outcome:
        for reason in reasons:
            log.error("%s: %s", what, reason)
        notice = build_notice(
            params, what, reasons, recipients.to + recipients.cc, cadence, day, outbox, now
        )
        notify_analyst(params, credentials, reports_dir, notice, dry_run, now)
        return Outcome(status, f"{what}: {'; '.join(reasons)}")

    # Without as_of, the latest period complete by yesterday: the clock, not the newest
    # data, decides what a scheduled run sends, so data that did not arrive is noticed.
    period = config.resolve_period(report, as_of, now)
    name, day = f"{cadence} {period.label}", period.last_day.isoformat()
    with stage("reading the sent log"):
        sent = find_sent(reports_dir / SENT_LOG, cadence, period.label)
    if sent and not force:
        return Outcome("already sent", f"{name} was sent at {sent['sent_at']}; --force resends")
    with stage(f"reading the warehouse {warehouse}"):
        latest = render.read_data_range(warehouse)[1]
    stale = check_freshness(latest, period.end, now, params.gate.max_data_age_hours)
    if stale:
        return hold_back("held back", f"the {name} report was held back", [stale], day)

    folder = reports_dir / cadence / period.label
    if render_report:
        try:
            with stage("rendering the report"):
                render.run_report(
                    cadence, day, warehouse, params_dir, reports_dir, engine=engine, lake=lake
                )
        except render.RenderError as err:
            failed = f"the failed run is kept in {folder.with_name('.failed-' + period.label)}"
            reason = explain_error(err, warehouse) or str(err)  # damaged warehouse, full disk
            return hold_back("run failed", f"the {name} run failed", [reason, failed], day)
    with stage(f"reading the rendered report {folder}"):
        manifest = read_manifest(folder, cadence)
        expected = expected_channels(params.gate.channels, report.brand, warehouse, period.end)
        missing = check_channel_rows(manifest["rows_by_channel"], expected)
        if missing:
            return hold_back("held back", f"the {name} report was held back", [missing], day)
        from cxpulse.figures import XLSX  # altair with it: not for cxpulse watch

        files = (
            {".pdf": folder / "report.pdf"}
            | ({".html": folder / "report.html"} if params.attach_html else {})
            | ({".xlsx": folder / XLSX} if params.attach_figures else {})
        )
        attachments = {
            attachment_name(report.brand.brand, cadence, period.label, suffix): path.read_bytes()
            for suffix, path in files.items()
        }
    broken = check_pdf(next(iter(attachments.values())))  # the PDF comes first
    if broken:
        return hold_back("run failed", f"the {name} report is broken", [broken], day)
    with stage("writing the message to the outbox"):
        message = build_report_message(
            params, recipients, report, period, manifest, attachments, now
        )
        path = write_message(message, outbox / f"{cadence}-{period.label}.eml")
    log.info("%s: wrote %s (%s KB)", name, path, f"{path.stat().st_size / 1024:,.0f}")
    if dry_run:
        return Outcome("dry run", f"{name}: wrote {path}; nothing sent")
    try:
        refused = deliver_message(message, params.smtp, credentials)
    except DeliveryError as err:
        reasons = [str(err), f"the message stays in {path}"]
        return hold_back("delivery failed", f"the {name} report was not delivered", reasons, day)
    sent_at = pd.Timestamp.now(tz="UTC")
    with stage("recording the message as sent"):
        archived = archive_message(path, reports_dir / SENT, sent_at)
        record_sent(
            reports_dir / SENT_LOG,
            {
                "cadence": cadence,
                "period": period.label,
                "sent_at": sent_at.isoformat(timespec="seconds"),
                "message_id": message["Message-ID"],
                "subject": message["Subject"],
                "to": recipients.to,
                "cc": recipients.cc,
                "refused": {
                    a: f"{c} {t.decode(errors='replace')}" for a, (c, t) in refused.items()
                },
                "file": str(archived),
            },
        )
    delivered = len(recipients.to) + len(recipients.cc) - len(refused)
    log.info("%s: sent to %d recipient(s), saved as %s", name, delivered, archived)
    if refused:
        reasons = [f"refused: {describe_refused(refused)}", f"delivered to {delivered} other(s)"]
        return hold_back("delivery failed", f"the {name} report missed recipients", reasons, day)
    return Outcome("sent", f"{name} sent to {delivered} recipient(s)")
