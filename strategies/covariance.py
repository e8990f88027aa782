"""Covariance of daily returns: Ledoit-Wolf shrinkage toward a scaled identity, and its checks."""

from __future__ import annotations

import numpy as np

# Eigenvalues below -PSD_TOLERANCE * (largest |eigenvalue|) mean the matrix is not PSD; smaller
# negative ones are floating-point noise of a PSD matrix.
PSD_TOLERANCE = 1e-10


def shrunk_covariance(returns: np.ndarray) -> np.ndarray:
    """Return the Ledoit-Wolf shrunk covariance of a T x N array of daily returns.

    The estimate is ``(1 - d) * S + d * m * I``: ``S`` is the sample covariance (column means
    removed, divided by T as in the paper), ``m = trace(S) / N`` and ``d`` in [0, 1] is the
    shrinkage intensity of Ledoit & Wolf, "A well-conditioned estimator for large-dimensional
    covariance matrices", J. Multivariate Analysis 88 (2004) 365-411 (see
    ``shrinkage_intensity``). It equals ``sklearn.covariance.LedoitWolf().fit(x).covariance_``
    and is positive definite whenever some column varies, even with T < N.

    NaN policy: a row (day) with any NaN is dropped whole, so every entry is estimated on the
    same days and the result stays PSD (pairwise estimates need not be). Nothing is zero-filled.
    Infinite values, fewer than 2 complete rows or a non-2-D array raise ValueError.
    """
    x = _complete_rows(returns)
    s = x.T @ x / x.shape[0]
    n = s.shape[0]
    d = _intensity(x, s)
    return (1.0 - d) * s + d * (np.trace(s) / n) * np.eye(n)


def shrinkage_intensity(returns: np.ndarray) -> float:
    """Return the Ledoit-Wolf (2004) intensity ``d = min(b2, d2) / d2`` for ``returns``.

    With demeaned rows ``x_k`` (k = 1..T), ``S`` and ``m`` as in ``shrunk_covariance`` and the
    paper's norm ``||A||^2 = trace(A A') / N``: ``d2 = ||S - m I||^2`` is how far ``S`` is from
    the target and ``b2 = (1 / T^2) * sum_k ||x_k x_k' - S||^2`` estimates the error of ``S``.
    A sample covariance already equal to ``m I`` (``d2 = 0``) needs no shrinkage: 0. The same
    row policy as ``shrunk_covariance`` applies.
    """
    x = _complete_rows(returns)
    return _intensity(x, x.T @ x / x.shape[0])


def _intensity(x: np.ndarray, s: np.ndarray) -> float:
    t, n = x.shape
    m = np.trace(s) / n
    d2 = float(np.sum((s - m * np.eye(n)) ** 2)) / n
    if d2 == 0.0:
        return 0.0
    # sum_k ||x_k x_k' - S||_F^2 = sum_k (x_k' x_k)^2 - T ||S||_F^2, without T outer products.
    b2_bar = (float(np.sum(np.sum(x**2, axis=1) ** 2)) - t * float(np.sum(s**2))) / (t * t * n)
    return min(max(b2_bar, 0.0), d2) / d2


def _complete_rows(returns: np.ndarray) -> np.ndarray:
    """Return ``returns`` without its rows holding a NaN, column means removed."""
    x = np.asarray(returns, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"returns must be a T x N array with N >= 1, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("returns hold infinite values; fix or drop those days before estimating")
    x = x[~np.isnan(x).any(axis=1)]
    if x.shape[0] < 2:
        raise ValueError(
            f"returns have {x.shape[0]} complete row(s) (rows with a NaN are dropped); "
            "need at least 2: give a longer window or drop the mostly-missing columns"
        )
    return x - x.mean(axis=0)


def validate_covariance(cov: np.ndarray, *, size: int) -> np.ndarray:
    """Return ``cov`` as a float array after checking it is a finite, symmetric PSD size x size."""
    c = np.asarray(cov, dtype=np.float64)
    if c.shape != (size, size):
        raise ValueError(f"cov must be {size} x {size} to match the weights, got shape {c.shape}")
    if not np.isfinite(c).all():
        raise ValueError("cov holds NaN or infinite entries; estimate it with shrunk_covariance")
    scale = float(np.abs(c).max(initial=0.0))
    if not np.allclose(c, c.T, rtol=1e-9, atol=1e-12 * scale):
        raise ValueError("cov is not symmetric; pass a covariance matrix, e.g. shrunk_covariance")
    eig = np.linalg.eigvalsh(c)
    if eig.size and eig[0] < -PSD_TOLERANCE * float(np.abs(eig).max()):
        raise ValueError(
            f"cov is not positive semi-definite (smallest eigenvalue {eig[0]:.3g}); "
            "estimate it from complete rows, e.g. with shrunk_covariance"
        )
    return c
