"""`cxpulse run` on the real notebooks: a daily report with PDF, HTML and manifest."""

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from cxpulse import config, render

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


@pytest.fixture(scope="module")
def daily(tmp_path_factory, demo_warehouse):
    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    result = render.run_report("daily", None, demo_warehouse, root / "params", root / "reports")
    return result


def test_daily_report_writes_all_four_files_and_its_figures(daily):
    names = {p.name for p in daily.folder.iterdir()}
    assert names == {
        "report.ipynb", "report.html", "report.pdf", "manifest.json", "figures.xlsx", "figures",
    }  # fmt: skip
    assert daily.folder.parent.name == "daily"


def test_daily_pdf_has_pages_brand_and_headlines(daily):
    brand = config.load_brand(ROOT / "params").brand
    reader = PdfReader(daily.folder / "report.pdf")
    text = " ".join(page.extract_text() for page in reader.pages)
    assert 1 <= len(reader.pages) <= 4
    assert brand in text
    assert "Needs action now" in text
    assert re.search(r"(rose|fell|held steady|was) .* (target|\.)", text)


def test_daily_html_loads_nothing_from_the_network(daily):
    html = (daily.folder / "report.html").read_text()
    links = _Links()
    links.feed(html)
    remote = [u for u in links.urls if u.startswith(("http://", "https://", "//"))]
    assert remote == []
    assert "<script" in html  # the interactive charts
    assert "cx.kpi_tiles" not in html  # no code cells


def test_manifest_records_window_parameters_and_figures(daily):
    manifest = json.loads((daily.folder / "manifest.json").read_text())
    assert manifest["cadence"] == "daily"
    assert manifest["period"] == daily.folder.name
    assert manifest["rows"] > 0
    assert 0 <= manifest["headline_figures"]["response_rate"] <= 1
    assert set(manifest["seconds"]) >= {"execute", "html", "pdf", "total"}


def test_daily_pdf_carries_the_generated_headline_sentences(daily):
    manifest = json.loads((daily.folder / "manifest.json").read_text())
    text = " ".join(
        " ".join(page.extract_text().split())
        for page in PdfReader(daily.folder / "report.pdf").pages
    )
    assert 3 <= len(manifest["headlines"]) <= 5
    for sentence in manifest["headlines"]:
        assert " ".join(sentence.split()) in text


def test_daily_pdf_fits_two_pages_and_an_email(daily):
    assert len(PdfReader(daily.folder / "report.pdf").pages) <= 2
    assert (daily.folder / "report.pdf").stat().st_size <= 2 * 1024 * 1024


def test_daily_pdf_pages_are_not_blank(daily, tmp_path):
    import subprocess

    subprocess.run(
        ["pdftoppm", "-png", "-r", "30", str(daily.folder / "report.pdf"), str(tmp_path / "p")],
        check=True,
    )
    from PIL import Image

    for png in sorted(tmp_path.glob("p-*.png")):
        grey = Image.open(png).convert("L")
        dark = sum(grey.histogram()[:200]) / (grey.width * grey.height)
        assert dark > 0.02, f"{png.name}: {dark:.1%} of the page is ink"


def test_page_size_follows_params(demo_warehouse, tmp_path):
    import yaml

    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(ROOT / "params", tmp_path / "params")
    path = tmp_path / "params" / "brand.yaml"
    brand = yaml.safe_load(path.read_text())
    brand["page_size"] = "Letter"
    path.write_text(yaml.safe_dump(brand))
    result = render.run_report(
        "daily", None, demo_warehouse, tmp_path / "params", tmp_path / "reports"
    )
    box = PdfReader(result.folder / "report.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_a_cadence_added_by_a_params_file_and_a_notebook_renders(demo_warehouse, tmp_path):
    """A half-year cadence: params/halfyear.yaml and notebooks/halfyear.ipynb, no code."""
    import subprocess
    import sys

    import nbformat

    shutil.copytree(ROOT / "params", tmp_path / "params")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params" / "halfyear.yaml").write_text(
        "title: Half-year customer review\n"
        "notebook: notebooks/halfyear.ipynb\n"
        "cadence:\n"
        "  period: half-yearly\n"
        "  comparisons:\n"
        "    - {label: previous half, window: previous}\n"
        "    - {label: same half last year, window: year_ago}\n"
        "  trend: {periods: 2}\n"
        "  history_periods: 3\n"
    )
    parameters = nbformat.v4.new_code_cell(
        'as_of = None\nwarehouse = "../data/warehouse.duckdb"\nparams_dir = "../params"',
        metadata={"tags": ["parameters"]},
    )
    calls = [
        "from cxpulse import report as cx",
        'r = cx.open_report("halfyear", as_of, warehouse, params_dir)',
        "cx.scope(r)",
        "cx.kpi_tiles(r)",
        "cx.reputation_table(r)",
    ]
    notebook = nbformat.v4.new_notebook(
        cells=[parameters, *map(nbformat.v4.new_code_cell, calls)],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(notebook, tmp_path / "notebooks" / "halfyear.ipynb")
    run = subprocess.run(
        [Path(sys.executable).with_name("cxpulse"), "run", "halfyear",
         "--warehouse", str(demo_warehouse), "--params", str(tmp_path / "params"),
         "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    folder = tmp_path / "reports" / "halfyear" / "2025-H2"  # the demo data ends 2026-03-20
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["cadence"], manifest["comparison"]) == ("halfyear", "previous half")
    pages = PdfReader(folder / "report.pdf").pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    assert "Half-year customer review" in text and "same half last year" in text
    assert "2025-H1" in text  # the reputation table's periods are halves
