"""Themes on generated complaints with planted reasons: found, labelled, stable, new flagged."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from cxpulse import themes
from cxpulse.metrics.issues import STOP_WORDS

REASONS: dict[str, tuple[str, ...]] = {
    "refund": (
        "still no refund for my cancelled order",
        "where is my refund, cancelled order two weeks ago",
        "refund not received after cancelling the order",
        "my refund has not arrived for the cancelled order",
    ),
    "flight": (
        "my flight was cancelled with no notice",
        "flight cancelled again and no rebooking offered",
        "cancelled flight and the rebooking desk is closed",
        "second cancelled flight this month, rebooking impossible",
    ),
    "hold": (
        "on hold for hours with customer service",
        "been on hold for two hours, nobody picks up the phone",
        "phone line keeps me on hold for hours",
        "hold music for hours and the phone line drops",
    ),
    "delivery": (
        "parcel delivery is late and tracking not updated",
        "delivery never arrived, tracking says delivered",
        "late delivery again, the courier tracking is wrong",
        "my parcel tracking has not moved, delivery late",
    ),
    "login": (
        "cannot log in to the app, password reset fails",
        "app login broken, password reset email never comes",
        "the app keeps logging me out and password reset fails",
        "login error in the app after the password reset",
    ),
}
NEW_REASON = (
    "the new update drains my battery overnight",
    "battery drain since the update, phone dies by noon",
    "after the update the battery is dead in hours",
)
NOISE = ("Really annoyed.", "Sort it out!", "Terrible.", "", "So frustrating.", "Unacceptable.")


def planted(
    seed: int, sizes: dict[str, int], extra: tuple[str, ...] = (), extra_n: int = 0
) -> tuple[list[str], list[str]]:
    """(texts, reasons): each reason's templates with a handle, a URL or a vent mixed in."""
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    pools = [(r, REASONS[r], n) for r, n in sizes.items()] + [("new", extra, extra_n)]
    for reason, templates, n in pools:
        for _ in range(n):
            text = str(rng.choice(templates))
            if rng.random() < 0.5:
                text = f"@AcmeCare {text}"
            if rng.random() < 0.2:
                text += " https://t.co/x1"
            texts.append(f"{text} {rng.choice(NOISE)}".strip())
            truth.append(reason)
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [truth[i] for i in order]


SIZES = {"refund": 300, "flight": 250, "hold": 200, "delivery": 150, "login": 100}


def fit_planted(texts, previous=None, last_day="2026-03-31", **kw) -> themes.ThemeModel:
    return themes.fit(
        themes.cleaned(texts, ("Acme",)), "Acme", "2026-01-01", last_day, previous=previous, **kw
    )


def majority(ids: list[str], truth: list[str]) -> dict[str, tuple[str, float]]:
    """Theme id -> (its commonest planted reason, that reason's share of the theme)."""
    out = {}
    for theme in set(ids):
        reasons = Counter(t for i, t in zip(ids, truth, strict=True) if i == theme)
        reason, n = reasons.most_common(1)[0]
        out[theme] = (reason, n / sum(reasons.values()))
    return out


@pytest.fixture(scope="module")
def first():
    texts, truth = planted(1, SIZES)
    return texts, truth, fit_planted(texts)


def test_planted_reasons_are_recovered_pure_with_little_other(first):
    texts, truth, model = first
    ids = themes.assign(themes.cleaned(texts, ("Acme",)), model).theme_id
    named = [(i, t) for i, t in zip(ids, truth, strict=True) if i != themes.OTHER]
    found = majority([i for i, _ in named], [t for _, t in named])
    purity = sum(Counter(t for i, t in named if i == k)[r] for k, (r, _) in found.items())
    assert purity / len(named) >= 0.9
    assert {r for r, _ in found.values()} == set(SIZES)  # each reason leads a theme
    assert ids.count(themes.OTHER) / len(ids) <= 0.1


def test_labels_are_two_to_four_words_of_the_theme_not_stop_words(first):
    texts, truth, model = first
    ids = themes.assign(themes.cleaned(texts, ("Acme",)), model).theme_id
    found = majority(ids, truth)
    for theme in model.themes:
        words = theme.label.split()
        assert 2 <= len(words) <= 4, theme.label
        assert words[0] not in STOP_WORDS and words[-1] not in STOP_WORDS
        assert "acme" not in theme.label and "http" not in theme.label
        reason = found[theme.id][0]
        vocabulary = {w for text in REASONS[reason] for w in text.replace(",", "").split()}
        assert set(words) <= vocabulary, (theme.label, reason)


