"""The edge of the metric layer: open the warehouse and answer ``cxpulse metrics``.

The only module of ``cxpulse.metrics`` that touches files (the warehouse, the params, the
customer lists); every metric it calls is pure. ``REGISTRY`` names each metric of the
catalogue for ``cxpulse metrics --metric NAME``: a small function of a ``MetricContext``,
the window and options resolved once, so the command line stays thin.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir
import pandas as pd
from ibis.backends.duckdb import Backend as DuckDBBackend

from cxpulse import config, customers, periods
from cxpulse.metrics.alerts import (
    negative_spikes,
    urgent_unanswered,
    viral_negatives,
    worst_reviews,
)
from cxpulse.metrics.benchmark import response_benchmark, share_of_voice
from cxpulse.metrics.boundaries import opt_out_breaches
from cxpulse.metrics.calls import call_summary
from cxpulse.metrics.engagement import engagement_rate
from cxpulse.metrics.grouping import GROUP_KEYS, as_utc
from cxpulse.metrics.hour_of_week import inbound_by_hour_of_week, sla_by_hour_of_week
from cxpulse.metrics.impact import churn_by_care
from cxpulse.metrics.issues import rising_issues, top_issues
from cxpulse.metrics.overview import HEADLINE_COUNTS, daily_series, headline
from cxpulse.metrics.reputation import reputation_by_period
from cxpulse.metrics.response import response_summary
from cxpulse.metrics.reviews import review_summary
from cxpulse.metrics.sentiment import sentiment_summary
from cxpulse.metrics.spend import volume_vs_spend
from cxpulse.metrics.survey import nps_by_channel, survey_summary
from cxpulse.metrics.volume import volume_summary
from cxpulse.metrics.wait import customer_wait
from cxpulse.quantify import Calibration
from cxpulse.schema import CHANNELS, DERIVED, TABLE_COLUMNS
from cxpulse.warehouse import connect as connect_warehouse
from cxpulse.warehouse import filled_columns, trim_cache


def sentiment_calibration(params: config.BrandParams) -> Calibration:
    """The calibration of the engine in ``params.sentiment`` (``cxpulse.sentiment``,
    measured on held-out labelled texts) that PACC corrects shares with (``quantify``),
    for every report and ``cxpulse metrics``."""
    from cxpulse import sentiment

    return Calibration.from_dict(sentiment.calibration(params.sentiment.engine))


def sentiment_engine_label(params: config.BrandParams) -> str:
    """Name and version of the engine in ``params.sentiment``, for contract lines
    ("care-lr 2026.12")."""
    from cxpulse import sentiment

    return sentiment.engine_label(params.sentiment.engine)


class WarehouseReader(DuckDBBackend):
    """An Ibis DuckDB backend that holds the warehouse file only while it runs queries.

    DuckDB lets one process write a file or many processes read it, never both: a report
    (or a notebook left open) that kept its connection would stop every ingest. A query
    opens the file read-only (``warehouse.connect``: waiting a bounded time for a writer to
    finish); the connection closes ``LINGER_S`` after the last query, so the queries of one
    report section share it and an idle kernel holds nothing. After each query it keeps
    at most ``warehouse.READ_CACHE_LIMIT`` of the blocks it read (``trim_cache``).
    """

    LINGER_S = 0.5

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._can_reconnect = False
        self.path = Path(path)
        self.con = None
        self._depth = 0
        self._turn = threading.RLock()
        self._closer: threading.Timer | None = None
        _READERS.add(self)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """The warehouse open for the queries inside (threads take turns)."""
        with self._turn:
            if self._closer is not None:
                self._closer.cancel()
            if self.con is None:
                self.con = connect_warehouse(self.path, read_only=True)
                self._post_connect()
                self._memtables = weakref.WeakSet()  # in-memory tables live on the connection
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    trim_cache(self.con)
                    self._closer = threading.Timer(self.LINGER_S, self._close)
                    self._closer.daemon = True
                    self._closer.start()

    def _close(self) -> None:
        with self._turn:
            if self._depth == 0 and self.con is not None:
                self.con.close()
                self.con = None

    def close_now(self) -> None:
        """Close the warehouse now, on this thread, and stop the pending closer."""
        with self._turn:
            if self._closer is not None:
                self._closer.cancel()
            self._close()

    def table(self, name: str, /, *, database: str | tuple[str, str] | None = None) -> ir.Table:
        with self._reading():
            return super().table(name, database=database)

    def execute(self, expr: ir.Expr, /, **kwargs: Any) -> Any:
        with self._reading():
            return super().execute(expr, **kwargs)

    def to_pyarrow(self, expr: ir.Expr, /, **kwargs: Any) -> Any:
        with self._reading():
            return super().to_pyarrow(expr, **kwargs)

    def filled_columns(self) -> set[str]:
        """``warehouse.filled_columns`` of the file."""
        with self._reading():
            return filled_columns(self.con)

    def to_parquet(self, expr: ir.Table, /, path: str | Path, **kwargs: Any) -> None:
        with self._reading():
            super().to_parquet(expr, path, **kwargs)


_READERS: weakref.WeakSet[WarehouseReader] = weakref.WeakSet()


@atexit.register
def _close_readers() -> None:
    """At exit, close every reader's warehouse on the main thread. Left to its timer, a
    close that ran while the interpreter shut down was killed inside DuckDB's C++ code,
    which aborts the process ("FATAL: exception not rethrown") after a run that
    succeeded."""
    for reader in list(_READERS):
        reader.close_now()


def open_warehouse_table(warehouse_path: Path, engine: config.EngineParams) -> ir.Table:
    """The ``interactions`` table of the warehouse file, read-only, session time zone UTC;
    the file is open only while a query runs (``WarehouseReader``). ``ParamsError`` for
    a warehouse whose derived columns (``schema.DERIVED``) are not yet computed for every
    row (``warehouse.filled_columns``)."""
    reader = WarehouseReader(Path(warehouse_path))
    t = reader.table("interactions")
    missing = [c for c in DERIVED if c not in reader.filled_columns()]
    if missing:
        raise config.ParamsError(
            f"{warehouse_path}: {', '.join(missing)} not yet computed for every row (made by "
            "an older cxpulse, or its upgrade was stopped); open it for writing once to "
            "compute them (any 'cxpulse ingest' does, even of a file already loaded), then "
            "run this again"
        )
    return t


SPARK_LOCAL = {
    "spark.master": "local[*]",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
}
"""The session cxpulse starts when no Spark launcher started one: local mode, few shuffle
partitions (a report runs dozens of small aggregations; 200, Spark's default, costs
seconds each), and the JVM's quick compiler only (C1): a report's queries are many and
short, and the optimising compiler's work did not pay back (the daily on Spark, 40k rows:
61 and 51 s against 71 and 67; 10M rows: 64 s against 72)."""


def spark_session() -> Any:
    """The Spark session to run on: the active one (spark-submit, a Databricks job), else
    a local one (``SPARK_LOCAL``). Partition values are read as text (``month=2026-11``
    stays a string)."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        builder = SparkSession.builder.appName("cxpulse")
        if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit
            for key, value in SPARK_LOCAL.items():
                builder = builder.config(key, value)
        session = builder.getOrCreate()
    session.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    return session


