"""With a street graph loaded, Chromium draws street routes and service areas."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.osm_fixtures import lonlat, river_town
from tests.test_network_wiring import town_stations  # noqa: F401 - fixture


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return river_town(tmp_path_factory.mktemp("osm") / "river_town.osm")


def test_finder_draws_routes_along_streets(live_server, page_factory, town,
                                           town_stations):  # noqa: F811
    base = live_server({"STATIONS_DATA": str(town_stations), "STATIONS_GRAPH_WALK": str(town)})
    lon, lat = lonlat(100, 10)
    w = page_factory(width=600, height=700)
    with w.page.expect_response(lambda r: "/api/nearest" in r.url) as resp:
        w.page.goto(f"{base}/embed/finder?lat={lat}&lng={lon}&zoom=16&open_now=0&lang=en&k=2")
    assert "mode=walk" in resp.value.url
    body = resp.value.json()
    assert body["distance_kind"] == "network"
    w.page.wait_for_selector("#results li")
    assert w.page.eval_on_selector_all("#results li", "e => e.map(x => x.dataset.id)") == [
        f["id"] for f in body["features"]]
    points = w.page.evaluate("""() => { const out = [];
        window[JSON.parse(document.getElementById('cfg').textContent).map].eachLayer(l => {
          if (l instanceof L.Polyline && !(l instanceof L.Polygon))
            out.push(l.getLatLngs().length); });
        return out; }""")
    want = sorted(len(f["properties"]["route"]["coordinates"]) for f in body["features"])
    assert sorted(points) == want and min(want) > 2  # routes, not straight two-point lines
    w.page.screenshot(path=str(ARTIFACTS / "finder-routes.png"))
    assert w.problems == []


def test_full_finder_offers_the_distance_mode(live_server, page_factory, town,
                                              town_stations):  # noqa: F811
    base = live_server({"STATIONS_DATA": str(town_stations), "STATIONS_GRAPH_WALK": str(town)})
    w = page_factory(width=360)
    w.page.goto(base + "/?lang=en")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    options = w.page.eval_on_selector_all("#f-mode option", "e => e.map(o => o.value)")
    assert options == ["walk", "straight"]
    assert "along streets" in w.page.inner_text("#distance-kind")
    assert w.problems == []


def test_planner_shows_service_areas(live_server, page_factory, town,
                                     town_stations):  # noqa: F811
    base = live_server({"STATIONS_DATA": str(town_stations), "STATIONS_GRAPH_WALK": str(town)})
    w = page_factory(width=1280, height=900)
    w.page.goto(base + "/planner?lang=en")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    w.page.select_option("#p-mode", "walk")
    w.page.wait_for_function("document.getElementById('p-kind').textContent.includes('walk')")
    with w.page.expect_response(lambda r: "/api/service-areas" in r.url) as resp:
        w.page.check("#p-areas")
    assert resp.value.status == 200
    w.page.wait_for_function("document.body.dataset.areas === '2'")
    assert w.problems == []
