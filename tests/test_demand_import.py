"""Importing a union's own demand: every kind keeps its total, lands where an independent
computation (h3-py, pyproj, tobler, brute force) says, names bad rows and writes nothing then."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import Counter
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod, Transformer

from app.cli.main import cli
from geo.analysis.demand_spread import import_demand, spread_polygons
from geo.coords import wgs84_to_gcj02
from geo.errors import DemandFileError
from geo.index.cells import cell_polygons, parse_cells
from geo.index.counts import largest_remainder
from geo.io.datasets import load_tables
from geo.io.demand_files import read_demand

GEOD = Geod(ellps="WGS84")
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def tables():
    _, districts, demand = load_tables(DATA)
    return districts, demand


def run(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="stations")


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def some_cells(demand: pd.DataFrame, n: int, seed: int = 1) -> list[str]:
    return list(demand["h3"].sample(n, random_state=seed))


# --- whole numbers ------------------------------------------------------------------------

def test_largest_remainder_keeps_the_total_and_stays_within_one():
    rng = np.random.default_rng(3)
    for _ in range(50):
        mass = rng.random(rng.integers(1, 40)) * rng.choice([0.1, 10, 1000])
        total = round(mass.sum())
        whole = largest_remainder(mass, total)
        assert whole.sum() == total
        assert np.all(np.abs(whole - mass * total / mass.sum()) < 1)


# --- points -------------------------------------------------------------------------------

def test_gcj02_points_land_within_half_a_metre_and_in_h3s_own_cell(tmp_path, tables):
    districts, demand = tables
    cells = some_cells(demand, 40)
    lat, lon = np.array([h3.cell_to_latlng(c) for c in cells]).T
    glon, glat = wgs84_to_gcj02(lon, lat)
    counts = np.arange(1, 41)
    path = tmp_path / "riders.csv"
    pd.DataFrame({"经度": glon, "纬度": glat, "骑手数": counts}).to_csv(path, index=False)
    src = read_demand(path, crs="gcj02")
    _, _, dist = GEOD.inv(src.lon, src.lat, lon, lat)
    assert src.kind == "points" and dist.max() < 0.5
    result = import_demand(src, demand, districts, "outdoor")
    got = dict(zip(result.demand["h3"], result.demand["outdoor"], strict=True))
    assert all(got[c] == n for c, n in zip(cells, counts, strict=True))
    assert result.demand["outdoor"].sum() == counts.sum()  # replace: the rest became 0
    assert result.report["total_read"] == result.report["total_placed"] == counts.sum()


def test_points_outside_are_reported_by_row_and_the_total_still_adds_up(tmp_path, tables):
    districts, demand = tables
    rng = np.random.default_rng(7)
    idx = rng.integers(0, len(demand), 500)
    lat, lon = np.array([h3.cell_to_latlng(c) for c in demand["h3"].iloc[idx]]).T
    lon = lon + rng.uniform(-0.001, 0.001, 500)
    lat = lat + rng.uniform(-0.001, 0.001, 500)
    lon[[10, 20]] = [116.40, 150.0]  # Beijing, and the Pacific
    path = tmp_path / "pings.csv"
    pd.DataFrame({"lng": lon, "lat": lat}).to_csv(path, index=False)  # one worker per row
    result = import_demand(read_demand(path), demand, districts, "office", mode="add")
    truth = Counter(h3.latlng_to_cell(a, o, 9) for o, a in zip(lon, lat, strict=True))
    known = set(demand["h3"])
    inside = {c: n for c, n in truth.items() if c in known}
    after = dict(zip(result.demand["h3"], result.demand["office"] - demand["office"],
                     strict=True))
    assert {c: n for c, n in after.items() if n} == inside
    r = result.report
    assert r["total_read"] == 500 and r["total_placed"] + r["outside"] == 500
    assert r["outside"] == 500 - sum(inside.values()) and {12, 22} <= set(r["outside_rows"])


def test_bad_rows_are_named_and_the_dataset_is_left_byte_identical(tmp_path, dataset):
    path = tmp_path / "bad.csv"
    path.write_text("经度,纬度,人数\n121.47,31.23,5\n121.48,31.24,-3\n121.49,abc,2\n"
                    "121.5,31.2,七\n", encoding="utf-8")
    before = tree_digest(dataset)
    res = run("demand", "import", str(path), "--dataset", str(dataset), "--lang", "en")
    assert res.exit_code == 2
    assert "error: bad.csv: row 3 column '人数': the count '-3' is negative (and 2 more " \
        "problems)" in res.output
    assert "'abc' is not a number" in res.output and "'七' is not a number" in res.output
    with pytest.raises(DemandFileError) as err:
        read_demand(path)
    assert [(p["row"], p["column"]) for p in err.value.problems] == \
        [(3, "人数"), (4, "纬度"), (5, "人数")]
    assert tree_digest(dataset) == before


# --- H3 tables ----------------------------------------------------------------------------

def test_h3_table_as_strings_integers_and_a_column_per_segment(tmp_path, tables):
    districts, demand = tables
    cells = some_cells(demand, 30, seed=2)
    path = tmp_path / "grid.csv"
    pd.DataFrame({"h3": [str(h3.str_to_int(c)) if i % 2 else c for i, c in enumerate(cells)],
                  "outdoor": range(30), "industrial": [7] * 30}).to_csv(path, index=False)
    src = read_demand(path)
    assert src.kind == "h3" and set(src.segments) == {"outdoor", "industrial"}
    result = import_demand(src, demand, districts, "office")
    new = result.demand.set_index("h3")
    assert (new.loc[cells, "outdoor"].to_numpy() == np.arange(30)).all()
    assert new["industrial"].sum() == 210 and new["outdoor"].sum() == sum(range(30))
    assert (new["office"] == demand.set_index("h3")["office"]).all()  # untouched
    bad = tmp_path / "bad.csv"
    bad.write_text(f"h3,count\n{cells[0]},3\n{h3.cell_to_parent(cells[1], 8)},4\nzz,1\n")
    with pytest.raises(DemandFileError) as err:
        read_demand(bad)
    assert [p["row"] for p in err.value.problems] == [3, 4]


# --- polygons -----------------------------------------------------------------------------

def squares(n: int, seed: int = 5) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(121.2, 121.7, n)
    y = rng.uniform(30.95, 31.35, n)
    size = rng.uniform(0.004, 0.02, n)
    geoms = shapely.box(x, y, x + size, y + size * 1.3)
    return gpd.GeoDataFrame({"count": rng.integers(10, 5000, n)}, geometry=geoms,
                            crs="EPSG:4326")


def test_area_weighting_equals_tobler(tables):
    from tobler.area_weighted import area_interpolate

    _, demand = tables
    polys = squares(12)
    ids = parse_cells(demand["h3"].to_numpy())
    mass, outside = spread_polygons(ids, np.asarray(polys.geometry.array),
                                    polys["count"].to_numpy(float))
    hit = np.flatnonzero(mass > 0)
    targets = gpd.GeoDataFrame({"i": hit}, geometry=cell_polygons(ids[hit]), crs="EPSG:4326")
    expect = area_interpolate(polys.to_crs("EPSG:6933"), targets.to_crs("EPSG:6933"),
                              extensive_variables=["count"], allocate_total=False
                              )["count"].to_numpy()  # what falls off the cells stays apart
    assert np.allclose(mass[hit], expect, rtol=1e-6, atol=1e-4)  # tobler's tables: float32
    assert mass.sum() + outside.sum() == pytest.approx(polys["count"].sum(), rel=1e-9)


def test_polygons_file_by_area_and_by_live_demand(tmp_path, tables):
    districts, demand = tables
    polys = squares(6, seed=9)
    path = tmp_path / "zones.geojson"
    polys.to_file(path, driver="GeoJSON")
    src = read_demand(path)
    by_area = import_demand(src, demand, districts, "outdoor")
    live = import_demand(src, demand, districts, "outdoor", weight_by="live")
    for r in (by_area, live):
        assert r.report["total_placed"] + r.report["outside"] == polys["count"].sum()
    # dasymetric: inside one polygon, cells wholly within it get mass in proportion to live
    ids = parse_cells(demand["h3"].to_numpy())
    hexes = cell_polygons(ids)
    box = shapely.box(121.45, 31.20, 121.47, 31.22)  # central Shanghai: all land
    alone = np.flatnonzero(shapely.contains(box, hexes) & (demand["outdoor"].to_numpy() > 0))
    mass, out = spread_polygons(ids, np.array([box]), np.array([1000.0]),
                                demand["outdoor"].to_numpy(float))
    assert mass.sum() + out.sum() == pytest.approx(1000)
    ratio = mass[alone] / demand["outdoor"].to_numpy()[alone]
    assert len(alone) > 3 and np.allclose(ratio, ratio[0], rtol=1e-9)


# --- rasters ------------------------------------------------------------------------------

def write_raster(path: Path, values: np.ndarray, transform, crs: str, nodata=None) -> None:
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0],
                       width=values.shape[1], count=1, dtype="float64", crs=crs,
                       transform=transform, nodata=nodata) as dst:
        dst.write(values, 1)


def test_fine_utm_raster_goes_by_pixel_centres_like_pyproj_and_h3_say(tmp_path, tables):
    from rasterio.transform import from_origin, xy

    districts, demand = tables
    rng = np.random.default_rng(11)
    values = rng.integers(0, 9, (120, 150)).astype(float)
    values[0, :5] = np.nan
    t = from_origin(340_000, 3_460_000, 50, 50)  # UTM 51N, 50 m pixels
    path = tmp_path / "pop.tif"
    write_raster(path, np.nan_to_num(values, nan=-9999), t, "EPSG:32651", nodata=-9999)
    result = import_demand(read_demand(path), demand, districts, "outdoor")
    r = result.report
    assert r["method"] == "pixel centres"
    assert r["total_read"] == np.nansum(values) == r["total_placed"] + r["outside"]
    rows, cols = np.nonzero(np.nan_to_num(values) > 0)
    x, y = (np.asarray(v) for v in xy(t, rows, cols, offset="center"))
    lon, lat = Transformer.from_crs(32651, 4326, always_xy=True).transform(x, y)
    truth = Counter()
    for o, a, v in zip(lon, lat, values[rows, cols], strict=True):
        truth[h3.latlng_to_cell(a, o, 9)] += v
    got = result.demand.set_index("h3")["outdoor"]
    known = [c for c in truth if c in got.index]
    assert sum(truth[c] for c in known) == r["total_placed"]  # whole pixels: nothing rounded
    assert all(got[c] == truth[c] for c in known)


def test_coarse_raster_goes_by_exact_fractions_and_keeps_its_total(tmp_path, tables):
    from rasterio.transform import from_origin

    districts, demand = tables
    values = np.full((20, 30), 1000.0)
    t = from_origin(121.30, 31.30, 0.01, 0.01)  # ~1 km pixels: coarser than a cell
    path = tmp_path / "coarse.tif"
    write_raster(path, values, t, "EPSG:4326")
    result = import_demand(read_demand(path), demand, districts, "outdoor")
    r = result.report
    assert r["method"] == "exact fractions"
    assert r["total_read"] == 600_000 == r["total_placed"] + r["outside"]
    # a cell wholly inside: 1000 per pixel x its share of a pixel's area, within rounding
    ids = parse_cells(result.demand["h3"].to_numpy())
    hexes = cell_polygons(ids)
    deep = shapely.contains(shapely.box(121.32, 31.12, 121.58, 31.28), hexes)
    px_area = abs(GEOD.geometry_area_perimeter(shapely.box(121.4, 31.2, 121.41, 31.21))[0])
    cell_area = np.array([h3.cell_area(c, "m^2") for c in result.demand["h3"][deep]])
    got = result.demand["outdoor"].to_numpy()[deep]
    assert np.all(np.abs(got - 1000 * cell_area / px_area) <= 1.5 + 0.02 * got)


def test_a_negative_pixel_names_its_band_and_window(tmp_path):
    from rasterio.transform import from_origin

    values = np.ones((10, 10))
    values[3, 7] = -2
    path = tmp_path / "neg.tif"
    write_raster(path, values, from_origin(121.3, 31.3, 0.001, 0.001), "EPSG:4326")
    with pytest.raises(DemandFileError, match=r"pixel \(3, 7\) of band 1 is negative"):
        read_demand(path)


# --- district tables ----------------------------------------------------------------------

def test_district_table_spreads_by_live_demand_and_sums_back_to_its_rows(tmp_path, tables):
    districts, demand = tables
    path = tmp_path / "districts.xlsx"
    pd.DataFrame({"区": ["杨浦区", "Minhang", "310115"], "户外职工数": [12_345, 54_321, 99_999]}
                 ).to_excel(path, index=False)
    result = import_demand(read_demand(path), demand, districts, "outdoor")
    after = result.demand.groupby("district_code")["outdoor"].sum()
    assert after["310110"] == 12_345 and after["310112"] == 54_321 and after["310115"] == 99_999
    assert after.drop(["310110", "310112", "310115"]).sum() == 0
    yp = result.demand["district_code"] == "310110"
    share = result.demand.loc[yp, "outdoor"] / 12_345
    live = demand.loc[yp, "outdoor"] / demand.loc[yp, "outdoor"].sum()
    assert np.abs(share - live).max() < 1.0 / 12_345 + 1e-12
    bad = tmp_path / "bad.csv"
    bad.write_text("区,人数\n杨浦区,10\n火星区,5\n", encoding="utf-8")
    with pytest.raises(DemandFileError, match="row 3"):
        import_demand(read_demand(bad), demand, districts, "outdoor")


# --- versions, the CLI and the answers ----------------------------------------------------

def test_cli_import_writes_a_version_with_the_stations_carried_over(tmp_path, dataset, tables):
    _, demand = tables
    cells = some_cells(demand, 5, seed=4)
    path = tmp_path / "grid.csv"
    pd.DataFrame({"h3": cells, "workers": [10, 20, 30, 40, 50]}).to_csv(path, index=False)
    dry = run("demand", "import", str(path), "--dataset", str(dataset), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert not (dataset / "versions").exists()
    res = run("demand", "import", str(path), "--dataset", str(dataset), "--report",
              str(tmp_path / "r.json"), "--lang", "zh")
    assert res.exit_code == 0, res.output
    (version,) = (dataset / "versions").iterdir()
    assert (version / "stations.geojson").read_bytes() == (dataset / "stations.geojson"
                                                           ).read_bytes()
    man = json.loads((version / "manifest.json").read_text("utf-8"))
    d = man["demand"]
    assert d["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (d["kind"], d["segments"], d["total_read"], d["total_placed"]) == \
        ("h3", ["outdoor"], 150, 150)
    assert d["sources"]["outdoor"] == "grid.csv"
    with gzip.open(version / "demand.csv.gz") as fh:
        table = pd.read_csv(fh, dtype={"h3": str})
    assert table["outdoor"].sum() == 150
    listed = json.loads(run("datasets", "--dataset", str(dataset), "--json").stdout)
    assert listed[0]["demand"]["source"] == "grid.csv" and listed[0]["live"]
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert sum(r["after"] for r in report["by_district"]) == 150


def test_answers_name_the_demand_source_and_the_sample_parts(tmp_path, dataset, tables):
    from app import create_app

    _, demand = tables
    path = tmp_path / "grid.csv"
    pd.DataFrame({"h3": some_cells(demand, 3), "count": [1, 2, 3]}).to_csv(path, index=False)
    assert run("demand", "import", str(path), "--dataset", str(dataset)).exit_code == 0
    client = create_app({"STATIONS_TILES": "none", "TESTING": True,
                         "STATIONS_DATA": str(dataset)}).test_client()
    relay = client.get("/api/coverage?type=relay").get_json()
    assert relay["demand_source"] == "grid.csv" and relay["sample_parts"] == ["stations"]
    assert relay["summary"]["workers"] == 6
    health = client.get("/api/coverage?type=health").get_json()
    assert health["demand_source"] == "sample" and health["sample_parts"] == ["stations",
                                                                               "demand"]
    page = client.get("/planner?lang=en").get_data(as_text=True)
    assert "the worker counts are imported" in page


def test_validate_takes_demand_files_reports_and_writes_nothing(tmp_path, tables, client):
    from rasterio.transform import from_origin

    _, demand = tables
    cells = some_cells(demand, 4, seed=8)
    body = pd.DataFrame({"h3": cells, "人数": [5, 6, 7, 8]}).to_csv(index=False).encode()
    before = tree_digest(DATA)
    ok = client.post("/api/validate", data={"kind": "demand", "segment": "office",
                                            "file": (io.BytesIO(body), "grid.csv")}).get_json()
    assert ok["ok"] and ok["kind"] == "demand" and ok["rows"] == 4
    assert (ok["demand"]["total_read"], ok["demand"]["total_placed"]) == (26, 26)
    bad = "区,人数\n杨浦区,-4\n".encode()
    res = client.post("/api/validate", data={"kind": "demand",
                                             "file": (io.BytesIO(bad), "d.csv")}).get_json()
    assert not res["ok"] and res["problems"][0]["row"] == 2
    assert "negative" in res["problems"][0]["reason"]
    tif = tmp_path / "p.tif"
    write_raster(tif, np.full((10, 10), 2.0), from_origin(121.40, 31.25, 0.0005, 0.0005),
                 "EPSG:4326")
    r = client.post("/api/validate", data={"kind": "demand",
                                           "file": (io.BytesIO(tif.read_bytes()), "p.tif")})
    assert r.status_code == 200 and r.get_json()["demand"]["total_read"] == 200
    stations_only = client.post("/api/validate", data={"file": (io.BytesIO(b"x"), "p.tif")})
    assert stations_only.status_code == 400 and stations_only.get_json()["param"] == "file"
    assert tree_digest(DATA) == before


def test_a_station_import_after_a_demand_import_keeps_the_demand_and_rollback_restores(
        tmp_path, dataset, tables):
    from geo.atlas import Atlas

    _, demand = tables
    path = tmp_path / "grid.csv"
    pd.DataFrame({"h3": some_cells(demand, 2), "count": [40, 2]}).to_csv(path, index=False)
    assert run("demand", "import", str(path), "--dataset", str(dataset)).exit_code == 0
    first = json.loads(run("datasets", "--dataset", str(dataset), "--json").stdout)[0]
    stations = tmp_path / "stations.geojson"
    doc = json.loads((dataset / "stations.geojson").read_text("utf-8"))
    everyone = len(doc["features"])
    doc["features"] = doc["features"][:30]
    stations.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    res = run("import", str(stations), "--dataset", str(dataset))
    assert res.exit_code == 0, res.output
    atlas = Atlas.load(dataset)
    assert len(atlas.stations) == 30 and atlas.demand["outdoor"].sum() == 42
    assert atlas.demand_sources["outdoor"] == "grid.csv"
    assert run("datasets", "--dataset", str(dataset), "--use", first["version"]).exit_code == 0
    back = Atlas.load(dataset)
    assert len(back.stations) == everyone == first["stations"]
    assert back.demand["outdoor"].sum() == 42


def test_an_unknown_district_is_a_table_of_rows_and_a_json_report(tmp_path, dataset):
    path = tmp_path / "d.csv"
    path.write_text("区,人数\n杨浦区,10\n火星区,5\n月球区,7\n", encoding="utf-8")
    before = tree_digest(dataset)
    report = tmp_path / "r.json"
    res = run("demand", "import", str(path), "--dataset", str(dataset), "--report",
              str(report), "--lang", "en")
    assert res.exit_code == 2 and "'火星区' is not a district" in res.output
    assert "'月球区' is not a district" in res.output  # the table lists every bad row
    assert [p["row"] for p in json.loads(report.read_text("utf-8"))["problems"]] == [3, 4]
    assert tree_digest(dataset) == before


def test_raster_pixels_off_the_land_are_named_by_band_row_and_column(tmp_path, tables):
    from rasterio.transform import from_origin, xy

    districts, demand = tables
    values = np.ones((20, 100))  # 50 m pixels across Pudong's coast, into the East China Sea
    t = from_origin(403_500, 3_452_000, 50, 50)
    path = tmp_path / "coast.tif"
    write_raster(path, values, t, "EPSG:32651", nodata=-9999)
    r = import_demand(read_demand(path), demand, districts, "outdoor").report
    rows, cols = np.nonzero(values > 0)
    x, y = (np.asarray(v) for v in xy(t, rows, cols, offset="center"))
    lon, lat = Transformer.from_crs(32651, 4326, always_xy=True).transform(x, y)
    known = set(demand["h3"])
    off = [f"band 1 pixel (row {i + 1}, column {j + 1})"
           for i, j, o, a in zip(rows, cols, lon, lat, strict=True)
           if h3.latlng_to_cell(a, o, 9) not in known]
    assert 0 < len(off) < values.size  # some on land, some at sea
    assert r["outside"] == len(off) and r["outside_row_count"] == len(off)
    assert r["outside_rows"] == off[:200]
