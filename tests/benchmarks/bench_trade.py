"""Benchmark: predictions in the lakehouse -> orders accepted by the paper broker, 500 symbols.

    .venv/bin/python tests/benchmarks/bench_trade.py [--symbols 500] [--runs 60] [--top-k 50]

A temporary lakehouse gets ``--symbols`` simulated symbols with 120 sessions of curated bars,
features and champion predictions. Each timed run is one rebalance of a new session (so it is
planned afresh, never resumed): read predictions, volatility and prices at the gate's snapshot,
build targets, plan orders, decide the trading state, check every order against the risk
limits (decisions recorded), write the intents ahead, and submit them to the paper broker
(books in the lakehouse). The trade flow's own steps are called directly (``Task.fn``):
process start-up and Prefect's task bookkeeping are excluded, and the pure computation is
timed alone as well. Prints p50/p99 per phase; copy them into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from flows.brokers.paper import PaperBroker, submission_session
from flows.trade.flow import plan, risk_check
from flows.trade.gate import Gate
from flows.trade.records import order_rows, submit
from flows.trade.state import decide_state
from quantlake.settings import Settings
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

START = dt.date(2026, 1, 2)


def seed(lake: Lakehouse, *, n_symbols: int, sessions: list[dt.date]) -> None:
    """Write bars, features, a champion and predictions for every session."""
    rng = np.random.default_rng(0)
    symbols = [f"S{i:03d}" for i in range(n_symbols)]
    n, t = n_symbols, len(sessions)
    closes = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, size=(t, n)), axis=0))
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    long = pl.DataFrame(
        {
            "symbol": symbols * t,
            "session": np.repeat(np.array(sessions, dtype="datetime64[D]"), n),
            "close": closes.reshape(-1),
            "volume": rng.uniform(2e5, 5e6, size=t * n),
        }
    ).with_columns(pl.col("session").cast(pl.Date))
    bars = long.with_columns(
        open=pl.col("close"),
        high=pl.col("close") * 1.01,
        low=pl.col("close") * 0.99,
        split_factor=pl.lit(1.0),
        source=pl.lit("bench"),
        batch_id=pl.lit("bench"),
        knowledge_time=pl.lit(now),
    ).select(schemas.CURATED_BARS.column_names)
    feats = long.select(
        "symbol", "session", pl.lit(0.25).alias("vol_20"), pl.lit(1).cast(pl.Int64).alias("cs")
    )
    features = pl.DataFrame(
        {c: feats[c] if c in feats.columns else None for c in schemas.FEATURES.column_names}
    ).cast(schemas.FEATURES.polars_schema())
    with lake.transaction("bench: bars and features") as txn:
        txn.append(schemas.CURATED_BARS, bars.cast(schemas.CURATED_BARS.polars_schema()))
        txn.append(schemas.FEATURES, features)
        txn.append(
            schemas.MODELS,
            schemas.MODELS.frame(
                [{"model_version": "m1", "created_at": now, "status": "champion", "oos_ic": 0.03}]
            ),
        )
        preds = long.select(
            "symbol",
            "session",
            pl.Series("score", rng.normal(size=t * n)),
            pl.lit("m1").alias("model_version"),
            pl.lit(0).cast(pl.Int64).alias("features_snapshot"),
            pl.lit(now).alias("created_at"),
        )
        txn.append(schemas.PREDICTIONS, preds.cast(schemas.PREDICTIONS.polars_schema()))


def rebalance(
    lake: Lakehouse, settings: Settings, broker: PaperBroker, session: dt.date, run: int
) -> dict[str, float]:
    """Run one rebalance of ``session``; return seconds per phase."""
    laps: dict[str, float] = {}
    t0 = time.perf_counter()
    gate = Gate(session, lake.current_snapshot(), "m1", reason="benchmark")
    planned = plan.fn(lake, broker, settings, gate)
    t1 = time.perf_counter()
    now = calendar.session_close(session) + dt.timedelta(hours=1)
    run_id = f"bench-{run}"
    decision = decide_state(
        lake,
        settings,
        broker=broker.name,
        session=session,
        equity=planned.account.equity,
        gate=gate,
        run_id=run_id,
        now=now,
    )
    checked = risk_check.fn(
        lake,
        settings,
        gate,
        planned.orders,
        positions=planned.positions,
        prices=planned.inputs.prices,
        account=planned.account,
        state=decision.state,
        run_id=run_id,
        now=now,
    )
    approved = checked.filter(pl.col("approved_qty") > 0).with_columns(
        pl.col("approved_qty").alias("qty")
    )
    intents = order_rows(approved, settings, gate, broker, now)
    t2 = time.perf_counter()
    volumes = dict(
        lake.read(schemas.CURATED_BARS, where="session = ?", params=[session])
        .select("symbol", "volume")
        .iter_rows()
    )
    sent, _ = submit.fn(
        lake,
        broker,
        intents,
        session=submission_session(now, exchange=settings.exchange),
        volumes=volumes,
    )
    t3 = time.perf_counter()
    assert all(o.status in ("filled", "rejected") for o in sent)
    laps.update(plan=t1 - t0, risk=t2 - t1, submit=t3 - t2, total=t3 - t0, orders=len(sent))
    return laps


def compute_only(lake: Lakehouse, settings: Settings, session: dt.date, runs: int) -> list[float]:
    """Time the pure steps alone (targets, orders, risk checks) on inputs already in memory."""
    from flows.trade.inputs import portfolio_config, read_inputs
    from flows.trade.state import risk_limits
    from strategies.orders import plan_orders
    from strategies.portfolio import build_targets
    from strategies.risk import check_orders
    from strategies.states import State

    gate = Gate(session, lake.current_snapshot(), "m1", reason="benchmark")
    inputs = read_inputs(lake, settings, gate)
    positions = pl.DataFrame(schema={"symbol": pl.String, "qty": pl.Float64})
    current = pl.DataFrame(schema={"symbol": pl.String, "weight": pl.Float64})
    laps = []
    for _ in range(runs):
        t0 = time.perf_counter()
        targets = build_targets(
            inputs.predictions,
            config=portfolio_config(settings),
            volatility=inputs.volatility,
            current_weights=current,
        )
        orders = plan_orders(
            targets.weights,
            positions,
            inputs.prices,
            equity=1e6,
            cash=1e6,
            min_notional=100.0,
            fractional=False,
        ).with_columns(pl.col("symbol").alias("client_order_id"))
        check_orders(
            orders,
            positions=positions,
            prices=inputs.prices,
            last_trusted=inputs.prices,
            equity=1e6,
            cash=1e6,
            state=State.ACTIVE,
            limits=risk_limits(settings),
        )
        laps.append(time.perf_counter() - t0)
    return laps


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> None:
    """Seed the lakehouse, time ``--runs`` rebalances; print p50/p99 per phase."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--top-k", type=int, default=50)
    args = parser.parse_args(argv)
    sessions = calendar.sessions(START, START + dt.timedelta(days=400))[: 60 + args.runs]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["QUANTLAKE_DATA_DIR"] = str(Path(tmp) / "data")
        settings = Settings(
            strategy={"top_k": args.top_k, "max_position_weight": 0.05},
            risk={"max_position_weight": 0.06, "max_orders_per_run": 2 * args.top_k},
        )
        with Lakehouse(settings.lake_dir) as lake:
            seed(lake, n_symbols=args.symbols, sessions=sessions)
            broker = PaperBroker(lake, settings=settings.paper, exchange=settings.exchange)
            laps = [rebalance(lake, settings, broker, s, i) for i, s in enumerate(sessions[60:])]
            pure = compute_only(lake, settings, sessions[-1], args.runs)[1:]
    warm = laps[1:]  # the first run pays one-off imports and caches
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {args.symbols} symbols, top {args.top_k}, "
        f"{len(warm)} rebalances, median {statistics.median(r['orders'] for r in warm):.0f} orders"
    )
    print(f"{'phase':<10}{'p50 ms':>10}{'p99 ms':>10}")
    for phase in ("plan", "risk", "submit", "total"):
        values = [r[phase] * 1e3 for r in warm]
        print(f"{phase:<10}{pct(values, 50):>10.1f}{pct(values, 99):>10.1f}")
    values = [t * 1e3 for t in pure]
    print(f"{'pure':<10}{pct(values, 50):>10.1f}{pct(values, 99):>10.1f}  (targets, orders and")
    print("          risk checks in memory: the part that is not lakehouse I/O)")


@pytest.mark.benchmark
def test_trade_benchmark(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # main() points QUANTLAKE_DATA_DIR at its temporary folder: setting it here first makes
    # monkeypatch restore the variable after the test.
    monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(tmp_path))
    main(["--runs", "10"])


if __name__ == "__main__":
    main()