def open_spark_table(warehouse_path: Path, engine: config.EngineParams) -> ir.Table:
    """The interactions on Spark: the lake ``engine.lake`` (``cxpulse lake``) or the
    catalog table ``engine.table``, with the warehouse's columns in its order and
    ``created_at`` a UTC timestamp, as on DuckDB."""
    import ibis

    if engine.table is None and engine.lake is None:
        raise config.ParamsError(
            "engine spark needs a lake (--lake DIR, or engine: {name: spark, lake: DIR} in "
            "brand.yaml) or a catalog table (engine: {name: spark, table: NAME})"
        )
    lake = None if engine.lake is None else Path(engine.lake)
    if lake is not None and not (lake / "_lake.json").is_file():
        raise config.ParamsError(f"{lake}: not a lake (no _lake.json; run 'cxpulse lake {lake}')")
    con = ibis.pyspark.connect(spark_session())
    if lake is None:
        t = con.table(engine.table)
    else:
        t = con.read_parquet(str(lake.resolve()), table_name=f"interactions_{abs(hash(lake))}")
    utc = {
        c: t[c].cast("timestamp('UTC')")
        for c, kind in TABLE_COLUMNS.items()
        if kind == "TIMESTAMPTZ"
    }
    return t.mutate(**utc).select(*TABLE_COLUMNS)


