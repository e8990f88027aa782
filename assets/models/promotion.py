"""The promotion gate (pure): may a newly trained model replace the champion?

1. Stability: a candidate is eligible only if its IC is positive in at least
   ``min_positive_fold_share`` of its folds and its IC t-statistic is at least ``min_ic_tstat``
   (an undefined value fails).
2. No champion: the best eligible candidate (by ``metric``) becomes the first champion; with
   none eligible there is no champion, and the trade flow holds the book.
3. Otherwise the best eligible candidate must beat the champion's *specification*, evaluated on
   the same folds, by at least ``margin``: comparing metrics of different test windows would
   reward whichever model happened to be tested in the easier period.
4. Failing that, with ``promote_refits``, an eligible refit of the champion's own specification
   on newer data replaces it (on the same folds the two are the same specification).
5. Otherwise the champion stays. Every candidate gets the reason for its status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assets.models.config import PromotionConfig


@dataclass(frozen=True)
class Candidate:
    """A newly trained model as the gate sees it."""

    version: str
    spec_key: str
    metric: float
    ic_tstat: float
    positive_fold_share: float


@dataclass(frozen=True)
class Baseline:
    """The current champion, scored on the candidates' folds (or as recorded: see ``basis``)."""

    version: str
    spec_key: str
    metric: float
    basis: str


@dataclass(frozen=True)
class Verdict:
    """The champion after the decision, whether it is new, and every candidate's reason."""

    champion: str | None
    promoted: str | None
    reasons: dict[str, str]
    summary: str


def stability_problem(candidate: Candidate, policy: PromotionConfig) -> str | None:
    """Return why ``candidate`` fails the stability checks, or None if it passes."""
    share, floor = policy.min_positive_fold_share, policy.min_ic_tstat
    if not candidate.positive_fold_share >= share:
        return f"IC positive in {candidate.positive_fold_share:.0%} of folds (need >= {share:.0%})"
    if math.isnan(candidate.ic_tstat):
        return "IC t-stat undefined (fewer than 2 scored sessions or constant ICs)"
    if candidate.ic_tstat < floor:
        return f"IC t-stat {candidate.ic_tstat:.2f} below the floor {floor:.2f}"
    if math.isnan(candidate.metric):
        return f"{policy.metric} undefined"
    return None


def _stable_text(c: Candidate) -> str:
    return f"stable: IC positive in {c.positive_fold_share:.0%} of folds, t-stat {c.ic_tstat:.2f}"


def decide(
    candidates: list[Candidate], *, baseline: Baseline | None, policy: PromotionConfig
) -> Verdict:
    """Apply the gate to this run's candidates against the champion ``baseline``."""
    if not candidates:
        raise ValueError("no candidate to decide on")
    name, margin = policy.metric, policy.margin
    problems = {c.version: stability_problem(c, policy) for c in candidates}
    reasons = {v: f"refused: {p}" for v, p in problems.items() if p}
    eligible = sorted(
        (c for c in candidates if not problems[c.version]), key=lambda c: (-c.metric, c.version)
    )
    keep = baseline.version if baseline else None
    if not eligible:
        summary = (
            f"champion {keep} stays: no candidate passed the stability checks"
            if keep
            else "no champion: no candidate passed the stability checks, so the trade flow holds "
            "the book until a model passes or a person runs `quantlake models promote VERSION`"
        )
        return Verdict(keep, None, reasons, summary)
    best = eligible[0]
    for other in eligible[1:]:
        reasons[other.version] = (
            f"challenger: {name} {other.metric:.4f} ranks below {best.version}'s {best.metric:.4f}"
        )
    if baseline is None:
        reasons[best.version] = f"first champion: {_stable_text(best)}, {name} {best.metric:.4f}"
        return Verdict(best.version, best.version, reasons, reasons[best.version])
    gain = best.metric - baseline.metric
    versus = (
        f"{name} {best.metric:.4f} vs champion {baseline.version}'s {baseline.metric:.4f} "
        f"({baseline.basis}): {gain:+.4f}"
    )
    # The tolerance keeps a gain of exactly the margin from failing on float rounding.
    if gain >= margin - 1e-12:
        reasons[best.version] = (
            f"promoted: {versus} beats the margin {margin}; {_stable_text(best)}"
        )
        return Verdict(best.version, best.version, reasons, reasons[best.version])
    refit = next((c for c in eligible if c.spec_key == baseline.spec_key), None)
    if policy.promote_refits and refit is not None:
        reasons[refit.version] = (
            f"promoted: refit of champion {baseline.version}'s specification on newer data, "
            f"{_stable_text(refit)}"
        )
        if refit is not best:
            reasons[best.version] = f"challenger: {versus} is within the margin {margin}"
        return Verdict(refit.version, refit.version, reasons, reasons[refit.version])
    reasons[best.version] = f"challenger: {versus} is within the margin {margin}"
    summary = f"champion {keep} stays: best candidate {best.version} has {versus}, within {margin}"
    return Verdict(keep, None, reasons, summary)
