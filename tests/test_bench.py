"""``make bench-smoke``: the benchmark's every step on small sizes, so ``make bench`` keeps
working. Its timings mean nothing here (small data, a shared machine); its shape does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_smoke_measures_every_target(tmp_path):
    out = tmp_path / "results.json"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = json.loads(out.read_text())
    assert set(results["ingest"]) == {"twcs", "reviews"}
    for fmt in ("twcs", "reviews"):
        ingest = results["ingest"][fmt]
        assert ingest["rows"] == results["config"]["ingest_rows"]
        assert ingest["rows_per_s_before_sentiment"] > ingest["rows_per_s_after_sentiment"] > 0
        assert ingest["sentiment_texts_per_s_cached"] > 0
    reports = results["reports"]
    for key in ("daily_small", "daily_large", "all_three_one_process_large", "naive_daily_large"):
        assert reports[key]["seconds"] > 0
        assert reports[key]["peak_rss_mb"] > 0
    assert set(reports["naive_daily_large"]["stages"]) == {"papermill", "nbconvert", "weasyprint"}
    watch = results["watch"]
    assert watch["nothing_new"]["seconds"] > 0 and "0 notification(s) sent" in watch["output"]
    large = results["ingest_large"]
    assert large["rows"] == results["config"]["large_ingest_rows"]
    assert large["rows_per_s_before_sentiment"] > 0 and large["peak_rss_mb"] > 0
    assert len(results["targets"]) == 12
