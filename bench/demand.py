"""Demand import speed: a 100 m population raster of Shanghai and a million rider points into
the dataset's H3 cells, beside the naive way (one h3-py call per pixel or point, in Python) and
the floor (one bulk h3ronpy call and a bincount, with no checks, report or whole numbers).
Then the 24-hour curve of workers present with 20,000 cells on their own profiles, warm (each
hour's covered cells known, as the API caches them), beside the naive way (coverage asked at
each of the 24 hours) and the floor (one product of presence and coverage, no rounding).

Run: .venv/bin/python bench/demand.py  (about a minute)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import rasterio
from h3ronpy.vector import coordinates_to_cells
from pyproj import Transformer
from rasterio.transform import from_origin
from timing import timed  # bench/ is on sys.path when run as a script

from geo.analysis.coverage import compute_coverage, day_cover, hourly_table, weekday_date
from geo.analysis.demand_spread import import_demand
from geo.atlas import Atlas
from geo.io.datasets import load_tables
from geo.io.demand_files import read_demand
from geo.io.demand_profiles import HOUR_COLUMNS
from geo.questions import CoverageSpec

N_POINTS = 1_000_000
NAIVE_SAMPLE = 50_000  # the naive loop is timed on this many and scaled


def make_raster(path: Path) -> np.ndarray:
    """A WorldPop-like 100 m grid over Shanghai's extent in UTM 51N: about 720,000 pixels."""
    rng = np.random.default_rng(1)
    values = rng.gamma(0.6, 40.0, (900, 800))
    with rasterio.open(path, "w", driver="GTiff", height=900, width=800, count=1,
                       dtype="float64", crs="EPSG:32651",
                       transform=from_origin(320_000, 3_500_000, 100, 100)) as dst:
        dst.write(values, 1)
    return values


def pixel_centres(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, c = np.indices(values.shape).reshape(2, -1)
    x, y = 320_000 + 100 * (c + 0.5), 3_500_000 - 100 * (r + 0.5)
    return Transformer.from_crs(32651, 4326, always_xy=True).transform(x, y)


def floor(lon, lat, weights, ids) -> np.ndarray:
    """The bare library calls: cells in bulk, then a sum per dataset cell."""
    cells = np.asarray(coordinates_to_cells(lat, lon, 9), np.uint64)
    order = np.argsort(ids)
    pos = np.clip(np.searchsorted(ids[order], cells), 0, len(ids) - 1)
    hit = ids[order][pos] == cells
    return np.bincount(order[pos][hit], weights=weights[hit], minlength=len(ids))


def naive_per_item(lon, lat) -> float:
    """Seconds per item of a Python loop over h3-py calls."""
    t0 = time.perf_counter()
    out: dict[str, float] = {}
    for o, a in zip(lon[:NAIVE_SAMPLE], lat[:NAIVE_SAMPLE], strict=True):
        c = h3.latlng_to_cell(a, o, 9)
        out[c] = out.get(c, 0) + 1
    return (time.perf_counter() - t0) / NAIVE_SAMPLE


def row(name: str, ours: float, naive: float, bare: float) -> None:
    print(f"{name:34s} ours {ours:6.2f} s   naive {naive:7.2f} s ({naive / ours:5.1f}x ours)"
          f"   floor {bare:5.2f} s (ours {ours / bare:4.1f}x floor)")


def main() -> None:
    _, districts, demand = load_tables()
    ids = np.asarray([h3.str_to_int(c) for c in demand["h3"]], np.uint64)
    with tempfile.TemporaryDirectory() as tmp:
        tif = Path(tmp) / "pop.tif"
        values = make_raster(tif)
        t_ours, result = timed(lambda: import_demand(read_demand(tif), demand, districts,
                                                     "outdoor"), repeat=2)
        lon, lat = pixel_centres(values)
        t_floor, _ = timed(lambda: floor(np.asarray(lon), np.asarray(lat), values.ravel(), ids),
                           repeat=2)
        naive = naive_per_item(np.asarray(lon), np.asarray(lat)) * values.size
        r = result.report
        print(f"raster {values.shape[1]}x{values.shape[0]} = {values.size:,} pixels "
              f"({r['method']}): read {r['total_read']:,}, placed {r['total_placed']:,}, "
              f"outside {r['outside']:,}")
        row("raster to cells (read + place)", t_ours, naive, t_floor)

        rng = np.random.default_rng(2)
        plon, plat = rng.uniform(121.1, 121.9, N_POINTS), rng.uniform(30.9, 31.5, N_POINTS)
        csv = Path(tmp) / "points.csv"
        pd.DataFrame({"lng": plon.round(6), "lat": plat.round(6)}).to_csv(csv, index=False)
        t_ours, result = timed(lambda: import_demand(read_demand(csv), demand, districts,
                                                     "outdoor"), repeat=2)
        t_floor, _ = timed(lambda: floor(*(lambda f: (f["lng"].to_numpy(), f["lat"].to_numpy(),
                                                     np.ones(len(f))))(pd.read_csv(csv)), ids),
                           repeat=2)
        naive = naive_per_item(plon, plat) * N_POINTS
        r = result.report
        print(f"{N_POINTS:,} points in a CSV: placed {r['total_placed']:,}, "
              f"outside {r['outside']:,}")
        row("points to cells (read + place)", t_ours, naive, t_floor)
        print("naive: one h3-py call per item in Python, timed on "
              f"{NAIVE_SAMPLE:,} and scaled; floor: pandas/pyproj + one h3ronpy call + "
              "bincount, no checks, no report, no whole numbers")

    hourly_curve()


def hourly_curve() -> None:
    """The curve with per-cell profiles, warm, against asking each hour and the bare product."""
    base = Atlas.load()
    rng = np.random.default_rng(3)
    own = base.demand["h3"].sample(20_000, random_state=3).to_numpy()
    hours = pd.DataFrame(rng.uniform(0, 1, (len(own), 24)).round(3), columns=HOUR_COLUMNS)
    hours.insert(0, "segment", "outdoor")
    hours.insert(0, "h3", own)
    atlas = Atlas(base.stations, base.districts, base.demand, base.index,
                  profiles=base.profiles, cell_hours=hours)
    spec = CoverageSpec("relay", 1000)
    day, cover = day_cover(atlas, spec, 1)
    atlas.presence  # noqa: B018 - built once at start, as the app does
    t_ours, curve = timed(lambda: hourly_table(atlas, spec, 1, day, cover), repeat=5)
    monday = pd.Timestamp(weekday_date(1)).to_pydatetime()
    t_naive, _ = timed(lambda: [compute_coverage(atlas, CoverageSpec(
        "relay", 1000, at=monday.replace(hour=h))).summary() for h in range(24)], repeat=1)
    exact = atlas.presence.segment_matrix(atlas.grid, "outdoor", "weekday")
    t_floor, _ = timed(lambda: (exact * cover).sum(axis=0), repeat=5)
    print(f"24-hour curve, {len(own):,} cells with own profiles: {int(curve['covered'].sum()):,}"
          " covered worker-hours")
    print(f"{'24-hour curve (warm)':34s} ours {t_ours * 1e3:6.0f} ms  naive {t_naive:7.2f} s "
          f"({t_naive / t_ours:5.0f}x ours)   floor {t_floor * 1e3:5.0f} ms "
          f"(ours {t_ours / t_floor:4.1f}x floor)")
    print("naive: coverage asked at each hour (distances recomputed); floor: presence times "
          "coverage as floats, one numpy product, no rounding, no table")


if __name__ == "__main__":
    main()
