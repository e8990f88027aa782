"""RiskLimits: valid limits build a frozen model; every out-of-range value is refused."""

from __future__ import annotations

import pydantic
import pytest

from strategies.limits import RiskLimits

VALID = {
    "max_position_weight": 0.2,
    "max_gross_exposure": 1.0,
    "max_net_exposure": 1.0,
    "max_order_notional": 50_000.0,
    "max_orders_per_run": 20,
    "restricted_symbols": ["XYZ"],
    "price_collar_bps": 500.0,
    "max_drawdown": 0.10,
    "max_daily_loss": 0.03,
}


def test_valid_limits_are_frozen_and_hold_a_frozenset() -> None:
    limits = RiskLimits(**VALID)
    assert limits.restricted_symbols == frozenset({"XYZ"})
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        limits.max_drawdown = 0.5  # type: ignore[misc]


def test_restricted_symbols_default_to_none() -> None:
    values = {k: v for k, v in VALID.items() if k != "restricted_symbols"}
    assert RiskLimits(**values).restricted_symbols == frozenset()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_position_weight", 0.0),
        ("max_position_weight", 1.5),
        ("max_gross_exposure", 0.0),
        ("max_gross_exposure", float("inf")),
        ("max_net_exposure", -0.1),
        ("max_net_exposure", float("nan")),
        ("max_order_notional", 0.0),
        ("max_orders_per_run", -1),
        ("max_orders_per_run", 2.5),
        ("max_orders_per_run", True),
        ("price_collar_bps", 0.0),
        ("max_drawdown", 0.0),
        ("max_drawdown", 1.0),
        ("max_daily_loss", 1.2),
        ("restricted_symbols", [""]),
        ("restricted_symbols", [" AAPL"]),
        ("restricted_symbols", "AAPL"),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        RiskLimits(**(VALID | {field: value}))


def test_missing_and_unknown_fields_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="max_drawdown"):
        RiskLimits(**{k: v for k, v in VALID.items() if k != "max_drawdown"})
    with pytest.raises(pydantic.ValidationError, match="max_leverage"):
        RiskLimits(**(VALID | {"max_leverage": 2.0}))
