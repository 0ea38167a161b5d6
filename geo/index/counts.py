"""Whole numbers of workers from fractional masses, without losing or inventing any."""

from __future__ import annotations

import numpy as np


def largest_remainder(mass: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers near `mass` that sum to `total` exactly (Hamilton's method)."""
    mass = np.asarray(mass, float)
    if total == 0 or mass.sum() <= 0:
        return np.zeros(len(mass), np.int64)
    scaled = mass * (total / mass.sum())
    base = np.floor(scaled).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(scaled - base), kind="stable")
    base[order[:short]] += 1
    return base
