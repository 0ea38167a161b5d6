"""National coverage, gaps and siting on dask: partition by partition, stations broadcast.

How the work is split (and why the answers equal the single-process ones exactly):

1. **Cells, per partition** (a city's file, or an H3 parent cell): every cell's distance to
   its nearest usable station. The station index (a KD-tree over a few hundred thousand
   stations, a few MB) is broadcast to every worker once, so a cell's answer does not depend
   on which partition holds it: no halo is needed. The task writes its cells to
   `cells.parquet/` where it runs and returns per-district sums and its cells slimmed to
   the arrays the city stage needs (ids, districts, workers, distance: ~40 bytes a cell).
2. **Zones and sites, per city**: gap zones and new sites are a city's question, so one task
   per city takes that city's rows from stage 1 and runs the single-process code
   (`CoverageResult.gaps`, `plan_sites`) on them, in the city's own cell order. A zone that
   crosses partition boundaries inside a city is therefore merged by construction: the city
   task sees all of it, and every cell that could be its site (a halo of the whole city,
   which is one partition nationally). A zone never crosses a city boundary: each city
   plans its own.

Nothing is shuffled: partitions are keyed when the data is written, and stage 2 depends only
on the stage-1 futures of its own city, which dask runs where they lie. With no client, the
same functions run one after the other in this process (the single-process path).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import geopandas as gpd
import h3ronpy
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import (
    CoverageResult,
    cell_distances,
    curve_rows,
    day_masks,
    served_at,
    usable_mask,
    usable_rows,
    weekday_date,
)
from geo.analysis.zones import density_floor
from geo.hours import day_kind
from geo.index.cells import CellGrid
from geo.index.nearest import NearestIndex
from geo.index.presence import Presence
from geo.io.datasets import load_presence_tables
from geo.io.export import gaps_bytes, write_atomic
from geo.national.dataset import NationalData, Partition, check_stations
from geo.national.runner import Runner
from geo.questions import CoverageSpec
from geo.schema import SEGMENTS, SERVES

AREA_TABLE = ["province", "city", "district", "workers", "covered", "uncovered",
              "share_covered"]
CELL_COLUMNS = ["h3", "city_code", "district_code", "workers", "distance_m", "station",
                "covered"]
TOP_ZONES = 10
SHAPE_TOLERANCE_DEG = 0.005  # ~500 m: city outlines on a map of China


@dataclass(frozen=True)
class Shared:
    """What every partition task needs, sent to each worker once: the usable stations'
    index (built on the client, so no worker builds a tree), the question, where to write."""

    index: NearestIndex
    ids: np.ndarray
    spec: CoverageSpec
    floor: float
    out: str | None  # the folder for the per-cell parts, or None to write none
    presence: Presence | None = None  # who is there at each hour (the embedded profiles)


def usable_index(stations: pd.DataFrame, spec: CoverageSpec, mask: np.ndarray | None = None
                 ) -> tuple[NearestIndex, np.ndarray]:
    """A KD-tree index over the stations usable for the question (or under `mask`), with
    their ids: partitions query it as it is."""
    check_stations(stations)
    if mask is None:
        every = NearestIndex(stations)
        mask = usable_mask(every, spec)
        if mask is None:  # only the type matters: the full index's type trees serve
            return every, stations["id"].to_numpy(object)
    usable = stations[mask]
    return NearestIndex(usable), usable["id"].to_numpy(object)


def shared_for(data: NationalData, spec: CoverageSpec, min_density: float | None = None,
               out: str | Path | None = None) -> Shared:
    """Everything the partitions share, built once on the client for broadcasting."""
    index, ids = usable_index(data.stations, spec)
    return Shared(index, ids, spec, density_floor(spec.type, min_density),
                  None if out is None else str(out), default_presence())


def default_presence() -> Presence:
    """The national sample has no profiles of its own: the embedded dataset's serve, so a
    city's answer at a time counts the workers present as Shanghai's does."""
    return Presence.from_tables(*load_presence_tables())


def _grid(cells: pd.DataFrame) -> CellGrid:
    """A cell grid over a table of cells (one partition, or one city's gathered rows)."""
    return CellGrid.from_arrays(cells["h3"].to_numpy(np.uint64),
                                cells["district_code"].to_numpy(str),
                                {s: cells[s].to_numpy(np.int64) for s in SEGMENTS})


def cover_partition(part: Partition, shared: Shared) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage 1 for one partition: (district sums, its cells slimmed for the city stage)."""
    cells = part.load()
    grid = _grid(cells)
    spec = shared.spec
    dist, station = cell_distances(shared.index, shared.ids, grid, spec, None)
    served = served_at(grid, spec, shared.presence)
    covered = dist <= spec.threshold
    if shared.out is not None:
        _write_cells(part, grid, served, dist, station, covered, shared.out)
    sums = pd.DataFrame({"city_code": part.city_code, "district_code": grid.district,
                         "workers": served, "covered": np.where(covered, served, 0)})
    sums = sums.groupby(["city_code", "district_code"], as_index=False).sum()
    return sums, slim_rows(cells, dist)


def hourly_partition(part: Partition, hours: list[Shared], of_hour: list[int],
                     kind: str) -> pd.DataFrame:
    """Workers present and covered in one partition at each hour (one distance computation
    per distinct set of usable stations)."""
    grid = _grid(part.load())
    spec = hours[0].spec
    cover = [cell_distances(s.index, s.ids, grid, s.spec, None)[0] <= spec.threshold
             for s in hours]
    present = hours[0].presence.day(grid, SERVES[spec.type], kind)
    covered = np.where(np.column_stack([cover[j] for j in of_hour]), present, 0).sum(axis=0)
    return pd.DataFrame({"city_code": part.city_code, "hour": np.arange(24),
                         "workers_present": present.sum(axis=0), "covered": covered})


def national_hourly(data: NationalData, spec: CoverageSpec, weekday: int, workers: pd.DataFrame,
                    client=None, progress: bool = False) -> pd.DataFrame:
    """The 24-hour curve of a weekday for each city and for all of them (`city_code` "all"),
    of the workers present at each hour: each distinct set of open stations is measured once,
    partition by partition."""
    run = Runner(client, progress)
    check_stations(data.stations)
    day = day_masks(NearestIndex(data.stations), spec, weekday)
    presence = default_presence()
    hours = run.share([Shared(*usable_index(data.stations, spec, m), spec, 0.0, None, presence)
                       for m in day.masks])
    parts = run.gather(run.map(hourly_partition, data.partitions, hours=hours,
                               of_hour=day.of_hour, kind=day_kind(weekday_date(weekday))))
    sums = pd.concat(parts, ignore_index=True).groupby(["city_code", "hour"])[
        ["workers_present", "covered"]].sum()
    names = data.areas.drop_duplicates("city_code").set_index("city_code")
    total = workers.groupby("city_code")["workers"].sum()
    frames = []
    for code in [*sorted(total.index), "all"]:
        if code == "all":
            got = sums.groupby(level="hour").sum()
            n, province, city = int(total.sum()), "", "all"
        else:
            got = sums.loc[code]
            n, province, city = int(total[code]), names.loc[code, "province"], \
                names.loc[code, "city"]
        got = got.reindex(range(24), fill_value=0)
        table = curve_rows(day, got["workers_present"].to_numpy(), got["covered"].to_numpy())
        table.insert(0, "workers", n)
        for col, value in (("city_code", code), ("city", city), ("province", province)):
            table.insert(0, col, value)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def slim_rows(cells: pd.DataFrame, dist: np.ndarray) -> pd.DataFrame:
    """What the city stage needs of every cell: zones may be sited on any cell, covered or
    not, within one threshold of a gap cell, so every cell travels, in compact types."""
    rows = pd.DataFrame({"h3": cells["h3"].to_numpy(np.uint64),
                         "district_code": cells["district_code"].astype("category"),
                         **{s: cells[s].to_numpy(np.int32) for s in SEGMENTS},
                         "row": cells["row"].to_numpy(np.int64), "distance_m": dist})
    return rows.reset_index(drop=True)


def _write_cells(part: Partition, grid: CellGrid, served: np.ndarray, dist: np.ndarray,
                 station: np.ndarray, covered: np.ndarray, out: str) -> None:
    """This partition's per-cell answers, written where the task runs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    where, codes = pd.factorize(grid.district)
    table = pa.table({  # straight to Arrow: pandas' string conversion cost more than the rest
        "h3": pa.array(h3ronpy.cells_to_string(grid.ids)),
        "city_code": pa.DictionaryArray.from_arrays(np.zeros(len(grid), np.int32),
                                                    [part.city_code]),
        "district_code": pa.DictionaryArray.from_arrays(where.astype(np.int32),
                                                        codes.astype(str)),
        "workers": served, "distance_m": np.round(dist, 2),
        "station": pa.array(station, type=pa.string()), "covered": covered})
    pq.write_table(table, folder / f"part-{part.key}.parquet")


def city_result(rows: list[pd.DataFrame], shared: Shared, names: pd.DataFrame
                ) -> CoverageResult:
    """One city's rows from stage 1 as a coverage result, in the city's own cell order."""
    cells = pd.concat(rows, ignore_index=True).sort_values("row", kind="stable")
    usable = len(usable_rows(shared.index, shared.spec.type, None))
    return CoverageResult(shared.spec, _grid(cells), names,
                          cells["distance_m"].to_numpy(float),
                          np.full(len(cells), None, object), usable, presence=shared.presence)


def city_gaps(rows: list[pd.DataFrame], shared: Shared, *, names: pd.DataFrame, limit: int,
              group: str = "site") -> gpd.GeoDataFrame:
    """Stage 2: the city's top gap zones with their polygons, by the single-process code."""
    result = city_result(rows, shared, names)
    return result.gaps(limit, shared.floor, group)


def city_plan(rows: list[pd.DataFrame], shared: Shared, *, districts: gpd.GeoDataFrame,
              k: int) -> pd.DataFrame:
    """Stage 2 for siting: k new sites in the city among its own cell centres."""
    from geo.analysis.plan import cell_candidates, plan_sites

    names = pd.DataFrame({"code": districts["code"], "name": districts["name"],
                          "name_en": districts["name"]})
    result = city_result(rows, shared, names)
    if int(result.served[~result.covered].sum()) == 0:
        return pd.DataFrame()
    plan = plan_sites(result, cell_candidates(result), k, districts, curve_max=k)
    return plan.sites


def cover_city(part: Partition, finish: Callable, shared: Shared) -> tuple:
    """Both stages in one task, for a city that is one partition (every city nationally):
    its rows never leave the worker that read them."""
    sums, rows = cover_partition(part, shared)
    return sums, finish([rows], shared)


def _first(pair: tuple) -> pd.DataFrame:
    """The first half of a (sums, rows-or-answer) pair."""
    return pair[0]


def _second(pair: tuple):
    """The second half of a (sums, rows-or-answer) pair."""
    return pair[1]


def run_cities(data: NationalData, shared, run: Runner, finishers: dict[str, Callable]
               ) -> tuple[list[pd.DataFrame], dict[str, object]]:
    """Stage 1 on every partition and `finishers[city](rows, shared)` on every city's rows:
    in the same task where a city is one partition, else once its partitions are done.
    Returns the district sums and each city's answer."""
    parts: dict[str, list[Partition]] = defaultdict(list)
    for part in data.partitions:
        parts[part.city_code].append(part)
    whole = [ps[0] for ps in parts.values() if len(ps) == 1]
    split = [p for ps in parts.values() if len(ps) > 1 for p in ps]
    one = run.map(cover_city, whole, [finishers[p.city_code] for p in whole], shared=shared)
    two = run.map(cover_partition, split, shared=shared)
    rows: dict[str, list] = defaultdict(list)
    for part, d in zip(split, two, strict=True):
        rows[part.city_code].append(run.submit(_second, d))
    later = {code: run.submit(finishers[code], r, shared) for code, r in rows.items()}
    sums = run.gather(run.map(_first, [*one, *two]))
    answers = dict(zip([p.city_code for p in whole], run.gather(run.map(_second, one)),
                       strict=True))
    answers.update(zip(later, run.gather(list(later.values())), strict=True))
    return sums, answers


def area_table(data: NationalData, sums: list[pd.DataFrame]) -> pd.DataFrame:
    """Workers covered and not by province, city and district (the areas.csv table)."""
    total = pd.concat(sums, ignore_index=True).groupby(
        ["city_code", "district_code"], as_index=False)[["workers", "covered"]].sum()
    names = pd.DataFrame(data.areas[["province", "city", "city_code", "district",
                                     "district_code"]])
    table = total.merge(names, on=["city_code", "district_code"], how="left")
    table["district"] = table["district"].fillna(table["district_code"])
    table["uncovered"] = table["workers"] - table["covered"]
    table["share_covered"] = (table["covered"] / table["workers"].where(
        table["workers"] > 0)).round(4)
    return table.sort_values(["city_code", "share_covered", "district_code"],
                             kind="stable").reset_index(drop=True)


def city_table(areas: pd.DataFrame) -> pd.DataFrame:
    """The same figures per city: the national overview's choropleth."""
    t = areas.groupby(["province", "city", "city_code"], as_index=False)[
        ["workers", "covered", "uncovered"]].sum()
    t["share_covered"] = (t["covered"] / t["workers"].where(t["workers"] > 0)).round(4)
    return t


@dataclass
class NationalCoverage:
    """The answers of one national coverage run."""

    areas: pd.DataFrame
    gaps: gpd.GeoDataFrame

    @property
    def cities(self) -> pd.DataFrame:
        """Per-city totals."""
        return city_table(self.areas)


def national_coverage(data: NationalData, spec: CoverageSpec, client=None,
                      out: str | Path | None = None, top: int = TOP_ZONES,
                      min_density: float | None = None, group: str = "site",
                      progress: bool = False) -> NationalCoverage:
    """Coverage of every partition, the area table, and each city's top gap zones; with
    `out`, every cell's answer in `out/cells.parquet/`, which replaces an earlier run's only
    once this one has succeeded."""
    run = Runner(client, progress)
    stage = None
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".cells-", dir=out))
    try:
        shared = run.share(shared_for(data, spec, min_density, stage))
        codes = sorted({p.city_code for p in data.partitions})
        finish = {c: partial(city_gaps, names=data.names(c), limit=top, group=group)
                  for c in codes}
        sums, zones = run_cities(data, shared, run, finish)
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    if stage is not None:
        _swap_in(stage, Path(out) / "cells.parquet")
    labelled = _labelled({c: zones[c] for c in codes}, data)
    gaps = pd.concat(labelled, ignore_index=True) if labelled else \
        gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    return NationalCoverage(area_table(data, sums), gpd.GeoDataFrame(gaps, crs="EPSG:4326"))


