"""Every feature, declared once and in the order of ``warehouse.schemas.FEATURE_COLUMNS``."""

from __future__ import annotations

from assets.features.library import cross_section, momentum, position, trend, volatility, volume
from assets.features.library.spec import Family, FeatureSpec, Panel, Values, mask_warm_up_nb
from warehouse.schemas import FEATURE_COLUMNS

BAR_FAMILIES: tuple[Family, ...] = (
    momentum.FAMILY,
    trend.FAMILY,
    position.FAMILY,
    volatility.FAMILY,
    volume.FAMILY,
)
BAR_SPECS: tuple[FeatureSpec, ...] = tuple(s for f in BAR_FAMILIES for s in f.specs)
CROSS_SECTION_SPECS = cross_section.specs({s.name: s for s in BAR_SPECS})
FEATURE_SPECS: tuple[FeatureSpec, ...] = BAR_SPECS + CROSS_SECTION_SPECS

FEATURE_DOC: dict[str, str] = {s.name: s.doc for s in FEATURE_SPECS}
FEATURE_LOOKBACK: dict[str, int] = {s.name: s.lookback for s in FEATURE_SPECS}
FEATURE_INPUTS: dict[str, tuple[str, ...]] = {s.name: s.inputs for s in FEATURE_SPECS}
FEATURE_MEMORY: dict[str, int] = {s.name: s.memory for s in FEATURE_SPECS}

_names = tuple(s.name for s in FEATURE_SPECS)
if len(set(_names)) != len(_names) or _names != FEATURE_COLUMNS:
    raise ImportError(
        f"assets/features/library declares features {list(_names)} but warehouse/schemas.py "
        f"FEATURE_COLUMNS is {list(FEATURE_COLUMNS)}: the two must list the same unique names "
        "in the same order; declare a FeatureSpec for each column"
    )


def bar_values(panel: Panel) -> dict[str, Values]:
    """Return every bar feature, in registry order: NaN in its warm-up and where undefined."""
    values: dict[str, Values] = {}
    for family in BAR_FAMILIES:
        got = family.compute(panel)
        declared = [s.name for s in family.specs]
        if sorted(got) != sorted(declared):
            raise RuntimeError(
                f"feature family {family.name} computed {sorted(got)} but declares "
                f"{sorted(declared)}: make compute() return exactly its SPECS"
            )
        values.update((name, got[name]) for name in declared)
    if len({id(v) for v in values.values()}) != len(values):
        raise RuntimeError("two features share one array: return a new array per feature")
    for spec in BAR_SPECS:
        mask_warm_up_nb(values[spec.name], panel.bar, spec.lookback)
    return values
