"""Read a union's demand file as it comes: points, an H3 table, polygons, a raster or a table
of districts, each with its counts checked row by row.

What is read here is only what the file says (WGS-84 positions, cells, shapes, district keys
and counts); placing it into the dataset's cells is `geo.analysis.demand_spread`. Every bad row
is named as the clerk sees it (Excel row, or band and pixel window), and nothing is returned
when any row is bad.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coords import check_crs, geometries_to_wgs84, to_wgs84
from geo.errors import DemandFileError, TableError
from geo.io.clerk_import import RowProblems, column_map, table_coordinates
from geo.io.clerk_table import GEO, Headers, RawTable, read_table
from geo.io.clerk_words import demand_field
from geo.io.datasets import file_digest
from geo.io.demand_profiles import HOUR_COLUMNS
from geo.schema import SEGMENTS

RASTER = (".tif", ".tiff")
KINDS = ("points", "h3", "polygons", "raster", "districts")
MAX_PROBLEMS = 200  # a report lists at most this many bad rows


DEMAND_HEADERS = Headers(demand_field, "经度, 纬度, 人数 / h3, count / 区, 人数 (lng, lat, "
                                        "count; h3, outdoor; district, count)")


@dataclass
class RasterGrid:
    """One band of a raster as read: values (NaN where no data), its transform and CRS."""

    values: np.ndarray
    transform: object  # affine.Affine
    crs: str  # the raster's CRS as WKT or EPSG string
    band: int = 1


@dataclass
class DemandSource:
    """A demand file as read: its kind, its counts and where they are (WGS-84)."""

    kind: str
    name: str
    sha256: str
    crs: str
    counts: np.ndarray  # float, one per row / feature / pixel (raster: unused, see grid)
    lon: np.ndarray | None = None  # points
    lat: np.ndarray | None = None
    cells: np.ndarray | None = None  # h3 tables: uint64 ids
    segments: dict[str, np.ndarray] = field(default_factory=dict)  # h3: a column per segment
    geoms: np.ndarray | None = None  # polygons (WGS-84)
    districts: list[str] = field(default_factory=list)  # district tables: the text per row
    rows: list[int] = field(default_factory=list)  # the clerk's row number per count
    grid: RasterGrid | None = None
    hours: np.ndarray | None = None  # h3 tables with h00…h23: counts by hour, (rows, 24)

    @property
    def total(self) -> float:
        """The file's total (all segments for a table with a column per segment)."""
        if self.grid is not None:
            return float(np.nansum(self.grid.values))
        if self.segments:
            return float(sum(v.sum() for v in self.segments.values()))
        return float(self.counts.sum())


def read_demand(path: str | Path, *, crs: str = "wgs84", count: str | None = None,
                sheet: str | None = None, mapping: dict[str, str] | None = None
                ) -> DemandSource:
    """Any supported demand file, its kind read from the file itself."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: file not found")
    crs = check_crs(crs)
    suffix = path.suffix.lower()
    if suffix in RASTER:
        return read_raster(path)
    if suffix in GEO:
        return read_features(path, crs, count)
    return read_demand_table(read_table(path, sheet, DEMAND_HEADERS), path, crs, count,
                             mapping or {})


def _counts(text: pd.Series, rows: list[int], column: str, problems: list[dict],
            sheets: list[str] | None = None) -> np.ndarray:
    """Counts from text cells; a blank, negative or non-numeric one is a problem on its row."""
    clean = text.astype(str).str.strip().str.replace(",", "", regex=False)
    values = pd.to_numeric(clean, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    for i in np.flatnonzero(bad)[:MAX_PROBLEMS]:
        why = ("is empty" if clean.iat[i] == "" else "is negative" if values[i] < 0
               else "is not a number")
        problems.append({"row": rows[i], "sheet": sheets[i] if sheets else "",
                         "column": column, "value": str(text.iat[i]),
                         "reason": f"the count {text.iat[i]!r} {why}"})
    return values


def _columns(frame: pd.DataFrame, mapping: dict[str, str], count: str | None) -> dict[str, str]:
    """Demand field -> the file's column: recognised headers, then --map, then --count."""
    unknown = [col for col in mapping if col not in frame.columns]
    if unknown:
        raise TableError(f"--map names {unknown[0]!r}, which is not a column of the file")
    cols = column_map(list(frame.columns), mapping, demand_field)
    if count is not None:
        if count not in frame.columns:
            raise TableError(f"--count names {count!r}, which is not a column of the file; "
                             f"the columns are {', '.join(map(str, frame.columns))}")
        cols["count"] = count
    return cols


