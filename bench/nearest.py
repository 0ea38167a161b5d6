"""Nearest-station speed: our KD-tree against geopandas.sjoin_nearest and a brute-force scan.

Run: .venv/bin/python bench/nearest.py  (about a minute on 2 cores)

Two station sets: the embedded Shanghai sample (1,512) and a synthetic national set (186,000,
clustered around 300 random "cities" across China). For each, times one-point queries (the
courier's case) and a batch of query points (the planner's case), and checks every method's
answer against the exact geodesic nearest.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Geod
from timing import timed  # bench/ is on sys.path when run as a script

from geo.atlas import Atlas
from geo.index.nearest import NearestIndex

GEOD = Geod(ellps="WGS84")
R = 6_371_008.8
N_SINGLE = 200
N_BATCH = 10_000
N_BRUTE_BATCH = 500


def national(n: int, seed: int = 1) -> pd.DataFrame:
    """Synthetic stations: Gaussian clusters around random city centres across China."""
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(98, 125, 300), rng.uniform(21, 46, 300)])
    pick = rng.integers(0, len(centres), n)
    lon = centres[pick, 0] + rng.normal(0, 0.15, n)
    lat = centres[pick, 1] + rng.normal(0, 0.12, n)
    return pd.DataFrame({"lon": lon, "lat": lat, "type": "relay", "amenity_bits": 0,
                         "opening_hours": "24/7"})


def haversine_scan(slon: np.ndarray, slat: np.ndarray, lon: float, lat: float) -> int:
    """The naive way: distance to every station, take the smallest."""
    p1, p2 = np.radians(lat), np.radians(slat)
    a = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(slon - lon) / 2) ** 2)
    return int(np.argmin(a))


def exact_nearest(slon: np.ndarray, slat: np.ndarray, lon: float, lat: float) -> int:
    """Ground truth: the WGS-84 geodesic to every station."""
    _, _, d = GEOD.inv(np.full(slon.size, lon), np.full(slat.size, lat), slon, slat)
    return int(np.argmin(d))




def run(label: str, st: pd.DataFrame, qlon: np.ndarray, qlat: np.ndarray) -> list[dict]:
    """Time the three methods on one station set; return table rows."""
    slon, slat = st["lon"].to_numpy(), st["lat"].to_numpy()
    t_build, index = timed(lambda: NearestIndex(st), 1)
    stations_m = gpd.GeoDataFrame(geometry=gpd.points_from_xy(slon, slat), crs=4326
                                  ).to_crs(32651)
    truth = np.array([exact_nearest(slon, slat, qlon[i], qlat[i]) for i in range(N_SINGLE)])

    def sjoin(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        q = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(32651)
        return gpd.sjoin_nearest(q, stations_m, how="left").groupby(level=0)[
            "index_right"].first().to_numpy()

    rows = []
    single: dict[str, Callable[[int], int]] = {
        "KD-tree (ours)": lambda i: int(index.query(qlon[i], qlat[i], 1)[0][0, 0]),
        "geopandas.sjoin_nearest": lambda i: int(sjoin(qlon[i:i + 1], qlat[i:i + 1])[0]),
        "brute-force haversine scan": lambda i: haversine_scan(slon, slat, qlon[i], qlat[i]),
    }
    for name, fn in single.items():
        t, got = timed(lambda fn=fn: [fn(i) for i in range(N_SINGLE)], 1)
        rows.append({"stations": label, "method": name, "case": "one point",
                     "ms/query": 1000 * t / N_SINGLE,
                     "agrees with exact": f"{np.mean(np.array(got) == truth):.1%}"})
    t, got = timed(lambda: index.query(qlon, qlat, 1)[0][:, 0])
    rows.append({"stations": label, "method": "KD-tree (ours)", "case": f"batch {N_BATCH:,}",
                 "ms/query": 1000 * t / N_BATCH, "total s": t,
                 "agrees with exact": f"{np.mean(got[:N_SINGLE] == truth):.1%}"})
    t, got = timed(lambda: sjoin(qlon, qlat), 1)
    rows.append({"stations": label, "method": "geopandas.sjoin_nearest",
                 "case": f"batch {N_BATCH:,}", "ms/query": 1000 * t / N_BATCH, "total s": t,
                 "agrees with exact": f"{np.mean(got[:N_SINGLE] == truth):.1%}"})
    t, _ = timed(lambda: [haversine_scan(slon, slat, qlon[i], qlat[i])
                          for i in range(N_BRUTE_BATCH)], 1)
    rows.append({"stations": label, "method": "brute-force haversine scan",
                 "case": f"batch {N_BATCH:,} (from {N_BRUTE_BATCH})",
                 "ms/query": 1000 * t / N_BRUTE_BATCH, "total s": t * N_BATCH / N_BRUTE_BATCH,
                 "agrees with exact": "n/a"})
    print(f"  {label}: KD-tree index built in {1000 * t_build:.0f} ms")
    return rows


def main() -> None:
    """Both station sets, one table, with ratios to the KD-tree."""
    rng = np.random.default_rng(0)
    atlas = Atlas.load()
    print("timing (best of 3 for KD-tree batches; single queries looped) ...")
    rows = run("Shanghai 1,512", atlas.stations, rng.uniform(121.0, 121.9, N_BATCH),
               rng.uniform(30.8, 31.6, N_BATCH))
    big = national(186_000)
    rows += run("national 186,000", big, rng.uniform(98, 125, N_BATCH),
                rng.uniform(21, 46, N_BATCH))
    table = pd.DataFrame(rows)
    ours = table[table["method"] == "KD-tree (ours)"].set_index(["stations", "case"])["ms/query"]
    table["x slower than ours"] = [
        r["ms/query"] / ours.get((r["stations"], r["case"]),
                                 ours.get((r["stations"], f"batch {N_BATCH:,}")))
        for _, r in table.iterrows()]
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))


if __name__ == "__main__":
    main()
