"""The analysis commands: info, nearest, coverage, plan, scenario, access."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from app.cli.group import (
    SAMPLE_NOTE,
    cli,
    coverage_options,
    format_table,
    graph_options,
    k_option,
    load_atlas,
)
from app.cli.progress import DelayedProgress
from geo.analysis.access import DECAYS
from geo.analysis.plan import K_DEFAULT as PLAN_K_DEFAULT
from geo.analysis.plan import K_MAX as PLAN_K_MAX
from geo.analysis.siting import EXACT_TIME_LIMIT_S
from geo.analysis.zones import DEFAULT_MIN_DENSITY
from geo.finder.answer import answer_top
from geo.finder.search import find_nearest, unreachable, within_reach
from geo.index.nearest import K_DEFAULT
from geo.io.geojson import feature_collection
from geo.questions import K_MAX, parse_nearest
from geo.schema import SERVES, by_type


@cli.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Counts of stations by type and district, and whether the data is sample data."""
    atlas = load_atlas(ctx)
    if atlas.is_sample:
        click.echo(SAMPLE_NOTE)
    counts = atlas.counts()
    order = atlas.districts.sort_values("code")
    names = dict(zip(order["name"], order["name_en"], strict=True))
    rows = [[f"{d} {names.get(d, '')}".strip(), *counts.loc[d].tolist()]
            for d in [*[n for n in order["name"] if n in counts.index],
                      *[n for n in counts.index if n not in names and n != "total"], "total"]]
    click.echo(format_table(["district", *counts.columns], rows))
    demand = atlas.demand[["outdoor", "office", "industrial"]].sum()
    click.echo(f"demand: {len(atlas.demand):,} H3 cells, {int(demand.sum()):,} workers "
               f"(outdoor {demand.outdoor:,}, office {demand.office:,}, "
               f"industrial {demand.industrial:,})")


@cli.command()
@click.option("--lat", required=True, help="Latitude of the origin.")
@click.option("--lng", required=True, help="Longitude of the origin.")
@click.option("--crs", default="wgs84", show_default=True, help="wgs84, gcj02 (Amap) or bd09 "
              "(Baidu): the datum of --lat/--lng.")
@click.option("--type", "type_", default=None, help="relay, health or fitness.")
@k_option(K_DEFAULT, K_MAX, "stations")
@click.option("--amenity", multiple=True, help="Required amenity; repeat for several.")
@click.option("--open-at", default=None, help="Only stations open then: ISO time or 'now'.")
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON FeatureCollection.")
@graph_options
@click.pass_context
def nearest(ctx: click.Context, lat: str, lng: str, crs: str, type_: str | None, k: str,
            amenity: tuple[str, ...], open_at: str | None, as_json: bool, graph: str | None,
            mode: str) -> None:
    """The k nearest stations to a point: straight line, or along streets with --graph."""
    q = parse_nearest(lat, lng, crs=crs, type=type_, k=k, amenities=list(amenity),
                      open_at=open_at, mode=mode if graph else None)
    atlas = load_atlas(ctx, graph, mode)
    rows, far = within_reach(find_nearest(atlas, q))
    far = (unreachable(atlas, q) if rows.empty else None) or far
    if as_json:
        fc = feature_collection(rows, **answer_top(q, (q.lon, q.lat), atlas.is_sample, far))
        click.echo(json.dumps(fc, ensure_ascii=False, indent=1))
        return
    if atlas.is_sample:
        click.echo(SAMPLE_NOTE)
    if rows.empty:
        click.echo(far["text"] if far else "no station matches these filters")
        return
    table = [[i + 1, r.id, r.name, r.type, f"{r.distance_m:,.0f}", f"{r.bearing_deg:.0f}",
              "open" if r.open else "closed",
              (f"closes {r.closes_at[11:]}" if r.closes_at else "24/7") if r.open
              else (f"opens {r.opens_at.replace('T', ' ')}" if r.opens_at else "")]
             for i, r in enumerate(rows.itertuples())]
    click.echo(format_table(["#", "id", "name", "type", "metres", "bearing", "status", "when"],
                            table))
    click.echo(f"({'along ' + mode + ' streets' if graph else 'straight-line distance'})")


@cli.command()
@coverage_options
@click.option("--amenity", multiple=True, help="Required amenity; repeat for several.")
@click.option("--top", default="10", show_default=True, help="How many gap zones to print.")
@click.option("--min-density", default=None, help="Workers per km2 below which uncovered "
              f"cells form no gap zone (default: {by_type(DEFAULT_MIN_DENSITY)}).")
