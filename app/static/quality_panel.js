// Planner: station quality from couriers' reports. Flagged stations (reported closed during
// their stated hours or not found, by the rule the API states) stand out on the map and are
// listed; "if they are really closed" asks the scenario API what coverage that would lose.
// Text from the data and from couriers is set with textContent only.
(function () {
  "use strict";
  const { el, getJSON, postJSON } = window.UI;
  const { cfg, t, map } = window.UI.page();
  const P = window.Planner;
  const $ = (id) => document.getElementById(id);
  const pct = Charts.pct;
  const layer = L.layerGroup().addTo(map);
  let flagged = [];
  let seq = 0;

  function when(iso) {
    return iso ? iso.replace("T", " ").slice(0, 16) : "–";
  }

  function draw(fc) {
    layer.clearLayers();
    flagged = fc.features.filter((f) => f.properties.flagged);
    const tb = $("quality").tBodies[0];
    tb.replaceChildren();
    flagged.forEach((f) => {
      const p = f.properties;
      const [lng, lat] = f.geometry.coordinates;
      const m = L.circleMarker([lat, lng], { radius: 9, color: "#b3261e", weight: 3,
        fillColor: "#fdecea", fillOpacity: 0.9, className: "flagged-station" });
      m.bindTooltip(el("span", null, p.name + " · " + t.flagged_legend));
      m.addTo(layer);
      const tr = el("tr", "flagged-row");
      tr.dataset.id = p.id;
      tr.append(el("td", "names", p.name), el("td", "names", p.district || ""),
        el("td", null, String(p.checkins_30d)),
        el("td", null, String(p.closed_reports_in_hours + p.reports.not_found)),
        el("td", null, when(p.last_checkin)));
      const notes = p.notes.map((n) => n.text).join(" / ");
      if (notes) tr.title = notes;
      tb.append(tr);
    });
    $("quality-none").hidden = flagged.length > 0;
    $("quality").hidden = flagged.length === 0;
    $("q-if-closed").disabled = flagged.length === 0;
    $("q-result").textContent = "";
    document.body.dataset.flagged = String(flagged.length);
  }

  async function load() {
    const mine = ++seq;
    const fc = await getJSON(cfg.api.quality + "?" + new URLSearchParams({
      type: $("p-type").value, days: "30" }));
    if (mine === seq) draw(fc);
  }

  async function ifClosed() {
    if (!flagged.length) return;
    const q = { type: $("p-type").value, threshold_m: $("p-threshold").value,
      remove: flagged.map((f) => f.id) };
    if (P.atValue()) q.at = P.atValue();
    $("q-if-closed").disabled = true;
    try {
      const r = await postJSON(cfg.api.scenario, q);
      $("q-result").textContent = P.fill(t.if_closed_result, {
        before: pct(r.before.share_covered), after: pct(r.after.share_covered),
        lost: P.nf.format(Math.max(0, -r.delta.covered)) });
      document.body.dataset.lost = String(-r.delta.covered);
    } catch (err) {
      $("q-result").textContent = t.error + ": " + err.message;
    } finally {
      $("q-if-closed").disabled = false;
    }
  }

  $("p-type").addEventListener("change", load);
  $("q-if-closed").addEventListener("click", ifClosed);
  load().catch((err) => { $("q-result").textContent = t.error + ": " + err.message; });
})();
