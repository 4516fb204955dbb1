"""``cxpulse watch`` end to end: a real SMTP server (aiosmtpd), a real webhook server
(``http.server`` on 127.0.0.1), a real warehouse, real processes killed with SIGKILL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from conftest import CXPULSE
from test_deliver import Mailbox, distribution, free_port, make_project, start_server, write_yaml

from cxpulse import cli, deliver
from cxpulse.ingest import ingest_file
from cxpulse.watch import command

BRAND = "Northwind Mobile"
SURGE_START = pd.Timestamp("2026-11-20 10:00", tz="UTC")
LONDON = "Europe/London"
ANGRY = "the network is down again and nobody answers, this is awful"


def tweets(stamps: list[pd.Timestamp], prefix: str) -> pd.DataFrame:
    return pd.DataFrame({
        "id": [f"twitter:{prefix}{i}" for i in range(len(stamps))], "channel": "twitter",
        "brand": BRAND, "direction": "mention", "created_at": stamps,
        "text": [f"{ANGRY} #{i}" for i in range(len(stamps))],
    })  # fmt: skip


@pytest.fixture(scope="module")
def surge_warehouse(tmp_path_factory) -> Path:
    """Five angry mentions at 10:00-11:00 (London) on each of the 8 Fridays before 20
    November 2026 (summer time until 25 October), then 60 in that hour on the 20th."""
    root = tmp_path_factory.mktemp("surge")
    local = SURGE_START.tz_convert(LONDON).tz_localize(None)  # the usual hour is local
    usual = [(local - pd.Timedelta(weeks=w, minutes=-10 * m)).tz_localize(LONDON)
             for w in range(1, 9) for m in range(5)]  # fmt: skip
    surge = list(pd.date_range(SURGE_START, periods=60, freq="1min"))
    path = root / "export.parquet"
    pd.concat([tweets(usual, "u"), tweets(surge, "s")]).to_parquet(path)
    warehouse = root / "warehouse.duckdb"
    ingest_file(path, "canonical", warehouse)
    return warehouse


class Webhook:
    """A webhook server on 127.0.0.1 keeping every JSON body; the first ``fail`` requests
    get a 500."""

    def __init__(self, fail: int = 0) -> None:
        self.fail, self.bodies, self.keys = fail, [], []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.fail > 0:
                    hook.fail -= 1
                    self.send_response(500)
                else:
                    hook.bodies.append(json.loads(body))
                    hook.keys.append(self.headers["Idempotency-Key"])
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def project(root: Path, smtp_port: int, **list_options) -> Path:
    """The repository's params with a test distribution.yaml and alerts.yaml: the surge
    rule only, telling list ``duty``."""
    make_project(root, smtp_port)
    write_yaml(root / "params" / "alerts.yaml", {
        "lists": {"duty": {"to": ["duty@northwind.example"], **list_options}},
        "rules": [{"name": "Negative surge", "kind": "negative_surge", "notify": ["duty"],
                   "window_min": 60, "weeks": 8, "z": 3, "min_count": 20,
                   "end_after_min": 30}],
    })  # fmt: skip
    return root


def watch(root: Path, warehouse: Path, now: str, environ: dict | None = None):
    return command.watch(
        warehouse, root / "params", root / "reports", now=pd.Timestamp(now, tz="UTC"),
        ingest_inbox=False, environ=environ or {},
    )  # fmt: skip


def log_lines(root: Path) -> list[dict]:
    return command.read_log(root / "reports")


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = start_server(mailbox)
    yield controller.port, mailbox
    controller.stop()


def test_a_surge_sends_one_alert_and_one_resolved_update_by_email_and_webhook(
    surge_warehouse, smtp, tmp_path
):
    port, mailbox = smtp
    hook = Webhook()
    root = project(tmp_path, port, webhook_env="HOOK")
    env = {"HOOK": hook.url}
    try:
        # Alert at 11:00; still on at 11:05; off from 12:30 (the hour after the surge);
        # resolved 30 min later (end_after_min).
        for now in ("2026-11-20 11:00", "2026-11-20 11:05", "2026-11-20 12:30",
                    "2026-11-20 12:45", "2026-11-20 13:00"):  # fmt: skip
            assert watch(root, surge_warehouse, now, env).exit_code == 0
    finally:
        hook.stop()
    subjects = [m["Subject"] for _, m in mailbox.received]
    assert len(subjects) == 2, subjects
    assert "[high] Northwind Mobile · Negative surge: ~" in subjects[0]
    assert "Resolved: Negative surge after 1 h 30 min, peak" in subjects[1]
    assert [b["cxpulse"]["kind"] for b in hook.bodies] == ["alert", "resolved"]
    assert hook.keys == [e["key"] for e in log_lines(root) if e["channel"] == "webhook"]
    text = mailbox.received[0][1].get_body(("plain",)).get_content()
    assert ANGRY in text  # the messages behind it
    assert {e["status"] for e in log_lines(root)} == {"sent"}
    assert len(log_lines(root)) == 4  # two notifications, two channels each


def test_customer_text_is_escaped_in_the_webhook_and_the_html():
    from cxpulse.watch import messages

    message = {"created_at": "x", "channel": "twitter", "text": "<@here> & <b>"}
    record = {"key": "k", "kind": "alert", "episode": "e", "rule": "r", "severity": "high",
              "figures": {}, "title": "t", "link": None, "messages": [message]}  # fmt: skip
    payload = messages.webhook_payload(record, "Brand")
    assert "&lt;@here&gt; &amp; &lt;b&gt;" in payload["text"]
    assert "<@here>" not in json.dumps(payload)


def test_a_webhook_that_fails_then_recovers_gets_the_alert_once(surge_warehouse, smtp, tmp_path):
    port, mailbox = smtp
    hook = Webhook(fail=2)  # attempts: 3 in the test distribution.yaml
    root = project(tmp_path, port, webhook_env="HOOK")
    try:
        assert watch(root, surge_warehouse, "2026-11-20 11:00", {"HOOK": hook.url}).exit_code == 0
    finally:
        hook.stop()
    assert len(hook.bodies) == 1 and len(mailbox.received) == 1


def test_servers_down_keep_the_alert_in_the_outbox_and_the_next_run_sends_it_once(
    surge_warehouse, tmp_path
):
    port = free_port()  # nothing listens
    hook = Webhook(fail=100)
    root = project(tmp_path, port, webhook_env="HOOK")
    env = {"HOOK": hook.url}
    outcome = watch(root, surge_warehouse, "2026-11-20 11:00", env)
    assert outcome.exit_code == 1 and len(outcome.failed) == 1
    assert [p.name for p in (root / "reports" / deliver.OUTBOX).iterdir()][0].startswith("alert-")
    assert log_lines(root) == []
    mailbox = Mailbox()
    controller = start_server(mailbox)
    hook.fail = 0
    write_yaml(root / "params" / "distribution.yaml", distribution(controller.port))
    try:
        for now in ("2026-11-20 11:05", "2026-11-20 11:10"):
            assert watch(root, surge_warehouse, now, env).exit_code == 0
    finally:
        controller.stop()
        hook.stop()
    assert len(mailbox.received) == 1 and len(hook.bodies) == 1
    assert list((root / "reports" / deliver.OUTBOX).iterdir()) == []


class KillOnData(Mailbox):
    """Keeps the message, then kills the sender before it can answer: the crash between
    the server taking an alert and the sender logging it."""

    process: subprocess.Popen | None = None

    async def handle_DATA(self, server, session, envelope):
        await super().handle_DATA(server, session, envelope)
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process = None
        return "250 Message accepted for delivery"


def test_a_run_killed_between_send_and_log_never_sends_the_alert_twice(surge_warehouse, tmp_path):
    mailbox = KillOnData()
    controller = start_server(mailbox)
    root = project(tmp_path, controller.port)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(surge_warehouse, warehouse)
    args = ["watch", "--warehouse", warehouse, "--params", root / "params",
            "--reports", root / "reports", "--no-ingest"]  # fmt: skip
    try:
        with open(tmp_path / "run.log", "w") as out:
            mailbox.process = subprocess.Popen(
                [str(CXPULSE), *map(str, args), "--now", "2026-11-20T11:00"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            killed = mailbox.process
            assert killed.wait(timeout=120) == -signal.SIGKILL
        assert len(mailbox.received) == 1 and log_lines(root) == []
        assert list((root / "reports" / command.JOURNAL).iterdir())  # the attempt's journal
        for now in ("2026-11-20T11:05", "2026-11-20T11:10"):
            assert cli.main([*map(str, args), "--now", now]) == 0
    finally:
        controller.stop()
    assert len(mailbox.received) == 1
    (entry,) = log_lines(root)
    assert (entry["kind"], entry["status"]) == ("alert", "unconfirmed")
    assert list((root / "reports" / command.JOURNAL).iterdir()) == []
