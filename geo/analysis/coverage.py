"""Coverage of worker demand by stations: who is within reach, where the gaps are, by hour.

Every demand cell gets the distance to its nearest usable station in one batched KD-tree
query (no loop over cells; chord plus arc correction, within a millimetre of the geodesic).
A cell's workers in the segments a type serves count as covered when that distance is within
the type's threshold. Gap zones are connected uncovered cells (H3 edge neighbours), dissolved
into polygons and ranked by the workers they hold.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.zones import (
    Zones,
    connected_zones,
    dense_gap_cells,
    density_floor,
    site_zones,
    zone_table,
)
from geo.atlas import Atlas
from geo.hours import day_kind
from geo.index.cells import CellGrid
from geo.index.coverage_sets import CoverageSets, straight_sets
from geo.index.nearest import NearestIndex
from geo.index.presence import Presence
from geo.questions import CoverageSpec
from geo.schema import SERVES

REFERENCE_MONDAY = date(2026, 11, 23)  # hourly curves are evaluated in this ordinary week


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
    network: object | None = None  # the StreetNetwork distances were measured on, if any
    presence: Presence | None = None  # who is there at each hour; None: all day, always
    served: np.ndarray = field(init=False)
    _zone_cache: dict = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.served = served_at(self.grid, self.spec, self.presence)

    def for_spec(self, spec: CoverageSpec) -> CoverageResult:
        """This answer for another question with the same usable stations (another hour with
        the same open set): the distances are shared; the workers (and so the zones) are the
        same too when the same workers are present, else counted afresh."""
        same = copy.copy(self)
        same.spec = spec
        if presence_key(spec, self.presence) != presence_key(self.spec, self.presence):
            same.served = served_at(self.grid, spec, self.presence)
            same._zone_cache = {}
        return same

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

    def zone_summary(self, min_density: float | None = None, group: str = "site") -> dict:
        """How much of the uncovered the zones hold: the rest is below the density floor (or,
        along streets, in dense cells no site reaches); the three add up to `uncovered`."""
        floor = density_floor(self.spec.type, min_density)
        dense = dense_gap_cells(self.covered, self.served, self.grid.area_of, floor)
        uncovered = int(self.served[~self.covered].sum())
        in_zones = int(self.served[self.zones(min_density, group).cells].sum())
        below = uncovered - int(self.served[dense].sum())
        return {"uncovered": uncovered, "uncovered_in_zones": in_zones,
                "uncovered_below_floor": below,
                "uncovered_unreached": uncovered - in_zones - below,
                "min_density": floor}

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

    def zones(self, min_density: float | None = None, group: str = "site") -> Zones:
        """Gap zones of worker-dense uncovered cells (cached per density floor and grouping)."""
        key = (density_floor(self.spec.type, min_density), group)
        if key not in self._zone_cache:
            g = self.grid
            cells = dense_gap_cells(self.covered, self.served, g.area_of, key[0])
            if group == "connected":
                z = connected_zones(cells, g.components(cells), self.served, g.lon, g.lat)
            else:
                z = site_zones(cells, self.served, self.sets_from(g.lon, g.lat, cells))
            self._zone_cache[key] = z
        return self._zone_cache[key]

    def sets_from(self, lon: np.ndarray, lat: np.ndarray, targets: np.ndarray
                  ) -> CoverageSets:
        """For each candidate point, the target cells within the threshold: straight, or
        along the street network when this result was measured that way."""
        g = self.grid
        if self.network is None:
            return straight_sets(lon, lat, g.lon[targets], g.lat[targets], self.spec.threshold)
        return self.network.within(lon, lat, g.lon[targets], g.lat[targets],
                                   self.spec.threshold)

    def gap_table(self, min_density: float | None = None, group: str = "site") -> pd.DataFrame:
        """One row per gap zone: rank, workers, cells, area, site, reach, districts, nearest."""
        g = self.grid
        names = self.districts.set_index("code")["name"].to_dict()
        return zone_table(self.zones(min_density, group), self.served, g.area_of, g.lon, g.lat,
                          g.district, names, self.distance_m)

    def gaps(self, limit: int | None = None, min_density: float | None = None,
             group: str = "site") -> gpd.GeoDataFrame:
        """The top `limit` gap zones with their dissolved polygons (WGS-84)."""
        table = self.gap_table(min_density, group)
        if limit is not None:
            table = table.head(limit)
        z = self.zones(min_density, group)
        geoms = [self.grid.dissolve(z.cells[z.label == r - 1]) for r in table["rank"]]
        return gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4326")


def presence_key(spec: CoverageSpec, presence: Presence | None) -> tuple | None:
    """What decides the workers counted: None for all day, else the kind of day and hour."""
    return None if spec.at is None or presence is None else presence.key(spec.at)


def served_at(grid: CellGrid, spec: CoverageSpec, presence: Presence | None) -> np.ndarray:
    """Workers a type serves per cell: all day without a time, else those present then."""
    if presence_key(spec, presence) is None:
        return grid.served(SERVES[spec.type])
    return presence.at(grid, SERVES[spec.type], spec.at)


def cell_distances(index: NearestIndex, ids: np.ndarray, grid: CellGrid, spec: CoverageSpec,
                   mask: np.ndarray | None, network=None,
                   snapped: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Metres from every cell centre to its nearest usable station: straight (geodesic to
    < 1 mm) or along the street network (one multi-source Dijkstra, access legs included)."""
    if network is None:
        dist, idx = index.nearest_distance(grid.lon, grid.lat, spec.type, mask)
    else:
        usable = usable_rows(index, spec.type, mask)
        reach = network.reach(index.lon[usable], index.lat[usable])
        node, leg = snapped if snapped is not None else network.snap(grid.lon, grid.lat)
        dist, local = network.distances_at(reach, node, leg)
        idx = np.where(local >= 0, usable[np.maximum(local, 0)], -1)
    station = np.full(len(idx), None, dtype=object)
    station[idx >= 0] = ids[idx[idx >= 0]]
    return dist, station


