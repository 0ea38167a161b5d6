"""Place a demand file's counts into the dataset's H3 cells, whole numbers summing to the file.

Points and H3 rows fall into their cell; polygons spread by the area they share with each cell
(area-weighted interpolation, as PySAL tobler does) or by the live demand inside them
(dasymetric); a raster's pixels go by their centres when pixels are at least five times finer
than a cell, else by the exact fraction of each pixel a cell covers (exactextract); a district
table spreads by the live demand of the segment in the district, or by area where there is none.
Mass outside the dataset's cells is kept apart and reported, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo.coords import METRES_PER_DEGREE
from geo.errors import DemandFileError, TableError
from geo.index.cells import (
    cell_areas,
    cell_centres,
    cell_index,
    cell_polygons,
    cell_strings,
    parse_cells,
    points_to_cells,
)
from geo.index.counts import largest_remainder
from geo.io.demand_files import DemandSource, RasterGrid
from geo.io.demand_profiles import HOUR_COLUMNS, hourly_shares
from geo.io.districts import match_district

EQUAL_AREA = "EPSG:6933"  # areas for the shares: equal-area, so ratios are true ratios
FINER = 5  # pixel centres when a cell holds at least this many pixels (by area)
WEIGHTS = ("area", "live")  # --weight-by: polygons spread by area, or by live demand
MODES = ("replace", "add")  # --mode: the segment becomes the file's counts, or gains them


@dataclass
class Placement:
    """Mass per dataset cell for each segment it sets, and what fell outside the cells."""

    mass: dict[str, np.ndarray]  # segment -> float mass per dataset cell
    outside: float
    total: float
    method: str
    outside_rows: list = field(default_factory=list)  # the clerk's rows (or pixels) outside

    def whole(self) -> tuple[dict[str, np.ndarray], int]:
        """Whole counts per cell and the whole count outside, summing to the file's total."""
        segs = list(self.mass)
        flat = np.concatenate([self.mass[s] for s in segs] + [[self.outside]])
        counts = largest_remainder(flat, round(self.total))  # whole masses stay as they are
        n = len(self.mass[segs[0]])
        return {s: counts[k * n:(k + 1) * n] for k, s in enumerate(segs)}, int(counts[-1])


def _binned(ids: np.ndarray, cells: np.ndarray, values: np.ndarray, rows: list
            ) -> tuple[np.ndarray, float, list]:
    """Sum values into the dataset's cells; what lands elsewhere is outside, with its rows."""
    pos = cell_index(ids, cells)
    inside = pos >= 0
    mass = np.bincount(pos[inside], weights=values[inside], minlength=len(ids))
    out = np.flatnonzero(~inside & (values > 0))
    out_rows = rows.take(out) if isinstance(rows, PixelNames) else \
        [rows[i] for i in out] if rows else []
    return mass, float(values[~inside].sum()), out_rows


def cells_near(ids: np.ndarray, bounds) -> np.ndarray:
    """Cells whose centre lies within a cell's reach of a lon/lat box: the only ones whose
    hexagons need building (a res-9 hexagon's corners are < 0.003 degrees from its centre)."""
    lon, lat = cell_centres(ids)
    w, s, e, n = np.asarray(bounds, float) + np.array([-1, -1, 1, 1]) * 0.005
    return np.flatnonzero((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))


def _projected(geoms: np.ndarray) -> np.ndarray:
    """WGS-84 geometries in the equal-area CRS."""
    return np.asarray(gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(EQUAL_AREA).array)


