"""GET /api/search: a place, district, station, typed coordinates or a pasted share link."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.i18n import DEFAULT_LANG, LANGS
from app.state import current_atlas
from geo.coords import from_wgs84, to_wgs84
from geo.errors import QueryError
from geo.finder.place_search import GEONAMES_CREDIT, MAX_QUERY, find_places
from geo.finder.typed_point import MAX_TEXT, parse_text_point
from geo.questions import parse_choice, parse_crs

bp = Blueprint("search_api", __name__, url_prefix="/api")


def _point(kind: str, label: str, detail: str, lon: float, lat: float, out_crs: str,
           **extra) -> dict:
    """One hit: WGS-84 position and the same point in the caller's display datum."""
    x, y = (round(float(v), 7) for v in from_wgs84(lon, lat, out_crs))
    return {"kind": kind, "label": label, "detail": detail, "lon": round(lon, 7),
            "lat": round(lat, 7), "x": x, "y": y, **extra}


@bp.get("/search")
def search():
    """Coordinates and links first (they are unambiguous about place), then names."""
    raw = request.args.get("q", "")
    if len(raw) > MAX_TEXT:
        raise QueryError("q", f"q is at most {MAX_TEXT} characters")
    q = raw.strip()
    if not q:
        raise QueryError("q", "q is required: a place, station, address, coordinates or link")
    lang = parse_choice("lang", request.args.get("lang"), LANGS) or DEFAULT_LANG
    out_crs = parse_crs("out_crs", request.args.get("out_crs"))
    a = current_atlas()
    results = []
    for pt in parse_text_point(q):
        lon, lat = (float(v) for v in to_wgs84(pt.lon, pt.lat, pt.crs))
        results.append(_point(pt.source, f"{pt.lat:.6f}, {pt.lon:.6f}", pt.crs, lon, lat,
                              out_crs, crs=pt.crs))
    note = None
    if not results and "://" in q:
        note = ("this link carries no coordinates (a short link?): open it in the map app, "
                "then share the place's full link or its coordinates")
    elif not results:
        results = [_point(p.kind, p.label, p.detail, p.lon, p.lat, out_crs,
                          **({"id": p.id} if p.id else {}))
                   for p in find_places(q[:MAX_QUERY], a.stations, a.districts, lang)]
    return jsonify({"query": q, "results": results, "note": note,
                    "credit": GEONAMES_CREDIT, "sample": a.is_sample})
