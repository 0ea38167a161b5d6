// Search box: places, districts, stations, typed coordinates (each datum offered, labelled)
// and pasted Amap / Baidu links. Picking a place sets the start; picking a station opens it.
(function () {
  "use strict";
  const { el, getJSON } = window.UI;
  const { cfg, t } = window.UI.page();
  const form = document.getElementById("search");
  if (!form) return;
  const input = document.getElementById("q");
  const list = document.getElementById("search-results");
  const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => vars[k]);

  function close() { list.hidden = true; list.replaceChildren(); }

  function label(hit) {
    if (hit.kind === "coords" || hit.kind === "link") {
      return [hit.label, fmt(t.search_coords, { crs: t["crs_" + hit.crs] })];
    }
    return [hit.label, t["kind_" + hit.kind] + (hit.detail && hit.kind === "station" ? " · " + hit.detail : "")];
  }

  function choose(hit) {
    close();
    if (hit.kind === "station") {
      window.Finder.pan(hit.y, hit.x);
      window.Finder.select(hit.id);
    } else {
      window.Finder.setOrigin(hit.lat, hit.lon, "wgs84");
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    const p = new URLSearchParams({ q, lang: cfg.lang, out_crs: cfg.crs });
    let answer;
    try {
      answer = await getJSON(cfg.api.search + "?" + p);
    } catch (err) {
      list.replaceChildren(el("li", "hint", t.error + ": " + err.message));
      list.hidden = false;
      return;
    }
    list.replaceChildren();
    if (answer.note) list.append(el("li", "hint", answer.note));
    if (!answer.results.length && !answer.note) list.append(el("li", "hint", fmt(t.search_none, { q })));
    answer.results.forEach((hit) => {
      const b = el("button", "search-hit");
      b.type = "button";
      const [main, sub] = label(hit);
      b.dataset.kind = hit.kind;
      b.append(el("span", "main", main), el("small", null, sub));
      b.addEventListener("click", () => choose(hit));
      const li = el("li");
      li.append(b);
      list.append(li);
    });
    list.hidden = false;
    document.body.dataset.search = String(answer.results.length);
    if (answer.results.length === 1) choose(answer.results[0]);
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
})();