OPENERS: dict[str, Callable[[Path, config.EngineParams], ir.Table]] = {
    "duckdb": open_warehouse_table,
    "spark": open_spark_table,
}
"""Engine name (``engine`` of brand.yaml, --engine) -> how its interactions are opened."""


def open_table(warehouse_path: Path, engine: config.EngineParams | None = None) -> ir.Table:
    """The interactions on ``engine`` (default: DuckDB on the warehouse file)."""
    engine = engine or config.EngineParams()
    return OPENERS[engine.name](Path(warehouse_path), engine)


def choose_engine(
    params: config.BrandParams, name: str | None = None, lake: Path | None = None
) -> config.EngineParams:
    """``engine`` of brand.yaml, with --engine and --lake over it."""
    chosen = params.engine
    if name is not None and name != chosen.name:
        chosen = config.EngineParams(name=name)
    if lake is not None:
        chosen = chosen.model_copy(update={"lake": str(lake), "table": None})
    return chosen


def _latest(t: ir.Table) -> pd.Timestamp | None:
    latest = t.created_at.max().execute()
    return None if pd.isna(latest) else as_utc(latest)


def choose_period(
    t: ir.Table,
    tz: str,
    start: str | None = None,
    end: str | None = None,
    cadence: str | None = None,
    as_of: str | None = None,
    fiscal_year_start_month: int = 1,
) -> periods.Period:
    """The window ``cxpulse metrics`` reports on.

    ``start``/``end`` (--from/--to, local days, inclusive) give a span; ``cadence`` with
    ``as_of`` gives the period containing that day; ``cadence`` alone, or nothing (daily),
    the period containing the last full day of data. Quarters and years follow the fiscal
    year starting in month ``fiscal_year_start_month``. Mixing the two ways, or giving one
    end of a span only, raises ``ParamsError``.
    """
    if (start or end) and (cadence or as_of):
        raise config.ParamsError("give either --from/--to or --cadence/--as-of, not both")
    if start or end:
        if not (start and end):
            raise config.ParamsError("--from and --to go together: give both (days inclusive)")
        first = config.parse_date(start, "--from")
        last = config.parse_date(end, "--to")
        if last < first:
            raise config.ParamsError(f"--to {last} is before --from {first}")
        return periods.span(first, last, tz)
    if as_of and not cadence:
        raise config.ParamsError("--as-of needs --cadence (daily, weekly, monthly, ...)")
    cadence = cadence or "daily"
    if cadence not in periods.KINDS:
        raise config.ParamsError(
            f"unknown cadence {cadence!r}; expected one of {', '.join(periods.KINDS)}"
        )
    if as_of:
        day = config.parse_date(as_of, "--as-of")
    else:
        latest = _latest(t)
        if latest is None:
            raise config.ParamsError("the warehouse holds no interactions yet; nothing to measure")
        day = periods.last_full_day(latest, tz)
    return periods.period_for(cadence, day, tz, fiscal_year_start_month)


BrandUse = Literal["filter", "ours", "all"]
"""How a metric reads --brand. filter: only that brand's rows (default: every brand);
ours: the brand the metric is about (default: ``brand`` of brand.yaml); all: it compares
every brand, so --brand does not apply."""


