// Shared by the planner and the coverage embed: choropleth colours and gap-zone drawing.
// Only numbers from the API reach labels; names go through textContent.
window.CoverageLayers = (function () {
  "use strict";
  const STOPS = window.UI.page().cfg.share_stops; // from app/mapview.py

  function shareColour(share) {
    if (share === null || share === undefined) return "#cccccc";
    return STOPS[Math.min(STOPS.length - 1, Math.floor(share * STOPS.length))];
  }

  function styleDistricts(districtLayer, districts) {
    const share = {};
    districts.forEach((d) => { share[d.code] = d.share_covered; });
    return districtLayer.ready.then(() => districtLayer.eachLayer((layer) => layer.setStyle({
      fillColor: shareColour(share[layer.feature.properties.code]), fillOpacity: 0.55,
      color: "#444", weight: 1,
    })));
  }

  function rankLabel(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  // Draws each gap zone with its rank at the centroid; returns [{feature, layer}] in rank order.
  function drawGaps(group, fc) {
    group.clearLayers();
    return fc.features.map((f) => {
      const p = f.properties;
      const layer = L.geoJSON(f, { interactive: false, style: { color: "#c92a2a", weight: 2,
        fillColor: "#c92a2a", fillOpacity: 0.25 } }).addTo(group);
      L.marker([p.site[1], p.site[0]], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "rank-icon", html: "", iconSize: [0, 0] }) })
        .addTo(group)
        .bindTooltip(rankLabel(String(p.rank)), { permanent: true, direction: "center",
          className: "rank-label" });
      return { feature: f, layer };
    });
  }

  return { STOPS, shareColour, styleDistricts, drawGaps };
})();
