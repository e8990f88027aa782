"""The lexicon tone: hand-scored headlines, negation, clause breaks, bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.sources.sentiment import NEGATIVE, POSITIVE, Tone, tone, tones


@pytest.mark.parametrize(
    ("text", "positive", "negative"),
    [
        # surge, record, profit
        ("Apple shares surge after record profit", 3, 0),
        # fall, recession, fears - grow
        ("Stocks fall as recession fears grow", 1, 3),
        ("Nothing to see here", 0, 0),
        ("", 0, 0),
        ("SURGE", 1, 0),  # case does not matter
        # "not" reaches three words: improve counts as negative
        ("Earnings did not improve", 0, 1),
        # "no losses" is good news
        ("No losses this quarter", 1, 0),
        # StockNet splits "don't" into "do n't"
        ("sales do n't improve", 0, 1),
        ("It doesn't beat estimates", 0, 1),
        ("Shares didn\u2019t drop", 1, 0),  # a curly apostrophe
        # the negator is four words before "gain": out of reach
        ("not that the company reported a gain", 1, 0),
        # a comma ends the negation: bad is negated, rallied is not
        ("Not bad, shares rallied", 2, 0),
        # profits positive, then "not strong" negative
        ("profits were not strong", 1, 1),
    ],
)
def test_hand_scored_texts(text: str, positive: int, negative: int) -> None:
    found = tone(text)
    assert (found.positive, found.negative) == (positive, negative)
    total = positive + negative
    assert found.score == pytest.approx((positive - negative) / total if total else 0.0)
    assert found.words == total


def test_none_is_no_evidence() -> None:
    assert tone(None) == Tone(score=0.0, positive=0, negative=0)


def test_tones_keep_order() -> None:
    scores, words = tones(["gain", None, "loss loss gain"])
    assert scores == [1.0, 0.0, pytest.approx(-1 / 3)]
    assert words == [1, 0, 3]


def test_the_lists_do_not_overlap() -> None:
    assert not POSITIVE & NEGATIVE


@given(st.text())
def test_tone_stays_in_range(text: str) -> None:
    found = tone(text)
    assert -1.0 <= found.score <= 1.0
    assert found.positive >= 0 and found.negative >= 0


@given(st.lists(st.sampled_from(sorted(POSITIVE | NEGATIVE | {"the", "no", ",", "not"}))))
def test_tone_matches_a_slow_recount(words: list[str]) -> None:
    """Oracle: walk the words, flipping any lexicon word within 3 words of a negator."""
    positive = negative = 0
    last_negator = None
    for i, word in enumerate(words):
        if word == ",":
            last_negator = None
        elif word in ("no", "not"):
            last_negator = i
        else:
            flipped = last_negator is not None and i - last_negator <= 3
            if word in POSITIVE:
                positive, negative = (
                    (positive, negative + 1) if flipped else (positive + 1, negative)
                )
            elif word in NEGATIVE:
                positive, negative = (
                    (positive + 1, negative) if flipped else (positive, negative + 1)
                )
    found = tone(" ".join(words))
    assert (found.positive, found.negative) == (positive, negative)
