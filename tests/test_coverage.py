"""Coverage against independent computations on hand-built fixtures."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis.coverage import CoverageResult, compute_coverage, hourly_coverage
from geo.atlas import Atlas
from geo.index.nearest import NearestIndex
from geo.io.datasets import DEFAULT_DATA_DIR
from geo.io.demand_profiles import flat_profiles
from geo.io.districts import load_districts
from geo.io.stations import validate_stations
from geo.questions import CoverageSpec

ORIGIN = h3.latlng_to_cell(31.2304, 121.4737, 9)  # People's Square


def stations_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """Stations from plain dicts through the real validator."""
    df = pd.DataFrame([{"district": "黄浦区", "district_code": "310101",
                        "opening_hours": "24/7", "amenities": ["water"], **r} for r in rows])
    lon = df.pop("lon").to_numpy(float)
    lat = df.pop("lat").to_numpy(float)
    return validate_stations(df, lon, lat)


def tiny_atlas(stations: gpd.GeoDataFrame, cells: list[str], outdoor: list[int],
               office: list[int] | None = None) -> Atlas:
    """An atlas with exactly these cells and stations (districts are the real ones)."""
    demand = pd.DataFrame({"h3": cells, "district_code": "310101", "outdoor": outdoor,
                           "office": office or [0] * len(cells),
                           "industrial": [0] * len(cells)})
    return Atlas(stations, load_districts(DEFAULT_DATA_DIR / "districts.geojson"), demand,
                 NearestIndex(stations), profiles=flat_profiles())


@pytest.fixture(scope="module")
def patch() -> list[str]:
    """A disk of 331 res-9 cells (radius 10) around People's Square."""
    return sorted(h3.grid_disk(ORIGIN, 10))


def test_coverage_equals_buffer_computation(patch):
    rng = np.random.default_rng(3)
    stations = stations_frame([
        {"id": "a", "name": "A", "type": "relay", "lon": 121.4650, "lat": 31.2280},
        {"id": "b", "name": "B", "type": "relay", "lon": 121.4830, "lat": 31.2380,
         "amenities": ["water", "toilet"]},
        {"id": "c", "name": "C", "type": "relay", "lon": 121.4800, "lat": 31.2200,
         "opening_hours": "Mo-Fr 09:00-17:00"},
        {"id": "h", "name": "H", "type": "health", "lon": 121.4737, "lat": 31.2304},
    ])
    outdoor = rng.integers(0, 50, len(patch)).tolist()
    office = rng.integers(0, 80, len(patch)).tolist()
    atlas = tiny_atlas(stations, patch, outdoor, office)
    to_m = "EPSG:32651"
    centres = gpd.GeoSeries(gpd.points_from_xy([h3.cell_to_latlng(c)[1] for c in patch],
                                               [h3.cell_to_latlng(c)[0] for c in patch]),
                            crs=4326).to_crs(to_m)
    st_m = gpd.GeoSeries(stations.geometry.values, crs=4326).to_crs(to_m)
    cases = [
        (CoverageSpec("relay", 600), ["a", "b", "c"], outdoor),
        (CoverageSpec("relay", 600, amenities=("toilet",)), ["b"], outdoor),
        (CoverageSpec("relay", 600, at=datetime(2026, 11, 24, 20)), ["a", "b"], outdoor),
        (CoverageSpec("health", 800), ["h"], office),  # office + industrial (industrial 0)
    ]
    for spec, usable, weights in cases:
        union = shapely.union_all(st_m[stations["id"].isin(usable).to_numpy()]
                                  .buffer(spec.threshold, quad_segs=256).values)
        inside = shapely.contains(union, centres.values)
        edge = np.abs(shapely.distance(centres.values, union.boundary)) < 3.0
        assert not edge.any()  # no cell within 3 m of a threshold: UTM and geodesic agree
        result = compute_coverage(atlas, spec)
        want_cov = int(np.asarray(weights)[inside].sum())
        s = result.summary()
        assert s["covered"] == want_cov, spec
        assert s["workers"] == int(np.sum(weights))
        assert s["uncovered"] == s["workers"] - want_cov
        assert s["stations_usable"] == len(usable)
        assert 0 < want_cov < s["workers"]


def test_weighted_mean_and_p90_by_hand(patch):
    stations = stations_frame([{"id": "a", "name": "A", "type": "relay",
                                "lon": 121.4737, "lat": 31.2304}])
    cells = patch[:5]
    workers = [10, 0, 30, 20, 40]
    result = compute_coverage(tiny_atlas(stations, cells, workers), CoverageSpec("relay"))
    d = result.distance_m
    want_mean = sum(w * x for w, x in zip(workers, d, strict=True)) / sum(workers)
    assert result.summary()["mean_distance_m"] == pytest.approx(want_mean, abs=0.05)
    # P90 of the worker-weighted distribution: sort by distance, first to reach 90 of 100.
    order = np.argsort(d)
    cum = np.cumsum(np.asarray(workers)[order])
    assert result.summary()["p90_distance_m"] == pytest.approx(
        d[order][np.searchsorted(cum, 90)], abs=0.05)


