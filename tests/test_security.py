"""Hostile station names: never executed, always shown as the exact text."""

from __future__ import annotations

import json

import pytest

HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    '</script><script>window.__pwned=2</script>',
    '${window.__pwned=3}',
    '`; window.__pwned=4; `',
    'back\\1slash \\0 and \\x3cb>',
    '"><svg onload=window.__pwned=6>',
    "{{7*7}} {% raw %}",
]


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory):
    """Seven stations around People's Square whose names and addresses are attacks."""
    feats = []
    for i, name in enumerate(HOSTILE):
        feats.append({"type": "Feature",
                      "geometry": {"type": "Point",
                                   "coordinates": [121.4737 + 0.0006 * i, 31.2304 + 0.0004 * i]},
                      "properties": {"id": f"h{i}", "name": name, "type": "relay",
                                     "district": "黄浦区", "district_code": "310101",
                                     "address": name, "opening_hours": "24/7",
                                     "amenities": ["water"], "source": "test"}})
    path = tmp_path_factory.mktemp("hostile") / "stations.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), "utf-8")
    return path


def test_api_returns_names_as_plain_json_strings(hostile_file):
    from app import create_app

    client = create_app({"STATIONS_DATA": str(hostile_file), "STATIONS_TILES": "none"}
                        ).test_client()
    fc = client.get("/api/nearest?lat=31.2304&lng=121.4737&k=7").get_json()
    assert sorted(f["properties"]["name"] for f in fc["features"]) == sorted(HOSTILE)
    html = client.get("/").get_data(as_text=True)
    for name in HOSTILE:
        assert name not in html  # nothing from the data is inlined in the page


def test_chromium_shows_hostile_names_as_text_and_runs_none(hostile_file, live_server,
                                                            page_factory):
    base = live_server({"STATIONS_DATA": str(hostile_file)})
    w = page_factory(width=400)
    w.page.goto(base + "/?lang=en&k=10")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    w.page.select_option("#f-time", "any")
    w.page.wait_for_timeout(300)
    # Open every station's tooltip: Leaflet renders each into the DOM.
    tooltips = w.page.evaluate("""() => {
        const map = window[JSON.parse(document.getElementById('cfg').textContent).map];
        map.setView([31.2316, 121.4755], 17);
        const out = [];
        map.eachLayer(l => { if (l instanceof L.CircleMarker && l.getTooltip()) {
            l.openTooltip(); out.push(l.getTooltip().getElement().textContent); }});
        return out; }""")
    assert sorted(t.rsplit(" · ", 1)[0] for t in tooltips) == sorted(HOSTILE)
    box = w.page.locator(".folium-map").bounding_box()
    with w.page.expect_response(lambda r: "/api/nearest" in r.url):
        w.page.mouse.click(box["x"] + 60, box["y"] + 8)  # the top edge: clear of the sheet
    w.page.wait_for_selector("#results li")
    names = w.page.eval_on_selector_all("#results .r-name", "els => els.map(e => e.textContent)")
    assert sorted(names) == sorted(HOSTILE)
    assert w.page.inner_text("#card h3") == names[0]
    assert w.page.evaluate("window.__pwned") is None
    assert w.page.locator("#results img, #results svg, #results script, #card img, #card svg, "
                          "#card script").count() == 0
    assert w.dialogs == [] and w.problems == []