@dataclass(frozen=True)
class MetricContext:
    """What a registered metric needs, resolved once from the command's options."""

    table: ir.Table
    """The interactions: --channel only, and --brand only for metrics that filter by it."""
    period: periods.Period
    comparison: periods.Period
    """The previous period of the same cadence; before a --from/--to span, the span of as
    many days just before it (``periods.previous``)."""
    params: config.BrandParams
    """brand.yaml as loaded."""
    brand: str
    """The brand a metric about ours is about: --brand, else ``brand`` of brand.yaml."""
    by: list[str]
    cadence: str | None = None
    """--cadence as given (None when the window came from --from/--to or the default)."""
    params_dir: Path = Path("params")
    customers: Path | None = None
    calibration: Calibration | None = None
    """The sentiment engine's calibration (``sentiment_calibration``)."""
    warehouse: Path | None = None
    """The warehouse file (themes read its fits beside it)."""

    @property
    def start(self) -> pd.Timestamp:
        return self.period.start

    @property
    def end(self) -> pd.Timestamp:
        return self.period.end

    @property
    def tz(self) -> str:
        return self.period.timezone

    @property
    def brand_params(self) -> config.BrandParams:
        """``params`` with ``brand`` set to ``brand``."""
        if self.brand == self.params.brand:
            return self.params
        return self.params.model_copy(update={"brand": self.brand})


MetricFunction = Callable[[MetricContext], pd.DataFrame]


@dataclass(frozen=True)
class Metric:
    """One entry of ``REGISTRY``: how ``cxpulse metrics --metric NAME`` runs a metric."""

    name: str
    run: MetricFunction
    groups: bool = False
    """True when it accepts --by."""
    brand: BrandUse = "filter"
    customers: bool = False
    """True when it needs --customers."""

    @property
    def summary(self) -> str:
        """The first line of ``run``'s docstring, for --list-metrics."""
        lines = (self.run.__doc__ or "").strip().splitlines()
        return lines[0] if lines else ""


REGISTRY: dict[str, Metric] = {}
"""Metric name (kebab-case) -> ``Metric``, in the order --list-metrics prints them."""


def register(
    name: str, *, groups: bool = False, brand: BrandUse = "filter", customers: bool = False
) -> Callable[[MetricFunction], MetricFunction]:
    """Add the decorated function to ``REGISTRY`` as ``name``."""

    def add(run: MetricFunction) -> MetricFunction:
        REGISTRY[name] = Metric(name, run, groups=groups, brand=brand, customers=customers)
        return run

    return add


@register("headline", groups=True)
def _headline(c: MetricContext) -> pd.DataFrame:
    """Headline figures per --by group: response, first response, SLA, sentiment, calls, reviews."""
    frame = headline(c.table, c.start, c.end, c.params, by=c.by, calibration=c.calibration)
    return frame.astype({k: "Int64" for k in HEADLINE_COUNTS})


@register("response", groups=True)
def _response(c: MetricContext) -> pd.DataFrame:
    """Response rate, first response (clock and business hours), SLA attainment per --by group."""
    return response_summary(
        c.table,
        c.start,
        c.end,
        by=c.by,
        sla_targets=c.params.sla_targets_s,
        tz=c.tz,
        business_hours=c.params.business_hours,
        business_targets=c.params.business_targets,
    )


@register("calls", groups=True)
def _calls(c: MetricContext) -> pd.DataFrame:
    """Calls offered, abandoned and in the IVR; ASA, service level and AHT per --by group."""
    return call_summary(c.table, c.start, c.end, by=c.by, calls=c.params.calls, tz=c.tz)


@register("reviews", groups=True)
def _reviews(c: MetricContext) -> pd.DataFrame:
    """Reviews, mean stars, share of 1-2 stars and 1-star reviews per --by group."""
    return review_summary(c.table, c.start, c.end, by=c.by, tz=c.tz)


@register("survey", groups=True)
def _survey(c: MetricContext) -> pd.DataFrame:
    """Survey responses, NPS and CSAT with their 90% intervals per --by group."""
    return survey_summary(c.table, c.start, c.end, by=c.by, tz=c.tz)


@register("nps-by-channel")
def _nps_by_channel(c: MetricContext) -> pd.DataFrame:
    """NPS and CSAT by the channel of the contact each survey response rates."""
    return nps_by_channel(c.table, c.start, c.end)


@register("sentiment", groups=True)
def _sentiment(c: MetricContext) -> pd.DataFrame:
    """Estimated sentiment shares and net sentiment with its 90% interval per --by group."""
    return sentiment_summary(c.table, c.start, c.end, by=c.by, tz=c.tz, calibration=c.calibration)


