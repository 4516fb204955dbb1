"""The figures behind a report: every section captured, figures.xlsx and Parquet beside the
report (checked with openpyxl against the metrics), the xlsx attached to the e-mail, and the
chart menu (save as SVG/PNG, view data) in a real chromium, offline."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import altair as alt
import nbformat
import openpyxl
import pandas as pd
import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS
from IPython.display import HTML
from test_deliver import Mailbox, distribution, start_server, write_yaml

from cxpulse import config, deliver, figures, render, report

ROOT = Path(__file__).resolve().parents[1]
WEEK = "2026-03-19"  # the demo warehouse of the tests ends 2026-03-20


class Report:
    """Stands for ``report.Report`` in a namespace of sections (what ``capture`` needs)."""

    def __init__(self) -> None:
        self.shown: dict = {}


def test_capture_sections_wraps_each_section_and_keeps_only_the_outermost():
    frame = pd.DataFrame({"day": pd.to_datetime(["2026-03-01"]), "n": [3]})

    def chart(r: Report) -> alt.Chart:
        return alt.Chart(frame, title=alt.Title("Volume", subtitle=["n per day"])).mark_bar()

    def both(r: Report) -> alt.HConcatChart:
        return alt.hconcat(chart(r), chart(r))

    def words(r: Report) -> HTML:
        return HTML("<p>no table</p>")

    def helper(r: Report) -> str:
        return "not a section"

    namespace = {"chart": chart, "both": both, "words": words, "helper": helper, "Report": Report}
    namespace["both"].__annotations__["r"] = "Report"  # as `from __future__ import annotations`
    for f in (chart, words, helper):
        f.__annotations__["r"] = "Report"
    assert figures.capture_sections(namespace, "Report") == ["chart", "both", "words"]
    r = Report()
    namespace["both"](r)
    namespace["words"](r)
    assert list(r.shown) == ["both"]  # the panels drawn inside it are not sections shown
    assert r.shown["both"].tables.keys() == {"both"}  # the one frame, drawn twice
    namespace["chart"](r)
    assert r.shown["chart"].contract == "n per day" and r.shown["chart"].title == "Volume"


def test_every_section_of_the_report_module_is_captured():
    sections = [
        name
        for name, f in vars(report).items()
        if callable(f) and not name.startswith("_")
        and getattr(f, "__module__", "") == report.__name__
        and str(f.__annotations__.get("return", "")).endswith(("HTML", "Chart", "Section"))
        and next(iter(f.__annotations__.values()), None) == "Report"
    ]  # fmt: skip
    assert {"kpi_tiles", "response_table", "frt_chart", "needs_action"} <= set(sections)
    assert [
        name for name in sections if not getattr(vars(report)[name], "cx_captured", False)
    ] == []


def test_sheet_names_fit_excel():
    names = figures.sheet_names(["a" * 40, "a" * 40, "x[1]:y", "A"])
    assert names == ["a" * 31, "a" * 29 + "~2", "x_1__y", "A"]


# A weekly report of the demo warehouse, rendered once.


@pytest.fixture(scope="module")
def weekly(tmp_path_factory, demo_warehouse):
    root = tmp_path_factory.mktemp("figures")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    result = render.run_report("weekly", WEEK, demo_warehouse, root / "params", root / "reports")
    return root, result.folder


def sheets(folder: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(folder / figures.XLSX)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def records(rows: list[tuple]) -> pd.DataFrame:
    """A sheet's table: the header on its second row, then the rows."""
    return pd.DataFrame(rows[2:], columns=rows[1])


def test_figures_xlsx_holds_every_table_and_chart_the_notebook_shows(weekly):
    root, folder = weekly
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = manifest["figures"]["tables"]
    assert manifest["figures"]["xlsx"] == "figures.xlsx"
    assert [t["sheet"] for t in listed] == list(sheets(folder))
    source = (ROOT / "notebooks" / "weekly.ipynb").read_text()
    called = set(re.findall(r"cx\.(\w+)\(r\)", source))
    no_table = {"scope", "headlines", "restated_box"}  # sentences; the box is empty here
    assert {t["section"] for t in listed} == called - no_table
    book = sheets(folder)
    for table in listed:
        rows = book[table["sheet"]]
        assert rows[0][0] == table["contract"]  # the contract line first
        assert len(rows) - 2 == (table["rows"] if table["in_xlsx"] else 1)
        parquet = pd.read_parquet(folder / table["parquet"])
        assert len(parquet) == table["rows"]


def test_figures_xlsx_numbers_are_the_metrics_numbers(weekly, demo_warehouse):
    root, folder = weekly
    r = report.open_report("weekly", WEEK, demo_warehouse, root / "params")
    book = sheets(folder)
    header, *cells = book["response_table"][1:]
    columns = ("inbound", "response_rate", "frt_median_s", "sla_attainment")
    numbers = [row[header.index(c)] for row in cells for c in columns]
    # numbers, not text; an empty cell where the metric is missing (no answered message)
    assert all(isinstance(v, int | float) or v is None for v in numbers), numbers
    assert sum(isinstance(v, int | float) for v in numbers) > len(numbers) / 2
    channels = records(book["response_table"]).set_index("channel")
    expected = r.by_channel.set_index("channel")
    assert list(channels.index) == list(expected.index)
    for column in columns:
        for channel in expected.index:
            value, want = channels.loc[channel, column], expected.loc[channel, column]
            if pd.isna(want):
                assert pd.isna(value), (channel, column)
            else:
                assert value == pytest.approx(want), (channel, column)
    tiles = records(book["kpi_tiles"]).set_index("figure")
    assert tiles.loc["response_rate", "value"] == pytest.approx(r.current["response_rate"])
    assert tiles.loc["inbound", "value"] == r.current["inbound"]
    assert tiles.loc["response_rate", "previous week"] == pytest.approx(r.previous["response_rate"])
    parquet = pd.read_parquet(folder / "figures" / "response_table.parquet")
    assert parquet["inbound"].tolist() == channels["inbound"].tolist()


