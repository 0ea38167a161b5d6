"""Deep links into Amap and Baidu navigation, each in the datum that service expects.

Amap takes GCJ-02 longitude,latitude; Baidu takes BD-09 latitude,longitude (latitude first)
with coord_type=bd09ll. Feeding either one WGS-84 puts the destination hundreds of metres off.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote_plus

from geo.coords import wgs84_to_bd09, wgs84_to_gcj02

AMAP_URL = "https://uri.amap.com/navigation"
BAIDU_URL = "https://api.map.baidu.com/direction"
SOURCE = "worker-stations"
AMAP_MODES = {"walk": "walk", "ebike": "ride"}
BAIDU_MODES = {"walk": "walking", "ebike": "riding"}
# Baidu's `region` (the city the directions are in) comes from the dataset: its station
# file's top-level "region" member; this is the embedded Shanghai dataset's.
DEFAULT_REGION = "上海"


def _clean(name: str) -> str:
    """Names go inside comma- and pipe-separated fields: take those characters out."""
    return str(name).replace(",", " ").replace("|", " ").replace(":", " ").strip()


ORIGIN_LABEL = {"zh": "起点", "en": "Start"}


def amap_target(glon: float, glat: float, name: str) -> str:
    """The URL-encoded `to` of an Amap link (per station: computed once on the hot path)."""
    return quote_plus(f"{glon:.6f},{glat:.6f},{_clean(name)}")


@lru_cache(maxsize=64)
def _label(label: str) -> str:
    """A start's name, cleaned and URL-encoded once (one per page language)."""
    return quote_plus(_clean(label))


def amap_origin(gcj: tuple[float, float], label: str) -> str:
    """The URL-encoded `from` of an Amap link (per request). Digits, '.' and '-' are never
    escaped, so only the separators are written encoded: quote_plus's bytes, a fifth the cost."""
    return f"{gcj[0]:.6f}%2C{gcj[1]:.6f}%2C{_label(label)}"


def baidu_target(blon: float, blat: float, name: str) -> str:
    """The URL-encoded `destination` of a Baidu link, latitude first."""
    return quote_plus(f"latlng:{blat:.6f},{blon:.6f}|name:{_clean(name)}")


def baidu_origin(bd: tuple[float, float], label: str) -> str:
    """The URL-encoded `origin` of a Baidu link (encoded as `amap_origin` is)."""
    return f"latlng%3A{bd[1]:.6f}%2C{bd[0]:.6f}%7Cname%3A{_label(label)}"


def amap_encoded(target: str, mode: str, origin: str | None) -> str:
    """An Amap navigation URL from encoded parts (what urlencode would give, assembled)."""
    start = f"&from={origin}" if origin else ""
    return (f"{AMAP_URL}?to={target}&mode={AMAP_MODES[mode]}{start}"
            f"&coordinate=gaode&callnative=1&src={SOURCE}")


@lru_cache(maxsize=64)
def _region(region: str) -> str:
    """A region name URL-encoded once, not per link."""
    return quote_plus(region)


def baidu_encoded(target: str, mode: str, origin: str | None,
                  region: str = DEFAULT_REGION) -> str:
    """A Baidu directions URL from encoded parts."""
    start = f"&origin={origin}" if origin else ""
    return (f"{BAIDU_URL}?destination={target}{start}&mode={BAIDU_MODES[mode]}"
            f"&coord_type=bd09ll&region={_region(region)}&output=html&src={SOURCE}")


def origin_label(lang: str) -> str:
    """What the start is called in the links, in the page language."""
    return ORIGIN_LABEL.get(lang, ORIGIN_LABEL["zh"])


def _pair(fn, lon: float, lat: float) -> tuple[float, float]:
    x, y = fn(lon, lat)
    return float(x), float(y)


def links_encoded(amap_to: str, baidu_to: str, amap_from: str | None,
                  baidu_from: str | None, region: str = DEFAULT_REGION) -> dict[str, str]:
    """All four links from encoded parts: the hot path encodes each station once."""
    return {"amap": amap_encoded(amap_to, "ebike", amap_from),
            "amap_walk": amap_encoded(amap_to, "walk", amap_from),
            "baidu": baidu_encoded(baidu_to, "ebike", baidu_from, region),
            "baidu_walk": baidu_encoded(baidu_to, "walk", baidu_from, region)}


def nav_links(lon: float, lat: float, name: str,
              origin: tuple[float, float] | None = None, lang: str = "zh",
              region: str = DEFAULT_REGION) -> dict[str, str]:
    """Both services, by e-bike (the default for riders) and on foot; the start named in `lang`."""
    label = origin_label(lang)
    return links_encoded(
        amap_target(*_pair(wgs84_to_gcj02, lon, lat), name),
        baidu_target(*_pair(wgs84_to_bd09, lon, lat), name),
        amap_origin(_pair(wgs84_to_gcj02, *origin), label) if origin is not None else None,
        baidu_origin(_pair(wgs84_to_bd09, *origin), label) if origin is not None else None,
        region)


def link_constants(lang: str = "zh", region: str = DEFAULT_REGION) -> dict:
    """The same services and modes for the page's offline links (one source for both)."""
    return {"amap_url": AMAP_URL, "baidu_url": BAIDU_URL, "src": SOURCE,
            "amap_modes": AMAP_MODES, "baidu_modes": BAIDU_MODES, "region": region,
            "origin_label": origin_label(lang)}
