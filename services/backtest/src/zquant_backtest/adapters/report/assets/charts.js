"use strict";
/* zquant report charts: small SVG line, bar and heatmap charts, no dependencies. Every label goes in through
   textContent, never as markup. */
const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const WIDTH = 960;
  const MARGIN = { top: 22, right: 18, bottom: 26, left: 70 };
  const UP = "#d0352b";
  const DOWN = "#1a9a4a";

  function el(tag, attrs, parent) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (parent) parent.appendChild(node);
    return node;
  }

  function label(parent, x, y, content, cls, anchor) {
    const node = el("text", { x, y, class: cls, "text-anchor": anchor || "start" }, parent);
    node.textContent = content;
    return node;
  }

  function svgIn(container, height) {
    const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "data-chart": container.id });
    container.replaceChildren(svg);
    return svg;
  }

  function extent(arrays) {
    let lo = Infinity, hi = -Infinity;
    for (const values of arrays) for (const v of values) if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return lo <= hi ? [lo, hi] : null;
  }

  function ticks(lo, hi, count) {
    if (lo === hi) { lo -= Math.abs(lo) * 0.05 || 1; hi += Math.abs(hi) * 0.05 || 1; }
    const raw = (hi - lo) / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
    const first = Math.floor(lo / step) * step;
    const last = Math.ceil(hi / step) * step;
    const out = [];
    for (let v = first; v <= last + step / 2; v += step) out.push(Math.abs(v) < step / 1e6 ? 0 : v);
    return out;
  }

  function linear(domainLo, domainHi, rangeLo, rangeHi) {
    const span = domainHi - domainLo || 1;
    return (v) => rangeLo + ((v - domainLo) / span) * (rangeHi - rangeLo);
  }

  function empty(container, message) {
    const svg = svgIn(container, 80);
    label(svg, WIDTH / 2, 44, message, "empty", "middle");
  }

  function yAxis(svg, values, y, format, height) {
    for (const v of values) {
      el("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(v), y2: y(v), class: "gridline" }, svg);
      label(svg, MARGIN.left - 6, y(v) + 4, format(v), "axis", "end");
    }
    el("line", { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: height - MARGIN.bottom, class: "gridline" }, svg);
  }

  function dateAxis(svg, dates, x, height) {
    const byYear = dates.length > 400;
    let previous = "";
    let lastX = -Infinity;
    dates.forEach((date, i) => {
      const key = byYear ? date.slice(0, 4) : date.slice(0, 7);
      if (key === previous) return;
      previous = key;
      if (x(i) - lastX < 48) return;
      lastX = x(i);
      el("line", { x1: x(i), x2: x(i), y1: height - MARGIN.bottom, y2: height - MARGIN.bottom + 4, class: "gridline" }, svg);
      label(svg, x(i), height - MARGIN.bottom + 16, key, "axis", "middle");
    });
  }

  /* Runs of consecutive non-null points, as [[x, y], ...] lists. */
  function runsOf(values, x, y) {
    const runs = [];
    let run = null;
    values.forEach((v, i) => {
      if (v === null) { run = null; return; }
      if (!run) runs.push((run = []));
      run.push([x(i).toFixed(1), y(v).toFixed(1)]);
    });
    return runs;
  }

  function linePath(runs) {
    return runs.map((run) => run.map(([px, py], k) => `${k ? "L" : "M"}${px},${py}`).join("")).join("");
  }

  function areaPath(runs, zero) {
    const base = zero.toFixed(1);
    return runs.map((run) => `M${run[0][0]},${base}` + run.map(([px, py]) => `L${px},${py}`).join("")
      + `L${run[run.length - 1][0]},${base}Z`).join("");
  }

  function legend(svg, series) {
    let at = MARGIN.left;
    for (const s of series) {
      el("rect", { x: at, y: 6, width: 12, height: 4, fill: s.color }, svg);
      const text = label(svg, at + 16, 12, s.name, "legend");
      at += 16 + Math.max(60, s.name.length * 7 + 18);
      text.setAttribute("data-series", s.name);
    }
  }

  function hover(container, svg, dates, series, x, format, height) {
    const tip = document.createElement("div");
    tip.className = "tip";
    container.appendChild(tip);
    const cursor = el("line", { y1: MARGIN.top, y2: height - MARGIN.bottom, stroke: "#9ca3af", visibility: "hidden" }, svg);
    const overlay = el("rect", {
      x: MARGIN.left, y: MARGIN.top, width: WIDTH - MARGIN.left - MARGIN.right,
      height: height - MARGIN.top - MARGIN.bottom, fill: "transparent",
    }, svg);
    overlay.addEventListener("mousemove", (event) => {
      const box = svg.getBoundingClientRect();
      const at = ((event.clientX - box.left) / box.width) * WIDTH;
      const span = WIDTH - MARGIN.left - MARGIN.right;
      const i = Math.max(0, Math.min(dates.length - 1, Math.round(((at - MARGIN.left) / span) * (dates.length - 1))));
      cursor.setAttribute("x1", x(i));
      cursor.setAttribute("x2", x(i));
      cursor.setAttribute("visibility", "visible");
      const parts = series.map((s) => `${s.name} ${s.values[i] === null ? "n/a" : format(s.values[i])}`);
      tip.textContent = `${dates[i]}  ${parts.join("  ")}`;
      tip.style.display = "block";
      tip.style.left = `${Math.min(event.clientX - box.left + 12, box.width - tip.offsetWidth)}px`;
      tip.style.top = "0px";
    });
    overlay.addEventListener("mouseleave", () => {
      tip.style.display = "none";
      cursor.setAttribute("visibility", "hidden");
    });
  }

  /* series: [{name, values (null = gap), color, fill}]; baseline: a value drawn as a reference line. */
  function lineChart(container, { dates, series, format, baseline, height = 280 }) {
    const drawn = extent(series.map((s) => s.values));
    if (!drawn || dates.length < 2) return empty(container, "not enough days to draw this chart");
    const bounds = baseline === undefined ? drawn : [Math.min(drawn[0], baseline), Math.max(drawn[1], baseline)];
    const svg = svgIn(container, height);
    const marks = ticks(bounds[0], bounds[1], 5);
    const x = linear(0, dates.length - 1, MARGIN.left, WIDTH - MARGIN.right);
    const y = linear(marks[0], marks[marks.length - 1], height - MARGIN.bottom, MARGIN.top);
    yAxis(svg, marks, y, format, height);
    dateAxis(svg, dates, x, height);
    if (baseline !== undefined) {
      el("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(baseline), y2: y(baseline), stroke: "#6b7280", "stroke-dasharray": "4 3" }, svg);
    }
    for (const s of series) {
      const runs = runsOf(s.values, x, y);
      if (s.fill) {
        const zero = y(baseline === undefined ? marks[0] : baseline);
        el("path", { d: areaPath(runs, zero), fill: s.color, "fill-opacity": 0.18, stroke: "none" }, svg);
      }
      el("path", { d: linePath(runs), fill: "none", stroke: s.color, "stroke-width": 1.5, "data-series": s.name }, svg);
    }
    legend(svg, series);
    hover(container, svg, dates, series, x, format, height);
  }

  function barChart(container, { labels, values, format, height = 260 }) {
    const bounds = extent([values, [0]]);
    if (!labels.length || !bounds) return empty(container, "no period to draw");
    const svg = svgIn(container, height);
    const marks = ticks(bounds[0], bounds[1], 5);
    const y = linear(marks[0], marks[marks.length - 1], height - MARGIN.bottom, MARGIN.top);
    yAxis(svg, marks, y, format, height);
    const slot = (WIDTH - MARGIN.left - MARGIN.right) / labels.length;
    labels.forEach((name, i) => {
      const v = values[i];
      const left = MARGIN.left + i * slot + slot * 0.15;
      if (v !== null) {
        const top = Math.min(y(v), y(0));
        const bar = el("rect", {
          x: left, y: top, width: slot * 0.7, height: Math.max(Math.abs(y(v) - y(0)), 1), fill: v >= 0 ? UP : DOWN,
        }, svg);
        el("title", {}, bar).textContent = `${name}: ${format(v)}`;
        label(svg, left + slot * 0.35, v >= 0 ? top - 4 : top + Math.abs(y(v) - y(0)) + 12, format(v), "axis", "middle");
      }
      label(svg, left + slot * 0.35, height - MARGIN.bottom + 16, String(name), "axis", "middle");
    });
    el("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0), stroke: "#6b7280" }, svg);
  }

  /* values: rows × columns (null = no value); colour: red up, green down, by |v| over the largest |v|. */
  function heatmap(container, { rows, columns, values, format }) {
    const bounds = extent(values);
    if (!rows.length || !bounds) return empty(container, "no month to draw");
    const cell = 26;
    const height = MARGIN.top + rows.length * cell + 8;
    const svg = svgIn(container, height);
    const left = 56;
    const width = (WIDTH - left - MARGIN.right) / columns.length;
    const scale = Math.max(Math.abs(bounds[0]), Math.abs(bounds[1])) || 1;
    columns.forEach((name, j) => label(svg, left + j * width + width / 2, MARGIN.top - 6, name, "axis", "middle"));
    rows.forEach((row, i) => {
      const top = MARGIN.top + i * cell;
      label(svg, left - 8, top + cell / 2 + 4, String(row), "axis", "end");
      values[i].forEach((v, j) => {
        const strength = v === null ? 0 : 0.12 + 0.88 * Math.min(Math.abs(v) / scale, 1);
        const rect = el("rect", {
          x: left + j * width + 1, y: top + 1, width: width - 2, height: cell - 2, rx: 2,
          fill: v === null ? "#f3f4f6" : v >= 0 ? UP : DOWN, "fill-opacity": v === null ? 1 : strength,
        }, svg);
        if (v === null) return;
        el("title", {}, rect).textContent = `${row}-${columns[j]}: ${format(v)}`;
        const text = label(svg, left + j * width + width / 2, top + cell / 2 + 4, format(v), "axis", "middle");
        if (strength > 0.55) text.style.fill = "#fff";
      });
    });
  }

  return { lineChart, barChart, heatmap };
})();
