// Draws a cluster's transmission chain (Apache ECharts graph) from the data-chart attribute:
// cases by generation, left to right, the index case largest, coloured by classification; each
// generation's contacts in the columns just after it (close, then secondary), coloured by degree,
// proposed ones faint. Positions are laid out here, not by a force simulation, so a chain of
// thousands of people stays responsive; the chart pans and zooms.
//
// With many contacts the cases and their chain come first: each case's contacts are folded into
// one dot per kind (close, secondary, …) with their number, until the person asks for all of them.
(function () {
  var el = document.getElementById("chain");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.getAttribute("data-chart"));
  var toggle = document.getElementById("chain-toggle");
  var note = document.getElementById("chain-note");
  var FOLD_AT = 60;
  // Each column (a generation's cases, then its close and its secondary contacts) is cut into
  // sub-columns of at most ROWS nodes, so a generation of thousands forms a block, not a line.
  var ROWS = 40, GAP = 14, SPACE = 70;
  var cases = data.nodes.filter(function (n) { return !n.contact; });
  var contacts = data.nodes.filter(function (n) { return n.contact; });

  function layout(nodes) {
    var columns = {};
    nodes.forEach(function (n) { (columns[n.column] = columns[n.column] || []).push(n); });
    var x = 0;
    Object.keys(columns).map(Number).sort(function (a, b) { return a - b; }).forEach(function (c) {
      var col = columns[c];
      var rows = Math.min(ROWS, col.length);
      var gap = col.some(function (n) { return n.bundle; }) ? GAP * 2.5 : GAP;
      col.forEach(function (n, i) {
        n.x = x + Math.floor(i / ROWS) * gap;
        // A case's folded contacts sit below the chain, so that a line between two cases
        // never seems to pass through them.
        n.y = ((i % ROWS) - (rows - 1) / 2) * gap + (n.bundle ? 3 * GAP : 0);
      });
      x += Math.ceil(col.length / ROWS) * gap + SPACE;
    });
  }

  // Every node as drawn: contacts one by one, or folded into one dot per case and kind.
  function view(folded) {
    var nodes = cases.map(function (n) {
      return Object.assign({}, n, { symbolSize: n.index ? 26 : 16, label: { show: folded || data.nodes.length <= 300 } });
    });
    var links = data.links.filter(function (l) { return !l.contact; }).map(function (l) { return Object.assign({}, l); });
    if (!folded) {
      contacts.forEach(function (n) {
        var c = Object.assign({}, n, { symbolSize: 6, label: { show: false } });
        if (n.proposed) c.itemStyle = { opacity: 0.35 };
        nodes.push(c);
      });
      data.links.filter(function (l) { return l.contact; }).forEach(function (l) {
        links.push(Object.assign({}, l, { lineStyle: { type: "dashed", opacity: 0.25 } }));
      });
    } else {
      var bundles = {};
      contacts.forEach(function (n) {
        var key = n.case + "-" + n.category;
        var b = bundles[key];
        if (!b) {
          b = bundles[key] = { id: "b" + key, kind: n.name, category: n.category, column: n.column, case: n.case, count: 0, bundle: true, contact: true };
          nodes.push(b);
          links.push({ source: n.case, target: b.id, lineStyle: { type: "dashed", opacity: 0.5 } });
        }
        b.count += 1;
      });
      nodes.forEach(function (b) {
        if (!b.bundle) return;
        b.name = b.kind + " " + b.count;
        b.symbolSize = Math.min(40, 8 + Math.sqrt(b.count) * 3);
        b.label = { show: true };
      });
    }
    layout(nodes);
    return { nodes: nodes, links: links };
  }

  var chart = echarts.init(el, null, { renderer: "canvas" });
  function draw(folded) {
    var v = view(folded);
    chart.setOption({
      tooltip: { formatter: function (p) { return p.dataType === "node" ? p.data.name : ""; } },
      legend: [{ data: data.categories, type: "scroll" }],
      color: ["#c0392b", "#e67e22", "#7f8c8d", "#8e44ad", "#2980b9", "#16a085", "#27ae60", "#95a5a6"],
      series: [{
        type: "graph",
        layout: "none",
        roam: true,
        categories: data.categories.map(function (c) { return { name: c }; }),
        data: v.nodes,
        links: v.links,
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 6,
        lineStyle: { color: "#999", opacity: 0.7 },
        label: { position: "right", fontSize: 11 },
        emphasis: { focus: "adjacency" },
        animation: false
      }]
    }, { replaceMerge: ["series"] });
    el.setAttribute("data-drawn", String(v.nodes.length));
    el.setAttribute("data-folded", folded ? "1" : "0");
    if (contacts.length > FOLD_AT) {
      toggle.hidden = false;
      toggle.textContent = folded ? toggle.getAttribute("data-show").replace("{n}", contacts.length) : toggle.getAttribute("data-fold");
      note.hidden = false;
      note.textContent = folded ? note.getAttribute("data-folded") : note.getAttribute("data-unfolded").replace("{n}", contacts.length);
    }
  }
  var folded = contacts.length > FOLD_AT;
  draw(folded);
  toggle.addEventListener("click", function () { folded = !folded; draw(folded); });
  window.addEventListener("resize", function () { chart.resize(); });
})();
