"""Shanghai's 16 districts: codes, names and the boundary layer the whole app uses."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

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
