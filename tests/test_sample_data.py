"""The embedded dataset: real districts, and a sample that follows its documented rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h3
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.io.datasets import DEFAULT_DATA_DIR

NEW_TOWNS = {"Jiading": (31.383, 121.250), "Qingpu": (31.150, 121.110),
             "Songjiang": (31.030, 121.225), "Fengxian": (30.918, 121.474),
             "Nanhui": (30.900, 121.930)}


def test_sixteen_real_districts_forming_a_clean_coverage(atlas):
    d = atlas.districts
    assert len(d) == 16 and d["code"].str.match(r"^3101\d\d$").all()
    assert {"黄浦区", "浦东新区", "崇明区"} <= set(d["name"])
    assert shapely.is_valid(d.geometry.values).all()
    assert shapely.coverage_is_valid(d.geometry.values)
    metric = d.to_crs("EPSG:32651")
    np.testing.assert_allclose(metric.area / 1e6, d["area_km2"], atol=0.01)
    geoms = np.asarray(metric.geometry.array)
    overlaps = shapely.intersection(geoms[:, None], geoms)
    area = shapely.area(overlaps)
    np.fill_diagonal(area, 0)
    assert area.max() < 1.0  # m2: neighbours share edges, never area


def test_districts_are_in_wgs84_not_gcj02(atlas):
    """The Bund's Oriental Pearl Tower (WGS-84 121.4998, 31.2397) is in Pudong."""
    pudong = atlas.districts.set_index("code").geometry["310115"]
    assert shapely.contains_xy(pudong, 121.4998, 31.2397)


def test_station_counts_match(atlas):
    counts = atlas.stations["type"].value_counts().to_dict()
    assert counts == {"relay": 1309, "health": 132, "fitness": 71}
    assert atlas.stations["id"].is_unique


def test_every_station_lies_in_the_district_it_names(atlas):
    polys = atlas.districts.set_index("code")
    s = atlas.stations
    inside = shapely.contains_xy(polys.geometry.reindex(s["district_code"]).values,
                                 s["lon"].values, s["lat"].values)
    assert inside.all(), s.loc[~inside, "id"].tolist()
    names = polys["name"].reindex(s["district_code"]).to_numpy()
    assert (names == s["district"].to_numpy()).all()


def test_all_sixteen_districts_have_stations(atlas):
    assert atlas.stations.groupby("type")["district_code"].nunique().min() == 16


def test_dense_core_has_most_relay_stations_per_km2(atlas):
    area = atlas.districts.set_index("code")["area_km2"]
    relay = atlas.stations[atlas.stations["type"] == "relay"]
    density = (relay.groupby("district_code").size() / area).sort_values(ascending=False)
    assert set(density.index[:3]) == {"310101", "310106", "310104"}  # Huangpu, Jing'an, Xuhui


def test_health_points_lean_to_the_new_towns(atlas):
    """Their share near the five new towns exceeds those areas' share of the workers served."""
    geod = Geod(ellps="WGS84")

    def near(lon, lat):
        out = np.zeros(len(lon), bool)
        for lat0, lon0 in NEW_TOWNS.values():
            _, _, d = geod.inv(lon, lat, np.full(len(lon), lon0), np.full(len(lon), lat0))
            out |= d < 8000
        return out

    health = atlas.stations[atlas.stations["type"] == "health"]
    dem = atlas.demand
    latlng = np.array([h3.cell_to_latlng(c) for c in dem["h3"]])
    served = (dem["office"] + dem["industrial"]).to_numpy()
    worker_share = served[near(latlng[:, 1], latlng[:, 0])].sum() / served.sum()
    station_share = near(health["lon"].values, health["lat"].values).mean()
    assert station_share > 1.5 * worker_share


def test_sample_is_labelled_everywhere(atlas):
    s = atlas.stations
    assert atlas.is_sample and (s["source"] == "sample").all()
    assert s["name"].str.startswith("示例").all()
    assert atlas.stations.attrs.get("sample") is True
    assert (atlas.demand["source"] == "sample").all()


def test_attributes_are_realistic(atlas):
    relay = atlas.stations[atlas.stations["type"] == "relay"]
    assert {"bank", "telecom", "post", "pharmacy", "supermarket", "convenience",
            "subdistrict"} <= set(relay["host"])
    hours = relay["opening_hours"]
    assert hours.str.contains(",13:30").mean() > 0.2  # split office hours are common
    assert 0.02 < (hours == "24/7").mean() < 0.15
    assert (relay.loc[hours == "24/7", "host"] == "convenience").all()
    six = {"ac", "fridge", "microwave", "water", "charging", "seating"}
    assert relay["amenities"].map(lambda a: six <= set(a)).mean() > 0.5


def test_demand_cells_cover_shanghai_with_about_12_million_workers(atlas):
    dem = atlas.demand
    assert 80_000 < len(dem) < 120_000 and dem["h3"].is_unique
    assert {h3.get_resolution(c) for c in dem["h3"].head(1000)} == {9}
    total = dem[["outdoor", "office", "industrial"]].sum().sum()
    assert abs(total - 12_200_000) < 100_000
    per = dem.groupby("district_code")[["outdoor", "office", "industrial"]].sum().sum(axis=1)
    area = atlas.districts.set_index("code")["area_km2"]
    assert abs(per["310106"] / area["310106"] - 39_000) < 500  # Jing'an
    assert abs(per["310101"] / area["310101"] - 35_000) < 500  # Huangpu


def test_zhangjiang_hotspot_holds_its_workers(atlas):
    dem = atlas.demand
    near = set(h3.grid_disk(h3.latlng_to_cell(31.19, 121.588, 9), 25))  # ~4 km radius
    workers = dem[dem["h3"].isin(near)][["outdoor", "office", "industrial"]].sum().sum()
    assert workers > 300_000


@pytest.mark.slow  # builds the whole sample again: make test, not make check
def test_sample_build_is_reproducible(tmp_path):
    """Re-running the seeded script gives byte-identical files."""
    script = Path(DEFAULT_DATA_DIR) / "build_sample.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in ("stations.geojson", "demand.csv.gz"):
        assert (tmp_path / name).read_bytes() == (DEFAULT_DATA_DIR / name).read_bytes(), name
