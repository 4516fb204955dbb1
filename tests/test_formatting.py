import math

import pandas as pd
import pytest

from cxpulse import formatting as fmt


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (42, "42 s"),
        (600, "10 min"),
        (3600, "1 h"),
        (7560, "2.1 h"),
        (3 * 86400, "3 d"),
        (None, "—"),
    ],
)
def test_duration_picks_a_readable_unit(seconds, text):
    assert fmt.duration(seconds) == text


def test_missing_values_render_as_a_dash_not_zero():
    for render in fmt.FORMATS.values():
        assert render(None) == "—"
        assert render(math.nan) == "—"


def test_rate_changes_are_in_points_and_durations_in_percent():
    assert fmt.change_text(0.78, 0.822, "percent") == "-4.2 pts"
    assert fmt.change_text(7560, 5640, "duration") == "+34%"
    assert fmt.change_text(12, 6, "points") == "+6 pts"
    # a change that rounds to nothing has no sign: 53.2 to 52.9 is not "-0 pts"
    assert fmt.change_text(52.9, 53.2, "points") == "±0 pts"
    assert fmt.change_text(0.8, 0.8004, "percent") == "±0.0 pts"
    assert fmt.change_text(100.2, 100, "count") == "±0%"


def test_a_comparison_without_data_says_so_instead_of_zero_percent():
    assert fmt.change_text(10, None, "count") == "no comparison data"
    assert fmt.relative_change(10, 0) is None
    assert fmt.change_text(10, 0, "count") == "new"
    assert fmt.relative_change(-10, -20) == 0.5  # net sentiment -20 -> -10 is a rise
    assert fmt.relative_change(pd.NA, 3) is None
