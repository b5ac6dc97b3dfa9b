// The checkpoint officer's page. Each passage goes to the API with a client id, so sending it
// twice logs it once; the page then shows the decision. When the network drops (or the sign-in
// has lapsed), the passage is kept in a queue in localStorage, the officer is told to check codes
// and papers by hand, and the queue is sent, oldest first, when the server answers again (on
// load, when the browser is back online, and every 20 seconds), each with the time the person
// passed and the time it is sent, both on the phone's clock (the server cancels the clock's
// error). While it waits, the officer says what they did at the booth, having checked by hand
// (let through or turned back): sent with it (it waits for the answer up to ten minutes), the log
// shows where the rules part from it. A
// passage the server refuses (a mistyped number, one kept more than two days) leaves the queue
// for a list shown with its numbers, kept until the officer says it was checked by hand. The
// numbers stay on the phone only so long: sent, a passage leaves it.
(function () {
  var form = document.getElementById("pass-form");
  if (!form) return;
  var checkpoint = form.getAttribute("data-checkpoint");
  var text = JSON.parse(form.getAttribute("data-texts"));
  var note = document.getElementById("offline-note");
  var button = form.querySelector("button[type=submit]");
  var queueKey = "cordon-checkpoint-queue-" + checkpoint;
  var refusedKey = "cordon-checkpoint-refused-" + checkpoint;
  var refusedBox = document.getElementById("offline-refused");
  var url = "/api/v1/checkpoints/" + checkpoint + "/passages";

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function queue() { return JSON.parse(localStorage.getItem(queueKey) || "[]"); }
  function refusedList() { return JSON.parse(localStorage.getItem(refusedKey) || "[]"); }
  // The passages refused after being kept: their numbers, until checked by hand.
  function showRefused() {
    var list = refusedList();
    refusedBox.hidden = !list.length;
    refusedBox.querySelector("span").textContent = list.length
      ? text.refused.replace("{n}", list.length) + "：" + list.map(function (b) { return b.id_number; }).join("、")
      : "";
  }
  refusedBox.querySelector("button").addEventListener("click", function () {
    localStorage.removeItem(refusedKey);
    showRefused();
  });
  function saveQueue(q) { localStorage.setItem(queueKey, JSON.stringify(q)); }
  // What the officer did with each passage kept, asked of the oldest not yet answered until
  // every one is (a next person checked meanwhile waits their turn).
  var handBox = document.getElementById("by-hand");
  var handFor = null;
  function askByHand() {
    var open = queue().filter(function (k) { return !k.by_hand; })[0];
    handFor = open ? open.client_id : null;
    handBox.hidden = !open;
    if (!open) return;
    var n = open.id_number;
    handBox.querySelector("span").textContent = text.hand.replace("{number}", n.length > 4 ? "…" + n.slice(-4) : n);
  }
  Array.prototype.forEach.call(handBox.querySelectorAll("button"), function (b) {
    b.addEventListener("click", function () {
      var decision = b.getAttribute("data-decision");
      var q = queue();
      var found = false;
      q.forEach(function (k) { if (k.client_id === handFor) { k.by_hand = decision; found = true; } });
      // Said noted only while the passage is still on the phone to carry it.
      if (found) {
        saveQueue(q);
        say(text.handed.replace("{decision}", b.textContent) + " " + text.offline.replace("{n}", q.length));
      }
      askByHand();
    });
  });
  // The decision shown is an earlier person's: taken off the screen once a passage is kept, so
  // that nobody reads it for the one in front of them.
  function clearVerdict() {
    var shown = document.getElementById("decision");
    if (shown) shown.remove();
    var arrival = document.getElementById("arrival-form");
    if (arrival) arrival.remove();
  }
  function say(message) {
    note.textContent = message;
    note.hidden = !message;
  }
  function post(body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    });
  }
  function drop(clientId) {
    saveQueue(queue().filter(function (b) { return b.client_id !== clientId; }));
  }
  // Kept with the time the person passed: logged at that time when it is sent.
  function keep(body, passedAt) {
    body.passed_at = body.passed_at || passedAt;
    body.kept_offline = true;
    var q = queue();
    if (!q.some(function (b) { return b.client_id === body.client_id; })) q.push(body);
    saveQueue(q);
  }

  // A kept passage is sent once the officer has said what they did at the booth, or ten minutes
  // after it was kept all the same (an answer never given must not hold it out of the log).
  var ANSWER_WAIT_MS = 10 * 60 * 1000;
  function ready(b) { return !!b.by_hand || Date.now() - Date.parse(b.passed_at) > ANSWER_WAIT_MS; }
  var sending = false;
  function flush() {
    if (sending || !queue().length) return;
    sending = true;
    var sent = 0, refused = 0;
    (function next() {
      var q = queue().filter(ready);
      if (!q.length) {
        sending = false;
        if (sent || refused) say(text.sent.replace("{n}", sent));
        showRefused();
        askByHand();
        return;
      }
      var body = q[0];
      var copy = JSON.parse(JSON.stringify(body));
      copy.sent_at = new Date().toISOString();
      post(copy).then(function (res) {
        if (res.status === 401) {
          sending = false;
          say(text.login.replace("{n}", queue().length));
          return;
        }
        if (res.status >= 500) throw new Error("server " + res.status);
        // Logged now (or before, under the same id), or refused for good: out of the queue, and
        // a refused one into the list to check by hand.
        if (res.ok) {
          sent += 1;
        } else {
          refused += 1;
          var list = refusedList();
          if (!list.some(function (b) { return b.client_id === body.client_id; })) list.push(body);
          localStorage.setItem(refusedKey, JSON.stringify(list));
        }
        drop(body.client_id);
        next();
      }).catch(function () {
        sending = false;
        say(text.offline.replace("{n}", queue().length));
      });
    })();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (button.disabled) return;
    var f = form.elements;
    var body = {
      id_number: f["id_number"].value.trim(),
      plate: f["plate"].value.trim() || null,
      direction: form.querySelector("input[name=direction]:checked").value,
      medical_exit: f["medical_exit"].checked,
      negative_certificate: f["negative_certificate"].checked,
      client_id: newId()
    };
    f["client_id"].value = body.client_id;
    // When the person passed, on the phone's clock: kept with the passage if it cannot be sent.
    var passedAt = new Date().toISOString();
    button.disabled = true;
    post(body).then(function (res) {
      if (res.ok) {
        return res.json().then(function (p) {
          window.location.assign("/checkpoints/" + checkpoint + "?passage=" + p.id);
        });
      }
      if (res.status === 401) {
        keep(body, passedAt);
        clearVerdict();
        button.disabled = false;
        say(text.login.replace("{n}", queue().length));
        askByHand();
        return;
      }
      if (res.status >= 500) throw new Error("server " + res.status);
      // Refused (a number that does not read): the form itself says why, in the page's language.
      form.submit();
    }).catch(function () {
      keep(body, passedAt);
      form.reset();
      button.disabled = false;
      f["id_number"].focus();
      clearVerdict();
      say(text.offline.replace("{n}", queue().length));
      askByHand();
    });
  });

  if (queue().length) say(text.offline.replace("{n}", queue().length));
  askByHand();
  showRefused();
  window.addEventListener("online", flush);
  setInterval(flush, 20000);
  flush();
})();
