// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Move focus to the main heading after htmx swaps, for screen-reader users.
  document.addEventListener("htmx:afterSwap", function (event) {
    var heading = event.detail.target.querySelector("h1, h2, caption");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  });
  // Copy buttons: <button data-copy="ID" data-copied="text"> copies the field ID's value.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var done = function () {
      var status = document.getElementById(button.getAttribute("data-copy") + "-status");
      if (status) { status.textContent = button.getAttribute("data-copied") || ""; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.focus(); field.select(); });
    } else { field.focus(); field.select(); }
  });
  function showCopy(root) { root.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; }); }
  showCopy(document);
  document.addEventListener("htmx:afterSwap", function (event) { showCopy(event.detail.target); });
})();