@register("volume", groups=True)
def _volume(c: MetricContext) -> pd.DataFrame:
    """Inbound, outbound and mentions, every channel, per --by group."""
    return volume_summary(c.table, c.start, c.end, by=c.by, tz=c.tz)


@register("daily", groups=True)
def _daily(c: MetricContext) -> pd.DataFrame:
    """One row per local day (and --by group): inbound, negative, net sentiment, response, FRT."""
    return daily_series(c.table, c.start, c.end, c.tz, by=c.by, calibration=c.calibration)


@register("hour-of-week", groups=True)
def _hour_of_week(c: MetricContext) -> pd.DataFrame:
    """Inbound of every channel per local weekday (0 = Monday) and hour: 168 rows a group."""
    return inbound_by_hour_of_week(c.table, c.start, c.end, c.tz, by=c.by)


@register("sla-hour-of-week")
def _sla_hour_of_week(c: MetricContext) -> pd.DataFrame:
    """SLA attainment by the local weekday and hour the customer wrote: when do we fail?"""
    return sla_by_hour_of_week(
        c.table, c.start, c.end, c.tz, c.params.sla_targets_s,
        business_hours=c.params.business_hours, business_targets=c.params.business_targets,
    )  # fmt: skip


@register("wait", groups=True)
def _wait(c: MetricContext) -> pd.DataFrame:
    """Customers' wait for a first human answer, messages and calls, per channel or --by group."""
    return customer_wait(
        c.table, c.start, c.end, calls=c.params.calls, by=c.by or ("channel",), tz=c.tz
    )


@register("urgent", brand="ours")
def _urgent(c: MetricContext) -> pd.DataFrame:
    """Our inbound messages unanswered at the window's end that need action, most urgent first."""
    return urgent_unanswered(
        c.table,
        c.start,
        c.end,
        c.params.sla_targets_s,
        c.brand,
        strongly_negative_probability=c.params.sentiment.strongly_negative_probability,
        business_hours=c.params.business_hours,
        business_targets=c.params.business_targets,
        tz=c.tz,
    )


SPIKE_HISTORY_DAYS = 28
"""Days before the window that ``spikes`` reads as the baseline of its first days."""


@register("spikes")
def _spikes(c: MetricContext) -> pd.DataFrame:
    """Episodes of unusually many negative messages (robust z >= 3) ending in the window."""
    history = periods.trailing(c.period, SPIKE_HISTORY_DAYS)
    daily = daily_series(c.table, history.start, c.end, c.tz, calibration=c.calibration)
    episodes = negative_spikes(daily)
    if episodes.empty:
        return episodes
    ending = pd.to_datetime(episodes["end_day"]) >= pd.Timestamp(c.period.first_day)
    return episodes[ending].reset_index(drop=True)


@register("viral")
def _viral(c: MetricContext) -> pd.DataFrame:
    """Negative customer posts of the window with the widest reach."""
    return viral_negatives(
        c.table, c.start, c.end, negative_probability=c.params.sentiment.negative_probability
    )


@register("worst-reviews", brand="ours")
def _worst_reviews(c: MetricContext) -> pd.DataFrame:
    """Our worst reviews of the window: lowest stars, then most negative text."""
    return worst_reviews(c.table, c.start, c.end, c.brand)


@register("benchmark", brand="all")
def _benchmark(c: MetricContext) -> pd.DataFrame:
    """Every brand ranked by median first response, then response rate (10+ inbound)."""
    return response_benchmark(c.table, c.start, c.end)


@register("share-of-voice", brand="ours")
def _share_of_voice(c: MetricContext) -> pd.DataFrame:
    """Share of customer mentions: our brand and the competitors of brand.yaml."""
    brands = list(dict.fromkeys([c.brand, c.params.brand, *c.params.competitors]))
    return share_of_voice(c.table, c.start, c.end, brands)


@register("engagement", groups=True, brand="ours")
def _engagement(c: MetricContext) -> pd.DataFrame:
    """Engagement rate of our posts, (likes + comments + shares) / reach x 100, per --by group."""
    return engagement_rate(c.table, c.start, c.end, c.brand, by=c.by, tz=c.tz)


REPUTATION_PERIODS = 8


