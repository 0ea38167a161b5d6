"""Shanghai's 16 districts: codes, names and the boundary layer the whole app uses."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.coords import shift_geometries

DISTRICT_NAMES_EN = {
    "310101": "Huangpu",
    "310104": "Xuhui",
    "310105": "Changning",
    "310106": "Jing'an",
    "310107": "Putuo",
    "310109": "Hongkou",
    "310110": "Yangpu",
    "310112": "Minhang",
    "310113": "Baoshan",
    "310114": "Jiading",
    "310115": "Pudong",
    "310116": "Jinshan",
    "310117": "Songjiang",
    "310118": "Qingpu",
    "310120": "Fengxian",
    "310151": "Chongming",
}


def load_districts(path: Path) -> gpd.GeoDataFrame:
    """Read the district layer (code, name, name_en, area_km2, geometry) in WGS-84."""
    gdf = gpd.read_file(path)
    gdf["code"] = gdf["code"].astype(str)
    return gdf.set_crs("EPSG:4326", allow_override=True)


def district_of(districts: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Code of the district containing each point ('' outside), via one STRtree query."""
    points = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    pt_idx, poly_idx = shapely.STRtree(districts.geometry.values).query(points, "within")
    codes = np.full(len(points), "", dtype=object)
    codes[pt_idx] = districts["code"].to_numpy()[poly_idx]
    return codes


def display_geojson(districts: gpd.GeoDataFrame, crs: str = "wgs84",
                    fields: tuple[str, ...] = ("code", "name", "name_en", "area_km2"),
                    tolerance_deg: float = 0.0, decimals: int = 5) -> dict:
    """District polygons as a GeoJSON dict, rounded to ~1 m, in the display datum.

    With `tolerance_deg`, boundaries are simplified as one coverage, so neighbours still
    share their edges (no slivers or gaps between districts on the map).
    """
    geoms = shift_geometries(np.asarray(districts.geometry.array), crs)
    if tolerance_deg > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance_deg)
    geoms = shapely.transform(geoms, lambda c: np.round(c, decimals))
    out = gpd.GeoDataFrame(districts[list(fields)].copy(), geometry=geoms, crs="EPSG:4326")
    doc = out.__geo_interface__
    doc.pop("bbox", None)
    for feat in doc["features"]:
        feat.pop("bbox", None)
    if crs != "wgs84":
        doc["coordinates_datum"] = crs
    return doc


def match_district(districts: gpd.GeoDataFrame, text: str) -> set[str]:
    """Codes of the district named by code, Chinese name or English name (case-insensitive)."""
    t = str(text).strip()
    hit = ((districts["code"] == t) | (districts["name"] == t)
           | (districts["name_en"].str.lower() == t.lower()))
    return set(districts.loc[hit, "code"])
