"""Coverage API for planners: summary, hourly curve, gap zones (with downloads), cells."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, Response, current_app, jsonify, request

from app.api.stations import require_mode
from app.serving.busy import Busy, checkpoint, heavy_gate, heavy_slot, needs_no_slot
from app.state import current_atlas
from geo.analysis.access import DEFAULT_MAX_PER_SEAT, station_load
from geo.analysis.coverage import (
    CoverageResult,
    compute_coverage,
    day_cover,
    day_totals,
    hourly_table,
    presence_key,
    station_service_areas,
    weekday_date,
)
from geo.analysis.zones import GROUPS
from geo.coords import from_wgs84, shift_geometries
from geo.errors import QueryError
from geo.hours import local_time
from geo.io.export import FORMATS, MEDIA_TYPES, gaps_bytes
from geo.questions import (
    CoverageSpec,
    parse_bbox,
    parse_choice,
    parse_coverage,
    parse_crs,
    parse_int,
    parse_min_density,
    parse_weekday,
)
from geo.schema import SERVES

bp = Blueprint("coverage_api", __name__, url_prefix="/api")
CACHE_SIZE = 32
MAX_CELLS = 6000
DRAW_TOLERANCE_DEG = 0.0005  # ~50 m: a third of a res-9 cell's edge
_lock = threading.Lock()


def _spec() -> CoverageSpec:
    """The coverage question from the query string."""
    a = request.args
    return _spec_from(a.get("type"), a.get("threshold_m"), a.get("at"), a.getlist("amenity"),
                      a.get("mode"))


def _spec_from(type_: str | None, threshold_m: str | None, at: str | None,
               amenities: list[str], mode: str | None) -> CoverageSpec:
    """A coverage question from strings (query or JSON body); the mode's graph must exist."""
    spec = parse_coverage(type_, threshold_m, at, amenities, mode)
    require_mode(current_atlas(), spec.mode)
    return spec


def cached(name: str, key, build):
    """A per-app LRU cache of CACHE_SIZE answers: repeated heavy questions are computed once,
    and any number of distinct questions (times, thresholds) cannot grow memory.

    A question already being computed is waited for, not computed twice (the planner asks
    for summary, gaps and curve of one question at once). A new computation needs a heavy
    slot (app/busy.py): none free is a 503. The single warm-up thread needs none.
    """
    checkpoint()  # a parameter check stops here: everything before was read and valid
    cache: OrderedDict = current_app.extensions.setdefault(name, OrderedDict())
    running: dict = current_app.extensions.setdefault(name + "_running", {})
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        done = running.get(key)
        mine = done is None
        if mine:
            done = running[key] = threading.Event()
    if not mine:
        done.wait(timeout=120)
        with _lock:
            if key in cache:
                return cache[key]
        raise Busy("the same question is still being computed; retry in a few seconds")
    try:
        with heavy_slot():  # the warm-up thread needs none (busy.needs_no_slot)
            value = build()
        with _lock:
            cache[key] = value
            while len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
    finally:
        with _lock:
            running.pop(key, None)
        done.set()
    return value


def coverage_for(spec: CoverageSpec) -> CoverageResult:
    """Cached per question: the planner page asks for summary, gaps and cells of the same one.
    Times with the same open stations share the distances, and those with the same workers
    present too (same hour and kind of day) share the zones, so an hour slider over a day
    needs only as many distance computations as the day has distinct open sets."""
    if spec.at is None:
        return cached("coverage_cache", spec, lambda: compute_coverage(current_atlas(), spec))
    atlas = current_atlas()
    mask = atlas.index.usable(spec.station_filter)
    base = (replace(spec, at=None), hashlib.sha1(mask.tobytes()).hexdigest())
    first = cached("coverage_cache", base, lambda: compute_coverage(atlas, spec))
    key = (*base, presence_key(spec, first.presence))
    result = cached("coverage_cache", key, lambda: first.for_spec(spec))
    return result if result.spec == spec else result.for_spec(spec)


def _warm_day(spec: CoverageSpec, weekday: int) -> None:
    """Compute each hour's coverage and default gap zones of a weekday in the background, once
    per question and one day at a time, between heavy requests, so the planner's hour slider
    answers from cache."""
    app = current_app._get_current_object()
    running: set = app.extensions.setdefault("warming", set())
    key = (replace(spec, at=None), weekday)
    with _lock:
        if running:  # one warm-up at a time
            return
        running.add(key)

    def run() -> None:
        needs_no_slot()  # the one background warm-up takes no slot from requests
        try:
            with app.app_context():
                day = datetime.combine(weekday_date(weekday), datetime.min.time())
                for hour in range(24):
                    heavy_gate(app).wait_until_none_taken()  # requests first
                    at = local_time(day + timedelta(hours=hour))
                    coverage_for(replace(spec, at=at)).zones()
        except QueryError:  # a question too big to zone: the request that asks is told why
            pass
        finally:
            with _lock:
                running.discard(key)

    threading.Thread(target=run, name="warm-day", daemon=True).start()


