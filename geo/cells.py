"""The H3 demand grid as arrays: centres, areas, districts, neighbour graph and dissolving."""

from __future__ import annotations

from functools import cached_property

import h3
import h3.api.basic_int as h3_int
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo.schema import SEGMENTS


class CellGrid:
    """Demand cells in one fixed order, with everything coverage needs as numpy arrays."""

    def __init__(self, demand: pd.DataFrame) -> None:
        self.h3 = demand["h3"].to_numpy(str)
        self.district = demand["district_code"].to_numpy(str) if "district_code" in demand \
            else np.full(len(demand), "", dtype=str)
        self.workers = {seg: demand[seg].to_numpy(np.int64) for seg in SEGMENTS}
        latlng = np.array([h3.cell_to_latlng(c) for c in self.h3]).reshape(-1, 2)
        self.lat, self.lon = latlng[:, 0], latlng[:, 1]

    def __len__(self) -> int:
        return len(self.h3)

    def subset(self, keep: np.ndarray) -> CellGrid:
        """The cells where `keep` is true (e.g. those a partial street graph reaches)."""
        out = object.__new__(CellGrid)
        out.h3, out.district = self.h3[keep], self.district[keep]
        out.workers = {seg: w[keep] for seg, w in self.workers.items()}
        out.lat, out.lon = self.lat[keep], self.lon[keep]
        return out

    def served(self, segments: tuple[str, ...]) -> np.ndarray:
        """Workers per cell in the segments a station type serves."""
        return sum((self.workers[s] for s in segments), np.zeros(len(self), np.int64))

    @cached_property
    def area_m2(self) -> np.ndarray:
        """Each cell's true area (res-9 cells vary by about 1 % across Shanghai)."""
        return np.array([h3.cell_area(c, "m^2") for c in self.h3])

    @cached_property
    def ids(self) -> np.ndarray:
        """Cells as 64-bit H3 integers: faster to pass to h3 and to search than strings."""
        return np.array([h3.str_to_int(c) for c in self.h3], dtype=np.uint64)

    @cached_property
    def neighbours(self) -> sparse.csr_matrix:
        """Symmetric adjacency of cells sharing an edge; built once, sliced per question."""
        rings = [h3_int.grid_ring(int(c), 1) for c in self.ids]
        ring = np.fromiter((x for r in rings for x in r), dtype=np.uint64)
        row = np.repeat(np.arange(len(self)), [len(r) for r in rings])
        order = np.argsort(self.ids)
        pos = np.minimum(np.searchsorted(self.ids[order], ring), len(self) - 1)
        hit = self.ids[order][pos] == ring
        n = len(self)
        return sparse.csr_matrix((np.ones(int(hit.sum()), np.int8),
                                  (row[hit], order[pos[hit]])), shape=(n, n))

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
        rings = [np.asarray(h3.cell_to_boundary(c))[:, ::-1] for c in self.h3[idx]]
        return shapely.polygons(rings) if rings else np.array([], dtype=object)

    def dissolve(self, idx: np.ndarray) -> shapely.Geometry:
        """One (multi)polygon outlining a set of cells, holes included, from H3 itself."""
        shape = h3.cells_to_h3shape(list(self.h3[idx]))
        return shapely.geometry.shape(h3.h3shape_to_geo(shape))
