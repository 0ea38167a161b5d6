// A courier's word on a station, under its card: "I was here" (one tap), "Report a problem"
// (what, which facility, an optional note), and what other riders said this week.
// No account: a random device id kept on this phone. With no network a check-in or report is
// kept on the phone and sent when the network returns (or the next time the page opens).
// Everything from the server or the data is set as text.
window.StationFeedback = (function () {
  "use strict";
  const { el } = window.UI;
  const fmt = window.StationCard.fmt;
  const DEVICE_KEY = "stations-device";
  const QUEUE_KEY = "stations-queue";
  let ctx = null; // {t, base, amenities, kinds, noteMax, notify, utcOffsetMin}: the page's

  function device() {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  }
  const queue = () => JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
  const saveQueue = (items) => localStorage.setItem(QUEUE_KEY, JSON.stringify(items));

  // One POST: "ok" (201/200), "queued" (no network), or an Error with the API's message.
  async function post(url, body) {
    let resp;
    try {
      resp = await fetch(url, { method: "POST", body: JSON.stringify(body),
        headers: { Accept: "application/json", "Content-Type": "application/json" } });
    } catch (err) {
      return "offline";
    }
    const answer = await resp.json().catch(() => ({}));
    if (resp.ok) return answer.duplicate ? "duplicate" : "ok";
    if (resp.status >= 500 || resp.status === 429) return "offline"; // try again later
    throw new Error(answer.error || String(resp.status));
  }

  async function send(url, body) {
    const result = await post(url, body);
    if (result === "offline") {
      saveQueue([...queue(), { url, body }]);
      document.body.dataset.queued = String(queue().length);
      return "queued";
    }
    return result;
  }

  // Send what was kept while offline, oldest first; stop at the first that still fails.
  let flushing = false;
  async function flush() {
    if (flushing || !ctx) return;
    flushing = true;
    let sent = 0;
    try {
      let items = queue();
      while (items.length) {
        let result;
        try { result = await post(items[0].url, items[0].body); } catch (err) { result = "refused"; }
        if (result === "offline") break;
        items = items.slice(1);
        saveQueue(items);
        if (result !== "refused") sent++;
      }
    } finally {
      flushing = false;
      document.body.dataset.queued = String(queue().length);
    }
    if (sent) ctx.notify(fmt(ctx.t.sent_queued, { n: sent }));
  }

  function url(id, what) {
    return ctx.base + "/" + encodeURIComponent(id) + "/" + what;
  }

  function message(box, text, cls) {
    box.replaceChildren(el("p", "fb-msg" + (cls ? " " + cls : ""), text));
  }

  function thanks(result, kind) {
    const t = ctx.t;
    if (result === "queued") return t.queued;
    if (result === "duplicate") return t.duplicate;
    return kind === "checkin" ? t.thanks_checkin : t.thanks_report;
  }

  function reportForm(id, out) {
    const t = ctx.t;
    const form = el("form", "fb-form");
    const fs = el("fieldset");
    fs.append(el("legend", null, t.report_kind));
    ctx.kinds.forEach((k, i) => {
      const label = el("label", "chip");
      const input = el("input");
      input.type = "radio"; input.name = "kind"; input.value = k; input.required = true;
      if (i === 0) input.checked = true;
      label.append(input, el("span", null, t["kind_" + k]));
      fs.append(label);
    });
    const amenityLabel = el("label", "field", t.report_amenity);
    const amenity = el("select");
    amenity.name = "amenity";
    ctx.amenities.forEach((a) => {
      const o = el("option", null, t[a] || a); o.value = a; amenity.append(o);
    });
    amenityLabel.append(amenity);
    amenityLabel.hidden = true;
    const noteLabel = el("label", "field wide", t.report_note);
    const note = el("textarea");
    note.name = "note"; note.maxLength = ctx.noteMax; note.rows = 2;
    noteLabel.append(note);
    const send_ = el("button", "primary", t.report_send); send_.type = "submit";
    const cancel = el("button", null, t.report_cancel); cancel.type = "button";
    const row = el("div", "fb-row"); row.append(send_, cancel);
    form.append(fs, amenityLabel, noteLabel, row);
    fs.addEventListener("change", () => {
      amenityLabel.hidden = form.elements.kind.value !== "amenity_missing";
    });
    cancel.addEventListener("click", () => form.remove());
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const kind = form.elements.kind.value;
      const body = { kind, device: device() };
      if (kind === "amenity_missing") body.amenity = amenity.value;
      if (note.value.trim()) body.note = note.value.trim();
      send_.disabled = true;
      try {
        const result = await send(url(id, "reports"), body);
        form.remove();
        message(out, thanks(result, "report"), result === "queued" ? "queued" : "ok");
        if (result !== "queued") summary(id, out.parentElement.querySelector(".fb-summary"));
      } catch (err) {
        send_.disabled = false;
        message(out, err.message, "error");
      }
    });
    return form;
  }

  // A stored UTC time as the station's own wall clock, "MM-DD HH:MM".
  function local(iso) {
    const wall = window.UI.wallClock(ctx.utcOffsetMin, Date.parse(iso)).toISOString();
    return wall.slice(5, 10) + " " + wall.slice(11, 16);
  }

  // What riders said this week, in aggregate; approved notes as text.
  async function summary(id, box) {
    const t = ctx.t;
    let f;
    try {
      f = await window.UI.getJSON(url(id, "quality") + "?days=7");
    } catch (err) {
      return; // offline: the card stands without it
    } finally {
      document.body.dataset.feedback = id; // asked (tests wait for it before leaving)
    }
    const p = f.properties;
    const lines = ctx.kinds.filter((k) => p.reports[k] > 0)
      .map((k) => fmt(t.q_kind, { n: p.reports[k], kind: t["kind_" + k] }));
    if (p.last_checkin) lines.push(fmt(t.q_last, { t: local(p.last_checkin) }));
    box.replaceChildren(...(lines.length ? lines : [t.q_none]).map((s) => el("p", "hint", s)));
    if (p.notes.length) {
      const list = el("ul", "fb-notes");
      list.setAttribute("aria-label", t.q_notes);
      p.notes.forEach((n) => list.append(el("li", null, n.text)));
      box.append(list);
    }
  }

  // The feedback block for station `id`, in `box` (just under the card, which keeps its
  // size: the answer stays on the first screen).
  function attach(box, id) {
    const t = ctx.t;
    box.replaceChildren();
    box.hidden = false;
    const row = el("div", "fb-row");
    const here = el("button", "primary fb-checkin", t.checkin); here.type = "button";
    const problem = el("button", "fb-report", t.report); problem.type = "button";
    row.append(here, problem);
    const out = el("div", "fb-out"); out.setAttribute("role", "status");
    const sum = el("div", "fb-summary");
    box.append(row, out, sum);
    here.addEventListener("click", async () => {
      here.disabled = true;
      try {
        const result = await send(url(id, "checkins"), { device: device() });
        message(out, thanks(result, "checkin"), result === "queued" ? "queued" : "ok");
        if (result !== "queued") summary(id, sum);
      } catch (err) {
        message(out, err.message, "error");
      } finally {
        here.disabled = false;
      }
    });
    problem.addEventListener("click", () => {
      if (!box.querySelector("form")) box.insertBefore(reportForm(id, out), out);
      box.querySelector("input[name=kind]").focus();
    });
    summary(id, sum);
  }

  function init(options) {
    ctx = options;
    window.addEventListener("online", flush);
    flush();
  }

  return { init, attach, flush, device };
})();
