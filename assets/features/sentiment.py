"""News sentiment features per (symbol, session), as of the session close.

An item counts for session t when it was visible at t's close and not yet at the close ``window``
sessions earlier: ``close[t - window] < time <= close[t]``. So an item published after a close
is invisible at that close and counts from the next session on. The first ``window`` sessions
of ``sessions`` have no earlier close to bound their window: their values are null (a warm-up,
as for the bar features). Not in ``FEATURE_COLUMNS``: the pipeline wires them later.
"""

from __future__ import annotations

import polars as pl

from assets.features.sessions import checked_sessions, require_columns, utc


def _visible_from(sessions: pl.DataFrame, news: pl.DataFrame, time_column: str) -> pl.DataFrame:
    """Return (symbol, session_index, sentiment) of each item at the first close it is seen."""
    items = news.select(
        "symbol",
        pl.col("sentiment").cast(pl.Float64),
        seen_at=utc(news, time_column, what="news"),
    ).sort("seen_at")
    placed = items.join_asof(
        sessions.select("session_close_utc", "session_index"),
        left_on="seen_at",
        right_on="session_close_utc",
        strategy="forward",  # the first close at or after the item's time
    )
    return placed.filter(pl.col("session_index").is_not_null())


def sentiment_features(
    sessions: pl.DataFrame,
    news: pl.DataFrame,
    *,
    window: int = 5,
    time_column: str = "published_at",
) -> pl.DataFrame:
    """Return (symbol, session, sentiment_mean_<w>, news_count_<w>) for every symbol in ``news``
    and every session.

    The mean is null where no item falls in the window (the count is then 0). ``time_column``
    is when an item became visible: ``published_at``, or ``knowledge_time`` where the source
    gives only a date.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1 session, got {window}")
    require_columns(news, ("symbol", "sentiment", time_column), what="news")
    frame = checked_sessions(sessions)
    per_session = (
        _visible_from(frame, news, time_column)
        .group_by("symbol", "session_index")
        .agg(total=pl.col("sentiment").sum(), items=pl.len().cast(pl.Int64))
    )
    grid = (
        news.select(pl.col("symbol").unique())
        .join(frame.select("session", "session_index"), how="cross")
        .join(per_session, on=["symbol", "session_index"], how="left")
        .with_columns(pl.col("total", "items").fill_null(0))
        .sort("symbol", "session_index")
    )
    # Each window summed from its own sessions, oldest first: a running (cumulative) sum would
    # carry rounding from wherever the read began, so a session's value would depend on it.
    # Sessions before the read's first ``window`` sessions have no value (they lack the ones
    # before them).
    total, items = (
        pl.when(pl.col(c).shift(window).over("symbol").is_not_null()).then(
            sum(
                (pl.col(c).shift(i).over("symbol") for i in range(window - 2, -1, -1)),
                start=pl.col(c).shift(window - 1).over("symbol"),
            )
        )
        for c in ("total", "items")
    )
    return grid.select(
        "symbol",
        "session",
        **{
            f"sentiment_mean_{window}": pl.when(items > 0).then(total / items),
            f"news_count_{window}": items,
        },
    )
