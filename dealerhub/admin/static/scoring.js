// Distribution chart for the scoring pages: per metric a p10–p90 band, the p25–p75 box,
// the median, and (on a scorecard) the dealer's own value. Data comes from the JSON block.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("distribution-chart");
    var source = document.getElementById("chart-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var rows = data.metrics.filter(function (m) { return m.dist; });
    if (!rows.length) { canvas.parentNode.replaceWith(document.createTextNode("—")); return; }
    // Each metric on its own scale: positions are shown as 0–100 % of its p10–p90 span.
    function pos(m, v) {
      var lo = m.dist.p10, hi = m.dist.p90, span = hi - lo || 1;
      return Math.max(-10, Math.min(110, 100 * (v - lo) / span));
    }
    function fmt(m, v) { return v === null ? "—" : (v * m.scale).toFixed(m.scale === 100 ? 1 : 0); }
    canvas.parentNode.style.height = (rows.length * 30 + 40) + "px";
    var labels = rows.map(function (m) { return m.name; });
    var datasets = [
      { label: "p10–p90", data: rows.map(function () { return [0, 100]; }),
        backgroundColor: "rgba(148,163,184,.25)", barPercentage: .9, grouped: false },
      { label: "p25–p75", data: rows.map(function (m) { return [pos(m, m.dist.p25), pos(m, m.dist.p75)]; }),
        backgroundColor: "rgba(37,99,235,.35)", barPercentage: .55, grouped: false },
      { type: "scatter", label: "median", data: rows.map(function (m, i) { return { x: pos(m, m.dist.p50), y: labels[i] }; }),
        pointStyle: "line", pointRadius: 9, borderColor: "#1e3a8a", borderWidth: 3 }
    ];
    if (rows.some(function (m) { return m.value !== null; })) {
      datasets.push({ type: "scatter", label: "●", data: rows.filter(function (m) { return m.value !== null; })
        .map(function (m) { return { x: pos(m, m.value), y: m.name }; }),
        pointRadius: 6, backgroundColor: "#dc2626" });
    }
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: "y", animation: false, responsive: true, maintainAspectRatio: false,
        scales: { x: { min: -10, max: 110, ticks: { display: false }, grid: { display: false } },
                  y: { type: "category", labels: labels } },
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) {
          var m = rows[ctx.dataIndex] || rows.find(function (r) { return r.name === ctx.raw.y; });
          return "p10 " + fmt(m, m.dist.p10) + " · p50 " + fmt(m, m.dist.p50) + " · p90 " + fmt(m, m.dist.p90)
            + (m.value !== null ? " · " + fmt(m, m.value) : "");
        } } } }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
