"""News sentiment per (symbol, session) as of the close: hand-made items, and random items
against a slow oracle."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from assets.features.sentiment import sentiment_features

UTC = dt.UTC
FIRST = dt.date(2024, 1, 8)


def _sessions(n: int) -> pl.DataFrame:
    days = [FIRST + dt.timedelta(days=i) for i in range(n)]
    closes = [dt.datetime.combine(d, dt.time(21), tzinfo=UTC) for d in days]
    return pl.DataFrame({"session": days, "session_close_utc": closes})


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(FIRST + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=UTC)


def _news(rows: list[tuple[dt.datetime, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "published_at": pl.Datetime("us", "UTC"),
            "symbol": pl.String,
            "sentiment": pl.Float64,
        },
        orient="row",
    )


def test_an_item_published_after_the_close_counts_from_the_next_session() -> None:
    news = _news(
        [
            (_at(-5, 9), "AAA", -1.0),  # long before the first session: outside every window
            (_at(1, 21), "AAA", 0.6),  # exactly at day 1's close: visible at day 1
            (_at(1, 21, 1), "AAA", 0.2),  # a minute after day 1's close: day 2
            (_at(2, 8), "BBB", -0.4),
            (_at(5, 22), "AAA", 1.0),  # after the last close: invisible
        ]
    )
    got = sentiment_features(_sessions(6), news, window=1).sort("symbol", "session")
    aaa = got.filter(pl.col("symbol") == "AAA")
    # Window 1: the items seen at this close and not at the one before; day 0 has no earlier close.
    assert aaa.get_column("news_count_1").to_list() == [None, 1, 1, 0, 0, 0]
    assert aaa.get_column("sentiment_mean_1").to_list() == [None, 0.6, 0.2, None, None, None]
    bbb = got.filter(pl.col("symbol") == "BBB")
    assert bbb.get_column("news_count_1").to_list() == [None, 0, 1, 0, 0, 0]
    wide = sentiment_features(_sessions(6), news, window=3).filter(pl.col("symbol") == "AAA")
    assert wide.get_column("news_count_3").to_list() == [None, None, None, 2, 1, 0]
    assert wide.get_column("sentiment_mean_3").to_list()[3] == pytest.approx(0.4)


def _oracle(sessions: pl.DataFrame, news: pl.DataFrame, window: int) -> pl.DataFrame:
    closes = sessions.get_column("session_close_utc").to_list()
    items = news.to_dicts()
    rows = []
    for symbol in sorted({i["symbol"] for i in items}):
        for t, session in enumerate(sessions.get_column("session").to_list()):
            mean, count = None, None
            if t >= window:
                seen = [
                    i["sentiment"]
                    for i in items
                    if i["symbol"] == symbol and closes[t - window] < i["published_at"] <= closes[t]
                ]
                count = len(seen)
                mean = sum(seen) / count if seen else None
            rows.append((symbol, session, mean, count))
    return pl.DataFrame(
        rows,
        schema=["symbol", "session", f"sentiment_mean_{window}", f"news_count_{window}"],
        orient="row",
    )


@pytest.mark.parametrize(("seed", "window"), [(0, 1), (1, 3), (2, 5)])
def test_random_items_match_the_slow_oracle(seed: int, window: int) -> None:
    rng = np.random.default_rng(seed)
    sessions = _sessions(15)
    minutes = rng.integers(-3 * 1440, 16 * 1440, 200)
    news = _news(
        [
            (_at(0, 0) + dt.timedelta(minutes=int(m)), str(s), float(v))
            for m, s, v in zip(
                minutes, rng.choice(["A", "B", "C"], 200), rng.uniform(-1, 1, 200), strict=True
            )
        ]
    )
    got = sentiment_features(sessions, news, window=window).sort("symbol", "session")
    want = _oracle(sessions, news, window)
    assert got.select("symbol", "session").equals(want.select("symbol", "session"))
    count = f"news_count_{window}"
    assert got.get_column(count).to_list() == want.get_column(count).to_list()
    mean = f"sentiment_mean_{window}"
    pairs = zip(got.get_column(mean).to_list(), want.get_column(mean).to_list(), strict=True)
    for g, w in pairs:
        assert (g is None) == (w is None)
        assert w is None or g == pytest.approx(w, rel=1e-12)


def test_a_session_computed_from_any_later_start_is_the_same_bit_for_bit() -> None:
    # The asset reads ``window`` sessions before its first: from whichever session a read
    # starts, every session it computes must equal the whole history's, to the last bit.
    rng = np.random.default_rng(7)
    sessions, window = _sessions(60), 5
    minutes = rng.integers(-3 * 1440, 61 * 1440, 600)
    news = _news(
        [
            (_at(0, 0) + dt.timedelta(minutes=int(m)), str(s), float(v))
            for m, s, v in zip(
                minutes, rng.choice(["A", "B"], 600), rng.uniform(-1, 1, 600), strict=True
            )
        ]
    )
    whole = sentiment_features(sessions, news, window=window).sort("symbol", "session")
    for first in range(window, 60):
        read = sessions.slice(first - window)
        got = sentiment_features(read, news, window=window).sort("symbol", "session")
        keep = pl.col("session") >= sessions.item(first, "session")
        assert got.filter(keep).equals(whole.filter(keep)), first


def test_the_visibility_time_column_can_be_the_knowledge_time() -> None:
    news = _news([(_at(1, 10), "AAA", 0.5)]).with_columns(knowledge_time=pl.lit(_at(2, 23)))
    got = sentiment_features(_sessions(5), news, window=1, time_column="knowledge_time")
    assert got.get_column("news_count_1").to_list() == [None, 0, 0, 1, 0]


@pytest.mark.parametrize(
    ("news", "message"),
    [
        (_news([(_at(1, 1), "AAA", 0.1)]).with_columns(sentiment=pl.lit(None)), "nulls"),
        (_news([(_at(1, 1), "AAA", 0.1)]).drop("symbol"), "lack"),
        (
            _news([(_at(1, 1), "AAA", 0.1)]).with_columns(
                pl.col("published_at").dt.replace_time_zone(None)
            ),
            "timezone-aware",
        ),
    ],
)
def test_bad_news_frames_are_refused(news: pl.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sentiment_features(_sessions(3), news)
