"""Which audit rows a trade run appends: new facts only, so a rerun does not repeat the record.

A rerun of a session already decided decides nothing new: the same gate verdict, the same risk
checks, the same account and positions. Those are recorded once. What each table gets:

- ``trading.risk_decisions``: a decision (session, subject, decision, reason) already recorded
  is not recorded again; a run that sends orders records its gate verdict under its own run id
  all the same, so each order's ``submitted`` row has its run's gate row beside it.
- ``trading.account``, ``trading.positions``, ``trading.state``: written when a value changed.
- ``trading.reconciliations``: written when a check's outcome or either side's value changed
  (flows/trade/reconcile.py).
- Refusals (flows/trade/gate.py) and approvals are events, each recorded: a refused run leaves
  no other trace, and every approval is a person's answer.
"""

from __future__ import annotations

import polars as pl

from warehouse.lake import Transaction

_FACT = ["session", "subject", "decision", "reason"]


def unrecorded(txn: Transaction, rows: pl.DataFrame) -> pl.DataFrame:
    """Return the risk-decision ``rows`` whose (session, subject, decision, reason) is not
    stored yet (a null session matches a null)."""
    if rows.is_empty():
        return rows
    subjects = rows.get_column("subject").unique().to_list()
    stored = txn.query(
        "SELECT DISTINCT session, subject, decision, reason FROM trading.risk_decisions "
        "WHERE list_contains(?, subject)",
        [subjects],
    )
    if stored.is_empty():
        return rows
    facts = rows.select(_FACT).cast(stored.schema)
    keep = facts.join(stored, on=_FACT, how="anti", nulls_equal=True).unique()
    return rows.join(keep, on=_FACT, how="semi", nulls_equal=True)


def run_decisions(txn: Transaction, rows: pl.DataFrame) -> pl.DataFrame:
    """Return a run's decision rows to append: the new ones, plus the run's gate row whenever
    another of its rows is new (provenance finds an order's run through its gate row)."""
    fresh = unrecorded(txn, rows)
    if fresh.filter(pl.col("subject") != "gate").is_empty():
        return fresh
    return pl.concat([rows.filter(pl.col("subject") == "gate"), fresh]).unique(
        ["run_id", "subject"], keep="first", maintain_order=True
    )


def changed(stored: pl.DataFrame, new: pl.DataFrame, *, by: list[str]) -> bool:
    """Return whether ``new`` holds other rows than ``stored`` (compared on ``new``'s columns,
    both sorted by ``by``)."""
    if stored.height != new.height:
        return True
    columns = new.columns
    return not stored.select(columns).sort(by).equals(new.select(columns).sort(by))
