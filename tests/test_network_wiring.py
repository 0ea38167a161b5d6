"""Street networks wired into coverage, the API, the CLI; and a real Shanghai extract."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import h3
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod, Transformer

from app import create_app
from app.cli.main import cli
from geo.analysis.coverage import compute_coverage
from geo.atlas import Atlas
from geo.index.nearest import NearestIndex
from geo.io.datasets import DEFAULT_DATA_DIR
from geo.io.demand_profiles import flat_profiles
from geo.io.districts import load_districts
from geo.io.stations import load_stations
from geo.io.street_graph import load_graph
from geo.questions import CoverageSpec
from tests.osm_fixtures import lonlat, river_town

GEOD = Geod(ellps="WGS84")
SHARED_OSM = Path(__file__).resolve().parents[2] / "shared" / "osm" / "shanghai"


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return river_town(tmp_path_factory.mktemp("osm") / "river_town.osm")


@pytest.fixture(scope="module")
def town_stations(tmp_path_factory):
    """Two relay stations: one west of the river, one far east (beyond the bridge)."""
    feats = []
    for sid, (x, y) in {"west": (-100, 10), "east": (300, 300)}.items():
        lon, lat = lonlat(x, y)
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                      "properties": {"id": sid, "name": f"Station {sid}", "type": "relay",
                                     "district": "黄浦区", "district_code": "310101",
                                     "opening_hours": "24/7", "amenities": ["water"],
                                     "source": "test"}})
    path = tmp_path_factory.mktemp("st") / "stations.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def town_atlas(stations_path: Path, town: Path, keep: tuple[str, ...] = ("west", "east")
               ) -> Atlas:
    """Cells over the town, ten outdoor workers each; only the stations in `keep`."""
    centre = h3.latlng_to_cell(*lonlat(50, 200)[::-1], 9)
    cells = sorted(h3.grid_disk(centre, 4))
    demand = pd.DataFrame({"h3": cells, "district_code": "310101", "outdoor": 10, "office": 0,
                           "industrial": 0})
    st = load_stations(stations_path)
    st = st[st["id"].isin(keep)].reset_index(drop=True)
    atlas = Atlas(st, load_districts(DEFAULT_DATA_DIR / "districts.geojson"), demand,
                  NearestIndex(st), profiles=flat_profiles())
    atlas.add_network(town, "walk")
    return atlas


def independent_network_distance(G, lon: float, lat: float, stations) -> float:
    """Brute-force snap (every node, in UTM) + networkx, + both access legs."""
    to_m = Transformer.from_crs(4326, 32651, always_xy=True)
    nodes = list(G.nodes)
    nx_, ny_ = to_m.transform([G.nodes[n]["x"] for n in nodes], [G.nodes[n]["y"] for n in nodes])

    def snap(x, y):
        px, py = to_m.transform(x, y)
        d = np.hypot(np.array(nx_) - px, np.array(ny_) - py)
        return nodes[int(np.argmin(d))], float(d.min())

    start, leg = snap(lon, lat)
    if leg > 500:
        return np.inf
    best = np.inf
    for slon, slat in stations:
        end, sleg = snap(slon, slat)
        if sleg > 500:
            continue
        with contextlib.suppress(nx.NetworkXNoPath):
            best = min(best, leg + nx.shortest_path_length(G, start, end, weight="length") + sleg)
    return best


def test_network_coverage_differs_from_straight_where_the_river_is(town, town_stations):
    atlas = town_atlas(town_stations, town, keep=("west",))
    straight = compute_coverage(atlas, CoverageSpec("relay", 400))
    street = compute_coverage(atlas, CoverageSpec("relay", 400, mode="walk"))
    G = load_graph(town, "walk")
    st = [(r.lon, r.lat) for r in atlas.stations.itertuples()]
    grid = atlas.grid
    want = np.array([independent_network_distance(G, grid.lon[i], grid.lat[i], st)
                     for i in range(len(grid))])
    np.testing.assert_allclose(street.distance_m, want, atol=0.05)
    lost = straight.covered & ~street.covered
    assert lost.any() and not (street.covered & ~straight.covered).any()
    # Across the river from the west station: within 400 m in a line, ~1 km via the bridge.
    xs = (grid.lon - lonlat(0, 0)[0]) * 95_234.0
    across = lost & (xs > 50)
    assert across.any()
    assert (straight.distance_m[across] < 400).all() and (street.distance_m[across] > 800).all()
    s = street.summary()
    assert s["distance_kind"] == "network" and s["unreachable_workers"] > 0
    assert straight.summary()["distance_kind"] == "straight"


def test_api_nearest_by_street_with_routes(town, town_stations):
    app = create_app({"STATIONS_DATA": str(town_stations), "STATIONS_TILES": "none",
                      "STATIONS_GRAPH_WALK": str(town)})
    c = app.test_client()
    lon, lat = lonlat(100, 10)  # east bank, by the river
    straight = c.get(f"/api/nearest?lat={lat}&lng={lon}&k=2").get_json()
    street = c.get(f"/api/nearest?lat={lat}&lng={lon}&k=2&mode=walk").get_json()
    assert straight["distance_kind"] == "straight" and street["distance_kind"] == "network"
    assert [f["id"] for f in straight["features"]] == ["west", "east"]  # 200 m over the water
    assert [f["id"] for f in street["features"]] == ["east", "west"]  # the bridge is far
    for f in street["features"]:
        route = f["properties"]["route"]
        assert route["type"] == "LineString"
        assert route["coordinates"][0] == pytest.approx([lon, lat], abs=1e-6)
        assert route["coordinates"][-1] == pytest.approx(f["geometry"]["coordinates"], abs=1e-6)
        length = sum(GEOD.inv(*a, *b)[2] for a, b in zip(route["coordinates"][:-1],
                                                          route["coordinates"][1:], strict=True))
        assert length == pytest.approx(f["properties"]["distance_m"], abs=0.5)
        sl = next(s for s in straight["features"] if s["id"] == f["id"])
        assert f["properties"]["distance_m"] >= sl["properties"]["distance_m"]
    r = c.get(f"/api/nearest?lat={lat}&lng={lon}&mode=bike")
    assert r.status_code == 400 and r.get_json()["param"] == "mode"
    doc = c.get("/api/openapi.json").get_json()  # lists the modes this server can answer
    modes = {p["name"]: p["schema"].get("enum") for p in doc["paths"]["/api/nearest"]["get"][
        "parameters"]}["mode"]
    areas = doc["paths"]["/api/service-areas"]["get"]["parameters"]
    assert modes == ["straight", "walk"]
    assert next(p for p in areas if p["name"] == "mode")["schema"]["enum"] == ["walk"]
    far = c.get("/api/nearest?lat=31.25&lng=121.45&mode=walk").get_json()
    assert far["features"] == [] and "unreachable" in far["note"]
    cov = c.get("/api/coverage?type=relay&threshold_m=400&mode=walk").get_json()
    assert cov["distance_kind"] == "network" and cov["summary"]["mode"] == "walk"
    areas = c.get("/api/service-areas?type=relay&threshold_m=300&mode=walk").get_json()
    assert {f["id"] for f in areas["features"]} == {"west", "east"}
    assert c.get("/api/service-areas?type=relay").status_code == 400


def test_straight_answers_are_unchanged_without_a_graph(client):
    body = client.get("/api/nearest?lat=31.23&lng=121.47").get_json()
    assert body["distance_kind"] == "straight" and "route" not in body["features"][0][
        "properties"]
    r = client.get("/api/nearest?lat=31.23&lng=121.47&mode=walk")
    assert r.status_code == 400 and "no walk street network" in r.get_json()["error"]


def test_cli_graph_option(town, town_stations):
    lon, lat = lonlat(100, 10)
    res = CliRunner().invoke(cli, ["--data", str(town_stations), "nearest", "--lat", str(lat),
                                   "--lng", str(lon), "--graph", str(town), "--mode", "walk",
                                   "--json", "--k", "1"], prog_name="stations")
    assert res.exit_code == 0, res.output
    fc = json.loads(res.stdout)
    assert fc["distance_kind"] == "network" and fc["features"][0]["id"] == "east"
    res = CliRunner().invoke(cli, ["--data", str(town_stations), "coverage", "--threshold",
                                   "400", "--graph", str(town)], prog_name="stations")
    assert res.exit_code == 0 and "along walk streets" in res.output
    res = CliRunner().invoke(cli, ["nearest", "--lat", "31.2", "--lng", "121.4", "--graph",
                                   "/nonexistent.osm"], prog_name="stations")
    assert res.exit_code == 2 and res.output.startswith("error: ") and "not found" in res.output


def test_fetch_network_only_on_request_and_offline_is_one_line(monkeypatch, tmp_path, town):
    import osmnx as ox

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to establish a new connection: [Errno -3] "
                              "Temporary failure in name resolution")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    out = tmp_path / "sh.graphml"
    res = CliRunner().invoke(cli, ["fetch-network", "--place", "上海市, 中国", "--mode", "walk",
                                   "--out", str(out)], prog_name="stations")
    assert res.exit_code == 2 and not out.exists()
    errors = [line for line in res.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "offline" in errors[0] and "Traceback" not in res.output
    calls = []

    def fake(place, network_type, **kwargs):
        calls.append((place, network_type))
        return load_graph(town, "walk")

    monkeypatch.setattr(ox, "graph_from_place", fake)
    res = CliRunner().invoke(cli, ["fetch-network", "--place", "杨浦区, 上海市, 中国", "--mode",
                                   "bike", "--out", str(out)], prog_name="stations")
    assert res.exit_code == 0, res.output
    assert calls == [("杨浦区, 上海市, 中国", "bike")] and out.exists()
    assert load_graph(out, "walk").number_of_edges() > 10


@pytest.mark.skipif(not SHARED_OSM.exists(), reason="../shared/osm is not beside this checkout")
def test_real_yangpu_extract_routes_couriers(tmp_path):
    """Fudan / Wujiaochang (OpenStreetMap, ODbL): load, snap the sample stations, route."""
    path = SHARED_OSM / "fudan_wujiaochang_yangpu.highways.osm"
    app = create_app({"STATIONS_TILES": "none", "STATIONS_GRAPH_WALK": str(path),
                      "STATIONS_GRAPH_BIKE": str(path)})
    atlas = app.extensions["atlas"]
    walk, bike = atlas.networks["walk"], atlas.networks["bike"]
    assert 1000 < len(walk) < 10_000 and len(bike) < len(walk)
    c = app.test_client()
    for mode in ("walk", "bike"):
        fc = c.get(f"/api/nearest?lat=31.2990&lng=121.5140&k=3&mode={mode}").get_json()
        assert fc["distance_kind"] == "network" and len(fc["features"]) == 3
        for f in fc["features"]:
            p = f["properties"]
            _, _, straight = GEOD.inv(121.5140, 31.2990, *f["geometry"]["coordinates"])
            assert p["distance_m"] >= straight - 0.01
            assert p["distance_m"] < 3 * straight + 500
            assert len(p["route"]["coordinates"]) >= 3
    cov = c.get("/api/coverage?type=relay&mode=walk").get_json()["summary"]
    assert cov["unreachable_workers"] > 0.9 * cov["workers"]  # the extract is a few km2


@pytest.mark.slow  # zones of a whole street town, 4.4 s alone: make test, not make check
def test_unreachable_gap_zones_serialise_as_valid_json(town, town_stations):
    app = create_app({"STATIONS_DATA": str(town_stations), "STATIONS_TILES": "none",
                      "STATIONS_GRAPH_WALK": str(town)})
    for group in ("connected", "site"):
        r = app.test_client().get(f"/api/gaps?type=relay&limit=5000&mode=walk&group={group}"
                                  "&min_density=0")
        text = r.get_data(as_text=True)
        body = json.loads(text)  # strict JSON: no Infinity / NaN tokens
        assert "Infinity" not in text and "NaN" not in text
        nearest = [f["properties"]["nearest_station_m"] for f in body["features"]]
        assert all(d is None or d > 0 for d in nearest)
        if group == "connected":
            assert None in nearest  # zones with no street to any station
        else:  # a site zone is reached along streets from its site
            reach = [f["properties"]["max_distance_m"] for f in body["features"]]
            assert body["features"] and all(0 <= d <= 1000 for d in reach)


def test_street_coverage_sets_match_networkx(town, town_stations):
    """Candidate -> cell sets along the streets equal brute-force snapping plus networkx."""
    atlas = town_atlas(town_stations, town, keep=("west",))
    street = compute_coverage(atlas, CoverageSpec("relay", 600, mode="walk"))
    grid = atlas.grid
    cells = np.arange(len(grid))
    sets = street.sets_from(grid.lon, grid.lat, cells)
    G = load_graph(town, "walk")
    for src in cells[::5]:
        want = np.array([independent_network_distance(G, grid.lon[t], grid.lat[t],
                                                      [(grid.lon[src], grid.lat[src])])
                         for t in cells])
        got = dict(zip(sets.row(src), sets.distance_m[sets.indptr[src]:sets.indptr[src + 1]],
                       strict=True))
        assert set(got) == set(np.flatnonzero(want <= 600)), src
        for t, d in got.items():
            assert d == pytest.approx(want[t], abs=0.05)


def test_plan_along_streets_gains_what_the_scenario_finds(town, town_stations):
    from geo.analysis.plan import cell_candidates, plan_scenario, plan_sites
    from geo.analysis.scenario import apply, recompute

    atlas = town_atlas(town_stations, town, keep=("west",))
    street = compute_coverage(atlas, CoverageSpec("relay", 400, mode="walk"))
    plan = plan_sites(street, cell_candidates(street), 2, atlas.districts, curve_max=2)
    after = recompute(apply(atlas.stations, plan_scenario(plan), "relay"), street)
    gained = after.summary()["covered"] - street.summary()["covered"]
    assert gained == plan.sites["gain"].sum() > 0
