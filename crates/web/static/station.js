// The sampling station: open a tube by scanning its barcode, scan people's resident ids into
// it, close it. A barcode scanner acts as a keyboard (each scan ends with Enter). Every request
// carries a client id, so sending it twice is harmless; when the network drops, scans wait in a
// queue kept in localStorage and are sent, in order, when the server answers again.
(function () {
  var root = document.getElementById("station");
  if (!root) return;
  var round = root.getAttribute("data-round");
  var site = root.getAttribute("data-site");
  var text = JSON.parse(root.getAttribute("data-text"));
  var queueKey = "cordon-station-queue-" + round + "-" + site;
  var tubeInput = document.getElementById("tube-barcode");
  var personInput = document.getElementById("person-id");
  var tubeLabel = document.getElementById("tube-current");
  var members = document.getElementById("tube-members");
  var messageBox = document.getElementById("station-message");
  var pendingBox = document.getElementById("station-pending");
  var current = localStorage.getItem(queueKey + "-tube") || "";

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function queue() { return JSON.parse(localStorage.getItem(queueKey) || "[]"); }
  function saveQueue(q) {
    localStorage.setItem(queueKey, JSON.stringify(q));
    pendingBox.textContent = q.length ? text.pending.replace("{n}", q.length) : "";
    pendingBox.hidden = q.length === 0;
  }
  function say(msg, bad) {
    messageBox.textContent = msg;
    messageBox.className = bad ? "error" : "note";
  }
  function showTube(t) {
    current = t.barcode;
    localStorage.setItem(queueKey + "-tube", current);
    var size = t.pool.kind === "household" ? text.household : t.pool.size;
    tubeLabel.textContent = t.barcode + (t.retest ? " · " + text.retest : "") + " · " + t.members + "/" + size +
      (t.sealed_at ? " · " + text.sealed : "");
  }
  // Each person once: a second scan of someone already in the tube (answered as a repeat)
  // is said, not listed again.
  function listed(rid) {
    return Array.prototype.some.call(members.children, function (li) { return li.getAttribute("data-rid") === rid; });
  }
  function addMember(label, rid) {
    var li = document.createElement("li");
    li.textContent = label;
    li.setAttribute("data-rid", rid || "");
    members.appendChild(li);
  }

  // Sends one queued request; resolves true when the server answered (even with a refusal).
  function send(item) {
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(item.body)
    }).then(function (res) {
      return res.json().then(function (body) { handle(item, res.status, body); return true; });
    }, function () { return false; });
  }
  function handle(item, status, body) {
    if (status === 200 && item.kind === "open") {
      members.innerHTML = "";
      showTube(body);
      // A tube scanned again: sealed, it takes nobody more; open with people in it, the count
      // says so (those scanned before are not listed on this page).
      if (body.sealed_at) say(text["refused.sealed"].replace("{barcode}", body.barcode), true);
      else if (body.members > 0) say(text.reopened.replace("{barcode}", body.barcode).replace("{n}", body.members), false);
      else say(text.opened.replace("{barcode}", body.barcode), false);
    } else if (status === 200 && item.kind === "scan") {
      showTube(body.tube);
      // A repeat (already in this tube, whichever device or page load scanned them first) is
      // said as such; the person is listed once.
      if (!listed(item.body.resident_id)) addMember(item.label, item.body.resident_id);
      if (body.repeat) say(text["refused.already_in_tube"], true);
      else say(body.after === "sealed" ? text.full : text.scanned, false);
    } else if (status === 200 && item.kind === "close") {
      showTube(body);
      say(text.closed, false);
    } else if ((status === 200 || status === 201) && item.kind === "register") {
      say(text.registered.replace("{name}", body.name), false);
      // Registered: now the scan that found them unknown, into the tube it was meant for.
      if (item.then) submit("scan", item.then.url, { resident_id: item.body.resident_id, client_id: newId() }, item.then.label);
    } else if (item.kind === "register") {
      // Refused (a mistyped phone, say): said, and the form shown again as it was typed, so
      // nothing is lost and nobody is scanned before they are registered.
      say(refusalText(body) || body.detail || text.failed, true);
      askToRegister(item.body.resident_id, item.body);
    } else if (status === 404 && item.kind === "scan" && body.kind === "refused.unknown_resident") {
      askToRegister(body.args.resident_id);
    } else {
      say(refusalText(body) || body.detail || text.failed, true);
      // A tube that would not open: its code back in the box, to be corrected or scanned again.
      if (item.kind === "open" && !tubeInput.value) tubeInput.value = item.label;
    }
  }
  // A refusal in the page's language: the text of its kind, filled from its values.
  function refusalText(problem) {
    var template = problem && problem.kind && text[problem.kind];
    if (!template) return "";
    var args = problem.args || {};
    return template.replace(/\{(\w+)\}/g, function (_, name) { return args[name] === undefined ? "" : String(args[name]); });
  }
  var flushing = false;
  var online = true;
  function flush() {
    if (flushing) return;
    var q = queue();
    if (!q.length) return;
    flushing = true;
    send(q[0]).then(function (answered) {
      flushing = false;
      online = answered;
      if (answered) {
        var rest = queue().slice(1);
        saveQueue(rest);
        if (rest.length) flush();
      }
    });
  }
  function submit(kind, url, body, label, then) {
    var item = { kind: kind, url: url, body: body, label: label, then: then };
    var q = queue();
    q.push(item);
    saveQueue(q);
    if (q.length === 1) {
      send(item).then(function (answered) {
        online = answered;
        if (answered) { saveQueue(queue().slice(1)); flush(); }
        else say(text.offline, true);
      });
    } else if (!online) {
      say(text.offline, true);
    }
  }

  document.getElementById("open-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var code = tubeInput.value.trim();
    if (!code) return;
    var group = document.getElementById("tube-group").value;
    submit("open", "/api/v1/rounds/" + round + "/tubes", { barcode: code, site_id: Number(site), group: group, client_id: newId() }, code);
    tubeInput.value = "";
    personInput.focus();
  });
  document.getElementById("scan-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var rid = personInput.value.trim().toUpperCase();
    if (!current) { say(text.no_tube, true); return; }
    if (!rid) { say(text.no_id, true); personInput.focus(); return; }
    submit("scan", "/api/v1/rounds/" + round + "/tubes/" + current + "/samples", { resident_id: rid, client_id: newId() },
      rid.slice(0, 4) + "**********" + rid.slice(-4));
    personInput.value = "";
    personInput.focus();
  });
  // A resident the register does not know: the sampler registers them with the minimum fields,
  // then the same scan is sent again. Both go through the queue, so they survive a dropped network.
  var registerForm = document.getElementById("register-form");
  function askToRegister(rid, typed) {
    if (typed) {
      document.getElementById("register-name").value = typed.name || "";
      document.getElementById("register-phone").value = typed.phone || "";
      document.getElementById("register-area").value = typed.area_code;
      document.getElementById("register-address").value = typed.address || "";
    } else {
      say(text.unknown.replace("{id}", rid.slice(0, 4) + "**********" + rid.slice(-4)), true);
    }
    document.getElementById("register-rid").value = rid;
    registerForm.hidden = false;
    document.getElementById("register-name").focus();
  }
  registerForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var rid = document.getElementById("register-rid").value;
    var name = document.getElementById("register-name").value.trim();
    if (!rid || !name) return;
    // The scan follows once the register has them (see handle), into the tube open now.
    var then = current ? { url: "/api/v1/rounds/" + round + "/tubes/" + current + "/samples",
      label: name + " " + rid.slice(0, 4) + "**********" + rid.slice(-4) } : null;
    submit("register", "/api/v1/persons", {
      resident_id: rid,
      name: name,
      phone: document.getElementById("register-phone").value.trim() || null,
      area_code: document.getElementById("register-area").value,
      address: document.getElementById("register-address").value.trim() || null
    }, name, then);
    registerForm.reset();
    registerForm.hidden = true;
    personInput.focus();
  });
  document.getElementById("register-cancel").addEventListener("click", function () {
    registerForm.reset();
    registerForm.hidden = true;
    personInput.focus();
  });
  document.getElementById("close-tube").addEventListener("click", function () {
    if (!current) return;
    submit("close", "/api/v1/rounds/" + round + "/tubes/" + current + "/close", {}, current);
  });
  window.addEventListener("online", flush);
  setInterval(flush, 2000);
  saveQueue(queue());
  if (current) tubeLabel.textContent = current;
  tubeInput.focus();
})();
