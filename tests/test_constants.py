"""One place per constant: the pages, the OpenAPI document and the CLI's help receive them from
Python, and what they say agrees with what the parsers do."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.errors import DatasetError, QueryError
from geo.hours import WEEKDAY_ABBRS, WEEKDAYS
from geo.questions import parse_weekday

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "app" / "static"


def page_cfg(html: str) -> dict:
    """The JSON config a page hands its scripts."""
    m = re.search(r'<script id="cfg" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def weekday_pattern(client) -> str:
    doc = client.get("/api/openapi.json").get_json()
    params = doc["paths"]["/api/coverage/hourly"]["get"]["parameters"]
    return next(p for p in params if p["name"] == "weekday")["schema"]["pattern"]


def test_the_documented_weekdays_are_exactly_what_the_parser_takes(client):
    """Every lower-case string of up to three letters, and the digits: the document's pattern
    and the parser agree on each (the parser also takes other cases and spaces)."""
    pattern = re.compile(weekday_pattern(client))
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(p) for n in (1, 2, 3) for p in itertools.product(letters, repeat=n)]
    for text in [*words, *"0123456789", "mond", "10", "-1"]:
        try:
            parse_weekday("weekday", text, 0)
            accepted = True
        except QueryError:
            accepted = False
        assert accepted == bool(pattern.fullmatch(text)), text
    assert parse_weekday("weekday", "Tue", 0) == 1 and parse_weekday("weekday", " SU ", 0) == 6
    assert [parse_weekday("w", d, 9) for d in WEEKDAYS] == list(range(7))
    assert [parse_weekday("w", d, 9) for d in WEEKDAY_ABBRS] == list(range(7))


def test_mox_is_not_monday(client):
    r = client.get("/api/coverage/hourly?weekday=mox")
    assert r.status_code == 400 and r.get_json()["param"] == "weekday"


def stations_in_zone(tmp_path: Path, zone: str | None) -> Path:
    """The embedded station file, saying its time zone."""
    doc = json.loads((ROOT / "data" / "stations.geojson").read_text("utf-8"))
    if zone:
        doc["timezone"] = zone
    path = tmp_path / "stations.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return path


@pytest.mark.parametrize(("zone", "minutes"), [(None, 480), ("Asia/Tokyo", 540),
                                               ("Asia/Kathmandu", 345)])
def test_pages_and_the_pack_carry_the_datasets_utc_offset(tmp_path, zone, minutes):
    """The scripts read the station's wall clock with the dataset's offset (no UTC+8 in JS)."""
    from app import create_app

    app = create_app({"STATIONS_TILES": "none", "TESTING": True,
                      "STATIONS_DATA": str(stations_in_zone(tmp_path, zone))})
    client = app.test_client()
    assert page_cfg(client.get("/").get_data(as_text=True))["utc_offset_min"] == minutes
    assert page_cfg(client.get("/planner").get_data(as_text=True))["utc_offset_min"] == minutes
    assert client.get("/api/pack").get_json()["utc_offset_min"] == minutes


def test_a_bad_time_zone_stops_the_start_with_its_name(tmp_path):
    from app import create_app

    with pytest.raises(DatasetError, match="Mars/Olympus"):
        create_app({"STATIONS_TILES": "none", "TESTING": True,
                    "STATIONS_DATA": str(stations_in_zone(tmp_path, "Mars/Olympus"))})


def test_the_pages_get_k_and_the_reference_week_from_python(client):
    from geo.analysis.coverage import REFERENCE_MONDAY
    from geo.index.nearest import K_DEFAULT
    from geo.questions import K_MAX

    finder = page_cfg(client.get("/").get_data(as_text=True))
    assert (finder["k"], finder["k_default"], finder["k_max"]) == (K_DEFAULT, K_DEFAULT, K_MAX)
    planner = page_cfg(client.get("/planner").get_data(as_text=True))
    assert planner["reference_monday"] == REFERENCE_MONDAY.isoformat()


@pytest.mark.parametrize("literal", [r"8\s*\*\s*3600", r"Date\.UTC\(20\d\d", r"!==\s*5\b",
                                     r"\[\s*\"zh\"\s*,\s*\"en\"\s*\]"])
def test_no_script_restates_a_python_constant(literal):
    """The offsets, the reference week, k and the languages reach the scripts as config."""
    found = [f"{p.name}:{n}" for p in STATIC.glob("*.js")
             for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
             if re.search(literal, line)]
    assert found == []


def test_cli_help_is_built_from_the_limits():
    from app.cli.main import cli
    from geo.analysis.plan import K_DEFAULT as PLAN_K_DEFAULT
    from geo.analysis.plan import K_MAX as PLAN_K_MAX
    from geo.index.nearest import K_DEFAULT
    from geo.questions import DEFAULT_THRESHOLDS_M, K_MAX

    def help_of(*args):
        return " ".join(CliRunner().invoke(cli, [*args, "--help"]).output.split())

    nearest, plan = help_of("nearest"), help_of("plan")
    assert f"(1-{K_MAX}). [default: {K_DEFAULT}]" in nearest
    assert f"(1-{PLAN_K_MAX}). [default: {PLAN_K_DEFAULT}]" in plan
    for command in (("coverage",), ("plan",), ("scenario",), ("access",),
                    ("national", "coverage"), ("national", "plan")):
        text = help_of(*command)
        assert all(f"{t} {m:g}" in text for t, m in DEFAULT_THRESHOLDS_M.items()), command


def test_the_documented_time_pattern_is_exactly_the_calendar():
    """Every day of 2000-2099, and 29-31 of every month: the pattern the API document states
    matches a date exactly when the calendar has it (leap years included)."""
    from datetime import date

    from geo.questions import TIME_PATTERN, parse_time

    pattern = re.compile(TIME_PATTERN)
    for year in range(2000, 2100):
        for month in range(1, 13):
            for day in range(1, 32):
                text = f"{year}-{month:02d}-{day:02d}T12:00"
                try:
                    date(year, month, day)
                    real = True
                except ValueError:
                    real = False
                assert bool(pattern.match(text)) == real, text
                if real:
                    assert parse_time("at", text) is not None


def test_every_worker_segment_names_its_column_in_a_demand_file():
    from geo.io.clerk_words import demand_field
    from geo.schema import SEGMENTS

    assert [demand_field(s.upper() + " ") for s in SEGMENTS] == list(SEGMENTS)
