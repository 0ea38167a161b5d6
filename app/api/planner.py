"""Planner API: where to add k stations (/api/plan), what-if scenarios (/api/scenario) and
station load (/api/access). Parameters are validated here; the work is done by geo."""

from __future__ import annotations

import hashlib

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from app.api.coverage import (
    _download,
    _records,
    _spec_from,
    cached,
    coverage_for,
    load_for,
    zones_for_drawing,
)
from app.serving.busy import heavy_slot
from app.state import current_atlas
from geo.analysis import scenario as sc
from geo.analysis.access import DECAYS, DEFAULT_MAX_PER_SEAT, MAX_PER_SEAT_RANGE, load_summary
from geo.analysis.plan import (
    K_DEFAULT,
    K_MAX,
    Candidates,
    Plan,
    cell_candidates,
    closed_stations,
    new_sites_instead,
    plan_scenario,
    plan_sites,
    point_candidates,
)
from geo.coords import from_wgs84, to_wgs84
from geo.errors import QueryError
from geo.io.export import gaps_geojson, sites_bytes, sites_frame
from geo.questions import parse_choice, parse_crs, parse_float, parse_int, parse_min_density

bp = Blueprint("planner_api", __name__, url_prefix="/api")
MAX_CANDIDATES = 20_000


def _args() -> dict:
    """GET parameters, or the JSON body of a POST (its size capped by MAX_CONTENT_LENGTH: a
    413 JSON error), as one flat dict of strings/values."""
    if request.method == "GET":
        return {k: (request.args.getlist(k) if k == "amenity" else request.args.get(k))
                for k in request.args}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise QueryError("body", "send a JSON object (Content-Type: application/json)")
    return body


def _text(a: dict, key: str) -> str | None:
    """A parameter as the text the parsers read: a JSON number or string; absent or null is
    None; an empty string is refused, as in a URL (it is not the default)."""
    value = a.get(key)
    if isinstance(value, str) and not value.strip():
        raise QueryError(key, f"{key} is empty: give a value or leave it out (or null)")
    return None if value is None else str(value)


