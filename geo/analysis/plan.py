"""A planner's answer: where to add k stations, or which closed stations to keep open, with
the marginal-gain curve and before/after coverage. Built on a coverage result (arrays), so
the web app, the CLI and notebooks call the same code."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geo.analysis.coverage import CoverageResult
from geo.analysis.scenario import Scenario
from geo.analysis.siting import EXACT_TIME_LIMIT_S, MaximalCovering, gain_curve
from geo.analysis.zones import dense_gap_cells
from geo.errors import QueryError
from geo.io.districts import district_of
from geo.schema import in_china

K_DEFAULT = 10  # sites in a plan when the question names no k
K_MAX = 500
CURVE_TARGET = 0.95


@dataclass(frozen=True)
class Candidates:
    """Candidate sites (WGS-84) and, for existing stations, their ids."""

    lon: np.ndarray
    lat: np.ndarray
    station_id: np.ndarray | None = None
    kind: str = "cells"  # cells | file | extend_hours


@dataclass(frozen=True)
class Plan:
    """Chosen sites, the curve (k = 0 is today), and the solver's report."""

    sites: pd.DataFrame
    curve: list[dict]
    solver: dict


def plan_sites(result: CoverageResult, cand: Candidates, k: int, districts,
               exact: bool = False, min_density: float = 0.0,
               curve_max: int = K_MAX, time_limit: float = EXACT_TIME_LIMIT_S) -> Plan:
    """k sites among the candidates that win the most uncovered workers, plus the greedy
    curve up to the share CURVE_TARGET (or curve_max sites)."""
    if not 1 <= k <= K_MAX:
        raise QueryError("k", f"k must be between 1 and {K_MAX}, got {k}")
    if len(cand.lon) == 0:
        raise QueryError("candidates", "there are no candidate sites to choose from")
    t0 = time.perf_counter()
    targets = dense_gap_cells(result.covered, result.served, result.grid.area_of, min_density)
    mc = MaximalCovering(result.sets_from(cand.lon, cand.lat, targets), result.served[targets])
    nested = mc.greedy(max(k, curve_max), polish=False)  # the curve; its first k seed the plan
    sol = mc.polished(nested.picks.head(k))
    if exact:
        sol = mc.exact(k, time_limit, start=sol)
    total = int(result.served.sum())
    before = int(result.served[result.covered].sum())
    curve = gain_curve(nested.gains, before, total)
    reach = next((i for i, c in enumerate(curve) if (c["share"] or 0) >= CURVE_TARGET), None)
    curve = curve[:max(k, len(curve) - 1 if reach is None else reach) + 1]
    lon, lat = cand.lon[sol.sites], cand.lat[sol.sites]
    codes = district_of(districts, lon, lat)
    names = districts.set_index("code")["name"].to_dict()
    covered = before + np.cumsum(sol.gains)
    sites = pd.DataFrame({
        "rank": np.arange(1, len(sol.sites) + 1), "gain": sol.gains, "covered": covered,
        "share": np.round(covered / total, 4) if total else np.nan,
        "district": [names.get(c, "") if c else "" for c in codes],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6)})
    if cand.station_id is not None:
        sites["station_id"] = cand.station_id[sol.sites]
    solver = {"method": sol.method, "optimal": bool(sol.optimal), "gap": sol.gap,
              "seconds": round(time.perf_counter() - t0, 3),
              "candidates": {"kind": cand.kind, "count": len(cand.lon)},
              "coverable": mc.coverable(), "curve_target": CURVE_TARGET,
              "curve_method": "greedy"}
    return Plan(sites, curve, solver)


def new_sites_instead(result: CoverageResult, k: int, districts, min_density: float = 0.0
                      ) -> dict:
    """What k new sites would win at the same time: shown beside keeping k stations open."""
    alt = plan_sites(result, cell_candidates(result), k, districts, min_density=min_density,
                     curve_max=k).sites
    return {"k": len(alt), "gain": int(alt["gain"].sum()),
            "share": float(alt["share"].iloc[-1]) if len(alt) else None}


def plan_scenario(plan: Plan) -> Scenario:
    """The plan as a what-if: its new sites added, or its stations kept open around the clock."""
    if "station_id" in plan.sites:
        return Scenario(hours={sid: "24/7" for sid in plan.sites["station_id"]})
    return Scenario(add=tuple(map(tuple, plan.sites[["lon", "lat"]].to_numpy())))


def closed_stations(index, ids: np.ndarray, result: CoverageResult) -> Candidates:
    """Stations of the type (with the amenities) that are closed at the result's time."""
    spec = result.spec
    if spec.at is None:
        raise QueryError("at", "keeping stations open needs a time: give at=2026-11-24T21:00")
    usable = index.usable(spec.station_filter)
    anytime = index.usable(replace(spec.station_filter, open_at=None))
    closed = np.flatnonzero(anytime & ~usable)
    return Candidates(index.lon[closed], index.lat[closed], ids[closed], "extend_hours")


def point_candidates(lon, lat) -> Candidates:
    """Candidate sites from a planner's file of points (WGS-84), each checked to be in China."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    outside = np.flatnonzero(~in_china(lon, lat))
    if len(outside):
        i = int(outside[0])
        raise QueryError("candidates", f"candidate {i + 1} ({lon[i]}, {lat[i]}) is not a "
                                       "[lng, lat] point in China")
    return Candidates(lon, lat, None, "file")


def cell_candidates(result: CoverageResult) -> Candidates:
    """Every demand-cell centre as a possible new site."""
    return Candidates(result.grid.lon, result.grid.lat, None, "cells")
