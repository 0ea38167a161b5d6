"""Load and validate a station file (GeoJSON or GeoPackage) into one in-memory table.

Validation is all-or-nothing: a file with one bad row loads nothing, and the error names the
row, the station id and the field, so whoever maintains the list can fix it.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coords import to_wgs84
from geo.errors import StationFileError
from geo.hours import hours_error
from geo.schema import (
    AMENITIES,
    HOSTS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    SAMPLE_SOURCE,
    STATION_TYPES,
    amenity_bits,
    in_china,
)

_DISTRICT_CODE = re.compile(r"^\d{6}$")
SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # ids become parts of page addresses


def _split_amenities(value: object) -> list[str]:
    """Amenities arrive as a JSON list (GeoJSON) or a ';'/','-separated string (GeoPackage)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(v).strip() for v in json.loads(text)]
        return [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [str(v).strip() for v in value]
    return [str(value)]


def _read_geojson(path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict]:
    """Read features as plain records: GDAL would coerce list-valued properties to strings."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StationFileError(str(path), None, None, f"cannot read as GeoJSON: {exc}") from exc
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise StationFileError(str(path), None, None, "not a GeoJSON FeatureCollection")
    lon = np.full(len(feats), np.nan)
    lat = np.full(len(feats), np.nan)
    records = []
    for i, feat in enumerate(feats):
        feat = feat if isinstance(feat, dict) else {}
        geom = feat.get("geometry") or {}
        coords = geom.get("coordinates") if geom.get("type") == "Point" else None
        if isinstance(coords, list) and len(coords) >= 2:
            with contextlib.suppress(TypeError, ValueError):
                lon[i], lat[i] = float(coords[0]), float(coords[1])
        records.append(feat.get("properties") or {})
    meta = {k: v for k, v in doc.items() if k not in ("features", "type")}
    return pd.DataFrame.from_records(records), lon, lat, meta


def _read_gpkg(path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict]:
    """Read a GeoPackage layer; non-point or empty geometries become NaN and fail validation."""
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise StationFileError(str(path), None, None, f"cannot read: {exc}") from exc
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geoms = np.asarray(gdf.geometry.array)
    is_point = shapely.get_type_id(geoms) == 0  # None and empty give -1 / NaN below
    lon = np.where(is_point, shapely.get_x(geoms), np.nan)
    lat = np.where(is_point, shapely.get_y(geoms), np.nan)
    return pd.DataFrame(gdf.drop(columns="geometry")), lon, lat, {}


def _first_bad(bad: np.ndarray) -> int | None:
    """Index of the first failing row, or None when the column is clean."""
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else None


def _text(df: pd.DataFrame, name: str) -> pd.Series:
    """A column as stripped strings, '' where missing, so checks never meet NaN or None."""
    if name not in df:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    col = df[name].astype(object)
    return col.where(col.notna(), "").map(lambda v: str(v).strip()).astype(object)


def _problems(df: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> list[tuple[int, str, str]]:
    """Every (row index, field, message) problem, checked column by column."""
    out: list[tuple[int, str, str]] = []

    def check(name: str, bad: np.ndarray, why) -> None:
        for i in np.flatnonzero(bad)[:50]:
            out.append((int(i), name, why(int(i))))

    for name in REQUIRED_FIELDS:
        col = _text(df, name).to_numpy()
        check(name, col == "", lambda i: "is missing or empty")
    ids = _text(df, "id")
    check("id", ~ids.str.match(SAFE_ID).to_numpy() & (ids != "").to_numpy(),
          lambda i: f"{ids.iat[i]!r} may only use letters, digits, '-', '_' and '.' "
                    "(it becomes part of page addresses)")
    dup = ids.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    first_of = {v: i for i, v in reversed(list(enumerate(ids)))}
    check("id", dup, lambda i: f"{ids.iat[i]!r} repeats row {first_of[ids.iat[i]] + 1}")
    types = _text(df, "type")
    check("type", ~types.isin(STATION_TYPES).to_numpy() & (types != "").to_numpy(),
          lambda i: f"{types.iat[i]!r} is not one of {', '.join(STATION_TYPES)}")
    codes = _text(df, "district_code")
    check("district_code", ~codes.str.match(_DISTRICT_CODE).to_numpy() & (codes != ""),
          lambda i: f"{codes.iat[i]!r} is not a 6-digit division code (e.g. 310101)")
    hosts = _text(df, "host")
    check("host", ~hosts.isin((*HOSTS, "")).to_numpy(),
          lambda i: f"{hosts.iat[i]!r} is not one of {', '.join(HOSTS)}")
    hours = _text(df, "opening_hours")
    errs = {h: hours_error(h) for h in hours.unique() if h}
    check("opening_hours", hours.map(lambda h: bool(h) and errs[h] is not None).to_numpy(bool),
          lambda i: errs[hours.iat[i]] or "")
    out.extend(_amenity_problems(df))
    if "capacity" in df:
        cap = pd.to_numeric(df["capacity"], errors="coerce")
        given = _text(df, "capacity") != ""
        bad = given.to_numpy() & ~((cap >= 0) & (cap == cap.round())).fillna(False).to_numpy()
        check("capacity", bad, lambda i: f"{df['capacity'].iat[i]!r} is not a whole number >= 0")
    missing = ~np.isfinite(lon) | ~np.isfinite(lat)
    check("geometry", missing, lambda i: "is missing or not a Point with numeric coordinates")
    outside = ~missing & ~in_china(lon, lat)
    check("geometry", outside, lambda i: f"({lon[i]}, {lat[i]}) is outside China "
          "(expected lon/lat order, WGS-84 / GCJ-02 / BD-09 degrees)")
    return sorted(out)


def _amenity_problems(df: pd.DataFrame) -> list[tuple[int, str, str]]:
    """Unknown or unparsable amenity names, row by row."""
    if "amenities" not in df:
        return []
    out = []
    for i, value in enumerate(df["amenities"].to_list()):
        try:
            unknown = sorted(set(_split_amenities(value)) - set(AMENITIES))
        except (ValueError, TypeError):
            out.append((i, "amenities", f"{value!r} is not a list of names"))
            continue
        if unknown:
            out.append((i, "amenities", f"unknown {', '.join(map(repr, unknown))}; "
                        f"known: {', '.join(AMENITIES)}"))
    return out


def validate_stations(df: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, *, path: str = "",
                      crs: str = "wgs84") -> gpd.GeoDataFrame:
    """Check every row, then build the normalised table; raises StationFileError on any fault."""
    if len(df) == 0:
        raise StationFileError(path, None, None, "the list has no stations: every answer "
                                                 "needs at least one")
    problems = _problems(df, lon, lat)
    if problems:
        i, name, message = problems[0]
        sid = _text(df, "id").iat[i] if len(df) else None
        raise StationFileError(path, i + 1, name, message, sid or None,
                               [f"row {r + 1} {f}: {m}" for r, f, m in problems[1:]])
    wlon, wlat = to_wgs84(lon, lat, crs)
    out = pd.DataFrame({name: _text(df, name) for name in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
                        if name not in ("amenities", "capacity")})
    out["host"] = out["host"].replace("", "other")
    out["source"] = out["source"].replace("", "unknown")
    lists = [sorted(set(_split_amenities(v)), key=AMENITIES.index)
             for v in (df["amenities"] if "amenities" in df else [None] * len(df))]
    out["amenities"] = lists
    out["amenity_bits"] = np.array([amenity_bits(a) for a in lists], dtype=np.int64)
    cap = pd.to_numeric(df["capacity"], errors="coerce") if "capacity" in df else np.nan
    out["capacity"] = pd.array(np.asarray(cap, dtype=float) * np.ones(len(out)), dtype="Int64")
    out["lon"], out["lat"] = wlon, wlat
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(wlon, wlat), crs="EPSG:4326")


def load_stations(path: str | Path, crs: str = "wgs84") -> gpd.GeoDataFrame:
    """Read a GeoJSON or GeoPackage station file; `crs` says which datum its coordinates use."""
    path = Path(path)
    if not path.exists():
        raise StationFileError(str(path), None, None, "file not found")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        df, lon, lat, meta = _read_geojson(path)
    elif suffix == ".gpkg":
        df, lon, lat, meta = _read_gpkg(path)
    else:
        raise StationFileError(str(path), None, None, "use a .geojson or .gpkg file")
    gdf = validate_stations(df, lon, lat, path=str(path), crs=crs)
    gdf.attrs.update(meta)
    return gdf


def is_sample(stations: pd.DataFrame) -> bool:
    """True when any station is sample data: pages and the CLI must then say so."""
    return bool((stations["source"] == SAMPLE_SOURCE).any())
