// The planner's Opening-hours panel: which stations should open earlier or close later on the
// chosen weekday for a budget of added hours, with the stations' hours before -> after, the
// day before and after, the budget curve, and the station list with the new hours (CSV).
(function () {
  "use strict";
  const { el, getJSON } = window.UI;
  const { cfg, t } = window.UI.page();
  const P = window.Planner;
  const $ = (id) => document.getElementById(id);
  const pct = Charts.pct;
  const hourTicks = [0, 6, 12, 18, 23].map((h) => [h, h + ":00"]);

  // The schedule question: the page's coverage question (no time: a whole day) and the panel.
  function question() {
    const q = P.params();
    q.delete("at"); q.delete("min_density");
    q.set("weekday", $("p-weekday").value);
    q.set("budget_hours", $("sch-budget").value);
    q.set("earliest", String($("sch-earliest").value).padStart(2, "0") + ":00");
    q.set("latest", String($("sch-latest").value).padStart(2, "0") + ":00");
    return q;
  }

  function checkBudget() {
    const b = Number($("sch-budget").value);
    if (!Number.isInteger(b) || b < 1 || b > cfg.limits.budget_max) {
      P.showError("budget_hours", P.localMessage("budget_hours"));
      return false;
    }
    if (Number($("sch-earliest").value) >= Number($("sch-latest").value)) {
      P.showError("earliest", P.localMessage("earliest"));
      return false;
    }
    return true;
  }

  function renderStations(rows) {
    const body = $("sch-stations").tBodies[0];
    body.replaceChildren();
    rows.forEach((r) => {
      const tr = el("tr");
      tr.append(el("td", null, r.name + " (" + r.station_id + ")"),
        el("td", null, r.hours_before + " → " + r.hours_after),
        el("td", null, r.added_hours), el("td", null, P.nf.format(r.gain_worker_hours)));
      body.append(tr);
    });
  }

  function render(a) {
    const f = P.nf.format;
    const share = (c) => (a.worker_hours ? c / a.worker_hours : null);
    $("sch-summary").textContent = a.stations.length ? P.fill(t.schedule_summary, {
      h: a.added_hours, m: a.stations.length, a: pct(share(a.covered_worker_hours.before)),
      b: pct(share(a.covered_worker_hours.after)), g: f(a.gain_worker_hours) })
      : t.schedule_none;
    const w = a.keep_open_24_7;
    $("sch-whole").textContent = P.fill(t.schedule_whole, { n: w.stations.length, h: w.hours,
      g: f(w.gain_worker_hours) });
    const s = a.solver;
    let text = P.fill(s.method === "exact" ? t.solver_exact : t.solver_greedy, { s: s.seconds });
    if (s.optimal) text += t.solver_optimal;
    else if (s.gap !== null && s.gap !== undefined) text += P.fill(t.solver_gap, { g: pct(s.gap) });
    $("sch-solver").textContent = text;
    renderStations(a.stations);
    const line = (rows) => rows.map((r) => ({ x: r.hour, y: r.share_covered,
      label: r.hour + ":00" }));
    Charts.shareLine($("sch-day"), line(a.after), { xMax: 23, xTicks: hourTicks, dots: true,
      compare: line(a.before) });
    const last = a.curve[a.curve.length - 1].budget_hours;
    Charts.shareLine($("sch-curve"), a.curve.map((c) => ({ x: c.budget_hours,
      y: share(c.covered_worker_hours), label: c.budget_hours + " h" })),
    { xMax: last, xTicks: [[0, "0"], [last, String(last)]], dots: a.curve.length <= 60 });
    const q = question(); q.set("format", "csv");
    $("sch-dl").href = cfg.api.schedule + "?" + q;
    $("sch-out").hidden = false;
    document.body.dataset.schedule = String(a.gain_worker_hours);
  }

  async function run() {
    P.clearErrors();
    if (!P.valid() || !checkBudget()) return;
    P.busy(true);
    try {
      render(await getJSON(cfg.api.schedule + "?" + question()));
    } catch (err) {
      P.showError(err.param || "other", err.param ? P.localMessage(err.param)
        : (err.message || t.error));
    } finally {
      P.busy(false);
    }
  }

  $("sch-run").addEventListener("click", run);
})();
