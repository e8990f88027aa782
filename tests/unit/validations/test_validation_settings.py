"""The data-contract settings: symbol patterns per asset class and the stale-run length."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from quantlake.settings import Settings, ValidationSettings


def test_the_environment_sets_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTLAKE_VALIDATION__STALE_RUN_BARS", "9")
    monkeypatch.setenv(
        "QUANTLAKE_VALIDATION__SYMBOL_PATTERNS", '{"us_equity": "^[A-Z]{1,5}$", "crypto": "^X$"}'
    )
    group = Settings().validation
    assert group.stale_run_bars == 9
    assert group.symbol_pattern("us_equity") == "^[A-Z]{1,5}$"


def test_defaults_take_class_suffixes_and_pairs() -> None:
    group = ValidationSettings()
    assert group.symbol_pattern(group.daily_asset_class) == r"^[A-Z][A-Z0-9.\-]{0,9}$"
    assert group.symbol_pattern("crypto") == r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$"


@pytest.mark.parametrize(
    "patterns", [{"us_equity": "^[A-Z$", "crypto": "^X$"}, {"us_equity": "^[A-Z]+$"}]
)
def test_a_broken_or_missing_pattern_is_refused(patterns: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="symbol"):
        ValidationSettings(symbol_patterns=patterns)
