"""Batches of daily bars validated before and after the profile rewrite of validate_bars.

``daily_bars_before.json`` holds what the per-expectation implementation (GX evaluating every
check on the rows, commit c74f651) returned for each case: status, message, rule results and
a digest of the quarantined rows. ``record`` computes the same summary for an outcome.

Since recorded, the contract gained four rules (values_finite, symbol_pattern, stale_run,
symbol_quarantine_share): each case lists them, passing except where a hand-built row breaks
them (ODD's rows 108 and 109 hold infinities, row 113 an empty symbol; a rejected batch counts
1 for a check it cannot run, as for every rule). The real batches decide exactly as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import polars as pl

from tests.unit.validations.test_real_data import BAR_SCHEMA, EQUITIES, read_messy
from tests.unit.validations.test_validate import ROWS, TODAY, raw_frame
from validations.result import ValidationOutcome

MESSY = "messy/yahoo_appended_daily_kcjpop_2024-08-09"
MESSY_DATA = ("AAPL", "AMZN", "GOOGL")  # BRK.B and TSLA hold an error page, not bars
MESSY_TODAY = dt.date(2024, 8, 9)
EXPECTED = Path(__file__).with_name("daily_bars_before.json")

_BASE = ROWS[0]
_BASE_VALUES = ("open", "high", "low", "close", "volume")
ODD = [
    dict(_BASE, row_number=101, symbol=None, session=dt.date(2024, 8, 5)),
    dict(_BASE, row_number=102, symbol=None, session=dt.date(2024, 8, 5), close=100.9),
    dict(_BASE, row_number=103, symbol="ZZZ", session=None),
    dict(_BASE, row_number=104, symbol="ZZZ", session=None),
    dict(_BASE, row_number=105, symbol=None, session=None),
    dict(_BASE, row_number=106, symbol=None, session=None),
    dict(_BASE, row_number=107, symbol="YYY", volume=float("nan")),
    dict(_BASE, row_number=108, symbol="YYY", session=dt.date(2024, 8, 6), high=float("inf")),
    dict(
        _BASE,
        row_number=109,
        symbol="YYY",
        session=dt.date(2024, 8, 7),
        low=float("-inf"),
        open=0.0,
    ),
    dict(_BASE, row_number=110, symbol="XXX", session=dt.date(2024, 8, 4), close=None, volume=-1.0),
    dict(_BASE, row_number=111, symbol="XXX", session=dt.date(2024, 8, 4), high=98.0),
    dict(_BASE, row_number=112, symbol="XXX", session=dt.date(2024, 8, 4), high=98.0),
    dict(_BASE, row_number=99, symbol="XXX", session=dt.date(2024, 8, 4), low=float("nan")),
    dict(
        _BASE,
        row_number=-5,
        symbol="WWW",
        session=dt.date(2030, 1, 5),
        **dict.fromkeys(("open", "high", "low", "close"), -0.0),
        volume=0.0,
    ),
    dict(_BASE, row_number=113, symbol="", session=dt.date(2024, 8, 8)),
]
ALL_NULL = [
    {**_BASE, "row_number": i, **dict.fromkeys(("symbol", "session", *_BASE_VALUES))}
    for i in range(3)
]


def equities(shared: Path) -> pl.DataFrame:
    """Return the 100-symbol file as bars numbered in file order."""
    frame = pl.read_csv(shared / EQUITIES, try_parse_dates=True)
    return (
        frame.rename({"date": "session"})
        .select("symbol", *BAR_SCHEMA)
        .cast(BAR_SCHEMA)
        .with_row_index("row_number")
        .with_columns(pl.col("row_number").cast(pl.Int64))
    )


def messy_folder(shared: Path) -> pl.DataFrame:
    """Return the messy folder as the ingest flow's raw rows (FileSource, then raw_rows)."""
    from flows.ingest import curate
    from flows.sources.files import FileSource

    batch = FileSource(shared / MESSY).fetch(start=dt.date(1900, 1, 1), end=MESSY_TODAY)
    at = dt.datetime(2024, 8, 9, tzinfo=dt.UTC)
    return curate.raw_rows(batch, batch_id="b", ingested_at=at)


Case = tuple[Callable[[Path], pl.DataFrame], dt.date]
REAL: dict[str, Case] = {
    **{
        f"messy_{s}": (lambda d, s=s: read_messy(d / MESSY / f"{s}.csv.gz", s), MESSY_TODAY)
        for s in MESSY_DATA
    },
    "messy_folder_flow": (messy_folder, MESSY_TODAY),
    "messy_folder_early_today": (messy_folder, dt.date(2023, 6, 30)),
    "equities_100": (equities, dt.date(2022, 1, 28)),
    "equities_100_today_2021_06": (equities, dt.date(2021, 6, 30)),
}
HAND_BUILT: dict[str, Case] = {
    "unit_rows": (lambda _: raw_frame(ROWS), TODAY),
    "unit_empty": (lambda _: raw_frame(ROWS).clear(), TODAY),
    "unit_missing_volume": (lambda _: raw_frame(ROWS[:2]).drop("volume"), TODAY),
    "unit_missing_two": (lambda _: raw_frame(ROWS).drop("volume", "symbol"), TODAY),
    "unit_open_string": (
        lambda _: raw_frame(ROWS[:2]).with_columns(pl.col("open").cast(pl.String)),
        TODAY,
    ),
    "unit_rownum_repeat_full": (
        lambda _: raw_frame(ROWS).with_columns(row_number=pl.lit(1, pl.Int64)),
        TODAY,
    ),
    "unit_odd": (lambda _: raw_frame(ROWS + ODD), TODAY),
    "unit_odd_repeat": (lambda _: raw_frame([*ROWS, *ODD, dict(_BASE, row_number=7)]), TODAY),
    "unit_odd_int_volume": (
        lambda _: raw_frame(ROWS[:2] + ODD[:6]).with_columns(
            pl.col("volume").fill_nan(None).cast(pl.Int64)
        ),
        TODAY,
    ),
    "unit_odd_extra_cols": (
        lambda _: raw_frame(ODD).with_columns(extra=pl.lit("x"), other=pl.col("open") * 2),
        TODAY,
    ),
    "unit_odd_unsorted": (lambda _: raw_frame(ODD[::-1] + ROWS[::-1]), TODAY),
    "unit_only_nulls": (lambda _: raw_frame(ALL_NULL), TODAY),
}


def record(outcome: ValidationOutcome) -> dict[str, object]:
    """Return what the fixture pins of an outcome (the quarantine as counts and a digest)."""
    quarantined = outcome.quarantined.select("row_number", "rule", "detail")
    lines = sorted(f"{n}\t{r}\t{d}" for n, r, d in quarantined.iter_rows())
    by_rule = dict(sorted(quarantined.group_by("rule").len().iter_rows()))
    return {
        "status": outcome.status,
        "message": outcome.message,
        "passed": outcome.passed.height,
        "rows_quarantined": outcome.rows_quarantined,
        "quarantined_by_rule": by_rule,
        "quarantine_sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        "rules": [
            [r.rule, r.severity, r.success, r.element_count, r.unexpected_count, r.detail]
            for r in outcome.rules
        ],
    }
