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
