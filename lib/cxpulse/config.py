"""Load and validate the YAML files in ``params/``.

Every file is validated once, when loaded, against a pydantic model that forbids unknown
keys. A mistake raises ``ParamsError`` naming the file, the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cxpulse.schema import CHANNELS

CADENCES: tuple[str, ...] = ("daily", "weekly", "quarterly")


class ParamsError(ValueError):
    """A params file is missing, unreadable or holds a wrong key or value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallParams(_Strict):
    """How call-centre service level is counted (vendors differ)."""

    service_level_threshold_s: float = Field(20, gt=0)
    short_abandon_s: float = Field(5, ge=0)
    service_level_formula: Literal["exclude_short_abandons", "include_all_abandons"] = (
        "exclude_short_abandons"
    )


class ReputationWeights(_Strict):
    """Weights of the reputation index parts; they must add up to 1."""

    net_sentiment: float = Field(0.4, ge=0)
    review_stars: float = Field(0.3, ge=0)
    sla_attainment: float = Field(0.3, ge=0)


class KpiTargets(_Strict):
    """Company-wide targets the KPI tiles compare against (fractions, points, seconds, stars)."""

    response_rate: float | None = Field(0.9, ge=0, le=1)
    sla_attainment: float | None = Field(0.9, ge=0, le=1)
    net_sentiment: float | None = Field(0.0, ge=-100, le=100)
    service_level: float | None = Field(0.8, ge=0, le=1)
    abandonment_rate: float | None = Field(0.05, ge=0, le=1)
    asa_s: float | None = Field(30, gt=0)
    mean_rating: float | None = Field(4.0, ge=1, le=5)


class BrandParams(_Strict):
    """``params/brand.yaml``: who we are and what we promise."""

    brand: str = Field(min_length=1)
    competitors: list[str] = []
    timezone: str = "UTC"
    channels: list[str] = list(CHANNELS)
    sla_targets_s: dict[str, float] = {}
    costs_per_contact: dict[str, float] = {}
    calls: CallParams = CallParams()
    kpi_targets: KpiTargets = KpiTargets()
    reputation_weights: ReputationWeights = ReputationWeights()
    page_size: Literal["A4", "Letter"] = "A4"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r} (e.g. 'Europe/London')") from None
        return value

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CHANNELS]
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; expected some of {list(CHANNELS)}")
        return value

    @field_validator("sla_targets_s", "costs_per_contact")
    @classmethod
    def _per_channel(cls, value: dict[str, float]) -> dict[str, float]:
        for channel, number in value.items():
            if channel not in CHANNELS:
                raise ValueError(f"unknown channel {channel!r}; expected one of {list(CHANNELS)}")
            if number <= 0:
                raise ValueError(f"{channel}: expected a positive number, got {number}")
        return value


class CadenceParams(_Strict):
    """``params/<cadence>.yaml``: what one report is."""

    title: str
    notebook: str
    timeout_s: int = Field(600, gt=0)
    """A cell running longer than this fails the run."""


class ReportParams(_Strict):
    """Everything a report run needs, validated."""

    cadence: Literal["daily", "weekly", "quarterly"]
    brand: BrandParams
    report: CadenceParams
    params_dir: Path


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ParamsError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
                expected = ", ".join(model.model_fields) if len(e["loc"]) == 1 else "a known key"
                lines.append(f"{path}: key '{key}': unknown key; expected one of: {expected}")
            else:
                lines.append(f"{path}: key '{key}': {e['msg']} (got {e.get('input')!r})")
        raise ParamsError("\n".join(lines)) from None


def load_brand(params_dir: Path) -> BrandParams:
    """Read and validate ``brand.yaml``."""
    return _load(BrandParams, Path(params_dir) / "brand.yaml")  # type: ignore[return-value]


def load_report_params(cadence: str, params_dir: Path) -> ReportParams:
    """Read and validate ``brand.yaml`` and ``<cadence>.yaml``."""
    if cadence not in CADENCES:
        raise ParamsError(f"unknown cadence {cadence!r}; expected one of {', '.join(CADENCES)}")
    params_dir = Path(params_dir)
    return ReportParams(
        cadence=cadence,
        brand=load_brand(params_dir),
        report=_load(CadenceParams, params_dir / f"{cadence}.yaml"),
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
