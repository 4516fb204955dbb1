"""Load and validate the YAML files in ``params/``.

Every file is validated once, when loaded, against a pydantic model that forbids unknown
keys. A mistake raises ``ParamsError`` naming the file, the key and what was expected: an
unknown key lists the keys allowed there, a key written twice names both lines, a file
named in params must exist, and a name (brand, competitor, title) is one line of plain
text, without control or bidi-override characters (it reaches e-mail headers and reports).
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import string
import types
import typing
import unicodedata
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cxpulse import periods
from cxpulse.formatting import BIDI_CONTROLS
from cxpulse.schema import CHANNELS, OUTCOMES


class ParamsError(ValueError):
    """A params file is missing, unreadable or holds a wrong key or value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_name(value: str) -> str:
    """``value`` when it is one line of plain text, else ``ValueError`` naming the first
    control character (C0/C1 controls such as CR and LF, line and paragraph separators,
    bidi embeddings, overrides, isolates and marks)."""
    for position, char in enumerate(value):
        if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise ValueError(
                f"control character U+{ord(char):04X} at position {position}; "
                "a name is one line of plain text"
            )
    return value


Name = Annotated[str, AfterValidator(check_name)]
"""A brand, competitor, account, title or subject: one line of plain text."""


class CallParams(_Strict):
    """How call-centre service level is counted (vendors differ)."""

    service_level_threshold_s: float = Field(20, gt=0)
    short_abandon_s: float = Field(5, ge=0)
    service_level_formula: Literal["exclude_short_abandons", "include_all_abandons"] = (
        "exclude_short_abandons"
    )


class ReputationWeights(_Strict):
    """Weights of the reputation index parts (the index divides by the sum of the weights
    of the parts present). ``nps`` is optional: survey NPS, left out at weight 0 and in
    periods without survey answers."""

    net_sentiment: float = Field(0.4, ge=0)
    review_stars: float = Field(0.3, ge=0)
    sla_attainment: float = Field(0.3, ge=0)
    nps: float = Field(0.0, ge=0)


NEGATIVE_PROBABILITY = 0.5
"""Default p_negative at or above which one message counts as negative."""
STRONGLY_NEGATIVE_PROBABILITY = 0.8
"""Default p_negative at or above which one message counts as strongly negative."""


class SentimentParams(_Strict):
    """The ``sentiment`` section of brand.yaml: the engine, and the probability thresholds
    of the decisions made about one message. Group figures (shares, net sentiment,
    negative messages a day) are estimated from probabilities, never thresholded."""

    engine: str = "care-lr"
    """The engine that scores every text (``cxpulse.sentiment.ENGINES``): care-lr or vader.
    After changing it: ``cxpulse sentiment rescore``."""
    negative_probability: float = Field(NEGATIVE_PROBABILITY, gt=0, le=1)
    """A message is negative (viral negatives, top and rising issues, churn's complaints)
    when p_negative >= this."""
    strongly_negative_probability: float = Field(STRONGLY_NEGATIVE_PROBABILITY, gt=0, le=1)
    """An unanswered message is urgent as strongly negative when p_negative >= this."""

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        from cxpulse.sentiment import ENGINES

        if value not in ENGINES:
            raise ValueError(
                f"unknown sentiment engine {value!r}; expected one of {sorted(ENGINES)}"
            )
        return value

    @field_validator("strongly_negative_probability")
    @classmethod
    def _not_below_negative(cls, value: float, info) -> float:
        negative = info.data.get("negative_probability")
        if negative is not None and value < negative:
            raise ValueError(f"{value} is below negative_probability {negative}")
        return value


class EngineParams(_Strict):
    """The ``engine`` section of brand.yaml: where the metrics run (``metrics.engines``)."""

    name: Literal["duckdb", "spark"] = "duckdb"
    """duckdb: the warehouse file, embedded (the default); spark: the lake, or a table of
    the Spark catalog, through Ibis' PySpark backend."""
    lake: str | None = None
    """spark: the lake directory (``cxpulse lake``), relative to the working directory."""
    table: str | None = None
    """spark: a table name in the Spark catalog (``db.interactions``) instead of a lake."""

    @field_validator("table")
    @classmethod
    def _lake_or_table(cls, value: str | None, info) -> str | None:
        if value is not None and info.data.get("lake") is not None:
            raise ValueError("give lake or table, not both")
        return value


