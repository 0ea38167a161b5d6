"""National scale: build the sample, run coverage on dask with 1 and 2 workers, and compare
with the same functions in one process, the naive whole-country grid, and the floor (one bare
cKDTree query of every cell against the stations).

Run: python bench/national.py [--data DIR] [--workers 1,2]
Without --data it builds the full national sample (about 11 million cells) into a temporary
directory first and times that too. Memory is peak RSS (getrusage), per dask worker process
or per subprocess.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    """This process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_subprocess(code: str) -> dict:
    """Run a snippet in a fresh interpreter; it prints one JSON line, we add its peak MB."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    if out.returncode != 0:
        return {"failed": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


SINGLE = """
import json, time, resource
from geo.questions import CoverageSpec
from geo.national.compute import area_table, city_gaps, cover_partition, shared_for
from geo.national.dataset import open_dataset
data = open_dataset({data!r})
t0 = time.perf_counter()
shared = shared_for(data, CoverageSpec("relay"), out={out!r})
done = [(p, *cover_partition(p, shared)) for p in data.partitions]  # one per city
t1 = time.perf_counter()
zones = [city_gaps([rows], shared, names=data.names(p.city_code), limit=10)
         for p, _, rows in done]
area_table(data, [sums for _, sums, _ in done])
t2 = time.perf_counter()
cells = sum(len(rows) for _, _, rows in done)
print(json.dumps({{"seconds": t2 - t0, "stage1": t1 - t0, "stage2": t2 - t1, "cells": cells,
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

NAIVE = """
import json, time, resource
import numpy as np, pandas as pd
from geo.index.cells import CellGrid
from geo.questions import CoverageSpec
from geo.analysis.coverage import coverage_of
from geo.national.dataset import open_dataset
from geo.index.nearest import NearestIndex
data = open_dataset({data!r})
t0 = time.perf_counter()
cells = pd.concat([p.load() for p in data.partitions], ignore_index=True)
grid = CellGrid.from_arrays(cells["h3"].to_numpy(), cells["district_code"].to_numpy(),
                            {{s: cells[s].to_numpy() for s in ("outdoor", "office", "industrial")}})
index = NearestIndex(data.stations)
names = pd.DataFrame({{"code": data.areas["district_code"], "name": data.areas["district"],
                      "name_en": data.areas["district"]}})
result = coverage_of(index, data.stations["id"].to_numpy(object), grid, names,
                     CoverageSpec("relay"))
result.by_district()
t1 = time.perf_counter()
print(json.dumps({{"seconds": t1 - t0, "cells": len(grid),
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

FLOOR = """
import json, time, resource
import numpy as np, pandas as pd
from scipy.spatial import cKDTree
from geo.index.cells import cell_centres
from geo.index.nearest import ecef
from geo.national.dataset import open_dataset
data = open_dataset({data!r})
ids = np.concatenate([p.load()["h3"].to_numpy(np.uint64) for p in data.partitions])
st = data.stations[data.stations["type"] == "relay"]
t0 = time.perf_counter()
lon, lat = cell_centres(ids)
tree = cKDTree(ecef(st["lon"].to_numpy(), st["lat"].to_numpy()))
d, _ = tree.query(ecef(lon, lat), k=1)
t1 = time.perf_counter()
print(json.dumps({{"seconds": t1 - t0, "cells": len(ids),
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def on_cluster(data_dir: str, workers: int, out: str) -> dict:
    """National coverage on a fresh LocalCluster: wall time and each worker's peak memory."""
    from geo.national.compute import national_coverage
    from geo.national.dataset import open_dataset
    from geo.national.runner import close, connect
    from geo.questions import CoverageSpec

    data = open_dataset(data_dir)
    client = connect("local", workers)
    try:
        t0 = time.perf_counter()
        result = national_coverage(data, CoverageSpec("relay"), client, out=out, top=10)
        seconds = time.perf_counter() - t0
        mem = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        close(client)
    return {"seconds": seconds, "worker_mb": sorted(mem.values()), "zones": len(result.gaps),
            "covered": int(result.areas["covered"].sum())}


def build_on_cluster(out: str, workers: int) -> dict:
    """The full national sample built on a fresh LocalCluster: time and worker memory."""
    from geo.national.runner import close, connect
    from geo.national.sample import build_national

    client = connect("local", workers)
    try:
        t0 = time.perf_counter()
        meta = build_national(out, client=client)
        seconds = time.perf_counter() - t0
        mem = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        close(client)
    return {**meta, "seconds": seconds, "worker_mb": sorted(mem.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="an existing national dataset (skip the build)")
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="national-bench-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    """Every measurement, printed as it comes (temporary files under `tmp`)."""
    counts = [int(w) for w in args.workers.split(",")]
    data_dir = args.data
    if data_dir is None:
        for n in counts:
            data_dir = str(tmp / f"national{n}")
            r = build_on_cluster(data_dir, n)
            print(f"build, {n} worker{'s' if n > 1 else ''}: {r['cells']:,} cells, "
                  f"{r['stations']:,} stations in {r['seconds']:.1f} s; peak "
                  + "/".join(f"{m:,.0f}" for m in r["worker_mb"]) + " MB per worker")
    meta = json.loads((Path(data_dir) / "dataset.json").read_text(encoding="utf-8"))
    cells = meta["cells"]
    print(f"dataset: {meta['cities']} cities, {cells:,} cells, {meta['stations']:,} stations "
          f"({meta['source']})\n")

    rows = []
    runs = {}
    for n in counts:
        runs[n] = on_cluster(data_dir, n, str(tmp / f"out{n}"))
        r = runs[n]
        rows.append((f"dask, {n} worker{'s' if n > 1 else ''}", r["seconds"],
                     "/".join(f"{m:,.0f}" for m in r["worker_mb"]) + " per worker"))
    single = in_subprocess(SINGLE.format(data=data_dir, out=str(tmp / "single")))
    naive = in_subprocess(NAIVE.format(data=data_dir))
    floor = in_subprocess(FLOOR.format(data=data_dir))
    for label, r, what in (("same functions, one process", single, "cells written, zones"),
                           ("naive: one grid of every cell", naive, "distances + table only"),
                           ("floor: one bare cKDTree query", floor, "distances only")):
        if "failed" in r:
            rows.append((label, float("nan"), f"failed: {r['failed']}"))
        else:
            rows.append((label, r["seconds"], f"{r['mb']:,.0f} ({what})"))

    print(f"{'relay coverage, 1,000 m':36} {'seconds':>9}  peak MB")
    for label, s, mb in rows:
        print(f"{label:36} {s:9.1f}  {mb}")
    if 1 in runs and 2 in runs:
        print(f"\nspeed-up 1 -> 2 workers: {runs[1]['seconds'] / runs[2]['seconds']:.2f}x; "
              f"same answers: {runs[1]['covered'] == runs[2]['covered']}")
    if "failed" not in single:
        s1, s2 = single["stage1"], single["stage2"]
        print(f"per worker: stage 1 (distances, tables, cells written) "
              f"{cells / s1:,.0f} cells/s; stage 2 (gap zones per city) {cells / s2:,.0f} "
              f"cells/s; both {cells / (s1 + s2):,.0f} cells/s")
        rate = cells / (s1 + s2)
        for n in (2, 8, 32):
            print(f"  estimate on {n:>2} workers: {cells / (n * rate):,.0f} s for {cells:,} "
                  "cells (assumes linear scaling; the largest city bounds stage 2)")
    if "failed" not in floor and 2 in runs:
        print(f"\nours (2 workers) / floor: {runs[2]['seconds'] / floor['seconds']:.1f}x the "
              "bare distance query, which writes nothing and finds no zones")


if __name__ == "__main__":
    main()
