// Shared page helpers: DOM elements with text only (never HTML), and JSON fetching.
window.UI = (function () {
  "use strict";
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  async function getJSON(url) {
    const resp = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.error || String(resp.status));
    return body;
  }
  // The page's config (JSON in #cfg) and its folium map object.
  function page() {
    const cfg = JSON.parse(document.getElementById("cfg").textContent);
    return { cfg, t: cfg.t, map: window[cfg.map] };
  }
  return { el, getJSON, page };
})();
