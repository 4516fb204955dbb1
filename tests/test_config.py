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
    for cadence in config.CADENCES:
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
