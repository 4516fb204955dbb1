"""The one entry point: ``cxpulse demo | ingest | status | metrics | run | send | history |
sentiment``.

Wiring only: parse arguments, call the library, print what happened. Errors that a user
can fix (bad params, bad files) print one clear message and exit 2; a full disk or a damaged
warehouse prints one line saying what to do and exits 1 (``--debug``: the traceback);
nothing else is hidden.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

from cxpulse import __version__

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")
DEFAULT_PARAMS = Path("params")
DEFAULT_REPORTS = Path("reports")

log = logging.getLogger("cxpulse")


def _add_common(p: argparse.ArgumentParser, params: bool = True) -> None:
    p.add_argument(
        "--warehouse",
        type=Path,
        default=DEFAULT_WAREHOUSE,
        help="DuckDB warehouse file (default: %(default)s)",
    )
    if params:
        p.add_argument(
            "--params",
            type=Path,
            default=DEFAULT_PARAMS,
            help="folder with brand.yaml and the cadence files (default: %(default)s)",
        )


def _add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        help="where the metrics run (default: engine of brand.yaml, else duckdb): the "
        "warehouse file, or Spark reading the lake",
    )
    p.add_argument(
        "--lake", type=Path, metavar="DIR", help="the lake Spark reads (cxpulse lake DIR)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxpulse",
        description="Customer-experience reports from every channel: ingest exports into a "
        "DuckDB warehouse, compute the metrics, render daily, weekly and quarterly reports.",
    )
    parser.add_argument("--version", action="version", version=f"cxpulse {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on a full disk or a damaged warehouse, show the full traceback, not one line",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="generate seeded demo data and ingest it")
    _add_common(p)
    p.add_argument(
        "--rows", type=int, default=795_000, help="rows to generate (default: %(default)s)"
    )
    p.add_argument(
        "--days",
        type=int,
        default=1060,
        help="days of history before --end (default: %(default)s: the annual report has a "
        "year before the last whole one)",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    p.add_argument(
        "--end",
        help="last timestamp of the data, YYYY-MM-DD[THH:MM] UTC (default: now, to the hour)",
    )
    p.add_argument(
        "--out", type=Path, default=Path("data/demo"), help="where the generated files go"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ingest", help="load export files (or the inbox) into the warehouse")
    _add_common(p)
    p.add_argument("paths", nargs="*", type=Path, help="export files to load")
    p.add_argument("--format", dest="fmt", help="source format of PATHS (see --list-formats)")
    p.add_argument("--brand", help="brand of the rows, for formats that do not name it")
    p.add_argument(
        "--inbox",
        action="store_true",
        help="load every new file in data/inbox (format from params/inbox.yaml) and archive it",
    )
    p.add_argument("--list-formats", action="store_true", help="list the source formats and exit")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "lake",
        help="write the interactions as a Parquet lake (month/channel partitions)",
        description="Write the warehouse's interactions to DIR as a Parquet dataset "
        "partitioned by month and channel (hive layout), any engine reads; only partitions "
        "that changed since the last export are rewritten, each by one rename.",
    )
    _add_common(p, params=False)
    p.add_argument("lake", type=Path, metavar="DIR", help="the lake directory")
    p.set_defaults(func=cmd_lake)

    p = sub.add_parser("status", help="what the warehouse holds")
    _add_common(p, params=False)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "metrics",
        help="any catalogue metric for a window (default: the headline figures)",
        description="Run one metric of the catalogue over a window and print its table. "
        "The window: --from/--to, or --cadence with --as-of; by default the last full day "
        "of data. The comparison window (rising-issues) is the period before it.",
    )
    _add_common(p)
    p.add_argument(
        "--metric",
        default="headline",
        metavar="NAME",
        help="the metric to run (default: %(default)s; see --list-metrics)",
    )
    p.add_argument("--list-metrics", action="store_true", help="list the metric names and exit")
    p.add_argument("--from", dest="start", help="first local day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="last local day (inclusive), YYYY-MM-DD")
    p.add_argument(
        "--cadence",
        metavar="KIND",
        help="a period kind: daily, weekly, monthly, quarterly, half-yearly, yearly, 4-4-5, "
        "4-5-4, 5-4-4",
    )
    p.add_argument("--as-of", dest="as_of", help="a day inside the --cadence period")
    p.add_argument(
        "--brand",
        help="only this brand (default: all brands); for a metric about our brand (urgent, "
        "top-issues, ...), that brand instead of brand.yaml's",
    )
    p.add_argument("--channel", help="only this channel")
    p.add_argument(
        "--by",
        default="",
        help="group by, comma-separated: brand, channel, day, week, quarter, weekday, hour "
        "(default: none; metrics that group only)",
    )
    p.add_argument(
        "--customers",
        type=Path,
        metavar="PATH",
        help="customer CSV (customer_id, author_ids, plan_value_month, churned_at) for churn",
    )
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    _add_engine(p)
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser(
        "run",
        help="render reports (execute notebook, HTML, PDF, manifest)",
        description="Render one or more reports in this one process (cxpulse run daily "
        "weekly monthly): each cadence is a params/<cadence>.yaml with a 'cadence' block "
        "and a notebook (daily, weekly, monthly, quarterly, annual here). Imports are paid "
        "once, the notebooks run one after another on "
        "one kernel emptied between them, and a report's charts, HTML and PDF are made while "
        "the next notebook runs. The longest period renders first; a failure stops the "
        "reports not yet started.",
    )
    _add_common(p)
    p.add_argument("cadence", nargs="+", help="cadences to render, e.g. daily monthly")
    p.add_argument(
        "--as-of", dest="as_of", help="report day, YYYY-MM-DD (default: last full day of data)"
    )
    p.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="output root")
    _add_engine(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "send",
        help="render a report and e-mail it to params/distribution.yaml",
        description="Render the report of a period and e-mail it, unless the send gate holds "
        "it back (failed run, stale data, an expected channel without rows: the analyst is "
        "told instead) or the sent log says it went already. Exit codes: 0 sent or nothing "
        "to do, 1 run or delivery failed, 2 usage or params error or lock timeout, "
        "3 held back by the gate.",
    )
    _add_common(p)
    p.add_argument("cadence", help="the cadence to send (a params/<cadence>.yaml), e.g. daily")
    p.add_argument(
        "--as-of",
        dest="as_of",
        help="report day, YYYY-MM-DD (default: yesterday in the brand's time zone)",
    )
    p.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="output root")
    p.add_argument(
        "--ingest", action="store_true", help="load the inbox first (as 'cxpulse ingest --inbox')"
    )
    p.add_argument(
        "--no-render",
        dest="render",
        action="store_false",
        help="send the report already rendered for the period instead of rendering it",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="write the message to reports/outbox; send nothing"
    )
    p.add_argument("--force", action="store_true", help="send a period again that was sent")
    _add_engine(p)
    p.set_defaults(func=cmd_send)

    p = sub.add_parser(
        "history",
        help="what was published, and which published figures changed since",
        description="Every report published, oldest first, with the headline figures it "
        "showed and, for a period published again, the change from the publication before "
        "(RESTATED when beyond brand.yaml's restatements tolerance).",
    )
    _add_common(p)
    p.add_argument("--cadence", help="only this cadence (daily, weekly, ...)")
    p.add_argument("--period", help="only this period label (2026-11-19, 2026-W47, ...)")
    p.add_argument("--json", action="store_true", help="print JSON records instead of text")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser(
        "watch",
        help="push alerts between reports (params/alerts.yaml), once per episode",
        description="Load the inbox, evaluate the rules of params/alerts.yaml on the recent "
        "window, and e-mail (and post to webhooks) each alert once per episode, with an "
        "update when it ends. Exit codes: 0 done, 1 a notification not delivered (it stays "
        "in the outbox for the next run), 2 usage or params error or lock timeout.",
    )
    _add_common(p)
    p.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="output root")
    p.add_argument("--now", help="evaluate as of this UTC moment, YYYY-MM-DDTHH:MM (replays)")
    p.add_argument("--no-ingest", dest="ingest", action="store_false", help="skip the inbox")
    p.set_defaults(func=cmd_watch)

    add_sentiment_commands(sub)
    add_themes_commands(sub)
    return parser


def add_themes_commands(sub: argparse._SubParsersAction) -> None:
    """``cxpulse themes fit | assign``."""
    group = sub.add_parser(
        "themes",
        help="fit a brand's themes (what customers say is broken); assign a file's texts",
        description="Themes group a brand's negative messages (or all inbound, "
        "params/themes.yaml scope) into named themes. 'fit' discovers them over a trailing "
        "window and keeps the fit beside the warehouse, each theme keeping its id from the "
        "fit before; reports only assign messages to the fitted themes.",
    )
    commands = group.add_subparsers(dest="themes_command", required=True, metavar="ACTION")
    p = commands.add_parser("fit", help="discover a brand's themes over a trailing window")
    _add_common(p)
    p.add_argument("--brand", help="the brand (default: brand in brand.yaml)")
    p.add_argument(
        "--window", type=int, metavar="DAYS", help="days of the window (default: themes.yaml)"
    )
    p.add_argument("--as-of", dest="as_of", help="last day of the window (default: last full day)")
    p.set_defaults(func=cmd_themes_fit)
    p = commands.add_parser(
        "assign",
        help="write each row's theme id and label as CSV",
        description="Add theme_id and theme_label to each row of a CSV: with --warehouse, "
        "the brand's fitted themes; without, themes discovered in the file's own texts.",
    )
    p.add_argument("file", type=Path, help="CSV file with a header row")
    p.add_argument("--text-column", required=True, help="the column holding the text")
    p.add_argument("--brand", help="the brand whose fit to apply (default: brand.yaml's)")
    p.add_argument("--warehouse", type=Path, help="apply this warehouse's fitted themes")
    p.add_argument("--params", type=Path, default=DEFAULT_PARAMS, help="params folder")
    p.add_argument("-o", "--output", type=Path, help="output CSV (default: standard output)")
    p.set_defaults(func=cmd_themes_assign)


def add_sentiment_commands(sub: argparse._SubParsersAction) -> None:
    """``cxpulse sentiment score | evaluate | rescore``."""
    group = sub.add_parser(
        "sentiment",
        help="score or evaluate texts with a sentiment engine; rescore the warehouse",
        description="Sentiment engines (care-lr, the model trained for care text, and "
        "vader): score a CSV of texts, check an engine against your own labels, or rescore "
        "every text in the warehouse after changing engine. The engine defaults to "
        "sentiment.engine in params/brand.yaml; brand and competitor names there are never "
        "scored as words.",
    )
    commands = group.add_subparsers(dest="sentiment_command", required=True, metavar="ACTION")

    def engine_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--engine", help="sentiment engine (default: sentiment.engine in brand.yaml)"
        )
        p.add_argument(
            "--params",
            type=Path,
            default=DEFAULT_PARAMS,
            help="params folder (default: %(default)s)",
        )

    p = commands.add_parser(
        "score",
        help="write each row's label and class probabilities as CSV",
        description="Score the texts of a CSV file: the output has every input column plus "
        "sentiment_label (negative, neutral or positive), p_negative, p_neutral, p_positive "
        "and sentiment (p_positive - p_negative for care-lr; VADER's compound for vader).",
    )
    p.add_argument("file", type=Path, help="CSV file with a header row")
    p.add_argument("--text-column", required=True, help="the column holding the text")
    p.add_argument("-o", "--output", type=Path, help="output CSV (default: standard output)")
    engine_option(p)
    p.set_defaults(func=cmd_sentiment_score)

    p = commands.add_parser(
        "evaluate",
        help="compare an engine with your own labels (accuracy, macro-F1, net per group)",
        description="Compare an engine's labels with people's: accuracy, macro-F1, the "
        "confusion matrix and, with --group-column, each group's net sentiment as labelled "
        "beside the engine's estimate (corrected for its known errors) and its plain count. "
        "Labels: positive, neutral or negative, in any case.",
    )
    p.add_argument("file", type=Path, help="CSV file with a header row")
    p.add_argument("--text-column", required=True, help="the column holding the text")
    p.add_argument("--label-column", required=True, help="the column holding your labels")
    p.add_argument("--group-column", help="report net sentiment per value of this column")
    engine_option(p)
    p.set_defaults(func=cmd_sentiment_evaluate)

    p = commands.add_parser(
        "rescore",
        help="score every stored text with an engine (after changing engine or version)",
        description="Score every text in the warehouse with the engine and record it as "
        "the warehouse's engine, in one transaction, with a progress bar: afterwards every "
        "row holds that engine's scores, and ingest accepts only that engine's rows.",
    )
    _add_common(p)
    p.add_argument("--engine", help="sentiment engine (default: sentiment.engine in brand.yaml)")
    p.set_defaults(func=cmd_sentiment_rescore)


def sentiment_setup(args: argparse.Namespace) -> tuple[str, tuple[str, ...]]:
    """(engine, names to clean): --engine, else brand.yaml's; names from the params."""
    from cxpulse import config

    params, names = config.sentiment_setup(args.params)
    return args.engine or params.engine, names


