"""Risk limits: the frozen, validated numbers the state machine and the order checks enforce."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RiskLimits(BaseModel):
    """Pre-trade limits; weights and exposures are fractions of equity, money in account currency.

    Exposures are measured after the order: a position's weight is ``|qty| * mark / equity``,
    gross is the sum of those over all symbols, net the absolute value of the signed sum.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    max_position_weight: float = Field(gt=0, le=1)
    max_gross_exposure: float = Field(gt=0)
    max_net_exposure: float = Field(ge=0)
    max_order_notional: float = Field(gt=0)
    max_orders_per_run: int = Field(ge=0, strict=True)
    restricted_symbols: frozenset[str] = frozenset()
    # Largest distance, in basis points, of an order's reference price from the last trusted one.
    price_collar_bps: float = Field(gt=0)
    # Fraction of the equity peak that may be lost before trading halts (sticky).
    max_drawdown: float = Field(gt=0, lt=1)
    # Fraction of the previous close's equity that may be lost in a day before trading reduces.
    max_daily_loss: float = Field(gt=0, lt=1)

    @field_validator("restricted_symbols", mode="after")
    @classmethod
    def _clean_symbols(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(s for s in value if not s or s != s.strip())
        if bad:
            raise ValueError(
                f"restricted symbols must be non-empty and without surrounding spaces, got {bad}"
            )
        return value
