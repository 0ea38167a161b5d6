"""Street-network speed: one multi-source Dijkstra against the per-station networkx recipe.

Run: .venv/bin/python bench/network.py   (about two minutes on 2 cores)

A synthetic street grid of 500 x 500 = 250,000 nodes (~100 m blocks, 50 km across, centred on
Shanghai) with 10 % of its streets removed, 1,500 stations on random nodes, 100,000 demand
points. Times, in one run:
- our all-node pass (snap stations, add access legs, one scipy dijkstra with min_only=True)
  against the bare scipy call on the same graph (goal: within 1.5x);
- snapping 100,000 cells to the network;
- service areas for all 1,500 stations (1,000 m) from that one pass;
- one route query (k = 5 nearest by street, with the route geometry);
- the osmnx-examples isochrone recipe (per station: networkx.ego_graph, then its nodes and
  edges buffered as GeoSeries and dissolved) on a sample of stations, extrapolated to all
  1,500 (goal: ours at least 1,000x faster).
"""

from __future__ import annotations

import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from timing import timed  # bench/ is on sys.path when run as a script

from geo.index.network import StreetNetwork

SIDE = 500
STEP_LON, STEP_LAT = 0.00105, 0.0009  # ~100 m at 31 N
STATIONS = 1500
THRESHOLD = 1000.0
EGO_SAMPLE = 5


def synthetic_grid(seed: int = 7) -> tuple[StreetNetwork, nx.MultiDiGraph]:
    """A 250k-node grid with some streets missing, as our network and as networkx."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
    lon = 121.2 + jj.ravel() * STEP_LON
    lat = 31.0 + ii.ravel() * STEP_LAT
    node = np.arange(SIDE * SIDE).reshape(SIDE, SIDE)
    a = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    b = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    keep = rng.random(len(a)) > 0.10
    a, b = a[keep], b[keep]
    length = np.where(np.abs(b - a) == 1, 100.0, 100.0) * rng.uniform(0.95, 1.05, len(a))
    u, v, w = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([length, length])
    net = StreetNetwork(lon, lat, u, v, w, max_snap_m=500)
    # As osmnx would hand it over after ox.project_graph: a MultiDiGraph in metres.
    G = nx.MultiDiGraph()
    G.add_nodes_from((i, {"x": float(x), "y": float(y)})
                     for i, (x, y) in enumerate(zip(net.x, net.y, strict=True)))
    G.add_edges_from((a_, b_, {"length": float(w_)})
                     for a_, b_, w_ in zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    return net, G




def main() -> None:
    """Print one comparison table."""
    rng = np.random.default_rng(1)
    t_build, (net, G) = timed(synthetic_grid, 1)
    print(f"synthetic grid: {len(net):,} nodes, {net.n_edges:,} directed edges "
          f"(built in {t_build:.1f} s)")
    st_nodes = rng.choice(len(net), STATIONS, replace=False)
    slon, slat = net.lon[st_nodes], net.lat[st_nodes]
    net.csr_t  # noqa: B018 - the reversed graph is built once per network, not per question

    t_ours, reach = timed(lambda: net.reach(slon, slat))
    t_bare, bare = timed(lambda: dijkstra(net.csr_t, directed=True, indices=st_nodes,
                                          min_only=True))
    assert np.allclose(reach.distance_m, bare, atol=1e-3), "the two passes disagree"

    cells_lon = rng.uniform(net.lon.min(), net.lon.max(), 100_000)
    cells_lat = rng.uniform(net.lat.min(), net.lat.max(), 100_000)
    t_snap, _ = timed(lambda: net.point_distances(reach, cells_lon, cells_lat))
    t_areas, areas = timed(lambda: net.service_areas(reach, THRESHOLD, STATIONS), 1)
    q = (float(net.lon[SIDE * SIDE // 2]), float(net.lat[SIDE * SIDE // 2]))

    def route():
        found = net.nearest_from(*q, slon, slat, k=5)
        return [net.route(found, i, q, (slon[s], slat[s])) for i, s in enumerate(found.index)]

    t_route, lines = timed(route)

    def ego_recipe(station: int) -> shapely.Geometry:
        """The osmnx-examples isochrone recipe: the ego graph within the radius, its nodes
        and edges buffered (50 m / 25 m) as GeoSeries, then dissolved."""
        sub = nx.ego_graph(G, station, radius=THRESHOLD, distance="length")
        nodes = gpd.GeoSeries(gpd.points_from_xy([sub.nodes[n]["x"] for n in sub],
                                                 [sub.nodes[n]["y"] for n in sub]),
                              index=list(sub.nodes))
        edges = gpd.GeoSeries([shapely.LineString([nodes[a_], nodes[b_]])
                               for a_, b_ in sub.edges()])
        return pd.concat([nodes.buffer(50), edges.buffer(25)]).union_all()

    sample = st_nodes[:EGO_SAMPLE]
    t0 = time.perf_counter()
    for s in sample:
        ego_recipe(int(s))
    t_ego_each = (time.perf_counter() - t0) / EGO_SAMPLE
    t_ego_all = t_ego_each * STATIONS

    rows = [
        ("all-node pass, 1,500 stations", "ours: snap + access legs + one dijkstra", t_ours),
        ("all-node pass, 1,500 stations", "bare scipy dijkstra(min_only=True)", t_bare),
        ("snap 100,000 cells + read distance", "ours: KD-tree + array lookup", t_snap),
        ("service areas, all 1,500 stations", "ours: one pass, concave hulls of reached edges",
         t_areas),
        ("route query, k = 5 with geometry", "ours: one dijkstra + predecessors", t_route),
        (f"isochrones, all 1,500 (from {EGO_SAMPLE})",
         "osmnx-examples recipe: ego_graph + buffers", t_ego_all),
    ]
    table = pd.DataFrame(rows, columns=["task", "method", "seconds"])
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    print(f"\nours / bare scipy: {t_ours / t_bare:.2f}x (goal <= 1.5x)")
    print(f"ego_graph recipe: {1000 * t_ego_each:.0f} ms per station; all stations "
          f"{t_ego_all:,.0f} s vs our pass {t_ours:.2f} s = {t_ego_all / t_ours:,.0f}x "
          f"(goal >= 1,000x); with service areas included {t_ego_all / (t_ours + t_areas):,.0f}x")
    print(f"service areas built: {sum(a is not None for a in areas):,}; "
          f"route points: {[len(line.coords) for line in lines]}")


if __name__ == "__main__":
    main()
