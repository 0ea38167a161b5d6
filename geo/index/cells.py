"""The H3 demand grid as arrays: centres, areas, districts, neighbour graph and dissolving.

All H3 work is done in bulk over arrays (h3ronpy, Rust): no Python loop over cells, so the
same code builds Shanghai's 100,000 cells at start-up and a national partition on a worker.
"""

from __future__ import annotations

from functools import cached_property

import h3
import h3.api.basic_int as h3_int
import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy.vector import cells_to_coordinates, cells_to_wkb_polygons, coordinates_to_cells
from scipy import sparse

from geo.schema import SEGMENTS

RES = 9  # the demand grid's resolution (about 0.1 km² a cell)


def parse_cells(cells) -> np.ndarray:
    """H3 cells as 64-bit integers, from hex strings or integers (one bulk call)."""
    arr = np.asarray(cells)
    if arr.dtype.kind in "iu":
        return arr.astype(np.uint64)
    return np.asarray(h3ronpy.cells_parse(arr.astype(str)), dtype=np.uint64)


def cell_strings(ids: np.ndarray) -> np.ndarray:
    """Hex strings of 64-bit H3 cells, as the API and files show them."""
    if len(ids) == 0:
        return np.array([], dtype=str)
    return np.asarray(h3ronpy.cells_to_string(np.asarray(ids, np.uint64))).astype(str)


