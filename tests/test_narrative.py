import dataclasses
import math

import pandas as pd
import pytest

from cxpulse.narrative import (
    Kpi,
    action_sentence,
    channel_frt_sentence,
    headline_sentences,
    kpi_sentence,
)


def test_channel_sentence_names_the_channel_its_change_and_missed_target():
    frame = pd.DataFrame(
        {
            "channel": ["twitter", "email"],
            "frt_median_s": [7560.0, 3600.0],
            "frt_median_s_prev": [5640.0, 3500.0],
            "target_s": [3600.0, 86400.0],
        }
    )
    assert channel_frt_sentence(frame) == (
        "Twitter median first response rose 34% to 2.1 h, missing the 1 h target."
    )


def test_rate_sentence_uses_points_and_target():
    k = Kpi("response_rate", "Response rate", "percent", 0.78, 0.822, 0.9, "up")
    sentences = headline_sentences([k])
    assert sentences == ["Response rate fell 4.2 pts to 78%, missing the 90% target."]


def test_small_moves_read_as_steady():
    k = Kpi("asa_s", "Average speed of answer", "duration", 30.2, 30.0, 60, "down")
    assert headline_sentences([k]) == [
        "Average speed of answer held steady at 30 s, meeting the 60 s target."
    ]


def test_missed_targets_come_before_bigger_moves_and_at_most_five_sentences():
    kpis = [
        Kpi("a", "Net sentiment", "points", 20, 0, 0, "up"),
        Kpi("b", "Call service level", "percent", 0.79, 0.80, 0.8, "up"),
    ] + [Kpi(f"k{i}", f"Figure {i}", "count", 10 + i, 5, None, "up") for i in range(6)]
    sentences = headline_sentences(kpis, action=action_sentence(0, 0, 0))
    assert len(sentences) == 5
    assert sentences[0].startswith("Nothing needs urgent action")
    assert sentences[1].startswith("Call service level fell 1.0 pts to 79%, missing")


def test_no_comparison_data_is_said_plainly():
    k = Kpi("r", "Review rating", "stars", 4.2, None, 4.0, "up")
    assert headline_sentences([k]) == ["Review rating was 4.2★, meeting the 4.0★ target."]


def test_action_sentence_counts_urgent_messages_and_spikes():
    assert action_sentence(12, 8, 1) == (
        "12 unanswered messages need action now (8 past their response target); "
        "1 complaint spike detected."
    )
    assert action_sentence(1, 0, 0) == "1 unanswered message needs action now."


def net(current, previous, interval, previous_interval, target=None) -> Kpi:
    return Kpi(
        "net_sentiment", "Net sentiment", "points", current, previous, target, "up",
        interval=interval, previous_interval=previous_interval,
    )  # fmt: skip


def test_a_change_of_net_sentiment_beyond_both_intervals_is_outside_the_usual_range():
    # fell 12: margin = hypot(high_now - now, prev - low_prev) = hypot(4, 3) = 5
    k = net(-30, -18, (-36, -26), (-21, -14))
    assert k.noise == 5 and k.within_noise is False and k.trend == "bad"
    assert headline_sentences([k]) == [
        "Net sentiment fell 12 pts to -30, outside the usual range (±5 pts)."
    ]


def test_a_change_of_net_sentiment_inside_the_intervals_reads_as_noise():
    # moved 3: margin = hypot(now - low_now, high_prev - prev) = hypot(6, 8) = 10
    k = net(-27, -30, (-33, -20), (-36, -22), target=0)
    assert k.noise == 10 and k.within_noise is True and k.trend == "flat"
    assert headline_sentences([k]) == [
        "Net sentiment moved 3 pts to -27, within noise (±10 pts), missing the +0 target."
    ]
    assert net(-30.2, -30, (-35, -25), (-35, -25)).within_noise
    assert kpi_sentence(net(-30.2, -30, (-35, -25), (-35, -25))) == (
        "Net sentiment held steady at -30, within noise (±7 pts)."
    )


def test_noise_is_weighed_on_the_side_facing_the_other_period():
    # a rise to +95: the interval is clipped at +100 above but 10 wide below
    k = net(95, 80, (85, 100), (75, 86))
    assert k.noise == pytest.approx(math.hypot(10, 6))


def test_a_noisy_change_gives_way_to_a_real_move_in_the_headlines():
    noisy = net(-27, -30, (-33, -20), (-36, -22))
    real = Kpi("rate", "Response rate", "percent", 0.80, 0.79, None, "up")
    assert headline_sentences([noisy, real])[0].startswith("Response rate rose")


def test_without_intervals_net_sentiment_reads_as_before():
    k = net(-30, -18, None, None)
    assert k.noise is None and k.interval_text is None
    assert kpi_sentence(k) == "Net sentiment fell 12 pts to -30."
    assert net(-30, -18, (-36.4, -25.1), None).interval_text == "-36 to -25"


def test_a_change_is_read_against_sampling_error_not_the_engines_shared_error():
    # intervals +-40 hold the engine's calibration error; sampling alone is +-3 and +-4
    wide = net(-30, -18, (-70, 10), (-58, 22))
    assert wide.within_noise is True  # the engine's error would hide the fall
    k = dataclasses.replace(wide, chance=3.0, previous_chance=4.0)
    assert k.noise == 5 and k.within_noise is False and k.trend == "bad"
    assert kpi_sentence(k) == "Net sentiment fell 12 pts to -30, outside the usual range (±5 pts)."