class KpiTargets(_Strict):
    """Company-wide targets the KPI tiles compare against (fractions, points, seconds, stars)."""

    response_rate: float | None = Field(0.9, ge=0, le=1)
    sla_attainment: float | None = Field(0.9, ge=0, le=1)
    net_sentiment: float | None = Field(0.0, ge=-100, le=100)
    service_level: float | None = Field(0.8, ge=0, le=1)
    abandonment_rate: float | None = Field(0.05, ge=0, le=1)
    asa_s: float | None = Field(30, gt=0)
    mean_rating: float | None = Field(4.0, ge=1, le=5)


class BusinessHours(_Strict):
    """The care team's working calendar, in the brand's time zone: first-response times in
    business hours count only the time inside it."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    ]
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)
    holidays: list[dt.date] = []

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: dt.time, info) -> dt.time:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError(f"end {value} must be after start {start}")
        return value


class Tolerances(_Strict):
    """``brand.yaml`` ``restatements``: how far a published figure may move before a later
    report says it was restated (``history.changed``)."""

    rate_points: float = Field(0.5, ge=0)
    """Rates (shown as percent) and net sentiment: points."""
    count: float = Field(0, ge=0)
    """Counts: 0 means any change."""
    duration_s: float = Field(60, ge=0)
    """Median first response, speed of answer: seconds."""
    stars: float = Field(0.05, ge=0)
    """Mean review rating: stars."""


class BrandParams(_Strict):
    """``params/brand.yaml``: who we are and what we promise."""

    brand: Name = Field(min_length=1)
    competitors: list[Name] = []
    timezone: str = "UTC"
    channels: list[str] | None = None
    """Channels every report must have rows on (the send gate); default: the channels
    with rows of ours in the ``warehouse.RECENT_DAYS`` before the report's end."""
    sla_targets_s: dict[str, float] = {}
    sla_calendar: dict[str, Literal["clock", "business"]] = {}
    """The clock each channel's target counts in: clock hours (default) or the care team's
    ``business_hours``; a channel named here must have a target."""
    costs_per_contact: dict[str, float] = {}
    calls: CallParams = CallParams()
    kpi_targets: KpiTargets = KpiTargets()
    business_hours: BusinessHours = BusinessHours()
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    opt_out_file: str | None = None
    customers_file: str | None = None
    """CSV of customers (customers.load_customers), relative to params/: turns on the
    business-impact section (churn and revenue at risk by how complaints were handled)."""
    """CSV of customers who opted out of contact (column ``author_id``), relative to params/."""
    reputation_weights: ReputationWeights = ReputationWeights()
    sentiment: SentimentParams = SentimentParams()
    restatements: Tolerances = Tolerances()
    page_size: Literal["A4", "Letter"] = "A4"
    engine: EngineParams = EngineParams()
    export: str | None = None
    """A lake directory (relative to the working directory) that every ingest keeps
    current (``lake.keep_current``); null: no lake."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str] | None) -> list[str] | None:
        return value if value is None else check_channels(value)

    @field_validator("sla_calendar")
    @classmethod
    def _targets_exist(cls, value: dict[str, str], info) -> dict[str, str]:
        targets = info.data.get("sla_targets_s")
        missing = [c for c in value if targets is not None and c not in targets]
        if missing:
            raise ValueError(
                f"{missing}: no target in sla_targets_s; expected some of {list(targets)}"
            )
        return value

    @property
    def business_targets(self) -> tuple[str, ...]:
        """The channels whose target counts business hours (``sla_calendar``)."""
        return tuple(c for c, clock in self.sla_calendar.items() if clock == "business")

    @field_validator("sla_targets_s", "costs_per_contact")
    @classmethod
    def _per_channel(cls, value: dict[str, float]) -> dict[str, float]:
        for channel, number in value.items():
            if channel not in CHANNELS:
                raise ValueError(f"unknown channel {channel!r}; expected one of {list(CHANNELS)}")
            if number <= 0:
                raise ValueError(f"{channel}: expected a positive number, got {number}")
        return value


class SourceParams(_Strict):
    """One entry under ``sources`` in ``params/sources.yaml``: how its exports are read."""

    format: str | None = None
    """The adapter that reads it (``cxpulse ingest --list-formats``); default: its name."""
    brand: Name | None = None
    timezone: str | None = None
    """The zone of timestamps written without an offset (default: the format's, else UTC)."""
    encoding: str | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    channel: str | None = None
    column_map: dict[str, str] = {}
    accounts: dict[Name, Name] = {}
    outcomes: dict[str, str] = {}
    hash_authors: bool | None = None
    floor: dt.date | None = None

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        from cxpulse.adapters import REGISTRY

        if value is not None and value not in REGISTRY:
            raise ValueError(f"unknown format {value!r}; expected one of {sorted(REGISTRY)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return value if value is None else check_timezone(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r} (e.g. 'cp1252')") from None
        return value

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str | None) -> str | None:
        return value if value is None else check_channels([value])[0]

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = {k: v for k, v in value.items() if v not in OUTCOMES}
        if wrong:
            raise ValueError(f"outcomes {wrong}: expected values among {list(OUTCOMES)}")
        return value