@click.option("--group", type=click.Choice(["site", "connected"]), default="site",
              show_default=True, help="site: zones one new station would serve; connected: "
              "connected uncovered areas (overview).")
@click.option("--out", default=None, metavar="FILE",
              help="Write all gap zones to FILE (.gpkg, .geojson or .csv).")
@graph_options
@click.pass_context
def coverage(ctx: click.Context, type_: str, threshold: str | None, at: str | None,
             amenity: tuple[str, ...], top: str, min_density: str | None, group: str,
             out: str | None, graph: str | None, mode: str) -> None:
    """Workers within reach of a station, per district, and the ranked gap zones."""
    from geo.analysis.coverage import compute_coverage
    from geo.io.export import format_of, write_gaps
    from geo.questions import parse_coverage, parse_int, parse_min_density

    spec = parse_coverage(type_, threshold, at, list(amenity), mode if graph else None)
    n_top = parse_int("top", top, 0, 1000, 10)
    floor = parse_min_density("min-density", min_density)
    if out:
        format_of(Path(out))  # reject a bad file name before any work
    progress = DelayedProgress(total=3 + (group == "connected") + bool(out))
    atlas = progress.step("loading data", lambda: load_atlas(ctx, graph, mode))
    if group == "connected":  # only the overview walks cell neighbours
        progress.step("indexing cells", lambda: atlas.grid.neighbours)
    result = progress.step("measuring distances",
                           lambda: compute_coverage(atlas, spec, within_graph=bool(graph)))
    table = progress.step("finding gap zones", lambda: result.gap_table(floor, group))
    if out:
        progress.step(f"writing {out}", lambda: write_gaps(
            result.gaps(None, floor, group), Path(out), **result.summary(),
            sample=atlas.is_sample))
    progress.close()
    if atlas.is_sample:
        click.echo(SAMPLE_NOTE)
    s = result.summary()
    when = f" open at {s['at']}" if s["at"] else ""
    how = f"along {mode} streets" if graph else "straight line"
    click.echo(f"{s['type']} stations{when} within {s['threshold_m']:,.0f} m "
               f"({how}) of {'/'.join(s['segments'])} workers:")
    if graph:
        city = int(atlas.grid.served(SERVES[spec.type]).sum())
        click.echo(f"  limited to the street graph's extent: {len(result.grid):,} of "
                   f"{len(atlas.grid):,} cells, {s['workers']:,} of {city:,} workers "
                   f"({s['workers'] / city:.1%} of the city's)")
    click.echo(f"  covered {s['covered']:,} of {s['workers']:,} "
               f"({(s['share_covered'] or 0):.1%}); uncovered {s['uncovered']:,}")
    z = result.zone_summary(floor, group)
    unreached = f", {z['uncovered_unreached']:,} off the streets" \
        if z["uncovered_unreached"] else ""
    click.echo(f"  of the uncovered: {z['uncovered_in_zones']:,} in gap zones, "
               f"{z['uncovered_below_floor']:,} below the density floor of "
               f"{z['min_density']:,.0f}/km²{unreached}")
    mean = "–" if s["mean_distance_m"] is None else f"{s['mean_distance_m']:,.0f} m"
    p90 = "–" if s["p90_distance_m"] is None else f"{s['p90_distance_m']:,.0f} m"
    click.echo(f"  mean distance {mean}, 90th percentile {p90}; "
               f"{s['stations_usable']} usable stations\n")
    dist = result.by_district()
    click.echo(format_table(["district", "workers", "covered", "share"],
                            [[f"{r.name} {r.name_en}", f"{r.workers:,}", f"{r.covered:,}",
                              f"{r.share_covered:.1%}"] for r in dist.itertuples()]))
    if n_top and len(table):
        click.echo(f"\ntop {min(n_top, len(table))} of {len(table)} gap zones:")
        click.echo(format_table(
            ["rank", "workers", "km2", "districts", "site (lat, lng)", "reach m", "nearest m"],
            [[r.rank, f"{r.workers:,}", f"{r.area_km2:,.2f}", "、".join(r.districts[:3])
              + ("…" if len(r.districts) > 3 else ""),
              f"{r.site[1]:.4f}, {r.site[0]:.4f}", f"{r.max_distance_m:,.0f}",
              "–" if pd.isna(r.nearest_station_m) else f"{r.nearest_station_m:,.0f}"]
             for r in table.head(n_top).itertuples()]))
    if out:
        click.echo(f"\nwrote {len(table)} gap zones to {out}")


