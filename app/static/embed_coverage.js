// Coverage embed: district choropleth and the top gap zones, driven by the iframe's URL.
(function () {
  "use strict";
  const { el, getJSON } = window.UI;
  const { cfg, map } = window.UI.page();
  const districtLayer = window.UI.districts(map, cfg);
  const gaps = L.layerGroup().addTo(map);
  const q = new URLSearchParams();
  q.set("type", cfg.query.type);
  q.set("threshold_m", String(cfg.query.threshold_m));
  if (cfg.query.at) q.set("at", cfg.query.at);
  cfg.query.amenity.forEach((a) => q.append("amenity", a));
  if (cfg.fit) map.fitBounds(cfg.fit);
  else if (cfg.view && cfg.view.lat !== undefined) map.setView([cfg.view.lat, cfg.view.lng], cfg.view.zoom);
  else if (cfg.view) map.setZoom(cfg.view.zoom);

  const g = new URLSearchParams(q);
  g.set("limit", "10"); g.set("simplify", "1"); g.set("out_crs", cfg.crs);
  Promise.all([getJSON(cfg.api.coverage + "?" + q), getJSON(cfg.api.gaps + "?" + g)])
    .then(([summary, fc]) => {
      CoverageLayers.styleDistricts(districtLayer, summary.districts);
      CoverageLayers.drawGaps(gaps, fc);
      const nf = new Intl.NumberFormat(cfg.lang === "zh" ? "zh-CN" : "en");
      const list = document.getElementById("gap-list");
      fc.features.forEach((f) => {
        const p = f.properties;
        const li = el("li");
        li.dataset.rank = String(p.rank);
        li.append(el("strong", null, nf.format(Math.round(p.workers)) + " " + (cfg.lang === "en"
          ? cfg.t.workers.toLowerCase() : cfg.t.workers)),
          el("span", null, " · " + p.districts.join("、") + " · " + p.area_km2.toFixed(2) + " km²"));
        list.append(li);
      });
      const share = summary.summary.share_covered;
      const title = document.getElementById("e-title");
      title.textContent = title.textContent + " · " + (share === null ? "–"
        : (100 * share).toFixed(1) + " %");
      document.body.dataset.ready = "1";
    })
    .catch((err) => { document.getElementById("e-title").textContent = err.message; });
})();