def _swap_in(new: Path, target: Path) -> None:
    """Put a finished folder where an older one may be: the old one goes only after."""
    old = None
    if target.exists():
        old = target.with_name(f".old-{new.name}")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _labelled(frames: dict[str, pd.DataFrame], data: NationalData) -> list[pd.DataFrame]:
    """Each city's non-empty answer with its province, city and code in front."""
    names = data.areas.drop_duplicates("city_code").set_index("city_code")
    out = []
    for code, frame in frames.items():
        if len(frame):
            known = code in names.index
            out.append(frame.assign(
                province=names.loc[code, "province"] if known else "",
                city=names.loc[code, "city"] if known else code, city_code=code,
            )[["province", "city", "city_code", *frame.columns]])
    return out


def national_plan(data: NationalData, spec: CoverageSpec, k: int, client=None,
                  progress: bool = False) -> pd.DataFrame:
    """k new sites per city (lazy greedy, polished), one task per city."""
    run = Runner(client, progress)
    shared = run.share(shared_for(data, spec))
    codes = sorted({p.city_code for p in data.partitions})
    finish = {c: partial(city_plan, districts=_districts(data, c), k=k) for c in codes}
    _, plans = run_cities(data, shared, run, finish)
    frames = _labelled({c: plans[c] for c in codes}, data)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _districts(data: NationalData, code: str) -> gpd.GeoDataFrame:
    """A city's district polygons as the planner expects them (code, name)."""
    rows = data.areas[data.areas["city_code"] == code]
    return gpd.GeoDataFrame({"code": rows["district_code"].to_numpy(str),
                             "name": rows["district"].to_numpy(str)},
                            geometry=rows.geometry.values, crs="EPSG:4326")


