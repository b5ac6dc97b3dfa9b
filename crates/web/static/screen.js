// The headquarters' big screen: draws what /api/v1/screen says with ECharts, and asks again
// every 30 seconds. The first data and the labels come in the page's data attributes.
(function () {
  var root = document.getElementById("screen");
  if (!root || typeof echarts === "undefined") return;
  var L = JSON.parse(root.getAttribute("data-labels"));
  var data = JSON.parse(root.getAttribute("data-screen"));
  var by = "report";
  var TEXT = "#d8e2f0", GRID = "#2a3a55";
  var COLOURS = { in_quarantine: "#4fc3f7", in_control: "#ffb74d", community: "#ef5350", imported: "#9575cd" };
  var charts = {};
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    return charts[id];
  }
  function axis(extra) {
    var a = { axisLine: { lineStyle: { color: GRID } }, axisLabel: { color: TEXT }, splitLine: { lineStyle: { color: GRID } } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var TILES = ["new_confirmed_local", "new_asymptomatic_local", "new_local_community", "current_confirmed", "close_observed", "tested_people"];

  function draw() {
    var f = data.last_24h;
    document.getElementById("screen-updated").textContent = L.updated + " " + data.updated;
    var tiles = document.getElementById("tiles");
    tiles.textContent = "";
    TILES.forEach(function (k) {
      var t = el("div", "tile" + (k === "new_local_community" && f[k] > 0 ? " alarm" : ""));
      t.setAttribute("data-field", k);
      t.appendChild(el("b", "num", String(f[k])));
      t.appendChild(el("span", "", L["field." + k]));
      tiles.appendChild(t);
    });
    tiles.appendChild(el("p", "note", L.last_24h));

    var c = by === "report" ? data.curve_by_report : data.curve_by_onset;
    chart("chart-curve").setOption({
      textStyle: { color: TEXT }, animation: false,
      legend: { textStyle: { color: TEXT }, top: 0 },
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 36, bottom: 32 },
      xAxis: axis({ type: "category", data: c.days.map(function (d) { return d.slice(5); }) }),
      yAxis: axis({ type: "value", minInterval: 1 }),
      series: ["in_quarantine", "in_control", "community", "imported"].map(function (g) {
        return { name: L["group." + g], type: "bar", stack: "all", data: c.series[g], itemStyle: { color: COLOURS[g] } };
      })
    }, true);

    var rt = data.rt;
    var rtNow = document.getElementById("rt-now");
    if (rt.length) {
      var last = rt[rt.length - 1];
      rtNow.textContent = "Rt " + last.mean.toFixed(2) + "（95% " + last.lower.toFixed(2) + "–" + last.upper.toFixed(2) + "）";
      rtNow.className = "big" + (last.lower > 1 ? " alarm" : "");
    } else {
      rtNow.textContent = L.rt_none;
      rtNow.className = "big muted";
    }
    chart("chart-rt").setOption({
      textStyle: { color: TEXT }, animation: false,
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: axis({ type: "category", data: rt.map(function (p) { return p.date.slice(5); }) }),
      yAxis: axis({ type: "value", min: 0 }),
      series: [
        { name: "lower", type: "line", stack: "band", data: rt.map(function (p) { return p.lower; }), lineStyle: { opacity: 0 }, symbol: "none" },
        { name: "95%", type: "line", stack: "band", data: rt.map(function (p) { return p.upper - p.lower; }), lineStyle: { opacity: 0 }, areaStyle: { color: "rgba(79,195,247,0.25)" }, symbol: "none" },
        { name: "Rt", type: "line", data: rt.map(function (p) { return p.mean; }), itemStyle: { color: "#4fc3f7" },
          markLine: { silent: true, symbol: "none", data: [{ yAxis: 1 }], lineStyle: { color: "#ef5350", type: "dashed" } } }
      ]
    }, true);
    var g = data.growth;
    document.getElementById("growth").textContent = g
      ? L.growth + " " + (g.rate * 100).toFixed(1) + "%/" + L.days + "；" + (g.rate >= 0 ? L.doubling : L.halving) + " " + (g.doubling_days === null ? "—" : g.doubling_days.toFixed(1)) + " " + L.days
      : L.growth_none;

    var r = data.round;
    var done = r ? r.sampled + r.exempted : 0;
    chart("chart-round").setOption({
      textStyle: { color: TEXT }, animation: false,
      title: { text: r ? r.name : L.round_none, left: "center", bottom: 0, textStyle: { color: TEXT, fontSize: 16 } },
      series: [{ type: "gauge", min: 0, max: 100, progress: { show: true }, axisLabel: { color: TEXT }, detail: { formatter: "{value}%", color: TEXT, offsetCenter: [0, "75%"], fontSize: 22 },
        data: [{ value: r && r.expected > 0 ? Math.round(done * 1000 / r.expected) / 10 : 0 }] }]
    }, true);

    chart("chart-beds").setOption({
      textStyle: { color: TEXT }, animation: false,
      legend: { textStyle: { color: TEXT }, bottom: 0 },
      title: { show: f.beds_used + f.beds_free === 0, text: "0", left: "center", top: "middle", textStyle: { color: TEXT, fontSize: 28 } },
      series: [{ type: "pie", radius: ["40%", "62%"], stillShowZeroSum: false, label: { show: f.beds_used + f.beds_free > 0, color: TEXT, formatter: "{b}\n{c}", overflow: "none" }, labelLine: { show: f.beds_used + f.beds_free > 0, length: 8, length2: 6 },
        data: [{ name: L.used, value: f.beds_used, itemStyle: { color: "#ef5350" } }, { name: L.free, value: f.beds_free, itemStyle: { color: "#66bb6a" } }] }]
    }, true);

    chart("chart-zones").setOption({
      textStyle: { color: TEXT }, animation: false,
      grid: { left: 80, right: 24, top: 8, bottom: 24 },
      xAxis: axis({ type: "value", minInterval: 1 }),
      yAxis: axis({ type: "category", data: [L["field.zones_precaution"], L["field.zones_controlled"], L["field.zones_sealed"]] }),
      series: [{ type: "bar", label: { show: true, color: TEXT, position: "right" },
        data: [{ value: f.zones_precaution, itemStyle: { color: "#f9d648" } }, { value: f.zones_controlled, itemStyle: { color: "#ef6c00" } }, { value: f.zones_sealed, itemStyle: { color: "#c62828" } }] }]
    }, true);

    document.getElementById("transfers").textContent = L.transfers + " " + L.on_road + " " + data.transfers_on_road + " · " + L.late + " " + data.transfers_late;
    var list = document.getElementById("overdue");
    list.textContent = "";
    if (!data.overdue.length) list.appendChild(el("li", "muted", L.clocks_none));
    data.overdue.forEach(function (c) {
      var li = el("li", "alarm");
      li.setAttribute("data-clock", c.clock);
      li.appendChild(el("span", "", L["clock." + c.clock]));
      li.appendChild(el("b", "", " " + c.overdue));
      list.appendChild(li);
    });
  }

  function pick(which) {
    by = which;
    document.getElementById("by-report").className = which === "report" ? "on" : "";
    document.getElementById("by-onset").className = which === "onset" ? "on" : "";
    draw();
  }
  document.getElementById("by-report").addEventListener("click", function () { pick("report"); });
  document.getElementById("by-onset").addEventListener("click", function () { pick("onset"); });
  window.addEventListener("resize", function () { for (var k in charts) charts[k].resize(); });
  draw();
  setInterval(function () {
    fetch("/api/v1/screen", { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) { data = d; root.classList.remove("stale"); draw(); })
      .catch(function () { root.classList.add("stale"); });
  }, 30000);
})();