class SourcesParams(_Strict):
    """``params/sources.yaml``: how each source's exports are read and loaded."""

    floor: dt.date = dt.date(1990, 1, 1)
    """Timestamps before this day (UTC) are quarantined."""
    hash_authors: bool = False
    """Store a hash of every author id instead of the id (a source may say otherwise)."""
    sources: dict[str, SourceParams] = {}


class InboxRule(_Strict):
    """Files in the inbox whose name matches ``pattern`` (a glob) are read as ``format``."""

    pattern: str = Field(min_length=1)
    format: str = Field(min_length=1)
    brand: Name | None = None


class InboxParams(_Strict):
    """``params/inbox.yaml``: where new exports arrive, where loaded ones go, and how each
    file name maps to a format (the first matching rule wins)."""

    inbox: Path = Path("data/inbox")
    archive: Path = Path("data/archive")
    files: list[InboxRule] = []


class Comparison(_Strict):
    """A window a report compares itself with, and the words the report names it by."""

    label: Name = Field(min_length=1)
    window: Literal["previous", "year_ago", "trailing"]
    """previous: the period before; year_ago: the same period a year earlier (the same ISO
    week, the same fiscal month); trailing: the ``days`` local days before the period."""
    days: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _days_for_trailing(self) -> Comparison:
        if (self.window == "trailing") != (self.days is not None):
            raise ValueError("give days with window 'trailing', and only then")
        return self


class Trend(_Strict):
    """The span of a report's trend charts, ending with its period: ``days`` local days, or
    ``periods`` periods of its kind (this one included)."""

    days: int | None = Field(None, gt=0)
    periods: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_of(self) -> Trend:
        if (self.days is None) == (self.periods is None):
            raise ValueError("give either days or periods, not both")
        return self


class Cadence(_Strict):
    """The ``cadence`` block of ``params/<cadence>.yaml``: the period a report covers, what
    it is compared with, and the span of its trends."""

    period: str
    """A period kind of ``periods.KINDS``: daily, weekly (ISO), monthly, quarterly,
    half-yearly, yearly, or a 52/53-week fiscal month 4-4-5, 4-5-4, 5-4-4. Weeks follow
    the brand's time zone; the others its time zone and ``fiscal_year_start_month``."""
    comparisons: list[Comparison] = Field(min_length=1)
    """The first is the main one (tiles, tables); the others are small print."""
    trend: Trend
    history_periods: int = Field(8, ge=2)
    """Periods in the reputation history (chart and table), this one included."""

    @field_validator("period")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in periods.KINDS:
            raise ValueError(f"unknown period {value!r}; expected one of {list(periods.KINDS)}")
        return value


