"""Street-network distances on hand-built OSM XML, checked against networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.errors import NetworkError
from geo.index.network import StreetNetwork
from geo.io.street_graph import load_graph
from tests.osm_fixtures import OsmBuilder, lonlat, river_town

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return river_town(tmp_path_factory.mktemp("osm") / "river_town.osm")


@pytest.fixture(scope="module")
def graphs(town):
    return {mode: load_graph(town, mode) for mode in ("walk", "bike")}


def node_at(G, x: float, y: float):
    lon, lat = lonlat(x, y)
    return min(G.nodes, key=lambda n: (G.nodes[n]["x"] - lon) ** 2 + (G.nodes[n]["y"] - lat) ** 2)


def at(G, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """The exact position of the street node at (x, y), as query arrays."""
    n = node_at(G, x, y)
    return np.array([G.nodes[n]["x"]]), np.array([G.nodes[n]["y"]])


def straight(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(*lonlat(*a), *lonlat(*b))[2]


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_river_with_one_bridge_100_m_apart_is_1_km_by_street(graphs, mode):
    G = graphs[mode]
    net = StreetNetwork.from_graph(G, mode)
    a, b = (0, 0), (100, 0)
    assert straight(a, b) == pytest.approx(100, abs=1)
    reach = net.reach(*at(G, *b))
    d, st = net.point_distances(reach, *at(G, *a))
    want = nx.shortest_path_length(G, node_at(G, *a), node_at(G, *b), weight="length")
    assert d[0] == pytest.approx(want, abs=1e-5) and st[0] == 0
    assert d[0] == pytest.approx(1000, abs=5)


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_multi_source_pass_equals_networkx_for_every_node(graphs, mode):
    G = graphs[mode]
    net = StreetNetwork.from_graph(G, mode)
    spots = [(-200, 300), (100, 150), (300, 450)]
    nodes = [node_at(G, *p) for p in spots]
    lon = np.array([G.nodes[n]["x"] for n in nodes])
    lat = np.array([G.nodes[n]["y"] for n in nodes])
    reach = net.reach(lon, lat)
    order = list(G.nodes)
    for i, n in enumerate(order):
        per_station = []
        for s in nodes:
            try:
                per_station.append(nx.shortest_path_length(G, n, s, weight="length"))
            except nx.NetworkXNoPath:
                per_station.append(np.inf)
        assert reach.distance_m[i] == pytest.approx(min(per_station), abs=1e-5)
        assert per_station[reach.station[i]] == pytest.approx(min(per_station), abs=1e-5)


def test_one_way_streets_bind_bikes_not_walkers(graphs):
    a, b = (300, 450), (300, 0)  # against the northbound one-way
    d = {}
    for mode, G in graphs.items():
        net = StreetNetwork.from_graph(G, mode)
        reach = net.reach(*at(G, *b))
        d[mode] = net.point_distances(reach, *at(G, *a))[0][0]
        want = nx.shortest_path_length(G, node_at(G, *a), node_at(G, *b), weight="length")
        assert d[mode] == pytest.approx(want, abs=1e-5)
    assert d["walk"] == pytest.approx(450, abs=3)
    assert d["bike"] > d["walk"] + 150
    G = graphs["bike"]
    assert nx.shortest_path_length(G, node_at(G, *b), node_at(G, *a), weight="length") \
        == pytest.approx(450, abs=3)  # with the flow it is direct


def test_mode_filters(graphs):
    def kinds(G):
        return {str(d.get("highway")) for *_, d in G.edges(data=True)}

    assert "footway" in kinds(graphs["walk"]) and "steps" in kinds(graphs["walk"])
    assert {"footway", "steps", "motorway"}.isdisjoint(kinds(graphs["bike"]))
    assert "motorway" not in kinds(graphs["walk"])
    for G in graphs.values():
        assert all("highway" in d for *_, d in G.edges(data=True))  # no river, no building


def test_far_points_are_unreachable_not_snapped(graphs):
    net = StreetNetwork.from_graph(graphs["walk"], "walk")
    far = lonlat(150, 1400)  # ~950 m north of the nearest street
    node, leg = net.snap(np.array([far[0]]), np.array([far[1]]))
    assert node[0] == -1 and np.isinf(leg[0])
    reach = net.reach(np.array([far[0]]), np.array([far[1]]))
    assert np.isinf(reach.distance_m).all()  # a station off the network serves nobody
    near = lonlat(0, -60)  # 60 m south of a street end: an access leg, not a failure
    node, leg = net.snap(np.array([near[0]]), np.array([near[1]]))
    assert node[0] >= 0 and leg[0] == pytest.approx(60, abs=1)


def test_access_legs_are_added(graphs):
    net = StreetNetwork.from_graph(graphs["walk"], "walk")
    station, point = lonlat(-100, 160), lonlat(-200, -40)  # 10 m and 40 m off the streets
    reach = net.reach(np.array([station[0]]), np.array([station[1]]))
    d, _ = net.point_distances(reach, np.array([point[0]]), np.array([point[1]]))
    G = graphs["walk"]
    via = nx.shortest_path_length(G, node_at(G, -200, 0), node_at(G, -100, 150),
                                  weight="length")
    assert d[0] == pytest.approx(via + straight((-200, -40), (-200, 0))
                                 + straight((-100, 160), (-100, 150)), abs=0.5)


def test_route_follows_the_streets(graphs):
    net = StreetNetwork.from_graph(graphs["walk"], "walk")
    st_lon, st_lat = (np.array([v]) for v in lonlat(100, 0))
    start = lonlat(0, 0)
    found = net.nearest_from(*start, st_lon, st_lat, k=1)
    line = net.route(found, 0, start, lonlat(100, 0))
    dist = found.distance_m
    assert line.coords[0] == pytest.approx(start) and line.coords[-1] == pytest.approx(
        lonlat(100, 0))
    assert GEOD.geometry_length(line) == pytest.approx(dist[0], abs=0.01)
    north = max(lat for _, lat in line.coords)
    assert north == pytest.approx(lonlat(0, 450)[1], abs=1e-5)  # over the bridge


def test_nearest_from_ranks_k_stations(graphs):
    net = StreetNetwork.from_graph(graphs["walk"], "walk")
    spots = [(100, 0), (-200, 0), (0, 300)]
    lon = np.array([lonlat(*p)[0] for p in spots])
    lat = np.array([lonlat(*p)[1] for p in spots])
    idx, dist, _, _ = net.nearest_from(*lonlat(0, 0), lon, lat, k=3)
    assert list(idx) == [1, 2, 0]  # across the river is farthest although nearest in a line
    assert np.all(np.diff(dist) > 0)


def test_service_areas_cover_what_is_within_reach(graphs):
    G = graphs["walk"]
    net = StreetNetwork.from_graph(G, "walk")
    spots = [(-200, 150), (200, 150)]
    lon = np.array([lonlat(*p)[0] for p in spots])
    lat = np.array([lonlat(*p)[1] for p in spots])
    reach = net.reach(lon, lat)
    areas = net.service_areas(reach, 200.0, 2, buffer_m=10)
    assert all(a is not None and a.is_valid for a in areas)
    for i, (x, y) in enumerate(spots):
        source = node_at(G, x, y)
        lengths = nx.single_source_dijkstra_path_length(G, source, weight="length")
        for n, d in lengths.items():
            p = shapely.Point(G.nodes[n]["x"], G.nodes[n]["y"])
            if d <= 190 and reach.station[list(G.nodes).index(n)] == i:
                assert areas[i].buffer(1e-6).contains(p)
            if d >= 260:
                assert not areas[i].contains(p)
    assert not areas[0].intersects(areas[1])  # the river keeps the two catchments apart


def test_grid_built_from_arrays_matches_networkx():
    rng = np.random.default_rng(5)
    n = 12
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    lon = 121.4 + jj.ravel() * 0.001
    lat = 31.2 + ii.ravel() * 0.001
    u, v, w = [], [], []
    for a in range(n * n):
        for b in (a + 1, a + n):
            if (b == a + 1 and (a + 1) % n == 0) or b >= n * n or rng.random() < 0.2:
                continue
            length = float(rng.uniform(90, 130))
            u += [a, b]
            v += [b, a]
            w += [length, length]
    net = StreetNetwork(lon, lat, np.array(u), np.array(v), np.array(w))
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(u, v, w, strict=True), weight="length")
    stations = [0, 77, 140]
    reach = net.reach(lon[stations], lat[stations])
    for node in range(n * n):
        if node not in G:
            continue
        best = min((nx.shortest_path_length(G, node, s, weight="length")
                    if nx.has_path(G, node, s) else np.inf) for s in stations)
        assert reach.distance_m[node] == pytest.approx(best, abs=1e-5)


@pytest.mark.parametrize(("content", "name", "fragment"), [
    ("<osm version='0.6'></osm>", "empty.osm", "cannot read"),
    ("<osm version='0.6'><node id='1' lat='31.2' lon='121.4'/>"
     "<node id='2' lat='31.201' lon='121.4'/><way id='1'><nd ref='1'/><nd ref='2'/>"
     "<tag k='waterway' v='river'/></way></osm>", "river.osm", "no walk streets"),
    ("not xml at all", "broken.osm", "cannot read"),
    ("", "graph.shp", "use a .graphml"),
])
def test_bad_graph_files_explain(tmp_path, content, name, fragment):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(NetworkError, match=fragment):
        load_graph(path, "walk")
    with pytest.raises(NetworkError, match="file not found"):
        load_graph(tmp_path / "missing.osm", "walk")
    with pytest.raises(NetworkError, match="unknown mode"):
        load_graph(path, "car")


def test_graphml_round_trip(tmp_path, graphs):
    import osmnx as ox

    path = tmp_path / "walk.graphml"
    ox.save_graphml(graphs["walk"], path)
    G = load_graph(path, "walk")
    assert G.number_of_nodes() == graphs["walk"].number_of_nodes()


def test_osm_bz2_is_read(tmp_path, town):
    import bz2

    path = tmp_path / "town.osm.bz2"
    path.write_bytes(bz2.compress(town.read_bytes()))
    assert load_graph(path, "walk").number_of_edges() > 20


def test_oneway_bicycle_no_lets_bikes_ride_both_ways(tmp_path):
    b = OsmBuilder()
    b.way([(0, 0), (0, 300)], highway="residential", oneway="yes", oneway__bicycle="no")
    b.way([(0, 300), (200, 300), (200, 0), (0, 0)], highway="residential")
    G = load_graph(b.write(tmp_path / "contra.osm"), "bike")
    top, bottom = node_at(G, 0, 300), node_at(G, 0, 0)
    assert nx.shortest_path_length(G, top, bottom, weight="length") == pytest.approx(300, abs=3)
