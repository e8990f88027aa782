"""Backfills in chunks and gap re-requests, on the simulator and on a local Alpaca data server.

Oracles: one clean ingest of the same range (chunked loads must give the same curated rows), the
bars the data server holds, and the exchange calendar (no session skipped).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from flows.backfill.flow import backfill_flow
from flows.backfill.gaps import gap_fill_flow
from flows.backfill.window import WindowOutcome, WindowRequestError
from flows.ingest.daily import ingest_flow
from flows.sources.simulator import MarketSimulator
from quantlake.cli import app
from quantlake.settings import Settings, SimulatorSettings
from tests.support.alpaca_data_server import AlpacaDataServer
from validations.gaps import calendar_gaps
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

D = dt.date
START, END = D(2023, 1, 3), D(2023, 2, 28)  # 39 XNYS sessions
NOW = dt.datetime(2023, 3, 1, 3, tzinfo=dt.UTC)  # the night after END's close
KEY, SECRET = "PKTESTKEY0000000002", "test-secret-backfill-1a2b"
BAR_COLUMNS = ["symbol", "session", "open", "high", "low", "close", "volume", "split_factor"]
MakeSettings = Callable[..., Settings]


class Interrupted(Exception):
    """Stands for the process being stopped between two chunks."""


def night_after(day: dt.date) -> dt.datetime:
    return calendar.session_close(day) + dt.timedelta(hours=4)


def curated(settings: Settings) -> pl.DataFrame:
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        return lake.read(schemas.CURATED_BARS).sort("symbol", "session")


def test_chunk_planning_matches_the_calendar() -> None:
    days = calendar.sessions(START, END)
    assert len(days) == 39 and days[10] == D(2023, 1, 18) and days[30] == D(2023, 2, 15)


def test_an_interrupted_backfill_resumes_and_equals_one_full_ingest(
    simulator_settings: MakeSettings, tmp_path: Path
) -> None:
    # Many splits (on a path that starts shortly before, while prices are still high), so
    # later chunks re-adjust the history earlier chunks stored.
    splits = {"QUANTLAKE_SIMULATOR__SPLIT_RATE": "60", "QUANTLAKE_SIMULATOR__START": "2022-12-01"}
    reference = simulator_settings(QUANTLAKE_DATA_DIR=str(tmp_path / "reference"), **splits)
    full = ingest_flow(now=NOW, report_to_dagster=False)
    assert (full.first_session, full.last_session, full.validation) == (START, END, "passed")
    expected = curated(reference)
    with Lakehouse(reference.lake_dir) as lake:
        split_days = lake.query("SELECT ex_session FROM raw.corporate_actions")["ex_session"]
    assert (split_days > D(2023, 1, 17)).sum() >= 3, "too few splits after the first chunk"

    settings = simulator_settings(**splits)
    seen: list[WindowOutcome] = []

    def stop_after_two(done: int, total: int, outcome: WindowOutcome | None) -> None:
        assert total == 4
        if outcome is not None:
            seen.append(outcome)
        if done == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        backfill_flow(None, START, END, chunk_sessions=10, now=NOW, on_progress=stop_after_two)
    assert [(o.window.first, o.window.last, o.status) for o in seen] == [
        (D(2023, 1, 3), D(2023, 1, 17), "loaded"),
        (D(2023, 1, 18), D(2023, 1, 31), "loaded"),
    ]

    resumed = backfill_flow(None, START, END, chunk_sessions=10, now=NOW)
    assert [(c.window.first, c.window.last, c.status) for c in resumed.chunks] == [
        (D(2023, 1, 3), D(2023, 1, 17), "skipped"),
        (D(2023, 1, 18), D(2023, 1, 31), "skipped"),
        (D(2023, 2, 1), D(2023, 2, 14), "loaded"),
        (D(2023, 2, 15), D(2023, 2, 28), "loaded"),
    ]
    assert resumed.quality_report is not None and Path(resumed.quality_report).exists()
    got = curated(settings)
    assert got.height == expected.height == 12 * 39
    assert_frame_equal(got.select(BAR_COLUMNS), expected.select(BAR_COLUMNS), rtol=1e-12)
    with Lakehouse(settings.lake_dir) as lake:
        assert lake.count(schemas.BATCHES) == 4
        snapshot = lake.current_snapshot()

    again = backfill_flow(None, START, END, chunk_sessions=10, now=NOW)
    assert {c.status for c in again.chunks} == {"skipped"} and again.quality_report is None
    with Lakehouse(settings.lake_dir) as lake:
        assert lake.current_snapshot() == snapshot


def test_backfills_never_make_the_scheduled_ingest_skip_sessions(
    simulator_settings: MakeSettings,
) -> None:
    settings = simulator_settings(n_symbols=5, QUANTLAKE_HISTORY_START="2023-02-01")
    live = ingest_flow(now=night_after(D(2023, 2, 10)), report_to_dagster=False)
    assert (live.first_session, live.last_session) == (D(2023, 2, 1), D(2023, 2, 10))
    # An older range, then one ahead of the watermark that leaves a hole (2023-02-13 .. 17).
    backfill_flow(None, START, D(2023, 1, 31), chunk_sessions=10, now=NOW)
    backfill_flow(None, D(2023, 2, 21), D(2023, 2, 24), chunk_sessions=10, now=NOW)

    scheduled = ingest_flow(now=night_after(D(2023, 2, 28)), report_to_dagster=False)
    assert (scheduled.first_session, scheduled.last_session) == (D(2023, 2, 13), END)
    bars = curated(settings)
    assert bars.height == 5 * 39
    assert calendar_gaps(bars).gaps.is_empty() and calendar_gaps(bars).closures == ()

    # A backfill that continues the watermark is not fetched again by the scheduled run.
    backfill_flow(None, D(2023, 3, 1), D(2023, 3, 3), now=night_after(D(2023, 3, 3)))
    after = ingest_flow(now=night_after(D(2023, 3, 6)), report_to_dagster=False)
    assert (after.first_session, after.last_session) == (D(2023, 3, 6), D(2023, 3, 6))


def test_the_file_source_and_unfinished_sessions_are_refused(
    simulator_settings: MakeSettings, tmp_path: Path
) -> None:
    simulator_settings(QUANTLAKE_FILE_PATH=str(tmp_path / "bars.csv"))
    with pytest.raises(WindowRequestError, match="file source cannot serve a backfill"):
        backfill_flow("file", START, END, now=NOW)
    with pytest.raises(WindowRequestError, match="file source cannot serve gap re-requests"):
        gap_fill_flow("file", now=NOW)
    with pytest.raises(WindowRequestError, match="after the last completed XNYS session"):
        backfill_flow(None, START, D(2023, 3, 1), now=NOW)


# -- against a local Alpaca data server ------------------------------------------------------
SYMBOLS = ("SIM001", "SIM002", "SIM003", "SIM004")


@pytest.fixture(scope="module")
def source_bars() -> pl.DataFrame:
    """Four clean simulated symbols over START .. END: what the data servers hold."""
    clean = SimulatorSettings(n_symbols=4, bad_tick_rate=0.0, split_rate=0.0)
    return MarketSimulator(clean).fetch(start=START, end=END).bars.sort("symbol", "session")


def alpaca_env(server: AlpacaDataServer) -> dict[str, str]:
    return {
        "QUANTLAKE_SOURCE": "alpaca",
        "QUANTLAKE_ALPACA__API_KEY": KEY,
        "QUANTLAKE_ALPACA__SECRET_KEY": SECRET,
        "QUANTLAKE_ALPACA__DATA_URL": server.url,
        "QUANTLAKE_SYMBOLS": '["' + '","'.join(SYMBOLS) + '"]',
    }


def as_served(bars: pl.DataFrame) -> pl.DataFrame:
    """Curated bars as the source sent them (Alpaca volumes are whole shares)."""
    return bars.select(
        "symbol", "session", "open", "high", "low", "close", pl.col("volume").floor()
    ).sort("symbol", "session")


def test_cli_backfill_reports_a_failed_chunk_goes_on_and_a_rerun_fetches_only_it(
    simulator_settings: MakeSettings, source_bars: pl.DataFrame
) -> None:
    # The second request is refused (HTTP 403, not worth a retry): chunk 2 fails.
    with AlpacaDataServer(
        source_bars, api_key=KEY, secret_key=SECRET, faults=1, fault_status=403, fault_after=1
    ) as server:
        settings = simulator_settings(**alpaca_env(server))
        args = ["backfill", "--start", "2023-01-03", "--end", "2023-02-28"]
        args += ["--chunk-sessions", "10", "--now", "2023-03-01T03:00:00"]
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 1, first.output
        said = " ".join(first.output.split())
        assert "1 chunk(s) failed (2023-01-18 .. 2023-01-31)" in said
        assert "rerun the same backfill to retry them" in said
        assert [r.status for r in server.requests] == [200, 403, 200, 200]
        with Lakehouse(settings.lake_dir) as lake:
            assert lake.count(schemas.BACKFILL_WINDOWS) == 3

        second = CliRunner().invoke(app, args)
        assert second.exit_code == 0, second.output
        assert "4 chunk(s) of up to 10 sessions: 1 loaded, 3 skipped" in " ".join(
            second.output.split()
        )
        assert len(server.requests) == 5
        assert server.requests[-1].query["start"].startswith("2023-01-18")
        assert server.requests[-1].query["symbols"] == ",".join(SYMBOLS)
    got = curated(settings)
    assert_frame_equal(as_served(got), as_served(source_bars))
    assert set(got["source"]) == {"alpaca"}


def test_gaps_are_requested_exactly_filled_and_what_the_source_lacks_stays_missing(
    simulator_settings: MakeSettings, source_bars: pl.DataFrame
) -> None:
    closure = D(2023, 2, 15)  # the first feed lost this session for everyone
    halted = ("SIM002", D(2023, 1, 20))  # no source has this one
    holes = [("SIM001", D(2023, 1, 10)), ("SIM001", D(2023, 1, 11)), ("SIM003", D(2023, 2, 1))]
    lost = pl.DataFrame(
        [*holes, halted, *((s, closure) for s in SYMBOLS)],
        schema={"symbol": pl.String, "session": pl.Date},
        orient="row",
    )
    holey = source_bars.join(lost, on=["symbol", "session"], how="anti")
    fuller = source_bars.filter((pl.col("symbol") != halted[0]) | (pl.col("session") != halted[1]))
    with AlpacaDataServer(holey, api_key=KEY, secret_key=SECRET) as first_feed:
        simulator_settings(**alpaca_env(first_feed))
        assert ingest_flow(now=NOW, report_to_dagster=False).status == "loaded"

    with AlpacaDataServer(fuller, api_key=KEY, secret_key=SECRET) as second_feed:
        settings = simulator_settings(**alpaca_env(second_feed))
        summary = gap_fill_flow(now=NOW, report_to_dagster=False)
        requested = [(r.query["symbols"], r.query["start"][:10]) for r in second_feed.requests]

        assert summary.symbols == SYMBOLS and summary.closures == (closure,)
        assert sorted(summary.found) == sorted(lost.rows())
        assert requested == [
            ("SIM001", "2023-01-10"),
            ("SIM002", "2023-01-20"),
            ("SIM003", "2023-02-01"),
            (",".join(SYMBOLS), "2023-02-15"),
        ]
        assert [(w.window.label(), w.status) for w in summary.windows] == [
            ("2023-01-10 .. 2023-01-11 SIM001", "loaded"),
            ("2023-01-20 SIM002", "empty"),
            ("2023-02-01 SIM003", "loaded"),
            ("2023-02-15 SIM001,SIM002,SIM003,SIM004", "loaded"),
        ]
        assert summary.still_missing == [halted]
        assert sorted(summary.filled) == sorted(r for r in lost.rows() if r != halted)
        assert_frame_equal(as_served(curated(settings)), as_served(fuller))

        # One pass per run: a rerun asks for the halted session once more, and only for it.
        again = gap_fill_flow(now=NOW, report_to_dagster=False)
        assert [w.status for w in again.windows] == ["empty"]
        assert again.still_missing == [halted] and len(second_feed.requests) == 5
        assert summary.quality_report is not None and again.quality_report is None
        # The gap batches do not move the scheduled ingest's watermark.
        assert ingest_flow(now=NOW, report_to_dagster=False).status == "up_to_date"
