"""The real samples rendered as reports: TWCS as a weekly review of one brand, Trustpilot
reviews as a quarterly review. Each gets a params folder of its own, written by the test
from the shipped params (brand, competitors, time zone, expected channels)."""

import shutil
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from cxpulse import render
from cxpulse.ingest import ingest_file

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def make_project(root: Path, **brand) -> Path:
    """A copy of notebooks/ and params/ under ``root`` with brand.yaml keys replaced."""
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    path = root / "params" / "brand.yaml"
    params = yaml.safe_load(path.read_text())
    params.update(brand)
    path.write_text(yaml.safe_dump(params))
    (root / "params" / "annotations.yaml").write_text("annotations: []\n")
    return root / "params"


def pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(path)
    return len(reader.pages), " ".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def twcs_weekly(real_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("twcs")
    params = make_project(
        root, brand="AppleSupport", timezone="UTC", channels=["twitter"], opt_out_file=None,
        competitors=["AmazonHelp", "Uber_Support", "Delta", "SpotifyCares", "comcastcares"],
    )  # fmt: skip
    ingest_file(real_data / "twcs-head5k" / "twcs.csv", "twcs", root / "w.duckdb")
    return render.run_report("weekly", "2017-11-05", root / "w.duckdb", params, root / "reports")


@pytest.fixture(scope="module")
def trustpilot_quarterly(real_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("trustpilot")
    brand = yaml.safe_load((ROOT / "params" / "brand.yaml").read_text())
    # The sample has no company replies: without a review target, attainment is not
    # invented as 0% and the reputation index rests on sentiment and stars.
    targets = {k: v for k, v in brand["sla_targets_s"].items() if k != "review"}
    params = make_project(
        root, brand="lemonade", timezone="America/New_York", channels=["review"],
        competitors=["spot", "embrace", "petsbest", "aspca", "healthypaws"],
        sla_targets_s=targets, opt_out_file=None,
    )  # fmt: skip
    for path in sorted((real_data / "trustpilot-pet-insurance").glob("*.csv")):
        ingest_file(path, "reviews", root / "w.duckdb")
    return render.run_report("quarterly", "2023-12-31", root / "w.duckdb", params, root / "reports")


def test_twcs_sample_renders_a_weekly_review_of_one_brand(twcs_weekly):
    assert twcs_weekly.folder.name == "2017-W44"
    pages, text = pdf_text(twcs_weekly.folder / "report.pdf")
    assert 2 <= pages <= 8
    assert "AppleSupport" in text and "Weekly customer review" in text
    assert "Twitter median first response" in text
    assert "Median first response by brand" in text  # the competitor benchmark


def test_trustpilot_sample_renders_a_quarterly_review(trustpilot_quarterly):
    assert trustpilot_quarterly.folder.name == "2023-Q4"
    pages, text = pdf_text(trustpilot_quarterly.folder / "report.pdf")
    assert 2 <= pages <= 8
    assert "lemonade" in text and "Quarterly customer review" in text
    assert "Review rating" in text and "Reputation index" in text


@pytest.mark.browser
def test_real_weekly_html_draws_every_chart_offline(twcs_weekly, open_in_chromium):
    html = twcs_weekly.folder / "report.html"
    charts = html.read_text().count('<figure class="cx-chart')
    seen = open_in_chromium(html, charts)
    assert charts >= 6 and seen.charts == [True] * charts
    assert seen.errors == []
    assert [u for u in seen.requests if not u.startswith(("file:", "data:"))] == []
