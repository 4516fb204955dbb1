"""Published figures as history: tolerances, and restatement end to end (publish, a late
export, the next report's Restated box, the e-mail through a real SMTP server, cxpulse
history, a re-render kept beside the earlier publication)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from test_deliver import Mailbox, distribution, start_server, write_yaml

from cxpulse import cli, config, deliver, history, publish, render
from cxpulse.ingest import ingest_file

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = config.Tolerances()


@pytest.mark.parametrize(
    ("kind", "sent", "now", "restated"),
    [
        ("percent", 0.850, 0.846, False),  # 0.4 points
        ("percent", 0.850, 0.844, True),  # 0.6 points
        ("points", 12.0, 12.5, False),
        ("points", 12.0, 11.4, True),
        ("count", 1200, 1200, False),
        ("count", 1200, 1201, True),  # any change
        ("duration", 3600, 3650, False),
        ("stars", 4.10, 4.00, True),
        ("count", None, 3, True),  # a figure that appeared
        ("percent", None, None, False),
    ],
)
def test_changed_uses_the_tolerance_of_the_figures_kind(kind, sent, now, restated):
    assert history.changed(kind, sent, now, DEFAULT) is restated


def test_tolerance_comes_from_brand_yaml(tmp_path):
    shutil.copytree(ROOT / "params", tmp_path / "params")
    brand = tmp_path / "params" / "brand.yaml"
    text = brand.read_text().replace("  rate_points: 0.5\n", "  rate_points: 0.3\n")
    brand.write_text(text.replace("  count: 0\n", "  count: 5\n"))
    tolerance = config.load_brand(tmp_path / "params").restatements
    assert history.changed("percent", 0.850, 0.846, tolerance)  # 0.4 > 0.3 points
    assert not history.changed("count", 1200, 1204, tolerance)
    brand.write_text(text.replace("  rate_points: 0.3\n", "  rate_points: -1\n"))
    with pytest.raises(config.ParamsError, match="restatements.rate_points"):
        config.load_brand(tmp_path / "params")


def test_compare_reports_only_figures_beyond_tolerance():
    sent = pd.DataFrame(
        {
            "cadence": "weekly", "period": "2026-W11", "figure": ["response_rate", "inbound"],
            "label": ["Response rate", "Inbound messages"], "kind": ["percent", "count"],
            "value": [0.85, 1200.0], "published_at": pd.Timestamp("2026-03-16 07:00", tz="UTC"),
            "version": "2026-W11-abc", "report_version": 1,
        }
    )  # fmt: skip
    found = history.compare(
        "previous week", sent, {"response_rate": 0.848, "inbound": 1350}, DEFAULT
    )
    assert [(x.figure, x.sent, x.now) for x in found] == [("inbound", 1200.0, 1350.0)]


# End to end on the demo warehouse.

LAST_WEEK = "2026-03-15"  # the demo ends 2026-03-20: W11 is 9-15 March, W12 runs to date
THIS_WEEK = "2026-03-19"
LATE = 240
"""Unanswered inbound tweets of 11 March in the late export."""


def late_export(path: Path) -> Path:
    """A canonical CSV of ``LATE`` unanswered inbound tweets of Wednesday 11 March."""
    stamps = pd.date_range("2026-03-11 09:00", periods=LATE, freq="2min", tz="UTC")
    pd.DataFrame(
        {
            "id": [f"twitter:late-{i}" for i in range(LATE)],
            "channel": "twitter",
            "brand": "Northwind Mobile",
            "direction": "inbound",
            "author_id": [f"late-{i}" for i in range(LATE)],
            "created_at": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "text": "still no signal since the outage, nobody answers",
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def restated(tmp_path_factory, demo_warehouse):
    """Publish W11, load a late export of W11, send W12 through a real SMTP server."""
    root = tmp_path_factory.mktemp("restate")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    warehouse = root / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    args = (warehouse, root / "params", root / "reports")
    first = render.run_report("weekly", LAST_WEEK, *args)
    late = late_export(root / "late-export-w11.csv")
    ingest_file(late, "canonical", warehouse)
    mailbox = Mailbox()
    controller = start_server(mailbox)
    try:
        recipients = {"weekly": {"to": ["ceo@northwind.example"]}}
        write_yaml(
            root / "params" / "distribution.yaml",
            distribution(controller.port, recipients=recipients),
        )
        outcome = deliver.send_report("weekly", THIS_WEEK, *args)
    finally:
        controller.stop()
    return root, first, outcome, mailbox


def test_a_late_export_restates_last_weeks_figures_in_the_next_report(restated):
    root, first, outcome, mailbox = restated
    assert outcome.status == "sent", outcome.detail
    sent = json.loads((first.folder / "manifest.json").read_text())["headline_figures"]
    folder = root / "reports" / "weekly" / "2026-W12"
    manifest = json.loads((folder / "manifest.json").read_text())
    found = {x["figure"]: x for x in manifest["restatements"]}
    assert found["inbound"]["sent"] == sent["inbound"]
    assert found["inbound"]["now"] == sent["inbound"] + LATE
    assert (
        found["inbound"]["window"] == "previous week" and found["inbound"]["period"] == "2026-W11"
    )
    assert found["response_rate"]["now"] < found["response_rate"]["sent"]
    (source,) = found["inbound"]["sources"]
    assert Path(source["file"]).name == "late-export-w11.csv"
    assert source["rows"] == LATE and source["inserted"] == LATE
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(folder / "report.pdf").pages
    )
    assert "Restated" in text and "late-export-w11.csv" in text
    assert "Restated: previous week as sent" in text  # on the tile of the figure
    html = (folder / "report.html").read_text()
    assert "cx-restated-box" in html


def test_the_email_says_which_figures_were_restated(restated):
    root, _, _, mailbox = restated
    ((_, message),) = mailbox.reports()
    body = message.get_body(("plain",)).get_content()
    assert "Restated since it was sent:" in body
    assert "Inbound messages, previous week (2026-W11): sent as" in body
    assert "late-export-w11.csv" in body
    assert "Restated since it was sent" in message.get_body(("html",)).get_content()


def test_history_lists_publications_and_a_rerender_is_kept_and_recorded(restated, capsys):
    root, first, _, _ = restated
    warehouse = root / "warehouse.duckdb"
    again = render.run_report("weekly", LAST_WEEK, warehouse, root / "params", root / "reports")
    assert again.folder == first.folder  # the same published path, a new version
    weekly = root / "reports" / "weekly" / publish.VERSIONS
    kept = [p for p in weekly.iterdir() if publish.superseded(p)]
    assert len(kept) == 1 and (kept[0] / "report.pdf").is_file()
    manifest = json.loads((again.folder / "manifest.json").read_text())
    own = {x["figure"]: x for x in manifest["restatements"]}
    assert own["inbound"]["window"] == "this week" and own["inbound"]["report_version"] == 1

    code = cli.main(
        ["history", "--warehouse", str(warehouse), "--params", str(root / "params"),
         "--cadence", "weekly", "--period", "2026-W11", "--json"]
    )  # fmt: skip
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    inbound = [r for r in rows if r["figure"] == "inbound"]
    assert [r["report_version"] for r in inbound] == [1, 2]
    assert inbound[1]["value"] == inbound[0]["value"] + LATE and inbound[1]["restated"]
    assert {r["version"] for r in inbound} == {kept[0].name, Path(again.folder.readlink()).name}
    cli.main(["history", "--warehouse", str(warehouse), "--params", str(root / "params")])
    text = capsys.readouterr().out
    assert "weekly 2026-W11 · publication 2" in text and "RESTATED" in text
    assert "weekly 2026-W12 · publication 1" in text
    assert "RESTATED here: Inbound messages, previous week (2026-W11): sent as" in text
    assert inbound[0]["noticed"] == [] and "late-export-w11.csv" in json.dumps(rows)
