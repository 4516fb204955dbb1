import shutil
from pathlib import Path

import pytest

from cxpulse import config

PARAMS = Path(__file__).resolve().parents[1] / "params"


@pytest.fixture
def params_dir(tmp_path):
    target = tmp_path / "params"
    shutil.copytree(PARAMS, target)
    return target


def test_shipped_params_are_valid_for_every_cadence():
    assert config.cadences(PARAMS) == ("annual", "daily", "monthly", "quarterly", "weekly")
    for cadence in config.cadences(PARAMS):
        loaded = config.load_report_params(cadence, PARAMS)
        assert loaded.brand.brand
        assert loaded.report.notebook.endswith(f"{cadence}.ipynb")


def test_unknown_key_names_file_and_key(params_dir):
    path = params_dir / "daily.yaml"
    path.write_text(path.read_text() + "timeout_sec: 5\n")
    with pytest.raises(config.ParamsError) as err:
        config.load_report_params("daily", params_dir)
    message = str(err.value)
    assert str(path) in message and "'timeout_sec'" in message and "unknown key" in message


def test_wrong_value_names_file_key_and_expectation(params_dir):
    path = params_dir / "brand.yaml"
    path.write_text(path.read_text().replace("twitter: 3600", "twitter: -5"))
    with pytest.raises(config.ParamsError, match=r"brand\.yaml: key 'sla_targets_s'.*positive"):
        config.load_brand(params_dir)


def test_unknown_timezone_is_rejected(params_dir):
    path = params_dir / "brand.yaml"
    path.write_text(path.read_text().replace("Europe/London", "Mars/Olympus"))
    with pytest.raises(config.ParamsError, match="timezone.*unknown IANA timezone"):
        config.load_brand(params_dir)


def test_missing_and_malformed_files_are_clear_errors(params_dir):
    (params_dir / "weekly.yaml").unlink()
    with pytest.raises(config.ParamsError, match=r"weekly\.yaml: file not found"):
        config.load_report_params("weekly", params_dir)
    (params_dir / "daily.yaml").write_text("title: [unclosed\n")
    with pytest.raises(config.ParamsError, match="not valid YAML"):
        config.load_report_params("daily", params_dir)


def test_parse_date_says_what_was_expected():
    assert str(config.parse_date("2024-03-31")) == "2024-03-31"
    with pytest.raises(config.ParamsError, match="expected a date as YYYY-MM-DD"):
        config.parse_date("31/03/2024", "as_of")
    with pytest.raises(config.ParamsError, match="as_of"):
        config.parse_date("2024-02-30", "as_of")


def test_unknown_nested_key_lists_the_keys_allowed_there(params_dir):
    path = params_dir / "brand.yaml"
    path.write_text(path.read_text().replace("  short_abandon_s: 5\n", "  short_abandon: 5\n"))
    with pytest.raises(config.ParamsError) as err:
        config.load_brand(params_dir)
    assert str(err.value) == (
        f"{path}: key 'calls.short_abandon': unknown key; expected one of: "
        "service_level_threshold_s, short_abandon_s, service_level_formula"
    )


def test_unknown_key_inside_a_named_source_lists_the_source_keys(params_dir):
    path = params_dir / "sources.yaml"
    path.write_text(path.read_text().replace("    timezone: UTC\n", "    tz: UTC\n", 1))
    with pytest.raises(config.ParamsError, match=r"key 'sources.twcs.tz': unknown key; "
                       r"expected one of: format, brand, timezone, encoding"):  # fmt: skip
        config.load_sources(params_dir)


def test_a_key_written_twice_names_the_file_both_lines_and_the_key(params_dir):
    path = params_dir / "brand.yaml"
    lines = path.read_text().splitlines()
    first = next(n for n, line in enumerate(lines, 1) if line.startswith("  short_abandon_s:"))
    lines.insert(first, "  short_abandon_s: 30")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(config.ParamsError) as err:
        config.load_brand(params_dir)
    assert str(err.value) == (
        f"{path}: line {first + 1}: key 'short_abandon_s' appears twice "
        f"(first on line {first}); keep one"
    )


@pytest.mark.parametrize("line", ["opt_out_file: opt_out.csv", "customers_file: null"])
def test_a_file_named_in_brand_yaml_must_exist_when_params_load(params_dir, line):
    path, key = params_dir / "brand.yaml", line.split(":")[0]
    path.write_text(path.read_text().replace(line, f"{key}: lists/missing.csv"))
    with pytest.raises(config.ParamsError) as err:
        config.load_report_params("quarterly", params_dir)
    assert str(err.value) == (
        f"{path}: key '{key}': {params_dir / 'lists' / 'missing.csv'} not found "
        "(a CSV file relative to the params folder, or null)"
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "char"),
    [
        ("brand.yaml", "brand: Northwind Mobile", 'brand: "Northwind\\nMobile"', "brand", "000A"),
        ("brand.yaml", "brand: Northwind Mobile", 'brand: "North\\rwind"', "brand", "000D"),
        ("brand.yaml", "[Contoso Telecom,", '["Contoso \\u202eTelecom",', "competitors.0", "202E"),
        ("daily.yaml", "title: Daily customer brief", 'title: "Daily\\u2066 brief"', "title",
         "2066"),
        ("sources.yaml", "{NorthwindHelp: Northwind Mobile,", '{NorthwindHelp: "North\\x1bwind",',
         "sources.x-api.accounts.NorthwindHelp", "001B"),
    ],
    ids=["linefeed", "carriage-return", "bidi-override", "bidi-isolate", "escape"],
)  # fmt: skip
def test_control_characters_in_names_are_refused_naming_file_and_key(
    params_dir, file, old, new, key, char
):
    path = params_dir / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(config.ParamsError) as err:
        config.load_report_params("daily", params_dir)
        config.load_sources(params_dir)
    assert str(err.value).startswith(
        f"{path}: key '{key}': Value error, control character U+{char} at position"
    )
    assert "a name is one line of plain text" in str(err.value)


