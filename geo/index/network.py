"""Street-network distances: osmnx graphs from local files, one multi-source Dijkstra.

A graph is loaded once (.graphml saved by osmnx, or OpenStreetMap .osm/.osm.bz2 XML), kept to
the ways that suit the mode, reduced to its largest connected component (strongly connected
for bikes, which obey one-way streets) and turned into a scipy CSR matrix. Stations become
extra nodes hanging off their nearest street node by their straight access leg, so a single
`dijkstra(..., indices=stations, min_only=True)` on the reversed graph gives every street
node its distance to, and the identity of, the nearest usable station. Points farther than
`max_snap_m` from any street are unreachable, never silently snapped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import shapely
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.io.street_graph import load_graph

MAX_SNAP_M = 500.0
SEARCH_LIMIT_M = 20_000.0  # a single-point street search first looks this far
TINY = 1e-6  # scipy's csgraph reads explicit zeros as "no edge"

@dataclass
class Reach:
    """Every street node's distance to its nearest usable station and which one (-1 if none)."""

    distance_m: np.ndarray
    station: np.ndarray


class Found(NamedTuple):
    """The stations nearest by street from one point, nearest first."""

    index: np.ndarray  # into the station arrays given
    distance_m: np.ndarray  # access legs included
    node: np.ndarray  # each station's street node, where its route ends
    pred: np.ndarray  # Dijkstra predecessors from the point's street node