def _coverage_steps(ctx, spec, graph, mode, progress):
    """Load the data and measure coverage, as progress steps."""
    from geo.analysis.coverage import compute_coverage

    atlas = progress.step("loading data", lambda: load_atlas(ctx, graph, mode))
    result = progress.step("measuring distances", lambda: compute_coverage(atlas, spec))
    return atlas, result


@cli.command()
@coverage_options
@k_option(PLAN_K_DEFAULT, PLAN_K_MAX, "sites")
@click.option("--min-density", default=None, help="Only cells with at least this many "
              "workers per km2 count as demand (default 0: every uncovered worker).")
@click.option("--candidates", "cand_file", default=None, metavar="FILE",
              help="Candidate sites (GeoJSON points, WGS-84) instead of every cell centre.")
@click.option("--extend-hours", is_flag=True, help="Choose among stations closed at --at "
              "which to keep open (24/7) instead of new sites.")
@click.option("--exact", is_flag=True,
              help=f"Exact MIP with HiGHS ({EXACT_TIME_LIMIT_S:g} s limit).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--out", default=None, metavar="FILE", help="Write the sites (.geojson, .csv, "
              ".gpkg).")
@graph_options
@click.pass_context
def plan(ctx, type_, k, threshold, at, min_density, cand_file, extend_hours, exact, as_json,
         out, graph, mode):
    """Where to add k stations (maximal covering), or which closed ones to keep open."""
    import geopandas as gpd

    from geo.analysis.plan import (
        cell_candidates,
        closed_stations,
        new_sites_instead,
        plan_sites,
        point_candidates,
    )
    from geo.io.export import format_of, sites_bytes, write_atomic
    from geo.questions import parse_coverage, parse_int, parse_min_density

    spec = parse_coverage(type_, threshold, at, [], mode if graph else None)
    n = parse_int("k", k, 1, PLAN_K_MAX, PLAN_K_DEFAULT)
    floor = parse_min_density("min-density", min_density) or 0.0
    if out:
        format_of(Path(out))
    progress = DelayedProgress(total=3)
    atlas, result = _coverage_steps(ctx, spec, graph, mode, progress)
    if extend_hours:
        cand = closed_stations(atlas.index, atlas.stations["id"].to_numpy(object), result)
    elif cand_file:
        pts = gpd.read_file(cand_file)
        if pts.empty or not (pts.geom_type == "Point").all():
            raise click.UsageError(f"{cand_file}: candidates must be points")
        cand = point_candidates(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    else:
        cand = cell_candidates(result)
    answer = progress.step("choosing sites", lambda: plan_sites(
        result, cand, n, atlas.districts, exact=exact, min_density=floor))
    progress.close()
    if out:
        write_atomic(Path(out), sites_bytes(answer.sites, format_of(Path(out)),
                                            sample=atlas.is_sample, solver=answer.solver))
    if as_json:
        click.echo(json.dumps({"sites": answer.sites.to_dict("records"), "curve": answer.curve,
                               "solver": answer.solver, "sample": atlas.is_sample},
                              ensure_ascii=False, default=str))
        return
    if atlas.is_sample:
        click.echo(SAMPLE_NOTE)
    s = answer.solver
    click.echo(f"{len(answer.sites)} sites by {s['method']} in {s['seconds']} s"
               + (" (proven optimal)" if s["optimal"] else "")
               + ("" if s["gap"] is None else f", MIP gap {s['gap']:.2%}"))
    cols = ["rank", "gain", "covered", "share", "district", "lat", "lon"]
    cols += ["station_id"] if "station_id" in answer.sites else []
    click.echo(format_table(cols, answer.sites[cols].values.tolist()))
    if extend_hours:
        alt = new_sites_instead(result, n, atlas.districts, floor)
        click.echo(f"keeping these {len(answer.sites)} open wins "
                   f"{int(answer.sites['gain'].sum()):,} workers; {alt['k']} new sites at the "
                   f"same time would win {alt['gain']:,}")
    last = answer.curve[-1]
    reached = "reach" if last["share"] >= answer.solver["curve_target"] else "reach only"
    click.echo(f"\ncurve: {len(answer.curve) - 1} greedy sites {reached} {last['share']:.1%}")
    if out:
        click.echo(f"wrote {len(answer.sites)} sites to {out}")


@cli.command()
@coverage_options
@click.option("--add", multiple=True, metavar="LNG,LAT", help="A new station (repeat).")
@click.option("--remove", multiple=True, metavar="ID", help="Close a station (repeat).")
@click.option("--hours", multiple=True, metavar="ID=HOURS", help="New opening hours, e.g. "
              "relay-0001=24/7 (repeat).")
@click.pass_context
def scenario(ctx, type_, threshold, at, add, remove, hours):
    """Coverage before and after adding, removing or re-timing stations."""
    from geo.analysis import scenario as sc
    from geo.questions import parse_coverage, parse_float

    spec = parse_coverage(type_, threshold, at, [], None)
    points = []
    for text in add:
        parts = text.split(",")
        if len(parts) != 2:
            raise click.UsageError(f"--add {text!r}: use LNG,LAT")
        points.append((parse_float("add", parts[0], -180, 180),
                       parse_float("add", parts[1], -90, 90)))
    changes = {}
    for text in hours:
        sid, sep, expr = text.partition("=")
        if not sep:
            raise click.UsageError(f"--hours {text!r}: use ID=HOURS")
        changes[sid] = expr
    change = sc.Scenario(tuple(points), tuple(remove), changes)
    progress = DelayedProgress(total=3)
    atlas, before = _coverage_steps(ctx, spec, None, "walk", progress)
    sc.check(change, set(atlas.stations["id"]))
    after = progress.step("recomputing", lambda: sc.recompute(
        sc.apply(atlas.stations, change, spec.type), before))
    progress.close()
    cmp = sc.compare(before, after)
    if atlas.is_sample:
        click.echo(SAMPLE_NOTE)
    b, a, d = cmp["before"], cmp["after"], cmp["delta"]
    click.echo(f"covered {b['covered']:,} -> {a['covered']:,} ({d['covered']:+,}); share "
               f"{b['share_covered']:.1%} -> {a['share_covered']:.1%}")
    t = cmp["districts"]
    click.echo(format_table(["district", "before", "after", "change"],
                            [[f"{r.name} {r.name_en}", f"{r.covered_before:,}",
                              f"{r.covered_after:,}", f"{r.delta:+,}"]
                             for r in t.itertuples()]))


@cli.command()
@coverage_options(at=False)
@click.option("--decay", type=click.Choice(list(DECAYS)), default=DECAYS[0],
              show_default=True, help="none: 2SFCA; gaussian: E2SFCA.")
@click.option("--max-per-seat", default=None, help="Workers per seat above which a station "
              "is overloaded (default: relay 500, health 5000, fitness 1200).")
@click.option("--top", default="20", show_default=True)
@click.pass_context
def access(ctx, type_, threshold, decay, max_per_seat, top):
    """Station load: workers in reach per seat (2SFCA), overloaded stations first."""
    from geo.analysis.access import DEFAULT_MAX_PER_SEAT, load_summary, station_load
    from geo.questions import parse_coverage, parse_float, parse_int
    from geo.schema import SERVES

    spec = parse_coverage(type_, threshold, None, [], None)
    limit = parse_float("max-per-seat", max_per_seat, 1, 1e7) if max_per_seat \
        else DEFAULT_MAX_PER_SEAT[spec.type]
    n_top = parse_int("top", top, 0, 100_000, 20)
    atlas = load_atlas(ctx)
    g = atlas.grid
    table, _ = station_load(atlas.stations[atlas.stations["type"] == spec.type], g.lon, g.lat,
                            g.served(SERVES[spec.type]), spec.threshold, decay, limit)
    summary = load_summary(table, limit, decay)
    if atlas.is_sample:
        click.echo(SAMPLE_NOTE)
    click.echo(f"{summary['overloaded']} of {summary['stations']} {spec.type} stations have "
               f"more than {limit:,.0f} workers in reach per seat ({decay})")
    click.echo(format_table(["id", "name", "seats", "in reach", "per seat", "overloaded"],
                            [[r.id, r.name, f"{r.capacity:.0f}", f"{r.workers_in_reach:,.0f}",
                              f"{r.workers_per_seat:,.0f}", "yes" if r.overloaded else ""]
                             for r in table.head(n_top).itertuples()]))