def usable_rows(index: NearestIndex, type_: str, mask: np.ndarray | None) -> np.ndarray:
    """Row numbers of the stations of a type that pass the mask."""
    of_type = index.types == type_
    return np.flatnonzero(of_type if mask is None else mask & of_type)


def usable_mask(index: NearestIndex, spec: CoverageSpec) -> np.ndarray | None:
    """Usable-station mask, or None when only the type matters (the shared tree serves)."""
    if not spec.amenities and spec.at is None:
        return None
    return index.usable(spec.station_filter)


def coverage_of(index: NearestIndex, ids: np.ndarray, grid: CellGrid, districts: pd.DataFrame,
                spec: CoverageSpec, network=None, mask: np.ndarray | None = None,
                presence: Presence | None = None) -> CoverageResult:
    """Coverage of every demand cell by the stations in `index` (ids: their ids, same order);
    `mask` overrides which stations are usable (by default: the spec's filter); with
    `presence`, a question with a time counts the workers present then."""
    if spec.type not in SERVES:
        raise ValueError(f"unknown station type {spec.type!r}")
    if mask is None:
        mask = usable_mask(index, spec)
    dist, station = cell_distances(index, ids, grid, spec, mask, network)
    usable = len(usable_rows(index, spec.type, mask))
    return CoverageResult(spec, grid, districts, dist, station, usable, network, presence)


def compute_coverage(atlas: Atlas, spec: CoverageSpec, within_graph: bool = False
                     ) -> CoverageResult:
    """Coverage for one question over the atlas's stations and demand.

    `within_graph`: only the cells the street graph reaches (a graph of one district should
    not report the whole city as uncovered).
    """
    network = None if spec.mode == "straight" else atlas.network(spec.mode)
    grid = atlas.grid
    if within_graph and network is not None:
        grid = grid.subset(graph_extent(network, grid))
    return coverage_of(atlas.index, atlas.stations["id"].to_numpy(object), grid,
                       atlas.districts, spec, network, presence=atlas.presence)


def graph_extent(network, grid: CellGrid) -> np.ndarray:
    """Cells within the street graph's snapping distance of one of its streets."""
    node, _ = network.snap(grid.lon, grid.lat)
    return np.asarray(node) >= 0


def weekday_date(weekday: int) -> date:
    """A concrete date for a weekday (0 = Monday) in the reference week."""
    return REFERENCE_MONDAY + timedelta(days=int(weekday))


@dataclass(frozen=True)
class DayMasks:
    """The usable stations at each hour (HH:00) of a weekday, each distinct set once: the
    hours with the same open set share all the work."""

    at: list[datetime]  # per hour
    of_hour: list[int]  # per hour: which of `masks`
    masks: list[np.ndarray]  # distinct usable-station masks


