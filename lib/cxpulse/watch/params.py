"""``params/alerts.yaml``: the rules ``cxpulse watch`` evaluates and who each one tells.

Validated once when loaded, as every params file is (``config``): an unknown key, a wrong
value, a list named by a rule but not declared, or two rules of one name raise
``ParamsError`` naming the file, the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cxpulse.config import (
    Name,
    ParamsError,
    _load,
    _Strict,
    check_address,
    check_channels,
)

FILE = "alerts.yaml"
Severity = Literal["high", "low"]


class QuietHours(_Strict):
    """Local times (the brand's time zone) between which low-severity alerts wait; ``end``
    before ``start`` spans midnight (22:00 to 07:00)."""

    start: dt.time
    end: dt.time

    @field_validator("end")
    @classmethod
    def _not_empty(cls, value: dt.time, info) -> dt.time:
        if value == info.data.get("start"):
            raise ValueError("quiet hours end when they start; remove quiet_hours instead")
        return value


class AlertList(_Strict):
    """Who is told: e-mail addresses and, optionally, an incoming webhook (Slack, Teams)
    whose URL is read from the environment variable ``webhook_env`` (a webhook URL is a
    secret: it is never written in params)."""

    to: list[str] = Field(min_length=1)
    webhook_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    quiet_hours: QuietHours | None = None

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [check_address(v) for v in value]


class Escalation(_Strict):
    """Tell ``notify`` too when the item is still unanswered ``after_min`` minutes after
    its alert."""

    after_min: float = Field(gt=0)
    notify: list[str] = Field(min_length=1)


class _Rule(_Strict):
    name: Name = Field(min_length=1, max_length=80)
    channels: list[str] | None = None
    """Only these channels (default: every channel)."""
    severity: Severity = "high"
    notify: list[str] = Field(min_length=1)
    """Names of ``lists``."""
    end_after_min: float = Field(30, gt=0)
    """An episode ends when its condition has been off this long; it starts again after."""

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str] | None) -> list[str] | None:
        return value if value is None else check_channels(value)


class NegativeSurge(_Rule):
    """Estimated negative messages (sum of p_negative, inbound and mentions) of the last
    ``window_min`` minutes against the same minutes of the same weekday in each of the
    ``weeks`` weeks before: robust z >= ``z`` and at least ``min_count``."""

    kind: Literal["negative_surge"]
    window_min: int = Field(60, gt=0, le=24 * 60)
    weeks: int = Field(8, ge=3, le=52)
    z: float = Field(3.0, gt=0)
    min_count: float = Field(20, ge=0)


class UrgentUnanswered(_Rule):
    """An inbound message of the last ``lookback_hours`` still unanswered and past its
    channel's target, or strongly negative with an urgency word."""

    kind: Literal["urgent_unanswered"]
    lookback_hours: float = Field(24, gt=0)
    escalate: Escalation | None = None


class ViralNegative(_Rule):
    """A negative post (inbound or mention) of the last ``lookback_hours`` seen by at least
    ``reach`` people."""

    kind: Literal["viral_negative"]
    lookback_hours: float = Field(24, gt=0)
    reach: int = Field(gt=0)


class WorstReview(_Rule):
    """A new review of ``max_rating`` stars or fewer (1 by default) of the last
    ``lookback_hours`` on one of ``sites`` (the site in its id ``review:<site>:<n>``;
    default: every site)."""

    kind: Literal["worst_review"]
    lookback_hours: float = Field(24, gt=0)
    max_rating: int = Field(1, ge=1, le=5)
    sites: list[str] | None = None


class ResponseCollapse(_Rule):
    """The share of inbound messages answered within their channel's target, over those
    of the last ``hours`` hours that were due, below ``floor`` (with at least ``min_due``
    due)."""

    kind: Literal["response_collapse"]
    hours: float = Field(3, gt=0)
    floor: float = Field(gt=0, le=1)
    min_due: int = Field(10, ge=1)


Rule = Annotated[
    NegativeSurge | UrgentUnanswered | ViralNegative | WorstReview | ResponseCollapse,
    Field(discriminator="kind"),
]
RULE_KINDS: tuple[str, ...] = (
    "negative_surge",
    "urgent_unanswered",
    "viral_negative",
    "worst_review",
    "response_collapse",
)


class AlertsParams(_Strict):
    """``params/alerts.yaml``."""

    brand: Name | None = None
    """The brand watched (default: ``brand`` of brand.yaml)."""
    report_url: str | None = None
    """Where ``reports/`` is served (``https://intranet.example/cx/``): the link to the last
    daily brief; without it, a ``file://`` link on this machine."""
    lists: dict[str, AlertList] = Field(min_length=1)
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _names(self) -> AlertsParams:
        seen: set[str] = set()
        for number, rule in enumerate(self.rules):
            if rule.name in seen:
                raise ValueError(f"rules.{number}.name: {rule.name!r} names two rules")
            seen.add(rule.name)
            escalation = getattr(rule, "escalate", None)
            named = [*rule.notify, *(escalation.notify if escalation else [])]
            unknown = [n for n in named if n not in self.lists]
            if unknown:
                raise ValueError(
                    f"rules.{number} ({rule.name}): unknown list(s) {unknown}; "
                    f"expected some of {sorted(self.lists)}"
                )
        return self


def load_alerts(params_dir: Path) -> AlertsParams:
    """Read and validate ``alerts.yaml``."""
    return _load(AlertsParams, Path(params_dir) / FILE)  # type: ignore[return-value]


def webhook_url(alert_list: AlertList, environ: Mapping[str, str] = os.environ) -> str | None:
    """The webhook URL of ``alert_list`` from its environment variable; None without one;
    ``ParamsError`` when the variable is named but not set or not http(s)."""
    if alert_list.webhook_env is None:
        return None
    url = environ.get(alert_list.webhook_env, "")
    if not url.startswith(("http://", "https://")):
        raise ParamsError(
            f"environment: {alert_list.webhook_env} (webhook_env in {FILE}) must hold the "
            "webhook's http(s) URL" + ("" if url else "; it is not set")
        )
    return url
