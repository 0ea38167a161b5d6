"""The finder in real headless Chromium, at 360x740 (a phone) and a desktop size: the answer
on the first screen, station cards, markers that say open or closed, filters, the URL as
state, search and share links, follow mode's HTTPS note, and answers with no network."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import ARTIFACTS

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
MAP = "window[JSON.parse(document.getElementById('cfg').textContent).map]"

# A point on the map at least 14 px from every station marker, near the top third of the
# visible map (a tap there sets the start; a tap on a marker opens its card instead).
EMPTY_SPOT = f"""(maxY) => {{ const m = {MAP}; const pts = [];
  m.eachLayer(l => {{ if (l.stationIndex !== undefined)
    pts.push(m.latLngToContainerPoint(l.getLatLng())); }});
  const r = m.getContainer().getBoundingClientRect();
  const sheet = document.getElementById('sheet').getBoundingClientRect();
  const size = m.getSize(); let best = null;
  const bottom = Math.min(size.y * maxY,
    sheet.left > r.left + 10 ? size.y : sheet.top - r.top - 10);
  for (let y = 30; y < bottom; y += 6) for (let x = 40; x < size.x - 40; x += 6) {{
    let d = Infinity; for (const p of pts) d = Math.min(d, Math.hypot(p.x - x, p.y - y));
    const c = Math.hypot(x - size.x / 2, y - size.y / 3);
    if (d > 14 && (!best || c < best.c)) best = {{x, y, c}};
  }}
  return {{x: r.left + best.x, y: r.top + best.y}}; }}"""


def open_finder(page_factory, base: str, path: str = "/", size: dict = PHONE, **ctx):
    w = page_factory(**size, **ctx)
    with w.page.expect_response(lambda r: "/api/pack" in r.url) as resp:
        w.page.goto(base + path)
    w.page.wait_for_function("document.body.dataset.ready === '1'", timeout=15000)
    w.pack = resp.value.json()
    return w


def tap_empty(page, max_y: float = 0.45):
    """Tap the map away from markers; returns the /api/nearest response it triggered."""
    spot = page.evaluate(EMPTY_SPOT, max_y)
    page.evaluate("delete document.body.dataset.results")
    with page.expect_response(lambda r: "/api/nearest" in r.url) as resp:
        page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function("document.body.dataset.results !== undefined")
    return resp.value


def listed(page) -> list[dict]:
    return page.eval_on_selector_all("#results li", """els => els.map(e => ({
        id: e.dataset.id, type: e.dataset.type,
        name: e.querySelector('.r-name').textContent}))""")


def in_viewport(page, selector: str) -> bool:
    return page.evaluate("""s => { const r = document.querySelector(s).getBoundingClientRect();
        return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth
          && r.height > 0; }""", selector)


def shanghai_tomorrow(hour: int, minute: int = 0) -> str:
    """An ISO time inside the station pack's two weeks: tomorrow, Shanghai wall clock."""
    from geo.hours import local_time

    day = local_time() + timedelta(days=1)
    return day.replace(hour=hour, minute=minute).isoformat(timespec="minutes")