def read_demand_table(t: RawTable, path: Path, crs: str, count: str | None,
                      mapping: dict[str, str]) -> DemandSource:
    """A CSV or workbook: an H3 table, points (经度/纬度 or 坐标) or districts, by its columns."""
    f = t.frame
    cols = _columns(f, mapping, count)
    problems: list[dict] = []
    base = {"name": path.name, "sha256": file_digest(path), "crs": crs, "rows": t.rows}
    if len(f) == 0:
        raise DemandFileError(str(path), [{"reason": "the file has no rows"}])
    if "h3" in cols:
        source = _h3_table(t, cols, problems, base)
    elif {"lon", "lat"} <= cols.keys() or "coords" in cols:
        r = RowProblems(t)
        lon, lat = table_coordinates(t, cols, r)
        problems += [{k: v for k, v in p.as_dict().items() if k in ("row", "sheet", "column",
                                                                       "value", "reason")}
                     for p in r.problems]
        values = (_counts(f[cols["count"]], t.rows, cols["count"], problems, t.sheets)
                  if "count" in cols else np.ones(len(f)))
        lon, lat = to_wgs84(lon, lat, crs)
        source = DemandSource("points", counts=values, lon=np.asarray(lon, float),
                              lat=np.asarray(lat, float), **base)
    elif "district" in cols or "district_code" in cols:
        key = cols.get("district_code", cols.get("district"))
        if "count" not in cols:
            raise TableError(f"{path.name}: a district table needs a count column "
                             "(人数, 数量, count, workers…) or --count COLUMN")
        values = _counts(f[cols["count"]], t.rows, cols["count"], problems, t.sheets)
        source = DemandSource("districts", counts=values,
                              districts=f[key].astype(str).str.strip().tolist(), **base)
    else:
        raise TableError(f"{path.name}: no h3 column, no 经度/纬度 (lon/lat) or 坐标 column and "
                         "no 区 (district) column: name them so, or use --map column=field")
    if problems:
        raise DemandFileError(str(path), problems)
    return source


def _h3_table(t: RawTable, cols: dict, problems: list[dict], base: dict) -> DemandSource:
    """Cells as hex strings or integers, with a count or one column per segment."""
    import h3
    import h3.api.basic_int as h3_int

    f = t.frame
    text = f[cols["h3"]].astype(str).str.strip()
    ids = np.zeros(len(f), np.uint64)
    for i, v in enumerate(text):  # per row, so a bad cell names its row
        try:
            cell = int(v) if v.isdigit() else h3.str_to_int(v)
            if not h3_int.is_valid_cell(cell) or h3_int.get_resolution(cell) != 9:
                raise ValueError(v)
            ids[i] = cell
        except (ValueError, OverflowError, TypeError):
            if len(problems) < MAX_PROBLEMS:
                problems.append({"row": t.rows[i], "sheet": t.sheets[i], "column": cols["h3"],
                                 "value": v, "reason": f"{v!r} is not an H3 resolution-9 cell"})
    segs = {s: _counts(f[cols[s]], t.rows, cols[s], problems, t.sheets)
            for s in SEGMENTS if s in cols}
    hours = _hour_columns(t, problems)
    if hours is not None:
        if segs:
            raise TableError(f"{base['name']}: hourly columns h00…h23 give one segment's "
                             "profile: use one count column (or none), not a column per "
                             "segment")
        values = (_counts(f[cols["count"]], t.rows, cols["count"], problems, t.sheets)
                  if "count" in cols else np.nan_to_num(hours).max(axis=1))
        return DemandSource("h3", counts=values, cells=ids, hours=hours, **base)
    if "count" in cols:
        values = _counts(f[cols["count"]], t.rows, cols["count"], problems, t.sheets)
        return DemandSource("h3", counts=values, cells=ids, **base)
    if not segs:
        raise TableError(f"{base['name']}: an H3 table needs a count column (人数, count, "
                         f"workers…) or one column per segment ({', '.join(SEGMENTS)})")
    return DemandSource("h3", counts=sum(segs.values()), cells=ids, segments=segs, **base)


