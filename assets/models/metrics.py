"""Out-of-sample metrics of scored rows (pure): per session, then summarized over sessions.

Per session: the Pearson information coefficient (IC) of score vs forward return, the rank IC
(Spearman), the hit rate (share of rows whose score and return fall on the same side of the
session mean) and the long-short decile spread (mean forward return of the top tenth of
scores minus the bottom tenth; at least one symbol a side). Sessions with fewer than
MIN_ROWS_PER_SESSION rows are skipped, and so are undefined (NaN) ICs in the means.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

MIN_ROWS_PER_SESSION = 3


@dataclass(frozen=True)
class Metrics:
    """Means over test sessions, the IC's t-statistic, and what they were computed on."""

    ic: float
    rank_ic: float
    ic_tstat: float
    hit_rate: float
    decile_spread: float
    sessions: int
    rows: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _demeaned_sign(column: str) -> pl.Expr:
    return (pl.col(column) - pl.col(column).mean()).sign()


def session_metrics(scored: pl.DataFrame) -> pl.DataFrame:
    """Return one row per session of ``scored`` (session, symbol, score, fwd_return).

    Rows must be sorted by (session, symbol): ties in the score are then broken by symbol, so
    the deciles never depend on how the rows arrived.
    """
    n = pl.len().over("session")
    k = pl.max_horizontal(pl.lit(1, dtype=pl.UInt32), n // 10)
    place = pl.col("score").rank("ordinal").over("session")
    sides = scored.with_columns(top=place > n - k, bottom=place <= k)
    return (
        sides.group_by("session", maintain_order=True)  # a fixed order keeps sums bitwise
        .agg(
            n=pl.len(),
            ic=pl.corr("score", "fwd_return"),
            rank_ic=pl.corr("score", "fwd_return", method="spearman"),
            hit=(_demeaned_sign("score") == _demeaned_sign("fwd_return")).mean(),
            spread=pl.col("fwd_return").filter(pl.col("top")).mean()
            - pl.col("fwd_return").filter(pl.col("bottom")).mean(),
        )
        .filter(pl.col("n") >= MIN_ROWS_PER_SESSION)
        .with_columns(pl.col("ic", "rank_ic").fill_nan(None))
    )


def newey_west_tstat(values: np.ndarray, *, lag: int) -> float:
    """Return mean / HAC standard error with Bartlett weights up to ``lag`` (NaN if n < 2).

    Consecutive sessions' h-session labels overlap by h-1 sessions, so their ICs are
    correlated and the plain t-statistic overstates the evidence; lag h-1 corrects for it.
    The n/(n-1) factor makes lag 0 equal the ordinary one-sample t-statistic.
    """
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n < 2:
        return math.nan
    d = x - x.mean()
    var = float(d @ d) / n
    for j in range(1, min(lag, n - 1) + 1):
        var += 2.0 * (1.0 - j / (lag + 1)) * float(d[j:] @ d[:-j]) / n
    var *= n / (n - 1)
    if var <= 0.0:
        return math.nan
    return float(x.mean() / math.sqrt(var / n))


def summarize(per_session: pl.DataFrame, *, lag: int, rows: int) -> Metrics:
    """Return the means over ``per_session`` (from session_metrics) and the IC's t-statistic."""
    if per_session.is_empty():
        raise ValueError(f"no test session has {MIN_ROWS_PER_SESSION}+ complete rows to score")
    means = per_session.select(pl.col("ic", "rank_ic", "hit", "spread").mean())
    ic, rank_ic, hit, spread = (math.nan if v is None else float(v) for v in means.row(0))
    ics = per_session.get_column("ic").drop_nulls().to_numpy()
    return Metrics(
        ic=ic,
        rank_ic=rank_ic,
        ic_tstat=newey_west_tstat(ics, lag=lag),
        hit_rate=hit,
        decile_spread=spread,
        sessions=per_session.height,
        rows=rows,
    )
