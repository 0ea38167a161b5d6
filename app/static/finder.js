// Finder page: a map with every station (filled when open at the chosen time, hollow when
// closed) and a bottom sheet with the nearest station's card and the list. A tap, "Locate me",
// follow mode or a search sets the start; a marker tap opens that station's card. The URL holds
// the whole state. With no network, answers come from the station pack (straight line).
(function () {
  "use strict";
  const { el, getJSON } = window.UI;
  const { cfg, t, map } = window.UI.page();
  const Card = window.StationCard;
  const $ = (id) => document.getElementById(id);
  const fmt = Card.fmt;
  // One canvas for every layer (a second canvas on top would swallow the marker taps), with
  // a little tolerance: a marker is easy to tap, and so is the map between markers.
  const renderer = L.canvas({ padding: 0.5, tolerance: 4 });
  map.options.renderer = renderer;
  window.UI.districts(map, cfg);
  const stationLayer = L.layerGroup().addTo(map);
  const resultLayer = L.layerGroup().addTo(map);
  const markers = [];
  let pack = null;
  let origin = cfg.origin ? { ...cfg.origin } : null; // {lat, lng, crs}
  let results = null; // the last answer (API or local)
  let selected = cfg.station || null;
  let seq = 0;
  const phone = () => window.matchMedia("(max-width: 899px)").matches;
  const feedback = cfg.embed ? null : window.StationFeedback; // not in embeds

  function status(msg) {
    $("status").textContent = msg || "";
    $("status").hidden = !msg;
  }
  function note(msg, cls) {
    if (!msg) return;
    $("notes").append(el("p", "note" + (cls ? " " + cls : ""), msg));
  }

  // Filters as the API wants them, and the same for the pack.
  function timeChoice() {
    const kind = $("f-time").value;
    if (kind === "now") return "now";
    if (kind === "at" && $("f-at").value) return $("f-at").value.slice(0, 16);
    return null;
  }
  function amenityList() {
    return [...document.querySelectorAll("input[name=amenity]:checked")].map((c) => c.value);
  }
  function modeChoice() {
    return $("f-mode") && $("f-mode").value !== "straight" ? $("f-mode").value : null;
  }
  function apiParams() {
    const p = new URLSearchParams();
    if ($("f-type").value) p.set("type", $("f-type").value);
    amenityList().forEach((a) => p.append("amenity", a));
    const at = timeChoice();
    if (at) p.set("open_at", at);
    if (modeChoice()) p.set("mode", modeChoice());
    return p;
  }
  function packFilter() {
    return { type: $("f-type").value || null, amenities: amenityList(), openAt: timeChoice() };
  }

  // The page's state as URL parameters (also what the embed and the language link carry).
  function stateParams() {
    const p = new URLSearchParams();
    if (origin) {
      p.set("lat", origin.lat.toFixed(6)); p.set("lng", origin.lng.toFixed(6));
      if (origin.crs !== "wgs84") p.set("crs", origin.crs);
    }
    if ($("f-type").value) p.set("type", $("f-type").value);
    amenityList().forEach((a) => p.append("amenity", a));
    const kind = $("f-time").value;
    if (kind === "any") p.set("open_now", "0");
    if (kind === "at" && $("f-at").value) p.set("at", $("f-at").value.slice(0, 16));
    if (modeChoice()) p.set("mode", modeChoice());
    p.set("zoom", String(map.getZoom()));
    if (cfg.k !== cfg.k_default) p.set("k", String(cfg.k));
    if (selected) p.set("station", selected);
    return p;
  }
  function syncUrl() {
    if (cfg.embed) return;
    const p = stateParams();
    p.set("lang", cfg.lang);
    history.replaceState(null, "", location.pathname + "?" + p);
    const other = document.querySelector(".bar a.lang");
    if (other) {
      const q = stateParams();
      q.set("lang", other.dataset.lang);
      other.href = location.pathname + "?" + q;
    }
  }
  window.currentEmbedUrl = () => {
    const p = stateParams();
    if (!origin) {
      const c = map.getCenter();
      p.set("lat", c.lat.toFixed(6)); p.set("lng", c.lng.toFixed(6)); p.set("crs", cfg.crs);
    }
    p.set("k", String(cfg.k)); p.set("lang", cfg.lang);
    if (cfg.tiles) p.set("tiles", cfg.tiles);
    return cfg.embed_url + "?" + p;
  };

  // Markers: every station passing type and amenities; filled when open, hollow when closed.
  function drawStations() {
    if (!pack) return;
    stationLayer.clearLayers();
    markers.length = 0;
    const flt = { ...packFilter(), openAt: null };
    const at = timeChoice();
    const m = pack.minutes(at && at !== "now" ? at : null);
    let shown = 0;
    for (let i = 0; i < pack.n; i++) {
      if (!pack.usable(i, flt, m)) continue;
      const open = pack.isOpen(i, m);
      const colour = cfg.colours[pack.type(i)] || "#555";
      const mk = L.circleMarker(pack.latlng(i), { renderer, radius: open ? 6 : 5,
        weight: open ? 1 : 2.5, color: open ? "#fff" : colour, fillColor: colour,
        fillOpacity: open ? 0.95 : 0.1 });
      mk.stationIndex = i;
      mk.on("click", (e) => { // canvas markers ignore bubblingMouseEvents: stop it here
        L.DomEvent.stopPropagation(e);
        select(pack.s.id[i], true);
      });
      mk.bindTooltip(el("span", null, pack.s.name[i] + " · " + (open ? t.open : t.closed)));
      mk.addTo(stationLayer);
      markers.push(mk);
      shown++;
    }
    document.body.dataset.stations = String(shown);
  }

  // One station's card: from the current results when listed, else from the pack.
  function select(id, fromMap) {
    if (!pack || !pack.byId.has(id)) return;
    selected = id;
    const i = pack.byId.get(id);
    const hit = results && results.features.find((f) => f.id === id);
    let p;
    const at = timeChoice();
    const m = pack.minutes(at && at !== "now" ? at : null);
    if (hit) p = hit.properties;
    else {
      const wgs = origin ? toWgs84(origin) : null;
      const d = wgs ? pack.distance(wgs.lon, wgs.lat, i).m : null;
      p = pack.feature(i, d === null ? 0 : d, m, wgs, cfg.speeds, cfg.nav).properties;
      if (d === null) { delete p.distance_m; delete p.walk_min; delete p.ebike_min; }
    }
    const today = (window.UI.wallClock(cfg.utc_offset_min).getUTCDay() + 6) % 7;
    Card.render($("card"), t, p, { colours: cfg.colours, at: results ? results.at : null,
      hours: pack.raw.hours[pack.s.hours[i]], today });
    if (feedback) feedback.attach($("feedback"), id);
    document.querySelectorAll("#results li").forEach((li) =>
      li.classList.toggle("selected", li.dataset.id === id));
    if (fromMap) setSheet("peek");
    document.body.dataset.card = id;
    syncUrl();
  }

  // Display datum -> WGS-84 for local answers: exact for WGS-84 maps; on a GCJ-02 map, the
  // offset of the nearest station (the shift varies by well under a metre over a kilometre).
  function toWgs84(o) {
    if (o.crs === "wgs84" || !pack || !pack.s.x) return { lon: o.lng, lat: o.lat };
    let best = 0, bd = Infinity;
    for (let i = 0; i < pack.n; i++) {
      const d = (pack.s.x[i] - o.lng) ** 2 + (pack.s.y[i] - o.lat) ** 2;
      if (d < bd) { bd = d; best = i; }
    }
    return { lon: o.lng - (pack.s.x[best] - pack.s.lon[best]),
      lat: o.lat - (pack.s.y[best] - pack.s.lat[best]) };
  }

  function render(fc, local) {
    results = fc;
    resultLayer.clearLayers();
    $("notes").replaceChildren();
    (cfg.notes || []).forEach((n) => note(n));
    const o = [fc.origin[1], fc.origin[0]];
    L.circleMarker(o, { renderer, radius: 8, color: "#1b4965", weight: 3, fillColor: "#fff",
      fillOpacity: 1, interactive: false }).addTo(resultLayer);
    const list = $("results");
    list.replaceChildren();
    const bounds = L.latLngBounds([o]);
    fc.features.forEach((f, n) => {
      const ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      if (n < 3) bounds.extend(ll);
      const colour = cfg.colours[f.properties.type] || "#555";
      const route = f.properties.route;
      const path = route ? route.coordinates.map((c) => [c[1], c[0]]) : [o, ll];
      L.polyline(path, { renderer, color: colour, weight: route ? 4 : 3, opacity: 0.85,
        dashArray: route ? null : "6 6", interactive: false }).addTo(resultLayer);
      const li = Card.listItem(t, f, fc.at, cfg.colours);
      li.querySelector(".r-head").addEventListener("click", () => select(f.id, true));
      list.append(li);
    });
    if ($("distance-kind")) $("distance-kind").textContent = "(" + t["mode_" + (fc.mode || "straight")] + ")";
    if (fc.note_code === "far") note(fmt(t.far, { r: Math.round(cfg.far_m / 1000), km: fc.note_km }), "warn");
    else if (fc.note_code === "unreachable") note(t.unreachable, "warn");
    $("offline-note").hidden = !local;
    if (local) $("offline-note").textContent = fmt(t.offline, { date: pack.raw.data_date || pack.raw.start.slice(0, 10) });
    status(fc.features.length || fc.note_code ? "" : t.no_results);
    if (fc.features.length) select(fc.features[0].id, false);
    else { $("card").hidden = true; if ($("feedback")) $("feedback").hidden = true; selected = null; }
    setSheet("peek");
    map.fitBounds(bounds, fitPadding());
    document.body.dataset.results = String(fc.features.length);
    document.body.dataset.answer = local ? "local" : "api";
    syncUrl();
  }

  // Keep the origin and first results clear of the sheet (phones) when fitting the map.
  function fitPadding() {
    const sheet = $("sheet").getBoundingClientRect();
    const mapBox = map.getContainer().getBoundingClientRect();
    const covered = phone() ? Math.max(0, mapBox.bottom - sheet.top) : 0;
    return { paddingTopLeft: [30, 30], paddingBottomRight: [30, 30 + covered], maxZoom: 17,
      animate: false }; // the answer at once: no mid-flight map under the finger
  }

  function localAnswer() {
    const o = toWgs84(origin);
    const feats = pack.nearest(o.lon, o.lat, cfg.k, packFilter(), cfg.speeds, cfg.nav);
    const near = feats.filter((f) => f.properties.distance_m <= cfg.far_m);
    const fc = { type: "FeatureCollection", features: near, mode: "straight",
      origin: [origin.lng, origin.lat], at: null };
    if (!near.length && feats.length) {
      fc.note_code = "far";
      fc.note_km = Math.round(feats[0].properties.distance_m / 100) / 10;
    }
    return fc;
  }

  async function findNearest() {
    if (!origin) return;
    const mine = ++seq;
    const p = apiParams();
    p.set("lat", origin.lat.toFixed(7)); p.set("lng", origin.lng.toFixed(7));
    p.set("crs", origin.crs); p.set("out_crs", cfg.crs); p.set("k", String(cfg.k));
    p.set("lang", cfg.lang);
    try {
      const fc = await getJSON(cfg.api.nearest + "?" + p);
      if (mine === seq) render(fc, false);
    } catch (err) {
      if (mine !== seq) return;
      if (pack && (err instanceof TypeError || !navigator.onLine)) render(localAnswer(), true);
      else status(t.error + ": " + err.message);
    }
  }

  function setOrigin(lat, lng, crs) {
    origin = { lat, lng, crs };
    findNearest();
  }

  // Peek: on phones the sheet grows to show the whole card (within 35-80 % of the map area).
  function setSheet(state) {
    const sheet = $("sheet");
    sheet.dataset.state = state;
    $("sheet-toggle").setAttribute("aria-expanded", String(state === "full"));
    sheet.style.height = "";
    if (state !== "peek" || !phone() || $("card").hidden) return;
    sheet.querySelector(".sheet-body").scrollTop = 0;
    const area = sheet.parentElement.getBoundingClientRect().height;
    const need = $("card").getBoundingClientRect().bottom - sheet.getBoundingClientRect().top + 12;
    sheet.style.height = Math.round(Math.min(0.8 * area, Math.max(0.35 * area, need))) + "px";
  }

  // Sheet: the handle toggles; dragging it up or down past 40 px does the same.
  function sheetHandle() {
    const handle = $("sheet-toggle");
    let startY = null;
    let dragged = false;
    handle.addEventListener("click", () => {
      if (dragged) { dragged = false; return; }
      setSheet($("sheet").dataset.state === "full" ? "peek" : "full");
    });
    handle.addEventListener("pointerdown", (e) => { startY = e.clientY; dragged = false; });
    window.addEventListener("pointerup", (e) => {
      if (startY === null) return;
      const dy = e.clientY - startY;
      startY = null;
      if (Math.abs(dy) > 40) { dragged = true; setSheet(dy < 0 ? "full" : "peek"); }
    });
  }

  // "Locate me" once, or follow: re-rank as the courier moves, at most every cfg.follow_ms
  // and only after moving 30 m (a trailing update so the last position is never dropped).
  function locate(follow) {
    if (!window.isSecureContext) { status(""); note(t.need_https, "warn"); return null; }
    if (!navigator.geolocation) { status(t.geo_error); return null; }
    status(follow ? t.following : t.locating);
    let last = null;
    let timer = null;
    const apply = (c) => {
      last = { lat: c.latitude, lng: c.longitude, at: Date.now() };
      setOrigin(c.latitude, c.longitude, "wgs84");
    };
    const onPos = (pos) => {
      const c = pos.coords;
      if (!follow || !last) { apply(c); return; }
      if (window.geodesic.Geodesic.WGS84.Inverse(last.lat, last.lng, c.latitude,
        c.longitude).s12 < 30) return;
      clearTimeout(timer);
      timer = setTimeout(() => apply(c), Math.max(0, last.at + cfg.follow_ms - Date.now()));
    };
    const onErr = () => status(t.geo_error);
    const opts = { enableHighAccuracy: true, timeout: 10000, maximumAge: 5000 };
    if (follow) return navigator.geolocation.watchPosition(onPos, onErr, opts);
    navigator.geolocation.getCurrentPosition(onPos, onErr, opts);
    return null;
  }

  function refresh() {
    $("f-at-label").hidden = $("f-time").value !== "at";
    drawStations();
    findNearest();
    syncUrl();
  }

  map.on("click", (e) => setOrigin(e.latlng.lat, e.latlng.lng, cfg.crs));
  map.on("zoomend moveend", syncUrl);
  if ($("locate")) $("locate").addEventListener("click", () => locate(false));
  let watch = null;
  if ($("follow")) {
    $("follow").addEventListener("change", () => {
      if (watch !== null) { navigator.geolocation.clearWatch(watch); watch = null; }
      if ($("follow").checked) {
        watch = locate(true);
        if (watch === null) $("follow").checked = false;
      }
    });
  }
  document.querySelectorAll("#f-type, #f-time, #f-at, #f-mode, input[name=amenity]")
    .forEach((c) => c.addEventListener("change", refresh));
  if (!$("f-at").value) {
    $("f-at").value = window.UI.wallClock(cfg.utc_offset_min).toISOString().slice(0, 16);
  }
  sheetHandle();
  if (cfg.view && cfg.view.lat !== undefined) map.setView([cfg.view.lat, cfg.view.lng], cfg.view.zoom);
  else if (cfg.view) map.setZoom(cfg.view.zoom);
  (cfg.notes || []).forEach((n) => note(n));
  if (feedback) {
    feedback.init({ t, base: cfg.api.stations, amenities: cfg.amenities,
      utcOffsetMin: cfg.utc_offset_min,
      kinds: cfg.reports.kinds, noteMax: cfg.reports.note_max, notify: (msg) => status(msg) });
  }

  window.Finder = {
    setOrigin: (lat, lng, crs) => setOrigin(lat, lng, crs),
    select: (id) => select(id, true),
    pan: (lat, lng) => map.setView([lat, lng], Math.max(map.getZoom(), 16)),
  };
  window.StationPack.load(cfg.api.pack).then((p) => {
    pack = p;
    drawStations();
    if (origin) findNearest();
    else if (selected) select(selected, false);
    syncUrl();
    document.body.dataset.ready = "1";
  }).catch((err) => status(t.error + ": " + err.message));
  if ("serviceWorker" in navigator && cfg.sw && !cfg.embed && window.isSecureContext) {
    navigator.serviceWorker.register(cfg.sw).then(() => navigator.serviceWorker.ready)
      .then(() => { document.body.dataset.sw = "ready"; })
      .catch(() => { /* offline use is a bonus: the page works without it */ });
  }
})();
