"""``cxpulse themes fit | assign`` and ``cxpulse metrics --metric themes`` on real files."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from cxpulse import cli, config, themes_command
from cxpulse.config import ParamsError

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["-q", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def warehouse(demo_warehouse, tmp_path) -> Path:
    """A copy of the demo warehouse without fits."""
    path = tmp_path / "w.duckdb"
    shutil.copy(demo_warehouse, path)
    return path


def test_fit_writes_the_brand_fit_and_a_later_fit_keeps_the_ids(capsys, warehouse):
    common = ["--warehouse", str(warehouse), "--params", str(PARAMS)]
    code, out, err = run(capsys, "themes", "fit", *common, "--as-of", "2026-02-28")
    assert code == 0, err
    first = themes_command.load_fit(warehouse, "Northwind Mobile", "negative")
    assert out.startswith(str(themes_command.fit_path(warehouse, first)))
    assert len(first.themes) >= 5 and first.last_day == "2026-02-28" and first.days == 90
    code, out, err = run(capsys, "themes", "fit", *common, "--as-of", "2026-03-19")
    assert code == 0, err
    second = themes_command.load_fit(warehouse, "Northwind Mobile", "negative")
    assert second.last_day == "2026-03-19"
    kept = {t.id for t in first.themes} & {t.id for t in second.themes}
    assert len(kept) >= len(first.themes) - 2
    assert {t.first_seen for t in first.themes} == {"2025-12-01"}  # its window's first day
    for theme in second.themes:
        assert theme.first_seen == ("2025-12-01" if theme.id in kept else "2026-03-19")
    assert [
        p.name for p in themes_command.list_fits(warehouse, "Northwind Mobile", "negative")
    ] == [
        "negative-2026-02-28-90d.json",
        "negative-2026-03-19-90d.json",
    ]
    day = config.parse_date("2026-03-01")
    assert themes_command.load_fit(warehouse, "Northwind Mobile", "negative", day) == first


def test_fit_of_a_brand_without_messages_says_so(capsys, warehouse):
    common = ["--warehouse", str(warehouse), "--params", str(PARAMS)]
    code, _, err = run(capsys, "themes", "fit", *common, "--brand", "Nobody")
    assert code == 2 and "no negative inbound messages of 'Nobody'" in err


def test_assign_discovers_themes_in_a_file_or_applies_the_fit(capsys, warehouse, tmp_path):
    source = tmp_path / "texts.csv"
    rows = [
        ("1", "My refund has not arrived after I cancelled"),
        ("2", "Broadband keeps dropping every evening"),
    ] * 30 + [("x", "")]
    with open(source, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "body"])
        writer.writerows(rows)
    out_path = tmp_path / "out.csv"
    code, _, err = run(
        capsys, "themes", "assign", str(source), "--text-column", "body", "--params", str(PARAMS),
        "-o", str(out_path),
    )  # fmt: skip
    assert code == 0, err
    with open(out_path, newline="") as handle:
        got = list(csv.DictReader(handle))
    assert list(got[0]) == ["id", "body", "theme_id", "theme_label"]
    assert got[0]["theme_id"] != got[1]["theme_id"]
    assert {r["theme_id"] for r in got if r["id"] == "1"} == {got[0]["theme_id"]}
    assert got[-1]["theme_id"] == "other"

    with_fit = ["--warehouse", str(warehouse), "--params", str(PARAMS)]
    code, _, err = run(capsys, "themes", "assign", str(source), "--text-column", "body", *with_fit)
    assert code == 2 and "no themes fitted for 'Northwind Mobile'" in err
    run(capsys, "themes", "fit", *with_fit)
    code, out, err = run(
        capsys, "themes", "assign", str(source), "--text-column", "body", *with_fit
    )
    assert code == 0, err
    fitted = {
        t.id for t in themes_command.load_fit(warehouse, "Northwind Mobile", "negative").themes
    }
    assigned = {line.split(",")[-2] for line in out.splitlines()[1:]}
    assert assigned <= fitted | {"other"}


def test_assign_names_a_missing_text_column(capsys, tmp_path):
    source = tmp_path / "texts.csv"
    source.write_text("id,text\n1,hello\n")
    code, _, err = run(capsys, "themes", "assign", str(source), "--text-column", "body")
    assert code == 2 and "no column 'body'" in err


def test_metric_themes_json_gives_label_messages_share_change_and_example_ids(
    capsys, demo_warehouse
):
    code, out, err = run(
        capsys, "metrics", "--metric", "themes", "--warehouse", str(demo_warehouse),
        "--params", str(PARAMS), "--from", "2026-03-09", "--to", "2026-03-15", "--json",
    )  # fmt: skip
    assert code == 0, err
    records = json.loads(out)
    assert {"label", "messages", "share", "change", "example_ids"} <= set(records[0])
    assert sum(r["share"] for r in records) == pytest.approx(1.0)
    assert all(1 <= len(r["example_ids"]) <= 3 for r in records if r["messages"])


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("themes: 1\n", "themes"),
        ("scope: everything\n", "scope"),
        ("pinned:\n  - name: Billing\n    phrases: []\n", "pinned.0.phrases"),
        ("colours: red\n", "colours"),
    ],
)
def test_bad_themes_yaml_names_file_and_key(tmp_path, text, key):
    (tmp_path / "themes.yaml").write_text(text)
    with pytest.raises(ParamsError, match=rf"themes\.yaml: key '{key}'"):
        config.load_themes(tmp_path)


def test_a_merge_into_a_theme_that_does_not_stay_is_refused(demo_warehouse, tmp_path):
    model = themes_command.load_fit(demo_warehouse, "Northwind Mobile", "negative")
    first, second = (t.id for t in model.themes[:2])
    (tmp_path / "themes.yaml").write_text(f"merge:\n  {first}: {second}\n  {second}: {first}\n")
    taxonomy = themes_command.taxonomy_of(config.load_themes(tmp_path))
    with pytest.raises(ParamsError, match=rf"themes\.yaml: key 'merge\.{first}'"):
        themes_command.check_taxonomy(taxonomy, model, tmp_path)
