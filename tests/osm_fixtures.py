"""Hand-built OpenStreetMap XML for network tests, written in metres around a Shanghai origin."""

from __future__ import annotations

from pathlib import Path

LAT0, LON0 = 31.2000, 121.4000
M_PER_DEG_LAT = 110_946.0
M_PER_DEG_LON = 95_234.0  # at 31.2 N


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Metres east/north of the origin to lon/lat."""
    return LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT


class OsmBuilder:
    """Collects nodes and ways and writes an .osm file."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[float, float], int] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []

    def node(self, x: float, y: float) -> int:
        key = (round(x, 3), round(y, 3))
        if key not in self.nodes:
            self.nodes[key] = len(self.nodes) + 1
        return self.nodes[key]

    def way(self, points: list[tuple[float, float]], **tags: str) -> None:
        self.ways.append(([self.node(x, y) for x, y in points],
                          {k.replace("__", ":"): v for k, v in tags.items()}))

    def write(self, path: Path) -> Path:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']
        for (x, y), nid in self.nodes.items():
            lon, lat = lonlat(x, y)
            lines.append(f'  <node id="{nid}" version="1" lat="{lat:.8f}" lon="{lon:.8f}"/>')
        for i, (refs, tags) in enumerate(self.ways, start=1):
            lines.append(f'  <way id="{i}" version="1">')
            lines += [f'    <nd ref="{r}"/>' for r in refs]
            lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
            lines.append("  </way>")
        lines.append("</osm>")
        path.write_text("\n".join(lines), encoding="utf-8")
        return path


def river_town(path: Path) -> Path:
    """Two street grids split by a north-south river, joined by one bridge 450 m north.

    West bank: streets at x = -200, -100, 0; east bank: x = 100, 200, 300; cross streets every
    150 m from y = 0 to 450 on each bank. The only crossing is the bridge at y = 450 between
    x = 0 and x = 100. So (0, 0) and (100, 0) are 100 m apart but 1,000 m apart by street.
    The east-bank street x = 300 is one-way northbound; a footway shortcut, steps, a motorway,
    a building and the river itself test the mode filters.
    """
    b = OsmBuilder()
    ys = [0, 150, 300, 450]
    for xs in ([-200, -100, 0], [100, 200, 300]):
        for x in xs:
            tags = {"highway": "residential"}
            if x == 300:
                tags["oneway"] = "yes"
            b.way([(x, y) for y in ys], **tags)
        for y in ys:
            b.way([(x, y) for x in xs], highway="residential")
    b.way([(0, 450), (100, 450)], highway="secondary", bridge="yes")
    b.way([(200, 0), (300, 150)], highway="footway")  # diagonal shortcut, on foot only
    b.way([(-200, 0), (-200, -120)], highway="steps")  # a dead-end stair down
    b.way([(-200, -120), (-100, -120), (-100, 0)], highway="residential")
    b.way([(-400, -300), (600, -300)], highway="motorway")  # no one may use it
    b.way([(40, -50), (60, -50), (60, 500), (40, 500), (40, -50)], waterway="riverbank")
    b.way([(50, -60), (50, 520)], waterway="river")
    b.way([(-180, 20), (-120, 20), (-120, 80), (-180, 80), (-180, 20)], building="yes")
    return b.write(path)
