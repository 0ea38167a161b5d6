// Station embed: one marker on a small map; the name is set as text.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("cfg").textContent);
  const map = window[cfg.map];
  const label = document.createElement("span");
  label.textContent = cfg.name;
  L.circleMarker(cfg.point, { radius: 9, weight: 2, color: "#fff", fillColor: cfg.colour,
    fillOpacity: 1 }).addTo(map).bindTooltip(label, { permanent: true, direction: "top" });
  map.setView(cfg.point, 16);
  document.body.dataset.ready = "1";
})();