def cmd_demo(args: argparse.Namespace) -> int:
    from cxpulse import config, demo, demo_exports, ingest, themes_command

    brand = config.load_brand(args.params)
    log.info("generating %s demo rows (seed %s) into %s", f"{args.rows:,}", args.seed, args.out)
    files = demo.write_demo(
        args.out, rows=args.rows, seed=args.seed, end=args.end, brand=brand, days=args.days
    )
    names = config.brand_names(args.params)
    for number, path in enumerate(files, 1):
        log.info("ingesting file %d of %d", number, len(files))
        ingest.ingest_file(
            path, "canonical", args.warehouse, engine=brand.sentiment.engine, names=names
        )
    exports = demo_exports.write_exports(
        args.out, brand=brand, rows=args.rows, seed=args.seed, end=args.end
    )
    for export in exports:
        log.info("ingesting the demo's %s export %s", export.fmt, export.path.name)
        ingest.ingest_file(
            export.path,
            export.fmt,
            args.warehouse,
            export.options,
            engine=brand.sentiment.engine,
            names=names,
        )
    model, path = themes_command.fit_command(args.warehouse, args.params)
    log.info("themes: %d fitted (%s)", len(model.themes), path)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from cxpulse import adapters, config, ingest, lake

    if args.list_formats:
        for name in sorted(adapters.REGISTRY):
            print(adapters.describe(name))
        for name, source in sorted(config.load_sources(args.params).sources.items()):
            print(f"{name} (params/sources.yaml: {source.format or name})")
        return 0
    if args.inbox:
        results = ingest.ingest_inbox(args.warehouse, args.params)
        for result in results:
            print(result.summary())
        return 2 if any(r.status == "failed" for r in results) else 0
    if not args.paths or not args.fmt:
        raise UserError("give --format NAME and one or more files, or --inbox")
    options = ingest.options_for(args.fmt, args.params, brand=args.brand)
    params, names = config.sentiment_setup(args.params)
    for path in args.paths:
        result = ingest.ingest_file(
            path, args.fmt, args.warehouse, options, None, params.engine, names
        )
        print(result.summary())
        lake.keep_current(args.warehouse, args.params)
    return 0


