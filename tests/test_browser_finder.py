"""The finder page in real headless Chromium: loads clean, answers taps, filters, languages."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from tests.conftest import ARTIFACTS


def open_finder(page_factory, base: str, width: int = 360, path: str = "/", **ctx):
    w = page_factory(width=width, **ctx)
    with w.page.expect_response(lambda r: "/api/stations" in r.url) as resp:
        w.page.goto(base + path)
    w.page.wait_for_function("document.body.dataset.ready === '1'", timeout=15000)
    w.stations = resp.value.json()
    return w


def click_map(page, fx: float = 0.5, fy: float = 0.5):
    """Tap the map at a fraction of its box; returns the /api/nearest JSON it triggered."""
    page.locator(".folium-map").scroll_into_view_if_needed()
    box = page.locator(".folium-map").bounding_box()
    with page.expect_response(lambda r: "/api/nearest" in r.url) as resp:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    page.wait_for_function("document.body.dataset.results !== undefined")
    return resp.value


def listed(page) -> list[dict]:
    return page.eval_on_selector_all("#results li", """els => els.map(e => ({
        id: e.dataset.id, type: e.dataset.type,
        name: e.querySelector('.r-name').textContent,
        nav: [...e.querySelectorAll('.r-nav a')].map(a => a.href)}))""")


def test_page_loads_clean_and_draws_every_station(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base)
    drawn = int(w.page.evaluate("document.body.dataset.stations"))
    assert drawn == w.stations["count"] == len(w.stations["features"]) > 0
    w.page.select_option("#f-time", "any")  # all 1,512 once the "open now" filter is off
    w.page.wait_for_function("document.body.dataset.stations === '1512'")
    assert w.page.locator(".leaflet-overlay-pane canvas").count() >= 1
    assert w.page.locator(".badge").inner_text().strip() == "示例数据"
    w.page.screenshot(path=str(ARTIFACTS / "finder-load-360.png"))
    assert w.problems == []


def test_map_tap_lists_exactly_what_the_api_returns(live_server, page_factory, client):
    base = live_server()
    w = open_finder(page_factory, base, path="/?lang=en")
    w.page.select_option("#f-time", "any")
    w.page.wait_for_timeout(300)
    resp = click_map(w.page, 0.55, 0.45)
    api = resp.json()
    items = listed(w.page)
    assert [i["id"] for i in items] == [f["id"] for f in api["features"]]
    assert [i["name"] for i in items] == [f["properties"]["name"] for f in api["features"]]
    assert len(items) == 5
    # The same question asked independently gives the same answer.
    q = parse_qs(urlparse(resp.url).query)
    again = client.get("/api/nearest", query_string={k: v[0] for k, v in q.items()}).get_json()
    assert [f["id"] for f in again["features"]] == [i["id"] for i in items]
    chips = w.page.eval_on_selector_all("#results li:first-child .amenity",
                                        "els => els.map(e => e.dataset.amenity)")
    assert chips == api["features"][0]["properties"]["amenities"]
    assert items[0]["nav"][0].startswith("https://uri.amap.com/navigation?")
    assert items[0]["nav"][1].startswith("https://api.map.baidu.com/direction?")
    lines = w.page.evaluate(f"""() => {{ let n = 0; {json.dumps(api['features'][0]['id'])};
        window[JSON.parse(document.getElementById('cfg').textContent).map].eachLayer(l => {{
          if (l instanceof L.Polyline && !(l instanceof L.Polygon)) n++; }}); return n; }}""")
    assert lines == 5  # one line from the origin to each station
    w.page.screenshot(path=str(ARTIFACTS / "finder-results-360.png"), full_page=True)
    assert w.problems == []


def test_filter_change_updates_the_list(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base)
    w.page.select_option("#f-time", "any")
    w.page.wait_for_timeout(300)
    click_map(w.page)
    assert {i["type"] for i in listed(w.page)} != {"health"}
    with w.page.expect_response(lambda r: "/api/nearest" in r.url and "type=health" in r.url):
        w.page.select_option("#f-type", "health")
    w.page.wait_for_function(
        "[...document.querySelectorAll('#results li')].every(e => e.dataset.type === 'health')")
    with w.page.expect_response(lambda r: "/api/nearest" in r.url and "amenity=toilet" in r.url
                                ) as resp:
        w.page.check("input[value=toilet]")
    w.page.wait_for_timeout(200)
    assert [i["id"] for i in listed(w.page)] == [f["id"] for f in resp.value.json()["features"]]
    assert all("toilet" in f["properties"]["amenities"] for f in resp.value.json()["features"])
    assert w.problems == []


def test_open_at_a_night_time_shows_only_open_stations(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base, path="/?lang=en")
    w.page.select_option("#f-time", "at")
    w.page.fill("#f-at", "2026-11-24T23:30")
    w.page.dispatch_event("#f-at", "change")
    w.page.wait_for_timeout(300)
    resp = click_map(w.page)
    assert "open_at=2026-11-24T23%3A30" in resp.url
    statuses = w.page.eval_on_selector_all(".r-status", "els => els.map(e => e.textContent)")
    assert statuses and all(s.startswith("Open") for s in statuses)
    assert w.problems == []


def test_locate_me_uses_browser_geolocation(live_server, page_factory, client):
    base = live_server()
    w = open_finder(page_factory, base, geolocation={"latitude": 31.2304, "longitude": 121.4737},
                    permissions=["geolocation"])
    w.page.select_option("#f-time", "any")
    with w.page.expect_response(lambda r: "/api/nearest" in r.url) as resp:
        w.page.click("#locate")
    assert "crs=wgs84" in resp.value.url and "lat=31.2304000" in resp.value.url
    w.page.wait_for_selector("#results li")
    want = client.get("/api/nearest?lat=31.2304&lng=121.4737&k=5").get_json()
    assert [i["id"] for i in listed(w.page)] == [f["id"] for f in want["features"]]
    assert w.problems == []


def test_language_switch_and_no_horizontal_scroll_at_360(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base)
    assert w.page.inner_text("h1") == "职工驿站查找"
    with w.page.expect_navigation():
        w.page.click("a.lang")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    assert w.page.inner_text("h1") == "Worker station finder"
    assert w.page.get_attribute("html", "lang") == "en"
    assert "Sample data" in w.page.inner_text(".sample-note")
    click_map(w.page)
    width = w.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == 360
    small = w.page.eval_on_selector_all(
        "button, select, .chip, .btn",
        "els => els.filter(e => e.offsetParent && e.getBoundingClientRect().height < 44).length")
    assert small == 0  # touch targets at least 44 px tall
    w.page.screenshot(path=str(ARTIFACTS / "finder-en-360.png"), full_page=True)
    assert w.problems == []


BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def test_amap_tiles_draw_and_ask_in_gcj02(live_server, page_factory, client):
    """Amap mode: tiles are stubbed (offline); a tap is read as GCJ-02 and results are shifted."""
    from geo.coords import gcj02_to_wgs84

    base = live_server({"STATIONS_TILES": "amap"})
    w = page_factory(width=360)
    w.page.route("**/*autonavi.com/**", lambda route: route.fulfill(
        status=200, content_type="image/png", body=BLANK_PNG))
    with w.page.expect_response(lambda r: "/api/stations" in r.url) as st:
        w.page.goto(base + "/?lang=en")
    assert "out_crs=gcj02" in st.value.url
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    assert w.page.locator("img.leaflet-tile").count() > 0
    w.page.select_option("#f-time", "any")  # "now" twice, moments apart, could straddle 17:00
    w.page.wait_for_timeout(300)
    resp = click_map(w.page)
    q = parse_qs(urlparse(resp.url).query)
    assert q["crs"] == ["gcj02"] and q["out_crs"] == ["gcj02"]
    wlon, wlat = gcj02_to_wgs84(float(q["lng"][0]), float(q["lat"][0]))
    assert "open_at" not in q
    want = client.get(f"/api/nearest?lat={float(wlat)}&lng={float(wlon)}&k=5").get_json()
    assert [i["id"] for i in listed(w.page)] == [f["id"] for f in want["features"]]
    assert w.problems == []
