// Keeps the investigation clocks counting down: every cell with data-due (a deadline in epoch
// milliseconds) that is still running or overdue is rewritten each 30 seconds, in the page's
// language, from the texts the server rendered ("还剩 3h05m" / "3h05m left").
(function () {
  var zh = document.documentElement.lang !== "en";
  function span(min) {
    var m = Math.abs(min);
    return Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") + "m";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("td.clock[data-due]").forEach(function (td) {
      if (td.classList.contains("done")) return;
      var min = Math.floor((Number(td.getAttribute("data-due")) - now) / 60000);
      if (min >= 0) {
        td.textContent = zh ? "还剩 " + span(min) : span(min) + " left";
      } else {
        td.textContent = zh ? "超时 " + span(min) : span(min) + " overdue";
        td.classList.remove("running");
        td.classList.add("overdue");
        td.parentElement.classList.add("overdue");
      }
    });
  }
  setInterval(tick, 30000);
})();
