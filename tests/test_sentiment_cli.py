"""``cxpulse sentiment score | evaluate`` on a small labelled CSV."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from cxpulse.cli import main

PARAMS = Path(__file__).resolve().parents[1] / "params"
ROWS = [
    ("@NorthwindHelp still no signal, third day running", "Negative", "north"),
    ("worst support ever, cancelling my contract", "negative", "north"),
    ("thank you so much, fixed in minutes!", "POSITIVE", "north"),
    ("what time does the shop open?", "neutral", "north"),
    ("love the new plan, great value", "positive", "south"),
    ("my bill is wrong again, awful", "negative", "south"),
]


@pytest.fixture
def labelled(tmp_path) -> Path:
    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message", "label", "team"])
        writer.writerows(ROWS)
    return path


def test_score_writes_each_rows_label_and_probabilities(labelled, tmp_path):
    out = tmp_path / "scored.csv"
    code = main(["sentiment", "score", str(labelled), "--text-column", "message", "-o", str(out)])
    assert code == 0
    scored = pd.read_csv(out)
    assert list(scored.columns) == [
        "message", "label", "team", "sentiment_label", "p_negative", "p_neutral", "p_positive",
        "sentiment",
    ]  # fmt: skip
    assert (scored[["p_negative", "p_neutral", "p_positive"]].sum(axis=1).round(3) == 1).all()
    assert scored["sentiment_label"].tolist()[:3] == ["negative", "negative", "positive"]


def test_score_with_vader_gives_its_one_hot_probabilities(labelled, capsys):
    args = ["sentiment", "score", str(labelled), "--text-column", "message", "--engine", "vader"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("sentiment_label,p_negative,p_neutral,p_positive,sentiment")
    assert ",positive,0.0,0.0,1.0," in lines[3]


def test_evaluate_prints_accuracy_f1_confusion_and_net_per_group(labelled, capsys):
    code = main(
        ["sentiment", "evaluate", str(labelled), "--text-column", "message",
         "--label-column", "label", "--group-column", "team", "--params", str(PARAMS)]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "engine: care-lr" in out and "6 labelled texts" in out
    assert re.search(r"accuracy: \d\.\d{3}", out) and re.search(r"macro-F1: \d\.\d{3}", out)
    assert re.search(r"negative\s+\d+\s+\d+\s+\d+", out)
    north = next(line for line in out.splitlines() if line.strip().startswith("north"))
    # north: 2 negative, 1 positive by people -> (1 - 2) / 3 = -33.3
    assert north.split()[1:3] == ["4", "-33.3"]
    assert "off by" in out


def test_evaluate_names_the_file_line_and_value_of_a_bad_label(labelled, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(labelled.read_text().replace("POSITIVE", "good"))
    code = main(
        ["sentiment", "evaluate", str(bad), "--text-column", "message", "--label-column", "label"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"{bad}: line 4: column 'label' is 'good'" in err
    assert "positive, neutral or negative" in err or "negative, neutral, positive" in err


def test_evaluate_names_a_missing_column(labelled, capsys):
    code = main(
        ["sentiment", "evaluate", str(labelled), "--text-column", "text", "--label-column", "label"]
    )
    assert code == 2
    assert "no column 'text'; the header has: message, label, team" in capsys.readouterr().err