def cmd_sentiment_score(args: argparse.Namespace) -> int:
    from cxpulse import sentiment_check

    engine, names = sentiment_setup(args)
    frame, _ = sentiment_check.read_rows(args.file, [args.text_column])
    scored = sentiment_check.score_frame(frame[args.text_column], engine, names)
    out = frame.drop(columns=[c for c in scored.columns if c in frame.columns]).join(scored)
    out.to_csv(args.output or sys.stdout, index=False)
    return 0


def cmd_sentiment_evaluate(args: argparse.Namespace) -> int:
    from cxpulse import sentiment_check

    engine, names = sentiment_setup(args)
    wanted = [args.text_column, args.label_column, args.group_column]
    frame, lines = sentiment_check.read_rows(args.file, [c for c in wanted if c])
    truth = sentiment_check.labels_of(frame[args.label_column], lines, args.file, args.label_column)
    groups = frame[args.group_column] if args.group_column else None
    result = sentiment_check.evaluate(frame[args.text_column], truth, groups, engine, names)
    print(result.text())
    return 0


def cmd_sentiment_rescore(args: argparse.Namespace) -> int:
    from cxpulse import ingest, sentiment

    engine, names = sentiment_setup(args)
    updated, scored = ingest.rescore(args.warehouse, engine, names)
    print(
        f"{args.warehouse}: {updated:,} rows now scored by {sentiment.engine_label(engine)} "
        f"({scored:,} texts scored, the rest from the cache)"
    )
    return 0


