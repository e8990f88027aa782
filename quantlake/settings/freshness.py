"""When a source counts as stale.

Used by flows/quality/freshness.py: the quality report and `quantlake quality --freshness`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from quantlake.settings.base import _Frozen


class FreshnessSettings(_Frozen):
    """When a source's data counts as stale: how far it may lag the latest data there should be.

    Daily bars should reach the last completed exchange session; minute bars the latest
    completed minute of the market phases named here (crypto: of now); a macro series the
    latest period whose end plus publication lag (the macro group's lags) has passed; news a
    publication time no older than ``news_max_age_hours``.
    """

    daily_max_sessions_behind: int = Field(0, ge=0)
    minute_max_lag_minutes: int = Field(15, ge=0)
    # The equity phases minute bars are expected in (the rest of the day has no bars to miss).
    minute_phases: tuple[Literal["pre", "regular", "post"], ...] = Field(("regular",), min_length=1)
    # Days past a period's expected publication before a missing value makes the series stale
    # (the lags are approximations of release calendars that move with weekends and holidays).
    macro_grace_days: int = Field(3, ge=0)
    news_max_age_hours: int = Field(48, ge=1)
