"""The same metrics on Spark as on DuckDB: the catalogue, hand-computed rows, real samples.

Each warehouse is exported to a lake (``cxpulse lake``), which Spark reads through Ibis'
PySpark backend in local mode; DuckDB reads the warehouse file. Counts must be equal,
rates and seconds within 1e-9 relative (quantiles are continuous, linear interpolation,
on both: DuckDB ``quantile_cont``, Spark ``percentile``). One Spark session serves the run.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import ibis
import nbformat
import numpy as np
import pandas as pd
import pytest
from test_metrics_command import CASES, ROWS, setup  # noqa: F401 - setup is a fixture

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import engines  # noqa: E402 - bench/engines.py: the same comparison make bench-engines prints

from cxpulse import config, lake, render
from cxpulse.metrics.command import (
    REGISTRY,
    metrics_command,
    open_table,
    spark_session,
)

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
SPARK = config.EngineParams(name="spark")
RELATIVE = 1e-9


@pytest.fixture(scope="session")
def spark():
    """The one local Spark session of the test run (2 shuffle partitions)."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed (make spark)")
    if shutil.which("java") is None:
        pytest.skip("no java on PATH (make java)")
    session = spark_session()
    session.conf.set("spark.sql.shuffle.partitions", "2")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def lake_of(warehouse_path: Path) -> config.EngineParams:
    """Spark over the lake of ``warehouse_path`` (exported beside it)."""
    folder = Path(warehouse_path).with_name("lake")
    lake.export(Path(warehouse_path), folder)
    return SPARK.model_copy(update={"lake": str(folder)})


def both(warehouse_path: Path, spark) -> tuple[ibis.Table, ibis.Table]:
    """The interactions of ``warehouse_path`` on DuckDB and, through its lake, on Spark."""
    return open_table(warehouse_path), open_table(warehouse_path, lake_of(warehouse_path))


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, str | list | np.ndarray) and pd.isna(value)):
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC") if value.tzinfo else value
    return value


