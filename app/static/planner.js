// Planner page: district choropleth, ranked gap zones, cells when zoomed in, hourly curve.
// Text from the data (district names) is set with textContent only.
(function () {
  "use strict";
  const { el, getJSON } = window.UI;
  const { cfg, t, map } = window.UI.page();
  const districtLayer = window[cfg.districts];
  const gapLayer = L.layerGroup().addTo(map);
  const cellLayer = L.layerGroup().addTo(map);
  const areaLayer = L.layerGroup().addTo(map);
  const $ = (id) => document.getElementById(id);
  const nf = new Intl.NumberFormat(cfg.lang === "zh" ? "zh-CN" : "en");
  let lastType = $("p-type").value;
  let seq = 0;

  const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %");
  const metres = (x) => (x === null || x === undefined ? "–" : nf.format(Math.round(x)) + " m");

  function params(withTime) {
    const p = new URLSearchParams();
    p.set("type", $("p-type").value);
    p.set("threshold_m", $("p-threshold").value);
    document.querySelectorAll("input[name=amenity]:checked")
      .forEach((c) => p.append("amenity", c.value));
    if ($("p-mode") && $("p-mode").value !== "straight") p.set("mode", $("p-mode").value);
    if (withTime && !$("p-allday").checked) {
      const day = new Date(Date.UTC(2026, 10, 23 + Number($("p-weekday").value)));
      const hh = String($("p-hour").value).padStart(2, "0");
      p.set("at", day.toISOString().slice(0, 10) + "T" + hh + ":00");
    }
    return p;
  }


  function renderSummary(data) {
    const s = data.summary;
    $("f-share").textContent = pct(s.share_covered);
    $("f-covered").textContent = nf.format(s.covered);
    $("f-uncovered").textContent = nf.format(s.uncovered);
    $("f-mean").textContent = metres(s.mean_distance_m);
    $("f-p90").textContent = metres(s.p90_distance_m);
    $("f-usable").textContent = nf.format(s.stations_usable);
    $("f-served").textContent = s.segments.map((g) => t["seg_" + g] || g).join(" + ");
    const body = $("districts").tBodies[0];
    body.replaceChildren();
    data.districts.forEach((d) => {
      const tr = el("tr");
      tr.append(el("td", "names", cfg.lang === "zh" ? d.name : d.name_en),
        el("td", null, nf.format(d.workers)), el("td", null, pct(d.share_covered)),
        el("td", null, nf.format(d.uncovered)));
      body.append(tr);
    });
    CoverageLayers.styleDistricts(districtLayer, data.districts);
  }

  function renderGaps(fc) {
    const body = $("gaps").tBodies[0];
    body.replaceChildren();
    CoverageLayers.drawGaps(gapLayer, fc).forEach(({ feature, layer }) => {
      const p = feature.properties;
      const tr = el("tr");
      tr.dataset.rank = String(p.rank);
      tr.append(el("td", null, p.rank), el("td", null, nf.format(p.workers)),
        el("td", null, p.area_km2.toFixed(2)), el("td", "names", p.districts.join("、")),
        el("td", null, p.nearest_station_m === null ? "–" : nf.format(Math.round(p.nearest_station_m))));
      tr.addEventListener("click", () => {
        document.querySelectorAll("#gaps tr.active").forEach((r) => r.classList.remove("active"));
        tr.classList.add("active");
        map.fitBounds(layer.getBounds(), { maxZoom: 15 });
      });
      body.append(tr);
    });
  }

  function renderHourly(data) {
    const svg = $("hourly");
    const ns = "http://www.w3.org/2000/svg";
    const W = 360, H = 170, L0 = 34, R0 = 8, T0 = 10, B0 = 24;
    const x = (h) => L0 + (h / 23) * (W - L0 - R0);
    const y = (s) => T0 + (1 - s) * (H - T0 - B0);
    const node = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, String(v)));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    svg.replaceChildren();
    [0, 0.25, 0.5, 0.75, 1].forEach((s) => {
      svg.append(node("line", { x1: L0, x2: W - R0, y1: y(s), y2: y(s), stroke: "#d9e2ec" }));
      svg.append(node("text", { x: L0 - 4, y: y(s) + 4, "text-anchor": "end", "font-size": 10,
        fill: "#52606d" }, (100 * s) + "%"));
    });
    [0, 6, 12, 18, 23].forEach((h) => svg.append(node("text", { x: x(h), y: H - 6,
      "text-anchor": "middle", "font-size": 10, fill: "#52606d" }, h + ":00")));
    const pts = data.hours.map((r) => x(r.hour) + "," + y(r.share_covered || 0)).join(" ");
    svg.append(node("polyline", { points: pts, fill: "none", stroke: "#1b4965",
      "stroke-width": 2.5 }));
    data.hours.forEach((r) => {
      const c = node("circle", { cx: x(r.hour), cy: y(r.share_covered || 0), r: 3,
        fill: Number($("p-hour").value) === r.hour && !$("p-allday").checked ? "#e8590c"
          : "#1b4965", "data-hour": r.hour, "data-share": r.share_covered });
      c.append(node("title", {}, r.hour + ":00 " + pct(r.share_covered)));
      svg.append(c);
    });
    svg.dataset.points = String(data.hours.length);
  }

  async function loadCells() {
    cellLayer.clearLayers();
    if (map.getZoom() < cfg.cell_zoom) return;
    const b = map.getBounds();
    const p = params(true);
    p.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map((v) => v.toFixed(5)).join(","));
    p.set("out_crs", cfg.crs);
    try {
      const fc = await getJSON(cfg.api.cells + "?" + p);
      L.geoJSON(fc, { interactive: false, style: (f) => ({
        weight: 0.5, color: "#fff", fillOpacity: 0.45,
        fillColor: f.properties.covered ? "#2166ac" : "#b2182b" }) }).addTo(cellLayer);
    } catch (err) { /* too many cells: the message asks to zoom in; the map stays usable */ }
  }

  function setDownloads() {
    const p = params(true);
    const href = (fmt) => { const q = new URLSearchParams(p); q.set("format", fmt);
      q.set("limit", "5000"); q.set("download", "1"); return cfg.api.gaps + "?" + q; };
    $("dl-geojson").href = href("geojson");
    $("dl-csv").href = href("csv");
    $("dl-gpkg").href = href("gpkg");
    const s = new URLSearchParams(p); s.set("format", "csv");
    $("dl-summary").href = cfg.api.coverage + "?" + s;
  }

  async function loadAreas() {
    areaLayer.clearLayers();
    if (!$("p-areas") || !$("p-areas").checked) return;
    const p = params(true);
    if (!p.get("mode")) { $("p-mode").value = cfg.modes[0]; return refresh(true); }
    p.set("out_crs", cfg.crs);
    const fc = await getJSON(cfg.api.areas + "?" + p);
    L.geoJSON(fc, { interactive: false, style: { color: "#1b4965", weight: 1,
      fillColor: "#4dabf7", fillOpacity: 0.2 } }).addTo(areaLayer);
    document.body.dataset.areas = String(fc.count);
  }

  async function refresh(withHourly) {
    const mine = ++seq;
    const p = params(true);
    const gp = new URLSearchParams(p);
    gp.set("limit", "20"); gp.set("simplify", "1"); gp.set("out_crs", cfg.crs);
    setDownloads();
    document.body.dataset.busy = "1";
    const jobs = [getJSON(cfg.api.coverage + "?" + p), getJSON(cfg.api.gaps + "?" + gp)];
    if (withHourly) {
      const hp = params(false);
      hp.set("weekday", $("p-weekday").value);
      jobs.push(getJSON(cfg.api.hourly + "?" + hp));
    }
    try {
      const [summary, gaps, hourly] = await Promise.all(jobs);
      if (mine !== seq) return; // a newer request superseded this one
      renderSummary(summary);
      renderGaps(gaps);
      if (hourly) renderHourly(hourly);
      loadCells();
      loadAreas();
      if ($("p-kind")) $("p-kind").textContent = t["mode_" + (summary.mode || "straight")];
      document.body.dataset.at = summary.at || "";
      document.body.dataset.ready = "1";
    } catch (err) {
      $("f-share").textContent = "!";
      $("f-served").textContent = err.message;
    } finally {
      if (mine === seq) delete document.body.dataset.busy;
    }
  }

  function onTimeChange() {
    $("p-hour").disabled = $("p-allday").checked;
    $("p-hour-out").textContent = String($("p-hour").value).padStart(2, "0") + ":00";
    refresh(true);
  }

  $("p-type").addEventListener("change", () => {
    const type = $("p-type").value;
    if (Number($("p-threshold").value) === cfg.thresholds[lastType]) {
      $("p-threshold").value = cfg.thresholds[type];
    }
    lastType = type;
    refresh(true);
  });
  $("p-threshold").addEventListener("change", () => refresh(true));
  if ($("p-mode")) $("p-mode").addEventListener("change", () => refresh(true));
  if ($("p-areas")) $("p-areas").addEventListener("change", loadAreas);
  $("p-weekday").addEventListener("change", () => refresh(true));
  $("p-allday").addEventListener("change", onTimeChange);
  $("p-hour").addEventListener("input", () => {
    $("p-hour-out").textContent = String($("p-hour").value).padStart(2, "0") + ":00";
  });
  $("p-hour").addEventListener("change", onTimeChange);
  document.querySelectorAll("input[name=amenity]")
    .forEach((c) => c.addEventListener("change", () => refresh(true)));
  map.on("moveend", loadCells);
  window.currentEmbedUrl = () => {
    const p = params(true);
    const c = map.getCenter();
    p.set("lat", c.lat.toFixed(5)); p.set("lng", c.lng.toFixed(5));
    p.set("zoom", String(map.getZoom())); p.set("crs", cfg.crs); p.set("lang", cfg.lang);
    return cfg.embed_url + "?" + p;
  };
  refresh(true);
})();
