"""The render pipeline on fixture notebooks: execute, HTML, PDF, manifest, atomic publish."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from conftest import cadence_block
from pypdf import PdfReader

from cxpulse import periods, publish, render, report, schema, warehouse
from cxpulse.config import ParamsError

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
COVER = {
    "brand": "Northwind",
    "title": "Daily customer brief",
    "period": "Saturday 30 March 2024",
    "generated_at": "2024-03-31 07:00 BST",
}


def write_cadence(root: Path, cadence: str, notebook: str, title: str = "") -> None:
    """``params/<cadence>.yaml`` for ``notebook``, with the repository's cadence block."""
    (root / "params" / f"{cadence}.yaml").write_text(
        yaml.safe_dump(
            {"title": title or cadence, "notebook": notebook, "timeout_s": 120,
             "cadence": cadence_block(cadence)}
        )
    )  # fmt: skip


def make_project(root: Path, notebook: str) -> Path:
    """A project folder: params/, notebooks/<notebook>, data/warehouse.duckdb (4 rows)."""
    (root / "params").mkdir(parents=True)
    (root / "notebooks").mkdir()
    shutil.copy(NOTEBOOKS / notebook, root / "notebooks" / notebook)
    (root / "params" / "brand.yaml").write_text("brand: Northwind\ntimezone: Europe/London\n")
    write_cadence(root, "daily", f"notebooks/{notebook}", "Daily customer brief")
    stamps = ["2024-03-29T09:00", "2024-03-30T08:00", "2024-03-30T12:00", "2024-03-31T10:00"]
    rows = pd.DataFrame(
        {
            "id": [f"twitter:{i}" for i in range(len(stamps))],
            "channel": "twitter",
            "brand": "Northwind",
            "direction": "inbound",
            "created_at": pd.to_datetime(stamps, utc=True),
            "text": "my phone does not work",
        }
    )
    con = warehouse.connect(root / "data" / "warehouse.duckdb")
    warehouse.store(con, schema.conform(rows))
    con.close()
    return root


def run(root: Path, as_of: str | None = None) -> render.RunResult:
    return render.run_report(
        "daily", as_of, root / "data" / "warehouse.duckdb", root / "params", root / "reports"
    )


