// The coverage dashboard (Apache ECharts), drawn from the data-chart attribute the server
// renders: share of residents sampled per hour against the 100 % target, tubes by stage, and
// lab turnaround against the 12-hour target. Also fills the progress bars and prints the
// missing list. No inline script: the page's CSP forbids it.
(function () {
  var bars = document.querySelectorAll(".bar .fill");
  for (var i = 0; i < bars.length; i++) bars[i].style.width = bars[i].getAttribute("data-done") + "%";
  var print = document.getElementById("print-list");
  if (print) print.addEventListener("click", function () { window.print(); });

  var root = document.getElementById("coverage-charts");
  if (!root || typeof echarts === "undefined") return;
  var data = JSON.parse(root.getAttribute("data-chart"));
  var charts = [];
  function draw(id, option) {
    var el = document.getElementById(id);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    option.animation = false;
    chart.setOption(option);
    charts.push(chart);
  }
  var p = data.progress;
  var lines = p.series.map(function (s) { return { name: s.name, type: "line", data: s.data, showSymbol: p.hours.length < 30 }; });
  if (lines.length) {
    lines[0].markLine = { silent: true, symbol: "none", label: { formatter: p.target, position: "insideEndTop" }, data: [{ yAxis: 100 }] };
  }
  draw("chart-progress", {
    title: { text: p.title, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    legend: { type: "scroll", bottom: 0 },
    grid: { left: 50, right: 20, top: 40, bottom: 60 },
    xAxis: { type: "category", data: p.hours },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: lines
  });
  var s = data.stages;
  draw("chart-stages", {
    title: { text: s.title, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    xAxis: { type: "category", data: s.names, axisLabel: { interval: 0, fontSize: 11, width: 52, overflow: "break" } },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: s.values, itemStyle: { color: "#2c7fb8" } }]
  });
  var t = data.turnaround;
  draw("chart-turnaround", {
    title: { text: t.title, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    legend: { bottom: 0, data: ["P50", "P90"] },
    grid: { left: 60, right: 20, top: 40, bottom: 60 },
    xAxis: { type: "category", data: t.names, axisLabel: { interval: 0, width: 84, overflow: "break", fontSize: 11 } },
    yAxis: { type: "value" },
    series: [
      { name: "P50", type: "bar", data: t.p50, itemStyle: { color: "#41ab5d" } },
      { name: "P90", type: "bar", data: t.p90, itemStyle: { color: "#c0392b" },
        markLine: { silent: true, symbol: "none", data: [{ yAxis: t.target }] } }
    ]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