def test_a_fit_is_reproducible(first):
    texts, _, model = first
    assert fit_planted(texts).to_dict() == model.to_dict()


def test_themes_keep_their_ids_across_fits_and_a_new_reason_is_new(first):
    _, _, before = first
    texts, truth = planted(2, SIZES, NEW_REASON, 120)
    after = fit_planted(texts, previous=before, last_day="2026-06-30")
    ids = themes.assign(themes.cleaned(texts, ("Acme",)), after).theme_id
    found = majority(ids, truth)
    old_texts, old_truth, _ = first
    old_found = majority(
        themes.assign(themes.cleaned(old_texts, ("Acme",)), before).theme_id, old_truth
    )
    for reason in SIZES:
        was = {i for i, (r, _) in old_found.items() if r == reason}
        now = {i for i, (r, _) in found.items() if r == reason}
        assert was & now, reason  # the same theme id carries the reason on
    (new,) = [i for i, (r, _) in found.items() if r == "new"]
    theme = next(t for t in after.themes if t.id == new)
    assert theme.first_seen == "2026-06-30" and new not in {t.id for t in before.themes}
    assert {t.first_seen for t in before.themes} == {"2026-01-01"}  # a first fit's window
    assert {t.first_seen for t in after.themes if t.id != new} == {"2026-01-01"}
    assert "battery" in theme.label or "update" in theme.label
    assert after.next_id > before.next_id


def test_pinned_theme_takes_its_phrases_first_and_keeps_its_name(first):
    texts, _, model = first
    pinned = themes.PinnedTheme("Lost parcels", ("parcel",))
    taxonomy = themes.Taxonomy(pinned=(pinned,))
    clean = themes.cleaned(texts, ("Acme",))
    got = themes.assign(clean, model, taxonomy)
    holding = [i for i, t in enumerate(clean) if "parcel" in t]
    assert holding and all(got.theme_id[i] == "pin-lost-parcels" for i in holding)
    assert all(got.label[i] == "Lost parcels" for i in holding)
    others = [got.theme_id[i] for i in range(len(clean)) if i not in holding]
    assert "pin-lost-parcels" not in others


def test_merge_split_and_names_apply_after_discovery(first):
    texts, truth, model = first
    clean = themes.cleaned(texts, ("Acme",))
    plain = themes.assign(clean, model).theme_id
    found = majority(plain, truth)
    by_reason = {r: i for i, (r, _) in found.items() if i != themes.OTHER}
    flight, hold = by_reason["flight"], by_reason["hold"]
    part = themes.PinnedTheme("Rebooking", ("rebooking",))
    taxonomy = themes.Taxonomy(
        names={flight: "Cancelled flights"}, merge={hold: flight}, split={flight: (part,)}
    )
    got = themes.assign(clean, model, taxonomy)
    for i, text in enumerate(clean):
        if plain[i] in (flight, hold):
            expected = f"{flight}-rebooking" if "rebooking" in text else flight
            assert got.theme_id[i] == expected
    assert hold not in got.theme_id
    assert themes.labels(model, taxonomy)[flight] == "Cancelled flights"
    assert themes.labels(model, taxonomy)[f"{flight}-rebooking"] == "Rebooking"


def test_a_message_like_no_theme_is_other(first):
    _, _, model = first
    got = themes.assign(["lovely weather for a picnic", ""], model)
    assert got.theme_id == [themes.OTHER, themes.OTHER] and got.label == ["other", "other"]


def test_a_fit_round_trips_through_json(first):
    _, _, model = first
    again = themes.ThemeModel.from_dict(model.to_dict())
    texts = ["still no refund for my order", "on hold for hours"]
    assert themes.assign(texts, again).theme_id == themes.assign(texts, model).theme_id


def test_a_carried_on_theme_keeps_a_label_that_still_fits_and_loses_one_that_does_not(first):
    texts, _, before = first
    stale, fitting = before.themes[0], before.themes[1]
    renamed = (
        replace(stale, label="parking fines"),  # words its members never use
        *before.themes[1:],
    )
    after = fit_planted(texts, previous=replace(before, themes=renamed), last_day="2026-06-30")
    labels = {t.id: t.label for t in after.themes}
    assert labels[stale.id] == stale.label != "parking fines"
    assert labels[fitting.id] == fitting.label