def test_distribution_can_attach_the_figures(weekly, demo_warehouse, tmp_path):
    root, folder = weekly
    mailbox = Mailbox()
    controller = start_server(mailbox)
    try:
        recipients = {"weekly": {"to": ["ceo@northwind.example"]}}
        write_yaml(
            root / "params" / "distribution.yaml",
            distribution(controller.port, recipients=recipients, attach_figures=True),
        )
        outcome = deliver.send_report(
            "weekly", WEEK, demo_warehouse, root / "params", root / "reports",
            render_report=False,
        )  # fmt: skip
    finally:
        controller.stop()
    assert outcome.status == "sent", outcome.detail
    ((_, message),) = mailbox.reports()
    (xlsx,) = [p for p in message.iter_attachments() if p.get_filename().endswith(".xlsx")]
    assert xlsx.get_content_type().endswith("spreadsheetml.sheet")
    assert xlsx.get_content() == (folder / figures.XLSX).read_bytes()
    write_yaml(tmp_path / "distribution.yaml", distribution(1, attach_figures="sometimes"))
    with pytest.raises(config.ParamsError, match="attach_figures"):
        config.load_distribution(tmp_path)


@pytest.mark.browser
def test_chart_menu_saves_svg_and_png_and_shows_the_data_offline(weekly):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (make browser)")
    from playwright.sync_api import sync_playwright

    _, folder = weekly
    html = folder / "report.html"
    charts = sum(
        "application/vnd.vegalite" in json.dumps(o.get("data", {}))
        for c in nbformat.read(folder / "report.ipynb", as_version=4).cells
        for o in c.get("outputs", [])
    )
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(accept_downloads=True)
        page.on("request", lambda request: requests.append(request.url))
        page.goto(html.as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('figure.cx-chart.cx-live').length === {charts}"
        )
        figure = page.locator("figure.cx-chart").first
        menu_open = "d => { d.open = true; }"  # the menu, whether a click closed it or not
        figure.locator("details").evaluate(menu_open)
        menu = figure.locator(".vega-actions a").all_inner_texts()
        assert menu == ["Save as SVG", "Save as PNG", "View data"]
        with page.expect_download() as svg:
            figure.locator(".vega-actions a", has_text="Save as SVG").click()
        assert Path(svg.value.path()).read_text().lstrip().startswith("<svg")
        figure.locator("details").evaluate(menu_open)
        with page.expect_download() as png:
            figure.locator(".vega-actions a", has_text="Save as PNG").click()
        assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        figure.locator("details").evaluate(menu_open)
        figure.locator(".vega-actions a", has_text="View data").click()
        shown = figure.locator(".cx-data table tbody tr").count()
        spec = json.loads(figure.locator("script.cx-spec").text_content())
        drawn = sum(len(rows) for rows in spec.get("datasets", {}).values())
        browser.close()
    assert shown == drawn > 0
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []


def test_a_table_longer_than_the_workbook_takes_is_in_parquet_only(tmp_path):
    long = pd.DataFrame({"id": [f"tw:{i}" for i in range(5)], "theme_id": "billing"})
    short = pd.DataFrame({"theme_id": ["billing"], "messages": [5]})
    shown = [figures.Shown("themes_table", "Themes", "messages per theme",
                           {"themes": short, "themes.members": long})]  # fmt: skip
    listed = figures.write_figures(shown, tmp_path, xlsx_rows=3)["tables"]
    assert [(t["rows"], t["in_xlsx"]) for t in listed] == [(1, True), (5, False)]
    book = sheets(tmp_path)
    assert book[listed[0]["sheet"]] == [("messages per theme", None),
                                        ("theme_id", "messages"), ("billing", 5)]  # fmt: skip
    assert book[listed[1]["sheet"]] == [
        ("messages per theme",),
        (f"5 rows: in {listed[1]['parquet']} beside this workbook",),
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / listed[1]["parquet"]), long)


def test_a_table_the_engine_writes_is_the_table_it_executes(demo_warehouse, tmp_path):
    week = report.open_report("weekly", WEEK, demo_warehouse, ROOT / "params")
    members = report.theme_members(week)  # an expression: DuckDB writes it (COPY ... TO)
    expected = members.execute()
    assert len(expected) > 3
    shown = [figures.Shown("themes_table", "Themes", "members", {"themes.members": members})]
    for rows, in_xlsx in ((len(expected), True), (3, False)):
        folder = tmp_path / str(rows)
        folder.mkdir()
        (listed,) = figures.write_figures(shown, folder, xlsx_rows=rows)["tables"]
        assert (listed["rows"], listed["in_xlsx"]) == (len(expected), in_xlsx)
        written = pd.read_parquet(folder / listed["parquet"])
        pd.testing.assert_frame_equal(written, expected, check_dtype=False)
        sheet = sheets(folder)[listed["sheet"]]
        if in_xlsx:
            pd.testing.assert_frame_equal(records(sheet), expected, check_dtype=False)
        else:
            note = f"{len(expected):,} rows: in {listed['parquet']} beside this workbook"
            assert sheet[1] == (note,)
