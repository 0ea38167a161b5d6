"""Planner API: where to add k stations (/api/plan), what-if scenarios (/api/scenario) and
station load (/api/access). Parameters are validated here; the work is done by geo."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request

from app import current_atlas
from app.coverage_api import _download, _records, _spec_from, coverage_for
from geo import scenario as sc
from geo.access import DECAYS, DEFAULT_MAX_PER_SEAT, overloaded, two_step_fca
from geo.plan import K_MAX, Candidates, cell_candidates, closed_stations, plan_sites
from geo.query import (
    QueryError,
    parse_choice,
    parse_float,
    parse_int,
    parse_min_density,
)
from geo.siting import straight_sets

bp = Blueprint("planner_api", __name__, url_prefix="/api")
MAX_CANDIDATES = 20_000
MAX_BODY = 5 * 1024 * 1024


def _args() -> dict:
    """GET parameters, or the JSON body of a POST, as one flat dict of strings/values."""
    if request.method == "GET":
        return {k: (request.args.getlist(k) if k == "amenity" else request.args.get(k))
                for k in request.args}
    if (request.content_length or 0) > MAX_BODY:
        raise QueryError("body", f"the request body is over {MAX_BODY // 1024 // 1024} MB")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise QueryError("body", "send a JSON object (Content-Type: application/json)")
    return body


def _text(value) -> str | None:
    """A JSON number or string as the text the parsers read."""
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
        ok = isinstance(geom, dict) and geom.get("type") == "Point" and \
            isinstance(coords, list) and len(coords) >= 2 and \
            all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
        if not ok or not (73 <= coords[0] <= 136 and 3 <= coords[1] <= 54):
            raise QueryError("candidates", f"feature {i + 1} is not a Point [lng, lat] in China")
        pts.append(coords[:2])
    arr = np.array(pts, float).reshape(-1, 2)
    return Candidates(arr[:, 0], arr[:, 1], None, "file")


def _plan_answer(a: dict) -> dict:
    """Validate the plan question and answer it."""
    atlas = current_atlas()
    spec = _spec_from(a.get("type"), _text(a.get("threshold_m")), _text(a.get("at")),
                      _amenities(a.get("amenity")), _text(a.get("mode")))
    k = parse_int("k", _text(a.get("k")), 1, K_MAX, 10)
    floor = parse_min_density("min_density", _text(a.get("min_density"))) or 0.0
    exact = (parse_choice("exact", _text(a.get("exact")), ("0", "1", "true", "false"))
             in ("1", "true"))
    result = coverage_for(spec)
    source = a.get("candidates")
    if isinstance(source, dict):
        cand = _candidate_file(source)
    else:
        kind = parse_choice("candidates", _text(source), ("cells", "extend_hours")) or "cells"
        cand = cell_candidates(result) if kind == "cells" else \
            closed_stations(atlas.index, atlas.stations["id"].to_numpy(object), result)
    plan = plan_sites(result, cand, k, atlas.districts, exact=exact, min_density=floor)
    change = sc.Scenario(hours={sid: "24/7" for sid in plan.sites["station_id"]}) \
        if cand.kind == "extend_hours" else \
        sc.Scenario(add=tuple(map(tuple, plan.sites[["lon", "lat"]].to_numpy())))
    after = sc.recompute(sc.apply(atlas.stations, change, spec.type), atlas.grid,
                         atlas.districts, spec, result.network)
    return {"type": "plan", "spec": spec.describe(), "candidates": cand.kind,
            "sites": _sites_geojson(plan.sites), "curve": plan.curve,
            "before": result.summary(), "after": after.summary(), "solver": plan.solver,
            "sample": atlas.is_sample}


def _sites_geojson(sites: pd.DataFrame) -> dict:
    """Sites as a FeatureCollection of points (properties: rank, gain, covered, ...)."""
    props = [c for c in sites.columns if c not in ("lon", "lat")]
    feats = [{"type": "Feature",
              "geometry": {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
              "properties": {c: (r[c].item() if hasattr(r[c], "item") else r[c])
                             for c in props}}
             for r in sites.to_dict("records")]
    return {"type": "FeatureCollection", "features": feats}


def _sites_csv(answer: dict) -> bytes:
    """The sites as a spreadsheet, sample-labelled like every other download."""
    rows = [{**f["properties"], "lng": f["geometry"]["coordinates"][0],
             "lat": f["geometry"]["coordinates"][1]} for f in answer["sites"]["features"]]
    table = pd.DataFrame(rows)
    if answer["sample"]:
        table["data"] = "SAMPLE data, not official"
    return table.to_csv(index=False).encode("utf-8-sig")


@bp.route("/plan", methods=["GET", "POST"])
def plan():
    """k new sites (or closed stations to keep open) that win the most uncovered workers."""
    a = _args()
    fmt = parse_choice("format", _text(a.get("format")), ("json", "geojson", "csv")) or "json"
    answer = _plan_answer(a)
    if fmt == "csv":
        return _download(_sites_csv(answer), "csv", f"plan-{answer['spec']['type']}")
    if fmt == "geojson":
        data = json.dumps({**answer["sites"], "sample": answer["sample"],
                           "solver": answer["solver"]}, ensure_ascii=False).encode()
        return _download(data, "geojson", f"plan-{answer['spec']['type']}")
    return jsonify(answer)


def _scenario_from(a: dict) -> sc.Scenario:
    """The changes in a scenario body, shape-checked (ids and hours checked against data)."""
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
    return sc.Scenario(tuple((float(x), float(y)) for x, y in add), tuple(remove),
                       {str(k): v for k, v in hours.items()})


@bp.post("/scenario")
def scenario():
    """Coverage before and after adding, removing or re-timing stations (dataset untouched)."""
    a = _args()
    atlas = current_atlas()
    spec = _spec_from(a.get("type"), _text(a.get("threshold_m")), _text(a.get("at")),
                      _amenities(a.get("amenity")), _text(a.get("mode")))
    floor = parse_min_density("min_density", _text(a.get("min_density")))
    change = _scenario_from(a)
    sc.check(change, set(atlas.stations["id"]))
    before = coverage_for(spec)
    after = sc.recompute(sc.apply(atlas.stations, change, spec.type), atlas.grid,
                         atlas.districts, spec, before.network)
    cmp = sc.compare(before, after)
    zones = after.gaps(20, floor)
    gaps = json.loads(zones.to_json(drop_id=True, to_wgs84=False))
    gaps.pop("bbox", None)
    return jsonify({"spec": spec.describe(), "before": cmp["before"], "after": cmp["after"],
                    "delta": cmp["delta"], "districts": _records(cmp["districts"]),
                    "gaps": {**gaps, "total_zones": len(after.zones(floor).site)},
                    "sample": atlas.is_sample})


@bp.get("/access")
def access():
    """Station load (2SFCA / E2SFCA): workers in reach per seat, overloaded stations."""
    atlas = current_atlas()
    args = request.args
    spec = _spec_from(args.get("type"), args.get("threshold_m"), args.get("at"),
                      args.getlist("amenity"), None)
    decay = parse_choice("decay", args.get("decay"), DECAYS) or "none"
    limit = parse_float("max_per_seat", args.get("max_per_seat"), 1, 1e7) \
        if args.get("max_per_seat") else DEFAULT_MAX_PER_SEAT[spec.type]
    table = station_load(spec, decay, limit)
    feats = [{"type": "Feature", "id": r["id"],
              "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
              "properties": {k: r[k] for k in ("id", "name", "district", "capacity",
                                               "workers_in_reach", "workers_per_seat",
                                               "supply_ratio", "overloaded")}}
             for r in _records(table)]
    per_seat = table["workers_per_seat"].dropna()
    summary = {"stations": len(table), "overloaded": int(table["overloaded"].sum()),
               "max_per_seat": limit, "decay": decay,
               "median_workers_per_seat": round(float(per_seat.median()), 1)
               if len(per_seat) else None,
               "without_capacity": int(table["capacity"].isna().sum())}
    return Response(current_app.json.dumps({
        "type": "FeatureCollection", "spec": spec.describe(), "summary": summary,
        "sample": atlas.is_sample, "features": feats}), mimetype="application/geo+json")


def station_load(spec, decay: str, limit: float) -> pd.DataFrame:
    """Per usable station of the type: workers in reach, per seat, overloaded (cached)."""
    cache = current_app.extensions.setdefault("access_cache", {})
    key = (replace(spec, mode="straight"), decay, limit)
    if key in cache:
        return cache[key]
    atlas = current_atlas()
    result = coverage_for(replace(spec, mode="straight"))
    rows = np.flatnonzero(atlas.index.usable(spec.station_filter))
    st = atlas.stations.iloc[rows]
    g = result.grid
    catch = straight_sets(st["lon"].to_numpy(), st["lat"].to_numpy(), g.lon, g.lat,
                          spec.threshold)
    seats = st["capacity"].astype("Float64").to_numpy(float, na_value=np.nan)
    acc = two_step_fca(catch, seats, result.served, spec.threshold, decay)
    per_seat, over = overloaded(acc.workers_in_reach, seats, limit)
    table = pd.DataFrame({"id": st["id"].to_numpy(), "name": st["name"].to_numpy(),
                          "district": st["district"].to_numpy(),
                          "lon": st["lon"].round(6).to_numpy(),
                          "lat": st["lat"].round(6).to_numpy(), "capacity": seats,
                          "workers_in_reach": np.round(acc.workers_in_reach, 1),
                          "workers_per_seat": np.round(per_seat, 1),
                          "supply_ratio": acc.ratio, "overloaded": over})
    table = table.sort_values("workers_per_seat", ascending=False, kind="stable",
                              na_position="last").reset_index(drop=True)
    cache[key] = table
    cache[(key, "cells")] = acc.cell_access
    return table


def cell_access(spec) -> np.ndarray:
    """Each cell's 2SFCA score for the spec (seats per worker within reach)."""
    station_load(spec, "none", DEFAULT_MAX_PER_SEAT[spec.type])
    key = (replace(spec, mode="straight"), "none", DEFAULT_MAX_PER_SEAT[spec.type])
    return current_app.extensions["access_cache"][(key, "cells")]