def cell_centres(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of each cell's centre, in degrees."""
    if len(ids) == 0:
        return np.zeros(0), np.zeros(0)
    batch = cells_to_coordinates(np.asarray(ids, np.uint64))
    return np.asarray(batch["lng"], float), np.asarray(batch["lat"], float)


def cell_parents(ids: np.ndarray, resolution: int) -> np.ndarray:
    """Each cell's ancestor at a coarser resolution: the key of an H3-parent partition."""
    if len(ids) == 0:
        return np.zeros(0, np.uint64)
    return np.asarray(h3ronpy.change_resolution(np.asarray(ids, np.uint64), resolution),
                      dtype=np.uint64)


def cell_areas(ids: np.ndarray) -> np.ndarray:
    """Each cell's exact area in m² (spherical, as H3 computes it)."""
    if len(ids) == 0:
        return np.zeros(0)
    return np.asarray(h3ronpy.cells_area_m2(np.asarray(ids, np.uint64)), float)


def cell_index(ids: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Position of each cell among the dataset's cells, -1 where it is not one of them."""
    order = np.argsort(ids)
    pos = np.searchsorted(ids[order], cells)
    pos = np.minimum(pos, len(ids) - 1)
    hit = ids[order][pos] == cells
    return np.where(hit, order[pos], -1)


def points_to_cells(lon: np.ndarray, lat: np.ndarray, res: int = RES) -> np.ndarray:
    """The cell (res 9 unless said) of each WGS-84 point (0 where the point is not finite)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.zeros(len(lon), np.uint64)
    if ok.any():
        out[ok] = np.asarray(coordinates_to_cells(lat[ok], lon[ok], res), np.uint64)
    return out


def cell_polygons(ids: np.ndarray) -> np.ndarray:
    """Hexagon polygons (lon/lat) of cells, in one bulk call."""
    if len(ids) == 0:
        return np.array([], dtype=object)
    return shapely.from_wkb(np.asarray(cells_to_wkb_polygons(np.asarray(ids, np.uint64)),
                                       dtype=object))


def ring_pairs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, neighbour id) for every cell and each of its edge neighbours (one bulk call)."""
    if len(ids) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    disks = pa.array(h3ronpy.grid_disk(np.asarray(ids, np.uint64), 1, flatten=False))
    offsets = disks.offsets.to_numpy()
    values = disks.values.to_numpy()
    row = np.repeat(np.arange(len(ids)), np.diff(offsets))
    own = values == np.asarray(ids, np.uint64)[row]
    return row[~own], values[~own]


def adjacency(ids: np.ndarray) -> sparse.csr_matrix:
    """Symmetric adjacency of the given cells that share an edge."""
    n = len(ids)
    row, ring = ring_pairs(ids)
    order = np.argsort(ids)
    pos = np.minimum(np.searchsorted(ids[order], ring), max(n - 1, 0))
    hit = (ids[order][pos] == ring) if n else np.zeros(0, bool)
    return sparse.csr_matrix((np.ones(int(hit.sum()), np.int8),
                              (row[hit], order[pos[hit]])), shape=(n, n))


class CellGrid:
    """Demand cells in one fixed order, with everything coverage needs as numpy arrays."""

    def __init__(self, demand: pd.DataFrame) -> None:
        district = demand["district_code"].to_numpy(str) if "district_code" in demand \
            else np.full(len(demand), "", dtype=str)
        self._fill(parse_cells(demand["h3"].to_numpy()), district,
                   {seg: demand[seg].to_numpy(np.int64) for seg in SEGMENTS})

    @classmethod
    def from_arrays(cls, ids: np.ndarray, district: np.ndarray,
                    workers: dict[str, np.ndarray]) -> CellGrid:
        """A grid from cell ids, district codes and workers by segment (a dask partition)."""
        out = object.__new__(cls)
        out._fill(parse_cells(ids), np.asarray(district, str),
                  {seg: np.asarray(workers[seg], np.int64) for seg in SEGMENTS})
        return out

    def _fill(self, ids: np.ndarray, district: np.ndarray, workers: dict) -> None:
        """Set the arrays every grid has; centres come from the ids in one bulk call."""
        self.ids, self.district, self.workers = ids, district, workers
        self.lon, self.lat = cell_centres(ids)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: np.ndarray) -> CellGrid:
        """The cells where `keep` is true (e.g. those a partial street graph reaches)."""
        out = object.__new__(CellGrid)
        out.ids, out.district = self.ids[keep], self.district[keep]
        out.workers = {seg: w[keep] for seg, w in self.workers.items()}
        out.lon, out.lat = self.lon[keep], self.lat[keep]
        return out

    def served(self, segments: tuple[str, ...]) -> np.ndarray:
        """Workers per cell in the segments a station type serves."""
        return sum((self.workers[s] for s in segments), np.zeros(len(self), np.int64))

    @cached_property
    def h3(self) -> np.ndarray:
        """Cells as hex strings, for answers and files."""
        return cell_strings(self.ids)

    @cached_property
    def area_m2(self) -> np.ndarray:
        """Each cell's true area (res-9 cells vary by about 1 % across Shanghai)."""
        return cell_areas(self.ids)

    def area_of(self, idx: np.ndarray) -> np.ndarray:
        """The areas of some cells: exact areas cost ~3 µs a cell, and only uncovered,
        populated cells need theirs (a national city has hundreds of thousands of cells)."""
        if "area_m2" in self.__dict__:
            return self.area_m2[idx]
        return cell_areas(self.ids[idx])

    @cached_property
    def neighbours(self) -> sparse.csr_matrix:
        """Symmetric adjacency of cells sharing an edge; built once, sliced per question."""
        return adjacency(self.ids)

    def components(self, idx: np.ndarray) -> np.ndarray:
        """Connected-component label for each of the given cells (neighbours within the set)."""
        from scipy.sparse.csgraph import connected_components

        if len(idx) == 0:
            return np.zeros(0, np.int64)
        sub = self.neighbours[idx][:, idx]
        _, labels = connected_components(sub, directed=False)
        return labels

    def in_bbox(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """Indices of cells whose centre lies in a lon/lat box."""
        w, s, e, n = bbox
        return np.flatnonzero((self.lon >= w) & (self.lon <= e) & (self.lat >= s)
                              & (self.lat <= n))

    def polygons(self, idx: np.ndarray) -> np.ndarray:
        """Hexagon polygons (lon/lat) of the given cells."""
        return cell_polygons(self.ids[idx])

    def dissolve(self, idx: np.ndarray) -> shapely.Geometry:
        """One (multi)polygon outlining a set of cells, holes included, from H3 itself."""
        shape = h3_int.cells_to_h3shape([int(c) for c in self.ids[idx]])
        return shapely.geometry.shape(h3.h3shape_to_geo(shape))
