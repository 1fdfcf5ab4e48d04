// Quick exit: end the chat on the server, wipe client storage, replace this history entry
// and go to a neutral site. Works from the button and the Escape key on every visitor page.
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) { return; }
  var target = link.getAttribute("href");
  function leave(event) {
    if (event) { event.preventDefault(); }
    try { if (window.helplineQuickExit) { window.helplineQuickExit(); } } catch (e) { /* leave anyway */ }
    try { window.localStorage.clear(); } catch (e) { /* storage may be blocked */ }
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be blocked */ }
    document.body.textContent = "";
    window.location.replace(target);
  }
  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { leave(event); }
  });
})();
