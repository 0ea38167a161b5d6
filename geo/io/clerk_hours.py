"""Opening hours as clerks write them ("周一至周五 9:00-17:00，节假日休息") into OSM syntax.

Only forms that are understood are converted; anything else is an error that says what was
expected, never a guess. Already valid OSM strings pass through unchanged.
"""

from __future__ import annotations

import re
import unicodedata

from geo.errors import HoursFormError
from geo.hours import hours_error

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_ZH_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
           "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_DAY = r"(?:周|星期|礼拜)([一二三四五六日天七1-7])"
_DAY_RANGE = re.compile(rf"{_DAY}(?:\s*-\s*{_DAY})?")
_OSM_DAYS = re.compile(r"\b(Mo|Tu|We|Th|Fr|Sa|Su)(?:\s*-\s*(Mo|Tu|We|Th|Fr|Sa|Su))?\b")
_TIME = r"(\d{1,2})\s*[:.]\s*(\d{2})"
_SPAN = re.compile(rf"{_TIME}\s*-\s*{_TIME}")
_WORDS = {"工作日": "Mo-Fr", "周末": "Sa,Su", "双休日": "Sa,Su", "每天": "", "每日": "",
          "全天": "", "天天": "", "全年": "", "daily": ""}
_ALL_DAY = re.compile(r"24\s*(?:小时|h|hours?)|全天候|全天开放|24/7", re.I)
_HOLIDAY = re.compile(r"(?:法定)?(?:节假日|节日|假日)\s*(?:休息|闭馆|不开放|关闭|休)")
_FILLER = re.compile(r"[\s,:;营业开放服务时间为是从起及和与、]+")
HINT = ("expected days and times such as 周一至周五 9:00-17:00, 每天 8:00-22:00, 24小时, "
        "节假日休息, or OSM syntax such as Mo-Fr 09:00-17:00")


def _clean(text: str) -> str:
    """Full-width to half-width, and every dash or 至/到/~ between values to '-'."""
    t = unicodedata.normalize("NFKC", str(text)).strip()
    t = re.sub(r"[~～–—－―]|至|到", "-", t)
    return re.sub(r"\s+", " ", t)


def _days(clause: str) -> tuple[list[str], str]:
    """OSM day selectors found in a clause, and the clause with them removed."""
    found: list[str] = []

    def zh(m: re.Match) -> str:
        a = _ZH_DAY[m.group(1)]
        b = _ZH_DAY[m.group(2)] if m.group(2) else None
        found.append(DAYS[a] if b is None else f"{DAYS[a]}-{DAYS[b]}")
        return " "

    def osm(m: re.Match) -> str:
        found.append(m.group(0).replace(" ", ""))
        return " "

    rest = _DAY_RANGE.sub(zh, clause)
    rest = _OSM_DAYS.sub(osm, rest)
    for word, sel in _WORDS.items():
        if word in rest:
            rest = rest.replace(word, " ")
            if sel:
                found.append(sel)
    return found, rest


def _spans(clause: str) -> tuple[list[str], str]:
    """HH:MM-HH:MM spans in a clause (zero-padded), and the clause with them removed."""
    spans = []

    def span(m: re.Match) -> str:
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise HoursFormError(f"{m.group(0)!r} is not a time range")
        spans.append(f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}")
        return " "

    return spans, _SPAN.sub(span, clause)


def _rule(clause: str) -> str | None:
    """One clause as an OSM rule; None for an empty clause."""
    if not clause.strip():
        return None
    if _HOLIDAY.search(clause) and not _SPAN.search(clause):
        return "PH off"
    days, rest = _days(clause)
    all_day = bool(_ALL_DAY.search(rest)) or ("全天" in clause and not _SPAN.search(clause))
    rest = _ALL_DAY.sub(" ", rest)
    spans, rest = _spans(rest)
    left = _FILLER.sub("", rest)
    if left:
        raise HoursFormError(f"did not understand {left!r} in {clause.strip()!r}")
    if all_day and not spans:
        return f"{','.join(days)} 00:00-24:00" if days else "24/7"
    if not spans:
        raise HoursFormError(f"no time range such as 09:00-17:00 in {clause.strip()!r}")
    return (",".join(days) + " " if days else "") + ",".join(spans)


def _clauses(text: str) -> list[str]:
    """Split on ; ， 、 and new lines; a piece with times but no days joins the one before."""
    pieces = [p for p in re.split(r"[;；\n]|[,，、](?=\s*(?:周|星期|礼拜|工作日|周末|双休|每|"
                                  r"全天|法定|节假|假日|Mo|Tu|We|Th|Fr|Sa|Su|24))", text)
              if p and p.strip()]
    out: list[str] = []
    for p in pieces:
        has_days = bool(_days(p)[0])
        if out and not has_days and _SPAN.search(p) and not _HOLIDAY.search(p) \
                and not _ALL_DAY.search(p):
            out[-1] = out[-1] + " " + p
        else:
            out.append(p)
    return out


def normalise_hours(text: str) -> str:
    """OSM opening_hours for a clerk's text; HoursFormError says why it cannot be read."""
    raw = str(text or "").strip()
    if not raw:
        raise HoursFormError("is empty; " + HINT)
    if hours_error(raw) is None:
        return raw  # already OSM syntax
    cleaned = _clean(raw)
    rules = [r for r in (_rule(c) for c in _clauses(cleaned)) if r]
    # OSM evaluates rules in order and a later one overrides: put PH last
    rules = [r for r in rules if not r.startswith("PH")] + [r for r in rules
                                                             if r.startswith("PH")]
    osm = "; ".join(dict.fromkeys(rules))
    why = hours_error(osm) if osm else "nothing usable"
    if why:
        raise HoursFormError(f"{raw!r} could not be converted ({why}); {HINT}")
    return osm
