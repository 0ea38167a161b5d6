// Check a station list: upload, show the report (problem rows highlighted) and the rows on a
// map (red where the row has an error). Nothing is written on the server.
(function () {
  "use strict";
  const { el } = window.UI;
  const { cfg, t, map } = window.UI.page();
  window.UI.districts(map, cfg);
  const points = L.layerGroup().addTo(map);
  const $ = (id) => document.getElementById(id);
  const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => vars[k]);

  function show(report) {
    const body = $("c-report").tBodies[0];
    body.replaceChildren();
    report.problems.forEach((p) => {
      const tr = el("tr", "level-" + p.level);
      [t["level_" + p.level], p.sheet, p.row === null ? "" : p.row, p.column, p.value, p.reason,
        p.hint].forEach((v) => tr.append(el("td", null, v)));
      body.append(tr);
    });
    $("c-report").hidden = report.problems.length === 0;
    const n = Object.values(report.stations || {}).reduce((a, b) => a + b, 0);
    const d = report.demand;
    const num = (v) => v.toLocaleString(cfg.lang === "zh" ? "zh-CN" : "en");
    const okText = d
      ? fmt(t.check_demand_ok, { read: num(d.total_read), placed: num(d.total_placed),
        outside: num(d.outside), method: d.method })
      : fmt(t.check_ok, { n });
    $("c-status").replaceChildren(el("p", report.ok ? "ok" : "bad", report.ok
      ? okText + (report.warnings ? " · " + fmt(t.check_warn, { w: report.warnings }) : "")
      : fmt(t.check_bad, { e: report.errors, w: report.warnings })));
    points.clearLayers();
    const ll = [];
    (report.points || []).forEach((p) => {
      const m = L.circleMarker([p.y, p.x], { radius: p.error ? 7 : 5, weight: 2,
        color: p.error ? "#c92a2a" : "#fff", fillColor: p.error ? "#fff" : "#1b4965",
        fillOpacity: 0.9 });
      m.bindTooltip(el("span", null, (p.sheet ? p.sheet + " · " : "") + p.row + " · " + p.name));
      m.addTo(points);
      ll.push([p.y, p.x]);
    });
    if (ll.length) map.fitBounds(ll, { padding: [20, 20], maxZoom: 15 });
    document.body.dataset.checked = String(report.problems.length);
  }

  $("c-kind").addEventListener("change", () => {
    const demand = $("c-kind").value === "demand";
    $("c-segment-field").hidden = !demand;
    $("c-type-field").hidden = demand;
  });

  $("check-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData($("check-form"));
    data.set("lang", cfg.lang);
    data.set("out_crs", cfg.crs);
    $("c-status").replaceChildren(el("p", "updating", t.updating));
    try {
      const resp = await fetch(cfg.api.validate, { method: "POST", body: data,
        headers: { Accept: "application/json" } });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(resp.status === 413 ? fmt(t.too_large, { mb: cfg.max_mb }) : body.error || resp.status);
      show(body);
    } catch (err) {
      $("c-status").replaceChildren(el("p", "bad", t.error + ": " + err.message));
      document.body.dataset.checked = "error";
    }
  });
  document.body.dataset.ready = "1";
})();
