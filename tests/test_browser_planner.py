"""The planner page in headless Chromium: renders clean, reacts to the hour slider, downloads."""

from __future__ import annotations

import json

import geopandas as gpd

from tests.conftest import ARTIFACTS


def open_planner(page_factory, base: str, width: int = 1280, lang: str = "en"):
    w = page_factory(width=width, height=900)
    w.page.goto(f"{base}/planner?lang={lang}")
    w.page.wait_for_function("document.body.dataset.ready === '1'", timeout=20000)
    return w


def figures(page) -> dict:
    return page.evaluate("""() => ({share: document.getElementById('f-share').textContent,
        covered: document.getElementById('f-covered').textContent,
        usable: document.getElementById('f-usable').textContent,
        gaps: document.querySelectorAll('#gaps tbody tr').length,
        districts: document.querySelectorAll('#districts tbody tr').length,
        points: document.getElementById('hourly').dataset.points})""")


def test_planner_renders_clean(live_server, page_factory, client):
    base = live_server()
    w = open_planner(page_factory, base)
    f = figures(w.page)
    api = client.get("/api/coverage?type=relay&threshold_m=1000").get_json()["summary"]
    assert f["share"] == f"{100 * api['share_covered']:.1f} %"
    assert f["gaps"] == 20 and f["districts"] == 16 and f["points"] == "24"
    assert "Sample data" in w.page.inner_text(".sample-note")
    filled = w.page.evaluate("""() => { const cfg = JSON.parse(
        document.getElementById('cfg').textContent); const fills = new Set();
        window[cfg.districts].eachLayer(l => fills.add(l.options.fillColor));
        return fills.size; }""")
    assert filled >= 3  # a real choropleth, not one colour
    w.page.screenshot(path=str(ARTIFACTS / "planner-desk.png"))
    assert w.problems == []


def test_hour_slider_updates_the_figures(live_server, page_factory, client):
    base = live_server()
    w = open_planner(page_factory, base)
    w.page.uncheck("#p-allday")
    w.page.wait_for_function("document.body.dataset.at === '2026-11-24T10:00'")
    day = figures(w.page)
    with w.page.expect_response(lambda r: "/api/coverage?" in r.url and "T22%3A00" in r.url):
        w.page.fill("#p-hour", "22")
        w.page.dispatch_event("#p-hour", "change")
    w.page.wait_for_function("document.body.dataset.at === '2026-11-24T22:00'"
                             " && !document.body.dataset.busy")
    night = figures(w.page)
    want = client.get("/api/coverage?type=relay&threshold_m=1000&at=2026-11-24T22:00"
                      ).get_json()["summary"]
    assert night["share"] == f"{100 * want['share_covered']:.1f} %" != day["share"]
    assert int(night["usable"].replace(",", "")) == want["stations_usable"]
    assert w.problems == []


def test_gap_row_click_zooms_to_the_zone(live_server, page_factory):
    base = live_server()
    w = open_planner(page_factory, base)
    zoom = "window[JSON.parse(document.getElementById('cfg').textContent).map].getZoom()"
    before = w.page.evaluate(zoom)
    w.page.click("#gaps tbody tr:nth-child(5)")
    w.page.wait_for_timeout(600)
    assert w.page.evaluate(zoom) > before
    assert w.problems == []


def test_download_returns_valid_files(live_server, page_factory, tmp_path):
    base = live_server()
    w = open_planner(page_factory, base)
    with w.page.expect_download() as dl:
        w.page.click("#dl-gpkg")
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.suffix == ".gpkg"
    gaps = gpd.read_file(path)
    assert len(gaps) > 20 and gaps.geometry.is_valid.all()
    with w.page.expect_download() as dl:
        w.page.click("#dl-geojson")
    doc = json.loads(dl.value.path().read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(gaps)
    assert w.problems == []


def test_cells_appear_when_zoomed_in(live_server, page_factory):
    base = live_server()
    w = open_planner(page_factory, base)
    with w.page.expect_response(lambda r: "/api/coverage/cells" in r.url) as resp:
        w.page.evaluate("window[JSON.parse(document.getElementById('cfg').textContent).map]"
                        ".setView([31.2304, 121.4737], 15)")
    assert resp.value.status == 200 and resp.value.json()["count"] > 0
    assert w.problems == []


def test_planner_in_chinese_at_360_has_no_horizontal_scroll(live_server, page_factory):
    base = live_server()
    w = open_planner(page_factory, base, width=360, lang="zh")
    assert w.page.inner_text("h1") == "覆盖规划"
    width = w.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    w.page.screenshot(path=str(ARTIFACTS / "planner-360.png"), full_page=True)
    assert w.problems == []
