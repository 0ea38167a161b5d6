"""Street graphs from local files: osmnx reads .graphml or OpenStreetMap .osm / .osm.bz2 XML,
kept to the ways a mode may use (on foot every street both ways; bikes obey one-way streets
except where OSM maps contraflow), reduced to the largest connected component, with WGS-84
geodesic edge lengths. `geo/index/network.py` turns the graph into arrays.
"""

from __future__ import annotations

import bz2
import tempfile
from pathlib import Path

import numpy as np
from pyproj import CRS, Geod

from geo.errors import NetworkError

MODES = ("walk", "bike")

# Which highway=* values each mode may use.
NEVER = {"motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed",
         "abandoned", "raceway", "bus_guideway", "busway", "escape", "platform", "elevator"}
BIKE_ONLY_ROADS_AND_CYCLEWAYS = {
    "cycleway", "primary", "primary_link", "secondary", "secondary_link", "tertiary",
    "tertiary_link", "residential", "unclassified", "living_street", "service", "road",
    "track"}
NO_ACCESS = {"no", "private"}
EXTRA_WAY_TAGS = ["foot", "bicycle", "oneway:bicycle", "access", "cycleway",
                  "cycleway:left", "cycleway:right", "cycleway:both"]
CONTRAFLOW = ("opposite", "opposite_lane", "opposite_track", "opposite_share_busway")


def _first(value: object) -> str:
    """osmnx stores merged tags as lists; the first value stands for the way."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def allowed(mode: str, tags: dict) -> bool:
    """Whether a way with these tags is usable on foot ('walk') or by e-bike ('bike')."""
    highway = _first(tags.get("highway"))
    if not highway or highway in NEVER or _first(tags.get("area")) == "yes":
        return False
    who = "foot" if mode == "walk" else "bicycle"
    own = _first(tags.get(who))
    if own == "no" or (_first(tags.get("access")) in NO_ACCESS
                       and own not in ("yes", "designated", "permissive")):
        return False
    if mode == "walk":
        return True
    return highway in BIKE_ONLY_ROADS_AND_CYCLEWAYS or own in ("yes", "designated")


def _read_osmnx(path: Path, mode: str):
    """An unsimplified osmnx graph of every way in the file (XML or graphml)."""
    import osmnx as ox

    suffixes = "".join(path.suffixes[-2:]).lower()
    if path.suffix.lower() == ".graphml":
        return ox.load_graphml(path)
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(saved) | set(EXTRA_WAY_TAGS))
    try:
        if suffixes.endswith(".osm.bz2"):
            with tempfile.TemporaryDirectory() as tmp:
                plain = Path(tmp) / "graph.osm"
                plain.write_bytes(bz2.decompress(path.read_bytes()))
                return ox.graph_from_xml(plain, bidirectional=mode == "walk", simplify=False,
                                         retain_all=True)
        if path.suffix.lower() in (".osm", ".xml"):
            return ox.graph_from_xml(path, bidirectional=mode == "walk", simplify=False,
                                     retain_all=True)
    finally:
        ox.settings.useful_tags_way = saved
    raise NetworkError(f"{path.name}: use a .graphml, .osm or .osm.bz2 file")


def bike_contraflow(tags: dict) -> bool:
    """Whether bikes may ride against this one-way: oneway:bicycle=no, or a cycleway tagged
    opposite* on the way or either side (how OSM maps contraflow lanes)."""
    if _first(tags.get("oneway:bicycle")) == "no":
        return True
    return any(_first(tags.get(k)) in CONTRAFLOW
               for k in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both"))


def _keep_mode(G, mode: str):
    """Drop ways the mode cannot use; on foot every street is two-way; bikes may ride
    against a one-way where OSM says so (`bike_contraflow`)."""
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not allowed(mode, d)]
    G.remove_edges_from(drop)
    existing = {(u, v) for u, v in G.edges()}
    add = [(v, u, {**d, "reversed": True}) for u, v, d in G.edges(data=True)
           if (v, u) not in existing and (mode == "walk" or bike_contraflow(d))]
    G.add_edges_from(add)
    G.remove_nodes_from([n for n, deg in dict(G.degree()).items() if deg == 0])
    return G


def load_graph(path: str | Path, mode: str = "walk", simplify: bool = False):
    """The mode's street graph from a local file: filtered, largest connected component.

    Every OSM vertex stays a node unless `simplify` is asked for: points snap to nodes, and
    on a simplified graph a point mid-block would snap to a corner hundreds of metres away.
    """
    import osmnx as ox

    if mode not in MODES:
        raise NetworkError(f"unknown mode {mode!r}: use {' or '.join(MODES)}")
    path = Path(path)
    if not path.exists():
        raise NetworkError(f"{path}: file not found")
    try:
        G = _keep_mode(_read_osmnx(path, mode), mode)
    except NetworkError:
        raise
    except Exception as exc:  # osmnx/lxml/networkx raise many types for broken files
        raise NetworkError(f"{path.name}: cannot read a street graph ({exc})") from exc
    if G.number_of_edges() == 0:
        raise NetworkError(f"{path.name}: no {mode} streets in this file")
    if not CRS.from_user_input(G.graph.get("crs", "EPSG:4326")).is_geographic:
        G = ox.project_graph(G, to_latlong=True)
    if simplify and not G.graph.get("simplified"):
        G = ox.simplify_graph(G)
    G = ox.truncate.largest_component(G, strongly=mode == "bike")
    _geodesic_lengths(G)
    return G


def _geodesic_lengths(G) -> None:
    """Replace osmnx's spherical lengths by WGS-84 geodesics, the same measure as straight
    distances, so a street path is never 'shorter' than the straight line (they differ by up
    to ~0.3 % in Shanghai)."""
    geod = Geod(ellps="WGS84")
    edges = list(G.edges(keys=True, data=True))
    plain = [e for e in edges if e[3].get("geometry") is None]
    if plain:
        xy = np.array([(G.nodes[u]["x"], G.nodes[u]["y"], G.nodes[v]["x"], G.nodes[v]["y"])
                       for u, v, _, _ in plain])
        lengths = geod.inv(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3])[2]
        for (_, _, _, d), length in zip(plain, lengths, strict=True):
            d["length"] = float(length)
    for _, _, _, d in edges:
        if d.get("geometry") is not None:
            d["length"] = float(geod.geometry_length(d["geometry"]))
