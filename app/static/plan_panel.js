// The planner's Plan panel: k new sites (or closed stations to keep open at the chosen hour),
// numbered on the map with a table and the marginal-gain curve, downloads, and "apply as
// scenario" (before -> after for the city and each district, zones redrawn).
(function () {
  "use strict";
  const { el, getJSON, postJSON } = window.UI;
  const { cfg, t, map } = window.UI.page();
  const P = window.Planner;
  const $ = (id) => document.getElementById(id);
  const siteLayer = L.layerGroup().addTo(map);
  const pct = Charts.pct;
  let last = null; // {body, answer}: the plan on show, for downloads and the scenario
  const blobs = [];

  // The plan question: the page's coverage question plus k, the kind and any candidate file.
  async function question() {
    const q = {};
    P.params().forEach((v, k) => {
      if (k === "amenity") (q.amenity = q.amenity || []).push(v);
      else if (k !== "min_density") q[k] = v;
    });
    q.k = $("plan-k").value;
    q.candidates = $("plan-kind").value;
    q.out_crs = cfg.crs;
    const file = $("plan-file").files[0];
    if (file && q.candidates === "cells") {
      try { q.candidates = JSON.parse(await file.text()); } catch (err) {
        throw Object.assign(new Error("bad file"), { param: "candidates" });
      }
    }
    return q;
  }

  function checkK() {
    const k = Number($("plan-k").value);
    if (!Number.isInteger(k) || k < 1 || k > cfg.limits.k_max) {
      P.showError("k", P.localMessage("k"));
      return false;
    }
    if ($("plan-kind").value === "extend_hours" && !P.atValue()) {
      P.showError("other", t.need_hour);
      return false;
    }
    return true;
  }

  function drawSites(fc) {
    siteLayer.clearLayers();
    fc.features.forEach((f) => {
      const [lng, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lng], { radius: 9, color: "#fff", weight: 2, fillColor: "#1864ab",
        fillOpacity: 0.95, className: "plan-site" }).addTo(siteLayer)
        .bindTooltip(el("span", null, String(f.properties.rank)), { permanent: true,
          direction: "center", className: "site-label" });
    });
    if (fc.features.length) {
      map.fitBounds(L.featureGroup(siteLayer.getLayers()).getBounds(), { maxZoom: 13,
        padding: [20, 20] });
    }
  }

  function renderTable(fc) {
    const body = $("plan-sites").tBodies[0];
    body.replaceChildren();
    fc.features.forEach((f) => {
      const p = f.properties;
      const tr = el("tr");
      tr.append(el("td", null, p.rank), el("td", null, P.nf.format(p.gain)),
        el("td", null, pct(p.share)), el("td", "names", p.district || "–"));
      body.append(tr);
    });
  }

  function renderCurve(answer) {
    const curve = answer.curve;
    const k = answer.sites.features.length;
    const xMax = curve[curve.length - 1].k;
    const ticks = [0, Math.round(xMax / 2), xMax].map((v) => [v, String(v)]);
    Charts.shareLine($("plan-curve"), curve.map((c) => ({ x: c.k, y: c.share,
      label: "k = " + c.k })), { xMax, xTicks: ticks, mark: k, dots: curve.length <= 60 });
    const end = curve[curve.length - 1];
    const target = answer.solver.curve_target;
    $("plan-curve-note").textContent = P.fill(end.share >= target ? t.curve_reach
      : t.curve_short, { k: end.k, p: pct(end.share), t: pct(target) });
  }

  function solverLine(s) {
    let text = P.fill(s.method === "exact" ? t.solver_exact : t.solver_greedy,
      { s: s.seconds });
    if (s.optimal) text += t.solver_optimal;
    else if (s.gap !== null && s.gap !== undefined) text += P.fill(t.solver_gap, { g: pct(s.gap) });
    return text;
  }

  // Downloads: links for a GET question; for an uploaded file the POST answer as a blob.
  async function setDownloads(body) {
    blobs.splice(0).forEach((u) => URL.revokeObjectURL(u));
    for (const fmt of ["geojson", "csv"]) {
      const link = $("plan-dl-" + fmt);
      if (typeof body.candidates !== "object") {
        const q = new URLSearchParams();
        Object.entries(body).forEach(([k, v]) => [].concat(v).forEach((x) => q.append(k, x)));
        q.set("format", fmt);
        link.href = cfg.api.plan + "?" + q;
      } else {
        const resp = await fetch(cfg.api.plan, { method: "POST", body: JSON.stringify(
          { ...body, format: fmt }), headers: { "Content-Type": "application/json" } });
        const url = URL.createObjectURL(await resp.blob());
        blobs.push(url);
        link.href = url;
      }
    }
  }

  async function runPlan() {
    P.clearErrors();
    if (!P.valid() || !checkK()) return;
    P.busy(true);
    try {
      const body = await question();
      const answer = typeof body.candidates === "object"
        ? await postJSON(cfg.api.plan, body)
        : await getJSON(cfg.api.plan + "?" + new URLSearchParams(body));
      last = { body, answer };
      $("plan-out").hidden = false;
      $("scenario-out").hidden = true;
      $("plan-solver").textContent = solverLine(answer.solver);
      const alt = answer.new_sites_instead;
      const gain = answer.sites.features.reduce((a, f) => a + f.properties.gain, 0);
      $("plan-compare").hidden = !alt;
      if (alt) {
        $("plan-compare").textContent = P.fill(t.plan_compare, {
          n: answer.sites.features.length, a: P.nf.format(gain), k: alt.k,
          g: P.nf.format(alt.gain), p: pct(alt.share) });
      }
      renderTable(answer.sites);
      drawSites(answer.sites);
      renderCurve(answer);
      await setDownloads(body);
      document.body.dataset.plan = String(answer.sites.features.length);
    } catch (err) {
      P.showError(err.param || "other", err.param ? P.localMessage(err.param)
        : t.error + ": " + err.message);
    } finally {
      P.busy(false);
    }
  }

  async function applyScenario() {
    if (!last) return;
    const { body, answer } = last;
    const q = { type: body.type, threshold_m: body.threshold_m, at: body.at,
      amenity: body.amenity, mode: body.mode, crs: cfg.crs, out_crs: cfg.crs };
    const min = P.params().get("min_density");
    if (min !== null) q.min_density = min;
    if (answer.candidates === "extend_hours") {
      q.hours = {};
      answer.sites.features.forEach((f) => { q.hours[f.properties.station_id] = "24/7"; });
    } else {
      q.add = answer.sites.features.map((f) => f.geometry.coordinates);
    }
    P.busy(true);
    try {
      const r = await postJSON(cfg.api.scenario, q);
      $("scenario-out").hidden = false;
      $("scenario-city").textContent = P.fill(t.scenario_city, {
        a: pct(r.before.share_covered), b: pct(r.after.share_covered),
        d: "+" + P.nf.format(r.delta.covered) });
      const tb = $("scenario-districts").tBodies[0];
      tb.replaceChildren();
      r.districts.forEach((d) => {
        const tr = el("tr");
        tr.append(el("td", "names", cfg.lang === "zh" ? d.name : d.name_en),
          el("td", null, pct(d.share_before)), el("td", null, pct(d.share_after)),
          el("td", null, (d.delta >= 0 ? "+" : "") + P.nf.format(d.delta)));
        tb.append(tr);
      });
      P.renderGaps(r.gaps);
      document.body.dataset.scenario = String(r.delta.covered);
    } catch (err) {
      P.showError(err.param || "other", err.param ? P.localMessage(err.param)
        : t.error + ": " + err.message);
    } finally {
      P.busy(false);
    }
  }

  $("plan-run").addEventListener("click", runPlan);
  $("plan-apply").addEventListener("click", applyScenario);
  $("plan-kind").addEventListener("change", () => { $("plan-file").disabled =
    $("plan-kind").value !== "cells"; });
})();
