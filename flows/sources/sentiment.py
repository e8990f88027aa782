"""A finance tone score from a small embedded lexicon, with negation (pure, nothing downloaded).

In the manner of Loughran and McDonald: words are counted as positive or negative in a finance
sense ("loss", "downgrade" negative; "beat", "upgrade" positive), and the tone is
``(positive - negative) / (positive + negative)``, in [-1, 1]. The lists below are written for
this project (headlines and tweets), not copied from the LM dictionary. A sentiment word within
three words after a negator in the same clause ("not", "no", "never", "n't"...) counts for the
other side: "no losses" is positive, "didn't beat" negative. A text with no lexicon word has
tone 0.0 and ``words`` 0, so a caller can tell "no evidence" from "balanced".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


POSITIVE = _words(
    """
    gain gains gained gaining beat beats beating outperform outperforms outperformed
    outperforming surge surges surged surging soar soars soared soaring rally rallies rallied
    rallying rebound rebounds rebounded rebounding profit profits profitable profitability record
    strong stronger strongest strength growth grow grows grew growing improve improves improved
    improvement improving upgrade upgrades upgraded boost boosts boosted boosting rise rises rose
    rising jump jumps jumped jumping climb climbs climbed climbing success successful succeed
    succeeds win wins won winning positive optimism optimistic bullish recover recovers recovered
    recovery exceed exceeds exceeded exceeding expand expands expanded expansion upbeat robust
    favorable favourable benefit benefits benefited opportunity opportunities breakthrough
    good great best better strongly confident confidence approve approves approved approval
    """
)

NEGATIVE = _words(
    """
    loss losses lose loses losing lost fall falls fell falling drop drops dropped dropping decline
    declines declined declining plunge plunges plunged plunging slump slumps slumped slumping
    tumble tumbles tumbled tumbling crash crashes crashed crashing sink sinks sank sinking slide
    slides slid sliding weak weaker weakest weakness weaken weakens weakened miss misses missed
    downgrade downgrades downgraded cut cuts cutting layoff layoffs lawsuit lawsuits fraud default
    defaults defaulted bankrupt bankruptcy recession crisis warn warns warned warning concern
    concerns fear fears feared worry worries worried bearish negative pessimism pessimistic
    slowdown shortfall investigation probe penalty fined scandal struggle struggles struggled
    struggling fail fails failed failure bad worse worst poor hurt hurts damage damaged collapse
    collapses collapsed plummet plummets plummeted underperform underperforms underperformed
    disappoint disappoints disappointed disappointing halt halts halted suspend suspended recall
    """
)

NEGATORS = _words(
    """
    not no never none nobody nothing neither nor without cannot n't isn't aren't wasn't weren't
    don't doesn't didn't won't wouldn't can't couldn't shouldn't hasn't haven't hadn't
    """
)
NEGATION_WINDOW = 3  # words after a negator that it reaches

# Words (with inner apostrophes), StockNet's split-off "n't", and clause-ending punctuation.
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|n't|[.,;:!?]")


@dataclass(frozen=True)
class Tone:
    """The lexicon tone of one text."""

    score: float
    positive: int
    negative: int

    @property
    def words(self) -> int:
        """Return how many lexicon words were counted (0: no evidence either way)."""
        return self.positive + self.negative


def tokens(text: str) -> list[str]:
    """Return the lower-cased words and clause breaks of ``text`` (curly apostrophes as ')."""
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def tone(text: str | None) -> Tone:
    """Return the tone of ``text``; None or empty text has tone 0.0 with no words."""
    positive = negative = 0
    since_negator = NEGATION_WINDOW + 1  # words since the last negator in this clause
    for token in tokens(text or ""):
        if token in ".,;:!?":
            since_negator = NEGATION_WINDOW + 1
            continue
        if token in NEGATORS:
            since_negator = 0
            continue
        since_negator += 1
        flipped = since_negator <= NEGATION_WINDOW
        if token in POSITIVE:
            positive, negative = (positive, negative + 1) if flipped else (positive + 1, negative)
        elif token in NEGATIVE:
            positive, negative = (positive + 1, negative) if flipped else (positive, negative + 1)
    total = positive + negative
    score = (positive - negative) / total if total else 0.0
    return Tone(score=score, positive=positive, negative=negative)


def tones(texts: Iterable[str | None]) -> tuple[list[float], list[int]]:
    """Return the scores and lexicon word counts of ``texts``, in order."""
    found = [tone(t) for t in texts]
    return [t.score for t in found], [t.words for t in found]
