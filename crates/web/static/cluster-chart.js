// Draws a cluster's transmission chain (Apache ECharts graph) from the data-chart attribute:
// cases by generation, left to right, the index case largest, coloured by classification; each
// generation's contacts in the columns just after it (close, then secondary), coloured by degree,
// proposed ones faint. Positions are laid out here, not by a force simulation, so a chain of
// thousands of people stays responsive; the chart pans and zooms.
(function () {
  var el = document.getElementById("chain");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.getAttribute("data-chart"));
  var columns = {};
  data.nodes.forEach(function (n) { (columns[n.column] = columns[n.column] || []).push(n); });
  var tallest = 1;
  Object.keys(columns).forEach(function (c) { tallest = Math.max(tallest, columns[c].length); });
  var step = Math.max(3, Math.min(40, 1200 / tallest));
  var size = Math.max(4, Math.min(22, step * 0.8));
  Object.keys(columns).forEach(function (c) {
    var col = columns[c];
    col.forEach(function (n, i) {
      n.x = Number(c) * 60;
      n.y = (i - (col.length - 1) / 2) * step;
      n.symbolSize = n.contact ? Math.max(3, size * 0.5) : (n.index ? size * 1.6 : size);
      n.label = { show: !n.contact && data.nodes.length <= 300 };
      if (n.proposed) n.itemStyle = { opacity: 0.35 };
    });
  });
  data.links.forEach(function (l) {
    if (l.contact) l.lineStyle = { type: "dashed", opacity: 0.25 };
  });
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    tooltip: { formatter: function (p) { return p.dataType === "node" ? p.data.name : ""; } },
    legend: [{ data: data.categories, type: "scroll" }],
    color: ["#c0392b", "#e67e22", "#7f8c8d", "#8e44ad", "#2980b9", "#16a085", "#27ae60", "#95a5a6"],
    series: [{
      type: "graph",
      layout: "none",
      roam: true,
      categories: data.categories.map(function (c) { return { name: c }; }),
      data: data.nodes,
      links: data.links,
      edgeSymbol: ["none", "arrow"],
      edgeSymbolSize: 6,
      lineStyle: { color: "#999", opacity: 0.7 },
      label: { position: "right", fontSize: 11 },
      emphasis: { focus: "adjacency" },
      animation: false
    }]
  });
  el.setAttribute("data-drawn", String(data.nodes.length));
  window.addEventListener("resize", function () { chart.resize(); });
})();
