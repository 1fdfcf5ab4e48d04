// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Move focus to the main heading after htmx swaps, for screen-reader users.
  document.addEventListener("htmx:afterSwap", function (event) {
    var heading = event.detail.target.querySelector("h1, h2, caption");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  });
})();
