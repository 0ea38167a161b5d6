"""Gap zones a planner can act on: the uncovered demand one new station would serve.

Station-sized zones (the default) are peeled off greedily: the site that would cover the most
uncovered worker-dense cells, with those cells, is zone 1; they are removed and the next best
site forms zone 2, until every such cell belongs to a zone. Every cell of a zone is within the
service distance of its site, zones are disjoint, and zone 1 is the best place for one station.
Connected components of the same cells remain as an overview (`group="connected"`).

Functions take arrays (cell centres, weights, areas, coverage sets), never the atlas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.analysis.siting import MaximalCovering
from geo.index.coverage_sets import CoverageSets
from geo.index.nearest import chord_to_arc, ecef

GROUPS = ("site", "connected")
# Workers of the type's segments per km2 below which uncovered cells form no zone (they still
# count in every coverage figure). Chosen from the sample data: the 25th percentile of the
# density inside the catchments of existing stations (relay 185, health 880, fitness 1,289
# per km2), rounded: a gap is worth a zone when it is at least as dense as the places where
# a quarter of today's stations already stand.
DEFAULT_MIN_DENSITY = {"relay": 200.0, "health": 900.0, "fitness": 1300.0}
TABLE_COLUMNS = ["rank", "workers", "cells", "area_km2", "site", "max_distance_m",
                 "districts", "nearest_station_m"]


@dataclass(frozen=True)
class Zones:
    """Zone labels for the gap cells, and each zone's site (a cell index), by rank."""

    cells: np.ndarray  # indices of the gap cells that form zones
    label: np.ndarray  # zone (0 = rank 1) of each of those cells
    site: np.ndarray  # per zone: index of the cell whose centre is the suggested site
    site_distance_m: np.ndarray  # per gap cell: metres from its zone's site


def density_floor(type_: str, min_density: float | None) -> float:
    """The density floor asked for, or the type's default."""
    return float(DEFAULT_MIN_DENSITY[type_] if min_density is None else min_density)


def dense_gap_cells(covered: np.ndarray, served: np.ndarray,
                    area_of: Callable[[np.ndarray], np.ndarray], min_density: float
                    ) -> np.ndarray:
    """Uncovered cells with workers at or above the density floor (workers per km2);
    `area_of(idx)` gives cell areas in m², asked only for uncovered cells with workers."""
    cand = np.flatnonzero(~covered & (served > 0))
    density = served[cand] / (area_of(cand) / 1e6)
    return cand[density >= min_density]


def site_zones(cells: np.ndarray, served: np.ndarray, sets: CoverageSets) -> Zones:
    """Greedy peeling: each zone is the best remaining site and the gap cells it reaches.

    `sets` gives, for every candidate cell, the gap cells within the threshold (a straight or
    street search); every gap cell is a candidate for itself, so all are zoned, except, along
    streets, cells too far from any street to be reached at all.
    """
    sol = MaximalCovering(sets, served[cells]).greedy(None, polish=False)
    zoned = sol.assign >= 0  # along streets, cells off the network reach no site
    return Zones(cells[zoned], sol.assign[zoned], sol.sites, sol.picks.distance_m[zoned])


def connected_zones(cells: np.ndarray, labels: np.ndarray, served: np.ndarray,
                    lon: np.ndarray, lat: np.ndarray) -> Zones:
    """Connected components ranked by workers; the site is the cell nearest the zone's
    worker-weighted centre."""
    if len(cells) == 0:
        return Zones(cells, labels, np.zeros(0, np.int64), np.zeros(0))
    workers = np.bincount(labels, weights=served[cells])
    rank_of = np.empty(len(workers), np.int64)
    rank_of[np.argsort(-workers, kind="stable")] = np.arange(len(workers))
    label = rank_of[labels]
    xyz = ecef(lon[cells], lat[cells])
    w = served[cells].astype(float)[:, None]
    n = len(workers)
    centre = np.vstack([np.bincount(label, weights=(xyz * w)[:, d], minlength=n)
                        for d in range(3)]).T / np.bincount(label, weights=w[:, 0])[:, None]
    off = np.linalg.norm(xyz - centre[label], axis=1)
    first = pd.Series(off).groupby(label).idxmin().to_numpy()
    site = cells[first]
    chord = np.linalg.norm(xyz - xyz[first][label], axis=1)
    return Zones(cells, label, site, chord_to_arc(chord, lat[cells]))


def zone_table(z: Zones, served: np.ndarray, area_of: Callable[[np.ndarray], np.ndarray],
               lon: np.ndarray, lat: np.ndarray, district: np.ndarray, names: dict[str, str],
               distance_m: np.ndarray) -> pd.DataFrame:
    """One row per zone with the fields the API promises (see TABLE_COLUMNS)."""
    n = len(z.site)
    if n == 0:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    w = served[z.cells]
    frame = pd.DataFrame({"zone": z.label, "district": district[z.cells], "w": w})
    by = frame.groupby(["zone", "district"], sort=False)["w"].sum().reset_index()
    by = by.sort_values(["zone", "w", "district"], ascending=[True, False, True],
                        kind="stable")
    districts = by.groupby("zone")["district"].agg(list).reindex(range(n))
    near = distance_m[z.site]
    return pd.DataFrame({
        "rank": np.arange(1, n + 1),
        "workers": np.bincount(z.label, weights=w, minlength=n).astype(np.int64),
        "cells": np.bincount(z.label, minlength=n),
        "area_km2": (np.bincount(z.label, weights=area_of(z.cells), minlength=n) / 1e6)
        .round(3),
        "site": [[round(float(a), 6), round(float(b), 6)]
                 for a, b in zip(lon[z.site], lat[z.site], strict=True)],
        "max_distance_m": pd.Series(z.site_distance_m).groupby(z.label).max()
        .reindex(range(n)).round(1).to_numpy(),
        "districts": [[names.get(c, c) for c in d] for d in districts],
        "nearest_station_m": np.where(np.isfinite(near), np.round(near, 1), np.nan)})
