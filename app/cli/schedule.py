"""`stations schedule`: which stations should open earlier or close later on a weekday, for a
budget of added station-hours, with the new hours as a station list to import."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.cli.group import SAMPLE_NOTE, cli, format_table, load_atlas
from app.cli.progress import DelayedProgress
from geo.analysis.schedule import MAX_BUDGET_HOURS, day_schedule
from geo.analysis.siting import EXACT_TIME_LIMIT_S
from geo.hours import WEEKDAYS
from geo.io.export import template_frame, write_atomic
from geo.questions import parse_amenities, parse_clock_hour, parse_coverage, parse_weekday
from geo.schema import STATION_TYPES


@cli.command()
@click.option("--type", "type_", type=click.Choice(list(STATION_TYPES)), default="relay",
              show_default=True)
@click.option("--threshold", default=None, help="Reach in metres (default: the type's).")
@click.option("--weekday", default="tu", show_default=True, help="0-6 or mo..su.")
@click.option("--budget-hours", type=click.IntRange(1, MAX_BUDGET_HOURS), default=100,
              show_default=True, help="Station-hours a day to add.")
@click.option("--earliest", default="00:00", show_default=True, help="No station opens before.")
@click.option("--latest", default="24:00", show_default=True, help="No station stays open past.")
@click.option("--step", type=click.IntRange(1, 12), default=1, show_default=True,
              help="Hours are added in whole steps of this many.")
@click.option("--amenity", multiple=True, help="Only stations with it; repeat for several.")
@click.option("--exact", is_flag=True,
              help=f"Exact MIP with HiGHS ({EXACT_TIME_LIMIT_S:g} s limit).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--out", default=None, metavar="FILE.csv|.xlsx",
              help="Write the station list with the new hours (stations import reads it).")
@click.pass_context
def schedule(ctx, type_, threshold, weekday, budget_hours, earliest, latest, step, amenity,
             exact, as_json, out):
    """Hours to add to existing stations for the most covered worker-hours over a day."""
    spec = parse_coverage(type_, threshold, None, list(parse_amenities("amenity", amenity)),
                          None)
    day_ = parse_weekday("weekday", weekday, 1)
    first, last = parse_clock_hour("earliest", earliest, 0), parse_clock_hour("latest",
                                                                              latest, 24)
    progress = DelayedProgress(total=2)
    atlas = progress.step("loading data", lambda: load_atlas(ctx))
    day = progress.step("scheduling", lambda: day_schedule(
        atlas, spec, day_, budget_hours, earliest=first, latest=last, step=step, exact=exact,
        time_limit=EXACT_TIME_LIMIT_S))
    progress.close()
    if out:
        frame = template_frame(day.applied_to(atlas.stations))
        path = Path(out)
        if path.suffix.lower() == ".xlsx":
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_excel(path, index=False, sheet_name="stations")
        else:
            write_atomic(path, frame.to_csv(index=False).encode("utf-8-sig"))
    answer = {"type": spec.type, "threshold_m": spec.threshold, **day.answer(),
              **atlas.provenance(spec.type)}
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, default=int))
        return
    if atlas.is_sample:
        click.echo(SAMPLE_NOTE)
    s, whole = day.schedule.solver, answer["keep_open_24_7"]
    cov = answer["covered_worker_hours"]
    click.echo(f"{WEEKDAYS[day_]}: {answer['added_hours']} of {budget_hours} hours on "
               f"{len(day.stations)} stations by {s['method']} in {s['seconds']} s: covered "
               f"worker-hours {cov['before']:,} -> {cov['after']:,} "
               f"(+{answer['gain_worker_hours']:,} of {answer['worker_hours']:,})")
    click.echo(f"keeping stations open 24/7 instead: {len(whole['stations'])} stations, "
               f"{whole['hours']} hours, +{whole['gain_worker_hours']:,} worker-hours")
    cols = ["station_id", "hours_before", "hours_after", "added_hours", "gain_worker_hours"]
    click.echo(format_table(cols, day.stations[cols].values.tolist()))
    if out:
        click.echo(f"wrote {len(atlas.stations):,} stations with the new hours to {out}")