def test_markers_draw_every_station_filled_when_open_hollow_when_closed(live_server,
                                                                          page_factory, client):
    base = live_server()
    at = shanghai_tomorrow(21, 30)
    w = open_finder(page_factory, base, path=f"/?lang=en&at={at}")
    assert w.page.input_value("#f-time") == "at" and w.page.input_value("#f-at") == at
    drawn = w.page.evaluate(f"""() => {{ const out = {{open: 0, closed: 0}};
        {MAP}.eachLayer(l => {{ if (l.stationIndex !== undefined)
          out[l.options.fillOpacity > 0.5 ? 'open' : 'closed']++; }}); return out; }}""")
    every = client.get("/api/stations?fields=id").get_json()["count"]
    open_then = client.get(f"/api/stations?fields=id&open_at={at}").get_json()["count"]
    assert drawn == {"open": open_then, "closed": every - open_then}
    assert 0 < open_then < every
    legend = w.page.inner_text(".legend")
    assert "filled: open then" in legend and "hollow: closed then" in legend
    w.page.screenshot(path=str(ARTIFACTS / "finder-load-360.png"))
    assert w.problems == []


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_tap_puts_the_nearest_card_on_the_first_screen(live_server, page_factory, client,
                                                         size):
    base = live_server()
    w = open_finder(page_factory, base, path="/?open_now=0", size=size)
    resp = tap_empty(w.page)
    api = resp.json()
    assert [i["id"] for i in listed(w.page)] == [f["id"] for f in api["features"]]
    first = api["features"][0]["properties"]
    assert w.page.get_attribute("#card", "data-id") == first["id"]
    assert in_viewport(w.page, "#card")  # no scrolling: the card is on the first screen
    card = w.page.inner_text("#card")
    for text in (first["name"], first["address"]):
        assert text in card
    navs = w.page.eval_on_selector_all("#card .r-nav a", "e => e.map(a => [a.textContent, a.href])")
    assert [n[0] for n in navs] == ["高德骑行", "高德步行", "百度骑行", "百度步行"]
    assert [n[1] for n in navs] == [first["nav"][k] for k in ("amap", "amap_walk", "baidu",
                                                               "baidu_walk")]
    # the map shows the start and the first station above the sheet
    visible = w.page.evaluate(f"""([o, s]) => {{ const m = {MAP};
        const sheet = document.getElementById('sheet').getBoundingClientRect();
        const box = m.getContainer().getBoundingClientRect();
        return [o, s].every(ll => {{ const p = m.latLngToContainerPoint([ll[1], ll[0]]);
          const x = box.left + p.x, y = box.top + p.y;
          return x > box.left && x < Math.min(box.right, sheet.left > box.left ? sheet.left : 1e9)
            && y > box.top && y < (innerWidth < 900 ? sheet.top : box.bottom); }}); }}""",
                                [api["origin"], api["features"][0]["geometry"]["coordinates"]])
    assert visible
    # the same question asked independently gives the same answer
    q = {k: v[0] for k, v in parse_qs(urlparse(resp.url).query).items()}
    assert [f["id"] for f in client.get("/api/nearest", query_string=q).get_json()["features"]
            ] == [i["id"] for i in listed(w.page)]
    w.page.screenshot(path=str(ARTIFACTS / f"finder-card-{size['width']}.png"))
    assert w.problems == []


def test_a_marker_tap_opens_its_card_and_keeps_the_origin(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base, path="/?open_now=0&lang=en")
    resp = tap_empty(w.page)
    first = resp.json()["features"][0]["id"]
    # a station other than the card's, on screen above the sheet, clear of other markers
    marks = w.page.evaluate(f"""() => {{ const m = {MAP}; const size = m.getSize();
        const sheetTop = document.getElementById('sheet').getBoundingClientRect().top;
        const box = m.getContainer().getBoundingClientRect(); const out = [];
        m.eachLayer(l => {{ if (l.stationIndex === undefined) return;
          const p = m.latLngToContainerPoint(l.getLatLng());
          out.push({{x: box.left + p.x, y: box.top + p.y, i: l.stationIndex,
                    ok: p.x > 20 && p.x < size.x - 20 && p.y > 20
                        && box.top + p.y < sheetTop - 10}}); }});
        return out; }}""")
    ids = w.pack["stations"]["id"]
    target = next((m for m in marks if m["ok"] and ids[m["i"]] != first
                   and all(((o["x"] - m["x"]) ** 2 + (o["y"] - m["y"]) ** 2) ** 0.5 > 13
                           for o in marks if o is not m)), None)
    assert target is not None, (len(marks), sum(m["ok"] for m in marks), w.page.url)
    origin_url = parse_qs(urlparse(w.page.url).query)
    calls = []
    w.page.on("request", lambda r: "/api/nearest" in r.url and calls.append(r.url))
    w.page.mouse.click(target["x"], target["y"])
    w.page.wait_for_function("document.body.dataset.card !== undefined")
    w.page.wait_for_timeout(300)
    sid = w.pack["stations"]["id"][target["i"]]
    assert calls == []  # no new question: the start did not move
    after = parse_qs(urlparse(w.page.url).query)
    assert (after["lat"], after["lng"]) == (origin_url["lat"], origin_url["lng"])
    assert after["station"] == [sid]
    assert w.page.get_attribute("#card", "data-id") == sid
    assert w.page.inner_text("#card h3") == w.pack["stations"]["name"][target["i"]]
    assert in_viewport(w.page, "#card h3")
    assert w.problems == []