def test_sentiment_thresholds_are_probabilities_read_from_brand_yaml(params_dir):
    brand = config.load_brand(params_dir)
    assert brand.sentiment.negative_probability == 0.5
    assert brand.sentiment.strongly_negative_probability == 0.8
    path = params_dir / "brand.yaml"
    path.write_text(
        path.read_text().replace("negative_probability: 0.5 ", "negative_probability: 1.5")
    )
    with pytest.raises(
        config.ParamsError, match=r"key 'sentiment\.negative_probability'.*less than or equal to 1"
    ):
        config.load_brand(params_dir)


def test_strongly_negative_threshold_below_the_negative_one_is_refused(params_dir):
    path = params_dir / "brand.yaml"
    path.write_text(
        path.read_text().replace(
            "strongly_negative_probability: 0.8", "strongly_negative_probability: 0.3"
        )
    )
    with pytest.raises(
        config.ParamsError,
        match=r"key 'sentiment\.strongly_negative_probability'.*below negative_probability 0.5",
    ):
        config.load_brand(params_dir)


def write_cadence(params_dir, name, cadence_block: str) -> None:
    (params_dir / f"{name}.yaml").write_text(
        f"title: Test\nnotebook: notebooks/{name}.ipynb\ncadence:\n{cadence_block}"
    )


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "  period: fortnightly\n  comparisons: [{label: before, window: previous}]\n"
            "  trend: {periods: 2}\n",
            r"key 'cadence.period': .*unknown period 'fortnightly'; expected one of .*'4-4-5'",
        ),
        (
            "  period: monthly\n  comparisons: [{label: last 7 days, window: trailing}]\n"
            "  trend: {periods: 2}\n",
            r"key 'cadence.comparisons.0': .*give days with window 'trailing'",
        ),
        (
            "  period: monthly\n  comparisons: [{label: before, window: previous}]\n"
            "  trend: {days: 30, periods: 2}\n",
            r"key 'cadence.trend': .*give either days or periods",
        ),
        (
            "  period: monthly\n  comparisons: []\n  trend: {periods: 2}\n",
            r"key 'cadence.comparisons': .*at least 1 item",
        ),
    ],
)
def test_a_wrong_cadence_declaration_names_file_and_key(params_dir, block, message):
    write_cadence(params_dir, "fortnightly", block)
    with pytest.raises(config.ParamsError, match=message) as err:
        config.load_report_params("fortnightly", params_dir)
    assert str(params_dir / "fortnightly.yaml") in str(err.value)


def test_a_cadence_is_any_params_file_with_a_cadence_block(params_dir):
    write_cadence(
        params_dir,
        "halfyear",
        "  period: half-yearly\n  comparisons: [{label: previous half, window: previous}]\n"
        "  trend: {periods: 2}\n",
    )
    assert "halfyear" in config.cadences(params_dir)
    loaded = config.load_report_params("halfyear", params_dir)
    assert loaded.report.cadence.period == "half-yearly"
    assert "brand" not in config.cadences(params_dir)  # brand.yaml declares no cadence


def test_an_unknown_cadence_lists_the_declared_ones(params_dir):
    with pytest.raises(config.ParamsError, match=r"unknown cadence 'hourly'.*annual, daily"):
        config.load_report_params("hourly", params_dir)
    with pytest.raises(config.ParamsError, match=r"unknown cadence '\.\./brand'"):
        config.load_report_params("../brand", params_dir)


def test_recipients_of_an_undeclared_cadence_name_the_key(params_dir):
    path = params_dir / "distribution.yaml"
    path.write_text(path.read_text().replace("  monthly:\n", "  montly:\n"))
    with pytest.raises(config.ParamsError, match=r"key 'recipients.montly': no cadence 'montly'"):
        config.load_distribution(params_dir)


def test_the_report_period_follows_the_brand_fiscal_year(params_dir):
    path = params_dir / "brand.yaml"
    path.write_text(
        path.read_text().replace("fiscal_year_start_month: 1", "fiscal_year_start_month: 4")
    )
    report = config.load_report_params("quarterly", params_dir)
    period = config.resolve_period(report, "2026-05-10", None)
    assert (period.label, str(period.first_day)) == ("FY2027-Q1", "2026-04-01")


def test_a_target_calendar_needs_a_target(params_dir):
    path = params_dir / "brand.yaml"
    path.write_text(path.read_text().replace("  email: business", "  phone: business"))
    with pytest.raises(config.ParamsError, match=r"key 'sla_calendar': .*\['phone'\]: no target"):
        config.load_brand(params_dir)
    assert config.load_brand(PARAMS).business_targets == ("email",)
