"""Coverage sets: for each source (a site or station), the demand points within reach of it.

The sparse structure every siting, zone and load computation shares: rows of target indices
with their distances, built from a KD-tree range search on Earth-centred coordinates (or from
bounded street searches), so 100,000 cells x 100,000 candidates never become a dense matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from geo.errors import QueryError
from geo.index.nearest import chord_to_arc, ecef


@dataclass(frozen=True)
class CoverageSets:
    """Row i lists the demand points within reach of source i, with the distance to each."""

    indptr: np.ndarray
    indices: np.ndarray
    distance_m: np.ndarray
    n_targets: int

    @property
    def n_sources(self) -> int:
        return len(self.indptr) - 1

    def row(self, i: int) -> np.ndarray:
        """Targets within reach of source i."""
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def sources(self) -> np.ndarray:
        """The source of every pair, aligned with `indices` and `distance_m`."""
        return np.repeat(np.arange(self.n_sources), np.diff(self.indptr))

    def pairs_of(self, sources: np.ndarray) -> np.ndarray:
        """Positions (into `indices` / `distance_m`) of all pairs of the given sources."""
        spans = [np.arange(self.indptr[j], self.indptr[j + 1]) for j in sources]
        return np.concatenate(spans) if spans else np.zeros(0, np.int64)

    def reached(self) -> np.ndarray:
        """Which targets some source reaches."""
        hit = np.zeros(self.n_targets, bool)
        hit[self.indices] = True
        return hit

    def matrix(self) -> sparse.csr_matrix:
        """0/1 incidence (sources x targets): gains are one sparse product."""
        return sparse.csr_matrix((np.ones(len(self.indices), np.int64), self.indices,
                                  self.indptr), shape=(self.n_sources, self.n_targets))

    @classmethod
    def from_pairs(cls, src: np.ndarray, dst: np.ndarray, dist: np.ndarray, n_sources: int,
                   n_targets: int) -> CoverageSets:
        """From unordered (source, target, metres) triples."""
        order = np.argsort(src, kind="stable")  # a radix sort: fast for 10^7 pairs
        counts = np.bincount(src, minlength=n_sources)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(indptr, np.asarray(dst)[order].astype(np.int64),
                   np.asarray(dist, float)[order], n_targets)


MAX_PAIRS = 30_000_000  # site-cell pairs held at once: about 1 GB at the peak (24 B each, x2)


def straight_sets(src_lon, src_lat, dst_lon, dst_lat, threshold_m: float) -> CoverageSets:
    """Targets within `threshold_m` (surface distance, < 1 mm of the geodesic) of each source.

    The chord is never longer than the surface distance, so a chord-radius search finds every
    pair; the arc correction then drops the few whose surface distance is just over.
    """
    src = cKDTree(ecef(src_lon, src_lat))
    dst = cKDTree(ecef(dst_lon, dst_lat))
    n_pairs = int(src.count_neighbors(dst, threshold_m))  # a dual-tree count: fast, no memory
    if n_pairs > MAX_PAIRS:
        raise QueryError("threshold_m", f"this question pairs {n_pairs:,} sites with cells "
                                        f"within {threshold_m:g} m; the limit is {MAX_PAIRS:,}: "
                                        "use a smaller threshold, a density floor (min_density) "
                                        "or fewer candidates")
    pairs = src.sparse_distance_matrix(dst, threshold_m, output_type="ndarray")
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    per_target = chord_to_arc(1.0, np.asarray(dst_lat, float)) - 1.0  # 1 / (24 R^2)
    dist = pairs["v"] + pairs["v"] ** 3 * per_target[j]
    keep = dist <= threshold_m
    return CoverageSets.from_pairs(i[keep], j[keep], dist[keep], src.n, dst.n)
