"""National datasets on disk: stations, areas and demand cells partitioned by city.

Layout of a national dataset directory (written by `stations national build`):

    dataset.json                 what it is: source ("sample"), time zone, resolution, rules
    stations.parquet             GeoParquet, one row per station (a few MB: broadcast)
    areas.parquet                GeoParquet, urban districts with province / city names, codes
    cells/city_code=CODE/part.parquet   demand cells of one city (h3, district_code, segments)

A partition is one city's file, read where the task runs. The embedded Shanghai dataset
(a station file, demand.csv.gz and districts.geojson) opens as the same thing, split into H3
parent cells instead, so the national engine answers for it exactly as the web app does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import QueryError
from geo.hours import TIMEZONE
from geo.index.cells import cell_parents, parse_cells
from geo.schema import SEGMENTS

META = "dataset.json"
CELLS_DIR = "cells"
SHANGHAI = {"province": "上海市", "city": "上海市", "city_code": "310100"}
DEFAULT_PARENT_RES = 5  # the embedded dataset's partitions: ~250 km² H3 parents
STATION_NEEDS = ("id", "type", "lon", "lat", "amenity_bits", "opening_hours", "source")
AREA_COLUMNS = ["province", "city", "city_code", "district", "district_code"]


@dataclass(eq=False)
class Partition:
    """One unit of work: a city's cell file, or (small datasets) a frame of cells in hand."""

    key: str
    city_code: str
    path: str | None = None
    frame: pd.DataFrame | None = None

    def load(self) -> pd.DataFrame:
        """Cells with h3 (uint64), district_code, the segments and `row`, their position in
        the city's own order (zones are ranked in that order, whatever the partitioning)."""
        if self.frame is not None:
            return self.frame
        df = pd.read_parquet(self.path)
        df["h3"] = df["h3"].astype(np.uint64)
        df["district_code"] = df["district_code"].astype(str)
        df["row"] = np.arange(len(df))
        return df


@dataclass
class NationalData:
    """Everything the engine needs, with the demand left on disk until a worker reads it."""

    stations: pd.DataFrame
    areas: gpd.GeoDataFrame
    partitions: list[Partition]
    meta: dict = field(default_factory=dict)

    def names(self, city_code: str) -> pd.DataFrame:
        """One city's districts as the coverage code expects them: code, name, name_en."""
        rows = self.areas[self.areas["city_code"] == city_code]
        return pd.DataFrame({"code": rows["district_code"].to_numpy(str),
                             "name": rows["district"].to_numpy(str),
                             "name_en": rows["district"].to_numpy(str)})


def open_dataset(path: str | Path, parent_res: int | None = None) -> NationalData:
    """A national dataset directory, or the embedded-style city dataset split by H3 parent."""
    path = Path(path)
    if (path / META).exists():
        return _open_national(path)
    if path.is_dir() and ((path / "stations.geojson").exists() or (path / "versions").exists()):
        return _open_city(path, DEFAULT_PARENT_RES if parent_res is None else parent_res)
    raise QueryError("data", f"{path} is neither a national dataset (no {META}) nor a "
                             "station dataset directory")


def _open_national(path: Path) -> NationalData:
    """Read the small parts (meta, stations, areas) and list the city files."""
    meta = json.loads((path / META).read_text(encoding="utf-8"))
    stations = pd.DataFrame(gpd.read_parquet(path / "stations.parquet").drop(columns="geometry"))
    areas = gpd.read_parquet(path / "areas.parquet")
    parts = [Partition(d.name.split("=", 1)[1], d.name.split("=", 1)[1], str(f))
             for d in sorted((path / CELLS_DIR).glob("city_code=*"))
             for f in sorted(d.glob("*.parquet"))]
    return NationalData(stations, areas, parts, meta)


def _open_city(path: Path, parent_res: int) -> NationalData:
    """The embedded Shanghai layout, with its cells split into H3 parents at `parent_res`."""
    from geo.io.datasets import load_tables
    from geo.io.stations import is_sample

    stations, d, demand = load_tables(path)
    sample = is_sample(stations)
    stations = pd.DataFrame(stations.drop(columns="geometry"))
    stations["city_code"] = SHANGHAI["city_code"]
    areas = gpd.GeoDataFrame({
        "province": SHANGHAI["province"], "city": SHANGHAI["city"],
        "city_code": SHANGHAI["city_code"], "district": d["name"].to_numpy(str),
        "district_code": d["code"].to_numpy(str)}, geometry=d.geometry.values, crs="EPSG:4326")
    cells = pd.DataFrame({"h3": parse_cells(demand["h3"].to_numpy()),
                          "district_code": demand["district_code"].to_numpy(str),
                          **{s: demand[s].to_numpy(np.int64) for s in SEGMENTS},
                          "row": np.arange(len(demand))})
    meta = {"source": "sample" if sample else "list", "timezone": TIMEZONE.key,
            "h3_resolution": 9, "partition": f"h3 parent, resolution {parent_res}"}
    return NationalData(stations, areas, split_by_parent(cells, SHANGHAI["city_code"],
                                                         parent_res), meta)


def split_by_parent(cells: pd.DataFrame, city_code: str, parent_res: int) -> list[Partition]:
    """One partition per H3 parent cell, each keeping its cells in their original order."""
    parents = cell_parents(cells["h3"].to_numpy(np.uint64), parent_res)
    out = []
    for parent in np.unique(parents):
        part = cells[parents == parent].reset_index(drop=True)
        out.append(Partition(f"{city_code}-{int(parent):x}", city_code, frame=part))
    return out


def check_stations(stations: pd.DataFrame) -> None:
    """A station table the engine can index (the columns the KD-tree and filters read)."""
    missing = [c for c in STATION_NEEDS if c not in stations]
    if missing:
        raise QueryError("data", f"stations lack the columns {', '.join(missing)}")