def test_card_hours_table_is_readable_in_the_page_language(live_server, page_factory, atlas):
    base = live_server()
    rows = atlas.stations
    sid = rows[rows["opening_hours"] == "Mo-Fr 09:00-17:00; Sa 09:00-12:00"]["id"].iloc[0]
    w = open_finder(page_factory, base, path=f"/?station={sid}&lang=en")
    w.page.wait_for_function(f"document.body.dataset.card === {json.dumps(sid)}")
    w.page.click("#card .hours-box summary")
    table = w.page.eval_on_selector_all("#card table.hours tr",
                                        "e => e.map(r => r.innerText.split('\\t'))")
    assert table == [["Mon", "09:00–17:00"], ["Tue", "09:00–17:00"], ["Wed", "09:00–17:00"],
                     ["Thu", "09:00–17:00"], ["Fri", "09:00–17:00"], ["Sat", "09:00–12:00"],
                     ["Sun", "closed"]]
    # leaving while the card's feedback is still loading would abort that request
    w.page.wait_for_function(f"document.body.dataset.feedback === {json.dumps(sid)}")
    w.page.goto(base + f"/?station={sid}&lang=zh")
    w.page.wait_for_function("document.body.dataset.card !== undefined")
    w.page.click("#card .hours-box summary")
    assert w.page.inner_text("#card table.hours tr:last-child").split("\t") == ["日", "休息"]
    assert w.problems == []


def test_filters_cover_all_nine_amenities_and_update_the_list(live_server, page_factory):
    from geo.schema import AMENITIES

    base = live_server()
    w = open_finder(page_factory, base, path="/?open_now=0")
    values = w.page.eval_on_selector_all("input[name=amenity]", "e => e.map(c => c.value)")
    assert sorted(values) == sorted(AMENITIES)
    tap_empty(w.page)
    with w.page.expect_response(lambda r: "/api/nearest" in r.url and "type=health" in r.url):
        w.page.select_option("#f-type", "health")
    w.page.wait_for_function(
        "[...document.querySelectorAll('#results li')].every(e => e.dataset.type === 'health')")
    w.page.click("details.more summary")
    with w.page.expect_response(lambda r: "amenity=first_aid" in r.url) as resp:
        w.page.check("input[value=first_aid]")
    w.page.wait_for_timeout(200)
    assert [i["id"] for i in listed(w.page)] == [f["id"] for f in resp.value.json()["features"]]
    assert all("first_aid" in f["properties"]["amenities"] for f in resp.value.json()["features"])
    assert w.problems == []


def test_the_url_keeps_the_whole_state_through_reload_and_language(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base, path="/?lang=en")
    at = shanghai_tomorrow(20)
    w.page.select_option("#f-time", "at")
    w.page.fill("#f-at", at)
    w.page.dispatch_event("#f-at", "change")
    w.page.select_option("#f-type", "relay")
    w.page.check("input[value=water]")
    first = tap_empty(w.page).json()
    state = parse_qs(urlparse(w.page.url).query)
    assert state["at"] == [at] and state["type"] == ["relay"] and state["amenity"] == ["water"]
    assert "lat" in state and "zoom" in state and state["lang"] == ["en"]
    # the language link carries everything
    href = w.page.get_attribute("a.lang", "href")
    assert parse_qs(urlparse(href).query) == {**state, "lang": ["zh"]}
    # leaving while the card's feedback is still loading would abort that request
    w.page.wait_for_function("document.body.dataset.feedback !== undefined")
    with w.page.expect_response(lambda r: "/api/nearest" in r.url) as again:
        w.page.click("a.lang")
    w.page.wait_for_function("document.body.dataset.results !== undefined")
    assert w.page.inner_text("h1") == "职工驿站查找"
    assert w.page.input_value("#f-type") == "relay" and w.page.is_checked("input[value=water]")
    assert w.page.input_value("#f-at") == at
    assert [f["id"] for f in again.value.json()["features"]] == [
        f["id"] for f in first["features"]]
    assert w.problems == []


def test_open_at_a_night_time_lists_only_open_stations(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base, path=f"/?lang=en&at={shanghai_tomorrow(23, 30)}")
    resp = tap_empty(w.page)
    assert "open_at=" in resp.url
    statuses = w.page.eval_on_selector_all("#results .r-status", "e => e.map(x => x.textContent)")
    assert statuses and all(s.startswith("Open") for s in statuses)
    assert w.problems == []


def test_locate_me_and_follow_mode(live_server, page_factory, client):
    base = live_server()
    w = open_finder(page_factory, base, path="/?open_now=0",
                    geolocation={"latitude": 31.2304, "longitude": 121.4737},
                    permissions=["geolocation"])
    with w.page.expect_response(lambda r: "/api/nearest" in r.url) as resp:
        w.page.click("#locate")
    assert "crs=wgs84" in resp.value.url and "lat=31.2304000" in resp.value.url
    w.page.wait_for_selector("#results li")
    want = client.get("/api/nearest?lat=31.2304&lng=121.4737&k=5").get_json()
    assert [i["id"] for i in listed(w.page)] == [f["id"] for f in want["features"]]
    assert in_viewport(w.page, "#card")
    # follow: moving 2 km re-ranks, once the throttle allows (cfg.follow_ms)
    with w.page.expect_response(lambda r: "lat=31.2304000" in r.url):
        w.page.check("#follow")
    with w.page.expect_response(lambda r: "lat=31.2500000" in r.url, timeout=20000):
        w.page.context.set_geolocation({"latitude": 31.2500, "longitude": 121.4900})
    w.page.wait_for_function("document.querySelector('#results li') !== null")
    assert w.problems == []


