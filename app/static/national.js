// National overview and city pages: cities coloured by coverage share (click through to the
// city), or one city's largest gap zones, numbered at their sites. Everything drawn comes
// from precomputed results; names reach the page through textContent only.
(function () {
  "use strict";
  const { getJSON } = window.UI;
  const { cfg, t, map } = window.UI.page();
  const { shareColour, drawGaps } = window.CoverageLayers;
  const layer = L.layerGroup().addTo(map);
  const pct = (s) => (s === null || s === undefined ? "–" : (s * 100).toFixed(1) + " %");

  function tip(p) {
    const span = document.createElement("span");
    span.textContent = p.province + " " + p.city + " · " + t.covered_share + " " +
      pct(p.share_covered);
    return span;
  }

  function drawCities(fc) {
    const shapes = L.geoJSON(fc, {
      style: (f) => ({ fillColor: shareColour(f.properties.share_covered), fillOpacity: 0.7,
        color: "#444", weight: 0.6 }),
      onEachFeature: (f, lyr) => {
        lyr.bindTooltip(tip(f.properties), { sticky: true });
        lyr.on("click", () => {
          window.location.href = cfg.city_url.replace("000000", f.properties.city_code);
        });
      },
    }).addTo(layer);
    document.body.dataset.drawn = String(fc.features.length);
    document.body.dataset.ready = "1";
    return shapes;
  }

  getJSON(cfg.data_url).then((fc) => {
    if (cfg.city_url) {
      drawCities(fc);
      return;
    }
    const drawn = drawGaps(layer, fc);
    if (drawn.length) map.fitBounds(L.featureGroup(drawn.map((d) => d.layer)).getBounds(),
      { padding: [20, 20] });
    document.body.dataset.drawn = String(drawn.length);
    document.body.dataset.ready = "1";
  });
})();
