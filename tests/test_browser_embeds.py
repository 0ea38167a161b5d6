"""Embeds framed by another origin in headless Chromium: they render, they work, and a
non-embed page is refused."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ARTIFACTS
from tests.test_browser_finder import EMPTY_SPOT, tap_empty

SANDBOX = 'sandbox="allow-scripts allow-same-origin allow-popups"'


@pytest.fixture(scope="module")
def other_origin():
    """A plain page server on another port: a different origin from the app."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "").encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield pages, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def app_problems(watch, base: str) -> list[str]:
    """Problems of requests to the app (the frames), not of the host page's own favicon."""
    return [p for p in watch.problems if base in p or not p.startswith(("failed", "4", "5"))]


def test_embeds_render_inside_another_origin_and_answer_clicks(live_server, other_origin,
                                                               page_factory, client):
    base = live_server()
    pages, host = other_origin
    pages["/news.html"] = f"""<!doctype html><html><head><meta charset="utf-8">
      <link rel="icon" href="data:,"><title>District union news</title></head><body>
      <h1>Where to rest</h1>
      <iframe id="finder" {SANDBOX} width="600" height="500"
        src="{base}/embed/finder?lat=31.2304&lng=121.4737&open_now=0&lang=en&k=5"></iframe>
      <iframe id="coverage" {SANDBOX} width="600" height="450"
        src="{base}/embed/coverage?type=relay&district=Huangpu&lang=en"></iframe>
      </body></html>"""
    w = page_factory(width=1300, height=1000)
    w.page.goto(host + "/news.html")
    coverage = w.page.frame_locator("#coverage")
    frames = {f.url.split("?")[0].rsplit("/", 1)[-1]: f for f in w.page.frames}
    for name in ("finder", "coverage"):
        frames[name].wait_for_function("document.body.dataset.ready === '1'", timeout=20000)
    assert coverage.locator(".rank-label").count() >= 5
    gaps = client.get("/api/gaps?type=relay&limit=10").get_json()["features"]
    listed_gaps = coverage.locator("#gap-list li")
    assert listed_gaps.count() == len(gaps) == 10  # the top gaps beside the map, in rank order
    assert f"{round(gaps[0]['properties']['workers']):,} workers" in listed_gaps.first.inner_text()
    assert "Sample data" in coverage.locator(".attribution").inner_text()
    # lat/lng in the URL already list the nearest stations inside the frame
    frames["finder"].wait_for_function("document.querySelectorAll('#results li').length === 5")
    before = frames["finder"].eval_on_selector_all("#results li", "e => e.map(x => x.dataset.id)")
    frame_box = w.page.locator("#finder").bounding_box()
    spot = frames["finder"].evaluate(EMPTY_SPOT, 0.5)
    with w.page.expect_response(lambda r: "/api/nearest" in r.url) as resp:
        w.page.mouse.click(frame_box["x"] + spot["x"], frame_box["y"] + spot["y"])
    want = [f["id"] for f in resp.value.json()["features"]]
    frames["finder"].wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('#results li')]"
        ".map(x => x.dataset.id)) === JSON.stringify(ids)", arg=want)
    assert want != before and len(want) == 5
    w.page.screenshot(path=str(ARTIFACTS / "embeds-other-origin.png"), full_page=True)
    assert app_problems(w, base) == []


def test_a_non_embed_page_cannot_be_framed_by_another_origin(live_server, other_origin,
                                                            page_factory):
    base = live_server()
    pages, host = other_origin
    pages["/steal.html"] = f"""<!doctype html><html><head><meta charset="utf-8">
      <link rel="icon" href="data:,"></head><body>
      <iframe id="full" width="600" height="400" src="{base}/"></iframe></body></html>"""
    w = page_factory(width=800, height=600)
    messages = []
    w.page.on("console", lambda m: messages.append(m.text))
    w.page.goto(host + "/steal.html")
    w.page.wait_for_timeout(1500)
    assert any("frame-ancestors 'self'" in m and ("blocked" in m or "Refused" in m)
               for m in messages), messages
    frame = next(f for f in w.page.frames if f != w.page.main_frame)
    ready = frame.evaluate("() => document.body && document.body.dataset.ready")
    assert ready is None  # the finder never ran inside the refused frame


def test_embed_snippet_reproduces_the_current_view(live_server, page_factory, other_origin):
    """Finder page: time, type, amenity, tap, 'Embed this map'; the snippet, opened in a
    frame, shows the same time, filters and list."""
    import html
    import re

    from tests.test_browser_finder import shanghai_tomorrow

    base = live_server()
    pages, host = other_origin
    w = page_factory(width=1000, height=900)
    w.page.goto(base + "/?lang=en")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    at = shanghai_tomorrow(21)
    w.page.select_option("#f-time", "at")
    w.page.fill("#f-at", at)
    w.page.dispatch_event("#f-at", "change")
    w.page.select_option("#f-type", "relay")
    w.page.check("input[value=charging]")
    w.page.wait_for_timeout(300)
    tap_empty(w.page)
    w.page.wait_for_selector("#results li")
    listed = w.page.eval_on_selector_all("#results li", "e => e.map(x => x.dataset.id)")
    w.page.click("#embed-open")
    assert w.page.inner_text("#embed-copy") == "Copy code"
    code = w.page.input_value("#embed-code")
    assert code.startswith("<iframe ") and "sandbox=" in code
    src = html.unescape(re.search(r'src="([^"]+)"', code).group(1))
    assert "type=relay" in src and "amenity=charging" in src and f"at={at}" in src.replace(
        "%3A", ":")
    assert "lang=en" in src and "zoom=" in src
    w.page.click("#embed-copy")
    w.page.wait_for_selector("#embed-copied", state="visible")
    other = page_factory(width=1000, height=700)
    other_page = other.page
    pages["/snippet.html"] = ("<!doctype html><title>host</title>"
                              f"<link rel=icon href='data:,'>{code}")
    other_page.goto(host + "/snippet.html")
    frame = other_page.frame_locator("iframe")
    frame.locator("#results li").first.wait_for(timeout=20000)
    inner = next(f for f in other_page.frames if f != other_page.main_frame)
    inner.wait_for_function(f"document.querySelectorAll('#results li').length === {len(listed)}")
    assert inner.eval_on_selector_all("#results li", "e => e.map(x => x.dataset.id)") == listed
    assert inner.input_value("#f-time") == "at" and inner.input_value("#f-at") == at
    assert inner.input_value("#f-type") == "relay" and inner.is_checked("input[value=charging]")
    statuses = inner.eval_on_selector_all("#results .r-status", "e => e.map(x => x.textContent)")
    assert all(s.startswith("Open") for s in statuses)
    assert w.problems == [] and app_problems(other, base) == []


def test_planner_snippet_points_at_the_coverage_embed(live_server, page_factory):
    base = live_server()
    w = page_factory(width=1280, height=900)
    w.page.goto(base + "/planner?lang=en")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    w.page.select_option("#p-type", "health")
    w.page.wait_for_function("document.getElementById('p-threshold').value === '3000'")
    w.page.click("#embed-open")
    code = w.page.input_value("#embed-code")
    assert "/embed/coverage?" in code and "type=health" in code and "threshold_m=3000" in code
    assert w.problems == []
