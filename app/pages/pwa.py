"""Works offline: a web app manifest and a service worker that keeps the finder's shell.

The worker script is generated: it lists the exact versioned URLs the finder needs (page
shells in both languages, scripts, styles, districts, the station pack), so any change to
them changes the script, and the browser installs the new one and drops the old cache.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, render_template, url_for

from app.api.stations import pack_version
from app.i18n import DEFAULT_LANG, STRINGS
from app.mapview import DISPLAY_CRS, LEAFLET
from app.pages.site import FINDER_SCRIPTS
from app.state import current_atlas

bp = Blueprint("offline", __name__)
SHELL_FILES = (*FINDER_SCRIPTS, "snippet.js", "app.css", "favicon.svg",
               f"{LEAFLET}/leaflet.js", f"{LEAFLET}/leaflet.css")


def shell_urls() -> list[str]:
    """Everything the finder loads, at today's versions."""
    atlas = current_atlas()
    crs = DISPLAY_CRS[current_app.config["STATIONS_TILES"]]
    return [*(url_for("static", filename=f) for f in SHELL_FILES),
            url_for("api.districts", out_crs=crs, display="1", v=atlas.version),
            url_for("api.pack", out_crs=crs, v=pack_version(atlas))]


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so its scope is the whole site."""
    urls = shell_urls()
    pages = {"zh": url_for("pages.finder"), "en": url_for("pages.finder", lang="en")}
    version = hashlib.sha1(json.dumps([urls, pages]).encode()).hexdigest()[:12]
    body = render_template("sw.js", version=version, urls=urls, pages=pages,
                           pack_path=url_for("api.pack"))
    resp = Response(body, mimetype="text/javascript")
    resp.headers["Cache-Control"] = "no-cache"  # browsers re-check it on every visit
    return resp


@bp.get("/manifest.webmanifest")
def manifest():
    """Installable: name, colours, icon, and the finder as the start page."""
    t = STRINGS[DEFAULT_LANG]
    doc = {"name": t["title"], "short_name": t["title"], "lang": "zh-CN",
           "start_url": url_for("pages.finder"), "scope": "/", "display": "standalone",
           "background_color": "#f5f7fa", "theme_color": "#1b4965",
           "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any",
                      "type": "image/svg+xml"}]}
    return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/manifest+json")
