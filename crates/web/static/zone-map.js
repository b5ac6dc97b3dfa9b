// Draws the zone map (Apache ECharts): the smallest areas that have outlines filled with the
// colour of the strictest zone over each (striped when only part of the area is in it), the
// larger areas above them as lines; a click on a coloured area opens its zone. The outlines come
// from /api/v1/zones/map as GeoJSON. No inline script: the page's CSP forbids it.
(function () {
  var el = document.getElementById("zone-map");
  if (!el || typeof echarts === "undefined") return;
  var words = JSON.parse(el.getAttribute("data-words"));
  var colours = { sealed: "#c62828", controlled: "#ef6c00", precaution: "#f9d648" };
  var none = "#eceff1";

  // Stripes of a kind's colour on white, for an area only part of which is in the zone.
  function stripes(colour) {
    var c = document.createElement("canvas");
    c.width = c.height = 8;
    var g = c.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, 8, 8);
    g.strokeStyle = colour;
    g.lineWidth = 3;
    g.beginPath();
    g.moveTo(-2, 10); g.lineTo(10, -2);
    g.moveTo(-2, 2); g.lineTo(2, -2);
    g.moveTo(6, 10); g.lineTo(10, 6);
    g.stroke();
    return { image: c, repeat: "repeat" };
  }

  function draw(fc) {
    // An area is filled unless areas inside it have outlines of their own (outlines may come in
    // piecemeal: villages for one township, none yet for another); those are drawn as lines.
    var codes = fc.features.map(function (f) { return f.properties.code; });
    var holdsOutlined = function (f) {
      var c = f.properties.code;
      return codes.some(function (o) { return o.length > c.length && o.indexOf(c) === 0; });
    };
    var fill = fc.features.filter(function (f) { return !holdsOutlined(f); });
    var byCode = {};
    fill.forEach(function (f) { byCode[f.properties.code] = f.properties; });
    var name = "cordon-" + fc.area;
    echarts.registerMap(name, {
      type: "FeatureCollection",
      features: fill.map(function (f) { return { type: "Feature", properties: { name: f.properties.code }, geometry: f.geometry }; })
    });
    var regions = fill.map(function (f) {
      var p = f.properties;
      var colour = p.kind ? colours[p.kind] : none;
      var dark = !p.partly && (p.kind === "sealed" || p.kind === "controlled");
      var area = p.partly ? stripes(colour) : colour;
      // Hovered, an area keeps its zone's colour and gains a dark border.
      return {
        name: p.code, itemStyle: { areaColor: area }, label: { color: dark ? "#fff" : "#263238" },
        emphasis: { itemStyle: { areaColor: area, borderColor: "#263238", borderWidth: 2 } }
      };
    });
    // The larger areas (townships over villages, the county over townships) as outlines.
    var lines = [];
    fc.features.forEach(function (f) {
      if (!holdsOutlined(f)) return;
      var polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
      polys.forEach(function (poly) { lines.push({ coords: poly[0] }); });
    });
    var chart = echarts.init(el, null, { renderer: "canvas" });
    // An area's name, its zone and what a click does (set on the map itself: the map's own
    // tooltip would show the bare code the outline is keyed by).
    var tip = function (params) {
      var p = byCode[params.name];
      if (!p) return "";
      var zone = p.kind ? words[p.kind] + (p.partly ? "（" + words.partly + "）" : "") : words.none;
      return echarts.format.encodeHTML(p.name) + "<br>" + zone + (p.zone_id ? "<br>" + words.open_zone : "");
    };
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: tip },
      geo: {
        map: name,
        roam: true,
        regions: regions,
        tooltip: { show: true, formatter: tip },
        label: { show: fill.length <= 40, formatter: function (params) { return (byCode[params.name] || {}).name || ""; }, fontSize: 11 },
        itemStyle: { areaColor: none, borderColor: "#fff", borderWidth: 0.8 },
        emphasis: {
          label: { show: true, formatter: function (params) { return (byCode[params.name] || {}).name || ""; } },
          itemStyle: { areaColor: "#cfd8dc", borderColor: "#263238", borderWidth: 2 }
        }
      },
      series: [{
        type: "lines", coordinateSystem: "geo", polyline: true, silent: true, data: lines,
        lineStyle: { color: "#37474f", width: 2, opacity: 1 }
      }]
    });
    chart.on("click", function (params) {
      var p = byCode[params.name];
      if (p && p.zone_id) window.location.href = "/zones/" + p.zone_id;
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", String(fill.length));
  }

  fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(draw)
    .catch(function () { el.textContent = words.failed; el.setAttribute("data-drawn", "0"); });
})();
