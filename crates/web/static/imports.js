// Bulk imports: each section's file goes as it is (the server detects UTF-8 or GBK) to its
// import API, with the section's fields as the query; the upload's progress is shown, then the
// summary (rows, stored, unchanged, stored with a warning, refused), the refused rows and the
// warnings by line, and the same report to download as a CSV file Excel opens (UTF-8 with a BOM).
(function () {
  var root = document.getElementById("imports");
  if (!root) return;
  var text = JSON.parse(root.getAttribute("data-text"));
  var template = document.getElementById("import-result");
  var SHOWN = 500;

  function refusal(problem) {
    var t = problem && problem.kind && text[problem.kind];
    if (!t) return (problem && problem.detail) || text.failed;
    var args = problem.args || {};
    return t.replace(/\{(\w+)\}/g, function (_, n) { return args[n] === undefined ? "" : String(args[n]); });
  }
  // A refused row or warning in the page's words: what is wrong, then what the import did
  // instead; the API's English when the page has no words for it.
  function rowReason(r) {
    var own = r.refusal && text[r.refusal.kind] ? refusal(r.refusal) : null;
    if (!own) return r.reason;
    return r.then && text[r.then.kind] ? own + " " + refusal(r.then) : own;
  }
  // Every import's answer read the same way, whatever the kind of file.
  // A boundary file counts features: stored, and refused each with its number in the file.
  function summary(body) {
    var rows = body.rows || body.features || 0;
    var refused = body.invalid_rows || (body.problems ? body.problems.length : 0);
    var stored = body.inserted !== undefined ? body.inserted : (body.imported !== undefined ? body.imported : (body.stored !== undefined ? body.stored : (body.members || 0)));
    var unchanged = body.unchanged !== undefined ? body.unchanged : Math.max(0, rows - stored - refused);
    // A row that corrected a registered person, or differs from one, is a row with a warning too.
    var warned = (body.warned_rows || 0) + (body.corrected_rows || 0) + (body.kept_rows || 0);
    return { rows: rows, stored: stored, unchanged: unchanged, warned: warned, refused: refused };
  }
  function csvCell(v) {
    v = String(v);
    return /[",\r\n]/.test(v) ? "\"" + v.replace(/"/g, "\"\"") + "\"" : v;
  }

  Array.prototype.forEach.call(root.querySelectorAll("section.import"), function (section) {
    var form = section.querySelector("form");
    section.appendChild(template.content.cloneNode(true));
    var bar = section.querySelector("progress");
    var box = section.querySelector(".import-message");
    var table = section.querySelector("table.import-rows");
    var download = section.querySelector(".import-download");
    function say(msg, bad) { box.textContent = msg; box.className = "import-message " + (bad ? "error" : "note"); }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var file = form.querySelector("input[type=file]").files[0];
      if (!file) { say(text.choose, true); return; }
      var params = [];
      // A field the address names ({warehouse}) goes into it; the others into the query.
      var url = section.getAttribute("data-url");
      Array.prototype.forEach.call(form.querySelectorAll("input:not([type=file]), select"), function (input) {
        var value = input.value.trim();
        var slot = "{" + input.name + "}";
        if (url.indexOf(slot) >= 0) { url = url.replace(slot, encodeURIComponent(value)); return; }
        if (value) params.push(encodeURIComponent(input.name) + "=" + encodeURIComponent(value));
      });
      url += params.length ? "?" + params.join("&") : "";
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("content-type", section.getAttribute("data-type") || "text/csv");
      bar.hidden = false;
      bar.value = 0;
      say(text.sending.replace("{file}", file.name), false);
      xhr.upload.onprogress = function (p) {
        if (p.lengthComputable) bar.value = Math.round(p.loaded * 100 / p.total);
      };
      xhr.upload.onload = function () { bar.value = 100; say(text.storing.replace("{file}", file.name), false); };
      xhr.onerror = function () { bar.hidden = true; say(text.offline, true); };
      xhr.onload = function () {
        bar.hidden = true;
        var body;
        try { body = JSON.parse(xhr.responseText); } catch (err) { say(text.failed, true); return; }
        if (xhr.status !== 200) { say(refusal(body), true); return; }
        var s = summary(body);
        Object.keys(s).forEach(function (k) { section.querySelector("[data-count=" + k + "]").textContent = s[k]; });
        section.querySelector(".import-summary").hidden = false;
        var rows = (body.errors || []).map(function (r) { return [r.line, text.refused, r.field, rowReason(r)]; })
          .concat((body.warnings || []).map(function (r) { return [r.line, text.warning, r.field, rowReason(r)]; }))
          // A boundary file's problem names its feature and code; a manifest's its line and field.
          .concat((body.problems || []).map(function (r) {
            return [r.line !== undefined ? r.line : r.feature, text.refused, r.field !== undefined ? r.field : r.code, rowReason(r)];
          }))
          .sort(function (a, b) { return a[0] - b[0]; });
        var tbody = table.querySelector("tbody");
        tbody.innerHTML = "";
        rows.slice(0, SHOWN).forEach(function (r) {
          var tr = document.createElement("tr");
          [r[0], r[1], (r[2] && text["field." + r[2]]) || r[2] || "", r[3]].forEach(function (v, i) {
            var td = document.createElement("td");
            if (i === 0) td.className = "num";
            td.textContent = v;
            tr.appendChild(td);
          });
          tbody.appendChild(tr);
        });
        table.hidden = rows.length === 0;
        var link = download.querySelector("a");
        if (rows.length) {
          var lines = [text.report_header].concat(rows.map(function (r) { return r.map(function (v) { return csvCell(v === null || v === undefined ? "" : v); }).join(","); }));
          var blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
          link.href = URL.createObjectURL(blob);
          link.download = section.getAttribute("data-name") + "-report.csv";
        }
        download.hidden = rows.length === 0;
        var done = text.done.replace("{file}", file.name).replace("{encoding}", body.encoding || "");
        if (rows.length > SHOWN || body.errors_truncated || body.warnings_truncated) done += " " + text.more;
        say(done, false);
      };
      xhr.send(file);
    });
  });
})();
