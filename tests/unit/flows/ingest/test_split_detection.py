"""Split detection: the real unadjusted splits of the messy files are found with their ratio and
ex-session; real crashes, jumps and spin-offs of the clean files are not taken for splits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.ingest import curate
from flows.sources.base import SourceBatch
from flows.sources.files import read_bars
from validations.splits import corporate_action_rows, detect_splits
from warehouse import calendar, schemas

MESSY = "messy/yahoo_appended_daily_kcjpop_2024-08-09"
CLEAN = (
    "equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz",
    "equities_daily/yahoo_us_etfs_12_daily_2010-2023.csv.gz",
    "equities_daily/stocknet_88_daily_2012-2017.csv.gz",
)
NOW = dt.datetime(2024, 8, 12, 3, tzinfo=dt.UTC)
DAYS = calendar.sessions(dt.date(2024, 1, 2), dt.date(2024, 3, 28))


def series(symbol: str, closes: list[float], volumes: list[float]) -> pl.DataFrame:
    """Bars opening 1% below their close."""
    opens = [c * 0.99 for c in closes]
    n = len(closes)
    return pl.DataFrame(
        {
            "symbol": [symbol] * n,
            "session": DAYS[:n],
            "open": opens,
            "high": [max(o, c) for o, c in zip(opens, closes, strict=True)],
            "low": [min(o, c) for o, c in zip(opens, closes, strict=True)],
            "close": closes,
            "volume": volumes,
        }
    )


def split_at(day: int, ratio: float, *, n: int = 40, price: float = 100.0) -> pl.DataFrame:
    """A symbol trading flat at ``price`` whose history is not adjusted for a split on ``day``."""
    closes = [price if i < day else price / ratio for i in range(n)]
    volumes = [1e6 if i < day else 1e6 * ratio for i in range(n)]
    return series("AAA", closes, volumes)


@pytest.mark.parametrize(
    ("symbol", "session", "ratio", "label"),
    [
        ("AMZN", dt.date(2022, 6, 6), 20.0, "20:1"),
        ("GOOGL", dt.date(2022, 7, 18), 20.0, "20:1"),
        ("TSLA", dt.date(2022, 8, 25), 3.0, "3:1"),
    ],
)
def test_the_real_unadjusted_splits_are_found(
    shared_data: Path, symbol: str, session: dt.date, ratio: float, label: str
) -> None:
    frame, _ = read_bars(shared_data / MESSY / f"{symbol}.csv.gz")
    (found,) = detect_splits(frame)
    assert (found.symbol, found.session, found.ratio, found.label) == (
        symbol,
        session,
        ratio,
        label,
    )
    assert found.evidence.previous_session == calendar.previous_session(session)
    assert found.evidence.volume_ratio > ratio**0.5
    assert f"{found.evidence.previous_close:,.2f}" in found.evidence.describe()


def test_the_real_minus_52_percent_day_of_aapl_is_not_a_split(shared_data: Path) -> None:
    frame, _ = read_bars(shared_data / MESSY / "AAPL.csv.gz")
    assert frame.filter(pl.col("session") == dt.date(2000, 9, 29)).height == 1
    assert detect_splits(frame) == []


@pytest.mark.parametrize("path", CLEAN)
def test_no_split_is_claimed_in_the_clean_adjusted_files(shared_data: Path, path: str) -> None:
    frame, _ = read_bars(shared_data / path)
    assert detect_splits(frame) == []


def test_the_big_real_moves_are_there_and_are_not_splits(shared_data: Path) -> None:
    frame, _ = read_bars(shared_data / CLEAN[0])
    moves = (
        frame.sort("symbol", "session")
        .with_columns((pl.col("close") / pl.col("close").shift().over("symbol")).alias("move"))
        .filter(pl.col("session").is_in([dt.date(2016, 4, 22), dt.date(2020, 3, 9)]))
    )
    move = dict(moves.select(pl.col("symbol") + pl.col("session").cast(str), "move").iter_rows())
    assert move["AMD2016-04-22"] == pytest.approx(1.52, abs=0.01)
    assert move["OXY2020-03-09"] == pytest.approx(0.47, abs=0.01)
    assert detect_splits(frame.filter(pl.col("symbol").is_in(["AMD", "OXY", "EOG", "MDLZ"]))) == []


@pytest.mark.parametrize(
    ("ratio", "label"), [(2.0, "2:1"), (1.5, "3:2"), (0.1, "1:10"), (1 / 3, "1:3"), (7.0, "7:1")]
)
def test_hand_made_forward_and_reverse_splits(ratio: float, label: str) -> None:
    (found,) = detect_splits(split_at(20, ratio))
    assert (found.session, found.label) == (DAYS[20], label)
    assert found.ratio == pytest.approx(ratio)


def test_a_crash_without_the_volume_is_not_a_split() -> None:
    crash = split_at(20, 2.0).with_columns(pl.lit(1e6).alias("volume"))
    assert detect_splits(crash) == []


def test_a_price_off_the_ratio_is_not_a_split() -> None:
    # -55% overnight with doubled volume: 2.22 is 11% away from 2.
    assert detect_splits(split_at(20, 2.22)) == []


def test_zero_volume_bars_and_null_prices_do_not_break_detection() -> None:
    frame = split_at(20, 4.0).with_columns(
        pl.when(pl.int_range(pl.len()) == 5).then(0.0).otherwise(pl.col("volume")).alias("volume"),
        pl.when(pl.int_range(pl.len()) == 30).then(None).otherwise(pl.col("open")).alias("open"),
    )
    assert [s.ratio for s in detect_splits(frame)] == [4.0]


def test_without_volume_before_nothing_is_claimed() -> None:
    frame = split_at(1, 2.0).with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(0.0).otherwise(pl.col("volume")).alias("volume")
    )
    assert detect_splits(frame) == []


def test_several_symbols_in_any_order() -> None:
    both = pl.concat([split_at(10, 2.0), split_at(25, 5.0).with_columns(symbol=pl.lit("BBB"))])
    found = detect_splits(both.sample(fraction=1.0, shuffle=True, seed=7))
    assert [(s.symbol, s.session, s.ratio) for s in found] == [
        ("AAA", DAYS[10], 2.0),
        ("BBB", DAYS[25], 5.0),
    ]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="volume"):
        detect_splits(split_at(10, 2.0).drop("volume"))
    with pytest.raises(ValueError, match="tolerance"):
        detect_splits(split_at(10, 2.0), tolerance=0.1, close_tolerance=0.05)


def test_recorded_splits_adjust_curated_bars_and_are_not_found_again(shared_data: Path) -> None:
    """The wiring the ingest uses: detected -> raw.corporate_actions rows -> curated adjusted."""
    frame, _ = read_bars(shared_data / MESSY / "AMZN.csv.gz")
    batch = SourceBatch(source="file", bars=frame.drop_nulls())
    raw = curate.raw_rows(batch, batch_id="b1", ingested_at=NOW)
    raw = raw.unique(["symbol", "session"], keep="last", maintain_order=True)
    found = detect_splits(raw)
    actions = corporate_action_rows(found, batch_id="b1", ingested_at=NOW)
    assert actions.schema == schemas.RAW_CORPORATE_ACTIONS.frame([]).schema
    assert actions.select("source", "symbol", "ex_session", "split_ratio").rows() == [
        ("detected", "AMZN", dt.date(2022, 6, 6), 20.0)
    ]
    curated = curate.curated_rows(raw, splits=actions, knowledge_time=NOW)
    assert detect_splits(curated) == []
    before = curated.filter(pl.col("session") == dt.date(2022, 6, 3)).row(0, named=True)
    assert before["close"] == pytest.approx(2447.0 / 20)
    assert before["split_factor"] == 20.0


def test_corporate_action_rows_need_a_zoned_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        corporate_action_rows([], batch_id="b", ingested_at=dt.datetime(2024, 1, 1))


@pytest.mark.parametrize("bad", [float("inf"), float("-inf")])
def test_infinite_prices_are_not_steps(bad: float) -> None:
    # A row with every price infinite made previous close / open 0 and math.log raise.
    bars = series("AAA", [100.0] * 30, [1000.0] * 30)
    broken = bars.with_columns(
        [
            pl.when(pl.int_range(pl.len()) == 15).then(bad).otherwise(pl.col(c)).alias(c)
            for c in ("open", "high", "low", "close")
        ]
    )
    assert detect_splits(broken) == []
