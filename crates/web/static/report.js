// The report's print button (the page's CSP forbids inline handlers).
(function () {
  var b = document.getElementById("print");
  if (b) b.addEventListener("click", function () { window.print(); });
})();
