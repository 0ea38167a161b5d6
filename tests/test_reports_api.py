"""Check-ins, reports and quality over HTTP; rate limits; the moderation page with and without
credentials; CSRF; the CLI. One app on a fresh SQLite file for the module."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import UTC, datetime

import pytest

from geo.hours import is_open

ALWAYS = "relay-0005"  # 24/7 in the sample
XSS = ['<script>alert("x")</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>']


@pytest.fixture(scope="module")
def rapp(tmp_path_factory):
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'reports.db'}"
    app = create_app({"STATIONS_TILES": "none", "TESTING": True, "RATELIMIT_ENABLED": True,
                      "STATIONS_DB_URL": url, "STATIONS_ADMIN_PASSWORD": "s3cret-pw",
                      "STATIONS_WRITE_LIMIT": "1000 per minute",
                      "STATIONS_DEVICE_LIMIT": "1000 per minute"})
    app.config["DB_URL"] = url
    return app


@pytest.fixture()
def rc(rapp):
    return rapp.test_client()


def _addr(n: int) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"10.1.{n // 250}.{n % 250}"}}


def _device(n: int) -> str:
    return f"test-device-{n:05d}"


AUTH = {"Authorization": "Basic " + base64.b64encode(b"union:s3cret-pw").decode()}


def test_checkin_and_report_round_trip(rc, rapp):
    r = rc.post(f"/api/stations/{ALWAYS}/checkins", json={"device": _device(1)}, **_addr(1))
    assert r.status_code == 201 and isinstance(r.get_json()["id"], int)
    again = rc.post(f"/api/stations/{ALWAYS}/checkins", json={"device": _device(1)}, **_addr(1))
    assert again.status_code == 200
    assert again.get_json() == {"id": r.get_json()["id"], "duplicate": True}
    office = rapp.extensions["atlas"].stations.query("opening_hours != '24/7'").iloc[0]
    before = is_open(office["opening_hours"], datetime.now(UTC))
    r = rc.post(f"/api/stations/{office['id']}/reports",
                json={"kind": "closed", "device": _device(1), "note": "  门锁着  "}, **_addr(1))
    after = is_open(office["opening_hours"], datetime.now(UTC))
    assert r.status_code == 201
    row = rapp.extensions["reports"].reports_table(station_id=office["id"]).iloc[0]
    assert (row["kind"], row["note"], row["note_status"]) == ("closed", "门锁着", "pending")
    if before == after:  # not at the very minute the station opened or closed
        assert bool(row["in_hours"]) == before


@pytest.mark.parametrize(("body", "param"), [
    ({"kind": "shut", "device": "abcdefgh"}, "kind"),
    ({"kind": "", "device": "abcdefgh"}, "kind"),
    ({"kind": "amenity_missing", "device": "abcdefgh"}, "amenity"),
    ({"kind": "amenity_missing", "amenity": "sauna", "device": "abcdefgh"}, "amenity"),
    ({"kind": "closed", "amenity": "water", "device": "abcdefgh"}, "amenity"),
    ({"kind": "other", "note": "x" * 201, "device": "abcdefgh"}, "note"),
    ({"kind": "other", "note": 5, "device": "abcdefgh"}, "note"),
    ({"kind": "other", "note": "a\x00b", "device": "abcdefgh"}, "note"),
    ({"kind": "other"}, "device"),
    ({"kind": "other", "device": "short"}, "device"),
    ({"kind": "other", "device": "has spaces in it"}, "device"),
    (["kind", "other"], "body"),
])
def test_bad_reports_are_400_json_naming_the_field(rc, body, param):
    r = rc.post(f"/api/stations/{ALWAYS}/reports", json=body, **_addr(2))
    assert r.status_code == 400 and r.get_json()["param"] == param


def test_note_limit_counts_characters_and_unknown_station_is_400(rc):
    ok = rc.post(f"/api/stations/{ALWAYS}/reports",
                 json={"kind": "other", "note": "水" * 200, "device": _device(3)}, **_addr(3))
    assert ok.status_code == 201
    r = rc.post("/api/stations/no-such/reports", json={"kind": "other", "device": _device(3)})
    assert r.status_code == 400 and "no-such" in r.get_json()["error"]
    r = rc.post("/api/stations/no-such/checkins", json={"device": _device(3)})
    assert r.status_code == 400
    r = rc.post(f"/api/stations/{ALWAYS}/checkins", data="device=x",
                content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and r.get_json()["param"] == "body"
    assert rc.get("/api/stations/no-such/quality").status_code == 404
    assert rc.get(f"/api/stations/{ALWAYS}/checkins").status_code == 405


def test_quality_counts_and_flag_through_the_api(rc, rapp):
    sid = "relay-0010"  # 24/7: a "closed" report is always during its stated hours
    for n in range(3):
        assert rc.post(f"/api/stations/{sid}/reports", json={"kind": "closed",
                       "device": _device(100 + n)}, **_addr(100 + n)).status_code == 201
    rc.post(f"/api/stations/{sid}/reports", json={"kind": "amenity_missing",
            "amenity": "water", "device": _device(100)}, **_addr(100))
    rc.post(f"/api/stations/{sid}/checkins", json={"device": _device(104)}, **_addr(104))
    f = rc.get(f"/api/stations/{sid}/quality?days=7").get_json()
    p = f["properties"]
    assert p["reports"] == {"closed": 3, "hours_wrong": 0, "amenity_missing": 1,
                            "not_found": 0, "other": 0}
    assert p["closed_reports_in_hours"] == 3 and p["checkins_7d"] == 1
    assert p["flagged"] is True  # 3 devices, 3 problems > 1 check-in
    assert f["days"] == 7 and "different devices" in f["rule"] and f["sample"] is True
    fc = rc.get("/api/quality?type=relay").get_json()
    by_id = {x["id"]: x["properties"] for x in fc["features"]}
    assert len(by_id) == (rapp.extensions["atlas"].stations["type"] == "relay").sum()
    assert by_id[sid]["flagged"] and not by_id["relay-0001"]["flagged"]
    assert {x["properties"]["type"] for x in fc["features"]} == {"relay"}
    # resolving the closed reports clears the flag
    table = rapp.extensions["reports"].reports_table(station_id=sid)
    for rid in table.loc[table["kind"] == "closed", "id"]:
        rapp.extensions["reports"].moderate(int(rid), "resolve", "test")
    assert rc.get(f"/api/stations/{sid}/quality").get_json()["properties"]["flagged"] is False
    for bad in ("0", "367", "x", "１"):
        r = rc.get(f"/api/quality?days={bad}")
        assert r.status_code == 400 and r.get_json()["param"] == "days"


def test_rate_limits_per_device_and_per_address(rc, rapp):
    rapp.config["STATIONS_DEVICE_LIMIT"] = "3 per minute"
    try:
        codes = [rc.post(f"/api/stations/relay-{n:04d}/checkins", json={"device": _device(200)},
                         **_addr(200 + n)).status_code for n in range(1, 6)]
        assert codes == [201, 201, 201, 429, 429]  # one device, five addresses
    finally:
        rapp.config["STATIONS_DEVICE_LIMIT"] = "1000 per minute"
    rapp.config["STATIONS_WRITE_LIMIT"] = "2 per minute"
    try:
        rs = [rc.post(f"/api/stations/{ALWAYS}/reports", json={"kind": "other",
              "device": _device(300 + n)}, **_addr(300)) for n in range(3)]
    finally:
        rapp.config["STATIONS_WRITE_LIMIT"] = "1000 per minute"
    assert [r.status_code for r in rs] == [201, 201, 429]  # five devices, one address
    assert int(rs[2].headers["Retry-After"]) >= 1 and "too many" in rs[2].get_json()["error"]
    assert rc.get(f"/api/stations/{ALWAYS}/quality", **_addr(300)).status_code == 200


def test_moderation_is_off_without_credentials(rc, rapp):
    rapp.config["STATIONS_ADMIN_PASSWORD"] = None
    try:
        for method, path in (("get", "/admin/reports"), ("post", "/admin/reports/1"),
                             ("get", "/admin/reports.csv")):
            r = getattr(rc, method)(path, headers=AUTH)
            assert r.status_code == 403, path
    finally:
        rapp.config["STATIONS_ADMIN_PASSWORD"] = "s3cret-pw"


def test_moderation_needs_the_password_and_a_csrf_token(rc, rapp):
    sid = "relay-0016"
    rid = rc.post(f"/api/stations/{sid}/reports", json={"kind": "other", "note": XSS[0],
                  "device": _device(400)}, **_addr(400)).get_json()["id"]
    assert rc.get("/admin/reports").status_code == 401
    assert "Basic" in rc.get("/admin/reports").headers["WWW-Authenticate"]
    wrong = {"Authorization": "Basic " + base64.b64encode(b"union:nope").decode()}
    assert rc.get("/admin/reports", headers=wrong).status_code == 401
    page = rc.get("/admin/reports", headers=AUTH)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert XSS[0] not in html and "&lt;script&gt;alert(" in html
    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    # no token, a forged token: refused, nothing changes
    for form in ({"action": "approve"}, {"action": "approve", "csrf": token[:-2] + "xx"}):
        assert rc.post(f"/admin/reports/{rid}", data=form, headers=AUTH).status_code == 400
    assert rc.post(f"/admin/reports/{rid}", data={"action": "approve", "csrf": token}
                   ).status_code == 401
    public = rc.get(f"/api/stations/{sid}/quality").get_json()["properties"]["notes"]
    assert public == []  # hidden until approved
    r = rc.post(f"/admin/reports/{rid}", data={"action": "approve", "csrf": token}, headers=AUTH)
    assert r.status_code == 303
    public = rc.get(f"/api/stations/{sid}/quality").get_json()["properties"]["notes"]
    assert [n["text"] for n in public] == [XSS[0]]  # JSON carries it as data; pages set text
    row = f'<tr data-id="{rid}">'
    assert row not in rc.get("/admin/reports", headers=AUTH).get_data(as_text=True)  # done
    assert row in rc.get("/admin/reports?view=all", headers=AUTH).get_data(as_text=True)
    bad = rc.post(f"/admin/reports/{rid}", data={"action": "drop", "csrf": token}, headers=AUTH)
    assert bad.status_code == 400
    bearer = rapp.test_client()
    rapp.config["STATIONS_ADMIN_TOKEN"] = "tok-123456"
    try:
        assert bearer.get("/admin/reports", headers={
            "Authorization": "Bearer tok-123456"}).status_code == 200
    finally:
        rapp.config["STATIONS_ADMIN_TOKEN"] = None


def test_csv_export_defuses_formulas(rc):
    rc.post(f"/api/stations/{ALWAYS}/reports", json={"kind": "other", "note": "=HYPERLINK(1)",
            "device": _device(500)}, **_addr(500))
    r = rc.get("/admin/reports.csv", headers=AUTH)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert "'=HYPERLINK(1)" in [row["note"] for row in rows]
    assert not any(str(v).startswith("=") for row in rows for v in row.values())


def test_cli_upgrade_reports_and_prune(tmp_path):
    from click.testing import CliRunner

    from app.cli.main import cli
    from geo.reports.store import Report, ReportStore

    env = {"STATIONS_DB_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def run(*args: str):
        return CliRunner(env=env).invoke(cli, list(args), prog_name="stations")

    missing = run("reports")
    assert missing.exit_code == 2 and "stations db upgrade" in missing.output
    up = run("db", "upgrade")
    assert up.exit_code == 0 and "revision 0001" in up.output, up.output
    store = ReportStore(env["STATIONS_DB_URL"])
    store.report("s1", Report("other", None, "老的"), False, "device-0001", "a",
                 datetime(2026, 1, 1))
    store.report("s2", Report("not_found"), False, "device-0001", "a")
    store.dispose()
    out = run("reports", "--csv", "--station", "s1")
    rows = list(csv.DictReader(io.StringIO(out.stdout_bytes.decode("utf-8-sig"))))
    assert [(r["station_id"], r["note"]) for r in rows] == [("s1", "老的")]
    out = run("reports", "--since", "2026-06-01")
    assert "s2" in out.output and "s1" not in out.output
    out = run("db", "prune", "--days", "30")
    assert out.exit_code == 0 and "1 reports" in out.output
    assert "s1" not in run("reports").output
    bad = run("reports", "--since", "yesterday")
    assert bad.exit_code == 2 and bad.output.startswith("error: since")


def test_window_counts_reset_with_the_window_and_say_when(monkeypatch):
    from limits import parse

    import app.serving.limits as lim

    clock = [1000.0]
    monkeypatch.setattr(lim.time, "time", lambda: clock[0])
    counts, item = lim.WindowCounts(), parse("3 per 10 seconds")
    assert [counts.hit(item, "a") for _ in range(3)] == [None, None, None]
    clock[0] = 1004.2
    assert counts.hit(item, "a") == 6  # the window [1000, 1010) ends in 5.8 s: say 6
    assert counts.hit(item, "b") is None  # another key counts apart
    clock[0] = 1010.0
    assert counts.hit(item, "a") is None  # a new window
    day = parse("2 per day")
    assert [counts.hit(day, "a"), counts.hit(day, "a"), counts.hit(day, "a")] == [None, None,
                                                                                  86400 - 1010 + 1]
