// Draws the population of each sub-area as a bar chart (Apache ECharts), from the data-chart
// attribute the server renders. No inline script: the page's CSP forbids it.
(function () {
  var el = document.getElementById("population-chart");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.getAttribute("data-chart"));
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    grid: { left: 60, right: 20, top: 30, bottom: 60 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.names, axisLabel: { interval: 0, rotate: data.names.length > 12 ? 45 : 0 } },
    yAxis: { type: "value", name: data.label },
    series: [{ type: "bar", data: data.values, itemStyle: { color: "#c0392b" } }],
    animation: false
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