def _hour_columns(t: RawTable, problems: list[dict]) -> np.ndarray | None:
    """Counts by hour from columns h00…h23 (all 24, or none), each checked like a count."""
    names = {str(c).strip().lower(): c for c in t.frame.columns}
    have = [h for h in HOUR_COLUMNS if h in names]
    if not have:
        return None
    if len(have) < 24:
        missing = ", ".join(h for h in HOUR_COLUMNS if h not in names)
        raise TableError(f"hourly columns need all 24 of h00…h23; missing {missing}")
    return np.column_stack([_counts(t.frame[names[h]], t.rows, names[h], problems, t.sheets)
                            for h in HOUR_COLUMNS])


def read_features(path: Path, crs: str, count: str | None) -> DemandSource:
    """GeoJSON or GeoPackage: points (one worker each, or a count) or polygons with a count."""
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own types for unreadable files
        raise TableError(f"{path.name}: cannot be read as GeoJSON/GeoPackage ({exc})") from exc
    rows = list(range(1, len(gdf) + 1))
    props = gdf.drop(columns="geometry").astype(object)
    frame = props.where(props.notna(), "").astype(str)
    cols = _columns(frame, {}, count)
    problems: list[dict] = []
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    for i in np.flatnonzero(empty.to_numpy())[:MAX_PROBLEMS]:
        problems.append({"row": rows[i], "sheet": "feature", "column": "geometry", "value": "",
                         "reason": "the feature has no geometry"})
    kinds = set(gdf.geometry[~empty].geom_type)
    base = {"name": path.name, "sha256": file_digest(path), "crs": crs, "rows": rows}
    is_points = kinds <= {"Point"}
    if not is_points and not kinds <= {"Polygon", "MultiPolygon"}:
        raise TableError(f"{path.name}: features must be all points or all polygons, "
                         f"found {', '.join(sorted(kinds))}")
    if "count" in cols:
        values = _counts(frame[cols["count"]], rows, cols["count"], problems, None)
    elif is_points:
        values = np.ones(len(gdf))
    else:
        raise TableError(f"{path.name}: polygons need a count property (人数, count, "
                         "workers…) or --count NAME")
    if problems:
        raise DemandFileError(str(path), problems)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")  # a projected file: its own CRS says how
    geoms = geometries_to_wgs84(np.asarray(gdf.geometry.array), crs)
    if is_points:
        import shapely

        xy = shapely.get_coordinates(geoms)
        return DemandSource("points", counts=values, lon=xy[:, 0], lat=xy[:, 1], **base)
    return DemandSource("polygons", counts=values, geoms=np.asarray(geoms), **base)


def read_raster(path: Path, band: int = 1) -> DemandSource:
    """One band of a GeoTIFF in any CRS; no-data pixels are NaN, a negative pixel is an error
    naming the band and its pixel window."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            values = src.read(band, masked=True).astype(float).filled(np.nan)
            transform, raster_crs = src.transform, src.crs
    except rasterio.errors.RasterioError as exc:
        raise TableError(f"{path.name}: cannot be read as a GeoTIFF ({exc})") from exc
    if raster_crs is None:
        raise TableError(f"{path.name}: the raster has no CRS; write one into the file "
                         "(e.g. gdal_edit.py -a_srs EPSG:4326)")
    bad = np.argwhere(values < 0)
    if len(bad):
        problems = [{"row": None, "sheet": f"band {band}",
                     "column": f"pixel window ({r}, {c}, 1x1)", "value": repr(float(values[r, c])),
                     "reason": f"pixel ({r}, {c}) of band {band} is negative: "
                               f"{float(values[r, c])!r}"} for r, c in bad[:MAX_PROBLEMS]]
        raise DemandFileError(str(path), problems)
    grid = RasterGrid(values, transform, raster_crs.to_string(), band)
    return DemandSource("raster", name=path.name, sha256=file_digest(path), crs="wgs84",
                        counts=np.zeros(0), grid=grid)