def load_for(spec: CoverageSpec, decay: str = "none", max_per_seat: float | None = None
             ) -> tuple[pd.DataFrame, np.ndarray]:
    """Station load (straight line) and cell accessibility for a question, cached."""
    limit = DEFAULT_MAX_PER_SEAT[spec.type] if max_per_seat is None else max_per_seat
    spec = replace(spec, mode="straight")

    def build():
        atlas = current_atlas()
        st = atlas.stations[atlas.index.usable(spec.station_filter)]
        g = atlas.grid
        return station_load(st, g.lon, g.lat, g.served(SERVES[spec.type]), spec.threshold,
                            decay, limit)

    return cached("load_cache", (spec, decay, limit), build)


def _meta(result: CoverageResult) -> dict:
    """What every coverage answer says about itself."""
    return {**result.spec.describe(), **current_atlas().provenance(result.spec.type)}


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (NaN to null)."""
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
             for k, v in row.items()} for row in frame.to_dict("records")]


def _download(data: bytes, fmt: str, name: str) -> Response:
    """A file answer with a sensible name."""
    ext = {"geojson": "geojson", "csv": "csv", "gpkg": "gpkg"}[fmt]
    resp = Response(data, mimetype=MEDIA_TYPES[fmt].split(";")[0])
    if fmt == "csv":
        resp.charset = "utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{ext}"'
    return resp


@bp.get("/coverage")
def coverage():
    """Summary and per-district table; `format=csv` downloads the district table."""
    fmt = parse_choice("format", request.args.get("format"), ("json", "csv")) or "json"
    result = coverage_for(_spec())
    table = result.by_district()
    if fmt == "csv":
        total = pd.DataFrame([{"code": "total", "name": "合计", "name_en": "total",
                               **{k: result.summary()[k] for k in
                                  ("workers", "covered", "uncovered", "share_covered")}}])
        csv = pd.concat([table, total]).to_csv(index=False).encode("utf-8-sig")
        return _download(csv, "csv", f"coverage-{result.spec.type}")
    return jsonify({**_meta(result), "summary": result.summary(),
                    "districts": _records(table)})


def _day_cover(spec: CoverageSpec, weekday: int):
    """Which cells are covered at each hour of a weekday, cached per question."""
    return cached("day_cover_cache", (spec, weekday),
                  lambda: day_cover(current_atlas(), spec, weekday))


@bp.get("/coverage/hourly")
def hourly():
    """Coverage at each hour of a weekday, of the workers present then: the night gap."""
    spec = _spec()
    weekday = parse_weekday("weekday", request.args.get("weekday"), 1)
    curve = hourly_table(current_atlas(), spec, weekday, *_day_cover(spec, weekday))
    total = coverage_for(replace(spec, at=None))
    _warm_day(spec, weekday)
    return jsonify({"type": spec.type, "threshold_m": spec.threshold, "weekday": weekday,
                    "workers": total.summary()["workers"],
                    "all_day": total.summary()["covered"], "hours": _records(curve),
                    **current_atlas().provenance(spec.type)})


@bp.get("/coverage/day")
def day():
    """A whole weekday in worker-hours: how much of the time workers spend out is covered."""
    spec = _spec()
    if spec.at is not None:
        raise QueryError("at", "a day's coverage covers every hour: give weekday, not at")
    weekday = parse_weekday("weekday", request.args.get("weekday"), 1)
    _, cover = _day_cover(spec, weekday)
    return jsonify({"type": spec.type, "threshold_m": spec.threshold, "weekday": weekday,
                    **day_totals(current_atlas(), spec, weekday, cover),
                    **current_atlas().provenance(spec.type)})


def _for_drawing(geoms: np.ndarray, out_crs: str, simplify: bool) -> np.ndarray:
    """Shift to the display datum; optionally drop detail finer than a third of a cell."""
    geoms = shift_geometries(geoms, out_crs)
    if simplify:
        geoms = shapely.simplify(geoms, DRAW_TOLERANCE_DEG, preserve_topology=True)
        geoms = shapely.transform(geoms, lambda c: np.round(c, 5))
    return geoms


def zones_for_drawing(zones: gpd.GeoDataFrame, out_crs: str, simplify: bool
                      ) -> gpd.GeoDataFrame:
    """Gap zones for a map: polygons and sites in the display datum, lighter if asked."""
    zones = zones.set_geometry(_for_drawing(np.asarray(zones.geometry.array), out_crs,
                                            simplify))
    site = np.array(zones["site"].tolist(), float).reshape(-1, 2)
    lon, lat = from_wgs84(site[:, 0], site[:, 1], out_crs)
    return zones.assign(site=np.round(np.column_stack([lon, lat]), 6).tolist())


@bp.get("/gaps")
def gaps():
    """Ranked gap zones as GeoJSON, CSV or GeoPackage."""
    fmt = parse_choice("format", request.args.get("format"), FORMATS) or "geojson"
    limit = parse_int("limit", request.args.get("limit"), 1, 5000, 20)
    out_crs = parse_crs("out_crs", request.args.get("out_crs"))
    spec = _spec()
    floor = parse_min_density("min_density", request.args.get("min_density"))
    group = parse_choice("group", request.args.get("group"), GROUPS) or "site"
    draw = parse_choice("simplify", request.args.get("simplify"), ("0", "1")) == "1"
    attach = parse_choice("download", request.args.get("download"), ("0", "1")) == "1"
    if (out_crs != "wgs84" or draw) and fmt != "geojson":
        raise QueryError("out_crs" if out_crs != "wgs84" else "simplify",
                         "out_crs and simplify are for drawing; downloads are exact WGS-84")
    result = coverage_for(spec)

    def build() -> bytes:
        zones = result.gaps(limit, floor, group)
        if out_crs != "wgs84" or draw:
            zones = zones_for_drawing(zones, out_crs, draw)
        zoned = result.zone_summary(floor, group)
        top = {**_meta(result), "group": group, "min_density": zoned.pop("min_density"),
               "summary": {**result.summary(), **zoned},
               "total_zones": len(result.zones(floor, group).site)}
        return gaps_bytes(zones, fmt, **top)

    # the dissolved zones, serialised, per question: pages ask for the same ones again
    data = cached("gaps_bytes", (result.spec, limit, floor, group, out_crs, draw, fmt), build)
    if fmt == "geojson" and not attach:
        return Response(data, mimetype="application/geo+json")
    return _download(data, fmt, f"gaps-{result.spec.type}")


@bp.get("/coverage/cells")
def cells():
    """Demand cells in a box, with distance and covered flag: only when zoomed in."""
    bbox = parse_bbox("bbox", request.args.get("bbox"))
    if bbox is None:
        raise QueryError("bbox", "bbox is required (min_lng,min_lat,max_lng,max_lat)")
    out_crs = parse_crs("out_crs", request.args.get("out_crs"))
    spec = _spec()
    idx = current_atlas().grid.in_bbox(bbox)  # the cells before any coverage is computed
    if len(idx) > MAX_CELLS:
        raise QueryError("bbox", f"bbox holds {len(idx):,} cells; the limit is {MAX_CELLS:,}: "
                                 "zoom in")
    if len(idx) == 0:  # nothing to measure: answered at once
        return Response(current_app.json.dumps({
            **spec.describe(), **current_atlas().provenance(spec.type),
            "type": "FeatureCollection", "count": 0, "features": []}),
            mimetype="application/geo+json")
    result = coverage_for(spec)
    grid = result.grid
    polys = shift_geometries(grid.polygons(idx), out_crs)
    dist = result.distance_m[idx]
    score = load_for(result.spec)[1][idx]
    feats = [{"type": "Feature", "id": grid.h3[i],
              "geometry": {"type": "Polygon",
                           "coordinates": [np.round(np.asarray(p.exterior.coords), 6).tolist()]},
              "properties": {"h3": grid.h3[i], "workers": int(result.served[i]),
                             "distance_m": round(float(d), 1) if np.isfinite(d) else None,
                             "covered": bool(result.covered[i]),
                             "access": float(f"{s:.4g}")}}
             for i, p, d, s in zip(idx, polys, dist, score, strict=True)]
    return Response(current_app.json.dumps({**_meta(result), "type": "FeatureCollection",
                                            "count": len(feats), "features": feats}),
                    mimetype="application/geo+json")


@bp.get("/service-areas")
def service_areas():
    """Each usable station's catchment along the street network within the threshold."""
    spec = _spec()
    if spec.mode == "straight":
        raise QueryError("mode", "service areas follow streets: use mode=walk or mode=bike")
    atlas = current_atlas()
    out_crs = parse_crs("out_crs", request.args.get("out_crs"))
    checkpoint()
    areas = station_service_areas(atlas, spec)
    feats = [{"type": "Feature", "id": row["id"],
              "geometry": shapely.geometry.mapping(shift_geometries(
                  np.array([row["geometry"]]), out_crs)[0].simplify(0.00005)),
              "properties": {"id": row["id"], "name": row["name"], "type": row["type"]}}
             for row in areas.to_dict("records")]
    return Response(current_app.json.dumps({**_meta(coverage_for(spec)),
                                            "type": "FeatureCollection", "count": len(feats),
                                            "features": feats}),
                    mimetype="application/geo+json")
