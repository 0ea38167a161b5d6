"""The national overview (`STATIONS_NATIONAL=DIR`): a choropleth of coverage by city and a
page per city with its districts and largest gaps, all read from precomputed results."""

from __future__ import annotations

import json

import numpy as np
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from app.i18n import STRINGS, current_lang
from app.mapview import DISPLAY_CRS, base_map
from app.pages.site import cached_map, common, map_cfg
from geo.coords import shift_geometries
from geo.io.export import gaps_geojson
from geo.national.results import NationalResults
from geo.schema import SERVES

bp = Blueprint("national", __name__, url_prefix="/national")
CHINA_CENTRE = (35.0, 105.0)
CITY_CODE = "<string(length=6):code>"


def results() -> NationalResults:
    """The loaded results, or 404 when this server was started without them."""
    res = current_app.extensions.get("national")
    if res is None:
        abort(404)
    return res


def _question(res: NationalResults, lang: str) -> str:
    """The question the results answer, in the page language."""
    t = STRINGS[lang]
    q = res.summary.get("question", {})
    kind = q.get("type", "relay")
    segments = "、".join(t[f"seg_{s}"] for s in SERVES.get(kind, ()))
    at = t["national_at"].format(at=q["at"].replace("T", " ")) if q.get("at") else ""
    return t["national_intro"].format(type=t.get(kind, kind), segments=segments, at=at,
                                      threshold=f"{q.get('threshold_m', 0):,.0f}")


def _page_cfg(lang: str, tiles: str, parts: dict, data_url: str, city_url: str) -> dict:
    """What national.js needs: the map, its datum, the colour stops, the data to draw."""
    return {"lang": lang, "t": STRINGS[lang], "map": parts["name"], **map_cfg(tiles),
            "data_url": data_url, "city_url": city_url}


@bp.get("")
def overview():
    """Coverage share by city on a map of China, and the table (lowest share first)."""
    res, lang = results(), current_lang()
    tiles = current_app.config["STATIONS_TILES"]
    parts = cached_map(f"national-{tiles}", lambda: base_map(tiles, zoom=4,
                                                            centre=CHINA_CENTRE))
    cfg = _page_cfg(lang, tiles, parts, url_for(".shapes", out_crs=DISPLAY_CRS[tiles]),
                    url_for(".city", code="000000", lang=lang))
    return render_template("national.html", page="national", map=parts, cfg=cfg,
                           cities=res.cities.to_dict("records"), intro=_question(res, lang),
                           made=res.summary, **{**common(lang, tiles), "sample": res.sample})


@bp.get(f"/{CITY_CODE}")
def city(code: str):
    """One city: its districts' coverage and its top gap zones on a map."""
    res, lang = results(), current_lang()
    found = res.city(code)
    if found is None:
        abort(404)
    tiles = current_app.config["STATIONS_TILES"]
    parts = cached_map(f"national-city-{tiles}", lambda: base_map(tiles, zoom=9,
                                                                 centre=CHINA_CENTRE))
    cfg = _page_cfg(lang, tiles, parts,
                    url_for(".city_gaps", code=code, out_crs=DISPLAY_CRS[tiles]), "")
    return render_template("national_city.html", page="national", map=parts, cfg=cfg,
                           row=found["city"], intro=_question(res, lang),
                           districts=found["districts"].to_dict("records"),
                           gaps=found["gaps"].drop(columns="geometry").to_dict("records")
                           if len(found["gaps"]) else [],
                           **{**common(lang, tiles), "sample": res.sample})


def _geojson(frame, crs: str, **top) -> Response:
    """A layer in the display datum, as GeoJSON."""
    frame = frame.copy()
    frame["geometry"] = shift_geometries(np.asarray(frame.geometry.array), crs)
    body = json.dumps(gaps_geojson(frame, **top), ensure_ascii=False)
    return Response(body, mimetype="application/geo+json")


def _crs(raw: str | None) -> str:
    """The display datum asked for (what the map's tiles use)."""
    return raw if raw in DISPLAY_CRS.values() else "wgs84"


@bp.get("/cities.geojson")
def shapes():
    """Every city's outline with its coverage figures (precomputed, shifted for display)."""
    res = results()
    crs = _crs(request.args.get("out_crs"))
    cache = current_app.extensions.setdefault("national_shapes", {})
    if crs not in cache:
        cache[crs] = _geojson(res.shapes, crs, sample=res.sample).get_data()
    return Response(cache[crs], mimetype="application/geo+json")


@bp.get(f"/{CITY_CODE}/gaps.geojson")
def city_gaps(code: str):
    """A city's top gap zones (precomputed), in the display datum."""
    res = results()
    found = res.city(code)
    if found is None:
        abort(404)
    return _geojson(found["gaps"], _crs(request.args.get("out_crs")), sample=res.sample)
