"""Gap zones and coverage tables as files: GeoJSON, CSV and GeoPackage, to disk or bytes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import GeoError
from geo.io.clerk_words import AMENITY_WORDS, HOSTS, TYPES

FORMATS = ("geojson", "csv", "gpkg")
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
               "gpkg": "application/geopackage+sqlite3"}


def _flat(gaps: pd.DataFrame) -> pd.DataFrame:
    """List-valued columns as ';'-joined text, for formats without lists."""
    out = gaps.copy()
    if "districts" in out:
        out["districts"] = out["districts"].map(";".join)
    return out


def gaps_geojson(gaps: gpd.GeoDataFrame, **top: object) -> dict:
    """Gap zones as a FeatureCollection (districts stay a list)."""
    doc = json.loads(gaps.to_json(drop_id=True, to_wgs84=False))
    doc.pop("bbox", None)
    return {**top, "type": "FeatureCollection", "features": doc["features"]}


def gaps_bytes(gaps: gpd.GeoDataFrame, fmt: str, **top: object) -> bytes:
    """One file's bytes in the chosen format; sample-based results say so in every row of
    table formats (GeoJSON carries `sample` at the top)."""
    if top.get("sample") and fmt != "geojson":
        gaps = gaps.assign(data="SAMPLE data, not official")
    if fmt == "geojson":
        return json.dumps(gaps_geojson(gaps, **top), ensure_ascii=False).encode()
    if fmt == "csv":
        table = _flat(pd.DataFrame(gaps.drop(columns="geometry")))
        return table.to_csv(index=False).encode("utf-8-sig")  # BOM: Excel reads the Chinese
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "gaps.gpkg"
            _flat(gaps).to_file(path, driver="GPKG", layer="gaps")
            return path.read_bytes()
    raise GeoError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}", param="format")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as CSV for Excel: a BOM for the Chinese, and text that a spreadsheet would run
    as a formula (a note starting with '=') prefixed with an apostrophe."""
    out = table.copy()
    for col in out.select_dtypes(include=["object", "string"]).columns:
        text = out[col].astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(bool)
        out.loc[risky, col] = "'" + text[risky]
    return out.to_csv(index=False).encode("utf-8-sig")


def format_of(path: Path) -> str:
    """The export format a file name asks for."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"json": "geojson"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise GeoError(f"{Path(path).name}: use a .gpkg, .geojson or .csv file name", param="out")
    return fmt


def write_gaps(gaps: gpd.GeoDataFrame, path: Path, **top: object) -> None:
    """Gap zones to a file whose name says the format, written atomically."""
    write_atomic(Path(path), gaps_bytes(gaps, format_of(Path(path)), **top))


def sites_frame(sites: pd.DataFrame) -> gpd.GeoDataFrame:
    """Planned sites (a table with lon/lat columns) as points."""
    return gpd.GeoDataFrame(sites.drop(columns=["lon", "lat"]),
                            geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
                            crs="EPSG:4326")


def sites_bytes(sites: pd.DataFrame, fmt: str, **top: object) -> bytes:
    """Planned sites as GeoJSON, CSV (with lng/lat columns) or GeoPackage, like gap zones."""
    frame = sites_frame(sites)
    if fmt == "csv":
        frame = frame.assign(lng=sites["lon"].to_numpy(), lat=sites["lat"].to_numpy())
    return gaps_bytes(frame, fmt, **top)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to disk atomically: a failure leaves no half-written file behind; missing parent
    folders are made (`--out reports/2026/gaps.csv`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


# the import template's columns: `stations export` writes them and `stations import` reads them
TEMPLATE_COLUMNS = ["编号", "名称", "类型", "所属区", "地址", "经度", "纬度", "开放时间", "设施",
                    "电话", "座位数", "承办单位", "来源"]


def _zh(table: dict[str, tuple[str, ...]], key: str) -> str:
    """The first Chinese spelling of a vocabulary entry (what the template uses)."""
    return next((w for w in table[key] if any("\u4e00" <= c <= "\u9fff" for c in w)), key)


def template_frame(stations: pd.DataFrame) -> pd.DataFrame:
    """Stations in the import template's layout (Chinese headers, Chinese words)."""
    return pd.DataFrame({
        "编号": stations["id"], "名称": stations["name"],
        "类型": [_zh(TYPES, t) for t in stations["type"]],
        "所属区": stations["district"], "地址": stations["address"],
        "经度": [f"{v:.7f}" for v in stations["lon"]],
        "纬度": [f"{v:.7f}" for v in stations["lat"]],
        "开放时间": stations["opening_hours"],
        "设施": ["、".join(_zh(AMENITY_WORDS, a) for a in am) for am in stations["amenities"]],
        "电话": stations["phone"],
        "座位数": ["" if pd.isna(c) else str(int(c)) for c in stations["capacity"]],
        "承办单位": [_zh(HOSTS, h) for h in stations["host"]],
        "来源": stations["source"]})[TEMPLATE_COLUMNS]
