"""Page weight and speed in Chromium: bytes transferred, first paint, load.

Bytes are counted at our server, so they include what the service worker fetches. Our
finder (first visit including the offline install, repeat visit), the station and finder
embeds, beside folium's default page for the same 1,512 stations (CircleMarkers inlined in
the HTML, served gzipped by a minimal server). folium's page loads jQuery, Bootstrap and
Font Awesome from CDNs: with no internet here, its Leaflet files are answered with our
vendored copies (gzipped) and the other CDN files are counted as not loaded, so its figure
is a lower bound.

Run: python bench/pages.py  (needs Debian's chromium at /usr/bin/chromium)
Goals (issue 10): first load of / <= 120 KB, repeat visit <= 15 KB, /embed/station <= 40 KB.
"""

from __future__ import annotations

import gzip
import logging
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
LEAFLET = ROOT / "app" / "static" / "vendor" / "leaflet-1.9.3"


class Counted:
    """WSGI middleware counting response bytes (status, headers, body) the server sends,
    whoever asks: the page, or its service worker, which the page's network log misses."""

    def __init__(self, app) -> None:
        self.app, self.bytes = app, 0

    def __call__(self, environ, start_response):
        def counting(status, headers, exc_info=None):
            self.bytes += len(status) + 11 + sum(len(k) + len(v) + 4 for k, v in headers)
            return start_response(status, headers, exc_info)

        for chunk in self.app(environ, counting):
            self.bytes += len(chunk)
            yield chunk


def serve_app() -> tuple[str, Counted]:
    """Our app on a free port (werkzeug, threaded, no tiles), with its byte counter."""
    from werkzeug.serving import make_server

    from app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    counted = Counted(create_app({"STATIONS_TILES": "none"}))
    srv = make_server("127.0.0.1", 0, counted, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_port}", counted


def folium_page() -> bytes:
    """folium's default map of every station: what a quick folium script would publish."""
    import folium

    from geo.atlas import Atlas

    atlas = Atlas.load()
    m = folium.Map(location=[31.2304, 121.4737], zoom_start=11, tiles=None)
    for r in atlas.stations.itertuples():
        folium.CircleMarker([r.lat, r.lon], radius=5, tooltip=r.name).add_to(m)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "folium.html"
        m.save(str(path))
        return path.read_bytes()


def serve_static(body: bytes) -> str:
    """A minimal gzip server for one page: the floor a static host would give."""
    packed = gzip.compress(body, 6)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(packed)))
            self.end_headers()
            self.wfile.write(packed)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_port}/"


def cdn_route(route) -> None:
    """folium's CDN files: Leaflet from our vendored copy, the rest cannot be fetched here."""
    url = route.request.url
    for name, ctype in (("leaflet.js", "application/javascript"), ("leaflet.css", "text/css")):
        if url.endswith("/" + name):
            route.fulfill(status=200, body=gzip.compress((LEAFLET / name).read_bytes(), 6),
                          headers={"Content-Type": ctype, "Content-Encoding": "gzip"})
            return
    route.abort()


def measure(context, url: str, wait_ready: bool, counter: Counted | None = None,
            settle: str | None = None) -> dict:
    """One navigation: bytes the server sent (or, for other servers, the page's CDP
    encodedDataLength), first paint, load. `settle`: a condition to wait for before counting
    stops (the service worker's install)."""
    start = counter.bytes if counter else 0
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: list[int] = []
    cdp.on("Network.loadingFinished", lambda e: sizes.append(int(e["encodedDataLength"])))
    page.goto(url, wait_until="load")
    if wait_ready:
        page.wait_for_function("document.body.dataset.ready === '1'", timeout=30000)
    if settle:
        page.wait_for_function(settle, timeout=30000)
    page.wait_for_load_state("networkidle")
    timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        const p = performance.getEntriesByName('first-contentful-paint')[0];
        return {paint: p ? p.startTime : null, load: n.loadEventEnd}; }""")
    page.close()
    wire = (counter.bytes - start) if counter else sum(sizes)
    return {"kb": wire / 1024, "requests": len(sizes), **timing}


def row(name: str, m: dict) -> str:
    paint = f"{m['paint']:7.0f}" if m["paint"] is not None else "      –"
    return f"{name:44s} {m['kb']:8.1f} {m['requests']:5d} {paint} {m['load']:7.0f}"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from geo.atlas import Atlas

    base, counter = serve_app()
    station = Atlas.load().stations["id"].iloc[0]
    folium_url = serve_static(folium_page())
    print(f"{'page':44s} {'KB wire':>8s} {'reqs':>5s} {'FCP ms':>7s} {'load ms':>7s}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking"])
        # bypass_csp: Playwright's wait_for_function evaluates strings (bytes are unchanged)
        ctx = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
        sw_ready = "document.body.dataset.sw === 'ready'"
        first = measure(ctx, base + "/", True, counter, settle=sw_ready)
        repeat = measure(ctx, base + "/", True, counter, settle=sw_ready)
        ctx.close()
        results = [("/ first visit (goal <= 120 KB)", first),
                   ("/ repeat visit (goal <= 15 KB)", repeat)]
        for name, path in ((f"/embed/station/{station} (goal <= 40 KB)",
                            f"/embed/station/{station}"),
                           ("/embed/finder?lat&lng (first visit)",
                            "/embed/finder?lat=31.2304&lng=121.4737&open_now=0")):
            c = browser.new_context(viewport={"width": 360, "height": 480}, bypass_csp=True)
            results.append((name, measure(c, base + path, True, counter)))
            c.close()
        c = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
        c.route("https://**/*", cdn_route)
        results.append(("folium default page, same stations (floor*)",
                        measure(c, folium_url, False)))
        c.close()
        browser.close()
    for name, m in results:
        print(row(name, m))
    ours, theirs = results[0][1], results[-1][1]
    print(f"\nfirst visit of / vs folium's page: {ours['kb'] / theirs['kb']:.2f}x the bytes "
          f"(ours includes every station's data, hours for two weeks and the offline files)")
    print("* folium's jQuery, Bootstrap and Font Awesome CDN files are not fetchable offline "
          "and are not counted: its real first load is larger.")


if __name__ == "__main__":
    main()
