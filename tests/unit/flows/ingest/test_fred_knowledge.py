"""Knowledge times of macro observations, against hand-computed release moments."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from flows.ingest.macro_knowledge import infer_frequency, knowledge_times, period_end
from flows.sources.fred import OBS_COLUMNS
from quantlake.settings import MacroSettings

D = dt.date
NOW = dt.datetime(2024, 12, 31, 12, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def obs(rows: list[tuple[str, dt.date | None, dt.date | None, str | None]]) -> pl.DataFrame:
    """Return observations (series, date, realtime_start, frequency) as the source delivers."""
    return pl.DataFrame(
        [
            {
                "origin": "t.csv",
                "line": i + 2,
                "series_id": s,
                "observation_date": d,
                "realtime_start": r,
                "value_text": "1",
                "value": 1.0,
                "frequency": f,
            }
            for i, (s, d, r, f) in enumerate(rows)
        ],
        schema=OBS_COLUMNS,
    )


def known(frame: pl.DataFrame, *, revised: list[bool] | None = None) -> list[dt.datetime]:
    """Return the knowledge times the default settings give ``frame`` when ingested at NOW."""
    flags = pl.Series(revised if revised is not None else [False] * frame.height)
    out = knowledge_times(frame, MacroSettings(), revised=flags, ingested_at=NOW)
    return out.get_column("knowledge_time").to_list()


@pytest.mark.parametrize(
    ("dates", "frequency"),
    [
        ([D(2024, 1, 2), D(2024, 1, 3), D(2024, 1, 5), D(2024, 1, 8)], "D"),
        ([D(2024, 1, 6), D(2024, 1, 13), D(2024, 1, 20)], "W"),
        ([D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)], "M"),
        ([D(2023, 7, 1), D(2023, 10, 1), D(2024, 1, 1)], "Q"),
        ([D(2021, 1, 1), D(2022, 1, 1), D(2023, 1, 1)], "A"),
        ([D(2024, 1, 1)], None),  # one date: cannot tell
        ([D(2024, 1, 1), D(2024, 1, 15), D(2024, 1, 29)], None),  # every 14 days: irregular
    ],
)
def test_infer_frequency(dates: list[dt.date], frequency: str | None) -> None:
    assert infer_frequency(pl.Series(dates, dtype=pl.Date)) == frequency


def test_period_end() -> None:
    frame = pl.DataFrame(
        {
            "d": [D(2024, 5, 1), D(2024, 2, 1), D(2024, 4, 1), D(2024, 1, 1), D(2024, 5, 4)],
            "f": ["M", "M", "Q", "A", "W"],
        }
    )
    ends = frame.select(period_end(pl.col("d"), pl.col("f"))).to_series().to_list()
    assert ends == [D(2024, 5, 31), D(2024, 2, 29), D(2024, 6, 30), D(2024, 12, 31), D(2024, 5, 4)]


def test_default_lags_place_releases_after_the_period() -> None:
    frame = obs(
        [
            ("CPIAUCSL", D(2024, 5, 1), None, "M"),  # May ends 05-31, +15 days
            ("ICSA", D(2024, 5, 4), None, "W"),  # week ending Saturday, +5: Thursday
            ("DGS10", D(2024, 5, 3), None, "D"),  # +1 day
            ("GDP", D(2024, 1, 1), None, "Q"),  # Q1 ends 03-31, +30 days
            ("SOMETHING", D(2024, 5, 1), None, "M"),  # not listed: default 30 days
        ]
    )
    assert known(frame) == [
        utc(2024, 6, 15, 22),
        utc(2024, 5, 9, 22),
        utc(2024, 5, 4, 22),
        utc(2024, 4, 30, 22),
        utc(2024, 6, 30, 22),
    ]


def test_a_stated_vintage_wins_over_the_lag() -> None:
    frame = obs([("GDPC1", D(2023, 10, 1), D(2024, 2, 28), "Q")])
    assert known(frame) == [utc(2024, 2, 28, 22)]


def test_settings_change_lags_time_and_frequency() -> None:
    settings = MacroSettings(
        lags={"cpiaucsl": 10}, release_time=dt.time(13, 30), frequencies={"cpiaucsl": "Q"}
    )
    frame = obs([("CPIAUCSL", D(2024, 4, 1), None, "M")])
    out = knowledge_times(frame, settings, revised=pl.Series([False]), ingested_at=NOW)
    assert out.get_column("frequency").to_list() == ["Q"]
    assert out.get_column("knowledge_time").to_list() == [utc(2024, 7, 10, 13, 30)]


def test_nothing_is_known_after_the_ingest_and_revisions_are_known_now() -> None:
    frame = obs([("CPIAUCSL", D(2024, 12, 1), None, "M"), ("CPIAUCSL", D(2020, 1, 1), None, "M")])
    assert known(frame) == [NOW, utc(2020, 2, 15, 22)]
    assert known(frame, revised=[False, True]) == [NOW, NOW]


def test_no_knowledge_time_without_a_period_end() -> None:
    frame = obs(
        [("X", D(2024, 1, 1), None, None), ("X", None, None, "M"), ("X", None, D(2024, 2, 1), None)]
    )
    assert known(frame) == [None, None, utc(2024, 2, 1, 22)]


def test_naive_ingest_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        knowledge_times(
            obs([]),
            MacroSettings(),
            revised=pl.Series([], dtype=pl.Boolean),
            ingested_at=dt.datetime(2024, 1, 1),
        )
