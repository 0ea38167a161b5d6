// Shared page helpers: DOM elements with text only (never HTML), and JSON fetching.
window.UI = (function () {
  "use strict";
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  // The JSON answer, or an Error carrying the API's message and the parameter it names.
  async function answer(resp) {
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const err = new Error(body.error || String(resp.status));
      err.param = body.param;
      throw err;
    }
    return body;
  }
  // 503 means "busy with heavy questions, retry": wait as the server asks, up to 3 times.
  async function patient(request) {
    for (let attempt = 0; ; attempt++) {
      const resp = await request();
      if (resp.status !== 503 || attempt >= 3) return answer(resp);
      const wait = Number(resp.headers.get("Retry-After")) || 2;
      await new Promise((ok) => setTimeout(ok, wait * 1000));
    }
  }
  async function getJSON(url) {
    return patient(() => fetch(url, { headers: { Accept: "application/json" } }));
  }
  async function postJSON(url, data) {
    return patient(() => fetch(url, { method: "POST", body: JSON.stringify(data),
      headers: { Accept: "application/json", "Content-Type": "application/json" } }));
  }
  // The page's config (JSON in #cfg) and its folium map object.
  function page() {
    const cfg = JSON.parse(document.getElementById("cfg").textContent);
    return { cfg, t: cfg.t, map: window[cfg.map] };
  }
  // District outlines as a background layer, fetched once from a versioned, cached URL.
  // `layer.ready` resolves when the shapes are in (styling waits for it).
  function districts(map, cfg) {
    const layer = L.geoJSON(null, { interactive: false, style: () => cfg.district_style });
    layer.addTo(map);
    layer.ready = getJSON(cfg.districts_url).then((fc) => {
      layer.addData(fc);
      layer.bringToBack();
      return layer;
    });
    return layer;
  }
  // A Date whose UTC fields read the dataset's wall clock (utc_offset_min from the page's
  // config or the station pack: the dataset's time zone, never a constant here).
  function wallClock(utcOffsetMin, ms = Date.now()) {
    return new Date(ms + utcOffsetMin * 60000);
  }
  return { el, getJSON, postJSON, page, districts, wallClock };
})();
