"""Street data fixes found with the real Yangpu extracts: bike contraflow tags, and routes
without repeated points."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geo.index.network import StreetNetwork
from geo.io.street_graph import bike_contraflow
from tests.osm_fixtures import OsmBuilder, lonlat, river_town
from tests.test_network_wiring import town_stations  # noqa: F401 - fixture


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return river_town(tmp_path_factory.mktemp("osm") / "river_town.osm")


@pytest.mark.parametrize("tags, ok", [
    ({"oneway:bicycle": "no"}, True), ({"cycleway": "opposite"}, True),
    ({"cycleway": "opposite_lane"}, True), ({"cycleway": "opposite_track"}, True),
    ({"cycleway:left": "opposite_lane"}, True), ({"cycleway:right": "opposite"}, True),
    ({"cycleway": "lane"}, False), ({}, False), ({"oneway:bicycle": "yes"}, False)])
def test_contraflow_tags(tags, ok):
    assert bike_contraflow(tags) is ok


def square(tmp_path, **oneway_tags):
    """A 400 m square: the east side (0,0)->(400,0) is a one-way eastbound street with the
    given extra tags; the other three sides are two-way. Against the one-way, a bike must go
    round: 1,200 m, unless contraflow is allowed: 400 m."""
    b = OsmBuilder()
    b.way([(0, 0), (400, 0)], highway="residential", oneway="yes", **oneway_tags)
    b.way([(400, 0), (400, 400), (0, 400), (0, 0)], highway="residential")
    return b.write(tmp_path / "square.osm")


@pytest.mark.parametrize("tags, metres", [
    ({}, 1200), ({"cycleway": "opposite"}, 400), ({"cycleway__left": "opposite_lane"}, 400),
    ({"cycleway__right": "opposite_track"}, 400), ({"oneway__bicycle": "no"}, 400)])
def test_bikes_ride_against_a_one_way_only_where_osm_says_so(tmp_path, tags, metres):
    net = StreetNetwork.from_file(square(tmp_path, **tags), "bike")
    x0, y0 = lonlat(400, 0)
    x1, y1 = lonlat(0, 0)
    found = net.nearest_from(x0, y0, np.array([x1]), np.array([y1]), 1)
    assert found.distance_m[0] == pytest.approx(metres, rel=0.01)


def test_routes_have_no_repeated_consecutive_points(tmp_path):
    net = StreetNetwork.from_file(square(tmp_path), "walk")
    start = lonlat(0, 0)  # exactly on a street node
    end = lonlat(400, 400)
    found = net.nearest_from(*start, np.array([end[0]]), np.array([end[1]]), 1)
    coords = list(net.route(found, 0, start, end).coords)
    assert all(a != b for a, b in itertools.pairwise(coords))
    assert coords[0] == pytest.approx(start) and coords[-1] == pytest.approx(end)


def test_cli_graph_coverage_is_limited_to_the_graph_and_says_so(town, town_stations):  # noqa: F811
    import re

    from click.testing import CliRunner

    from app.cli.main import cli

    res = CliRunner().invoke(cli, ["--data", str(town_stations), "coverage", "--threshold",
                                   "400", "--graph", str(town)])
    assert res.exit_code == 0, res.output
    m = re.search(r"limited to the street graph's extent: (\d+) of ([\d,]+) cells", res.stdout)
    assert m and 0 < int(m.group(1)) < 100 < int(m.group(2).replace(",", ""))
    assert "None m" not in res.stdout
    share = float(re.search(r"covered [\d,]+ of [\d,]+ \(([\d.]+)%\)", res.stdout).group(1))
    assert share > 20  # of the town's workers, not 0.9 % of the city's


def test_cli_graph_nearest_from_far_off_the_streets_says_unreachable(town,
                                                                   town_stations):  # noqa: F811
    import json

    from click.testing import CliRunner

    from app.cli.main import cli

    lon, lat = lonlat(100, 5000)  # 4.5 km north of every street in the town
    args = ["--data", str(town_stations), "nearest", "--lat", str(lat), "--lng", str(lon),
            "--graph", str(town)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0 and "unreachable from the street network" in res.stdout
    assert "no station matches" not in res.stdout
    res = CliRunner().invoke(cli, [*args, "--json"])
    assert "unreachable from the street network" in json.loads(res.stdout)["note"]