def test_location_over_plain_http_explains_https(live_server, page_factory):
    base = live_server()
    w = page_factory(**PHONE)
    w.page.add_init_script("Object.defineProperty(window, 'isSecureContext', {value: false})")
    w.page.goto(base + "/?lang=en")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    w.page.click("#locate")
    assert "HTTPS" in w.page.inner_text("#notes")
    assert in_viewport(w.page, "#notes")
    assert w.problems == []


def test_far_points_and_large_k_say_so(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base, path="/?lat=40&lng=-74&open_now=0&lang=en&k=500")
    w.page.wait_for_function("document.body.dataset.results !== undefined")
    notes = w.page.inner_text("#notes")
    assert "No matching station within 20 km" in notes and "11,900" in notes.replace(
        "11900", "11,900")
    assert "At most 50 stations" in notes
    assert w.page.locator("#results li").count() == 0
    assert in_viewport(w.page, "#notes")
    problems = [p for p in w.problems if "/api/nearest" not in p]
    assert problems == []


def paste_and_search(page, text: str) -> dict:
    with page.expect_response(lambda r: "/api/search" in r.url) as resp:
        page.fill("#q", text)
        page.press("#q", "Enter")
    return resp.value.json()


def origin_of(page) -> tuple[float, float]:
    q = parse_qs(urlparse(page.url).query)
    assert q.get("crs", ["wgs84"]) == ["wgs84"]
    return float(q["lng"][0]), float(q["lat"][0])


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    from pyproj import Geod

    return Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


def test_a_pasted_amap_link_and_gcj02_coordinates_land_on_the_right_point(live_server,
                                                                           page_factory):
    from geo.coords import gcj02_to_wgs84

    base = live_server()
    w = open_finder(page_factory, base, path="/?open_now=0")
    glon, glat = 121.475500, 31.232700  # an Amap (GCJ-02) position near People's Square
    want = tuple(float(v) for v in gcj02_to_wgs84(glon, glat))
    with w.page.expect_response(lambda r: "/api/nearest" in r.url):
        paste_and_search(w.page, f"看这里 https://uri.amap.com/marker?position={glon},{glat}"
                                 "&name=%E9%A9%BF%E7%AB%99")
    w.page.wait_for_function("document.body.dataset.results !== undefined")
    assert metres(origin_of(w.page), want) < 1.0
    # typed coordinates: every datum is offered, each labelled; choose GCJ-02
    answer = paste_and_search(w.page, f"{glat}, {glon}")
    assert [h["crs"] for h in answer["results"]] == ["wgs84", "gcj02", "bd09"]
    labels = w.page.eval_on_selector_all("#search-results small", "e => e.map(x => x.textContent)")
    assert labels == ["WGS-84（GPS） 坐标", "GCJ-02（高德/腾讯） 坐标", "BD-09（百度） 坐标"]
    w.page.evaluate("delete document.body.dataset.results")
    with w.page.expect_response(lambda r: "/api/nearest" in r.url):
        w.page.click("#search-results [data-kind=coords] >> nth=1")
    assert metres(origin_of(w.page), want) < 1.0
    # a district by name, and a station by name opens its card
    answer = paste_and_search(w.page, "徐汇区")
    assert answer["results"][0]["kind"] == "district"
    name = w.pack["stations"]["name"][7]
    answer = paste_and_search(w.page, name)
    assert answer["results"][0]["kind"] == "station"
    sid = json.dumps(answer["results"][0]["id"])
    w.page.wait_for_function(f"document.body.dataset.card === {sid}")
    assert w.problems == []


