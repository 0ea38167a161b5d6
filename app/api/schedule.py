"""Opening-schedule API: which stations should open earlier or close later on a weekday, for a
budget of added station-hours (/api/schedule). The work is done by geo.analysis.schedule."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, jsonify, request

from app.api.coverage import _day_cover, _download, _records, _spec, cached, coverage_for
from app.state import current_atlas
from geo.analysis.schedule import MAX_BUDGET_HOURS, DaySchedule, day_schedule
from geo.errors import QueryError
from geo.hours import WEEKDAYS
from geo.io.export import csv_bytes, template_frame
from geo.questions import parse_choice, parse_clock_hour, parse_int, parse_weekday

bp = Blueprint("schedule_api", __name__, url_prefix="/api")
BUDGET_DEFAULT = 100


def schedule_for(args) -> DaySchedule:
    """The schedule for a question, computed once (the page asks for it, then its CSV)."""
    spec = _spec()
    if spec.at is not None:
        raise QueryError("at", "a schedule plans a whole day: give weekday, not at")
    weekday = parse_weekday("weekday", args.get("weekday"), 1)
    budget = parse_int("budget_hours", args.get("budget_hours"), 1, MAX_BUDGET_HOURS,
                       BUDGET_DEFAULT)
    earliest = parse_clock_hour("earliest", args.get("earliest"), 0)
    latest = parse_clock_hour("latest", args.get("latest"), 24)
    step = parse_int("step", args.get("step"), 1, 12, 1)
    exact = parse_choice("exact", args.get("exact"), ("0", "1")) == "1"
    if earliest >= latest:
        raise QueryError("earliest", f"earliest ({earliest:02d}:00) must come before latest "
                                     f"({latest:02d}:00)")
    key = (spec, weekday, budget, earliest, latest, step, exact)
    return cached("schedule_cache", key, lambda: day_schedule(
        current_atlas(), spec, weekday, budget, earliest=earliest, latest=latest, step=step,
        exact=exact, time_limit=current_app.config["STATIONS_MIP_SECONDS"],
        cover=_day_cover(spec, weekday), reach=coverage_for(replace(spec, at=None))))


def curve_rows(day: DaySchedule, which: str) -> list[dict]:
    """A 24-hour curve (before or after) of the workers present and covered."""
    s = day.schedule
    covered = s.before if which == "before" else s.after
    return [{"hour": h, "workers_present": int(p), "covered": int(c),
             "share_covered": round(int(c) / int(p), 4) if p else None}
            for h, (p, c) in enumerate(zip(s.present_by_hour, covered, strict=True))]


@bp.get("/schedule")
def schedule():
    """Hours to add to existing stations for the most covered worker-hours over a day."""
    fmt = parse_choice("format", request.args.get("format"), ("json", "csv")) or "json"
    day = schedule_for(request.args)
    atlas = current_atlas()
    spec = _spec()
    if fmt == "csv":  # the whole list with the new hours: `stations import` reads it back
        new = day.new_hours
        st = atlas.stations.assign(opening_hours=[new.get(i, h) for i, h in zip(
            atlas.stations["id"], atlas.stations["opening_hours"], strict=True)])
        return _download(csv_bytes(template_frame(st)), "csv",
                         f"schedule-{spec.type}-{WEEKDAYS[day.weekday]}")
    s = day.schedule
    before = int(s.before.sum())
    return jsonify({
        "type": spec.type, "threshold_m": spec.threshold, "weekday": day.weekday,
        "budget_hours": day.budget,
        "added_hours": int(day.stations["added_hours"].sum()),
        "worker_hours": int(s.present_by_hour.sum()),
        "covered_worker_hours": {"before": before, "after": before + s.gain},
        "gain_worker_hours": s.gain, "stations": _records(day.stations),
        "curve": s.curve, "before": curve_rows(day, "before"),
        "after": curve_rows(day, "after"), "solver": s.solver,
        "keep_open_24_7": day.around_the_clock, **atlas.provenance(spec.type)})
