"""Delivery: the send gate, the message, the outbox and sent log, against a real SMTP server.

A real aiosmtpd server is started on a free loopback port for each test that sends; the
report is rendered once per module (the real daily notebook on the demo warehouse) and
copied into each test's project, so most tests send without rendering again.
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from io import BytesIO
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import cadence_block
from markupsafe import escape
from pypdf import PdfReader

from cxpulse import cli, config, deliver, demo, periods, render

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
DAY = "2026-03-19"
"""A report day of the demo warehouse (its data ends 2026-03-20 08:00 UTC)."""
TO = ["Chief Customer Officer <cco@northwind.example>", "care-lead@northwind.example"]
CC = ["cx-insight@northwind.example"]
ANALYST = "analyst@northwind.example"
PASSWORD = "s3cret-Pa55word-never-written"


# A real SMTP server.


class Mailbox:
    """An aiosmtpd handler keeping every message received; refuses the ``refuse`` addresses."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.refuse = refuse
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to_analyst(self) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if rcpt == [ANALYST]]

    def reports(self) -> list[tuple[list[str], EmailMessage]]:
        return [(rcpt, m) for rcpt, m in self.received if rcpt != [ANALYST]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(mailbox: Mailbox, **options) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


@pytest.fixture
def server():
    """A plain SMTP server on 127.0.0.1 (tls: none)."""
    mailbox = Mailbox()
    controller = start_server(mailbox)
    yield controller.port, mailbox
    controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem), made with openssl."""
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


# A project: params, the report rendered once, the demo warehouse.


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, demo_warehouse) -> Path:
    """The real daily report of ``DAY``, rendered once: its folder."""
    root = tmp_path_factory.mktemp("rendered")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    return render.run_report("daily", DAY, demo_warehouse, root / "params", root / "reports").folder


def distribution(port: int, **changes) -> dict:
    """distribution.yaml for a test server on ``port``; ``changes`` replace top-level keys."""
    return {
        "sender": "CX Pulse <cxpulse@northwind.example>",
        "reply_to": "cx-insight@northwind.example",
        "analyst": f"Analyst <{ANALYST}>",
        "subject": "{brand} · {title} · {period}",
        "lock_wait_s": 60,
        "smtp": {"host": "127.0.0.1", "port": port, "tls": "none", "attempts": 3,
                 "backoff_s": 0.01, "timeout_s": 10},
        "gate": {"max_data_age_hours": 24, "channels": ["twitter", "email", "phone"]},
        "recipients": {"daily": {"to": TO, "cc": CC}},
        **changes,
    }  # fmt: skip


def make_project(root: Path, port: int, rendered: Path | None = None, **changes) -> Path:
    """``root/params`` (the repository's, with a test distribution.yaml), ``root/notebooks``
    and, given ``rendered``, that report copied into ``root/reports``."""
    shutil.copytree(ROOT / "params", root / "params")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    write_yaml(root / "params" / "distribution.yaml", distribution(port, **changes))
    if rendered is not None:
        shutil.copytree(rendered, root / "reports" / "daily" / rendered.name)
    return root


def write_yaml(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def send(root: Path, warehouse: Path, *flags: str, as_of: str | None = DAY) -> int:
    """``cxpulse send daily`` on the project at ``root``: its exit code."""
    args = ["send", "daily", "--warehouse", str(warehouse), "--params", str(root / "params")]
    args += ["--reports", str(root / "reports"), *flags]
    return cli.main(args + (["--as-of", as_of] if as_of else []))


def sent_log(root: Path) -> list[dict]:
    path = root / "reports" / deliver.SENT_LOG
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def outbox(root: Path) -> list[str]:
    folder = root / "reports" / deliver.OUTBOX
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def addresses(values: list[str]) -> list[str]:
    return [address for _, address in getaddresses(values)]


def attachment_text(message: EmailMessage) -> tuple[str, str]:
    """The PDF attachment of ``message``: its file name and its text (pypdf)."""
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    reader = PdfReader(BytesIO(part.get_content()))
    return part.get_filename(), " ".join(page.extract_text() for page in reader.pages)


def failing_notebook(path: Path, code: str) -> None:
    """A notebook whose second cell runs ``code`` (the kernel spec of the fixtures)."""
    meta = nbformat.read(FIXTURES / "three_charts.ipynb", as_version=4).metadata
    nb = nbformat.v4.new_notebook(metadata=meta)
    parameters = 'as_of = ""\nwarehouse = ""\nparams_dir = ""'
    nb.cells = [
        nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(nb, path)


# The message and the gate, without a server.


def test_report_email_carries_sentences_tiles_and_the_pdf_to_every_recipient(
    rendered, demo_warehouse, server, tmp_path, capsys
):
    port, mailbox = server
    root = make_project(tmp_path, port, rendered)
    assert send(root, demo_warehouse, "--no-render") == 0
    assert capsys.readouterr().out.startswith("sent: daily 2026-03-19 sent to 3 recipient(s)")

    ((rcpt, message),) = mailbox.received
    manifest = json.loads((rendered / "manifest.json").read_text())
    assert rcpt == addresses(TO + CC)
    assert message["Subject"] == "Northwind Mobile · Daily customer brief · Thursday 19 March 2026"
    assert addresses([message["To"]]) == addresses(TO)
    assert addresses([message["Reply-To"]]) == ["cx-insight@northwind.example"]
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert manifest["headlines"]
    for sentence in manifest["headlines"]:
        assert sentence in plain
        assert str(escape(sentence)) in html
    for kpi in manifest["kpis"]:
        assert f"{kpi['label']}: {kpi['value']}" in plain
        assert str(escape(kpi["label"])) in html
    name, text = attachment_text(message)
    assert name == "northwind-mobile-daily-2026-03-19.pdf"
    assert "Northwind Mobile" in text and "Needs action now" in text

    assert outbox(root) == []
    (entry,) = sent_log(root)
    assert (entry["cadence"], entry["period"], entry["refused"]) == ("daily", DAY, {})
    assert (
        BytesParser(policy=policy.default).parsebytes(Path(entry["file"]).read_bytes())[
            "Message-ID"
        ]
        == message["Message-ID"]
    )


def test_html_body_escapes_customer_text(rendered):
    params = config.DistributionParams.model_validate(distribution(25))
    report = config.load_report_params("daily", ROOT / "params")
    manifest = json.loads((rendered / "manifest.json").read_text())
    manifest["headlines"] = ["A customer wrote <script>alert(1)</script> & left."]
    period = periods.period_for("daily", pd.Timestamp(DAY).date(), "Europe/London")
    message = deliver.build_report_message(
        params, params.recipients["daily"], report, period, manifest, {"r.pdf": b"%PDF"},
        pd.Timestamp("2026-03-20T09:00", tz="UTC"),
    )  # fmt: skip
    html = message.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; left." in html
    assert "<script>" not in html
    assert "<script>alert(1)</script> & left." in message.get_body(("plain",)).get_content()


def test_freshness_is_measured_at_the_end_of_the_period_or_now():
    latest = pd.Timestamp("2026-03-20T08:00", tz="UTC")
    end = pd.Timestamp("2026-03-20T00:00", tz="UTC")
    later = pd.Timestamp("2026-11-24T10:00", tz="UTC")
    assert deliver.check_freshness(latest, end, later, 24) is None
    assert deliver.check_freshness(latest, later, later, 24).startswith("stale data:")
    assert "h before now (limit 24 h)" in deliver.check_freshness(latest, later, later, 24)
    assert "no interactions" in deliver.check_freshness(None, end, later, 24)


def test_gate_names_expected_channels_without_rows():
    rows = {"twitter": 12, "email": 0}
    assert deliver.check_channel_rows(rows, ["twitter"]) is None
    reason = deliver.check_channel_rows(rows, ["twitter", "email", "tumblr"])
    assert reason.endswith("expected channel(s): email, tumblr")


def test_expected_channels_default_to_those_whose_sources_delivered_in_90_days(demo_warehouse):
    brand = config.load_brand(ROOT / "params")
    assert brand.channels is None  # the shipped brand.yaml lists none: the default runs
    end = pd.Timestamp("2026-03-20", tz="UTC")
    got = deliver.expected_channels(None, brand, demo_warehouse, end)
    assert {"twitter", "instagram", "email", "chat", "webform", "survey", "phone"} <= set(got)
    assert "reddit" not in got  # no source loads it: not expected, the report is not held
    later = end + pd.Timedelta(days=120)  # every source stopped long ago
    assert deliver.expected_channels(None, brand, demo_warehouse, later) == []
    assert deliver.expected_channels(["email"], brand, demo_warehouse, end) == ["email"]
    listed = brand.model_copy(update={"channels": ["reddit"]})
    assert deliver.expected_channels(None, listed, demo_warehouse, end) == ["reddit"]


def test_only_unreachable_servers_and_4xx_answers_are_retried():
    assert deliver.is_transient(ConnectionRefusedError(111, "Connection refused"))
    assert deliver.is_transient(smtplib.SMTPServerDisconnected("gone"))
    assert deliver.is_transient(smtplib.SMTPDataError(451, b"try later"))
    assert not deliver.is_transient(smtplib.SMTPAuthenticationError(535, b"bad credentials"))
    assert not deliver.is_transient(smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no")}))
    assert deliver.is_transient(smtplib.SMTPRecipientsRefused({"a@b.c": (452, b"full")}))
    assert not deliver.is_transient(ssl.SSLCertVerificationError("self-signed"))


def test_credentials_come_from_the_environment_and_half_set_is_an_error():
    smtp = config.SmtpParams(host="mail.example", tls="starttls")
    assert deliver.read_credentials(smtp, {}) is None
    both = {"CXPULSE_SMTP_USER": "u", "CXPULSE_SMTP_PASSWORD": PASSWORD}
    assert deliver.read_credentials(smtp, both) == ("u", PASSWORD)
    with pytest.raises(config.ParamsError, match="CXPULSE_SMTP_USER is set but") as caught:
        deliver.read_credentials(smtp, {"CXPULSE_SMTP_USER": "u"})
    assert PASSWORD not in str(caught.value)


# Params.


def test_repository_distribution_yaml_is_valid():
    params = config.load_distribution(ROOT / "params")
    for cadence in config.cadences(ROOT / "params"):
        assert config.recipients_for(params, cadence, ROOT / "params").to


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password": "x"}, r"key 'password': unknown key; expected one of: sender"),
        ({"analyst": "not an address"}, r"key 'analyst': Value error, not an e-mail address"),
        ({"subject": "{brand} {date}"}, r"key 'subject': .*unknown placeholder\(s\) \['date'\]"),
        (
            {"smtp": {"host": "smtp.northwind.example", "tls": "none"}},
            r"key 'smtp.tls': .*allowed only for",
        ),
        ({"gate": {"channels": ["telex"]}}, r"key 'gate.channels': .*unknown channel"),
        ({"recipients": {"daily": {"to": []}}}, r"key 'recipients.daily.to'"),
    ],
)
def test_distribution_mistakes_name_the_file_and_key(tmp_path, change, message):
    write_yaml(tmp_path / "distribution.yaml", distribution(25, **change))
    with pytest.raises(config.ParamsError, match=message) as caught:
        config.load_distribution(tmp_path)
    assert str(tmp_path / "distribution.yaml") in str(caught.value)


def test_a_cadence_without_recipients_names_the_missing_key(tmp_path):
    params = config.DistributionParams.model_validate(distribution(25))
    with pytest.raises(config.ParamsError, match=r"key 'recipients.weekly': missing"):
        config.recipients_for(params, "weekly", tmp_path)


# Against the SMTP server.


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # ssl: TLS already
def test_tls_and_auth_with_the_password_only_from_the_environment(
    mode, certificate, rendered, demo_warehouse, tmp_path, monkeypatch, capsys, caplog
):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode())

    mailbox = Mailbox()
    tls = (
        {"tls_context": context, "require_starttls": True}
        if mode == "starttls"
        else {"ssl_context": context, "auth_require_tls": False}
    )
    controller = start_server(mailbox, authenticator=authenticate, auth_required=True, **tls)
    try:
        smtp = {**distribution(0)["smtp"], "port": controller.port, "tls": mode}
        root = make_project(
            tmp_path, controller.port, rendered, smtp=smtp | {"tls_ca_file": str(cert)}
        )
        monkeypatch.setenv("CXPULSE_SMTP_USER", "reports")
        monkeypatch.setenv("CXPULSE_SMTP_PASSWORD", PASSWORD)
        assert send(root, demo_warehouse, "--no-render") == 0
    finally:
        controller.stop()
    assert logins == [(b"reports", PASSWORD.encode())]
    ((rcpt, _),) = mailbox.received
    assert rcpt == addresses(TO + CC)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p for p in written if PASSWORD.encode() in p.read_bytes()] == []
    output = capsys.readouterr()
    assert PASSWORD not in output.out + output.err + caplog.text


def test_untrusted_certificate_fails_without_retrying(
    certificate, rendered, demo_warehouse, tmp_path, caplog
):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    controller = start_server(Mailbox(), tls_context=context, require_starttls=True)
    try:
        smtp = {**distribution(0)["smtp"], "port": controller.port, "tls": "starttls"}
        root = make_project(tmp_path, controller.port, rendered, smtp=smtp)
        assert send(root, demo_warehouse, "--no-render") == 1
    finally:
        controller.stop()
    assert "attempt 1 of 3" in caplog.text and "retrying" not in caplog.text
    assert outbox(root)[0] == "daily-2026-03-19.eml"


def test_server_down_retries_keeps_the_outbox_and_exits_non_zero(
    rendered, demo_warehouse, tmp_path, caplog
):
    root = make_project(tmp_path, free_port(), rendered)
    assert send(root, demo_warehouse, "--no-render") == 1
    retries = [r for r in caplog.records if "retrying in" in r.message]
    assert len(retries) == 4  # 2 for the report, 2 for the notice to the analyst
    assert "ConnectionRefusedError" in retries[0].message
    assert "daily-2026-03-19.eml" in outbox(root)
    assert any(name.startswith("notice-daily-") for name in outbox(root))
    assert sent_log(root) == []
    kept = BytesParser(policy=policy.default).parsebytes(
        (root / "reports" / "outbox" / "daily-2026-03-19.eml").read_bytes()
    )
    assert attachment_text(kept)[0] == "northwind-mobile-daily-2026-03-19.pdf"


def test_a_refused_recipient_is_named_and_the_others_get_the_report(
    rendered, demo_warehouse, tmp_path, caplog
):
    mailbox = Mailbox(refuse=("cx-insight@northwind.example",))
    controller = start_server(mailbox)
    try:
        root = make_project(tmp_path, controller.port, rendered)
        assert send(root, demo_warehouse, "--no-render") == 1
    finally:
        controller.stop()
    ((rcpt, _),) = mailbox.reports()
    assert rcpt == addresses(TO)
    (notice,) = mailbox.to_analyst()
    assert "cx-insight@northwind.example (550 5.1.1 no such user here)" in notice.get_content()
    assert "cx-insight@northwind.example (550" in caplog.text
    (entry,) = sent_log(root)
    assert list(entry["refused"]) == ["cx-insight@northwind.example"]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("total = 1\nshare = total / 0", "ZeroDivisionError: division by zero"),
        ("import os\nos._exit(1)", "Kernel died"),
        ("import time\ntime.sleep(60)", "timed out"),
    ],
    ids=["failing-cell", "dead-kernel", "hanging-kernel"],
)
def test_a_failed_run_sends_nothing_to_executives_and_tells_the_analyst(
    code, says, demo_warehouse, server, tmp_path, capsys
):
    port, mailbox = server
    root = make_project(tmp_path, port)
    failing_notebook(root / "notebooks" / "failing.ipynb", code)
    write_yaml(
        root / "params" / "daily.yaml",
        {
            "title": "Daily customer brief",
            "notebook": "notebooks/failing.ipynb",
            "timeout_s": 3,
            "cadence": cadence_block("daily"),
        },  # fmt: skip
    )
    assert send(root, demo_warehouse) == 1
    assert capsys.readouterr().out.startswith("run failed: the daily 2026-03-19 run failed")
    assert mailbox.reports() == []
    (notice,) = mailbox.to_analyst()
    assert notice["Subject"] == "[cxpulse] the daily 2026-03-19 run failed"
    assert says in notice.get_content()
    assert ".failed-2026-03-19" in notice.get_content()
    assert not (root / "reports" / "daily" / DAY).exists()
    assert sent_log(root) == []


def test_stale_data_is_held_back_and_the_analyst_told(demo_warehouse, server, tmp_path, capsys):
    port, mailbox = server
    root = make_project(tmp_path, port)
    assert send(root, demo_warehouse, as_of=None) == 3  # yesterday: months after the data
    assert capsys.readouterr().out.startswith("held back: ")
    assert mailbox.reports() == []
    (notice,) = mailbox.to_analyst()
    assert "stale data: the newest interaction is from 2026-03-20 07:" in notice.get_content()
    assert not (root / "reports" / "daily").exists()  # nothing rendered


def test_an_expected_channel_without_rows_is_held_back(rendered, demo_warehouse, server, tmp_path):
    port, mailbox = server
    gate = {"max_data_age_hours": 24, "channels": ["twitter", "reddit"]}
    root = make_project(tmp_path, port, rendered, gate=gate)
    assert send(root, demo_warehouse, "--no-render") == 3
    assert mailbox.reports() == []
    (notice,) = mailbox.to_analyst()
    assert "expected channel(s): reddit" in notice.get_content()


def test_the_same_period_twice_sends_one_email_unless_forced(
    rendered, demo_warehouse, server, tmp_path, capsys
):
    port, mailbox = server
    root = make_project(tmp_path, port, rendered)
    assert send(root, demo_warehouse, "--no-render") == 0
    assert send(root, demo_warehouse, "--no-render") == 0
    assert "already sent: daily 2026-03-19 was sent at" in capsys.readouterr().out
    assert len(mailbox.received) == 1
    assert send(root, demo_warehouse, "--no-render", "--force") == 0
    assert len(mailbox.received) == 2
    assert [e["period"] for e in sent_log(root)] == [DAY, DAY]


def test_dry_run_writes_the_eml_and_sends_nothing(rendered, demo_warehouse, server, tmp_path):
    port, mailbox = server
    root = make_project(tmp_path, port, rendered)
    assert send(root, demo_warehouse, "--no-render", "--dry-run") == 0
    assert mailbox.received == []
    assert outbox(root) == ["daily-2026-03-19.eml"]
    message = BytesParser(policy=policy.default).parsebytes(
        (root / "reports" / "outbox" / "daily-2026-03-19.eml").read_bytes()
    )
    assert addresses(message.get_all("To") + message.get_all("Cc")) == addresses(TO + CC)
    assert "Needs action now" in attachment_text(message)[1]
    assert sent_log(root) == []


def test_a_second_run_gives_up_cleanly_when_the_lock_is_held(
    rendered, demo_warehouse, server, tmp_path, capsys
):
    port, mailbox = server
    root = make_project(tmp_path, port, rendered, lock_wait_s=0)
    with deliver.hold_lock(root / "reports", 0):
        assert send(root, demo_warehouse, "--no-render") == 2
    out = capsys.readouterr()
    assert "while waiting for the delivery lock: WarehouseLocked: " in out.out
    assert f"{deliver.LOCK}.lock is held by pid {os.getpid()} " in out.out
    assert mailbox.reports() == [] and sent_log(root) == []
    (notice,) = mailbox.to_analyst()
    assert notice["Subject"] == f"[cxpulse] the daily run as of {DAY} stopped"
    assert f"is held by pid {os.getpid()}" in notice.get_content()


def test_two_make_daily_runs_at_once_send_one_email(server, tmp_path):
    """The cron path: `make daily` ingests the inbox, renders and sends; a second one
    started at the same time waits for the lock, then finds the period sent."""
    port, mailbox = server
    root = make_project(tmp_path, port, gate={"max_data_age_hours": 24, "channels": []})
    shutil.copy(FIXTURES / "three_charts.ipynb", root / "notebooks" / "three_charts.ipynb")
    write_yaml(
        root / "params" / "daily.yaml",
        {
            "title": "Daily brief",
            "notebook": "notebooks/three_charts.ipynb",
            "timeout_s": 120,
            "cadence": cadence_block("daily"),
        },  # fmt: skip
    )
    inbox, archive = root / "data" / "inbox", root / "data" / "archive"
    write_yaml(
        root / "params" / "inbox.yaml",
        {"inbox": str(inbox), "archive": str(archive),
         "files": [{"pattern": "*.parquet", "format": "canonical"}]},
    )  # fmt: skip
    end = pd.Timestamp.now(tz="UTC").floor("h").strftime("%Y-%m-%dT%H:%M")
    brand = config.load_brand(root / "params")
    demo.write_demo(inbox, rows=3_000, seed=5, end=end, brand=brand)
    make = [
        "make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed", "daily",
        f"WAREHOUSE={root / 'data' / 'warehouse.duckdb'}", f"PARAMS={root / 'params'}",
        f"REPORTS={root / 'reports'}",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXPULSE_", "MAKE"))}
    runs = [subprocess.Popen(make, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    finals = sorted(next(line for line in o.splitlines()[::-1] if ": " in line) for o in outputs)
    assert finals[0].startswith("already sent: daily ") and finals[1].startswith("sent: daily ")
    ((rcpt, message),) = mailbox.received
    assert rcpt == addresses(TO + CC)
    assert "Fixture heading" in attachment_text(message)[1]
    assert len(sent_log(root)) == 1 and outbox(root) == []
    assert sorted(p.name for p in archive.iterdir()) == ["demo-0001.parquet"]
    daily = root / "reports" / "daily"  # the report, its one version; no leftovers
    (folder,) = [p for p in daily.iterdir() if p.name != ".versions"]
    assert folder.name == sent_log(root)[0]["period"] and folder.is_symlink()
    assert [os.readlink(folder)] == [f".versions/{p.name}" for p in (daily / ".versions").iterdir()]


# Any other failure of a scheduled run reaches the analyst.


def test_a_corrupt_warehouse_tells_the_analyst_and_sends_executives_nothing(
    server, tmp_path, capsys
):
    port, mailbox = server
    root = make_project(tmp_path, port)
    corrupt = tmp_path / "warehouse.duckdb"
    corrupt.write_bytes(b"not a DuckDB file " * 1000)
    assert send(root, corrupt) == 1
    what = f"the daily run as of {DAY} failed"
    reason = f"while reading the warehouse {corrupt}: {corrupt}: the warehouse file is damaged"
    assert capsys.readouterr().out.startswith(f"run failed: {what}: {reason}")
    assert mailbox.reports() == []
    (notice,) = mailbox.to_analyst()
    assert notice["Subject"] == f"[cxpulse] {what}"
    (line,) = [line for line in notice.get_content().splitlines() if line.startswith("- ")]
    assert line.startswith(f"- {reason}") and "not a valid DuckDB database file" in line
    assert line.endswith(
        "restore it from a backup, or move it aside and ingest the archived exports again"
    )
    assert sent_log(root) == [] and not (root / "reports" / "daily").exists()


def test_a_failure_with_the_smtp_server_down_keeps_the_notice_in_the_outbox(tmp_path, capsys):
    root = make_project(tmp_path, free_port())
    corrupt = tmp_path / "warehouse.duckdb"
    corrupt.write_bytes(b"not a DuckDB file " * 1000)
    assert send(root, corrupt) == 1
    (name,) = outbox(root)
    assert name.startswith("notice-daily-")
    kept = BytesParser(policy=policy.default).parsebytes(
        (root / "reports" / "outbox" / name).read_bytes()
    )
    assert addresses([kept["To"]]) == [ANALYST]
    assert f"{corrupt}: the warehouse file is damaged" in kept.get_content()


def test_a_stage_that_raises_tells_the_analyst_even_when_the_outbox_cannot_be_written(
    rendered, demo_warehouse, server, tmp_path, capsys, caplog
):
    port, mailbox = server
    root = make_project(tmp_path, port, rendered)
    (root / "reports" / "outbox").write_text("a file where the outbox folder belongs")
    assert send(root, demo_warehouse, "--no-render") == 1
    assert mailbox.reports() == [] and sent_log(root) == []
    (notice,) = mailbox.to_analyst()
    reason = "while writing the message to the outbox: FileExistsError: "
    assert reason in notice.get_content() and reason in capsys.readouterr().out
    assert "could not write the notice to the outbox" in caplog.text


def test_a_newline_in_the_brand_stops_the_run_naming_file_and_key(
    demo_warehouse, server, tmp_path, capsys
):
    port, mailbox = server
    root = make_project(tmp_path, port)
    brand = root / "params" / "brand.yaml"
    brand.write_text(brand.read_text().replace("brand: Northwind Mobile", 'brand: "Acme\\nBcc: x"'))
    assert send(root, demo_warehouse) == 2
    reason = (
        f"while reading params: ParamsError: {brand}: key 'brand': Value error, "
        "control character U+000A at position 4; a name is one line of plain text "
        "(got 'Acme\\nBcc: x')"
    )
    assert capsys.readouterr().out == f"stopped: the daily run as of {DAY} stopped: {reason}\n"
    assert mailbox.reports() == []
    (notice,) = mailbox.to_analyst()
    assert f"- {reason}" in notice.get_content().splitlines()
    assert not (root / "reports" / "daily").exists()


def test_headers_stay_one_line_whatever_the_params_hold():
    params = config.DistributionParams.model_validate(distribution(25))
    period = periods.period_for("daily", pd.Timestamp(DAY).date(), "Europe/London")
    subject = deliver.format_subject(
        params.subject, "Acme\r\nBcc: x@evil.example", "T", "daily", period
    )
    message = deliver.new_message(params, TO, [], subject, pd.Timestamp("2026-03-20", tz="UTC"))
    assert message["Subject"].startswith("Acme  Bcc: x@evil.example · T · ")
    assert b"\nBcc:" not in message.as_bytes()


def test_a_failure_is_one_line_without_secrets_or_control_characters():
    err = ValueError("login as reports with s3cret failed\u202e\x1b[31m\nsecond line")
    err.add_note("while sending")
    assert deliver.describe_failure(err, ["s3cret"]) == (
        "while sending: ValueError: login as reports with [secret] failed[U+202E][U+001B][31m"
        " (and 1 more line(s))"
    )
    assert len(deliver.describe_failure(ValueError("x" * 1000))) == deliver.FAILURE_CHARS


def test_a_truncated_pdf_is_never_sent():
    assert deliver.check_pdf(b"%PDF-1.7\n...\n%%EOF\n") is None
    assert "truncated" in deliver.check_pdf(b"%PDF-1.7\n" + b"0" * 4096)
    assert "does not start" in deliver.check_pdf(b"")


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KB tmpfs at ``tmp_path/disk`` (a disk about to be full); skips unless this
    process may mount one (root, as in a container)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_while_rendering_tells_the_analyst_and_sends_executives_nothing(
    demo_warehouse, server, tmp_path, small_disk, capsys
):
    port, mailbox = server
    root = make_project(tmp_path, port)
    args = ["send", "daily", "--warehouse", str(demo_warehouse), "--params", str(root / "params")]
    code = cli.main([*args, "--reports", str(small_disk), "--as-of", DAY])
    assert code == 1
    reason = (
        "while rendering the report: no space left on device ([Errno 28] No space left on "
        "device); free space on that disk and run again"
    )
    assert reason in capsys.readouterr().out
    assert mailbox.reports() == []
    (notice,) = mailbox.to_analyst()  # sent, though the outbox could not be written
    assert reason in notice.get_content()
    assert not (small_disk / "daily" / DAY).exists()