def test_offline_after_one_visit_answers_like_the_api(live_server, page_factory, client):
    base = live_server()
    w = open_finder(page_factory, base, path="/?open_now=0&lang=en")
    w.page.wait_for_function("document.body.dataset.sw === 'ready'", timeout=20000)
    w.page.context.set_offline(True)
    w.page.reload()
    w.page.wait_for_function("document.body.dataset.ready === '1'", timeout=15000)
    w.page.select_option("#f-time", "any")
    spot = w.page.evaluate(EMPTY_SPOT, 0.45)
    w.page.mouse.click(spot["x"], spot["y"])
    w.page.wait_for_function("document.body.dataset.answer === 'local'", timeout=10000)
    lng, lat = origin_of(w.page)
    assert "Offline" in w.page.inner_text("#offline-note")
    assert in_viewport(w.page, "#card")
    local = w.page.evaluate("""() => [...document.querySelectorAll('#results li')].map(
        li => li.dataset.id)""")
    w.page.context.set_offline(False)
    api = client.get(f"/api/nearest?lat={lat}&lng={lng}&k=5").get_json()["features"]
    assert local == [f["id"] for f in api]
    # distances to 1 m: recompute the page's own numbers for the API's stations
    mine = w.page.evaluate(f"""(pt) => {{ const g = window.geodesic.Geodesic.WGS84;
        return {json.dumps([f["geometry"]["coordinates"] for f in api])}.map(
          c => g.Inverse(pt[1], pt[0], c[1], c[0]).s12); }}""", [lng, lat])
    for got, f in zip(mine, api, strict=True):
        assert abs(got - f["properties"]["distance_m"]) < 1.0
    navs = w.page.eval_on_selector_all("#card .r-nav a", "e => e.map(a => a.href)")
    assert navs[0].startswith("https://uri.amap.com/navigation?") and "coordinate=wgs84" in navs[0]
    w.page.screenshot(path=str(ARTIFACTS / "finder-offline-360.png"))


def test_no_horizontal_scroll_title_fits_and_touch_targets(live_server, page_factory):
    base = live_server()
    w = open_finder(page_factory, base, path="/?open_now=0")
    tap_empty(w.page)
    width = w.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == 360
    title = w.page.evaluate("""() => { const h = document.querySelector('h1');
        return [h.scrollWidth, h.clientWidth, h.getBoundingClientRect().height]; }""")
    assert title[0] <= title[1] and title[2] < 30  # one line, not cut
    small = w.page.eval_on_selector_all(
        "button, select, .chip, .btn, a.tel, summary",
        "els => els.filter(e => e.offsetParent && e.getBoundingClientRect().height < 44)"
        ".map(e => e.outerHTML.slice(0, 80))")
    assert small == []
    shown = w.page.evaluate("""() => [999.6, 999, 1000, 1049, 9999, 12345].map(
        m => window.StationCard.distance(JSON.parse(
          document.getElementById('cfg').textContent).t, m))""")
    assert shown == ["999 米", "999 米", "1.0 公里", "1.0 公里", "9.9 公里", "12 公里"]
    metas = w.page.eval_on_selector_all("meta[name=viewport]", "e => e.map(m => m.content)")
    assert metas == ["width=device-width, initial-scale=1"]
    assert w.problems == []


BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def test_amap_tiles_draw_and_ask_in_gcj02(live_server, page_factory, client):
    """Amap mode: tiles are stubbed (offline); a tap is read as GCJ-02 and results are shifted."""
    from geo.coords import gcj02_to_wgs84

    base = live_server({"STATIONS_TILES": "amap"})
    w = page_factory(**PHONE)
    w.page.route("**/*autonavi.com/**", lambda route: route.fulfill(
        status=200, content_type="image/png", body=BLANK_PNG))
    with w.page.expect_response(lambda r: "/api/pack" in r.url) as st:
        w.page.goto(base + "/?lang=en&open_now=0")
    assert "out_crs=gcj02" in st.value.url
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    assert w.page.locator("img.leaflet-tile").count() > 0
    resp = tap_empty(w.page)
    q = parse_qs(urlparse(resp.url).query)
    assert q["crs"] == ["gcj02"] and q["out_crs"] == ["gcj02"]
    wlon, wlat = gcj02_to_wgs84(float(q["lng"][0]), float(q["lat"][0]))
    assert "open_at" not in q
    want = client.get(f"/api/nearest?lat={float(wlat)}&lng={float(wlon)}&k=5").get_json()
    assert [i["id"] for i in listed(w.page)] == [f["id"] for f in want["features"]]
    assert w.problems == []


def test_not_found_page_is_in_the_page_language(live_server, page_factory):
    base = live_server()
    w = page_factory(**PHONE)
    w.page.goto(base + "/nonexistent?lang=en")
    assert w.page.inner_text("main h2") == "404 · Page not found"
    assert w.page.get_attribute("main a.btn", "href") == "/?lang=en"
    w.page.goto(base + "/nonexistent")
    assert "找不到页面" in w.page.inner_text("main h2")
