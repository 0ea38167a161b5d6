"""oEmbed 1.0 provider: any finder, planner, coverage or station URL of this site becomes an
iframe snippet (a `rich` response), sized within the consumer's maxwidth/maxheight."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, jsonify, request, url_for
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from app.i18n import DEFAULT_LANG, LANGS, STRINGS
from app.pages.finder_state import STATE_PARAMS
from app.state import current_atlas
from geo.errors import QueryError
from geo.questions import parse_int, shown

bp = Blueprint("oembed", __name__)

# page path -> (embed endpoint, parameters carried over, default width, height, title key)
FINDER_PARAMS = STATE_PARAMS  # the finder's whole state: time, filters, mode, language, ...
COVERAGE_PARAMS = ("type", "threshold_m", "at", "amenity", "district", "lang", "tiles", "lat",
                   "lng", "zoom", "crs")
ROUTES = {
    "/": ("embeds.finder", FINDER_PARAMS, 600, 500, "title"),
    "/embed/finder": ("embeds.finder", FINDER_PARAMS, 600, 500, "title"),
    "/planner": ("embeds.coverage", COVERAGE_PARAMS, 600, 450, "planner"),
    "/embed/coverage": ("embeds.coverage", COVERAGE_PARAMS, 600, 450, "planner"),
}
STATION_PREFIX = "/embed/station/"
STATION_SIZE = (360, 480)
MIN_SIZE = 50


class NotSupported(Exception):
    """The URL is not one of ours, or not a page that can be embedded."""


def _embed_target(url: str) -> tuple[str, int, int, str]:
    """(iframe src, default width, height, title) for a page URL of this site."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        raise NotSupported(f"not a URL of this site: {shown(url)}")
    query = MultiDict(parse_qsl(parts.query))
    lang = query.get("lang") if query.get("lang") in LANGS else DEFAULT_LANG
    if parts.path.startswith(STATION_PREFIX):
        station_id = parts.path[len(STATION_PREFIX):]
        hit = current_atlas().station(station_id)
        if hit is None:
            raise NotSupported(f"no station with id {shown(station_id)}")
        src = url_for("embeds.station", station_id=station_id, _external=True)
        keep = [(k, v) for k, v in query.items(multi=True) if k in ("lang", "tiles")]
        return _with_query(src, keep), *STATION_SIZE, str(hit.iloc[0]["name"])
    if parts.path not in ROUTES:
        raise NotSupported(f"no embeddable page at {shown(parts.path)}")
    endpoint, allowed, width, height, title_key = ROUTES[parts.path]
    keep = [(k, v) for k, v in query.items(multi=True) if k in allowed]
    return (_with_query(url_for(endpoint, _external=True), keep), width, height,
            STRINGS[lang][title_key])


def _with_query(src: str, pairs: list[tuple[str, str]]) -> str:
    """An URL with the carried-over parameters."""
    return f"{src}?{urlencode(pairs)}" if pairs else src


@bp.get("/oembed")
def oembed():
    """oEmbed: 404 for URLs we cannot embed, 501 for formats other than JSON."""
    fmt = request.args.get("format", "json").lower()
    if fmt != "json":
        return jsonify(error=f"format {shown(fmt)} is not implemented; use json"), 501
    url = request.args.get("url", "").strip()
    if not url:
        raise QueryError("url", "url is required")
    maxwidth = parse_int("maxwidth", request.args.get("maxwidth"), MIN_SIZE, 10_000, 10_000)
    maxheight = parse_int("maxheight", request.args.get("maxheight"), MIN_SIZE, 10_000, 10_000)
    try:
        src, width, height, title = _embed_target(url)
    except NotSupported as exc:
        return jsonify(error=str(exc)), 404
    width, height = min(width, maxwidth), min(height, maxheight)
    html = (f'<iframe src="{escape(src)}" width="{width}" height="{height}" '
            f'style="border:0" loading="lazy" title="{escape(title)}" '
            'sandbox="allow-scripts allow-same-origin allow-popups '
            'allow-popups-to-escape-sandbox" allow="geolocation"></iframe>')
    atlas = current_atlas()
    return jsonify({"version": "1.0", "type": "rich", "title": title,
                    "provider_name": STRINGS[DEFAULT_LANG]["embed_credit"],
                    "provider_url": url_for("pages.finder", _external=True),
                    "html": html, "width": width, "height": height,
                    "sample": atlas.is_sample})