def spread_polygons(ids: np.ndarray, geoms: np.ndarray, values: np.ndarray,
                    live: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mass per cell and the mass of each polygon outside every cell.

    By area, a polygon gives each cell value x (shared area / polygon area); with `live`, the
    part of it on the cells goes in proportion to live x (shared area / cell area) instead,
    by area where the polygon holds no live demand.
    """
    near = cells_near(ids, shapely.total_bounds(geoms))
    hexes = cell_polygons(ids[near])
    ip, ic_near = shapely.STRtree(hexes).query(geoms, predicate="intersects")
    ic = near[ic_near]
    used = np.unique(ic_near)
    poly_ea, used_ea = _projected(geoms), _projected(hexes[used])
    lookup = np.full(len(hexes), -1)
    lookup[used] = np.arange(len(used))
    hex_ea = used_ea[lookup[ic_near]]  # the projected hexagon of each pair
    shared = shapely.area(shapely.intersection(poly_ea[ip], hex_ea))
    poly_area = shapely.area(poly_ea)
    share = shared / poly_area[ip]
    inside = np.bincount(ip, weights=share, minlength=len(geoms))
    weight = share.copy()
    if live is not None:
        dens = live[ic] * shared / shapely.area(hex_ea)
        total = np.bincount(ip, weights=dens, minlength=len(geoms))
        use = total[ip] > 0
        weight[use] = inside[ip][use] * dens[use] / total[ip][use]
    mass = np.bincount(ic, weights=values[ip] * weight, minlength=len(ids))
    return mass, values * np.clip(1.0 - inside, 0.0, 1.0)


def spread_districts(codes: np.ndarray, area: np.ndarray, live: np.ndarray,
                     district_codes: list[str], values: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Whole workers per cell from district totals (each row apportioned on its own, so every
    district sums back to its row): by live demand in the district, by area without."""
    mass = np.zeros(len(codes))
    outside = np.zeros(len(values))
    for k, (code, value) in enumerate(zip(district_codes, values, strict=True)):
        cells = codes == code
        if not cells.any():
            outside[k] = value
            continue
        w = live[cells] if live[cells].sum() > 0 else area[cells]
        mass[cells] += largest_remainder(w, round(value))
    return mass, outside


def district_codes_of(source: DemandSource, districts: gpd.GeoDataFrame) -> list[str]:
    """Each row's district code from a code, a Chinese or an English name; unknown is an error."""
    codes, problems = [], []
    for text, row in zip(source.districts, source.rows, strict=True):
        hit = match_district(districts, text)
        if len(hit) != 1:
            problems.append({"row": row, "column": "district", "value": text,
                             "reason": f"{text!r} is not a district of this dataset"})
        codes.append(next(iter(hit), ""))
    if problems:
        raise DemandFileError(source.name, problems)
    return codes


def _pixel_area_m2(grid: RasterGrid) -> float:
    """The area of one pixel near the raster's middle."""
    t = grid.transform
    crs = CRS.from_user_input(grid.crs)
    if not crs.is_geographic:
        return abs(t.a * t.e)
    lat = t.f + t.e * grid.values.shape[0] / 2
    return abs(t.a * t.e) * METRES_PER_DEGREE ** 2 * np.cos(np.radians(lat))


@dataclass(frozen=True)
class PixelNames:
    """The pixels of a raster as the clerk finds them in a GIS (band, row, column, from 1),
    named only when asked: a raster has hundreds of thousands."""

    band: int
    row: np.ndarray
    col: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return f"band {self.band} pixel (row {self.row[i] + 1}, column {self.col[i] + 1})"

    def take(self, idx: np.ndarray) -> PixelNames:
        """Some of the pixels, still unnamed."""
        return PixelNames(self.band, self.row[idx], self.col[idx])


def spread_raster(ids: np.ndarray, grid: RasterGrid) -> tuple[np.ndarray, float, str, list]:
    """Mass per cell, mass outside, the method (pixel centres or exact fractions) and, by
    centres, the pixels outside (by fractions a pixel may straddle the edge: only the total)."""
    total = float(np.nansum(grid.values))
    if _pixel_area_m2(grid) * FINER <= float(np.mean(cell_areas(ids[:1000]))):
        r, c = np.nonzero(np.nan_to_num(grid.values) > 0)
        t = grid.transform
        x = t.c + t.a * (c + 0.5) + t.b * (r + 0.5)  # pixel centres through the affine
        y = t.f + t.d * (c + 0.5) + t.e * (r + 0.5)
        lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(
            np.asarray(x, float), np.asarray(y, float))
        mass, out, out_rows = _binned(ids, points_to_cells(np.asarray(lon), np.asarray(lat)),
                                      grid.values[r, c], PixelNames(grid.band, r, c))
        return mass, out, "pixel centres", out_rows
    return (*_exact_fractions(ids, grid, total), "exact fractions", [])


def _exact_fractions(ids: np.ndarray, grid: RasterGrid, total: float) -> tuple[np.ndarray, float]:
    """Sum of value x covered fraction of every pixel under each cell (exactextract)."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    t, (h, w) = grid.transform, grid.values.shape
    if t.b or t.d:
        raise TableError("a rotated raster coarser than a cell cannot be read: warp it "
                         "north-up first (gdalwarp)")
    xmin, ymax = t.c, t.f
    xmax, ymin = t.c + t.a * w, t.f + t.e * h
    box = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform_bounds(
        xmin, ymin, xmax, ymax, densify_pts=21)
    near = cells_near(ids, box)
    hexes = gpd.GeoDataFrame({"i": near}, geometry=cell_polygons(ids[near]),
                             crs="EPSG:4326").to_crs(grid.crs)
    hexes = hexes[hexes.intersects(shapely.box(xmin, ymin, xmax, ymax))]
    mass = np.zeros(len(ids))
    if len(hexes):
        values = np.where(np.isnan(grid.values), -1.0, grid.values)
        raster = NumPyRasterSource(values, xmin, ymin, xmax, ymax, nodata=-1.0,
                                   srs_wkt=CRS.from_user_input(grid.crs).to_wkt())
        sums = exact_extract(raster, hexes, "sum", include_cols=["i"], output="pandas")
        mass[sums["i"].to_numpy()] = sums["sum"].fillna(0).to_numpy(float)
    return mass, max(total - float(mass.sum()), 0.0)


def place(source: DemandSource, ids: np.ndarray, codes: np.ndarray, live: np.ndarray,
          districts: gpd.GeoDataFrame, segment: str, weight_by: str = "area") -> Placement:
    """The file's counts as mass per dataset cell, for the segment (or the file's segments)."""
    total, rows = source.total, source.rows
    if source.kind == "points":
        cells = points_to_cells(source.lon, source.lat)
        mass, out, out_rows = _binned(ids, cells, source.counts, rows)
        return Placement({segment: mass}, out, total, "sum into cells", out_rows)
    if source.kind == "h3":
        segs = source.segments or {segment: source.counts}
        binned = {s: _binned(ids, source.cells, v, rows) for s, v in segs.items()}
        out_rows = sorted({r for _, _, rs in binned.values() for r in rs})
        return Placement({s: b[0] for s, b in binned.items()},
                         sum(b[1] for b in binned.values()), total, "cells as given", out_rows)
    if source.kind == "polygons":
        mass, out = spread_polygons(ids, source.geoms, source.counts,
                                    live if weight_by == "live" else None)
        out_rows = [rows[i] for i in np.flatnonzero(out > 1e-9 * np.maximum(source.counts, 1))]
        method = "by live demand (dasymetric)" if weight_by == "live" else "by area"
        return Placement({segment: mass}, float(out.sum()), total, method, out_rows)
    if source.kind == "raster":
        mass, out, method, out_rows = spread_raster(ids, source.grid)
        return Placement({segment: mass}, out, total, method, out_rows)
    wanted = district_codes_of(source, districts)
    mass, out = spread_districts(codes, cell_areas(ids), live, wanted, source.counts)
    out_rows = [rows[i] for i in np.flatnonzero(out > 0)]
    return Placement({segment: mass}, float(out.sum()), float(mass.sum() + out.sum()),
                     "by live demand in the district, by area where none", out_rows)


def apply(demand: pd.DataFrame, whole: dict[str, np.ndarray], mode: str) -> pd.DataFrame:
    """The dataset's demand with the placed segments replaced (or added to)."""
    out = demand.copy()
    for seg, counts in whole.items():
        out[seg] = counts if mode == "replace" else out[seg].to_numpy(np.int64) + counts
    return out