def assert_same_figures(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Same columns and rows; floats within ``RELATIVE``, everything else equal."""
    assert list(spark.columns) == list(duck.columns)
    assert len(spark) == len(duck)
    for column in duck.columns:
        ours, theirs = duck[column], spark[column]
        if pd.api.types.is_float_dtype(ours) or pd.api.types.is_float_dtype(theirs):
            np.testing.assert_allclose(
                theirs.astype("float64"),
                ours.astype("float64"),
                rtol=RELATIVE,
                equal_nan=True,
                err_msg=column,
            )
        else:
            assert list(map(_plain, theirs)) == list(map(_plain, ours)), column


def test_catalogue_on_spark_gives_the_duckdb_figures(spark, demo_warehouse, tmp_path):
    engine = lake_of(demo_warehouse)
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,author_ids,plan_value_month,churned_at\n"
        "c1,cust-104555;cust-103104,40,2026-03-15\nc2,cust-117317,30,\nc3,cust-100001,25,\n"
    )
    month = ["--cadence", "monthly", "--as-of", "2026-03-01"]
    cases = {
        **{name: window for name, (window, _) in CASES.items()},
        "reputation": ["--cadence", "weekly", "--as-of", "2026-03-16"],
        "churn": month,
    }
    assert set(cases) == set(REGISTRY)
    for name, window in cases.items():
        options = dict(zip(window[::2], window[1::2], strict=True))
        kwargs = {
            "start": options.get("--from"),
            "end": options.get("--to"),
            "cadence": options.get("--cadence"),
            "as_of": options.get("--as-of"),
            "metric": name,
            "customers_path": customers if name == "churn" else None,
        }
        duck = metrics_command(demo_warehouse, PARAMS, **kwargs)
        on_spark = metrics_command(
            demo_warehouse, PARAMS, engine="spark", lake=engine.lake, **kwargs
        )
        assert_same_figures(duck, on_spark)


def on_both(setup: tuple[Path, Path], **options) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: F811
    """``metrics_command(**options)`` on the small warehouse of ``setup``: DuckDB, Spark."""
    path, params = setup
    duck = metrics_command(path, params, **options)
    return duck, metrics_command(path, params, engine="spark", lake=lake_of(path).lake, **options)


def test_hand_computed_first_response_is_the_same_on_spark(spark, setup):  # noqa: F811
    """tw:2 (Sunday 31 March 23:30 UTC, 00:30 BST) answered Monday 08:30 UTC: 9 h on the
    clock, 30 min of them in business hours (08:00-20:00 London from 09:00 BST)."""
    duck, on_spark = on_both(
        setup, metric="response", by=["day"], start="2024-03-30", end="2024-04-01"
    )
    assert_same_figures(duck, on_spark)
    april = on_spark[pd.to_datetime(on_spark["day"]) == "2024-04-01"].iloc[0]
    assert (april["inbound"], april["answered"]) == (1, 1)
    assert (april["frt_median_s"], april["frt_median_business_s"]) == (32400, 1800)
    assert len(ROWS) == 5


def test_iso_weeks_and_quarters_are_labelled_alike_on_both_engines(spark, setup):  # noqa: F811
    duck, on_spark = on_both(
        setup, metric="volume", by=["week", "quarter"], start="2024-03-30", end="2024-04-02"
    )
    assert_same_figures(duck, on_spark)
    assert list(on_spark["week"]) == ["2024-W13", "2024-W14"]
    assert list(on_spark["quarter"]) == ["2024-Q1", "2024-Q2"]


@pytest.mark.parametrize("name", list(engines.SAMPLES))
def test_real_sample_figures_are_the_same_on_spark(spark, real_data, tmp_path, name):
    """Every figure ``make bench-engines`` prints for the sample: counts equal, the rest
    within 1e-9 relative, and each metric has figures on both engines."""
    frame = engines.compare(name, tmp_path, real_data)
    assert set(frame["metric"]) == set(engines.SAMPLES[name][2])
    assert frame["duckdb"].notna().sum() > 10
    worst = frame.loc[frame["relative"].idxmax()]
    assert worst["relative"] <= RELATIVE, worst.to_dict()


def report_outputs(path: Path) -> tuple[list[str], list[list]]:
    """The executed notebook's text outputs, and each chart's data sets (in a fixed order:
    their names are hashes of their values, which differ in the last bits)."""
    texts, charts = [], []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            for kind, value in output.get("data", {}).items():
                if "vega" in kind:
                    sets = list(value.get("datasets", {}).values())
                    charts.append(sorted(sets, key=lambda rows: (len(rows), sorted(rows[0]))))
                elif kind.startswith("text/"):
                    texts.append(value)
    return texts, charts


def assert_close(ours: object, theirs: object, where: str = "") -> None:
    """Equal, floats within ``RELATIVE``, inside lists and dicts."""
    if isinstance(ours, float) or isinstance(theirs, float):
        assert theirs == pytest.approx(ours, rel=RELATIVE, abs=1e-12), where
    elif isinstance(ours, dict):
        assert sorted(theirs) == sorted(ours), where
        for key in ours:
            assert_close(ours[key], theirs[key], f"{where}/{key}")
    elif isinstance(ours, list):
        assert len(theirs) == len(ours), where
        for n, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_close(a, b, f"{where}[{n}]")
    else:
        assert theirs == ours, where


@pytest.mark.slow
def test_the_three_reports_render_from_spark_with_the_duckdb_numbers(
    spark, demo_warehouse, tmp_path
):
    engine = lake_of(demo_warehouse)
    cadences = ["daily", "weekly", "quarterly"]
    args = ("2026-03-16", demo_warehouse, PARAMS)
    duck = render.run_reports(cadences, *args, tmp_path / "duckdb")
    on_spark = render.run_reports(
        cadences, *args, tmp_path / "spark", engine="spark", lake=Path(engine.lake)
    )
    for ours, theirs in zip(duck, on_spark, strict=True):
        texts, charts = report_outputs(ours.folder / "report.ipynb")
        spark_texts, spark_charts = report_outputs(theirs.folder / "report.ipynb")
        assert spark_texts == texts
        assert_close(charts, spark_charts, ours.folder.name)
