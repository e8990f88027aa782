"""Macro features as of each session close: hand-made vintages, and real FRED series against a
slow oracle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from assets.features.macro import macro_features

UTC = dt.UTC
FIRST = dt.date(2024, 1, 8)  # a Monday


def _sessions(n: int, *, start: dt.date = FIRST) -> pl.DataFrame:
    days = [start + dt.timedelta(days=i) for i in range(n)]
    closes = [dt.datetime.combine(d, dt.time(21), tzinfo=UTC) for d in days]
    return pl.DataFrame({"session": days, "session_close_utc": closes})


def _obs(rows: list[tuple[str, dt.date, float | None, dt.datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "series_id": pl.String,
            "observation_date": pl.Date,
            "value": pl.Float64,
            "knowledge_time": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


def _at(day: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(FIRST + dt.timedelta(days=day), dt.time(hour), tzinfo=UTC)


def _d(day: int) -> dt.date:
    return FIRST + dt.timedelta(days=day)


def test_values_join_as_of_the_close_and_a_later_release_is_invisible() -> None:
    obs = _obs(
        [
            ("DGS10", _d(-1), 4.0, _at(0, 12)),
            ("DGS2", _d(-1), 4.5, _at(0, 12)),
            ("DGS10", _d(0), 4.2, _at(1, 22)),  # released after day 1's close (21:00)
            ("DGS2", _d(0), 4.4, _at(1, 21)),  # released exactly at day 1's close: visible
            ("DGS10", _d(1), None, _at(2, 12)),  # a holiday: missing, the last value stands
            ("DGS10", _d(-1), 3.0, _at(3, 12)),  # a late revision of an older date: ignored
            ("DGS10", _d(0), 4.3, _at(3, 20)),  # a revision of the newest date: replaces it
        ]
    )
    vix = _obs([("VIXCLS", _d(i - 1), 10.0 + i * i, _at(i, 1)) for i in range(7)])
    got = macro_features(_sessions(7), pl.concat([obs, vix]))
    spreads = [4.0 - 4.5, 4.0 - 4.4, 4.2 - 4.4, 4.3 - 4.4, 4.3 - 4.4, 4.3 - 4.4, 4.3 - 4.4]
    assert got.get_column("term_spread").to_list() == pytest.approx(spreads)
    assert got.get_column("vix").to_list() == [10.0 + i * i for i in range(7)]
    assert got.get_column("vix_change_5").to_list() == [None] * 5 + [25.0, 35.0]
    assert got.columns == ["session", "term_spread", "vix", "vix_change_5"]


def test_a_spread_series_is_used_as_it_is_and_sessions_before_any_release_are_null() -> None:
    obs = _obs(
        [
            ("T10Y2Y", _d(1), -0.3, _at(2, 9)),
            ("VX", _d(0), 14.0, _at(0, 21)),
            ("VX", _d(1), 16.0, _at(1, 23)),
        ]
    )
    got = macro_features(_sessions(4), obs, term_spread="T10Y2Y", vix="VX", vix_change_sessions=2)
    assert got.get_column("term_spread").to_list() == [None, None, -0.3, -0.3]
    assert got.get_column("vix").to_list() == [14.0, 14.0, 16.0, 16.0]
    assert got.get_column("vix_change_2").to_list() == [None, None, 2.0, 2.0]


def test_closes_in_another_zone_are_compared_in_utc() -> None:
    # 16:00 in New York is 21:00 UTC: a value known at 20:00 UTC is visible at the first close.
    sessions = _sessions(2).with_columns(
        pl.col("session_close_utc").dt.convert_time_zone("America/New_York")
    )
    obs = _obs([("T", _d(0), 1.0, _at(0, 20)), ("V", _d(0), 9.0, _at(0, 20))])
    got = macro_features(sessions, obs, term_spread="T", vix="V")
    assert got.get_column("vix").to_list() == [9.0, 9.0]


@pytest.mark.parametrize(
    ("sessions", "obs", "message"),
    [
        (_sessions(2).with_columns(pl.col("session_close_utc").dt.replace_time_zone(None)),
         _obs([("T", _d(0), 1.0, _at(0, 1))]), "timezone-aware"),
        (_sessions(2), _obs([("T", _d(0), 1.0, _at(0, 1))]), "no observation of series 'V'"),
        (pl.concat([_sessions(2), _sessions(1)]), _obs([]), "twice"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_what_to_do(
    sessions: pl.DataFrame, obs: pl.DataFrame, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        macro_features(sessions, obs, term_spread="T", vix="V")


def _fred(shared_data: Path, series: str) -> pl.DataFrame:
    raw = pl.read_csv(shared_data / "macro" / "fred" / f"{series}.csv", try_parse_dates=True)
    # Daily FRED values are published the next morning (here: 13:00 UTC the day after).
    return raw.select(
        series_id=pl.lit(series),
        observation_date=pl.col("date"),
        value=pl.col("value").cast(pl.Float64, strict=False),
        knowledge_time=(pl.col("date") + pl.duration(days=1)).cast(pl.Datetime("us", "UTC"))
        + pl.duration(hours=13),
    )


def _oracle(sessions: pl.DataFrame, obs: pl.DataFrame, series: str) -> list[float | None]:
    rows = [r for r in obs.to_dicts() if r["series_id"] == series and r["value"] is not None]
    out = []
    for close in sessions.get_column("session_close_utc").to_list():
        known = [r for r in rows if r["knowledge_time"] <= close]
        newest = max((r["observation_date"] for r in known), default=None)
        vintages = [r for r in known if r["observation_date"] == newest]
        out.append(max(vintages, key=lambda r: r["knowledge_time"])["value"] if known else None)
    return out


def test_real_fred_series_match_a_slow_as_of_oracle(shared_data: Path) -> None:
    obs = pl.concat([_fred(shared_data, s) for s in ("DGS10", "DGS2", "VIXCLS")])
    sessions = _sessions(120, start=dt.date(2020, 3, 2))
    got = macro_features(sessions, obs)
    long, short = _oracle(sessions, obs, "DGS10"), _oracle(sessions, obs, "DGS2")
    want = [a - b for a, b in zip(long, short, strict=True)]
    assert got.get_column("term_spread").to_list() == pytest.approx(want)
    vix = _oracle(sessions, obs, "VIXCLS")
    assert got.get_column("vix").to_list() == vix
    assert got.get_column("vix_change_5").to_list()[5:] == pytest.approx(
        [a - b for a, b in zip(vix[5:], vix[:-5], strict=True)]
    )
