"""Station load: two-step floating catchment area (2SFCA) and its enhanced form (E2SFCA).

Step 1: each station's supply ratio R_j = seats_j / sum_i W(d_ij) D_i over the cells i in its
catchment (workers D_i, weight W). Step 2: each cell's accessibility A_i = sum_j W(d_ij) R_j
over the stations within reach. Plain 2SFCA weighs everyone in reach 1; E2SFCA decays with a
Gaussian W(d) = exp(-d^2 / (2 sigma^2)), sigma = threshold / 2 (so W = 0.14 at the threshold),
the form the PySAL `access` package calls `weights.gaussian`. Catchments are sparse coverage
sets, so this scales like coverage does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from geo.errors import QueryError
from geo.index.coverage_sets import CoverageSets, straight_sets

DECAYS = ("none", "gaussian")
# Workers in reach per seat above which a station counts as overloaded. Relay: a seat serves
# about 16 rests a day (30 min over 8 h); if one outdoor worker in 30 within reach stops by on
# a given day, 16 x 30 = 480, so 500. Health: ~10 consultations a seat a day over 250 days and
# half a visit per worker a year: 5,000. Fitness: ~12 sessions a spot a day, 1 office worker
# in 100 a day: 1,200.
DEFAULT_MAX_PER_SEAT = {"relay": 500.0, "health": 5000.0, "fitness": 1200.0}
MAX_PER_SEAT_RANGE = (1.0, 1e7)  # what a planner may ask for instead


@dataclass(frozen=True)
class Access:
    """Per station: weighted workers in reach and seats per worker; per cell: the score."""

    workers_in_reach: np.ndarray
    ratio: np.ndarray  # seats per weighted worker (NaN: no capacity or nobody in reach)
    cell_access: np.ndarray


def decay_weights(distance_m: np.ndarray, threshold_m: float, decay: str) -> np.ndarray:
    """W(d): 1 within the threshold (2SFCA), or a Gaussian with sigma = threshold / 2."""
    if decay == "none":
        return np.ones_like(distance_m, dtype=float)
    if decay == "gaussian":
        sigma = threshold_m / 2.0
        return np.exp(-distance_m**2 / (2.0 * sigma**2))
    raise QueryError("decay", f"unknown decay {decay!r}: use {', '.join(DECAYS)}")


def two_step_fca(catchments: CoverageSets, seats: np.ndarray, workers: np.ndarray,
                 threshold_m: float, decay: str = "none") -> Access:
    """2SFCA / E2SFCA from station -> cell catchments (with distances); NaN seats supply 0."""
    w = decay_weights(catchments.distance_m, threshold_m, decay)
    m = sparse.csr_matrix((w, catchments.indices, catchments.indptr),
                          shape=(catchments.n_sources, catchments.n_targets))
    reach = m @ np.asarray(workers, float)
    seats = np.asarray(seats, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reach > 0, seats / reach, np.nan)
    cell = m.T @ np.nan_to_num(ratio, nan=0.0)
    return Access(reach, ratio, np.asarray(cell))


def overloaded(workers_in_reach: np.ndarray, seats: np.ndarray, max_per_seat: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Workers per seat (NaN without capacity) and whether it is above the limit."""
    seats = np.asarray(seats, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_seat = np.where(seats > 0, workers_in_reach / seats, np.nan)
    return per_seat, np.nan_to_num(per_seat, nan=0.0) > max_per_seat


def station_load(stations: pd.DataFrame, cell_lon: np.ndarray, cell_lat: np.ndarray,
                 workers: np.ndarray, threshold_m: float, decay: str = "none",
                 max_per_seat: float = DEFAULT_MAX_PER_SEAT["relay"]
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """Per station (id, name, district, lon, lat, capacity): workers in reach, per seat, supply
    ratio and overloaded, busiest per seat first; and each cell's accessibility score."""
    seats = stations["capacity"].astype("Float64").to_numpy(float, na_value=np.nan)
    catch = straight_sets(stations["lon"].to_numpy(float), stations["lat"].to_numpy(float),
                          cell_lon, cell_lat, threshold_m)
    acc = two_step_fca(catch, seats, workers, threshold_m, decay)
    per_seat, over = overloaded(acc.workers_in_reach, seats, max_per_seat)
    table = pd.DataFrame({"id": stations["id"].to_numpy(), "name": stations["name"].to_numpy(),
                          "district": stations["district"].to_numpy(),
                          "lon": stations["lon"].round(6).to_numpy(),
                          "lat": stations["lat"].round(6).to_numpy(), "capacity": seats,
                          "workers_in_reach": np.round(acc.workers_in_reach, 1),
                          "workers_per_seat": np.round(per_seat, 1),
                          "supply_ratio": acc.ratio, "overloaded": over})
    table = table.sort_values("workers_per_seat", ascending=False, kind="stable",
                              na_position="last").reset_index(drop=True)
    return table, acc.cell_access


def load_summary(table: pd.DataFrame, max_per_seat: float, decay: str) -> dict:
    """The headline figures of a station-load table."""
    per_seat = table["workers_per_seat"].dropna()
    return {"stations": len(table), "overloaded": int(table["overloaded"].sum()),
            "max_per_seat": max_per_seat, "decay": decay,
            "median_workers_per_seat": round(float(per_seat.median()), 1)
            if len(per_seat) else None,
            "without_capacity": int(table["capacity"].isna().sum())}
