import pandas as pd

from cxpulse.narrative import Kpi, action_sentence, channel_frt_sentence, headline_sentences


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
