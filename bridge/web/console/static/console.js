// ttns-bridge console: progressive enhancement only (every page works without this file).
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function left(ms) {
    if (ms <= 0) { return "expired"; }
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600),
      m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (d ? d + " d " : "") + h + " h " + pad(m) + " min " + pad(sec) + " s";
  }
  function tick() {
    var nodes = document.querySelectorAll(".countdown[data-expires]");
    for (var i = 0; i < nodes.length; i++) {
      var at = Date.parse(nodes[i].getAttribute("data-expires"));
      if (!isNaN(at)) { nodes[i].textContent = left(at - Date.now()); }
    }
  }
  function refreshDashboard() {
    var box = document.getElementById("dashboard");
    if (!box || document.hidden) { return; }
    fetch(box.getAttribute("data-refresh"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok && r.url.indexOf("/login") < 0 ? r.text() : null; })
      .then(function (html) { if (html) { box.innerHTML = html; } })
      .catch(function () { /* keep the last view */ });
  }
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-confirm]") : null;
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    if (document.getElementById("dashboard")) { setInterval(refreshDashboard, 15000); }
  });
})();