def cmd_lake(args: argparse.Namespace) -> int:
    from cxpulse import lake

    print(lake.export(args.warehouse, args.lake).summary())
    return 0


def cmd_themes_fit(args: argparse.Namespace) -> int:
    from cxpulse import themes_command

    model, path = themes_command.fit_command(
        args.warehouse, args.params, args.brand, args.window, args.as_of
    )
    print(themes_command.fit_text(model, path))
    return 0


def cmd_themes_assign(args: argparse.Namespace) -> int:
    from cxpulse import themes_command

    out = themes_command.assign_command(
        args.file, args.text_column, args.params, args.brand, args.warehouse
    )
    out.to_csv(args.output or sys.stdout, index=False)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from cxpulse import warehouse

    con = warehouse.connect(args.warehouse, read_only=True)
    print(warehouse.status_text(con))
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from cxpulse.metrics import command

    if args.list_metrics:
        print(command.catalogue_text())
        return 0
    frame = command.metrics_command(
        warehouse=args.warehouse,
        params_dir=args.params,
        start=args.start,
        end=args.end,
        cadence=args.cadence,
        as_of=args.as_of,
        brand=args.brand,
        channel=args.channel,
        by=[b.strip() for b in args.by.split(",") if b.strip()],
        metric=args.metric,
        customers_path=args.customers,
        engine=args.engine,
        lake=args.lake,
    )
    print(command.frame_json(frame) if args.json else command.frame_text(frame))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from cxpulse import history
    from cxpulse.config import load_brand

    frame = history.history_command(args.warehouse, args.params, args.cadence, args.period)
    tz = load_brand(args.params).timezone
    print(history.history_json(frame) if args.json else history.history_text(frame, tz))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from cxpulse.kernel import Kernel

    # First thing: the kernel boots and imports the report library while we import ours.
    kernel = Kernel(args.params.resolve().parent)
    try:
        from cxpulse import render
    except BaseException:
        kernel.shutdown()
        raise
    try:
        results = render.run_reports(
            list(dict.fromkeys(args.cadence)),
            as_of=args.as_of,
            warehouse=args.warehouse,
            params_dir=args.params,
            reports_dir=args.reports,
            kernel=kernel,
            engine=args.engine,
            lake=args.lake,
        )
    except render.RenderError as err:
        problem = None if args.debug else warehouse_problem(err, args.warehouse)
        print(f"cxpulse run: error: {problem or err}", file=sys.stderr)
        return 1
    for result in results:
        print(result.summary())
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    from cxpulse import deliver

    outcome = deliver.send_scheduled(
        args.cadence,
        args.as_of,
        args.warehouse,
        args.params,
        args.reports,
        ingest_inbox=args.ingest,
        dry_run=args.dry_run,
        force=args.force,
        render_report=args.render,
        usage_errors=user_errors(),
        engine=args.engine,
        lake=args.lake,
    )
    print(outcome.summary())
    return outcome.exit_code


