"""``textclean``: what a sentiment engine must never read as words."""

from __future__ import annotations

import pytest

from cxpulse import sentiment
from cxpulse.textclean import clean, names_pattern


def test_clean_removes_handles_urls_and_masks():
    text = "@united my bag [email] [phone] is lost https://t.co/x1 www.example.com/a ok"
    assert clean(text) == "my bag is lost ok"


def test_clean_keeps_a_hashtags_word_without_its_hash():
    assert clean("#fail again #1 not#this") == "fail again 1 not#this"


def test_clean_unescapes_html_entities_so_a_heart_is_a_heart():
    assert clean("thanks &amp; bye &lt;3") == "thanks & bye <3"


def test_clean_keeps_an_email_like_word_without_a_handle():
    assert clean("meet me@home") == "meet me@home"


def test_clean_removes_brand_names_as_whole_words_any_case_and_spacing():
    names = names_pattern(("Northwind Mobile", "Contoso", "NorthwindHelp"))
    text = "northwind  mobile beats CONTOSO; #NorthwindMobile ok, Contosoville stays"
    assert clean(text, names) == "beats ; ok, Contosoville stays"


def test_names_pattern_without_names_is_none():
    assert names_pattern(()) is None
    assert names_pattern(("  ",)) is None


@pytest.mark.parametrize("engine", sorted(sentiment.ENGINES))
def test_a_handle_named_after_a_positive_word_scores_as_if_absent(engine):
    with_handle = ["@united my flight is cancelled again", "@Delta @Great lost my bag &amp; 2h"]
    without = ["my flight is cancelled again", "lost my bag & 2h"]
    assert (
        sentiment.score_texts(with_handle, engine) == sentiment.score_texts(without, engine)
    ).all()
    raw_vader = sentiment.compound(with_handle[0])
    assert raw_vader > sentiment.compound(without[0])  # the handle alone lifts raw VADER


@pytest.mark.parametrize("engine", sorted(sentiment.ENGINES))
def test_a_brand_name_in_the_text_scores_as_if_absent(engine):
    names = ("Great Western",)
    scored = sentiment.score_texts(["Great Western lost my booking"], engine, names)
    assert (scored == sentiment.score_texts(["lost my booking"], engine)).all()