def local_cells(coords: list[tuple[int, int]]) -> list[str]:
    return [h3.local_ij_to_cell(ORIGIN, i, j) for i, j in coords]


def test_gap_zones_dissolve_two_separate_gaps_one_l_shaped():
    grid_ij = [(i, j) for i in range(10) for j in range(10)]
    cells = local_cells(grid_ij)
    l_shape = {(i, 1) for i in range(1, 6)} | {(1, j) for j in range(2, 5)}
    block = {(7, 6), (8, 6), (7, 7), (8, 7)}
    workers = [(100 if ij in block else 10) for ij in grid_ij]
    stations = stations_frame([{"id": "far", "name": "Far", "type": "relay",
                                "lon": 121.0, "lat": 31.0}])
    atlas = tiny_atlas(stations, cells, workers)
    gap_cells = l_shape | block
    dist = np.array([5000.0 if ij in gap_cells else 10.0 for ij in grid_ij])
    result = CoverageResult(CoverageSpec("relay"), atlas.grid, atlas.districts, dist,
                            np.array(["far"] * len(cells), dtype=object), 1)
    table = result.gap_table(min_density=0, group="connected")
    assert len(table) == 2
    assert table["cells"].tolist() == [4, 8]  # the dense block ranks first
    assert table["workers"].tolist() == [400, 80]
    zones = result.gaps(min_density=0, group="connected")
    by_hand = {1: block, 2: l_shape}
    cell_area = {c: h3.cell_area(c, "m^2") for c in cells}
    for rank, members in by_hand.items():
        geom = zones.geometry[zones["rank"] == rank].iloc[0]
        hexes = shapely.union_all([shapely.Polygon([(lng, lat) for lat, lng in
                                                    h3.cell_to_boundary(c)])
                                   for c in local_cells(sorted(members))])
        assert geom.geom_type == "Polygon" and len(geom.interiors) == 0
        assert shapely.symmetric_difference(geom, hexes).area < 1e-6 * hexes.area
        area = sum(cell_area[c] for c in local_cells(sorted(members))) / 1e6
        assert zones.loc[zones["rank"] == rank, "area_km2"].iloc[0] == pytest.approx(area,
                                                                                    abs=1e-3)
    l_geom = zones.geometry[zones["rank"] == 2].iloc[0]
    assert l_geom.area < 0.8 * l_geom.convex_hull.area  # really an L, not a blob
    assert not zones.geometry.iloc[0].intersects(zones.geometry.iloc[1])
    # the overview's site is the zone's cell nearest its worker-weighted centre
    centroid = np.mean([h3.cell_to_latlng(c) for c in local_cells(sorted(block))], axis=0)
    lng, lat = zones["site"].iloc[0]
    assert h3.latlng_to_cell(lat, lng, 9) in set(local_cells(sorted(block)))
    assert abs(lat - centroid[0]) < 0.002 and abs(lng - centroid[1]) < 0.002
    assert table["districts"].tolist() == [["黄浦区"], ["黄浦区"]]


def test_hourly_coverage_falls_when_office_hours_close(patch):
    stations = stations_frame([
        {"id": "office", "name": "O", "type": "relay", "lon": 121.4650, "lat": 31.2280,
         "opening_hours": "Mo-Fr 09:00-17:00"},
        {"id": "night", "name": "N", "type": "relay", "lon": 121.4830, "lat": 31.2380},
    ])
    workers = [10] * len(patch)
    atlas = tiny_atlas(stations, patch, workers)
    both = compute_coverage(atlas, CoverageSpec("relay", 700)).summary()["covered"]
    night_only = compute_coverage(atlas, CoverageSpec(
        "relay", 700, at=datetime(2026, 11, 24, 22))).summary()["covered"]
    assert night_only < both
    curve = hourly_coverage(atlas, CoverageSpec("relay", 700), weekday=1)
    assert len(curve) == 24
    for row in curve.itertuples():
        assert row.covered == (both if 9 <= row.hour < 17 else night_only), row.hour
        assert row.stations_open == (2 if 9 <= row.hour < 17 else 1)
    sunday = hourly_coverage(atlas, CoverageSpec("relay", 700), weekday=6)
    assert (sunday["covered"] == night_only).all()


def test_sample_city_loses_coverage_at_night(atlas):
    day = compute_coverage(atlas, CoverageSpec("relay", at=datetime(2026, 11, 24, 10)))
    night = compute_coverage(atlas, CoverageSpec("relay", at=datetime(2026, 11, 24, 22)))
    assert night.summary()["share_covered"] < 0.5 * day.summary()["share_covered"]
    table = day.by_district()
    assert len(table) == 16 and table["workers"].sum() == day.summary()["workers"]
    assert table["covered"].sum() == day.summary()["covered"]
    assert table["share_covered"].is_monotonic_increasing


def test_default_thresholds_per_type():
    assert CoverageSpec("relay").threshold == 1000
    assert CoverageSpec("health").threshold == 3000
    assert CoverageSpec("fitness").threshold == 2000
    assert CoverageSpec("fitness", 500).threshold == 500
