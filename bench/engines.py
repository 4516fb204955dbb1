"""``make bench-engines``: the real samples' figures on DuckDB and on Spark, side by side.

Loads each real sample of ``../shared/data/real/`` (the Twitter support threads, the
Trustpilot reviews of ten pet insurers, the bank's call-centre logs) into its own
warehouse with ``cxpulse ingest``'s code, exports the warehouse's lake (``cxpulse lake``),
then runs the same ``cxpulse metrics`` queries (``metrics_command``, by brand, over all
time) on DuckDB (the warehouse) and on Spark in local mode (the lake). Prints one row per
brand and figure: both values and their relative difference, then the largest difference
of each sample; counts must be equal and the rest within ``RELATIVE``
(``tests/test_spark.py`` asserts it from these same functions).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import pandas as pd

from cxpulse import ingest, lake
from cxpulse.metrics.command import metrics_command

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
REAL = ROOT.parent / "shared" / "data" / "real"
RELATIVE = 1e-9
ALL_TIME = {"start": "1990-01-01", "end": "2030-01-01"}
SAMPLES = {
    "twcs": ("twcs", ["twcs-head5k/twcs.csv"], ("headline", "response", "sentiment")),
    "reviews": (
        "reviews",
        [
            f"trustpilot-pet-insurance/{b}_reviews.csv"
            for b in (
                "akc",
                "aspca",
                "embrace",
                "fetch",
                "figo",
                "healthypaws",
                "lemonade",
                "petsbest",
                "pumpkin",
                "spot",
            )
        ],  # fmt: skip
        ("headline", "reviews", "sentiment"),
    ),
    "calls": (
        "calls",
        [f"callcenter-anonbank-1999/{m}.txt" for m in ("january", "october")],
        ("headline", "calls"),
    ),
}
"""Sample -> (format, files under ``REAL``, metrics compared by brand)."""


def load_sample(name: str, folder: Path, real: Path = REAL) -> tuple[Path, Path]:
    """The warehouse holding sample ``name`` (loaded into ``folder``) and its lake."""
    fmt, files, _ = SAMPLES[name]
    warehouse = folder / "warehouse.duckdb"
    options = ingest.options_for(fmt, PARAMS)
    for file in files:
        ingest.ingest_file(real / file, fmt, warehouse, options)
    lake.export(warehouse, folder / "lake")
    return warehouse, folder / "lake"


def figures(name: str, warehouse: Path, engine: str, lake_dir: Path | None) -> dict:
    """Each compared metric of sample ``name`` by brand over all time, on ``engine``."""
    return {
        metric: metrics_command(
            warehouse,
            PARAMS,
            metric=metric,
            by=["brand"],
            engine=engine,
            lake=lake_dir,
            **ALL_TIME,
        )  # fmt: skip
        for metric in SAMPLES[name][2]
    }


def side_by_side(duck: pd.DataFrame, spark: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per brand and numeric figure of ``metric``: ``duckdb``, ``spark`` and
    ``relative`` = |spark - duckdb| / max(|duckdb|, 1e-300) (0 when both are missing or
    equal). Raises ``AssertionError`` when the two frames differ in shape or brands."""
    assert list(duck.columns) == list(spark.columns), (list(duck.columns), list(spark.columns))
    assert list(duck["brand"]) == list(spark["brand"]), metric
    rows = []
    for column in duck.columns:
        if column == "brand" or not pd.api.types.is_numeric_dtype(duck[column]):
            continue
        for brand, ours, theirs in zip(duck["brand"], duck[column], spark[column], strict=True):
            a = None if pd.isna(ours) else float(ours)
            b = None if pd.isna(theirs) else float(theirs)
            if a is None or b is None:
                relative = 0.0 if a is None and b is None else math.inf
            else:
                relative = abs(b - a) / max(abs(a), 1e-300) if a != b else 0.0
            rows.append({"metric": metric, "brand": brand, "figure": column, "duckdb": a,
                         "spark": b, "relative": relative})  # fmt: skip
    return pd.DataFrame(rows)


def compare(name: str, folder: Path, real: Path = REAL) -> pd.DataFrame:
    """``side_by_side`` of every compared metric of sample ``name``, loaded in ``folder``."""
    warehouse, lake_dir = load_sample(name, folder, real)
    duck = figures(name, warehouse, "duckdb", None)
    spark = figures(name, warehouse, "spark", lake_dir)
    frame = pd.concat([side_by_side(duck[m], spark[m], m) for m in duck], ignore_index=True)
    return frame.assign(sample=name)


def largest_brands(frame: pd.DataFrame, count: int) -> pd.DataFrame:
    """``frame``'s rows of the ``count`` brands of each sample with the most inbound
    messages, reviews or calls (headline)."""
    volume = frame[(frame["metric"] == "headline")
                   & frame["figure"].isin(["inbound", "reviews", "offered_calls"])]  # fmt: skip
    size = volume.groupby(["sample", "brand"])["duckdb"].max().fillna(0).reset_index()
    keep = size.sort_values("duckdb", ascending=False).groupby("sample").head(count)
    return frame.merge(keep[["sample", "brand"]], on=["sample", "brand"])


def markdown(frame: pd.DataFrame) -> str:
    """The comparison as a Markdown table (figures to 6 significant digits), without the
    figures missing on both engines."""

    def show(value: float | None) -> str:
        return "" if value is None or pd.isna(value) else f"{value:.6g}"

    lines = ["| sample | metric | brand | figure | DuckDB | Spark | rel. diff |",
             "|---|---|---|---|---:|---:|---:|"]  # fmt: skip
    present = frame[frame["duckdb"].notna() | frame["spark"].notna()]
    for row in present.itertuples(index=False):
        lines.append(
            f"| {row.sample} | {row.metric} | {row.brand} | {row.figure} | {show(row.duckdb)} "
            f"| {show(row.spark)} | {row.relative:.1e} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL, help="the real samples' folder")
    parser.add_argument(
        "--brands",
        type=int,
        default=2,
        metavar="N",
        help="print the N largest brands of each sample (default 2)",
    )
    parser.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    args = parser.parse_args(argv)
    if not args.real.is_dir():
        print(f"{args.real}: not found; the real samples live in ../shared/data/real")
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        frames = []
        for name in SAMPLES:
            folder = Path(scratch) / name
            folder.mkdir()
            frames.append(compare(name, folder, args.real))
    frame = pd.concat(frames, ignore_index=True)
    worst = frame.groupby("sample")["relative"].max()
    verdict = "\n".join(
        f"{sample}: {int((frame['sample'] == sample).sum())} figures of "
        f"{frame.loc[frame['sample'] == sample, 'brand'].nunique()} brand(s), largest relative "
        f"difference {value:.1e} ({'within' if value <= RELATIVE else 'OVER'} {RELATIVE:.0e})"
        for sample, value in worst.items()
    )
    text = markdown(largest_brands(frame, args.brands)) + "\n\n" + verdict
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if (worst <= RELATIVE).all() else 1


if __name__ == "__main__":
    sys.exit(main())