def by_district(before: pd.DataFrame, after: pd.DataFrame, segments: list[str],
                districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Workers per district before and after, for the segments that changed."""
    b = before.groupby("district_code")[segments].sum().sum(axis=1)
    a = after.groupby("district_code")[segments].sum().sum(axis=1)
    table = pd.DataFrame({"before": b, "after": a}).fillna(0).astype(np.int64)
    names = districts.set_index("code")["name"]
    table.insert(0, "name", names.reindex(table.index).fillna(""))
    table.index.name = "code"
    return table.reset_index()


@dataclass
class DemandImport:
    """What an import would do: the new demand table, the report and the manifest entry."""

    demand: pd.DataFrame
    report: dict
    meta: dict
    cell_hours: pd.DataFrame | None = None  # the new own-profile cells; None: unchanged


def import_demand(source: DemandSource, demand: pd.DataFrame, districts: gpd.GeoDataFrame,
                  segment: str, mode: str = "replace", weight_by: str = "area",
                  sources: dict[str, str] | None = None,
                  cell_hours: pd.DataFrame | None = None) -> DemandImport:
    """Place a read demand file into a dataset's demand table (nothing is written here)."""
    ids = parse_cells(demand["h3"].to_numpy())
    codes = demand["district_code"].to_numpy(str)
    live = demand[segment].to_numpy(float)
    placed = place(source, ids, codes, live, districts, segment, weight_by)
    whole, outside = placed.whole()
    after = apply(demand, whole, mode)
    segs = list(whole)
    total_read = round(placed.total)
    report = {"kind": source.kind, "method": placed.method, "segments": segs, "mode": mode,
              "total_read": total_read, "total_placed": int(sum(w.sum() for w in whole.values())),
              "outside": outside, "outside_rows": placed.outside_rows[:200],
              "outside_row_count": len(placed.outside_rows),
              "by_district": by_district(demand, after, segs, districts).to_dict("records")}
    meta = {"source": source.name, "sha256": source.sha256, "crs": source.crs,
            "segments": segs, "kind": source.kind, "method": placed.method, "mode": mode,
            "weight_by": weight_by if source.kind == "polygons" else None,
            "total_read": total_read, "total_placed": report["total_placed"],
            "outside": outside,
            "sources": {**(sources or {}), **{s: source.name for s in segs}},
            "hourly_cells": 0}
    hours = own_hours(source, ids, segment, mode, cell_hours)
    if hours is not None:
        meta["hourly_cells"] = report["hourly_cells"] = int((hours["segment"] == segment).sum())
    return DemandImport(after, report, meta, hours)


def own_hours(source: DemandSource, ids: np.ndarray, segment: str, mode: str,
              live: pd.DataFrame | None) -> pd.DataFrame | None:
    """The own-profile cells after the import: a file with h00…h23 gives its cells theirs
    (rows of one cell summed first); `replace` drops the segment's old ones, `add` only
    those of the cells the file has. None when nothing changes."""
    live = live if live is not None else pd.DataFrame(columns=["h3", "segment",
                                                               *HOUR_COLUMNS])
    if source.hours is None and mode == "add":
        return None
    keep = live["segment"] != segment
    if source.hours is None:
        return live[keep].reset_index(drop=True)
    pos = cell_index(ids, source.cells)
    inside = pos >= 0
    n = len(ids)
    sums = np.column_stack([np.bincount(pos[inside], weights=source.hours[inside, h],
                                        minlength=n) for h in range(24)])
    workers = np.bincount(pos[inside], weights=source.counts[inside], minlength=n)
    rows = np.unique(pos[inside])
    mine = pd.DataFrame(np.round(hourly_shares(sums[rows], workers[rows]), 4),
                        columns=list(HOUR_COLUMNS))
    mine.insert(0, "segment", segment)
    mine.insert(0, "h3", cell_strings(ids[rows]))
    if mode == "add":
        keep &= ~live["h3"].isin(set(mine["h3"]))
    return pd.concat([live[keep], mine], ignore_index=True)
