"""The daily ingest flow on one hostile folder: every row is stored, quarantined or skipped.

One long-format file holds good symbols and, in place, every defect the issue found: infinite
prices (one row all infinite, which crashed split detection), a bar dated 2099, symbols that are
SQL, a path and 300 characters, seven years' worth of placeholder bars (here seven), one symbol
with 8.1% bad rows, and a row whose date cannot be read; a file named ``.csv`` gives an empty
symbol. The flow commits, the counts add up per rule, and only the good rows reach curated.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.ingest.daily import ingest_flow
from quantlake import runtime
from quantlake.settings import load_settings
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

NOW = dt.datetime(2024, 8, 10, 12, tzinfo=dt.UTC)  # a Saturday: 2024-08-09 is the last session
DAYS = calendar.sessions(dt.date(2024, 1, 2), dt.date(2024, 8, 9), exchange="XNYS")
GOOD = ("GOOD", "BRK.B", "BF-B", "FINE", "OKAY")
HOSTILE = ("A'; DROP TABLE x;--", "../../etc/passwd", "X" * 300)
INF = "inf"


def _bar(symbol: str, day: object, **values: object) -> dict[str, object]:
    row = {"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.5, "volume": 1000.0}
    return {"symbol": symbol, "date": day, **row, **values}


def _rows() -> list[dict[str, object]]:
    rows = [_bar(s, d) for s in GOOD for d in DAYS[:60]]
    rows += [
        _bar("GOOD", DAYS[60], high=INF, close=INF),
        _bar("GOOD", DAYS[61], open=INF, high=INF, low=INF, close=INF),
        _bar("GOOD", "2099-01-01"),
        _bar("GOOD", "not-a-date"),
        *(_bar(s, DAYS[0]) for s in HOSTILE),
    ]
    flat = {"open": 5.0, "high": 5.0, "low": 5.0, "close": 5.0, "volume": 0.0}
    rows += [_bar("PRE", d, **flat) for d in DAYS[:7]] + [_bar("PRE", d) for d in DAYS[7:37]]
    rows += [
        _bar("BAD", d, low=102.0 if i in (5, 15, 25) else 99.0) for i, d in enumerate(DAYS[:37])
    ]
    return rows


def _write(folder: Path) -> int:
    """Write the hostile folder; return the rows it holds."""
    folder.mkdir()
    rows = _rows()
    with (folder / "bars.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # A per-symbol file named only by its suffix: the symbol it is named after is empty.
    (folder / ".csv").write_text("date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n")
    return len(rows) + 1


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Path:
    monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(tmp_path / "data"))
    runtime.prepare(load_settings())
    return tmp_path / "data"


def test_every_hostile_row_is_stored_quarantined_or_skipped(data_dir: Path, tmp_path: Path) -> None:
    received = _write(tmp_path / "drop")
    run = ingest_flow(
        source="file", file_path=str(tmp_path / "drop"), now=NOW, report_to_dagster=False
    )
    assert (run.status, run.validation) == ("loaded", "passed"), run.message
    assert run.rows_received == received
    assert run.rows_passed + run.rows_quarantined + run.rows_skipped == received
    assert run.skipped_by_reason == {"date unreadable": 1}
    assert run.quarantined_by_rule == {
        "values_finite": 2,
        "session_not_future": 1,
        "trading_session": 1,  # 2099-01-01 is New Year's Day as well
        "symbol_pattern": 4,  # three hostile names and the empty one
        "stale_run": 7,
        "low_le_open": 3,
        "low_le_close": 3,
        "low_le_high": 3,
        "symbol_quarantine_share": 34,  # BAD's other rows: 3 of 37 (8.1%) broke a rule
    }
    with Lakehouse(data_dir / "lake") as lake:
        raw = lake.read(schemas.RAW_BARS)
        quarantined = lake.read(schemas.QUARANTINE_BARS)
        curated = lake.read(schemas.CURATED_BARS)
    assert raw.height == run.rows_in == received - 1
    assert quarantined.get_column("row_number").n_unique() == run.rows_quarantined
    assert dict(quarantined.group_by("rule").len().iter_rows()) == run.quarantined_by_rule
    assert curated.height == run.rows_passed
    landed = dict(curated.group_by("symbol").len().iter_rows())
    assert landed == {**dict.fromkeys(GOOD, 60), "PRE": 30}
    assert curated.select(
        pl.all_horizontal(pl.col("open", "high", "low", "close", "volume").is_finite()).all()
    ).item()