def day_masks(index: NearestIndex, spec: CoverageSpec, weekday: int) -> DayMasks:
    """Which stations are usable at each hour of the weekday in the reference week."""
    day = datetime.combine(weekday_date(weekday), datetime.min.time())
    at = [day + timedelta(hours=hour) for hour in range(24)]
    seen: dict[bytes, int] = {}
    masks, of_hour = [], []
    for when in at:
        mask = index.usable(replace(spec.station_filter, open_at=when))
        of_hour.append(seen.setdefault(mask.tobytes(), len(masks)))
        if of_hour[-1] == len(masks):
            masks.append(mask)
    return DayMasks(at, of_hour, masks)


def day_cover(atlas: Atlas, spec: CoverageSpec, weekday: int) -> tuple[DayMasks, np.ndarray]:
    """Which cells are covered at each hour (HH:00) of a weekday: a (cells, 24) table, with
    one distance computation per distinct open set."""
    grid = atlas.grid
    network = None if spec.mode == "straight" else atlas.network(spec.mode)
    snapped = None if network is None else network.snap(grid.lon, grid.lat)
    ids = atlas.stations["id"].to_numpy(object)
    day = day_masks(atlas.index, spec, weekday)
    cover = [cell_distances(atlas.index, ids, grid, spec, mask, network, snapped)[0]
             <= spec.threshold for mask in day.masks]
    return day, np.column_stack([cover[j] for j in day.of_hour])


def day_presence(atlas: Atlas, segments: tuple[str, ...], weekday: int) -> np.ndarray:
    """(cells, 24) workers of the segments present at each hour of the weekday."""
    return atlas.presence.day(atlas.grid, segments, day_kind(weekday_date(weekday)))


def hourly_coverage(atlas: Atlas, spec: CoverageSpec, weekday: int) -> pd.DataFrame:
    """Coverage at each hour (HH:00) of a weekday, of the workers present then."""
    return hourly_table(atlas, spec, weekday, *day_cover(atlas, spec, weekday))


def hourly_table(atlas: Atlas, spec: CoverageSpec, weekday: int, day: DayMasks,
                 cover: np.ndarray) -> pd.DataFrame:
    """The 24-hour curve from each hour's covered cells and the workers present then."""
    present = day_presence(atlas, SERVES[spec.type], weekday)
    return curve_rows(day, present.sum(axis=0), np.where(cover, present, 0).sum(axis=0))


def curve_rows(day: DayMasks, there: np.ndarray, covered: np.ndarray) -> pd.DataFrame:
    """The 24-hour curve's table from the workers present and covered at each hour."""
    return pd.DataFrame([
        {"hour": h, "at": when.isoformat(timespec="minutes"),
         "stations_open": int(day.masks[j].sum()), "workers_present": int(there[h]),
         "covered": int(covered[h]),
         "share_covered": round(covered[h] / there[h], 4) if there[h] else None}
        for h, (when, j) in enumerate(zip(day.at, day.of_hour, strict=True))])


def day_coverage(atlas: Atlas, spec: CoverageSpec, weekday: int) -> dict:
    """A whole weekday in worker-hours: present and covered, in total and by segment."""
    return day_totals(atlas, spec, weekday, day_cover(atlas, spec, weekday)[1])


def day_totals(atlas: Atlas, spec: CoverageSpec, weekday: int, cover: np.ndarray) -> dict:
    """Worker-hours present and covered over a day, given each hour's covered cells."""
    rows = {}
    for seg in SERVES[spec.type]:
        present = day_presence(atlas, (seg,), weekday)
        hours, got = int(present.sum()), int(np.where(cover, present, 0).sum())
        rows[seg] = {"worker_hours": hours, "covered_worker_hours": got,
                     "share": round(got / hours, 4) if hours else None}
    hours = sum(r["worker_hours"] for r in rows.values())
    got = sum(r["covered_worker_hours"] for r in rows.values())
    return {"worker_hours": hours, "covered_worker_hours": got,
            "share": round(got / hours, 4) if hours else None, "segments": rows}


def station_service_areas(atlas: Atlas, spec: CoverageSpec) -> gpd.GeoDataFrame:
    """Every usable station's street catchment within the threshold, all from one pass."""
    net = atlas.network(spec.mode)
    usable = usable_rows(atlas.index, spec.type, usable_mask(atlas.index, spec))
    reach = net.reach(atlas.index.lon[usable], atlas.index.lat[usable])
    areas = net.service_areas(reach, spec.threshold, len(usable))
    keep = np.flatnonzero([a is not None for a in areas])
    rows = atlas.stations.iloc[usable[keep]][["id", "name", "type"]].reset_index(drop=True)
    return gpd.GeoDataFrame(rows, geometry=list(areas[keep]), crs="EPSG:4326")
