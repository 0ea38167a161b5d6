"""The "check a station list" page in Chromium: upload, report, map; too large is a 413."""

from __future__ import annotations

from tests.test_import import gbk_csv, truth  # noqa: F401 - fixture


def test_upload_shows_the_report_and_the_rows_on_the_map(live_server, page_factory, tmp_path,
                                                         truth):  # noqa: F811
    src = gbk_csv(tmp_path / "名单.csv", truth)
    lines = src.read_bytes().decode("gbk").splitlines()
    cells = lines[3].split(",")
    cells[5] = "看情况"  # Excel row 4: hours nobody can read
    lines[3] = ",".join(cells)
    src.write_bytes("\n".join(lines).encode("gbk"))
    base = live_server()
    w = page_factory(width=1280, height=800)
    w.page.goto(base + "/check?lang=en")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    w.page.set_input_files("#c-file", str(src))
    w.page.select_option("#c-type", "relay")
    w.page.select_option("#c-crs", "gcj02")
    with w.page.expect_response(lambda r: "/api/validate" in r.url) as resp:
        w.page.click("#c-run")
    report = resp.value.json()
    w.page.wait_for_function("document.body.dataset.checked !== undefined")
    assert report["errors"] == 1 and not report["ok"]
    row = w.page.eval_on_selector_all("#c-report tbody tr.level-error td",
                                      "e => e.map(x => x.textContent)")
    assert row[0] == "error" and row[2] == "4" and row[3] == "服务时间" and row[4] == "看情况"
    assert "1 errors" in w.page.inner_text("#c-status")
    red = w.page.evaluate("""() => { let n = 0;
        window[JSON.parse(document.getElementById('cfg').textContent).map].eachLayer(l => {
          if (l instanceof L.CircleMarker && l.options.color === '#c92a2a') n++; });
        return n; }""")
    assert red == 1
    assert w.problems == []


def test_an_eleven_megabyte_upload_is_refused_clearly(live_server, page_factory, tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"name,lng,lat\n" + b"x" * (11 * 1024 * 1024))
    base = live_server()
    w = page_factory(width=360, height=740)
    w.page.goto(base + "/check")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    w.page.set_input_files("#c-file", str(big))
    with w.page.expect_response(lambda r: "/api/validate" in r.url) as resp:
        w.page.click("#c-run")
    assert resp.value.status == 413
    w.page.wait_for_function("document.body.dataset.checked === 'error'")
    assert "超过 10 MB" in w.page.inner_text("#c-status")


def test_a_demand_file_is_checked_with_its_totals_in_the_page_language(live_server,
                                                                       page_factory, tmp_path):
    src = tmp_path / "districts.csv"
    src.write_text("区,户外职工数\n杨浦区,1200\nMinhang,3400\n", encoding="utf-8")
    base = live_server()
    w = page_factory(width=360, height=740)
    w.page.goto(base + "/check?lang=zh")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    assert w.page.is_hidden("#c-segment-field")
    w.page.select_option("#c-kind", "demand")
    assert w.page.is_visible("#c-segment-field") and w.page.is_hidden("#c-type-field")
    w.page.set_input_files("#c-file", str(src))
    with w.page.expect_response(lambda r: "/api/validate" in r.url) as resp:
        w.page.click("#c-run")
    report = resp.value.json()
    w.page.wait_for_function("document.body.dataset.checked !== undefined")
    assert report["ok"] and report["demand"]["total_placed"] == 4600
    status = w.page.inner_text("#c-status")
    assert "可以导入" in status and "4,600" in status and "落入网格 4,600 人" in status
    assert w.problems == []
