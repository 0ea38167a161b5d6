"""Precomputed national results, read once for the web app (it never computes them).

A results directory is what `stations national coverage --out DIR` writes: summary.json,
cities.csv, cities.geojson, areas.parquet and gaps.geojson. Everything is read at start-up,
so a request only looks up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import QueryError

NEEDED = ("summary.json", "cities.csv", "cities.geojson", "areas.parquet", "gaps.geojson")


@dataclass
class NationalResults:
    """One national coverage run, ready to serve."""

    summary: dict
    cities: pd.DataFrame  # province, city, city_code, workers, covered, uncovered, share
    areas: pd.DataFrame  # the same per district, with city_code and district_code
    shapes: gpd.GeoDataFrame  # each city's outline with its figures (the choropleth)
    gaps: gpd.GeoDataFrame  # every city's top gap zones

    @classmethod
    def load(cls, folder: str | Path) -> NationalResults:
        """Read a results directory; a clear error names what is missing."""
        folder = Path(folder)
        missing = [n for n in NEEDED if not (folder / n).exists()]
        if missing:
            raise QueryError("STATIONS_NATIONAL", f"{folder} lacks {', '.join(missing)}: run "
                                                  "`stations national coverage --out DIR`")
        cities = pd.read_csv(folder / "cities.csv", dtype={"city_code": str},
                             encoding="utf-8-sig")
        areas = pd.read_parquet(folder / "areas.parquet")
        shapes = gpd.read_file(folder / "cities.geojson")
        gaps = gpd.read_file(folder / "gaps.geojson")
        for frame in (shapes, gaps):
            if "city_code" in frame:
                frame["city_code"] = frame["city_code"].astype(str)
        for col in ("site", "districts"):  # GeoJSON lists come back as arrays or text
            if col in gaps:
                gaps[col] = [_listed(v) for v in gaps[col]]
        return cls(json.loads((folder / "summary.json").read_text("utf-8")),
                   cities.sort_values("share_covered", kind="stable").reset_index(drop=True),
                   areas, shapes, gaps)

    @property
    def sample(self) -> bool:
        """Whether these results come from sample data (the pages must say so)."""
        return bool(self.summary.get("sample") or self.summary.get("source") == "sample")

    def city(self, code: str) -> dict | None:
        """A city's row, its districts (worst share first) and top gap zones, or None."""
        row = self.cities[self.cities["city_code"] == code]
        if row.empty:
            return None
        districts = self.areas[self.areas["city_code"] == code]
        gaps = self.gaps[self.gaps["city_code"] == code] if len(self.gaps) else self.gaps
        return {"city": row.iloc[0].to_dict(),
                "districts": districts.sort_values("share_covered", kind="stable"),
                "gaps": gaps.sort_values("rank") if len(gaps) else gaps}


def _listed(value) -> list:
    """A list property as read back from GeoJSON (an array, or JSON text) as a plain list."""
    if isinstance(value, str):
        return json.loads(value)
    return np.asarray(value).tolist()
