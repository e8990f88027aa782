"""Settings of the trade path: strategy, risk limits, the paper broker, the trading gate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from quantlake.settings.base import _Frozen


class StrategySettings(_Frozen):
    """Portfolio construction for the daily rebalance."""

    name: str = Field("topk", pattern=r"^[a-z0-9_]{1,16}$")
    top_k: int = Field(5, ge=1)
    weighting: Literal["equal", "inverse_vol"] = "inverse_vol"
    max_position_weight: float = Field(0.25, gt=0, le=1)
    gross_exposure: float = Field(0.95, gt=0, le=1)
    min_notional: float = Field(100.0, ge=0)
    fractional_shares: bool = False
    # Construction and sizing (strategies/portfolio.py): top_k | score_proportional, and
    # none | vol_target | kelly | fixed_fractional.
    construction: Literal["top_k", "score_proportional"] = "top_k"
    sizing: Literal["none", "vol_target", "kelly", "fixed_fractional"] = "none"
    target_annual_vol: float = Field(0.15, gt=0)
    kelly_fraction: float = Field(0.25, gt=0, le=1)
    risk_fraction: float = Field(0.01, gt=0, lt=1)
    stop_vols: float = Field(2.0, gt=0)
    # Turnover control: skip trades smaller than the band (a fraction of equity) and trade at
    # most max_turnover (two-way, fraction of equity) per rebalance; None means no cap.
    no_trade_band: float = Field(0.0, ge=0, lt=1)
    max_turnover: float | None = Field(None, ge=0)
    # Above this two-way turnover a person must approve the rebalance in the Prefect UI
    # (None: never ask). Unanswered within approval_timeout_s, the rebalance is rejected.
    approval_turnover: float | None = Field(None, ge=0)
    approval_timeout_s: int = Field(3600, ge=1)
    # Orders: market, or limit at the reference price moved limit_offset_bps in our favour's
    # opposite direction (a buy may pay up to that much more); day or good-till-cancelled.
    order_type: Literal["market", "limit"] = "market"
    limit_offset_bps: float = Field(50.0, ge=0)
    time_in_force: Literal["day", "gtc"] = "day"


class RiskSettings(_Frozen):
    """Pre-trade limits and the automatic trading-state transitions (strategies/limits.py)."""

    max_position_weight: float = Field(0.30, gt=0, le=1)
    max_gross_exposure: float = Field(1.0, gt=0)
    max_net_exposure: float = Field(1.0, ge=0)
    max_order_notional: float = Field(500_000.0, gt=0)
    max_orders_per_run: int = Field(50, ge=0)
    restricted_symbols: tuple[str, ...] = ()
    # Largest move of the order's reference price from the previous validated close.
    price_collar_bps: float = Field(2_500.0, gt=0)
    max_drawdown: float = Field(0.20, gt=0, lt=1)
    max_daily_loss: float = Field(0.05, gt=0, lt=1)


class PaperBrokerSettings(_Frozen):
    """The in-process paper broker."""

    initial_cash: float = Field(1_000_000.0, gt=0)
    commission_bps: float = Field(1.0, ge=0)
    slippage_bps: float = Field(5.0, ge=0)
    # "last": fill on submit at the order's reference price; "next_open": queue the order and
    # fill it in settle() against the first bar after its session (strategies/execution.py).
    fill_at: Literal["last", "next_open"] = "last"
    # Market impact in bps: coefficient * (filled qty / session volume) ** exponent, on top of
    # slippage_bps; 0.5 is the square-root law (10% of the volume costs ~32 bps at 100).
    impact_coefficient_bps: float = Field(100.0, ge=0)
    impact_exponent: float = Field(0.5, gt=0, le=1)
    # At most this share of a session's volume fills per order; the rest waits (GTC) or expires.
    max_participation: float = Field(0.1, gt=0, le=1)


class GateSettings(_Frozen):
    """When the trade flow refuses to open new risk."""

    # The latest curated session may lag the latest completed exchange session by this many.
    max_data_age_sessions: int = Field(1, ge=0)
    # The champion's newest training or test session may lag the latest data by this many.
    max_model_age_sessions: int = Field(21, ge=0)
    # A batch whose quarantined share exceeds this fails validation.
    max_quarantine_fraction: float = Field(0.05, ge=0, le=1)
