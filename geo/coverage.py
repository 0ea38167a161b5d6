"""Coverage of worker demand by stations: who is within reach, where the gaps are, by hour.

Every demand cell gets the distance to its nearest usable station in one batched KD-tree
query (no loop over cells; chord plus arc correction, within a millimetre of the geodesic).
A cell's workers in the segments a type serves count as covered when that distance is within
the type's threshold. Gap zones are connected uncovered cells (H3 edge neighbours), dissolved
into polygons and ranked by the workers they hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.atlas import Atlas
from geo.cells import CellGrid
from geo.nearest import StationFilter
from geo.schema import SERVES

DEFAULT_THRESHOLDS_M = {"relay": 1000.0, "health": 3000.0, "fitness": 2000.0}
REFERENCE_MONDAY = date(2026, 11, 23)  # hourly curves are evaluated in this ordinary week
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")


@dataclass(frozen=True)
class CoverageSpec:
    """The planner's question: which type, how far is too far, when, and with what amenities."""

    type: str = "relay"
    threshold_m: float | None = None
    at: datetime | None = None
    amenities: tuple[str, ...] = ()
    mode: str = "straight"  # or "walk" / "bike": along the loaded street network

    @property
    def threshold(self) -> float:
        """The service distance: as given, else the type's default."""
        return float(self.threshold_m if self.threshold_m is not None
                     else DEFAULT_THRESHOLDS_M[self.type])

    @property
    def station_filter(self) -> StationFilter:
        """Usable stations: this type, with the amenities, open at `at` if given."""
        return StationFilter(type=self.type, amenities=self.amenities, open_at=self.at)

    def describe(self) -> dict:
        """The question as JSON: every coverage answer repeats what it answers."""
        return {"type": self.type, "threshold_m": self.threshold,
                "distance_kind": "straight" if self.mode == "straight" else "network",
                "mode": self.mode,
                "at": self.at.isoformat(timespec="minutes") if self.at else None,
                "amenities": list(self.amenities)}


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float | None:
    """The q-quantile of values where each counts `weights` times (workers, not cells)."""
    keep = weights > 0
    if not keep.any():
        return None
    order = np.argsort(values[keep])
    v, w = values[keep][order], weights[keep][order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, q * cum[-1])])


def _finite_or_none(x: float | None) -> float | None:
    """JSON-friendly: no usable station means no distance, not infinity."""
    return round(float(x), 1) if x is not None and np.isfinite(x) else None


@dataclass
class CoverageResult:
    """Distances and coverage per cell, with the planner's summaries derived on demand."""

    spec: CoverageSpec
    grid: CellGrid
    districts: pd.DataFrame
    distance_m: np.ndarray
    station: np.ndarray
    stations_usable: int
    served: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.served = self.grid.served(SERVES[self.spec.type])

    @cached_property
    def covered(self) -> np.ndarray:
        """Cells within the threshold of a usable station."""
        return self.distance_m <= self.spec.threshold

    def summary(self) -> dict:
        """Workers covered and not, the share, and worker-weighted mean / P90 distance."""
        total = int(self.served.sum())
        cov = int(self.served[self.covered].sum())
        reachable = np.isfinite(self.distance_m)
        mean = (float(np.average(self.distance_m[reachable], weights=self.served[reachable]))
                if self.served[reachable].sum() else None)
        p90 = weighted_quantile(self.distance_m, self.served, 0.9)  # inf if beyond reach
        return {**self.spec.describe(),
                "unreachable_workers": int(self.served[~reachable].sum()),
                "segments": list(SERVES[self.spec.type]),
                "stations_usable": self.stations_usable, "cells": len(self.grid),
                "workers": total, "covered": cov, "uncovered": total - cov,
                "share_covered": round(cov / total, 4) if total else None,
                "mean_distance_m": _finite_or_none(mean),
                "p90_distance_m": _finite_or_none(p90),
                "mean_is_over": "reachable workers"}

    def by_district(self) -> pd.DataFrame:
        """The same figures per district, worst share first."""
        frame = pd.DataFrame({"code": self.grid.district, "workers": self.served,
                              "covered": np.where(self.covered, self.served, 0)})
        table = frame.groupby("code", as_index=False)[["workers", "covered"]].sum()
        table["uncovered"] = table["workers"] - table["covered"]
        table["share_covered"] = (table["covered"] / table["workers"].where(
            table["workers"] > 0)).round(4)
        names = self.districts.set_index("code")[["name", "name_en"]]
        table = table.join(names, on="code")
        return table[["code", "name", "name_en", "workers", "covered", "uncovered",
                      "share_covered"]].sort_values("share_covered", kind="stable")

    @cached_property
    def _zones(self) -> tuple[np.ndarray, np.ndarray]:
        """(uncovered cell indices, their zone label), zones numbered by rank from 0."""
        gap = np.flatnonzero(~self.covered & (self.served > 0))
        labels = self.grid.components(gap)
        if gap.size == 0:
            return gap, labels
        workers = np.bincount(labels, weights=self.served[gap])
        rank_of = np.empty_like(workers, dtype=np.int64)
        rank_of[np.argsort(-workers, kind="stable")] = np.arange(len(workers))
        return gap, rank_of[labels]

    def gap_table(self) -> pd.DataFrame:
        """One row per gap zone: rank, workers, area, districts, centroid, nearest station."""
        gap, zone = self._zones
        cols = ["rank", "workers", "cells", "area_km2", "districts", "centroid_lon",
                "centroid_lat", "nearest_station_m", "nearest_station_id"]
        if gap.size == 0:
            return pd.DataFrame(columns=cols)
        g = self.grid
        n = zone.max() + 1
        cells = np.bincount(zone, minlength=n)
        workers = np.bincount(zone, weights=self.served[gap], minlength=n)
        area = np.bincount(zone, weights=g.area_m2[gap], minlength=n) / 1e6
        lon = np.bincount(zone, weights=g.lon[gap], minlength=n) / cells
        lat = np.bincount(zone, weights=g.lat[gap], minlength=n) / cells
        frame = pd.DataFrame({"zone": zone, "d": self.distance_m[gap],
                              "st": self.station[gap], "district": g.district[gap]})
        nearest = frame.sort_values("d", kind="stable").groupby("zone").first()
        names = self.districts.set_index("code")["name"].to_dict()
        dists = frame.groupby("zone")["district"].agg(lambda s: sorted(set(s)))
        return pd.DataFrame({
            "rank": np.arange(1, n + 1), "workers": workers.astype(np.int64), "cells": cells,
            "area_km2": area.round(3),
            "districts": [[names.get(c, c) for c in dists[z]] for z in range(n)],
            "centroid_lon": lon.round(6), "centroid_lat": lat.round(6),
            "nearest_station_m": nearest["d"].reindex(range(n)).round(1)
            .replace([np.inf, -np.inf], np.nan).to_numpy(),  # unreachable: no distance
            "nearest_station_id": nearest["st"].reindex(range(n)).to_numpy()})

    def gaps(self, limit: int | None = None) -> gpd.GeoDataFrame:
        """The top `limit` gap zones with their dissolved polygons (WGS-84)."""
        table = self.gap_table()
        if limit is not None:
            table = table.head(limit)
        gap, zone = self._zones
        geoms = [self.grid.dissolve(gap[zone == r - 1]) for r in table["rank"]]
        return gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4326")


