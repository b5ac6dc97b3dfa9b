// Draws a cluster's transmission chain (Apache ECharts graph) from the data-chart attribute:
// cases by generation, left to right, the index case largest, coloured by classification; each
// generation's contacts in the columns just after it (close, then secondary), coloured by degree,
// proposed ones faint. Positions are laid out here, not by a force simulation, so a chain of
// thousands of people stays responsive; the chart pans and zooms.
(function () {
  var el = document.getElementById("chain");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.getAttribute("data-chart"));
  // Each column (a generation's cases, then its close and its secondary contacts) is cut into
  // sub-columns of at most ROWS nodes, so a generation of thousands forms a block, not a line.
  var ROWS = 40, GAP = 14, SPACE = 70;
  var columns = {};
  data.nodes.forEach(function (n) { (columns[n.column] = columns[n.column] || []).push(n); });
  var x = 0;
  Object.keys(columns).map(Number).sort(function (a, b) { return a - b; }).forEach(function (c) {
    var col = columns[c];
    var rows = Math.min(ROWS, col.length);
    col.forEach(function (n, i) {
      n.x = x + Math.floor(i / ROWS) * GAP;
      n.y = ((i % ROWS) - (rows - 1) / 2) * GAP;
      n.symbolSize = n.contact ? 6 : (n.index ? 26 : 16);
      n.label = { show: !n.contact && data.nodes.length <= 300 };
      if (n.proposed) n.itemStyle = { opacity: 0.35 };
    });
    x += Math.ceil(col.length / ROWS) * GAP + SPACE;
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