class StreetNetwork:
    """A street graph as arrays and a CSR matrix, ready for snapping and shortest paths."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray, u: np.ndarray, v: np.ndarray,
                 length: np.ndarray, geoms: list | None = None, mode: str = "walk",
                 max_snap_m: float = MAX_SNAP_M) -> None:
        """Nodes at lon/lat, directed edges u -> v with lengths in metres (and shapes)."""
        self.mode, self.max_snap_m = mode, float(max_snap_m)
        self.lon, self.lat = np.asarray(lon, float), np.asarray(lat, float)
        self._init_edges(np.asarray(u), np.asarray(v), np.asarray(length, float), geoms)

    @classmethod
    def from_graph(cls, G, mode: str = "walk", max_snap_m: float = MAX_SNAP_M
                   ) -> StreetNetwork:
        """From an (unprojected) osmnx graph as `load_graph` returns it."""
        index = {n: i for i, n in enumerate(G.nodes)}
        edges = list(G.edges(data=True))
        return cls([G.nodes[n]["x"] for n in G.nodes], [G.nodes[n]["y"] for n in G.nodes],
                   np.array([index[a] for a, _, _ in edges]),
                   np.array([index[b] for _, b, _ in edges]),
                   np.array([float(d.get("length", 0.0)) for _, _, d in edges]),
                   [d.get("geometry") for _, _, d in edges], mode, max_snap_m)

    @classmethod
    def from_file(cls, path: str | Path, mode: str = "walk",
                  max_snap_m: float = MAX_SNAP_M) -> StreetNetwork:
        """Load and prepare a graph file for one mode."""
        return cls.from_graph(load_graph(path, mode), mode, max_snap_m)

    def _init_edges(self, u: np.ndarray, v: np.ndarray, length: np.ndarray, geoms) -> None:
        """Keep the shortest of parallel edges; build the CSR matrix and the metric frame."""
        length = np.maximum(length, TINY)
        order = np.lexsort((length, v, u))
        u, v, length = u[order], v[order], length[order]
        first = np.ones(len(u), bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        self.u, self.v, self.length = u[first], v[first], length[first]
        self._geoms = None if geoms is None else [geoms[i] for i in order[first]]
        n = len(self.lon)
        self.csr = sparse.csr_matrix((self.length, (self.u, self.v)), shape=(n, n))
        crs = CRS.from_user_input(_utm_epsg(float(np.mean(self.lon)), float(np.mean(self.lat))))
        self._to_m = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self.x, self.y = self._to_m.transform(self.lon, self.lat)
        self.tree = cKDTree(np.column_stack([self.x, self.y]))

    def __len__(self) -> int:
        return len(self.lon)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    def snap(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Nearest street node of each point and the straight access leg in metres;
        node -1 and leg inf where the nearest street is farther than max_snap_m."""
        x, y = self._to_m.transform(np.atleast_1d(np.asarray(lon, float)),
                                    np.atleast_1d(np.asarray(lat, float)))
        leg, node = self.tree.query(np.column_stack([x, y]), k=1)
        far = leg > self.max_snap_m
        return np.where(far, -1, node), np.where(far, np.inf, leg)

    @cached_property
    def csr_t(self) -> sparse.csr_matrix:
        """The reversed graph: searching it from stations gives distances *to* them."""
        return self.csr.T.tocsr()

    def _reversed_with_stations(self, node: np.ndarray, leg: np.ndarray) -> sparse.csr_matrix:
        """The reversed graph plus one row per station (station -> its street node, weighted
        by the access leg), by concatenating CSR arrays: no copy of the graph is merged."""
        n, m = len(self), len(node)
        base = self.csr_t
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.arange(1, m + 1)])
        indices = np.concatenate([base.indices, node.astype(base.indices.dtype)])
        data = np.concatenate([base.data, np.maximum(leg, TINY)])
        return sparse.csr_matrix((data, indices, indptr), shape=(n + m, n + m))

    def reach(self, station_lon, station_lat, limit: float = np.inf) -> Reach:
        """One multi-source Dijkstra: distance from every node to its nearest station."""
        node, leg = self.snap(station_lon, station_lat)
        ok = np.flatnonzero(node >= 0)
        n = len(self)
        dist = np.full(n, np.inf)
        station = np.full(n, -1, np.int64)
        if ok.size:
            graph = self._reversed_with_stations(node[ok], leg[ok])
            d, _, src = dijkstra(graph, directed=True, indices=n + np.arange(ok.size),
                                 min_only=True, limit=limit, return_predecessors=True)
            dist = d[:n]
            station = np.where(src[:n] >= n, ok[np.maximum(src[:n] - n, 0)], -1)
        return Reach(dist, station)

    def point_distances(self, reach: Reach, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each point (via its access leg) to its nearest station, and which."""
        return self.distances_at(reach, *self.snap(lon, lat))

    def distances_at(self, reach: Reach, node: np.ndarray, leg: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """`point_distances` for points already snapped (reused across many questions)."""
        d = np.where(node >= 0, leg + reach.distance_m[np.maximum(node, 0)], np.inf)
        st = np.where((node >= 0) & np.isfinite(d), reach.station[np.maximum(node, 0)], -1)
        return d, st

    def nearest_from(self, lon: float, lat: float, station_lon, station_lat, k: int,
                     limit: float = SEARCH_LIMIT_M) -> Found:
        """The k stations nearest by street from one point. The search stops at `limit`
        metres and widens to the whole graph only if fewer than k stations lie within it."""
        p_node, p_leg = self.snap(lon, lat)
        s_node, s_leg = self.snap(station_lon, station_lat)
        ok = np.flatnonzero(s_node >= 0)
        if p_node[0] < 0 or ok.size == 0:
            return Found(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64),
                         np.zeros(0, np.int64))
        for bound in (limit, np.inf):
            d, pred = dijkstra(self.csr, directed=True, indices=int(p_node[0]), limit=bound,
                               return_predecessors=True)
            to_station = p_leg[0] + d[s_node[ok]] + s_leg[ok]
            order = np.argsort(to_station, kind="stable")[:k]
            order = order[np.isfinite(to_station[order])]
            if len(order) >= min(k, ok.size) or not np.isfinite(bound):
                break
        return Found(ok[order], to_station[order], s_node[ok[order]], pred)

    def route(self, found: Found, i: int, start: tuple[float, float],
              end: tuple[float, float]) -> shapely.LineString:
        """The i-th found station's route, from `start` along the streets to `end`."""
        return self.path_line(self.path_nodes(found.pred, int(found.node[i])), start, end)

    def path_nodes(self, pred: np.ndarray, target: int) -> list[int]:
        """Street nodes from the search origin to `target`, from a predecessor array."""
        path = []
        while target >= 0:
            path.append(int(target))
            target = int(pred[target])
        return path[::-1]

    @cached_property
    def _edge_lookup(self) -> dict[tuple[int, int], int]:
        """(u, v) -> edge row, for turning node paths into geometry."""
        return {(int(a), int(b)): i for i, (a, b) in enumerate(zip(self.u, self.v,
                                                                      strict=True))}

    def path_line(self, nodes: list[int], start: tuple[float, float],
                  end: tuple[float, float]) -> shapely.LineString:
        """The route as lon/lat: start -> street path (with edge shapes) -> end."""
        coords = [start]
        for a, b in itertools.pairwise(nodes):
            coords.extend(self._edge_coords(a, b))
        if len(nodes) == 1:
            coords.append((self.lon[nodes[0]], self.lat[nodes[0]]))
        coords.append(end)
        coords = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
        if len(coords) == 1:  # start, street node and end all at one point
            coords.append(coords[0])
        return shapely.LineString(coords)

    def _edge_coords(self, a: int, b: int) -> list[tuple[float, float]]:
        """Coordinates of the edge a -> b in travel order (straight if it has no shape)."""
        i = self._edge_lookup.get((a, b))
        geom = self._geoms[i] if (self._geoms is not None and i is not None) else None
        if geom is None:
            return [(self.lon[a], self.lat[a]), (self.lon[b], self.lat[b])]
        pts = list(geom.coords)
        if np.hypot(pts[0][0] - self.lon[a], pts[0][1] - self.lat[a]) > \
                np.hypot(pts[-1][0] - self.lon[a], pts[-1][1] - self.lat[a]):
            pts = pts[::-1]
        return pts

    def within(self, src_lon, src_lat, dst_lon, dst_lat, threshold_m: float,
               chunk_cells: int = 20_000_000):
        """Coverage sets along the streets: for each source (a candidate site), the targets
        (demand points) whose street distance *to* it is within the threshold.

        A street distance is never shorter than the straight one, so only the straight pairs
        are checked; bounded Dijkstra runs from the distinct source nodes, a chunk at a time.
        """
        from geo.index.coverage_sets import CoverageSets, straight_sets

        pairs = straight_sets(src_lon, src_lat, dst_lon, dst_lat, threshold_m)
        src, dst = pairs.sources(), pairs.indices
        s_node, s_leg = self.snap(src_lon, src_lat)
        d_node, d_leg = self.snap(dst_lon, dst_lat)
        ok = (s_node[src] >= 0) & (d_node[dst] >= 0)
        nodes, which = np.unique(s_node[src[ok]], return_inverse=True)
        order = np.argsort(which, kind="stable")  # pairs grouped by source node, once
        src, dst, which = src[ok][order], dst[ok][order], which[order]
        dist = np.full(len(src), np.inf)
        step = max(1, chunk_cells // max(len(self), 1))
        for lo in range(0, len(nodes), step):
            d = dijkstra(self.csr_t, directed=True, indices=nodes[lo:lo + step],
                         limit=threshold_m)
            a, b = np.searchsorted(which, [lo, lo + step])
            dist[a:b] = d[which[a:b] - lo, d_node[dst[a:b]]]
        dist += s_leg[src] + d_leg[dst]
        keep = dist <= threshold_m
        return CoverageSets.from_pairs(src[keep], dst[keep], dist[keep], pairs.n_sources,
                                       pairs.n_targets)

    def service_areas(self, reach: Reach, threshold_m: float, n_stations: int,
                      buffer_m: float = 30.0) -> np.ndarray:
        """Per station, the streets it is nearest to within the threshold, as a polygon: the
        concave hull of the reached edges (partly reached edges cut where the threshold
        falls), widened by `buffer_m`. Every street goes to its nearest station, so the areas
        are catchments and do not overlap along streets."""
        du, dv = reach.distance_m[self.u], reach.distance_m[self.v]
        su = reach.station[self.u]
        # Each edge is drawn from its end nearer to a station, as far as the threshold allows.
        near_end = np.minimum(du, dv)
        hit = (near_end <= threshold_m) & (su >= 0)
        full = hit & (np.maximum(du, dv) <= threshold_m)
        ux, uy, vx, vy = self.x[self.u], self.y[self.u], self.x[self.v], self.y[self.v]
        start_x = np.where(du <= dv, ux, vx)
        start_y = np.where(du <= dv, uy, vy)
        end_x = np.where(du <= dv, vx, ux)
        end_y = np.where(du <= dv, vy, uy)
        frac = np.clip((threshold_m - near_end) / self.length, 0.0, 1.0)
        frac = np.where(full, 1.0, frac)
        tip_x = start_x + (end_x - start_x) * frac
        tip_y = start_y + (end_y - start_y) * frac
        owner = np.where(du <= dv, su, reach.station[self.v])
        idx = np.flatnonzero(hit)
        areas = np.full(n_stations, None, dtype=object)
        if idx.size == 0:
            return areas
        # Per station: the reached street points (each reached edge's start and tip) hulled
        # concavely, then widened by half a street. Vectorised over all stations at once.
        pts = shapely.points(np.concatenate([start_x[idx], tip_x[idx]]),
                             np.concatenate([start_y[idx], tip_y[idx]]))
        who = np.concatenate([owner[idx], owner[idx]])
        owners, group = np.unique(who, return_inverse=True)
        order = np.argsort(group, kind="stable")  # shapely wants grouped indices sorted
        hulls = shapely.concave_hull(shapely.multipoints(pts[order], indices=group[order]),
                                     ratio=0.3)
        polys = shapely.buffer(hulls, buffer_m, quad_segs=2)
        back = Transformer.from_crs(self._to_m.target_crs, "EPSG:4326", always_xy=True)
        areas[owners] = shapely.transform(
            polys, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
        return areas


def _utm_epsg(lon: float, lat: float) -> int:
    """The UTM zone for a place (EPSG:32651 for Shanghai)."""
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + zone