def _distances(atlas: Atlas, grid: CellGrid, spec: CoverageSpec, mask: np.ndarray | None,
               snapped: tuple[np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Metres from every cell centre to its nearest usable station: straight (geodesic to
    < 1 mm) or along the street network (one multi-source Dijkstra, access legs included)."""
    if spec.mode == "straight":
        dist, idx = atlas.index.nearest_distance(grid.lon, grid.lat, spec.type, mask)
    else:
        net = atlas.network(spec.mode)
        usable = _usable_ids(atlas, spec, mask)
        reach = net.reach(atlas.index.lon[usable], atlas.index.lat[usable])
        node, leg = snapped if snapped is not None else net.snap(grid.lon, grid.lat)
        dist, local = net.distances_at(reach, node, leg)
        idx = np.where(local >= 0, usable[np.maximum(local, 0)], -1)
    ids = atlas.stations["id"].to_numpy(object)
    station = np.where(idx >= 0, ids[np.maximum(idx, 0)], None)
    return dist, station


def _usable_ids(atlas: Atlas, spec: CoverageSpec, mask: np.ndarray | None) -> np.ndarray:
    """Row numbers of the stations of the spec's type that pass the mask."""
    of_type = atlas.index.types == spec.type
    return np.flatnonzero(of_type if mask is None else mask & of_type)


def _mask(atlas: Atlas, spec: CoverageSpec) -> np.ndarray | None:
    """Usable-station mask, or None when only the type matters (the shared tree serves)."""
    if not spec.amenities and spec.at is None:
        return None
    return atlas.index.usable(spec.station_filter)


def compute_coverage(atlas: Atlas, spec: CoverageSpec) -> CoverageResult:
    """Coverage for one question over every demand cell at once."""
    if spec.type not in SERVES:
        raise ValueError(f"unknown station type {spec.type!r}")
    grid = atlas.grid
    mask = _mask(atlas, spec)
    dist, station = _distances(atlas, grid, spec, mask)
    usable = len(_usable_ids(atlas, spec, mask))
    return CoverageResult(spec, grid, atlas.districts, dist, station, usable)


def weekday_date(weekday: int) -> date:
    """A concrete date for a weekday (0 = Monday) in the reference week."""
    return REFERENCE_MONDAY + timedelta(days=int(weekday))


def hourly_coverage(atlas: Atlas, spec: CoverageSpec, weekday: int) -> pd.DataFrame:
    """Coverage at each hour (HH:00) of a weekday; hours with the same open set share work."""
    grid = atlas.grid
    served = grid.served(SERVES[spec.type])
    total = int(served.sum())
    day = datetime.combine(weekday_date(weekday), datetime.min.time())
    snapped = None if spec.mode == "straight" else atlas.network(spec.mode).snap(grid.lon,
                                                                                   grid.lat)
    rows, done = [], {}
    for hour in range(24):
        at = day + timedelta(hours=hour)
        mask = atlas.index.usable(replace(spec.station_filter, open_at=at))
        key = mask.tobytes()
        if key not in done:
            dist, _ = _distances(atlas, grid, spec, mask, snapped)
            covered = int(served[dist <= spec.threshold].sum())
            done[key] = covered
        rows.append({"hour": hour, "at": at.isoformat(timespec="minutes"),
                     "stations_open": int(mask.sum()), "covered": done[key],
                     "share_covered": round(done[key] / total, 4) if total else None})
    return pd.DataFrame(rows)


def station_service_areas(atlas: Atlas, spec: CoverageSpec) -> gpd.GeoDataFrame:
    """Every usable station's street catchment within the threshold, all from one pass."""
    net = atlas.network(spec.mode)
    usable = _usable_ids(atlas, spec, _mask(atlas, spec))
    reach = net.reach(atlas.index.lon[usable], atlas.index.lat[usable])
    areas = net.service_areas(reach, spec.threshold, len(usable))
    keep = np.flatnonzero([a is not None for a in areas])
    rows = atlas.stations.iloc[usable[keep]][["id", "name", "type"]].reset_index(drop=True)
    return gpd.GeoDataFrame(rows, geometry=list(areas[keep]), crs="EPSG:4326")
