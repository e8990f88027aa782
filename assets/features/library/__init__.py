"""The feature library: one module per family, numba kernels, and the registry of all features.

Every feature is declared once, as a ``FeatureSpec`` (name, one-line doc, input columns,
lookback in bars) next to the code that computes it; ``registry.py`` collects the families in
the order of ``warehouse.schemas.FEATURE_COLUMNS``.
"""