def cmd_watch(args: argparse.Namespace) -> int:
    from cxpulse.watch.command import parse_now, watch

    outcome = watch(
        args.warehouse, args.params, args.reports, now=parse_now(args.now), ingest_inbox=args.ingest
    )
    print(outcome.summary())
    return outcome.exit_code


class UserError(Exception):
    """A mistake in how cxpulse was called."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # WeasyPrint's progress and fontTools' font subsetting log every step at INFO.
    for noisy in ("weasyprint.progress", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except Exception as err:
        # A damaged warehouse or a full disk first: a report's notebook reports them as a
        # failed cell (a user error), which would hide what to do.
        warehouse = getattr(args, "warehouse", None)  # commands without one: sentiment
        problem = None if args.debug or warehouse is None else warehouse_problem(err, warehouse)
        if problem is not None:
            print(f"cxpulse {args.command}: error: {problem}", file=sys.stderr)
            return 1
        if isinstance(err, user_errors()):
            print(f"cxpulse {args.command}: error: {err}", file=sys.stderr)
            return 2
        raise
    finally:
        # The work is done: exempt what is left from the collector's final passes, which
        # otherwise walk every object of pandas, Altair and nbconvert at exit (0.3 s).
        gc.freeze()


def user_errors() -> tuple[type[Exception], ...]:
    """Errors a user can fix: one message, exit 2. (Imported only when one happens, so a
    command starts without importing pandas first.)"""
    from cxpulse.adapters import AdapterError
    from cxpulse.config import ParamsError
    from cxpulse.sentiment import EngineError
    from cxpulse.sentiment_check import CheckError
    from cxpulse.warehouse import WarehouseLocked

    return (
        UserError,
        ParamsError,
        AdapterError,
        WarehouseLocked,
        FileNotFoundError,
        EngineError,
        CheckError,
    )


def warehouse_problem(err: Exception, path: Path) -> str | None:
    """One line for a full disk or a damaged warehouse (``warehouse.explain_error``)."""
    from cxpulse.warehouse import explain_error

    return explain_error(err, path)


if __name__ == "__main__":
    sys.exit(main())
