// Draws a cluster's transmission chain (Apache ECharts graph) from the data-chart attribute:
// one column per generation, index case leftmost, cases coloured by classification. Positions
// are laid out here, not by a force simulation, so a chain of thousands stays responsive; the
// chart pans and zooms.
(function () {
  var el = document.getElementById("chain");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.getAttribute("data-chart"));
  var columns = {};
  data.nodes.forEach(function (n) { (columns[n.generation] = columns[n.generation] || []).push(n); });
  var tallest = 1;
  Object.keys(columns).forEach(function (g) { tallest = Math.max(tallest, columns[g].length); });
  var step = Math.max(4, Math.min(40, 1200 / tallest));
  var size = Math.max(4, Math.min(22, step * 0.8));
  Object.keys(columns).forEach(function (g) {
    var col = columns[g];
    col.forEach(function (n, i) {
      n.x = Number(g) * 160;
      n.y = (i - (col.length - 1) / 2) * step;
      n.symbolSize = n.index ? size * 1.6 : size;
      n.label = { show: data.nodes.length <= 300 };
    });
  });
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    tooltip: { formatter: function (p) { return p.dataType === "node" ? p.data.name : ""; } },
    legend: [{ data: data.categories }],
    color: ["#c0392b", "#e67e22", "#7f8c8d"],
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
