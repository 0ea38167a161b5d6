"""Deep links into Amap and Baidu navigation, each in the datum that service expects.

Amap takes GCJ-02 longitude,latitude; Baidu takes BD-09 latitude,longitude (latitude first)
with coord_type=bd09ll. Feeding either one WGS-84 puts the destination hundreds of metres off.
"""

from __future__ import annotations

from urllib.parse import urlencode

from geo.coords import wgs84_to_bd09, wgs84_to_gcj02

AMAP_URL = "https://uri.amap.com/navigation"
BAIDU_URL = "https://api.map.baidu.com/direction"
SOURCE = "worker-stations"
AMAP_MODES = {"walk": "walk", "ebike": "ride"}
BAIDU_MODES = {"walk": "walking", "ebike": "riding"}
BAIDU_REGION = "上海"


def _clean(name: str) -> str:
    """Names go inside comma- and pipe-separated fields: take those characters out."""
    return str(name).replace(",", " ").replace("|", " ").replace(":", " ").strip()


ORIGIN_LABEL = {"zh": "起点", "en": "Start"}


def amap_url(lon: float, lat: float, name: str, mode: str = "ebike",
             origin: tuple[float, float] | None = None, origin_label: str = "起点") -> str:
    """Amap navigation to a WGS-84 station, converted to GCJ-02."""
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    params = {"to": f"{glon:.6f},{glat:.6f},{_clean(name)}", "mode": AMAP_MODES[mode]}
    if origin is not None:
        olon, olat = (float(v) for v in wgs84_to_gcj02(*origin))
        params["from"] = f"{olon:.6f},{olat:.6f},{_clean(origin_label)}"
    params |= {"coordinate": "gaode", "callnative": "1", "src": SOURCE}
    return f"{AMAP_URL}?{urlencode(params)}"


def baidu_url(lon: float, lat: float, name: str, mode: str = "ebike",
              origin: tuple[float, float] | None = None, origin_label: str = "起点") -> str:
    """Baidu directions to a WGS-84 station, converted to BD-09, latitude first."""
    blon, blat = (float(v) for v in wgs84_to_bd09(lon, lat))
    params = {"destination": f"latlng:{blat:.6f},{blon:.6f}|name:{_clean(name)}"}
    if origin is not None:
        olon, olat = (float(v) for v in wgs84_to_bd09(*origin))
        params["origin"] = f"latlng:{olat:.6f},{olon:.6f}|name:{_clean(origin_label)}"
    params |= {"mode": BAIDU_MODES[mode], "coord_type": "bd09ll", "region": BAIDU_REGION,
               "output": "html", "src": SOURCE}
    return f"{BAIDU_URL}?{urlencode(params)}"


def nav_links(lon: float, lat: float, name: str,
              origin: tuple[float, float] | None = None, lang: str = "zh") -> dict[str, str]:
    """Both services, by e-bike (the default for riders) and on foot; the start named in `lang`."""
    label = ORIGIN_LABEL.get(lang, ORIGIN_LABEL["zh"])
    return {"amap": amap_url(lon, lat, name, "ebike", origin, label),
            "amap_walk": amap_url(lon, lat, name, "walk", origin, label),
            "baidu": baidu_url(lon, lat, name, "ebike", origin, label),
            "baidu_walk": baidu_url(lon, lat, name, "walk", origin, label)}


def link_constants(lang: str = "zh") -> dict:
    """The same services and modes for the page's offline links (one source for both)."""
    return {"amap_url": AMAP_URL, "baidu_url": BAIDU_URL, "src": SOURCE,
            "amap_modes": AMAP_MODES, "baidu_modes": BAIDU_MODES, "region": BAIDU_REGION,
            "origin_label": ORIGIN_LABEL.get(lang, ORIGIN_LABEL["zh"])}
