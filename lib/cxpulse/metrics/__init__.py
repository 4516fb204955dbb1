"""Metrics: pure functions over an Ibis table of interactions, run by the engine (DuckDB).

Each takes the ``interactions`` table and a half-open UTC window ``[start, end)`` and
returns a small pandas frame; ``by`` groups by brand, channel or local day/week/quarter.
"""

from cxpulse.metrics.alerts import (
    negative_spikes,
    urgent_unanswered,
    viral_negatives,
    worst_reviews,
)
from cxpulse.metrics.benchmark import response_benchmark, share_of_voice
from cxpulse.metrics.calls import call_summary
from cxpulse.metrics.command import choose_period, metrics_command, open_table
from cxpulse.metrics.engagement import engagement_rate
from cxpulse.metrics.grouping import GROUP_KEYS
from cxpulse.metrics.overview import HEADLINE_COUNTS, HEADLINE_FIELDS, daily_series, headline
from cxpulse.metrics.reputation import reputation_by_period, reputation_index
from cxpulse.metrics.response import first_responses, response_summary
from cxpulse.metrics.reviews import review_summary
from cxpulse.metrics.sentiment import sentiment_counts, sentiment_summary
from cxpulse.metrics.volume import volume_summary

__all__ = [
    "GROUP_KEYS",
    "HEADLINE_COUNTS",
    "HEADLINE_FIELDS",
    "call_summary",
    "choose_period",
    "daily_series",
    "engagement_rate",
    "first_responses",
    "headline",
    "metrics_command",
    "negative_spikes",
    "open_table",
    "reputation_by_period",
    "reputation_index",
    "response_benchmark",
    "response_summary",
    "review_summary",
    "sentiment_counts",
    "sentiment_summary",
    "share_of_voice",
    "urgent_unanswered",
    "viral_negatives",
    "volume_summary",
    "worst_reviews",
]
