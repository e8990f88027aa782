"""Unadjusted stock splits found in a symbol's bar history.

A split of ``ratio`` new shares per old share divides the price by ``ratio`` and multiplies the
volume by it from its ex-session on. A bar history a source forgot to adjust shows both at
once: the previous close divided by the ex-session's open AND by its close lands near a common
ratio, and the typical volume moves the same way. Neither alone is enough: real crashes and
spin-offs move prices by a third or a half overnight (OXY 2020-03-09 -53%, EOG the same day
-32% with a 3:2-like close, MDLZ's 2012-10-02 Kraft spin-off at exactly 2/3), but their share
volume does not follow the price by the split's factor.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

import polars as pl

from warehouse.schemas import RAW_CORPORATE_ACTIONS

# New shares per old share: forward splits, and their inverses for reverse splits.
_FORWARD = (3 / 2, 2.0, 5 / 2, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 15.0, 20.0, 25.0, 30.0, 50.0)
RATIOS: tuple[float, ...] = _FORWARD + tuple(1 / r for r in _FORWARD) + (100.0, 0.01)

BAR_NEEDS = ("symbol", "session", "open", "close", "volume")


@dataclass(frozen=True)
class SplitEvidence:
    """What a detected split rests on (volumes are medians of positive volumes)."""

    previous_session: dt.date
    previous_close: float
    open: float
    close: float
    close_to_open: float  # previous close / open
    close_to_close: float  # previous close / close
    volume_before: float
    volume_after: float

    @property
    def volume_ratio(self) -> float:
        return self.volume_after / self.volume_before

    def describe(self) -> str:
        """Return the evidence as one sentence."""
        return (
            f"close {self.previous_close:,.2f} on {self.previous_session} -> open "
            f"{self.open:,.2f} (/{self.close_to_open:.3f}), close {self.close:,.2f} "
            f"(/{self.close_to_close:.3f}); median volume {self.volume_before:,.0f} -> "
            f"{self.volume_after:,.0f} (x{self.volume_ratio:.2f})"
        )


@dataclass(frozen=True)
class DetectedSplit:
    """An unadjusted split: from ``session`` on, prices are divided by ``ratio``."""

    symbol: str
    session: dt.date
    ratio: float  # new shares per old share: 20.0 for 20-for-1, 0.1 for 1-for-10
    evidence: SplitEvidence

    @property
    def label(self) -> str:
        """Return the ratio as people write it: 20:1, 3:2, 1:10."""
        frac = Fraction(self.ratio).limit_denominator(100)
        return f"{frac.numerator}:{frac.denominator}"


def detect_splits(
    bars: pl.DataFrame,
    *,
    ratios: tuple[float, ...] = RATIOS,
    tolerance: float = 0.04,
    close_tolerance: float = 0.08,
    volume_before: int = 20,
    volume_after: int = 10,
) -> list[DetectedSplit]:
    """Return the unadjusted splits in ``bars`` (any number of symbols), by symbol and session.

    A session is a split when the previous close over its open is within ``tolerance`` (in log
    terms) of a ratio in ``ratios``, the previous close over its close within
    ``close_tolerance`` of the same ratio, and the median positive volume of it and the next
    ``volume_after - 1`` sessions over that of the ``volume_before`` sessions before it moved
    at least half and at most twice as far (in log terms) as the ratio, in the same direction.
    Bars with a null, non-positive or infinite price are skipped (the ingest passes only
    validated bars; this keeps the arithmetic defined on any input); without positive volume
    on both sides nothing is claimed.
    """
    missing = [c for c in BAR_NEEDS if c not in bars.columns]
    if missing:
        raise ValueError(f"bars lack column(s) {missing}; they need {list(BAR_NEEDS)}")
    if not 0 < tolerance < close_tolerance or not close_tolerance < 0.2:
        raise ValueError(
            f"need 0 < tolerance ({tolerance}) < close_tolerance ({close_tolerance}) < 0.2"
        )
    steps = _steps(bars, volume_before=volume_before, volume_after=volume_after)
    smallest = min(abs(math.log(r)) for r in ratios) - math.log1p(tolerance)
    jumps = steps.filter(pl.col("close_to_open").log().abs() >= smallest)
    found = []
    for row in jumps.iter_rows(named=True):
        ratio = _matching_ratio(row, ratios, tolerance=tolerance, close_tolerance=close_tolerance)
        if ratio is not None:
            found.append(DetectedSplit(row["symbol"], row["session"], ratio, _evidence(row)))
    return found


def _steps(bars: pl.DataFrame, *, volume_before: int, volume_after: int) -> pl.DataFrame:
    """Return each bar with the previous bar's close and the volume medians around it."""
    positive = pl.when(pl.col("volume") > 0).then(pl.col("volume"))
    ordered = (
        bars.select(BAR_NEEDS)
        .drop_nulls(["symbol", "session", "open", "close"])
        .filter(
            (pl.col("open") > 0)
            & (pl.col("close") > 0)
            & pl.col("open").is_finite()
            & pl.col("close").is_finite()
        )
        .unique(["symbol", "session"], keep="last", maintain_order=True)
        .sort("symbol", "session")
    )
    return ordered.with_columns(
        pl.col("session").shift().over("symbol").alias("previous_session"),
        pl.col("close").shift().over("symbol").alias("previous_close"),
        positive.shift()
        .rolling_median(volume_before, min_samples=1)
        .over("symbol")
        .alias("volume_before"),
        positive.reverse()
        .rolling_median(volume_after, min_samples=1)
        .reverse()
        .over("symbol")
        .alias("volume_after"),
    ).with_columns(
        (pl.col("previous_close") / pl.col("open")).alias("close_to_open"),
        (pl.col("previous_close") / pl.col("close")).alias("close_to_close"),
    )


def _matching_ratio(
    row: dict[str, object],
    ratios: tuple[float, ...],
    *,
    tolerance: float,
    close_tolerance: float,
) -> float | None:
    """Return the ratio the step matches in price and volume, or None."""
    gap = math.log(float(row["close_to_open"]))  # type: ignore[arg-type]
    ratio = min(ratios, key=lambda r: abs(gap - math.log(r)))
    wanted = math.log(ratio)
    jump = math.log(float(row["close_to_close"]))  # type: ignore[arg-type]
    if abs(gap - wanted) > math.log1p(tolerance) or abs(jump - wanted) > math.log1p(
        close_tolerance
    ):
        return None
    before, after = row["volume_before"], row["volume_after"]
    if before is None or after is None:
        return None
    moved = math.log(float(after) / float(before)) / wanted  # type: ignore[arg-type]
    return ratio if 0.5 <= moved <= 2.0 else None


def _evidence(row: dict[str, object]) -> SplitEvidence:
    return SplitEvidence(**{f: row[f] for f in SplitEvidence.__dataclass_fields__})  # type: ignore[arg-type]


def corporate_action_rows(
    splits: list[DetectedSplit], *, batch_id: str, ingested_at: dt.datetime
) -> pl.DataFrame:
    """Return ``splits`` as raw.corporate_actions rows with source ``detected``."""
    if ingested_at.tzinfo is None:
        raise ValueError("ingested_at must be timezone-aware (UTC)")
    rows = [
        {
            "batch_id": batch_id,
            "source": "detected",
            "ingested_at": ingested_at.astimezone(dt.UTC),
            "symbol": s.symbol,
            "ex_session": s.session,
            "split_ratio": s.ratio,
        }
        for s in splits
    ]
    return RAW_CORPORATE_ACTIONS.frame(rows)
