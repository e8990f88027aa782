"""The promotion gate on hand-made cases: each rule, its reason, and the order of the rules."""

from __future__ import annotations

import math

import pytest

from assets.models.config import PromotionConfig
from assets.models.promotion import Baseline, Candidate, decide, stability_problem

POLICY = PromotionConfig(
    metric="oos_rank_ic",
    margin=0.01,
    min_positive_fold_share=0.5,
    min_ic_tstat=1.0,
    promote_refits=False,
)
CHAMPION = Baseline("ridge-old", spec_key="ridge-spec", metric=0.030, basis="same folds")


def cand(
    version: str, metric: float, *, spec: str = "gbt-spec", t: float = 2.0, share: float = 1.0
):
    return Candidate(version, spec, metric=metric, ic_tstat=t, positive_fold_share=share)


def test_a_candidate_that_beats_the_champion_by_the_margin_is_promoted() -> None:
    verdict = decide([cand("gbt-new", 0.041)], baseline=CHAMPION, policy=POLICY)
    assert (verdict.champion, verdict.promoted) == ("gbt-new", "gbt-new")
    assert verdict.reasons["gbt-new"].startswith(
        "promoted: oos_rank_ic 0.0410 vs champion ridge-old"
    )
    assert "+0.0110" in verdict.reasons["gbt-new"]


def test_exactly_the_margin_is_enough() -> None:
    for champion, new in ((0.030, 0.040), (0.07, 0.08), (0.1, 0.11)):
        baseline = Baseline("ridge-old", spec_key="ridge-spec", metric=champion, basis="same")
        verdict = decide([cand("gbt-new", new)], baseline=baseline, policy=POLICY)
        assert verdict.promoted == "gbt-new", (champion, new, new - champion)


def test_within_the_margin_the_champion_stays_and_the_reason_is_recorded() -> None:
    verdict = decide([cand("gbt-new", 0.035)], baseline=CHAMPION, policy=POLICY)
    assert (verdict.champion, verdict.promoted) == ("ridge-old", None)
    assert verdict.reasons["gbt-new"] == (
        "challenger: oos_rank_ic 0.0350 vs champion ridge-old's 0.0300 (same folds): +0.0050 "
        "is within the margin 0.01"
    )
    assert verdict.summary.startswith("champion ridge-old stays: best candidate gbt-new has")


@pytest.mark.parametrize(
    ("t", "share", "why"),
    [
        (2.0, 0.25, "IC positive in 25% of folds (need >= 50%)"),
        (0.4, 1.0, "IC t-stat 0.40 below the floor 1.00"),
        (math.nan, 1.0, "IC t-stat undefined"),
    ],
)
def test_an_unstable_candidate_is_refused_however_good_its_metric(
    t: float, share: float, why: str
) -> None:
    verdict = decide([cand("gbt-new", 0.5, t=t, share=share)], baseline=CHAMPION, policy=POLICY)
    assert (verdict.champion, verdict.promoted) == ("ridge-old", None)
    assert verdict.reasons["gbt-new"].startswith(f"refused: {why}")
    assert verdict.summary == "champion ridge-old stays: no candidate passed the stability checks"


def test_a_first_model_is_promoted_only_when_stable() -> None:
    first = decide([cand("ridge-a", 0.02, t=1.5)], baseline=None, policy=POLICY)
    assert (first.champion, first.promoted) == ("ridge-a", "ridge-a")
    assert first.reasons["ridge-a"].startswith("first champion: stable")

    none = decide([cand("ridge-a", 0.2, t=0.5)], baseline=None, policy=POLICY)
    assert (none.champion, none.promoted) == (None, None)
    assert none.summary.startswith("no champion: no candidate passed the stability checks")
    assert "holds the book" in none.summary and "quantlake models promote" in none.summary


def test_the_best_stable_candidate_is_the_one_compared() -> None:
    candidates = [
        cand("ridge-new", 0.045, spec="ridge-spec"),
        cand("gbt-new", 0.060),
        cand("gbt-wild", 0.090, t=0.2),
    ]
    verdict = decide(candidates, baseline=CHAMPION, policy=POLICY)
    assert verdict.promoted == "gbt-new"
    assert verdict.reasons["ridge-new"].startswith("challenger: oos_rank_ic 0.0450 ranks below")
    assert verdict.reasons["gbt-wild"].startswith("refused: IC t-stat 0.20")


def test_a_stable_refit_of_the_champion_spec_replaces_it_only_with_promote_refits() -> None:
    candidates = [cand("ridge-new", 0.030, spec="ridge-spec"), cand("gbt-new", 0.035)]
    refits = POLICY.model_copy(update={"promote_refits": True})
    verdict = decide(candidates, baseline=CHAMPION, policy=refits)
    assert verdict.promoted == "ridge-new"
    assert verdict.reasons["ridge-new"].startswith(
        "promoted: refit of champion ridge-old's specification on newer data, stable"
    )
    assert "within the margin" in verdict.reasons["gbt-new"]

    assert decide(candidates, baseline=CHAMPION, policy=POLICY).promoted is None
    unstable = [cand("ridge-new", 0.030, spec="ridge-spec", t=0.1)]
    assert decide(unstable, baseline=CHAMPION, policy=refits).promoted is None


def test_ties_are_broken_by_version_so_the_decision_never_depends_on_order() -> None:
    one = [cand("gbt-b", 0.05), cand("gbt-a", 0.05)]
    assert decide(one, baseline=None, policy=POLICY).promoted == "gbt-a"
    assert decide(one[::-1], baseline=None, policy=POLICY).promoted == "gbt-a"


def test_stability_problem_is_none_for_a_stable_candidate() -> None:
    assert stability_problem(cand("x", 0.01, t=1.0, share=0.5), POLICY) is None
    with pytest.raises(ValueError, match="no candidate"):
        decide([], baseline=None, policy=POLICY)
