"use strict";
/* Draws the charts from the embedded data and runs the trade table's filters. */
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const percent = (v) => `${(v * 100).toFixed(Math.abs(v) < 0.1 ? 2 : 1)}%`;
  const money = (v) => v.toLocaleString("en-US", { maximumFractionDigits: 0 });
  const ratio = (v) => v.toFixed(2);
  const byId = (id) => document.getElementById(id);

  const equity = [{ name: "strategy", values: data.nav, color: "#2563eb" }];
  if (data.benchmark) equity.push({ name: data.benchmark_name, values: data.benchmark, color: "#9ca3af" });
  Charts.lineChart(byId("chart-equity"), { dates: data.dates, series: equity, format: money });
  Charts.lineChart(byId("chart-drawdown"), {
    dates: data.dates, format: percent, baseline: 0, height: 220,
    series: [{ name: "drawdown", values: data.drawdown, color: "#1a9a4a", fill: true }],
  });
  Charts.heatmap(byId("chart-monthly"), {
    rows: data.monthly.years, values: data.monthly.returns, format: percent,
    columns: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
  });
  Charts.barChart(byId("chart-yearly"), { labels: data.yearly.years, values: data.yearly.returns, format: percent });
  Charts.lineChart(byId("chart-sharpe"), {
    dates: data.dates, format: ratio, baseline: 0, height: 220,
    series: [{ name: `${data.rolling_window}-day Sharpe`, values: data.rolling_sharpe, color: "#7c3aed" }],
  });

  const trades = data.trades;
  const filters = { code: byId("filter-code"), side: byId("filter-side"), from: byId("filter-from"), to: byId("filter-to") };
  const body = document.querySelector("#trades tbody");
  const count = byId("trade-count");
  const fixed = (v, digits) => v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (data.dates.length) {
    for (const input of [filters.from, filters.to]) {
      input.min = data.dates[0];
      input.max = data.dates[data.dates.length - 1];
    }
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function render() {
    const needle = filters.code.value.trim().toUpperCase();
    const side = filters.side.value;
    const from = filters.from.value;
    const to = filters.to.value;
    const rows = document.createDocumentFragment();
    let shown = 0;
    for (let i = trades.day.length - 1; i >= 0; i--) {
      const date = data.dates[trades.day[i]];
      const code = data.codes[trades.code[i]];
      const qty = trades.qty[i];
      const kind = qty > 0 ? "buy" : "sell";
      if ((needle && !code.toUpperCase().includes(needle)) || (side && side !== kind)) continue;
      if ((from && date < from) || (to && date > to)) continue;
      shown += 1;
      const row = document.createElement("tr");
      row.dataset.code = code;
      row.dataset.side = kind;
      row.dataset.date = date;
      cell(row, date);
      cell(row, code);
      cell(row, kind, kind);
      cell(row, Math.abs(qty).toLocaleString("en-US"));
      cell(row, fixed(trades.price[i], 3));
      cell(row, fixed(trades.value[i], 2));
      cell(row, fixed(trades.commission[i], 2));
      cell(row, fixed(trades.stamp_duty[i], 2));
      cell(row, fixed(trades.transfer_fee[i], 2));
      cell(row, fixed(trades.slippage[i], 2));
      rows.appendChild(row);
    }
    body.replaceChildren(rows);
    count.textContent = `${shown.toLocaleString("en-US")} of ${trades.shown.toLocaleString("en-US")} fills shown`;
  }

  for (const input of Object.values(filters)) {
    input.addEventListener("input", render);
    input.addEventListener("change", render);
  }
  byId("trade-filters").addEventListener("submit", (event) => event.preventDefault());
  render();
})();
