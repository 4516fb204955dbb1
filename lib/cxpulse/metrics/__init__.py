"""Metrics: pure functions over an Ibis table of interactions, run by the engine (DuckDB).

Each takes the ``interactions`` table and a half-open UTC window ``[start, end)`` and
returns a small pandas frame; ``by`` groups by brand, channel or local
day/week/quarter/weekday/hour (``GROUP_KEYS``).
"""

from cxpulse.metrics.alerts import (
    negative_spikes,
    spike_status,
    urgent_unanswered,
    viral_negatives,
    worst_reviews,
)
from cxpulse.metrics.benchmark import response_benchmark, share_of_voice
from cxpulse.metrics.boundaries import opt_out_breaches
from cxpulse.metrics.business_hours import business_intervals, with_business_frt
from cxpulse.metrics.calls import call_summary
from cxpulse.metrics.command import (
    choose_period,
    metrics_command,
    open_table,
    sentiment_calibration,
    sentiment_engine_label,
)
from cxpulse.metrics.engagement import engagement_rate
from cxpulse.metrics.grouping import GROUP_KEYS
from cxpulse.metrics.hour_of_week import inbound_by_hour_of_week, sla_by_hour_of_week
from cxpulse.metrics.impact import churn_by_care
from cxpulse.metrics.issues import phrases, rising_issues, top_issues
from cxpulse.metrics.overview import HEADLINE_COUNTS, HEADLINE_FIELDS, daily_series, headline
from cxpulse.metrics.reputation import reputation_by_period, reputation_index
from cxpulse.metrics.response import first_responses, response_summary
from cxpulse.metrics.reviews import review_summary
from cxpulse.metrics.sentiment import sentiment_counts, sentiment_summary
from cxpulse.metrics.spend import volume_vs_spend
from cxpulse.metrics.survey import nps_by_channel, survey_summary
from cxpulse.metrics.volume import volume_summary
from cxpulse.metrics.wait import customer_wait

__all__ = [
    "GROUP_KEYS",
    "HEADLINE_COUNTS",
    "HEADLINE_FIELDS",
    "business_intervals",
    "call_summary",
    "choose_period",
    "churn_by_care",
    "customer_wait",
    "daily_series",
    "engagement_rate",
    "first_responses",
    "headline",
    "inbound_by_hour_of_week",
    "metrics_command",
    "negative_spikes",
    "nps_by_channel",
    "open_table",
    "opt_out_breaches",
    "phrases",
    "reputation_by_period",
    "reputation_index",
    "response_benchmark",
    "response_summary",
    "review_summary",
    "rising_issues",
    "sentiment_calibration",
    "sentiment_counts",
    "sentiment_engine_label",
    "sentiment_summary",
    "share_of_voice",
    "sla_by_hour_of_week",
    "spike_status",
    "survey_summary",
    "top_issues",
    "urgent_unanswered",
    "viral_negatives",
    "volume_summary",
    "volume_vs_spend",
    "with_business_frt",
    "worst_reviews",
]
