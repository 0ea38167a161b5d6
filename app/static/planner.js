// Planner page: district choropleth, existing stations (open/closed at the chosen hour,
// clustered when zoomed out), station-sized gap zones numbered at their sites, cells when
// zoomed in, the hourly curve. Text from the data is set with textContent only.
(function () {
  "use strict";
  const { el, getJSON } = window.UI;
  const { cfg, t, map } = window.UI.page();
  const districtLayer = window.UI.districts(map, cfg);
  const gapLayer = L.layerGroup().addTo(map);
  const cellLayer = L.layerGroup().addTo(map);
  const areaLayer = L.layerGroup().addTo(map);
  const stationLayer = L.markerClusterGroup({ disableClusteringAtZoom: cfg.cluster_zoom,
    showCoverageOnHover: false, chunkedLoading: true }).addTo(map);
  const $ = (id) => document.getElementById(id);
  const nf = new Intl.NumberFormat(cfg.lang === "zh" ? "zh-CN" : "en");
  const pct = Charts.pct;
  const FIELDS = { threshold_m: "p-threshold", min_density: "p-density", budget_hours: "sch-budget",
    earliest: "sch-earliest" };
  let lastType = $("p-type").value;
  let seq = 0;
  const stationCache = {};

  const metres = (x) => (x === null || x === undefined ? "–" : nf.format(Math.round(x)) + " m");
  const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));

  function atValue() {
    if ($("p-allday").checked) return null;
    // the API's ordinary week (REFERENCE_MONDAY), the weekday chosen
    const day = new Date(Date.parse(cfg.reference_monday) + Number($("p-weekday").value) * 864e5);
    return day.toISOString().slice(0, 10) + "T" + String($("p-hour").value).padStart(2, "0")
      + ":00";
  }

  function params(withTime) {
    const p = new URLSearchParams();
    p.set("type", $("p-type").value);
    p.set("threshold_m", $("p-threshold").value);
    document.querySelectorAll("input[name=amenity]:checked")
      .forEach((c) => p.append("amenity", c.value));
    if ($("p-mode") && $("p-mode").value !== "straight") p.set("mode", $("p-mode").value);
    if (withTime && atValue()) p.set("at", atValue());
    return p;
  }

  // A field's message in the page language, and the figures marked as no longer matching.
  function showError(param, message) {
    const box = $("e-" + param) || $("e-other");
    box.textContent = message;
    box.hidden = false;
    const input = $(FIELDS[param] || "");
    if (input) input.setAttribute("aria-invalid", "true");
    document.body.classList.add("stale");
  }

  function clearErrors() {
    document.querySelectorAll(".field-error, #e-other").forEach((e) => { e.hidden = true; });
    document.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  }

  function localMessage(param) {
    if (param === "threshold_m") {
      return fill(t.bad_threshold_m, { lo: nf.format(cfg.limits.threshold[0]),
        hi: nf.format(cfg.limits.threshold[1]) });
    }
    if (param === "k") return fill(t.bad_k, { hi: cfg.limits.k_max });
    if (param === "budget_hours") return fill(t.bad_budget_hours, { hi: nf.format(cfg.limits.budget_max) });
    return t["bad_" + param] || fill(t.bad_param, { p: param });
  }

  // Checks what the browser can check before asking the server; false if a value is bad.
  function valid() {
    clearErrors();
    const th = Number($("p-threshold").value);
    const dens = $("p-density").value;
    let ok = true;
    if (!$("p-threshold").value || !(th >= cfg.limits.threshold[0]
        && th <= cfg.limits.threshold[1])) { showError("threshold_m", localMessage("threshold_m")); ok = false; }
    if (dens !== "" && !(Number(dens) >= 0)) { showError("min_density", localMessage("min_density")); ok = false; }
    return ok;
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
    $("f-demand").textContent = data.demand_source === "sample" ? t.sample_short : data.demand_source;
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
    const s = fc.summary || {};
    const hold = s.uncovered_in_zones === undefined ? "" : " " + fill(t.gaps_hold, {
      zones: nf.format(s.uncovered_in_zones), all: nf.format(s.uncovered),
      below: nf.format(s.uncovered_below_floor), floor: nf.format(fc.min_density) });
    $("gaps-note").textContent = fill(t.gaps_note, { n: nf.format(fc.total_zones) }) + hold;
    CoverageLayers.drawGaps(gapLayer, fc).forEach(({ feature, layer }) => {
      const p = feature.properties;
      const tr = el("tr");
      tr.dataset.rank = String(p.rank);
      tr.tabIndex = 0;
      tr.append(el("td", null, p.rank), el("td", null, nf.format(p.workers)),
        el("td", null, p.area_km2.toFixed(2)), el("td", "names", p.districts.join("、")),
        el("td", null, nf.format(Math.round(p.max_distance_m))),
        el("td", null, p.nearest_station_m === null ? "–" : nf.format(Math.round(p.nearest_station_m))));
      const zoom = () => {
        document.querySelectorAll("#gaps tr.active").forEach((r) => r.classList.remove("active"));
        tr.classList.add("active");
        map.fitBounds(layer.getBounds(), { maxZoom: 15 });
      };
      tr.addEventListener("click", zoom);
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") zoom(); });
      body.append(tr);
    });
  }

  function renderHourly(data) {
    Charts.shareLine($("hourly"), data.hours.map((r) => ({ x: r.hour, y: r.share_covered,
      label: r.hour + ":00" })), { xMax: 23, dots: true,
      xTicks: [0, 6, 12, 18, 23].map((h) => [h, h + ":00"]),
      mark: $("p-allday").checked ? null : Number($("p-hour").value) });
  }

  // Every station of the type once per type; which are open comes per hour (ids only).
  async function drawStations(type, at) {
    if (!stationCache[type]) {
      const q = new URLSearchParams({ type, fields: "id,name", out_crs: cfg.crs });
      stationCache[type] = await getJSON(cfg.api.stations + "?" + q);
    }
    let open = null;
    if (at) {
      const q = new URLSearchParams({ type, fields: "id", open_at: at });
      open = new Set((await getJSON(cfg.api.stations + "?" + q)).features.map((f) => f.id
        || f.properties.id));
    }
    stationLayer.clearLayers();
    const colour = cfg.colours[type];
    const markers = stationCache[type].features.map((f) => {
      const isOpen = !open || open.has(f.properties.id);
      const [lng, lat] = f.geometry.coordinates;
      const m = L.circleMarker([lat, lng], { radius: 5, weight: 1, color: "#fff",
        fillColor: isOpen ? colour : "#868e96", fillOpacity: isOpen ? 0.95 : 0.6,
        className: isOpen ? "st-open" : "st-closed" });
      m.bindTooltip(el("span", null, f.properties.name + " · " + (isOpen ? t.open : t.closed)));
      return m;
    });
    stationLayer.addLayers(markers);
    document.body.dataset.stations = String(markers.length);
    document.body.dataset.stationsClosed = String(open ? markers.length - open.size : 0);
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
        fillColor: f.properties.covered ? cfg.share_stops.at(-1) : cfg.share_stops[0] }) }).addTo(cellLayer);
    } catch (err) { /* too many cells: the message asks to zoom in; the map stays usable */ }
  }

  function gapParams() {
    const p = params(true);
    if ($("p-density").value !== "") p.set("min_density", $("p-density").value);
    return p;
  }

  function setDownloads() {
    const href = (fmt) => { const q = gapParams(); q.set("format", fmt);
      q.set("limit", "5000"); q.set("download", "1"); return cfg.api.gaps + "?" + q; };
    $("dl-geojson").href = href("geojson");
    $("dl-csv").href = href("csv");
    $("dl-gpkg").href = href("gpkg");
    const s = params(true); s.set("format", "csv");
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

  function busy(on) {
    $("p-updating").hidden = !on;
    $("figures").setAttribute("aria-busy", on ? "true" : "false");
    if (on) document.body.dataset.busy = "1"; else delete document.body.dataset.busy;
  }

  async function refresh(withHourly) {
    if (!valid()) return;
    const mine = ++seq;
    const p = params(true);
    const gp = gapParams();
    gp.set("limit", "20"); gp.set("simplify", "1"); gp.set("out_crs", cfg.crs);
    setDownloads();
    busy(true);
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
      document.body.classList.remove("stale");
      loadCells();
      loadAreas();
      drawStations(p.get("type"), p.get("at"));
      if ($("p-kind")) $("p-kind").textContent = t["mode_" + (summary.mode || "straight")];
      document.body.dataset.at = summary.at || "";
      document.body.dataset.ready = "1";
      document.dispatchEvent(new CustomEvent("planner:refreshed"));
    } catch (err) {
      if (mine !== seq) return;
      showError(err.param || "other", err.param ? localMessage(err.param)
        : t.error + ": " + err.message);
    } finally {
      if (mine === seq) busy(false);
    }
  }

  function onTimeChange() {
    $("p-hour").disabled = $("p-allday").checked;
    $("p-hour-out").textContent = String($("p-hour").value).padStart(2, "0") + ":00";
    refresh(false);
    if ($("hourly").dataset.points) renderHourlyMark();
  }

  // Moves the highlighted hour on the chart without asking the server again.
  function renderHourlyMark() {
    const hour = $("p-allday").checked ? null : Number($("p-hour").value);
    $("hourly").querySelectorAll("circle").forEach((c) => {
      const on = Number(c.dataset.x) === hour;
      c.setAttribute("fill", on ? "#e8590c" : "#1b4965");
      c.setAttribute("r", on ? 4 : 3);
    });
  }

  $("p-type").addEventListener("change", () => {
    const type = $("p-type").value;
    if (Number($("p-threshold").value) === cfg.thresholds[lastType]) {
      $("p-threshold").value = cfg.thresholds[type];
    }
    if (Number($("p-density").value) === cfg.densities[lastType]) {
      $("p-density").value = cfg.densities[type];
    }
    lastType = type;
    refresh(true);
  });
  $("p-threshold").addEventListener("change", () => refresh(true));
  $("p-density").addEventListener("change", () => refresh(false));
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
  // What the plan panel shares with the page: the same question, messages and gap drawing.
  window.Planner = { params: gapParams, atValue, valid, showError, clearErrors, localMessage,
    renderGaps, fill, nf, busy };
  refresh(true);
})();