class Links(HTMLParser):
    """Every src/href attribute, every script body and every element class of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.classes: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)
            if name == "class" and value:
                self.classes.extend(value.split())
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> render.RunResult:
    """The fixture notebook rendered once, as_of left to default (last full day of data)."""
    return run(make_project(tmp_path_factory.mktemp("project"), "three_charts.ipynb"))


def test_run_report_writes_notebook_html_pdf_and_manifest(rendered):
    names = sorted(p.name for p in rendered.folder.iterdir())
    assert names == ["manifest.json", "report.html", "report.ipynb", "report.pdf"]
    assert rendered.folder.parent.name == "daily"
    assert published_versions(rendered.folder.parent) == {rendered.folder.name: 1}


def test_as_of_defaults_to_the_last_full_day_of_data(rendered):
    manifest = json.loads((rendered.folder / "manifest.json").read_text())
    assert rendered.folder.name == "2024-03-30"
    assert manifest["as_of"] == "2024-03-30"
    assert manifest["parameters"]["as_of"] == "2024-03-30"
    assert manifest["rows"] == 2
    assert manifest["window"]["start"] == "2024-03-30T00:00:00+00:00"
    assert manifest["data_range"] == ["2024-03-29T09:00:00+00:00", "2024-03-31T10:00:00+00:00"]


def test_manifest_records_versions_and_seconds_per_stage(rendered):
    manifest = json.loads((rendered.folder / "manifest.json").read_text())
    stages = {"validate", "execute", "summary", "figures", "charts", "html", "pdf", "total"}
    assert set(manifest["seconds"]) == stages
    assert {"cxpulse", "python", "papermill", "weasyprint", "altair"} <= set(manifest["versions"])
    assert isinstance(manifest["headline_figures"], dict)
    assert str(rendered.folder) in rendered.summary()


def test_charts_drawn_by_the_exporting_process_are_saved_in_the_notebook(rendered):
    nb = nbformat.read(rendered.folder / "report.ipynb", as_version=4)
    charts = [o["data"] for c in nb.cells for o in c.get("outputs", []) if "data" in o]
    charts = [d for d in charts if any(k.startswith("application/vnd.vegalite") for k in d)]
    assert len(charts) == 3 and all(d["image/svg+xml"].startswith("<svg") for d in charts)


def test_parameters_are_injected_into_the_notebook(rendered):
    nb = nbformat.read(rendered.folder / "report.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert '"2024-03-30"' in injected[0].source
    assert "As of 2024-03-30" in (rendered.folder / "report.html").read_text()


def test_pdf_has_the_heading_and_page_numbers(rendered):
    reader = PdfReader(rendered.folder / "report.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == rendered.pages >= 1
    assert "Fixture heading" in text
    assert f"1 of {len(reader.pages)}" in text


def test_html_fetches_nothing_from_the_network(rendered):
    links = parse((rendered.folder / "report.html").read_text())
    assert not [url for url in links.urls if url.startswith(("http:", "https:", "//"))]


def test_html_inlines_the_vega_bundle_once_for_three_charts(rendered):
    html = (rendered.folder / "report.html").read_text()
    links = parse(html)
    assert links.classes.count("cx-chart") == 3
    assert links.classes.count("cx-spec") == 3
    assert sum("window.vegaEmbed=" in script for script in links.scripts) == 1


def test_html_shows_outputs_but_no_code_prompts_or_streams(rendered):
    html = (rendered.folder / "report.html").read_text()
    assert "Fixture heading" in html
    assert "charts.sla_by_channel" not in html
    assert "import pandas" not in html
    assert "In&nbsp;[" not in html and "In [" not in html
    assert "stdout noise" not in html


def test_customer_text_stays_escaped(rendered):
    html = (rendered.folder / "report.html").read_text()
    assert "Help! &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_print_html_has_static_svg_charts_and_no_script(rendered):
    nb = nbformat.read(rendered.folder / "report.ipynb", as_version=4)
    html = render.export_html(nb, False, COVER)
    links = parse(html)
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(images) == 3 and "<svg" not in html  # images: WeasyPrint does not style them
    assert all(base64.b64decode(i).decode().startswith("<svg") for i in images)
    assert not links.scripts
    assert "Northwind" in html and "Saturday 30 March 2024" in html


def test_html_to_pdf_refuses_network_urls(tmp_path):
    html = '<h1>Hi</h1><img src="http://127.0.0.1:9/never.png">'
    assert render.html_to_pdf(html, tmp_path / "x.pdf", "Letter") == 1
    assert PdfReader(tmp_path / "x.pdf").pages[0].mediabox.width == pytest.approx(612)


EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


@pytest.mark.skipif(not EMOJI_FONT.exists(), reason=f"{EMOJI_FONT} missing (make browser)")
def test_emoji_print_with_the_emoji_font_and_bidi_overrides_print_visibly(tmp_path):
    table = report._table(
        [report._Col("text", "Message")],
        [{"text": "Thanks 😀👍 but \u202eLTR\u202c"}],
        "contract",
        empty="",
    )
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("cx.urgent(r)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": table.data})]
    nb.cells = [cell]
    pages = render.html_to_pdf(render.export_html(nb, False, COVER), tmp_path / "e.pdf", "A4")
    assert pages == 1
    drawn: list[tuple[str, str]] = []  # (text, the font it is drawn with)
    text = (
        PdfReader(tmp_path / "e.pdf")
        .pages[0]
        .extract_text(
            visitor_text=lambda text, cm, tm, font, size: drawn.append(
                (text, str(font["/BaseFont"]).split("+")[-1] if font else "")
            )
        )
    )
    assert ("😀👍", "Noto-Color-Emoji") in drawn
    digits = [font for text, font in drawn if any(c.isdigit() for c in text)]
    assert digits and "Noto-Color-Emoji" not in digits  # it has keycap digits: not for text
    assert "[U+202E]LTR[U+202C]" in text


def test_broken_notebook_raises_naming_the_cell_and_publishes_nothing(tmp_path):
    root = make_project(tmp_path, "broken.ipynb")
    with pytest.raises(render.RenderError) as caught:
        run(root, "2024-03-29")
    message = str(caught.value)
    assert "broken.ipynb" in message
    assert "share = total / 0" in message
    assert "ZeroDivisionError: division by zero" in message
    assert not (root / "reports" / "daily" / "2024-03-29").exists()
    assert (root / "reports" / "daily" / ".failed-2024-03-29" / "report.ipynb").is_file()


def test_failed_run_keeps_the_older_good_render(rendered, tmp_path):
    root = make_project(tmp_path, "broken.ipynb")
    final = root / "reports" / "daily" / rendered.folder.name
    shutil.copytree(rendered.folder, final)
    before = {p.name: p.read_bytes() for p in final.iterdir()}
    with pytest.raises(render.RenderError):
        run(root, rendered.folder.name)
    assert {p.name: p.read_bytes() for p in final.iterdir()} == before


def test_several_reports_in_one_process_each_publish_or_fail_on_their_own(tmp_path):
    root = make_project(tmp_path, "three_charts.ipynb")
    shutil.copy(NOTEBOOKS / "broken.ipynb", root / "notebooks" / "broken.ipynb")
    for cadence, notebook in (("weekly", "broken"), ("quarterly", "three_charts")):
        write_cadence(root, cadence, f"notebooks/{notebook}.ipynb")
    args = (None, root / "data" / "warehouse.duckdb", root / "params", root / "reports")
    results = render.run_reports(["daily", "quarterly"], *args)
    assert [r.folder.relative_to(root / "reports").as_posix() for r in results] == [
        "daily/2024-03-30",
        "quarterly/2023-Q4",  # the last complete quarter
    ]
    assert all((r.folder / "report.pdf").is_file() for r in results)
    day = (results[0].folder / "manifest.json").read_text()
    with pytest.raises(render.RenderError, match="share = total / 0"):
        render.run_reports(["daily", "weekly", "quarterly"], *args)  # quarterly, weekly, daily
    assert (results[0].folder / "manifest.json").read_text() == day  # not started again
    (failed,) = (root / "reports" / "weekly").glob(".failed-*")
    assert (failed / "report.ipynb").is_file()
    assert published_versions(root / "reports" / "weekly") == {}  # nothing for the week


def test_reports_in_one_process_share_a_kernel_but_not_a_namespace(tmp_path):
    root = make_project(tmp_path, "three_charts.ipynb")
    base = nbformat.read(NOTEBOOKS / "three_charts.ipynb", as_version=4)
    extra = {"quarterly": "leftover = 42", "daily": 'assert "leftover" not in globals()'}
    for cadence, code in extra.items():  # quarterly renders first, then daily
        nb = nbformat.from_dict(base)
        nb.cells.append(nbformat.v4.new_code_cell(code))
        nbformat.write(nb, root / "notebooks" / f"{cadence}.ipynb")
        write_cadence(root, cadence, f"notebooks/{cadence}.ipynb")
    args = (None, root / "data" / "warehouse.duckdb", root / "params", root / "reports")
    daily, _ = render.run_reports(["daily", "quarterly"], *args)
    executed = nbformat.read(daily.folder / "report.ipynb", as_version=4)
    counts = [c.execution_count for c in executed.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # numbered from 1 again


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux /proc")
def test_rendering_again_in_one_process_keeps_no_more_descriptors(tmp_path):
    root = make_project(tmp_path, "three_charts.ipynb")
    run(root)  # the first run also opens what stays for the process (imports, caches)
    before = open_descriptors()
    run(root)
    run(root)
    assert open_descriptors() <= before  # each papermill client used to keep a dozen


def published_versions(folder: Path) -> dict[str, int]:
    """Each published report of a cadence ``folder`` and how many versions its folder holds
    (1: only the one published) besides the earlier publications kept (superseded); fails
    on anything else left in the folder."""
    versions = folder / publish.VERSIONS
    held = (
        sorted(p.name for p in versions.iterdir() if not publish.superseded(p))
        if versions.exists()
        else []
    )
    links = {p.name: os.readlink(p) for p in folder.iterdir() if p.is_symlink()}
    assert sorted(f"{publish.VERSIONS}/{name}" for name in held) == sorted(links.values())
    others = {p.name for p in folder.iterdir()} - set(links) - {publish.VERSIONS}
    assert {name for name in others if not name.startswith(".failed-")} == set()
    return {name: sum(1 for n in held if links[name].endswith(n)) for name in links}


def test_a_render_replaces_an_older_one_keeps_it_and_removes_what_killed_runs_left(
    rendered, tmp_path
):
    root = make_project(tmp_path, "three_charts.ipynb")
    daily = root / "reports" / "daily"
    shutil.copytree(rendered.folder, daily / f".old-2024-03-30-k2/{rendered.folder.name}")
    (daily / ".tmp-2024-03-30-x8").mkdir()
    dead = publish.start_version(daily, "2024-03-29")  # a run killed while it wrote
    os.close(dead.lock)
    first = run(root, "2024-03-30")
    first_version = os.readlink(first.folder)
    second = run(root, "2024-03-30")
    assert second.folder == first.folder and os.readlink(second.folder) != first_version
    assert published_versions(daily) == {"2024-03-30": 1}
    assert json.loads((second.folder / "manifest.json").read_text())["period"] == "2024-03-30"
    earlier = daily / first_version  # kept whole, marked superseded by the second
    assert publish.superseded(earlier) and (earlier / "report.pdf").is_file()
    assert os.readlink(second.folder).split("/")[-1] in (earlier / publish.SUPERSEDED).read_text()
    kept = [p for p in (daily / publish.VERSIONS).iterdir() if publish.superseded(p)]
    assert kept == [earlier]


def test_unknown_params_key_fails_before_anything_runs(tmp_path):
    root = make_project(tmp_path, "three_charts.ipynb")
    (root / "params" / "daily.yaml").write_text("title: x\nnotebook: n.ipynb\ntimeout: 5\n")
    with pytest.raises(ParamsError, match=r"daily.yaml: key 'timeout': unknown key"):
        run(root, "2024-03-30")
    assert not (root / "reports").exists()


def test_as_of_in_the_future_is_refused(tmp_path):
    root = make_project(tmp_path, "three_charts.ipynb")
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(ParamsError, match="in the future"):
        run(root, tomorrow)
    with pytest.raises(ParamsError, match="YYYY-MM-DD"):
        run(root, "31/03/2024")


def test_describe_period_says_the_period_as_a_reader_would():
    day = dt.date(2024, 3, 31)
    assert render.describe_period(periods.period_for("daily", day, "UTC")) == "Sunday 31 March 2024"
    weekly = render.describe_period(periods.period_for("weekly", day, "UTC"))
    assert weekly == "2024-W13 · 25 Mar – 31 Mar 2024"
    quarterly = render.describe_period(periods.period_for("quarterly", day, "UTC"))
    assert quarterly == "2024-Q1 · 1 Jan – 31 Mar 2024"


def test_a_period_not_yet_over_is_reported_to_date():
    day = dt.date(2024, 5, 12)
    period = periods.to_date(periods.period_for("quarterly", day, "Europe/London"), day)
    assert (period.label, period.first_day, period.last_day) == (
        "2024-Q2",
        dt.date(2024, 4, 1),
        day,
    )
    assert period.end == pd.Timestamp("2024-05-12T23:00", tz="UTC")
    assert render.describe_period(period) == "2024-Q2 · 1 Apr – 12 May 2024 (to date)"


@pytest.mark.browser
def test_interactive_html_draws_every_chart_offline_in_chromium(rendered, open_in_chromium):
    seen = open_in_chromium(rendered.folder / "report.html", 3)
    assert seen.charts == [True, True, True]
    assert seen.errors == []
    assert [url for url in seen.requests if not url.startswith(("file:", "data:"))] == []
