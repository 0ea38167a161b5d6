// Small SVG line charts of a share (0-1) against a count: the hourly coverage curve and the
// marginal-gain curve of a plan. Labels are numbers only, set as text.
window.Charts = (function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const W = 360, H = 170, L0 = 34, R0 = 8, T0 = 10, B0 = 24;
  const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %");

  function node(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, String(v)));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // points: [{x, y, label}]; opts: {xMax, xTicks: [[x, text]], mark: x to highlight,
  // dots: draw a dot per point, compare: [{x, y}] drawn dashed behind (a "before")}.
  // Sets data-points on the svg.
  function shareLine(svg, points, opts) {
    const xMax = Math.max(1, opts.xMax);
    const x = (v) => L0 + (v / xMax) * (W - L0 - R0);
    const y = (s) => T0 + (1 - s) * (H - T0 - B0);
    svg.replaceChildren();
    [0, 0.25, 0.5, 0.75, 1].forEach((s) => {
      svg.append(node("line", { x1: L0, x2: W - R0, y1: y(s), y2: y(s), stroke: "#d9e2ec" }));
      svg.append(node("text", { x: L0 - 4, y: y(s) + 4, "text-anchor": "end", "font-size": 10,
        fill: "#52606d" }, (100 * s) + "%"));
    });
    opts.xTicks.forEach(([v, text]) => svg.append(node("text", { x: x(v), y: H - 6,
      "text-anchor": "middle", "font-size": 10, fill: "#52606d" }, text)));
    if (opts.compare) {
      svg.append(node("polyline", { points: opts.compare.map((p) => x(p.x) + "," + y(p.y || 0))
        .join(" "), fill: "none", stroke: "#9aa5b1", "stroke-width": 2,
      "stroke-dasharray": "5 4", class: "compare" }));
    }
    svg.append(node("polyline", { points: points.map((p) => x(p.x) + "," + y(p.y || 0))
      .join(" "), fill: "none", stroke: "#1b4965", "stroke-width": 2.5 }));
    points.forEach((p) => {
      if (!opts.dots && p.x !== opts.mark) return;
      const c = node("circle", { cx: x(p.x), cy: y(p.y || 0), r: p.x === opts.mark ? 4 : 3,
        fill: p.x === opts.mark ? "#e8590c" : "#1b4965", "data-x": p.x, "data-share": p.y });
      c.append(node("title", {}, p.label + " " + pct(p.y)));
      svg.append(c);
    });
    svg.dataset.points = String(points.length);
  }

  return { shareLine, pct };
})();
