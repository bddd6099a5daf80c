// Survey charts: data comes from <script type="application/json"> blocks (no inline code).
(function () {
  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function draw() {
    if (!window.Chart) { return; }
    var trend = read("survey-trend");
    var canvas = document.getElementById("trend-chart");
    if (trend && canvas && trend.points.length) {
      new Chart(canvas, {
        type: "line",
        data: {
          labels: trend.points.map(function (p) { return p.week; }),
          datasets: [
            { label: trend.labels.csat, data: trend.points.map(function (p) { return p.csat; }), borderColor: "#0b5cad" },
            { label: trend.labels.nps, data: trend.points.map(function (p) { return p.nps; }), borderColor: "#b54708" }
          ]
        },
        options: { responsive: true, maintainAspectRatio: false, spanGaps: true }
      });
    }
    var steps = read("survey-steps");
    var bars = document.getElementById("steps-chart");
    if (steps && bars && steps.points.length) {
      new Chart(bars, {
        type: "bar",
        data: {
          labels: steps.points.map(function (p) { return p.label; }),
          datasets: [{
            label: steps.label,
            data: steps.points.map(function (p) { return p.mean; }),
            backgroundColor: steps.points.map(function (p) { return p.weak ? "#b42318" : "#0b5cad"; })
          }]
        },
        options: { responsive: true, maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } }
      });
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
