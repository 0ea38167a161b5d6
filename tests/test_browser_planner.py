"""The planner page in headless Chromium: renders clean, reacts to the hour slider, downloads."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import geopandas as gpd
import pytest

from tests.conftest import ARTIFACTS

# one worker's live server answers the planner pages' heavy questions, each computed once
pytestmark = pytest.mark.xdist_group("planner_pages")


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
    assert w.page.inner_text("#f-demand") == "Sample data"  # where the workers came from
    gaps = json.loads(client.get("/api/gaps?type=relay&threshold_m=1000&limit=20").data)
    zones = f"{gaps['summary']['uncovered_in_zones']:,}"
    assert f"The zones hold {zones} of the {gaps['summary']['uncovered']:,}" in \
        w.page.inner_text("#gaps-note")
    # a real choropleth (districts come from their cached file), not one colour
    w.page.wait_for_function("""() => { const cfg = JSON.parse(
        document.getElementById('cfg').textContent); const fills = new Set(); let n = 0;
        window[cfg.map].eachLayer(l => { if (l.feature && l.feature.properties.code) {
          n++; fills.add(l.options.fillColor); } });
        return n === 16 && fills.size >= 3; }""")
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
    with w.page.expect_response(lambda r: "/api/coverage/cells" in r.url,
                                timeout=90_000) as resp:  # slow while the hours warm up
        w.page.evaluate("() => { window[JSON.parse(document.getElementById('cfg')"
                        ".textContent).map].setView([31.2304, 121.4737], 15); }")
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


def test_existing_stations_drawn_open_and_closed_at_the_hour(live_server, page_factory,
                                                           client):
    base = live_server()
    w = open_planner(page_factory, base)
    w.page.wait_for_function("document.body.dataset.stations === '1309'")
    assert w.page.evaluate("document.body.dataset.stationsClosed") == "0"  # any time: all open
    w.page.uncheck("#p-allday")
    w.page.fill("#p-hour", "22")
    w.page.dispatch_event("#p-hour", "change")
    w.page.wait_for_function("document.body.dataset.at === '2026-11-24T22:00'")
    open_at_22 = len(client.get("/api/stations?type=relay&open_at=2026-11-24T22:00&fields=id"
                                ).get_json()["features"])
    w.page.wait_for_function(f"document.body.dataset.stationsClosed === '{1309 - open_at_22}'")
    clusters = w.page.evaluate("document.querySelectorAll('.marker-cluster').length")
    assert clusters > 0  # clustered at city zoom
    assert w.problems == []


def test_plan_panel_draws_numbered_sites_and_applies_a_scenario(live_server, page_factory,
                                                                client):
    base = live_server()
    w = open_planner(page_factory, base)
    w.page.fill("#plan-k", "4")
    w.page.click("#plan-run")
    w.page.wait_for_function("document.body.dataset.plan === '4'", timeout=30000)
    api = client.get("/api/plan?type=relay&threshold_m=1000&k=4").get_json()
    rows = w.page.eval_on_selector_all("#plan-sites tbody tr",
                                       "rs => rs.map(r => r.cells[1].textContent)")
    assert rows == [f"{f['properties']['gain']:,}" for f in api["sites"]["features"]]
    labels = w.page.eval_on_selector_all(".site-label", "ls => ls.map(l => l.textContent)")
    assert sorted(labels) == ["1", "2", "3", "4"]
    assert w.page.evaluate("document.getElementById('plan-curve').dataset.points") == \
        str(len(api["curve"]))
    href = urlsplit(w.page.evaluate("document.getElementById('plan-dl-csv').href"))
    download = client.get(f"{href.path}?{href.query}")
    assert "format=csv" in href.query and download.status_code == 200
    assert download.data.decode("utf-8-sig").count("\n") == 5  # header and 4 sites
    w.page.click("#plan-apply")
    w.page.wait_for_function("document.body.dataset.scenario", timeout=30000)
    gain = sum(f["properties"]["gain"] for f in api["sites"]["features"])
    assert w.page.evaluate("document.body.dataset.scenario") == str(gain)
    assert f"+{gain:,}" in w.page.inner_text("#scenario-city")
    assert w.page.locator("#scenario-districts tbody tr").count() == 16
    w.page.screenshot(path=str(ARTIFACTS / "planner-plan.png"))
    assert w.problems == []


def test_bad_threshold_shows_a_message_and_greys_the_figures(live_server, page_factory):
    base = live_server()
    w = open_planner(page_factory, base, lang="zh")
    before = figures(w.page)
    w.page.fill("#p-threshold", "30")
    w.page.dispatch_event("#p-threshold", "change")
    w.page.wait_for_selector("#e-threshold_m:not([hidden])")
    assert w.page.inner_text("#e-threshold_m") == "服务半径须在 50 到 20,000 米之间"
    assert "stale" in w.page.evaluate("document.body.className")
    opacity = w.page.evaluate("getComputedStyle(document.querySelector('.figures')).opacity")
    assert float(opacity) < 0.5
    assert figures(w.page)["share"] == before["share"]  # kept, but marked as not matching
    w.page.fill("#p-threshold", "1500")
    w.page.dispatch_event("#p-threshold", "change")
    w.page.wait_for_function("!document.body.classList.contains('stale')"
                             " && !document.body.dataset.busy")
    assert w.page.is_hidden("#e-threshold_m") and figures(w.page)["share"] != before["share"]
    assert w.problems == []


def test_extend_hours_plan_needs_an_hour_and_names_stations(live_server, page_factory):
    base = live_server()
    w = open_planner(page_factory, base)
    w.page.select_option("#plan-kind", "extend_hours")
    w.page.click("#plan-run")
    w.page.wait_for_selector("#e-other:not([hidden])")
    assert "Any time" in w.page.inner_text("#e-other")
    w.page.uncheck("#p-allday")
    w.page.fill("#p-hour", "21")
    w.page.dispatch_event("#p-hour", "change")
    w.page.wait_for_function("document.body.dataset.at === '2026-11-24T21:00'")
    w.page.fill("#plan-k", "3")
    w.page.click("#plan-run")
    w.page.wait_for_function("document.body.dataset.plan === '3'", timeout=30000)
    compare = w.page.inner_text("#plan-compare")
    assert compare.startswith("Keeping these 3 open wins") and "3 new sites" in compare
    w.page.click("#plan-apply")
    w.page.wait_for_function("document.body.dataset.scenario", timeout=30000)
    assert int(w.page.evaluate("document.body.dataset.scenario")) > 0
    assert w.problems == []


def test_plan_from_an_uploaded_candidate_file(live_server, page_factory, tmp_path):
    base = live_server()
    w = open_planner(page_factory, base)
    pts = [[121.174351, 31.150212], [121.47, 31.23], [121.620094, 31.19768]]
    path = tmp_path / "candidates.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": p}, "properties": {}}
        for p in pts]}))
    w.page.set_input_files("#plan-file", str(path))
    w.page.fill("#plan-k", "2")
    w.page.click("#plan-run")
    w.page.wait_for_function("document.body.dataset.plan === '2'", timeout=30000)
    with w.page.expect_download() as dl:
        w.page.click("#plan-dl-geojson")
    doc = json.loads(dl.value.path().read_text())
    got = [f["geometry"]["coordinates"] for f in doc["features"]]
    assert got == [pts[0], pts[2]]  # the two uncovered sites; People's Square is covered
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json")
    w.page.set_input_files("#plan-file", str(bad))
    w.page.click("#plan-run")
    w.page.wait_for_selector("#e-candidates:not([hidden])")
    assert "GeoJSON" in w.page.inner_text("#e-candidates")
    assert w.problems == []


def test_schedule_panel_shows_hours_before_and_after_and_the_day(live_server, page_factory,
                                                                 client):
    base = live_server()
    w = open_planner(page_factory, base)
    w.page.select_option("#p-weekday", "1")
    w.page.fill("#sch-budget", "12")
    w.page.fill("#sch-earliest", "6")
    w.page.fill("#sch-latest", "23")
    w.page.click("#sch-run")
    w.page.wait_for_function("document.body.dataset.schedule", timeout=30000)
    api = client.get("/api/schedule?type=relay&threshold_m=1000&weekday=1&budget_hours=12"
                     "&earliest=06:00&latest=23:00").get_json()
    assert w.page.evaluate("document.body.dataset.schedule") == str(api["gain_worker_hours"])
    rows = w.page.eval_on_selector_all("#sch-stations tbody tr",
                                       "rs => rs.map(r => r.cells[1].textContent)")
    assert rows == [f"{s['hours_before']} → {s['hours_after']}" for s in api["stations"]]
    assert w.page.evaluate("document.getElementById('sch-day').dataset.points") == "24"
    assert w.page.locator("#sch-day polyline.compare").count() == 1
    assert w.page.evaluate("document.getElementById('sch-curve').dataset.points") == \
        str(len(api["curve"]))
    assert f"+{api['gain_worker_hours']:,}" in w.page.inner_text("#sch-summary")
    href = urlsplit(w.page.evaluate("document.getElementById('sch-dl').href"))
    download = client.get(f"{href.path}?{href.query}")
    assert download.status_code == 200 and "format=csv" in href.query
    text = download.data.decode("utf-8-sig")
    assert api["stations"][0]["hours_after"] in text
    w.page.fill("#sch-budget", "0")
    w.page.click("#sch-run")
    assert w.page.locator("#e-budget_hours").is_visible()
    w.page.screenshot(path=str(ARTIFACTS / "planner-schedule.png"))
    assert w.problems == []
