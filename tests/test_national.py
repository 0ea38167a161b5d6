"""National scale on dask: the partitioned path equals the single-process one, zones merge
across partition boundaries, and a small national build runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from app.cli.main import cli
from geo.analysis.coverage import compute_coverage
from geo.analysis.plan import cell_candidates, plan_sites
from geo.index.cells import CellGrid, cell_parents
from geo.index.counts import largest_remainder
from geo.national.compute import national_coverage, national_plan
from geo.national.dataset import NationalData, open_dataset, split_by_parent
from geo.national.sample import cities_of, city_cells, city_centre, load_boundaries
from geo.questions import CoverageSpec
from geo.schema import SEGMENTS

# one worker holds the module: its dask cluster and national results are built once
pytestmark = pytest.mark.xdist_group("national")

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def dask_client():
    """One LocalCluster of 2 worker processes for the whole module."""
    from geo.national.runner import close, connect

    client = connect("local", 2)
    yield client
    close(client)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="stations")


# --- the cell grid in bulk equals h3's own per-cell answers -------------------------------

def test_bulk_cell_grid_equals_h3_per_cell(atlas):
    rng = np.random.default_rng(7)
    pick = rng.choice(len(atlas.demand), 400, replace=False)
    grid = atlas.grid
    present = set(map(int, grid.ids))
    for i in pick:
        cell = atlas.demand["h3"].iloc[i]
        lat, lon = h3.cell_to_latlng(cell)
        assert grid.h3[i] == cell and int(grid.ids[i]) == h3.str_to_int(cell)
        assert abs(grid.lat[i] - lat) < 1e-12 and abs(grid.lon[i] - lon) < 1e-12
        assert grid.area_m2[i] == pytest.approx(h3.cell_area(cell, "m^2"), rel=1e-9)
        ring = {h3.str_to_int(c) for c in h3.grid_ring(cell, 1)}
        got = {int(grid.ids[j]) for j in grid.neighbours[i].indices}
        assert got == ring & present
    assert (grid.neighbours != grid.neighbours.T).nnz == 0


# --- Shanghai: partitioned on dask == single process --------------------------------------

@pytest.fixture(scope="module")
def shanghai(atlas, dask_client, tmp_path_factory):
    """The embedded dataset split into H3 res-6 parents (hundreds of small partitions)."""
    out = tmp_path_factory.mktemp("sh")
    data = open_dataset("data", parent_res=6)
    spec = CoverageSpec("relay")
    return data, national_coverage(data, spec, dask_client, out=out, top=10), out, spec


def test_shanghai_partitioned_equals_single_process(atlas, shanghai):
    data, result, out, spec = shanghai
    single = compute_coverage(atlas, spec)
    assert len(data.partitions) > 300
    cells = pd.read_parquet(out / "cells.parquet")
    assert len(cells) == len(atlas.demand)
    by_h3 = cells.set_index("h3").loc[single.grid.h3]
    assert np.array_equal(np.round(single.distance_m, 2), by_h3["distance_m"].to_numpy())
    assert np.array_equal(single.covered, by_h3["covered"].to_numpy())
    assert list(by_h3["station"]) == list(single.station)
    table = single.by_district().set_index("code")
    got = result.areas.set_index("district_code").loc[table.index]
    for col in ("workers", "covered", "uncovered"):
        assert got[col].tolist() == table[col].tolist()
    assert got["district"].tolist() == table["name"].tolist()
    assert int(got["covered"].sum()) == single.summary()["covered"]
    want = single.gaps(10).reset_index(drop=True)
    zones = result.gaps.drop(columns=["province", "city", "city_code"])
    assert zones.drop(columns="geometry").equals(want.drop(columns="geometry"))
    assert zones.geometry.normalize().geom_equals_exact(want.geometry.normalize(), 0).all()


def test_shanghai_zones_cross_partition_boundaries(atlas, shanghai):
    _, _, _, spec = shanghai
    single = compute_coverage(atlas, spec)
    z = single.zones()
    parents = cell_parents(single.grid.ids[z.cells], 6)
    spans = [len(np.unique(parents[z.label == r])) for r in range(10)]
    assert max(spans) >= 2, spans  # the equality above is tested on zones that cross


def test_without_a_client_the_same_code_runs_here(shanghai):
    data, result, _, spec = shanghai
    here = national_coverage(data, spec, None, top=10)
    assert here.areas.equals(result.areas)
    assert here.gaps.drop(columns="geometry").equals(result.gaps.drop(columns="geometry"))


def test_shanghai_plan_per_city_equals_single_process(atlas, dask_client):
    spec = CoverageSpec("relay")
    data = open_dataset("data", parent_res=5)
    sites = national_plan(data, spec, 5, dask_client)
    single = compute_coverage(atlas, spec)
    want = plan_sites(single, cell_candidates(single), 5, atlas.districts, curve_max=5).sites
    assert sites[["rank", "gain", "covered", "lon", "lat", "district"]].reset_index(
        drop=True).equals(want[["rank", "gain", "covered", "lon", "lat", "district"]])


def test_cli_areas_csv_equals_the_api_district_table(client, dask_client, tmp_path):
    res = run("national", "coverage", "--data", "data", "--type", "health", "--threshold",
              "2500", "--at", "2026-11-24T10:00", "--scheduler", dask_client.scheduler.address,
              "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "SAMPLE DATA" in res.output
    areas = pd.read_csv(tmp_path / "areas.csv", encoding="utf-8-sig")
    assert list(areas.columns) == ["province", "city", "district", "workers", "covered",
                                   "uncovered", "share_covered"]
    api = client.get("/api/coverage?type=health&threshold_m=2500&at=2026-11-24T10:00").get_json()
    want = {d["name"]: d for d in api["districts"]}
    assert sorted(areas["district"]) == sorted(want)
    assert areas["covered"].sum() > 0
    for row in areas.itertuples():
        d = want[row.district]
        assert (row.workers, row.covered, row.uncovered) == (d["workers"], d["covered"],
                                                            d["uncovered"])
        assert row.share_covered == pytest.approx(d["share_covered"], abs=1e-9)
    gaps = json.loads((tmp_path / "gaps.geojson").read_text(encoding="utf-8"))
    assert gaps["sample"] is True and gaps["features"]
    assert {"city", "rank", "workers", "site", "districts"} <= set(
        gaps["features"][0]["properties"])


# --- a hand-made zone over four partitions comes out as one zone --------------------------

def _blob_dataset(parent_res: int) -> tuple[NationalData, np.ndarray]:
    """A dense, uncovered disk of res-9 cells around a point where H3 parents meet, and one
    station 20 km away; partitioned by parent."""
    centre = h3.latlng_to_cell(31.0, 121.0, parent_res)
    vertex = h3.cell_to_boundary(centre)[0]  # three parents meet at a vertex
    seed = h3.latlng_to_cell(vertex[0], vertex[1], 9)
    disk = np.array([h3.str_to_int(c) for c in h3.grid_disk(seed, 9)], np.uint64)
    cells = pd.DataFrame({"h3": disk, "district_code": "000001", "outdoor": 50, "office": 0,
                          "industrial": 0, "row": np.arange(len(disk))})
    stations = pd.DataFrame({"id": ["far"], "type": ["relay"], "lon": [121.2], "lat": [31.0],
                             "amenity_bits": [0], "opening_hours": ["24/7"],
                             "source": ["sample"], "city_code": ["999900"]})
    areas = gpd.GeoDataFrame({"province": ["P"], "city": ["C"], "city_code": ["999900"],
                              "district": ["D"], "district_code": ["000001"]},
                             geometry=[None], crs="EPSG:4326")
    parts = split_by_parent(cells, "999900", parent_res)
    return NationalData(stations, areas, parts, {"source": "sample"}), disk


@pytest.mark.parametrize("group", ["site", "connected"])
def test_one_zone_over_four_partitions_stays_one(dask_client, group):
    data, disk = _blob_dataset(7)
    assert len(data.partitions) >= 4
    spec = CoverageSpec("relay", threshold_m=3000)
    result = national_coverage(data, spec, dask_client, top=5, min_density=0, group=group)
    assert len(result.gaps) == 1
    zone = result.gaps.iloc[0]
    assert zone["cells"] == len(disk) and zone["workers"] == 50 * len(disk)
    hexes = CellGrid.from_arrays(disk, np.full(len(disk), "000001"),
                                 {s: np.zeros(len(disk)) for s in SEGMENTS}).dissolve(
                                     np.arange(len(disk)))
    assert zone.geometry.normalize().equals_exact(hexes.normalize(), 1e-9)


# --- the national sample: rules and a small end-to-end build ------------------------------

def test_station_shares_are_largest_remainder():
    assert largest_remainder(np.array([1, 1, 1]), 10).tolist() == [4, 3, 3]
    assert largest_remainder(np.array([5, 3, 2]), 7).tolist() == [4, 2, 1]  # 3.5, 2.1, 1.4
    assert largest_remainder(np.array([0, 0]), 5).tolist() == [0, 0]
    out = largest_remainder(np.random.default_rng(1).uniform(0, 9, 300), 186_100)
    assert out.sum() == 186_100


def test_city_cells_fill_the_urban_districts_nearest_first():
    (city,) = cities_of(load_boundaries(), ("舟山市",))
    every = city_cells(city, None, 1)
    assert every["h3"].is_unique
    polys = city.districts.set_index("district_code").geometry
    rng = np.random.default_rng(5)
    for i in rng.choice(len(every), 300, replace=False):
        lat, lon = h3.cell_to_latlng(h3.int_to_str(int(every["h3"].iloc[i])))
        assert polys[every["district_code"].iloc[i]].covers(shapely.Point(lon, lat))
    area = city.districts.to_crs("EPSG:32651").area.sum()
    grid = CellGrid.from_arrays(every["h3"].to_numpy(), every["district_code"].to_numpy(),
                                {s: every[s].to_numpy() for s in SEGMENTS})
    assert grid.area_m2.sum() == pytest.approx(area, rel=0.03)
    some = city_cells(city, 2000, 1)
    assert len(some) == 2000 and set(some["h3"]) <= set(every["h3"])
    centre = city_centre(city)

    def far(cells):
        lat_lon = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells["h3"]])
        return GEOD.inv(np.full(len(cells), centre.x), np.full(len(cells), centre.y),
                        lat_lon[:, 1], lat_lon[:, 0])[2]

    rest = every[~every["h3"].isin(some["h3"])]
    assert far(some).max() <= far(rest).min() + 1e-6


@pytest.fixture(scope="module")
def small_build(dask_client, tmp_path_factory):
    base = tmp_path_factory.mktemp("nat")
    res = run("national", "build", "--cities", "上海市,330400,杭州市",
              "--stations", "600", "--scheduler", dask_client.scheduler.address,
              "--out", str(base / "ds"))
    assert res.exit_code == 0, res.output
    return base


def test_small_national_build_end_to_end(small_build, dask_client):
    ds = small_build / "ds"
    meta = json.loads((ds / "dataset.json").read_text(encoding="utf-8"))
    assert meta["source"] == "sample" and meta["cities"] == 3 and meta["stations"] == 600
    files = sorted(p.parent.name for p in (ds / "cells").glob("*/*.parquet"))
    assert files == ["city_code=310100", "city_code=330100", "city_code=330400"]
    cells = pd.concat(pd.read_parquet(p) for p in sorted((ds / "cells").glob("*/*.parquet")))
    assert len(cells) == meta["cells"] and 200_000 < len(cells) < 400_000
    assert cells["h3"].is_unique
    stations = gpd.read_parquet(ds / "stations.parquet")
    assert len(stations) == 600 and (stations["source"] == "sample").all()
    assert stations["id"].is_unique
    assert set(stations["city_code"]) == {"310100", "330100", "330400"}

    out = small_build / "cov"
    res = run("national", "coverage", "--data", str(ds), "--threshold", "1200", "--weekday",
              "tu", "--scheduler", dask_client.scheduler.address, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "SAMPLE DATA" in res.output
    per_cell = pd.read_parquet(out / "cells.parquet")
    assert len(per_cell) == len(cells)
    # brute force: geodesic to every relay station, for 150 random cells
    relay = stations[stations["type"] == "relay"]
    rng = np.random.default_rng(3)
    for i in rng.choice(len(per_cell), 150, replace=False):
        lat, lon = h3.cell_to_latlng(per_cell["h3"].iloc[i])
        _, _, d = GEOD.inv(np.full(len(relay), lon), np.full(len(relay), lat),
                           relay["lon"].to_numpy(), relay["lat"].to_numpy())
        assert per_cell["distance_m"].iloc[i] == pytest.approx(d.min(), abs=0.01)
        assert per_cell["station"].iloc[i] == relay["id"].iloc[int(np.argmin(d))]
    areas = pd.read_csv(out / "areas.csv", encoding="utf-8-sig")
    assert areas["workers"].sum() == cells["outdoor"].sum() == per_cell["workers"].sum()
    covered = per_cell[per_cell["distance_m"] <= 1200]["workers"].sum()
    assert areas["covered"].sum() == covered
    assert set(areas["city"]) == {"上海市", "杭州市", "嘉兴市"}
    gaps = gpd.read_file(out / "gaps.geojson")
    assert set(gaps["city"]) == {"上海市", "杭州市", "嘉兴市"}
    for ranks in gaps.groupby("city")["rank"].apply(list):
        assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) <= 10
    hourly = pd.read_csv(out / "hourly.csv", encoding="utf-8-sig", dtype={"city_code": str})
    assert len(hourly) == 24 * 4 and set(hourly["city_code"]) == {"310100", "330100",
                                                                   "330400", "all"}
    by_hour = hourly[hourly["city_code"] != "all"].groupby("hour")["covered"].sum()
    assert by_hour.tolist() == hourly[hourly["city_code"] == "all"]["covered"].tolist()
    night = hourly[(hourly["city_code"] == "all") & (hourly["hour"] == 3)].iloc[0]
    noon = hourly[(hourly["city_code"] == "all") & (hourly["hour"] == 10)].iloc[0]
    relay_24h = ((stations["type"] == "relay") & (stations["opening_hours"] == "24/7")).sum()
    assert night["stations_open"] == relay_24h < noon["stations_open"]
    assert night["covered"] < noon["covered"]

    plan = small_build / "plan"
    res = run("national", "plan", "--data", str(ds), "--k-per-city", "3",
              "--scheduler", dask_client.scheduler.address, "--out", str(plan))
    assert res.exit_code == 0, res.output
    sites = pd.read_csv(plan / "sites.csv", encoding="utf-8-sig")
    assert sites.groupby("city").size().to_dict() == {"上海市": 3, "杭州市": 3, "嘉兴市": 3}
    assert (sites.groupby("city")["gain"].apply(lambda g: g.is_monotonic_decreasing)).all()


def test_a_city_is_the_same_whatever_else_is_built(small_build, dask_client):
    res = run("national", "build", "--cities", "嘉兴市", "--stations", "10", "--scheduler",
              "none", "--out", str(small_build / "new" / "one"))  # `new/` is made
    assert res.exit_code == 0, res.output
    alone = pd.read_parquet(small_build / "new" / "one" / "cells" / "city_code=330400")
    together = pd.read_parquet(small_build / "ds" / "cells" / "city_code=330400")
    assert alone.equals(together)


def test_national_errors_are_one_line(small_build):
    for args, word in [
        (("build", "--out", str(small_build / "ds"), "--scheduler", "none"), "not empty"),
        (("build", "--out", str(small_build / "x"), "--cities", "Atlantis",
          "--scheduler", "none"), "Atlantis"),
        (("build", "--out", str(small_build / "y"), "--cells-per-city", "12",
          "--scheduler", "none"), "cells-per-city"),
        (("coverage", "--data", str(small_build), "--out", str(small_build / "z"),
          "--scheduler", "none"), "neither"),
        (("coverage", "--data", "data", "--type", "bus", "--out", str(small_build / "z"),
          "--scheduler", "none"), "type"),
        (("coverage", "--data", "data", "--workers", "0", "--out", str(small_build / "z")),
         "workers"),
    ]:
        res = run("national", *args)
        assert res.exit_code == 2, (args, res.output)
        assert res.output.startswith("error: ") and word in res.output, res.output
        assert "Traceback" not in res.output
    assert not (small_build / "x").exists() and not (small_build / "y").exists()


# --- no Shanghai-only constants in the computation ----------------------------------------

def test_map_app_region_comes_from_the_station_file(tmp_path):
    from geo.atlas import Atlas

    doc = json.loads(Path("data/stations.geojson").read_text(encoding="utf-8"))
    doc["region"] = "苏州"
    doc["features"] = doc["features"][:30]
    (tmp_path / "stations.geojson").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    atlas = Atlas.load(tmp_path / "stations.geojson")
    assert atlas.region == "苏州" and Atlas.load().region == "上海"
    from geo.finder.hot_path import answer
    from geo.questions import parse_nearest

    q = parse_nearest("31.23", "121.47", k="2")
    fc = answer(atlas.arrays, atlas.index, q, "wgs84", "zh", True)
    for f in fc["features"]:
        assert "region=%E8%8B%8F%E5%B7%9E" in f["properties"]["nav"]["baidu"]


def test_times_are_read_in_the_datasets_time_zone():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from geo.questions import parse_time

    at = "2026-11-24T21:00+00:00"
    assert parse_time("at", at) == datetime(2026, 11, 25, 5, 0)
    assert parse_time("at", at, ZoneInfo("Asia/Urumqi")) == datetime(2026, 11, 25, 3, 0)
    assert parse_time("at", "2026-11-24T21:00", ZoneInfo("Asia/Urumqi")) == \
        datetime(2026, 11, 24, 21, 0)


def test_shanghai_24_hour_curve_equals_single_process(atlas, shanghai, dask_client):
    from geo.analysis.coverage import hourly_coverage
    from geo.national.compute import national_hourly

    data, result, _, spec = shanghai
    curve = national_hourly(data, spec, 1, result.areas, dask_client)
    want = hourly_coverage(atlas, spec, 1)  # the workers present at each hour, both ways
    for code in ("310100", "all"):
        got = curve[curve["city_code"] == code].reset_index(drop=True)
        assert got[list(want.columns)].equals(want), code
    assert want["covered"].nunique() > 1  # the curve really changes over the day


@pytest.mark.slow  # zones over every cell of Shanghai: make test, not make check
def test_no_usable_station_leaves_everyone_uncovered():
    from geo.questions import parse_coverage

    data = open_dataset("data", parent_res=4)
    spec = parse_coverage("health", None, "2026-11-24T23:30")
    result = national_coverage(data, spec, None, top=3)
    assert result.areas["workers"].sum() > 0 and result.areas["covered"].sum() == 0
    assert len(result.gaps) == 3 and result.gaps["nearest_station_m"].isna().all()


@pytest.mark.slow  # two national runs: make test, not make check
def test_a_second_run_replaces_the_cells_only_when_it_succeeds(tmp_path, monkeypatch):
    import geo.national.compute as nat

    spec = CoverageSpec("relay")
    nat.national_coverage(open_dataset("data", parent_res=4), spec, None, out=tmp_path)
    first = sorted(p.name for p in (tmp_path / "cells.parquet").iterdir())
    data = open_dataset("data", parent_res=5)
    calls = {"n": 0}
    real = nat.city_gaps

    def fails(*args, **kwargs):
        calls["n"] += 1
        raise RuntimeError("worker lost")

    monkeypatch.setattr(nat, "city_gaps", fails)
    with pytest.raises(RuntimeError):
        nat.national_coverage(data, spec, None, out=tmp_path)
    assert calls["n"] == 1
    assert sorted(p.name for p in (tmp_path / "cells.parquet").iterdir()) == first
    assert [p.name for p in tmp_path.iterdir()] == ["cells.parquet"]  # no staging left
    monkeypatch.setattr(nat, "city_gaps", real)
    nat.national_coverage(data, spec, None, out=tmp_path)
    second = sorted(p.name for p in (tmp_path / "cells.parquet").iterdir())
    assert len(second) > len(first)  # res-5 parents: more partitions, none left from res 4
    cells = pd.read_parquet(tmp_path / "cells.parquet")
    assert len(cells) == 99_635 and cells["h3"].is_unique