def _amenities(value) -> list[str]:
    """`amenity` as a list whether it came as a string, a list or nothing."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _candidate_file(fc) -> Candidates:
    """Candidate points from a GeoJSON FeatureCollection (WGS-84 points)."""
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection" \
            or not isinstance(fc.get("features"), list):
        raise QueryError("candidates", "candidates must be a GeoJSON FeatureCollection of points")
    if len(fc["features"]) > MAX_CANDIDATES:
        raise QueryError("candidates", f"{len(fc['features']):,} candidates; the limit is "
                                       f"{MAX_CANDIDATES:,}")
    pts = []
    for i, f in enumerate(fc["features"]):
        geom = f.get("geometry") if isinstance(f, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if not (isinstance(geom, dict) and geom.get("type") == "Point"
                and isinstance(coords, list) and len(coords) >= 2
                and all(isinstance(c, int | float) and not isinstance(c, bool)
                        for c in coords[:2])):
            raise QueryError("candidates", f"feature {i + 1} is not a Point [lng, lat]")
        pts.append(coords[:2])
    arr = np.array(pts, float).reshape(-1, 2)
    return point_candidates(arr[:, 0], arr[:, 1])


def _plan_answer(a: dict) -> tuple[Plan, dict]:
    """Validate the plan question and answer it."""
    spec = _spec_from(_text(a, "type"), _text(a, "threshold_m"), _text(a, "at"),
                      _amenities(a.get("amenity")), _text(a, "mode"))
    k = parse_int("k", _text(a, "k"), 1, K_MAX, K_DEFAULT)
    floor = parse_min_density("min_density", _text(a, "min_density")) or 0.0
    exact = (parse_choice("exact", _text(a, "exact"), ("0", "1", "true", "false"))
             in ("1", "true"))
    out_crs = parse_crs("out_crs", _text(a, "out_crs"))
    source = a.get("candidates")
    kind = "file" if isinstance(source, dict) else \
        parse_choice("candidates", _text(a, "candidates"), ("cells", "extend_hours")) or "cells"
    cand = _candidate_file(source) if kind == "file" else None
    key = (spec, k, floor, exact, kind,
           None if cand is None else hashlib.sha1(np.stack([cand.lon, cand.lat]).tobytes())
           .hexdigest())
    plan, answer = cached("plan_cache", key, lambda: _solve_plan(spec, k, floor, exact, kind,
                                                                 cand))
    shown = plan.sites.copy()
    shown["lon"], shown["lat"] = (np.round(v, 6) for v in from_wgs84(
        shown["lon"].to_numpy(), shown["lat"].to_numpy(), out_crs))
    return plan, {**answer, "coordinates_datum": out_crs,
                  "sites": gaps_geojson(sites_frame(shown))}


def _solve_plan(spec, k: int, floor: float, exact: bool, kind: str,
                cand: Candidates | None) -> tuple[Plan, dict]:
    """The plan and what it changes (computed once per question: the page asks for the
    answer, then for its downloads)."""
    atlas = current_atlas()
    result = coverage_for(spec)
    if cand is None:
        cand = cell_candidates(result) if kind == "cells" else \
            closed_stations(atlas.index, atlas.stations["id"].to_numpy(object), result)
    plan = plan_sites(result, cand, k, atlas.districts, exact=exact, min_density=floor,
                      time_limit=current_app.config["STATIONS_MIP_SECONDS"])
    after = sc.recompute(sc.apply(atlas.stations, plan_scenario(plan), spec.type), result)
    answer = {"type": "plan", "spec": spec.describe(), "candidates": cand.kind,
              "curve": plan.curve, "before": result.summary(), "after": after.summary(),
              "solver": plan.solver, **atlas.provenance(spec.type)}
    if kind == "extend_hours":  # beside it: k new sites at the same hour
        answer["new_sites_instead"] = new_sites_instead(result, k, atlas.districts, floor)
    return plan, answer


@bp.route("/plan", methods=["GET", "POST"])
def plan():
    """k new sites (or closed stations to keep open) that win the most uncovered workers."""
    a = _args()
    fmt = parse_choice("format", _text(a, "format"), ("json", "geojson", "csv")) or "json"
    plan_, answer = _plan_answer(a)
    if fmt == "json":
        return jsonify(answer)
    data = sites_bytes(plan_.sites, fmt, sample=answer["sample"], solver=answer["solver"])
    return _download(data, fmt, f"plan-{answer['spec']['type']}")


def _scenario_from(a: dict, crs: str = "wgs84") -> sc.Scenario:
    """The changes in a scenario body, shape-checked (ids and hours checked against data);
    added points given in `crs` (Amap / Baidu) are converted to WGS-84."""
    add, remove, hours = a.get("add") or [], a.get("remove") or [], a.get("hours") or {}
    if not isinstance(add, list) or not all(
            isinstance(p, list) and len(p) == 2
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
            for p in add):
        raise QueryError("add", "add must be a list of [lng, lat] pairs")
    if not isinstance(remove, list) or not all(isinstance(i, str) for i in remove):
        raise QueryError("remove", "remove must be a list of station ids")
    if not isinstance(hours, dict):
        raise QueryError("hours", 'hours must map station ids to opening hours, e.g. '
                                  '{"relay-0001": "24/7"}')
    pts = np.array(add, float).reshape(-1, 2)
    lon, lat = to_wgs84(pts[:, 0], pts[:, 1], crs)
    return sc.Scenario(tuple(zip(np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(),
                                 strict=True)), tuple(remove),
                       {str(k): v for k, v in hours.items()})


@bp.post("/scenario")
def scenario():
    """Coverage before and after adding, removing or re-timing stations (dataset untouched)."""
    a = _args()
    atlas = current_atlas()
    spec = _spec_from(_text(a, "type"), _text(a, "threshold_m"), _text(a, "at"),
                      _amenities(a.get("amenity")), _text(a, "mode"))
    floor = parse_min_density("min_density", _text(a, "min_density"))
    change = _scenario_from(a, parse_crs("crs", _text(a, "crs")))
    out_crs = parse_crs("out_crs", _text(a, "out_crs"))
    sc.check(change, set(atlas.stations["id"]))
    before = coverage_for(spec)
    with heavy_slot():  # a what-if is never cached: each one takes a slot or a 503
        after = sc.recompute(sc.apply(atlas.stations, change, spec.type), before)
        zones = after.gaps(20, floor)
    cmp = sc.compare(before, after)
    if out_crs != "wgs84":
        zones = zones_for_drawing(zones, out_crs, simplify=True)
    zoned = after.zone_summary(floor)
    gaps = gaps_geojson(zones, total_zones=len(after.zones(floor).site),
                        coordinates_datum=out_crs, min_density=zoned.pop("min_density"),
                        summary={**after.summary(), **zoned})
    return jsonify({"spec": spec.describe(), "before": cmp["before"], "after": cmp["after"],
                    "delta": cmp["delta"], "districts": _records(cmp["districts"]),
                    "gaps": gaps, **atlas.provenance(spec.type)})


@bp.get("/access")
def access():
    """Station load (2SFCA / E2SFCA): workers in reach per seat, overloaded stations."""
    atlas = current_atlas()
    args = request.args
    spec = _spec_from(args.get("type"), args.get("threshold_m"), args.get("at"),
                      args.getlist("amenity"), None)
    decay = parse_choice("decay", args.get("decay"), DECAYS) or "none"
    limit = parse_float("max_per_seat", args.get("max_per_seat"), *MAX_PER_SEAT_RANGE) \
        if args.get("max_per_seat") else DEFAULT_MAX_PER_SEAT[spec.type]
    table, _ = load_for(spec, decay, limit)
    feats = [{"type": "Feature", "id": r["id"],
              "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
              "properties": {k: r[k] for k in ("id", "name", "district", "capacity",
                                               "workers_in_reach", "workers_per_seat",
                                               "supply_ratio", "overloaded")}}
             for r in _records(table)]
    return Response(current_app.json.dumps({
        "type": "FeatureCollection", "spec": spec.describe(),
        "summary": load_summary(table, limit, decay), **atlas.provenance(spec.type),
        "features": feats}), mimetype="application/geo+json")
