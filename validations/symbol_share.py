"""The quarantine limit per symbol: a symbol over it has all its rows quarantined.

A batch's quarantined share is judged over all its rows, so one broken symbol hides in a large
batch (8.1% of its rows bad, 0.9% of the batch) while failing a small one and, with it, every
other symbol's good rows. Judged per symbol too, a symbol over the limit loses its remaining
rows (rule ``symbol_quarantine_share``: a source that broke that many of them cannot be trusted
for the rest) and the others keep theirs. See docs/decisions.md.

Judged are the rows that claim to be the symbol's trading: placeholder runs (``stale_run``),
superseded resends (``unique_symbol_session``) and sessions after the run's time
(``session_not_future``: the batch's clock, not the symbol's values) count on neither side. A
symbol is judged once it has enough such rows that one bad row alone is within the limit
(20 at 5%), so a daily increment of a row or two per symbol never loses its good rows.
"""

from __future__ import annotations

import math

import polars as pl

from validations.bars import SYMBOL_SHARE
from validations.bars_profile import NULL_SYMBOL

NOT_JUDGED = ("stale_run", "unique_symbol_session", "session_not_future")


def judged_share(rows: int, quarantined: pl.DataFrame) -> float:
    """Return the batch's quarantined share, placeholder runs and symbol-share rows left out."""
    stale = _rows_of(quarantined, pl.col("rule") == "stale_run")
    bad = _rows_of(quarantined, ~pl.col("rule").is_in(("stale_run", SYMBOL_SHARE)))
    bad = bad.join(stale, on="row_number", how="anti")
    judged = rows - stale.height
    return bad.height / judged if judged else 0.0


def over_limit_rows(
    frame: pl.DataFrame, quarantined: pl.DataFrame, *, limit: float
) -> pl.DataFrame:
    """Return the not yet quarantined rows of symbols over ``limit``: input columns, rule,
    detail and _kept (False), as validations.contract.quarantine takes them."""
    shares = _symbols_over(frame, quarantined, limit=limit)
    if shares.is_empty():
        return _empty(frame)
    taken = quarantined.get_column("row_number").implode()
    rows = (
        frame.with_columns(_symbol=pl.col("symbol").fill_null(NULL_SYMBOL))
        .join(shares, on="_symbol")
        .filter(~pl.col("row_number").is_in(taken))
    )
    detail = pl.format(
        "{} of the symbol's {} judged rows ({}%) quarantined, over the {}% limit",
        pl.col("_bad"),
        pl.col("_judged"),
        (pl.col("_bad") / pl.col("_judged") * 100).round(1),
        pl.lit(round(limit * 100, 2)),
    )
    flags = {"rule": pl.lit(SYMBOL_SHARE), "detail": detail, "_kept": pl.lit(False)}
    return rows.with_columns(**flags).select(*frame.columns, *flags)


def _symbols_over(frame: pl.DataFrame, quarantined: pl.DataFrame, *, limit: float) -> pl.DataFrame:
    """Return (_symbol, _judged, _bad) of the symbols whose bad share is over ``limit``."""
    skipped = _rows_of(quarantined, pl.col("rule").is_in(NOT_JUDGED))
    bad = _rows_of(quarantined, ~pl.col("rule").is_in((*NOT_JUDGED, SYMBOL_SHARE)))
    judged = frame.select("row_number", _symbol=pl.col("symbol").fill_null(NULL_SYMBOL)).join(
        skipped, on="row_number", how="anti"
    )
    least = math.ceil(1 / limit) if limit > 0 else 1  # one bad row alone stays within the limit
    return (
        judged.join(bad.with_columns(_is_bad=pl.lit(True)), on="row_number", how="left")
        .group_by("_symbol")
        .agg(_judged=pl.len(), _bad=pl.col("_is_bad").count())
        .filter((pl.col("_judged") >= least) & (pl.col("_bad") > limit * pl.col("_judged")))
    )


def _rows_of(quarantined: pl.DataFrame, which: pl.Expr) -> pl.DataFrame:
    return quarantined.filter(which).select("row_number").unique()


def _empty(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.clear().with_columns(
        rule=pl.lit(None, pl.String), detail=pl.lit(None, pl.String), _kept=pl.lit(None, pl.Boolean)
    )
