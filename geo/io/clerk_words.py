"""The words union clerks use: column headers and values in Chinese and English.

Every list maps many spellings to one schema name. Matching ignores case, spaces and
full-width/half-width differences, so "站点名称", "Name " and "ＮＡＭＥ" all find `name`.
"""

from __future__ import annotations

import re
import unicodedata

HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "站点编号", "序号id"),
    "name": ("name", "名称", "站点名称", "站名", "驿站名称", "站点"),
    "address": ("address", "地址", "详细地址", "站点地址"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "coords": ("coordinates", "coords", "lnglat", "坐标", "经纬度"),
    "district": ("district", "所属区", "区", "行政区", "所在区", "区县"),
    "district_code": ("district_code", "区划代码", "行政区划代码"),
    "opening_hours": ("opening_hours", "hours", "开放时间", "服务时间", "营业时间", "开放时段"),
    "amenities": ("amenities", "设施", "服务设施", "配套设施"),
    "phone": ("phone", "电话", "联系电话", "电话号码"),
    "capacity": ("capacity", "座位", "座位数", "容纳人数", "可容纳人数"),
    "type": ("type", "类型", "站点类型"),
    "host": ("host", "承办单位", "依托单位", "所属单位", "依托场所"),
    "source": ("source", "来源", "数据来源"),
}

# a demand file's own columns (its coordinates and districts use HEADERS above); an H3 table
# may carry one column per worker segment (geo.schema.SEGMENTS), named as the segment, or
# 24 columns h00…h23 of counts by hour
DEMAND_HEADERS: dict[str, tuple[str, ...]] = {
    "h3": ("h3", "h3_index", "h3index", "cell", "hex", "h3cell"),
    "count": ("count", "workers", "value", "population", "pop", "人数", "数量", "职工数",
              "从业人数", "人口", "骑手数", "户外职工数"),
    "outdoor": ("outdoor",), "office": ("office",), "industrial": ("industrial",),
    **{f"h{h:02d}": (f"h{h:02d}",) for h in range(24)},  # counts by hour: an own profile
}

TYPES: dict[str, tuple[str, ...]] = {
    "relay": ("relay", "户外职工爱心接力站", "爱心接力站", "接力站", "户外职工驿站"),
    "health": ("health", "职工健康服务点", "健康服务点", "健康点"),
    "fitness": ("fitness", "职工健身驿站", "健身驿站", "健身点"),
}

HOSTS: dict[str, tuple[str, ...]] = {
    "bank": ("bank", "银行"),
    "post": ("post", "post_office", "邮政", "邮局"),
    "telecom": ("telecom", "电信", "移动", "联通", "营业厅", "电信营业厅", "移动营业厅",
                "联通营业厅"),
    "pharmacy": ("pharmacy", "药店", "药房"),
    "supermarket": ("supermarket", "超市"),
    "convenience": ("convenience", "便利店"),
    "subdistrict": ("subdistrict", "街道", "社区", "社区服务中心", "街道社区服务中心",
                    "党群服务中心", "community_centre"),
    "restaurant": ("restaurant", "餐厅", "饭店"),
    "park": ("park", "公园"),
    "building": ("building", "楼宇", "商务楼宇", "写字楼"),
    "other": ("other", "其他"),
}

AMENITY_WORDS: dict[str, tuple[str, ...]] = {
    "water": ("water", "饮水", "热水", "饮用水", "喝水"),
    "microwave": ("microwave", "微波炉", "热饭"),
    "fridge": ("fridge", "冰箱"),
    "charging": ("charging", "充电", "手机充电", "电动车充电"),
    "ac": ("ac", "air-con", "空调", "纳凉", "取暖"),
    "toilet": ("toilet", "厕所", "卫生间", "如厕", "洗手间"),
    "seating": ("seating", "座椅", "休息", "歇脚", "休息座椅"),
    "first_aid": ("first_aid", "急救", "药箱", "医药箱", "应急药箱"),
    "wifi": ("wifi", "wi-fi", "无线网络", "无线网"),
}
# "6+X": the six basic services every relay station offers (drink, warm food, charge, cool or
# warm, toilet, rest), plus extras listed after the plus.
SIX_BASIC = ("water", "microwave", "charging", "ac", "toilet", "seating")


def fold(text: object) -> str:
    """Comparable form: NFKC (full-width to half-width), lower case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def _index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {fold(word): key for key, words in table.items() for word in words}


_HEADER = _index(HEADERS)
_TYPE = _index(TYPES)
_HOST = _index(HOSTS)
_AMENITY = _index(AMENITY_WORDS)
_DEMAND = _index(DEMAND_HEADERS)


def header_field(header: object) -> str | None:
    """The schema field a column header names, or None."""
    return _HEADER.get(fold(header))


def demand_field(header: object) -> str | None:
    """The demand field a header names (h3, count, a segment, or a station file's
    lon/lat/district)."""
    return _DEMAND.get(fold(header)) or header_field(header)


def station_type(value: object) -> str | None:
    """relay / health / fitness from any listed spelling, or None."""
    return _TYPE.get(fold(value))


def host(value: object) -> str | None:
    """The host category from any listed spelling, or None."""
    return _HOST.get(fold(value))


def amenities(value: object) -> tuple[list[str], list[str]]:
    """(known amenity names in schema order, words not understood) from a clerk's cell."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        return [], []
    found: set[str] = set()
    m = re.match(r"^\s*6\s*\+\s*x?\s*[:：]?\s*", text, re.I)
    if m:  # "6+X：冰箱、无线网络" = the six basics plus the listed extras
        found.update(SIX_BASIC)
        text = text[m.end():]
    unknown = []
    for word in re.split(r"[;；,，、/|\s]+", text.strip("[]")):
        word = word.strip().strip("\"'")
        if not word:
            continue
        key = _AMENITY.get(fold(word))
        if key:
            found.add(key)
        else:
            unknown.append(word)
    order = list(AMENITY_WORDS)
    return sorted(found, key=order.index), unknown