def city_shapes(areas: gpd.GeoDataFrame, cities: pd.DataFrame,
                tolerance_deg: float = SHAPE_TOLERANCE_DEG) -> gpd.GeoDataFrame:
    """Each city's urban area (its districts dissolved, simplified for a national map) with
    its coverage figures: the overview's choropleth, drawn once here, never per request."""
    shapes = areas[areas["city_code"].isin(cities["city_code"])].dissolve("city_code")
    geoms = shapely.simplify(shapes.geometry.values, tolerance_deg, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda c: np.round(c, 4))
    out = gpd.GeoDataFrame({"city_code": shapes.index.to_numpy(str)}, geometry=geoms,
                           crs="EPSG:4326")
    return out.merge(cities, on="city_code")[[*cities.columns, "geometry"]]


def write_coverage(result: NationalCoverage, out: str | Path, meta: dict,
                   areas: gpd.GeoDataFrame | None = None) -> list[Path]:
    """areas.csv / areas.parquet / cities.csv / cities.geojson (with `areas`' polygons) /
    gaps.geojson / gaps.parquet / summary.json, each written whole or not at all; sample
    results say so in the GeoJSON files and the summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sample = meta.get("source") == "sample"
    files = {"areas.csv": result.areas[AREA_TABLE].to_csv(index=False).encode("utf-8-sig"),
             "cities.csv": result.cities.to_csv(index=False).encode("utf-8-sig"),
             "gaps.geojson": gaps_bytes(result.gaps, "geojson", sample=sample, **meta),
             "summary.json": json.dumps({**meta, "sample": sample}, ensure_ascii=False,
                                        indent=1).encode()}
    if areas is not None:
        files["cities.geojson"] = gaps_bytes(city_shapes(areas, result.cities), "geojson",
                                             sample=sample)
    for name, data in files.items():
        write_atomic(out / name, data)
    for name, frame in (("areas.parquet", result.areas), ("gaps.parquet", result.gaps)):
        frame.to_parquet(out / f"{name}.part", index=False)
        os.replace(out / f"{name}.part", out / name)
    return [out / n for n in (*files, "areas.parquet", "gaps.parquet")]