class CadenceParams(_Strict):
    """``params/<cadence>.yaml``: what one report is."""

    title: Name
    notebook: str
    timeout_s: int = Field(600, gt=0)
    """A cell running longer than this fails the run."""
    cadence: Cadence


class ReportParams(_Strict):
    """Everything a report run needs, validated."""

    cadence: Name
    brand: BrandParams
    report: CadenceParams
    params_dir: Path


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates and times as text, so the models parse them and a bad
    one is reported with its file and key rather than as a YAML crash."""


class _DuplicateKey(yaml.YAMLError):
    """A mapping holds the same key twice (YAML would keep the last silently)."""

    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(f"line {line}: key '{key}' appears twice (first on line {first})")


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A mapping, refusing a key written twice (``_DuplicateKey``, with both lines)."""
    first_lines: dict[object, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key, line = loader.construct_object(key_node), key_node.start_mark.line + 1
        if key in first_lines:
            raise _DuplicateKey(str(key), line, first_lines[key])
        first_lines[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ParamsError(f"{path}: file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except _DuplicateKey as err:
        raise ParamsError(f"{path}: {err}; keep one") from None
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    except UnicodeDecodeError as err:
        raise ParamsError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(
            f"{path}: expected a mapping of keys to values, got {type(data).__name__}"
        )
    return data


def _load(model: type[BaseModel], path: Path) -> BaseModel:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            key = ".".join(str(p) for p in e["loc"]) or "(top level)"
            if e["type"] == "extra_forbidden":
                expected = ", ".join(allowed_keys(model, e["loc"][:-1])) or "no key"
                lines.append(f"{path}: key '{key}': unknown key; expected one of: {expected}")
            else:
                lines.append(f"{path}: key '{key}': {e['msg']} (got {e.get('input')!r})")
        raise ParamsError("\n".join(lines)) from None


def allowed_keys(model: type[BaseModel], where: tuple) -> list[str]:
    """The keys the mapping at ``where`` (a pydantic error location inside ``model``:
    field names, dict keys, list indexes) may hold."""
    annotation: object = model
    for part in where:
        inside = _model_inside(annotation, part)
        if inside is not _model_inside(annotation):  # ``part`` named a union's member
            annotation = inside
            continue
        annotation = inside
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = annotation.model_fields[str(part)].annotation
        else:  # a dict or a list: ``part`` is a key or an index
            annotation = typing.get_args(annotation)[-1]
    annotation = _model_inside(annotation)
    return list(annotation.model_fields) if isinstance(annotation, type) else []


def _model_inside(annotation: object, tag: object = None) -> object:
    """``X`` of ``X | None`` or of ``Annotated[X, ...]``; of a union of models told apart
    by a literal field (pydantic's discriminated union), the one whose literal is ``tag``;
    anything else as it is."""
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    members = typing.get_args(annotation)
    if all(isinstance(m, type) and issubclass(m, BaseModel) for m in members) and len(members) > 1:
        for member in members:
            literals = [typing.get_args(f.annotation) for f in member.model_fields.values()]
            if any(tag in values for values in literals):
                return member
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner
    return annotation


def check_channels(value: list[str]) -> list[str]:
    """``value`` when every item is a known channel, else ``ValueError`` naming the others."""
    unknown = [c for c in value if c not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; expected some of {list(CHANNELS)}")
    return value


def check_timezone(value: str) -> str:
    """``value`` when it is an IANA time zone name, else ``ValueError`` saying so."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA timezone {value!r} (e.g. 'Europe/London')") from None
    return value


def load_sources(params_dir: Path) -> SourcesParams:
    """Read and validate ``sources.yaml`` (all defaults when the file is absent).

    Each ``column_map`` may only name the fields its adapter reads.
    """
    from cxpulse import adapters

    path = Path(params_dir) / "sources.yaml"
    if not path.exists():
        return SourcesParams()
    params: SourcesParams = _load(SourcesParams, path)  # type: ignore[assignment]
    for name, source in params.sources.items():
        if (source.format or name) not in adapters.REGISTRY:
            raise ParamsError(
                f"{path}: key 'sources.{name}.format': missing; {name!r} is not an adapter, "
                f"so name the one that reads it (one of {sorted(adapters.REGISTRY)})"
            )
        fields = getattr(adapters.get(source.format or name), "FIELDS", ())
        unknown = [k for k in source.column_map if k not in fields]
        if unknown:
            raise ParamsError(
                f"{path}: key 'sources.{name}.column_map': unknown field(s) {unknown}; "
                f"expected some of {list(fields)}"
            )
    return params


def load_inbox(params_dir: Path) -> InboxParams:
    """Read and validate ``inbox.yaml``; each rule's format must be an adapter or a source."""
    from cxpulse.adapters import REGISTRY

    path = Path(params_dir) / "inbox.yaml"
    params: InboxParams = _load(InboxParams, path)  # type: ignore[assignment]
    known = sorted(set(REGISTRY) | set(load_sources(params_dir).sources))
    for number, rule in enumerate(params.files):
        if rule.format not in known:
            raise ParamsError(
                f"{path}: key 'files.{number}.format': unknown format {rule.format!r}; "
                f"expected one of {known}"
            )
    return params


BRAND_FILES: tuple[str, ...] = ("opt_out_file", "customers_file")
"""Keys of brand.yaml that name a file relative to params/."""


def load_brand(params_dir: Path) -> BrandParams:
    """Read and validate ``brand.yaml``; the files it names must exist."""
    path = Path(params_dir) / "brand.yaml"
    brand: BrandParams = _load(BrandParams, path)  # type: ignore[assignment]
    for key in BRAND_FILES:
        name = getattr(brand, key)
        if name is not None and not (Path(params_dir) / name).is_file():
            raise ParamsError(
                f"{path}: key '{key}': {Path(params_dir) / name} not found "
                "(a CSV file relative to the params folder, or null)"
            )
    return brand


def brand_names(params_dir: Path) -> tuple[str, ...]:
    """Names sentiment engines never score as words: our brand, the competitors
    (``brand.yaml``) and the account handles of ``sources.yaml``, sorted."""
    brand = load_brand(params_dir)
    names = {brand.brand, *brand.competitors}
    for source in load_sources(params_dir).sources.values():
        names.update(source.accounts)
    return tuple(sorted(names))


def sentiment_setup(params_dir: Path) -> tuple[SentimentParams, tuple[str, ...]]:
    """``brand.yaml``'s sentiment section and ``brand_names``; the defaults and no names
    for a params folder without ``brand.yaml`` (one that only sets up an inbox)."""
    if not (Path(params_dir) / "brand.yaml").exists():
        return SentimentParams(), ()
    return load_brand(params_dir).sentiment, brand_names(params_dir)


_CADENCE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def cadences(params_dir: Path) -> tuple[str, ...]:
    """The cadences declared in ``params_dir``: each ``<name>.yaml`` with a top-level
    ``cadence`` key, sorted."""
    found = []
    for path in sorted(Path(params_dir).glob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # not read here: loading that file names its fault
        if isinstance(data, dict) and "cadence" in data:
            found.append(path.stem)
    return tuple(found)


def load_report_params(cadence: str, params_dir: Path) -> ReportParams:
    """Read and validate ``brand.yaml`` and ``<cadence>.yaml`` (which must declare a
    ``cadence`` block)."""
    params_dir = Path(params_dir)
    path = params_dir / f"{cadence}.yaml"
    if not _CADENCE_NAME.match(cadence) or not path.is_file():
        known = ", ".join(cadences(params_dir)) or "none"
        raise ParamsError(
            f"unknown cadence {cadence!r}: {path}: file not found; cadences in {params_dir}: "
            f"{known} (a cadence is a <name>.yaml there with a 'cadence' block and a notebook)"
        )
    return ReportParams(
        cadence=cadence,
        brand=load_brand(params_dir),
        report=_load(CadenceParams, path),
        params_dir=params_dir,
    )


def parse_date(value: str, what: str = "date") -> dt.date:
    """Parse an ISO ``YYYY-MM-DD`` date, or raise ``ParamsError`` saying what was expected."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ParamsError(f"{what}: expected a date as YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as err:
        raise ParamsError(f"{what}: {err} (got {value!r})") from None


SUBJECT_FIELDS: tuple[str, ...] = ("brand", "title", "period", "label", "cadence")
"""The placeholders a subject template in ``distribution.yaml`` may use."""
LOOPBACK_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")


def check_address(value: str) -> str:
    """``value`` when it is one e-mail address (``a@b.example`` or ``Name <a@b.example>``),
    else ``ValueError`` saying so."""
    if any(c in value for c in "\r\n") or not _ADDRESS.match(parseaddr(value)[1]):
        raise ValueError(f"not an e-mail address: {value!r} (e.g. 'Ana Silva <ana@example.com>')")
    return value


class SmtpParams(_Strict):
    """How to reach the mail server. The user name and password are never in params: they
    are read from the environment variables named here, when set."""

    host: str = Field("localhost", min_length=1)
    port: int = Field(25, gt=0, lt=65536)
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    """``starttls`` (port 587, usually), ``ssl`` (implicit TLS, 465), ``none`` (localhost only)."""
    tls_ca_file: Path | None = None
    """A PEM file of the certificate authorities to trust (default: the system's)."""
    user_env: str = Field("CXPULSE_SMTP_USER", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    password_env: str = Field("CXPULSE_SMTP_PASSWORD", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout_s: float = Field(30, gt=0)
    attempts: int = Field(4, ge=1)
    """Tries per message when the server cannot be reached or answers 4xx."""
    backoff_s: float = Field(30, ge=0)
    """The wait before the second try; it doubles before each later one."""

    @field_validator("tls")
    @classmethod
    def _clear_text_only_locally(cls, value: str, info) -> str:
        host = info.data.get("host")
        if value == "none" and host is not None and host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"'none' sends mail in clear text, allowed only for {list(LOOPBACK_HOSTS)}; "
                f"use starttls or ssl for {host!r}"
            )
        return value

    @field_validator("tls_ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value}: file not found")
        return value


class Recipients(_Strict):
    """Who receives one cadence's report."""

    to: list[str] = Field(min_length=1)
    cc: list[str] = []

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [check_address(v) for v in value]


class GateParams(_Strict):
    """When a report is held back (and the analyst told why) instead of e-mailed."""

    max_data_age_hours: float = Field(24, gt=0)
    """Refuse when the newest interaction in the warehouse is older than this."""
    channels: list[str] | None = None
    """Refuse when one of these has no rows of our brand in the window (default: the
    ``channels`` of brand.yaml, else the channels with rows of ours in the
    ``warehouse.RECENT_DAYS`` before the window's end)."""

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str] | None) -> list[str] | None:
        return value if value is None else check_channels(value)


class DistributionParams(_Strict):
    """``params/distribution.yaml``: who gets which report, from whom, and how it is sent."""

    sender: str
    reply_to: str | None = None
    analyst: str
    """Told, instead of the executives, when a report is held back or cannot be delivered."""
    subject: Name = "{brand} {title}: {period}"
    attach_html: bool = False
    attach_figures: bool = False
    """Attach the report's figures.xlsx (every table and chart's data) to the e-mail."""
    lock_wait_s: float = Field(3600, ge=0)
    """How long a scheduled run waits for another one to finish before giving up."""
    smtp: SmtpParams = SmtpParams()
    gate: GateParams = GateParams()
    recipients: dict[str, Recipients] = {}
    """Recipients per cadence (the name of its params file); a cadence left out is never
    e-mailed."""

    @field_validator("sender", "reply_to", "analyst")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return value if value is None else check_address(value)

    @field_validator("subject")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as err:
            raise ValueError(f"not a valid template ({err}); write e.g. '{{title}}'") from None
        unknown = [name for name in names if name not in SUBJECT_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {unknown}; expected some of {list(SUBJECT_FIELDS)}"
            )
        return value


def load_distribution(params_dir: Path) -> DistributionParams:
    """Read and validate ``distribution.yaml``; a cadence under ``recipients`` must be one
    that ``params_dir`` declares (``cadences``)."""
    path = Path(params_dir) / "distribution.yaml"
    params: DistributionParams = _load(DistributionParams, path)  # type: ignore[assignment]
    known = cadences(params_dir)
    for name in params.recipients:
        if name not in known:
            raise ParamsError(
                f"{path}: key 'recipients.{name}': no cadence {name!r} in {params_dir}; "
                f"expected one of {list(known)}"
            )
    return params


def recipients_for(params: DistributionParams, cadence: str, params_dir: Path) -> Recipients:
    """The recipients of ``cadence``, or ``ParamsError`` naming the missing key."""
    recipients = params.recipients.get(cadence)
    if recipients is None:
        raise ParamsError(
            f"{Path(params_dir) / 'distribution.yaml'}: key 'recipients.{cadence}': missing; "
            f"add 'to: [...]' to e-mail the {cadence} report"
        )
    return recipients


class Annotation(_Strict):
    """An analyst's note on a day (and optionally a channel), shown on charts and alerts."""

    date: dt.date
    text: str = Field(min_length=1, max_length=500)
    channel: str | None = None

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str | None) -> str | None:
        return value if value is None else check_channels([value])[0]


class AnnotationsParams(_Strict):
    """``params/annotations.yaml``: the analysts' notes."""

    annotations: list[Annotation] = []


def load_annotations(params_dir: Path) -> list[Annotation]:
    """The notes in ``annotations.yaml``; none when the file does not exist."""
    path = Path(params_dir) / "annotations.yaml"
    if not path.exists():
        return []
    return list(_load(AnnotationsParams, path).annotations)  # type: ignore[attr-defined]


def resolve_period(
    report: ReportParams, as_of: str | None, latest: pd.Timestamp | None
) -> periods.Period:
    """The report window: the period of the report's cadence holding ``as_of`` (to date),
    or without it the latest period complete by the last full day of data (``latest``,
    the newest timestamp), in the brand's time zone and fiscal year. A bad date or an
    empty warehouse is a ``ParamsError``."""
    day = parse_date(as_of, "as_of") if as_of else None
    brand = report.brand
    kind = report.report.cadence.period
    try:
        return periods.report_period(
            kind, day, latest, brand.timezone, brand.fiscal_year_start_month
        )
    except ValueError as err:
        raise ParamsError(f"as_of: {err}") from None


class ThemePhrases(_Strict):
    """An analysts' theme (pinned, or a part split off a discovered theme): its name and
    the phrases (whole words, any case) whose messages belong to it."""

    name: Name = Field(min_length=1, max_length=60)
    phrases: list[Annotated[str, Field(min_length=2)]] = Field(min_length=1)


class ThemesParams(_Strict):
    """``params/themes.yaml``: how themes are made and the analysts' taxonomy."""

    scope: Literal["negative", "inbound"] = "negative"
    """Which messages: our negative inbound messages (p_negative >= negative_probability)
    or all our inbound messages."""
    window_days: int = Field(90, ge=7, le=730)
    """Days of the trailing window a fit reads."""
    themes: int = Field(12, ge=2, le=40)
    """Most themes a fit discovers."""
    min_similarity: float = Field(0.1, gt=0, lt=1)
    """A message below this cosine with every theme goes to "other"."""
    pinned: list[ThemePhrases] = []
    names: dict[str, Name] = {}
    """Discovered theme id -> the name reports show."""
    merge: dict[str, str] = {}
    """Discovered theme id -> the theme id its messages count as."""
    split: dict[str, list[ThemePhrases]] = {}
    """Discovered theme id -> parts taken out of it by phrases."""


def load_themes(params_dir: Path) -> ThemesParams:
    """``themes.yaml`` validated; the defaults when the file does not exist."""
    path = Path(params_dir) / "themes.yaml"
    if not path.exists():
        return ThemesParams()
    return _load(ThemesParams, path)  # type: ignore[return-value]