@register("reputation", brand="ours")
def _reputation(c: MetricContext) -> pd.DataFrame:
    """Our reputation index and its parts over the last 8 periods of --cadence (quarterly)."""
    cadence = c.cadence or "quarterly"
    last = (
        c.period
        if c.period.kind == cadence
        else periods.period_for(cadence, c.period.last_day, c.tz, c.params.fiscal_year_start_month)
    )
    history = [periods.previous(last, n) for n in range(REPUTATION_PERIODS - 1, -1, -1)]
    return reputation_by_period(c.table, history, c.brand_params, calibration=c.calibration)


@register("top-issues", brand="ours")
def _top_issues(c: MetricContext) -> pd.DataFrame:
    """The most frequent phrases in negative messages to us."""
    threshold = c.params.sentiment.negative_probability
    return top_issues(c.table, c.start, c.end, c.brand, negative_probability=threshold)


@register("rising-issues", brand="ours")
def _rising_issues(c: MetricContext) -> pd.DataFrame:
    """Phrases of negative messages to us growing most against the comparison window."""
    threshold = c.params.sentiment.negative_probability
    return rising_issues(c.table, c.period, c.comparison, c.brand, negative_probability=threshold)


@register("themes", brand="ours")
def _themes(c: MetricContext) -> pd.DataFrame:
    """Themes of our negative messages (fitted by cxpulse themes fit), growth, example ids."""
    from cxpulse import themes_command
    from cxpulse.metrics.themes import theme_summary

    settings = config.load_themes(c.params_dir)
    assert c.warehouse is not None  # set by metrics_command
    model = themes_command.load_fit(c.warehouse, c.brand, settings.scope, c.period.last_day)
    if model is None:
        raise config.ParamsError(
            f"{themes_command.fits_dir(c.warehouse)}: no themes fitted for {c.brand!r}; run "
            f"'cxpulse themes fit --brand \"{c.brand}\"' first"
        )
    taxonomy = themes_command.check_taxonomy(
        themes_command.taxonomy_of(settings), model, c.params_dir
    )
    names = (*config.brand_names(c.params_dir), c.brand)
    frame = theme_summary(
        c.table, model, c.period, c.comparison, c.brand, taxonomy, names, settings.scope,
        c.params.sentiment.negative_probability,
    )  # fmt: skip
    return frame[["theme_id", "label", "messages", "share", "previous", "change", "status",
                  "example_ids"]]  # fmt: skip


@register("spend", brand="ours")
def _spend(c: MetricContext) -> pd.DataFrame:
    """Each channel's share of our contacts beside its share of their cost (brand.yaml costs)."""
    return volume_vs_spend(c.table, c.start, c.end, c.brand, c.params.costs_per_contact)


@register("boundaries", brand="ours")
def _boundaries(c: MetricContext) -> pd.DataFrame:
    """Our messages to customers who had opted out of contact (brand.yaml opt_out_file)."""
    opted_out = customers.load_opt_out(c.params_dir, c.params)
    return opt_out_breaches(c.table, c.start, c.end, c.brand, opted_out)


@register("churn", brand="ours", customers=True)
def _churn(c: MetricContext) -> pd.DataFrame:
    """Churn and revenue at risk by how we handled complaints (needs --customers PATH)."""
    assert c.customers is not None  # checked by check_options
    people = customers.load_customers(c.customers, c.tz)
    return churn_by_care(c.table, people, c.start, c.end, c.brand_params)


def catalogue_text() -> str:
    """What --list-metrics prints: each metric name and its one-line summary."""
    width = max(map(len, REGISTRY))
    return "\n".join(f"{m.name:<{width}}  {m.summary}" for m in REGISTRY.values())


