"""`stations national build | coverage | plan`: the picture Shanghai gets, for every city.

The work runs on dask: a LocalCluster of `--workers` processes by default, a real cluster
with `--scheduler tcp://host:8786`, or this process alone with `--scheduler none`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from app.cli.group import cli, coverage_options, format_table
from geo.national.sample import SEED as SAMPLE_SEED
from geo.national.sample import STATIONS as SAMPLE_STATIONS

SCHEDULER_HELP = ("local (a LocalCluster, the default), a scheduler address such as "
                  "tcp://10.0.0.5:8786, or none (this process alone).")


@cli.group()
def national() -> None:
    """National scale: build the sample, then coverage, gaps and sites for every city."""


def engine_options(func):
    """--scheduler and --workers, shared by every national command."""
    func = click.option("--workers", default="2", show_default=True,
                        help="Worker processes of the local cluster.")(func)
    return click.option("--scheduler", default="local", show_default=True,
                        help=SCHEDULER_HELP)(func)


def _client(scheduler: str, workers: str):
    """Start or reach the dask cluster the flags ask for."""
    from geo.national.runner import connect
    from geo.questions import parse_int

    return connect(scheduler.strip(), parse_int("workers", workers, 1, 256, 2))


@national.command()
@click.option("--out", required=True, metavar="DIR", help="A new directory for the dataset.")
@click.option("--cells-per-city", default=None, help="Keep only this many H3 res-9 demand "
              "cells per city, nearest its centre (default: every cell of its urban districts, "
              "about 11 million in all).")
@click.option("--stations", default=str(SAMPLE_STATIONS), show_default=True,
              help="Stations spread over the cities built, by their workers.")
@click.option("--cities", default="", help="Only these cities: names or codes, comma-separated "
              "(e.g. 上海市,320500).")
@click.option("--seed", default=str(SAMPLE_SEED), show_default=True, help="Random seed.")
@engine_options
def build(out: str, cells_per_city: str | None, stations: str, cities: str, seed: str,
          scheduler: str, workers: str) -> None:
    """Build the seeded national sample (sample data) as partitioned Parquet."""
    from geo.national.runner import close
    from geo.national.sample import build_national
    from geo.questions import parse_int

    only = tuple(c.strip() for c in cities.replace("，", ",").split(",") if c.strip())
    args = {"cells_per_city": parse_int("cells-per-city", cells_per_city, 100, 2_000_000,
                                        None),
            "stations": parse_int("stations", stations, 0, 5_000_000, SAMPLE_STATIONS),
            "seed": parse_int("seed", seed, 0, 2**31 - 1, SAMPLE_SEED)}
    t0 = time.perf_counter()
    client = _client(scheduler, workers)
    try:
        meta = build_national(out, only=only, client=client, progress=True, **args)
    finally:
        close(client)
    click.echo(f"SAMPLE DATA: built {meta['cities']} cities, {meta['cells']:,} cells, "
               f"{meta['workers']:,} workers and {meta['stations']:,} stations into {out} "
               f"in {time.perf_counter() - t0:.1f} s")


def coverage_question(type_: str, threshold: str | None, at: str | None, meta: dict):
    """The coverage spec from flags (parsed at the edge, like the API's); times are wall-clock
    times in the dataset's own time zone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from geo.errors import QueryError
    from geo.hours import TIMEZONE
    from geo.questions import parse_coverage

    name = str(meta.get("timezone") or TIMEZONE.key)
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError("data", f"the dataset's timezone {name!r} is not a known zone"
                         ) from None
    return parse_coverage(type_, threshold, at, [], None, tz)


@national.command()
@click.option("--data", "data_dir", required=True, metavar="DIR",
              help="A national dataset, or a station dataset directory such as data/.")
@coverage_options
@click.option("--min-density", default=None, help="Workers per km2 below which uncovered "
              "cells form no zone (default: the type's).")
@click.option("--top", default="10", show_default=True, help="Gap zones kept per city.")
@click.option("--weekday", default=None, help="Also the 24-hour curve of this weekday (0-6, "
              "Monday = 0, or mo..su) per city and for all: hourly.csv.")
@click.option("--parent-res", default=None, help="H3 resolution of the partitions of a "
              "station dataset directory (default 5); national data is partitioned by city.")
@click.option("--out", required=True, metavar="DIR", help="Where the results go.")
@engine_options
def coverage(data_dir: str, type_: str, threshold: str | None, at: str | None,
             min_density: str | None, top: str, weekday: str | None, parent_res: str | None,
             out: str, scheduler: str, workers: str) -> None:
    """Per-cell distances, a table by province / city / district, top gap zones per city."""
    from geo.io.export import write_atomic
    from geo.national.compute import national_coverage, national_hourly, write_coverage
    from geo.national.dataset import open_dataset
    from geo.national.runner import close
    from geo.questions import parse_int, parse_min_density, parse_weekday

    floor = parse_min_density("min-density", min_density)
    n_top = parse_int("top", top, 1, 1000, 10)
    day = parse_weekday("weekday", weekday, 0) if weekday else None
    res = parse_int("parent-res", parent_res, 0, 8, 5) if parent_res else None
    data = open_dataset(data_dir, res)
    spec = coverage_question(type_, threshold, at, data.meta)
    t0 = time.perf_counter()
    client = _client(scheduler, workers)
    try:
        result = national_coverage(data, spec, client, out, n_top, floor, progress=True)
        hourly = None if day is None else national_hourly(data, spec, day, result.areas,
                                                          client, progress=True)
    finally:
        close(client)
    seconds = round(time.perf_counter() - t0, 1)
    meta = {**data.meta, "question": spec.describe(), "partitions": len(data.partitions),
            "seconds": seconds, "stations": len(data.stations)}
    write_coverage(result, out, meta, data.areas)
    if hourly is not None:
        write_atomic(Path(out) / "hourly.csv", hourly.to_csv(index=False).encode("utf-8-sig"))
        low = hourly[hourly["city_code"] == "all"].sort_values("share_covered").iloc[0]
        click.echo(f"24-hour curve ({len(hourly) // 24 - 1} cities): lowest at {low['at'][-5:]}, "
                   f"{low['share_covered']:.1%} covered → hourly.csv")
    if data.meta.get("source") == "sample":
        click.echo("SAMPLE DATA: generated stations and workers, not official figures.")
    cities = result.cities.sort_values("share_covered", kind="stable")
    total = result.areas[["workers", "covered"]].sum()
    share = total["covered"] / total["workers"] if total["workers"] else 0
    click.echo(f"{spec.type} within {spec.threshold:,.0f} m: {int(total['covered']):,} of "
               f"{int(total['workers']):,} workers ({share:.1%}) in {len(cities)} cities, "
               f"{len(data.partitions)} partitions, {seconds} s")
    click.echo(format_table(["city", "workers", "covered", "share"],
                            [[f"{r.province} {r.city}", f"{r.workers:,}", f"{r.covered:,}",
                              f"{r.share_covered:.1%}"] for r in cities.head(10).itertuples()]))
    click.echo(f"wrote cells.parquet/, areas.csv, areas.parquet, cities.csv, cities.geojson, "
               f"gaps.geojson ({len(result.gaps)} zones), gaps.parquet and summary.json to "
               f"{out}; serve them with STATIONS_NATIONAL={out}")


@national.command()
@click.option("--data", "data_dir", required=True, metavar="DIR",
              help="A national dataset, or a station dataset directory such as data/.")
@coverage_options
@click.option("--k-per-city", default="10", show_default=True, help="New sites per city.")
@click.option("--parent-res", default=None, help="H3 resolution of a station dataset "
              "directory's partitions (default 5).")
@click.option("--out", required=True, metavar="DIR", help="Where sites.csv and "
              "sites.geojson go.")
@engine_options
def plan(data_dir: str, type_: str, threshold: str | None, at: str | None, k_per_city: str,
         parent_res: str | None, out: str, scheduler: str, workers: str) -> None:
    """k new sites per city (greedy maximal covering, polished by swaps)."""
    from geo.analysis.plan import K_MAX
    from geo.io.export import sites_bytes, write_atomic
    from geo.national.compute import national_plan
    from geo.national.dataset import open_dataset
    from geo.national.runner import close
    from geo.questions import parse_int

    k = parse_int("k-per-city", k_per_city, 1, K_MAX, 10)
    res = parse_int("parent-res", parent_res, 0, 8, 5) if parent_res else None
    data = open_dataset(data_dir, res)
    spec = coverage_question(type_, threshold, at, data.meta)
    client = _client(scheduler, workers)
    try:
        sites = national_plan(data, spec, k, client, progress=True)
    finally:
        close(client)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    sample = data.meta.get("source") == "sample"
    if len(sites):
        for fmt, name in (("csv", "sites.csv"), ("geojson", "sites.geojson")):
            write_atomic(folder / name, sites_bytes(sites, fmt, sample=sample,
                                                    question=spec.describe()))
    else:
        write_atomic(folder / "sites.csv", b"")
    (folder / "plan.json").write_text(json.dumps(
        {"question": spec.describe(), "k_per_city": k, "sites": len(sites), "sample": sample},
        ensure_ascii=False, indent=1), encoding="utf-8")
    if sample:
        click.echo("SAMPLE DATA: generated stations and workers, not official figures.")
    cities = sites["city"].nunique() if len(sites) else 0
    click.echo(f"{len(sites):,} new sites in {cities} cities (up to {k} each) → "
               f"{folder / 'sites.csv'}, {folder / 'sites.geojson'}")
