// Progressive enhancement for the desk: live Markdown preview. Everything works without it.
(function () {
  "use strict";
  var script = document.currentScript;
  var csrf = script ? script.getAttribute("data-csrf") : "";
  document.querySelectorAll("textarea[data-markdown-preview]").forEach(function (area) {
    var target = document.getElementById(area.getAttribute("data-markdown-preview"));
    var timer = null;
    function refresh() {
      var body = new URLSearchParams();
      body.set("body", area.value);
      fetch("/admin/content/markdown-preview", {
        method: "POST",
        headers: { "X-CSRF-Token": csrf },
        body: body,
        credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      }).then(function (html) {
        // The server sanitised this HTML with the same rules as the email (nh3 allow-list).
        target.innerHTML = html;
      }).catch(function () {});
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
  });
})();
