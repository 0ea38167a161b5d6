"""The national overview served from precomputed results (STATIONS_NATIONAL): tables equal
the results files, names are escaped, nothing is served without results, and Chromium draws
the choropleth and a city's gap zones."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.national.compute import national_coverage, write_coverage
from geo.national.dataset import open_dataset
from geo.questions import CoverageSpec
from tests.test_browser_a11y import violations
from tests.test_browser_csp import WATCH, wait_until

# one worker holds the module: its dask cluster and national results are built once
pytestmark = pytest.mark.xdist_group("national_pages")

HOSTILE = '<img src=x onerror="window.__x=1">'


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    """Shanghai's results through the national engine (in this process), one district
    renamed to a hostile string to prove escaping."""
    out = tmp_path_factory.mktemp("national")
    data = open_dataset("data", parent_res=5)
    data.areas.loc[data.areas["district_code"] == "310101", "district"] = HOSTILE
    result = national_coverage(data, CoverageSpec("relay"), None, out=out, top=5)
    write_coverage(result, out, {**data.meta, "question": CoverageSpec("relay").describe(),
                                 "partitions": len(data.partitions), "seconds": 1.0},
                   data.areas)
    return out


@pytest.fixture(scope="module")
def national_client(results_dir):
    from app import create_app

    app = create_app({"STATIONS_TILES": "none", "TESTING": True,
                      "STATIONS_NATIONAL": str(results_dir)})
    return app.test_client()


def test_overview_lists_every_city_from_the_results(national_client, results_dir):
    cities = pd.read_csv(results_dir / "cities.csv", encoding="utf-8-sig", dtype=str)
    html = national_client.get("/national").get_data(as_text=True)
    assert "示例数据" in html and "全国概览" in html
    for row in cities.itertuples():
        assert f'data-code="{row.city_code}"' in html and row.city in html
    assert "/national/310100" in html
    en = national_client.get("/national?lang=en").get_data(as_text=True)
    assert "National overview" in en and "Sample data" in en


def test_city_page_tables_equal_the_area_table(national_client, results_dir):
    areas = pd.read_csv(results_dir / "areas.csv", encoding="utf-8-sig")
    html = national_client.get("/national/310100").get_data(as_text=True)
    assert HOSTILE not in html and "&lt;img src=x" in html
    for row in areas.itertuples():
        assert f'<td class="num">{row.workers:,}</td><td class="num">{row.covered:,}</td>' in html
    gaps = json.loads((results_dir / "gaps.geojson").read_text(encoding="utf-8"))
    assert len(gaps["features"]) == 5
    for f in gaps["features"]:
        assert f'data-rank="{f["properties"]["rank"]}"' in html
    served = national_client.get("/national/310100/gaps.geojson").get_json()
    assert served["sample"] is True
    assert [f["properties"]["workers"] for f in served["features"]] == \
        [f["properties"]["workers"] for f in gaps["features"]]
    shifted = national_client.get("/national/310100/gaps.geojson?out_crs=gcj02").get_json()
    a = served["features"][0]["geometry"]["coordinates"][0][0]
    b = shifted["features"][0]["geometry"]["coordinates"][0][0]
    assert 0.001 < abs(a[0] - b[0]) < 0.01  # GCJ-02's few hundred metres, east


def test_unknown_city_and_no_results_are_404(national_client, client):
    assert national_client.get("/national/999999").status_code == 404
    assert national_client.get("/national/../etc").status_code == 404
    assert client.get("/national").status_code == 404  # started without results
    assert client.get("/national/cities.geojson").status_code == 404
    assert 'href="/national' not in client.get("/planner").get_data(as_text=True)
    assert 'href="/national?lang=zh"' in national_client.get("/planner").get_data(as_text=True)


def test_a_bad_results_directory_names_what_is_missing(tmp_path):
    from app import create_app

    with pytest.raises(ValueError, match=r"summary\.json"):
        create_app({"STATIONS_TILES": "none", "STATIONS_NATIONAL": str(tmp_path)})


@pytest.fixture(scope="module")
def national_server(live_server, results_dir):
    return live_server({"STATIONS_NATIONAL": str(results_dir)})


def test_chromium_draws_cities_and_clicks_through(national_server, page_factory):
    w = page_factory(width=1280, height=800, bypass_csp=False)
    w.page.add_init_script(WATCH)
    w.page.goto(national_server + "/national")
    wait_until(w.page, "document.body.dataset.ready === '1'")
    assert w.page.evaluate("document.body.dataset.drawn") == "1"
    # the map draws on a canvas: zoom onto the city and click its middle
    box = w.page.evaluate("""() => {
        const map = window[JSON.parse(document.getElementById('cfg').textContent).map];
        map.setView([31.23, 121.47], 10, {animate: false});
        const p = map.latLngToContainerPoint([31.23, 121.47]);
        const r = map.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""")
    w.page.mouse.click(*box)
    w.page.wait_for_url("**/national/310100**")
    wait_until(w.page, "document.body.dataset.ready === '1'")
    assert w.page.evaluate("document.body.dataset.drawn") == "5"
    assert w.page.evaluate("window.__x") is None  # the hostile district name stayed text
    assert w.page.locator("#districts tbody tr").count() == 16
    assert w.page.evaluate("window.__csp") == []
    assert w.problems == []


@pytest.mark.parametrize("path, size", [("/national", (1280, 800)),
                                        ("/national/310100?lang=en", (360, 740))])
def test_national_pages_have_no_serious_accessibility_violations(national_server,
                                                                  page_factory, path, size):
    w = page_factory(width=size[0], height=size[1])
    w.page.goto(national_server + path)
    w.page.wait_for_function("document.body.dataset.ready === '1'", timeout=20000)
    assert violations(w.page) == []
