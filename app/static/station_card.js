// A station's card: name, type, open or closed and the next change, the week's hours as a
// table, address, phone, amenities, seats, distance and minutes, and navigation buttons.
// Every string from the data is set as text, never as HTML.
window.StationCard = (function () {
  "use strict";
  const { el } = window.UI;
  const ICONS = { water: "💧", microwave: "♨️", fridge: "🧊", charging: "🔌", ac: "❄️",
    toilet: "🚻", seating: "🪑", first_aid: "⛑️", wifi: "📶" };
  const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => vars[k]);

  // "999 米", never "1000 米": under 1 km whole metres rounded down, so no unit is crossed.
  function distance(t, m) {
    if (m < 1000) return fmt(t.metres, { d: Math.floor(m) });
    const digits = m < 10000 ? 1 : 0;
    return fmt(t.km, { d: (Math.floor(m / 10 ** (3 - digits)) / 10 ** digits).toFixed(digits) });
  }

  function clock(stamp, at) {
    if (!stamp) return "";
    const [day, time] = stamp.split("T");
    return day === (at || "").split("T")[0] ? time : day.slice(5) + " " + time;
  }

  function statusLine(t, p, at) {
    if (p.open) return t.open + " · " + (p.closes_at ? fmt(t.closes, { t: clock(p.closes_at, at) }) : t.always);
    return t.closed + (p.opens_at ? " · " + fmt(t.opens, { t: clock(p.opens_at, at) }) : "");
  }

  function navButton(href, label) {
    const a = el("a", "btn", label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }

  function navRow(t, nav) {
    const row = el("div", "r-nav");
    row.append(navButton(nav.amap, t.nav_amap_ride), navButton(nav.amap_walk, t.nav_amap_walk),
      navButton(nav.baidu, t.nav_baidu_ride), navButton(nav.baidu_walk, t.nav_baidu_walk));
    return row;
  }

  function amenityChips(t, list) {
    const amen = el("div", "r-amen");
    (list || []).forEach((a) => {
      const chip = el("span", "amenity");
      chip.dataset.amenity = a;
      chip.append(el("span", "icon", ICONS[a] || "•"), el("span", null, t[a] || a));
      amen.append(chip);
    });
    return amen;
  }

  // The week as rows Monday..Sunday, today marked; spans joined, "closed" for none.
  function hoursTable(t, hours, todayIndex) {
    const days = t.days.split(",");
    const table = el("table", "hours");
    const body = el("tbody");
    hours.week.forEach((spans, d) => {
      const tr = el("tr", d === todayIndex ? "today" : null);
      tr.append(el("th", null, days[d]),
        el("td", null, spans.length ? spans.map((s) => s[0] + "–" + s[1]).join(", ") : t.hours_off));
      body.append(tr);
    });
    if (hours.ph) {
      const tr = el("tr", "ph");
      tr.append(el("th", null, t.hours_ph), el("td", null, hours.ph === "off" ? t.hours_off : hours.ph));
      body.append(tr);
    }
    table.append(body);
    return table;
  }

  // The list entry for one result (a compact card that opens the full one).
  function listItem(t, f, at, colours) {
    const p = f.properties;
    const li = el("li", "result");
    li.dataset.id = p.id;
    li.dataset.type = p.type;
    const head = el("button", "r-head");
    head.type = "button";
    const dot = el("span", "dot" + (p.open ? "" : " hollow"));
    dot.style.setProperty("--c", colours[p.type] || "#555");
    head.append(dot, el("span", "r-name", p.name), el("span", "r-dist", distance(t, p.distance_m)));
    li.append(head,
      el("div", "r-meta", [t[p.type] || p.type, p.address].filter(Boolean).join(" · ")),
      el("div", "r-status " + (p.open ? "open" : "closed"), statusLine(t, p, at)));
    return li;
  }

  // The full card. `p` holds station fields and, when known, distance and navigation.
  function render(card, t, p, ctx) {
    card.replaceChildren();
    card.dataset.id = p.id;
    const head = el("div", "r-head");
    const dot = el("span", "dot" + (p.open ? "" : " hollow"));
    dot.style.setProperty("--c", ctx.colours[p.type] || "#555");
    const title = el("h3", "r-name", p.name);
    title.id = "card-title";
    head.append(dot, title);
    if (p.distance_m !== undefined) head.append(el("span", "r-dist", distance(t, p.distance_m)));
    card.setAttribute("aria-labelledby", "card-title");
    const meta = [t[p.type] || p.type, p.district];
    if (p.walk_min !== undefined) {
      meta.push(fmt(t.walk, { m: Math.round(p.walk_min) }), fmt(t.ebike, { m: Math.round(p.ebike_min) }));
    }
    card.append(head, el("div", "r-meta", meta.filter(Boolean).join(" · ")),
      el("div", "r-status " + (p.open ? "open" : "closed"), statusLine(t, p, ctx.at)));
    if (p.nav) card.append(navRow(t, p.nav));
    const info = el("dl", "facts");
    const fact = (label, value) => { info.append(el("dt", null, label)); const dd = el("dd"); dd.append(value); info.append(dd); };
    if (p.address) fact(t.address, p.address);
    if (p.phone) {
      const a = el("a", "tel", p.phone);
      a.href = "tel:" + String(p.phone).replace(/[^0-9+]/g, "");
      fact(t.phone, a);
    }
    if (p.capacity) fact(t.capacity, String(p.capacity));
    card.append(info, amenityChips(t, p.amenities));
    if (ctx.hours) {
      const det = el("details", "hours-box");
      const sum = el("summary", null, t.hours);
      det.append(sum, hoursTable(t, ctx.hours, ctx.today), el("p", "hint raw", t.hours_raw + ": " + p.opening_hours));
      card.append(det);
    }
    card.hidden = false;
  }

  return { render, listItem, distance, statusLine, fmt };
})();
