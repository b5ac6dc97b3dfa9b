// The language link keeps the page where it is: the current query (round, area, filters) with
// only `lang` changed, instead of the bare `?lang=` the link carries without scripts.
(function () {
  var link = document.querySelector("a.lang");
  if (!link) return;
  var target = new URLSearchParams(link.getAttribute("href").replace(/^\?/, "")).get("lang");
  var url = new URL(window.location.href);
  url.searchParams.set("lang", target);
  url.hash = "";
  link.setAttribute("href", url.pathname + url.search);
})();

// A form that did not read answers a page with a way back to it; the browser brings the form
// back with what was typed (inline scripts are not allowed by the page's security policy).
(function () {
  var back = document.querySelector("[data-back]");
  if (back) back.addEventListener("click", function () { window.history.back(); });
})();

// A page that prints (the timeline, a report): its print button.
(function () {
  var print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
