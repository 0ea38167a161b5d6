// Finder page: stations as one GeoJSON layer, a tap or "Locate me" asks /api/nearest.
// Every string from the data reaches the page through textContent, never as HTML.
(function () {
  "use strict";
  const { el, getJSON } = window.UI;
  const { cfg, t, map } = window.UI.page();
  const stationsLayer = L.layerGroup().addTo(map);
  const resultLayer = L.layerGroup().addTo(map);
  const $ = (id) => document.getElementById(id);
  let origin = null; // {lat, lng, crs, pan}
  const ICONS = { water: "💧", microwave: "♨️", fridge: "🧊", charging: "🔌", ac: "❄️",
    toilet: "🚻", seating: "🪑", first_aid: "⛑️", wifi: "📶" };

  const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => vars[k]);
  function status(msg) {
    $("status").textContent = msg || "";
    $("status").hidden = !msg;
  }

  function filters() {
    const p = new URLSearchParams();
    const type = $("f-type").value;
    if (type) p.set("type", type);
    document.querySelectorAll("input[name=amenity]:checked")
      .forEach((c) => p.append("amenity", c.value));
    const mode = $("f-time").value;
    if (mode === "now") p.set("open_at", "now");
    if (mode === "at" && $("f-at").value) p.set("open_at", $("f-at").value);
    if ($("f-mode") && $("f-mode").value !== "straight") p.set("mode", $("f-mode").value);
    return p;
  }


  async function loadStations() {
    const p = filters();
    p.set("fields", "id,name,type");
    p.set("out_crs", cfg.crs);
    const fc = await getJSON(cfg.api.stations + "?" + p);
    stationsLayer.clearLayers();
    L.geoJSON(fc, {
      pointToLayer: (f, ll) => L.circleMarker(ll, {
        radius: 5, weight: 1, color: "#fff", fillOpacity: 0.9,
        fillColor: cfg.colours[f.properties.type] || "#555",
      }),
      onEachFeature: (f, layer) => layer.bindTooltip(el("span", null, f.properties.name)),
    }).addTo(stationsLayer);
    document.body.dataset.stations = String(fc.features.length);
  }

  function clock(stamp, at) {
    if (!stamp) return "";
    const [day, time] = stamp.split("T");
    return day === at.split("T")[0] ? time : day.slice(5) + " " + time;
  }

  function distance(m) {
    return m < 1000 ? fmt(t.metres, { d: Math.round(m) })
      : fmt(t.km, { d: (m / 1000).toFixed(m < 10000 ? 1 : 0) });
  }

  function statusLine(p, at) {
    if (p.open) {
      return t.open + " · " + (p.closes_at ? fmt(t.closes, { t: clock(p.closes_at, at) }) : t.always);
    }
    return t.closed + (p.opens_at ? " · " + fmt(t.opens, { t: clock(p.opens_at, at) }) : "");
  }

  function navButton(href, label) {
    const a = el("a", "btn", label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }

  function item(f, at) {
    const p = f.properties;
    const li = el("li", "result");
    li.dataset.id = p.id;
    li.dataset.type = p.type;
    const head = el("div", "r-head");
    const dot = el("span", "dot");
    dot.style.background = cfg.colours[p.type] || "#555";
    head.append(dot, el("span", "r-name", p.name), el("span", "r-dist", distance(p.distance_m)));
    const meta = el("div", "r-meta", [t[p.type] || p.type, fmt(t.walk, { m: Math.round(p.walk_min) }),
      fmt(t.ebike, { m: Math.round(p.ebike_min) })].join(" · "));
    const st = el("div", "r-status " + (p.open ? "open" : "closed"), statusLine(p, at));
    const amen = el("div", "r-amen");
    (p.amenities || []).forEach((a) => {
      const chip = el("span", "amenity");
      chip.dataset.amenity = a;
      chip.title = t[a] || a;
      chip.append(el("span", "icon", ICONS[a] || "•"), el("span", null, t[a] || a));
      amen.append(chip);
    });
    const nav = el("div", "r-nav");
    nav.append(navButton(p.nav.amap, t.nav_amap), navButton(p.nav.baidu, t.nav_baidu));
    li.append(head, meta, st, amen, nav);
    return li;
  }

  function render(fc) {
    resultLayer.clearLayers();
    const o = [fc.origin[1], fc.origin[0]];
    L.circleMarker(o, { radius: 8, color: "#1b4965", weight: 3, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(el("span", null, t.origin)).addTo(resultLayer);
    const list = $("results");
    list.replaceChildren();
    fc.features.forEach((f) => {
      const ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      const colour = cfg.colours[f.properties.type] || "#555";
      const route = f.properties.route;
      const path = route ? route.coordinates.map((c) => [c[1], c[0]]) : [o, ll];
      L.polyline(path, { color: colour, weight: route ? 4 : 3, opacity: 0.85,
        dashArray: route ? null : "6 6", interactive: false }).addTo(resultLayer);
      list.append(item(f, fc.at));
    });
    if ($("distance-kind")) {
      $("distance-kind").textContent = "(" + t["mode_" + (fc.mode || "straight")] + ")";
    }
    if (fc.note) status(fc.note);
    status(fc.features.length ? "" : t.no_results);
    if (origin && origin.pan) map.setView(o, Math.max(map.getZoom(), 14));
    document.body.dataset.results = String(fc.features.length);
  }

  async function findNearest() {
    if (!origin) return;
    const p = filters();
    p.set("lat", origin.lat.toFixed(7));
    p.set("lng", origin.lng.toFixed(7));
    p.set("crs", origin.crs);
    p.set("out_crs", cfg.crs);
    p.set("k", String(cfg.k));
    try {
      render(await getJSON(cfg.api.nearest + "?" + p));
    } catch (err) {
      status(t.error + ": " + err.message);
    }
  }

  function setOrigin(lat, lng, crs, pan) {
    origin = { lat, lng, crs, pan };
    findNearest();
  }

  function refresh() {
    $("f-at").hidden = $("f-time").value !== "at";
    loadStations().catch((err) => status(t.error + ": " + err.message));
    findNearest();
  }

  map.on("click", (e) => setOrigin(e.latlng.lat, e.latlng.lng, cfg.crs, false));
  $("locate").addEventListener("click", () => {
    if (!navigator.geolocation) { status(t.geo_error); return; }
    status(t.locating);
    navigator.geolocation.getCurrentPosition(
      (pos) => setOrigin(pos.coords.latitude, pos.coords.longitude, "wgs84", true),
      () => status(t.geo_error), { enableHighAccuracy: true, timeout: 10000 });
  });
  document.querySelectorAll("#f-type, #f-time, #f-at, #f-mode, input[name=amenity]")
    .forEach((c) => c.addEventListener("change", refresh));
  const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
  $("f-at").value = now.toISOString().slice(0, 16);
  if (cfg.view && cfg.view.lat !== undefined) map.setView([cfg.view.lat, cfg.view.lng], cfg.view.zoom);
  else if (cfg.view) map.setZoom(cfg.view.zoom);
  window.currentEmbedUrl = () => {
    const p = filters();
    p.delete("open_at");
    p.set("open_now", $("f-time").value === "now" ? "1" : "0");
    const c = origin ? { lat: origin.lat, lng: origin.lng } : map.getCenter();
    p.set("lat", c.lat.toFixed(6)); p.set("lng", c.lng.toFixed(6));
    p.set("crs", origin ? origin.crs : cfg.crs);
    p.set("zoom", String(map.getZoom())); p.set("k", String(cfg.k)); p.set("lang", cfg.lang);
    return cfg.embed_url + "?" + p;
  };
  loadStations().then(() => {
    if (cfg.origin) setOrigin(cfg.origin.lat, cfg.origin.lng, cfg.origin.crs, false);
    document.body.dataset.ready = "1";
  }).catch((err) => status(t.error + ": " + err.message));
})();
