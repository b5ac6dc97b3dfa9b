// The checkpoint officer's page: each passage is sent with a client id, so sending it twice logs
// it once. When the network drops, the passage is kept in a queue in localStorage, the officer
// is told to check codes and papers by hand, and the queue is sent, in order, when the server
// answers again (on load, when the browser says it is back online, and every 20 seconds).
(function () {
  var form = document.getElementById("pass-form");
  if (!form) return;
  var checkpoint = form.getAttribute("data-checkpoint");
  var text = JSON.parse(form.getAttribute("data-texts"));
  var note = document.getElementById("offline-note");
  var queueKey = "cordon-checkpoint-queue-" + checkpoint;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function queue() { return JSON.parse(localStorage.getItem(queueKey) || "[]"); }
  function saveQueue(q) {
    localStorage.setItem(queueKey, JSON.stringify(q));
    if (q.length) {
      note.textContent = text.offline.replace("{n}", q.length);
      note.hidden = false;
    }
  }
  function post(body) {
    return fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: body
    });
  }

  var sending = false;
  function flush() {
    var q = queue();
    if (sending || !q.length) return;
    sending = true;
    var sent = 0;
    (function next() {
      var left = queue();
      if (!left.length) {
        sending = false;
        note.textContent = text.sent.replace("{n}", sent);
        note.hidden = false;
        return;
      }
      post(left[0]).then(function (res) {
        // Answered: logged now, or refused for good (a bad number); either way it leaves the queue.
        if (res.status >= 500) throw new Error("server " + res.status);
        var rest = queue().slice(1);
        localStorage.setItem(queueKey, JSON.stringify(rest));
        sent += 1;
        next();
      }).catch(function () {
        sending = false;
        saveQueue(queue());
      });
    })();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    form.elements["client_id"].value = newId();
    var body = new URLSearchParams(new FormData(form)).toString();
    post(body).then(function (res) {
      // The decision is shown by the page the server sends us to; a refusal (a number that does
      // not read) comes back as the page itself, saying why.
      if (res.redirected) {
        window.location.assign(res.url);
        return;
      }
      return res.text().then(function (html) {
        document.open();
        document.write(html);
        document.close();
      });
    }).catch(function () {
      var q = queue();
      q.push(body);
      saveQueue(q);
      form.reset();
      form.elements["id_number"].focus();
    });
  });

  saveQueue(queue());
  window.addEventListener("online", flush);
  setInterval(flush, 20000);
  flush();
})();