def get_metric(name: str) -> Metric:
    """The registered metric ``name``, or ``ParamsError`` listing the names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise config.ParamsError(
            f"--metric: unknown metric {name!r}; expected one of {', '.join(REGISTRY)} "
            "(cxpulse metrics --list-metrics)"
        ) from None


def check_options(
    metric: Metric,
    brand: str | None = None,
    channel: str | None = None,
    by: Sequence[str] = (),
    customers_path: Path | None = None,
) -> None:
    """``ParamsError`` for an option ``metric`` cannot take or a value that is unknown."""
    unknown = [b for b in by if b not in GROUP_KEYS]
    if unknown:
        raise config.ParamsError(
            f"--by: unknown {', '.join(unknown)}; expected some of {', '.join(GROUP_KEYS)}"
        )
    if by and not metric.groups:
        grouping = ", ".join(m.name for m in REGISTRY.values() if m.groups)
        raise config.ParamsError(
            f"--by: metric {metric.name!r} does not group; the metrics that do: {grouping}"
        )
    if channel and channel not in CHANNELS:
        raise config.ParamsError(
            f"--channel: unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}"
        )
    if brand and metric.brand == "all":
        raise config.ParamsError(
            f"--brand: metric {metric.name!r} compares every brand; leave --brand out"
        )
    if metric.customers and customers_path is None:
        raise config.ParamsError(
            f"metric {metric.name!r} needs --customers PATH: a customer CSV with columns "
            "customer_id, author_ids, plan_value_month and, optional, churned_at"
        )
    if customers_path is not None and not metric.customers:
        users = ", ".join(m.name for m in REGISTRY.values() if m.customers)
        raise config.ParamsError(f"--customers: only metric {users} reads a customer file")


def metrics_command(
    warehouse: Path,
    params_dir: Path,
    start: str | None = None,
    end: str | None = None,
    cadence: str | None = None,
    as_of: str | None = None,
    brand: str | None = None,
    channel: str | None = None,
    by: Sequence[str] = (),
    metric: str = "headline",
    customers_path: Path | None = None,
    engine: str | None = None,
    lake: Path | None = None,
) -> pd.DataFrame:
    """What ``cxpulse metrics`` prints: the ``metric`` of ``REGISTRY`` (default
    ``headline``) over the chosen window (``choose_period``, in the brand's time zone), on
    one channel when given, grouped by ``by`` when the metric groups, on the engine of
    brand.yaml (``engine``), or ``engine`` (duckdb or spark) and ``lake`` when given.

    --brand narrows the rows of a metric that filters by brand (default every brand), and
    names the brand of a metric about ours (default ``brand`` of brand.yaml). Headline
    counts are nullable integers (``<NA>`` where a group has none of that kind), so the
    table prints 3, not 3.0.
    """
    spec = get_metric(metric)
    brand_params = config.load_brand(Path(params_dir))
    by = list(dict.fromkeys(by))
    check_options(spec, brand, channel, by, customers_path)
    t = open_table(warehouse, choose_engine(brand_params, engine, lake))
    if channel:
        t = t.filter(t.channel == channel)
    if brand and spec.brand == "filter":
        t = t.filter(t.brand == brand)
    period = choose_period(
        t, brand_params.timezone, start, end, cadence, as_of, brand_params.fiscal_year_start_month
    )
    context = MetricContext(
        table=t,
        period=period,
        comparison=periods.previous(period),
        params=brand_params,
        brand=brand or brand_params.brand,
        by=by,
        cadence=cadence,
        params_dir=Path(params_dir),
        customers=None if customers_path is None else Path(customers_path),
        calibration=sentiment_calibration(brand_params),
        warehouse=Path(warehouse),
    )
    return spec.run(context)


TEXT_WIDTH = 70
"""Longest text cell of the readable table; longer texts are cut with an ellipsis."""


def _cell(value: object) -> object:
    if not isinstance(value, str):
        return value
    flat = " ".join(value.split())
    return flat if len(flat) <= TEXT_WIDTH else flat[: TEXT_WIDTH - 1] + "…"


def frame_text(frame: pd.DataFrame) -> str:
    """``frame`` as a readable table: no index, texts on one line and cut at
    ``TEXT_WIDTH``; a line saying so when it has no rows."""
    if frame.empty:
        return "no data in this window"
    texts = frame.select_dtypes(include=["object", "string"]).columns
    shown = frame.assign(**{c: frame[c].map(_cell) for c in texts})
    return shown.to_string(index=False)


def frame_json(frame: pd.DataFrame) -> str:
    """``frame`` as indented JSON records: times ISO 8601, missing values null."""
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return json.dumps(records, indent=2)
