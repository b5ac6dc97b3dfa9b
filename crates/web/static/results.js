// Lab results upload: the chosen CSV export is sent as it is (UTF-8 or GBK; the server detects
// which) to the results API, and the report — rows, recorded, repeats, and every refused row
// with its line and reason — is shown below the form.
(function () {
  var form = document.getElementById("results-form");
  if (!form) return;
  var text = JSON.parse(form.getAttribute("data-text"));
  var box = document.getElementById("results-message");
  function say(msg, bad) { box.textContent = msg; box.className = bad ? "error" : "note"; }
  function set(id, v) { document.getElementById(id).textContent = v; }
  // A refused row in the page's language: the text of its kind, filled from its values
  // (results named in words); the server's English reason when the kind is not known here.
  function why(outcome) {
    var r = outcome.refusal, template = r && text[r.kind];
    if (!template) return outcome.reason || "";
    return template.replace(/\{(\w+)\}/g, function (_, name) {
      var v = r.args[name] === undefined ? "" : String(r.args[name]);
      return text["result." + v] || v;
    });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var file = document.getElementById("results-file").files[0];
    if (!file) { say(text.choose, true); return; }
    var lab = document.getElementById("results-lab").value;
    say(text.sending, false);
    fetch("/api/v1/results/csv?lab_id=" + encodeURIComponent(lab), {
      method: "POST", credentials: "same-origin", headers: { "content-type": "text/csv" }, body: file
    }).then(function (res) {
      return res.json().then(function (body) {
        if (res.status !== 200) { say(body.detail || text.failed, true); return; }
        set("results-rows", body.rows);
        set("results-recorded", body.recorded);
        set("results-repeats", body.repeats);
        set("results-problems", body.problems.length);
        document.getElementById("results-summary").hidden = false;
        var tbody = document.querySelector("#results-problem-list tbody");
        tbody.innerHTML = "";
        body.problems.forEach(function (p) {
          var tr = document.createElement("tr");
          [String(p.line), p.barcode, why(p.outcome)].forEach(function (v, i) {
            var td = document.createElement("td");
            if (i === 0) td.className = "num";
            td.textContent = v;
            tr.appendChild(td);
          });
          tbody.appendChild(tr);
        });
        document.getElementById("results-problem-list").hidden = body.problems.length === 0;
        say(text.done.replace("{file}", file.name).replace("{encoding}", body.encoding), false);
      });
    }, function () { say(text.offline, true); });
  });
})();
