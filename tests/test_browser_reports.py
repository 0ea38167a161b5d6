"""Couriers' reports in real Chromium: a rider checks in and reports from a station card at
360x740, once offline (kept on the phone) and then online (sent); the planner sees the
flagged station and what coverage it would lose; hostile notes stay text everywhere."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest

from geo.reports.store import Report, ReportStore
from tests.conftest import ARTIFACTS
from tests.test_browser_finder import open_finder

# one worker's live server answers the planner pages' heavy questions, each computed once
pytestmark = pytest.mark.xdist_group("planner_pages")

XSS = '<img src=x onerror="alert(1)">'
ADMIN = "browser-admin-pw"


@pytest.fixture(scope="module")
def reports_server(live_server, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-reports') / 'reports.db'}"
    return live_server({"STATIONS_DB_URL": url, "STATIONS_ADMIN_PASSWORD": ADMIN}), \
        ReportStore(url)


def test_courier_checks_in_and_reports_offline_then_online(reports_server, page_factory):
    base, store = reports_server
    w = open_finder(page_factory, base, "/?station=relay-0005")
    page = w.page
    page.wait_for_selector("#feedback .fb-checkin")
    assert page.inner_text("#feedback .fb-checkin") == "我来过"
    page.click("#feedback .fb-checkin")
    page.wait_for_selector("#feedback .fb-msg.ok")
    assert "已打卡" in page.inner_text("#feedback .fb-out")
    page.wait_for_function("document.querySelector('#feedback .fb-summary').textContent"
                           ".includes('最近打卡')")
    checked = store.counts(store_now(), 1)["checkins"]
    assert checked["d7"].sum() == 1
    shanghai = (checked["last"].iloc[0] + timedelta(hours=8)).strftime("%m-%d %H:%M")
    assert f"最近打卡：{shanghai}" in page.inner_text("#feedback .fb-summary")  # local time

    page.context.set_offline(True)
    page.click("#feedback .fb-report")
    page.check("#feedback input[name=kind][value=not_found]")
    page.fill("#feedback textarea[name=note]", XSS)
    page.click("#feedback .fb-form button[type=submit]")
    page.wait_for_selector("#feedback .fb-msg.queued")
    assert "联网后自动发送" in page.inner_text("#feedback .fb-out")
    assert page.evaluate("JSON.parse(localStorage.getItem('stations-queue')).length") == 1
    assert store.reports_table().empty  # nothing reached the server
    page.screenshot(path=str(ARTIFACTS / "report-queued-360.png"))

    page.context.set_offline(False)
    page.wait_for_function("document.body.dataset.queued === '0'", timeout=15000)
    table = store.reports_table()
    assert table[["station_id", "kind", "note"]].values.tolist() == [
        ["relay-0005", "not_found", XSS]]
    assert "已发送" in page.inner_text("#status")

    # approved, the note shows on the card as text
    store.moderate(int(table["id"].iloc[0]), "approve", "test")
    page.evaluate("window.Finder.select('relay-0005')")
    page.wait_for_selector("#feedback .fb-notes li")
    assert page.inner_text("#feedback .fb-notes li") == XSS
    assert page.locator("#feedback .fb-notes img").count() == 0
    assert "报告：找不到站点" in page.inner_text("#feedback .fb-summary")
    assert not w.dialogs
    offline = [p for p in w.problems if "/reports" in p or "ERR_INTERNET_DISCONNECTED" in p]
    assert [p for p in w.problems if p not in offline] == []


def store_now():
    from geo.reports.db import utcnow

    return utcnow()


def test_planner_sees_the_flagged_station_and_what_it_would_lose(reports_server,
                                                                  page_factory):
    base, store = reports_server
    sid = "relay-0010"
    for n in range(2):
        rid, _ = store.report(sid, Report("not_found", None, XSS if n == 0 else None), False,
                              f"planner-test-{n:04d}", "a")
        if n == 0:
            store.moderate(rid, "approve", "test")
    w = page_factory(1280, 900)
    w.page.goto(base + "/planner")
    w.page.wait_for_function("document.body.dataset.flagged !== undefined && "
                             "document.body.dataset.ready === '1' && "
                             "document.body.dataset.busy === undefined", timeout=30000)
    rows = w.page.eval_on_selector_all("#quality tbody tr", "els => els.map(e => e.dataset.id)")
    assert sid in rows
    row = w.page.locator(f"#quality tr[data-id='{sid}']")
    assert row.get_attribute("title") == XSS and row.locator("img").count() == 0
    w.page.click("#q-if-closed")
    w.page.wait_for_function("document.body.dataset.lost !== undefined", timeout=30000)
    lost = int(w.page.evaluate("document.body.dataset.lost"))
    body = json.dumps({"type": "relay", "threshold_m": 1000, "remove": rows}).encode()
    req = urllib.request.Request(base + "/api/scenario", body,
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert lost == -json.loads(r.read())["delta"]["covered"]
    assert "→" in w.page.inner_text("#q-result")
    w.page.screenshot(path=str(ARTIFACTS / "planner-quality.png"))
    assert not w.dialogs and w.problems == []


def test_hostile_notes_stay_text_on_the_card_the_planner_and_the_moderation_page(
        reports_server, page_factory):
    from tests.test_security import HOSTILE

    base, store = reports_server
    sid = "relay-0016"
    ids = [store.report(sid, Report("not_found", None, note), False, f"hostile-{n:04d}", "a")[0]
           for n, note in enumerate(HOSTILE)]
    for rid in ids:
        store.moderate(rid, "approve", "test")
    newest = list(reversed(HOSTILE))[:3]  # all made this second: newest is the highest id

    w = open_finder(page_factory, base, f"/?station={sid}")
    w.page.wait_for_selector("#feedback .fb-notes li")
    shown = w.page.eval_on_selector_all("#feedback .fb-notes li", "els => els.map(e => "
                                        "e.textContent)")
    assert sorted(shown) == sorted(newest)

    p = page_factory(1280, 900)
    p.page.goto(base + "/planner")
    p.page.wait_for_selector(f"#quality tr[data-id='{sid}']")
    title = p.page.get_attribute(f"#quality tr[data-id='{sid}']", "title")
    assert sorted(title.split(" / ")) == sorted(newest)

    m = page_factory(1280, 900, http_credentials={"username": "union", "password": ADMIN})
    m.page.goto(base + "/admin/reports?view=all")
    texts = m.page.eval_on_selector_all("#reports tr[data-id] .note-text",
                                        "els => els.map(e => e.textContent)")
    assert set(HOSTILE) <= set(texts)
    for page in (w.page, p.page, m.page):
        assert page.evaluate("window.__pwned") is None
        assert page.locator(".fb-notes img, #quality img, #reports svg, #reports img").count() == 0
    assert not (w.dialogs or p.dialogs or m.dialogs)
