// Progressive enhancement of the time zone select (the form works without it): when the
// reader has not chosen yet, preselect the zone the browser reports. Served from this
// origin (the CSP allows no inline script); it only sets the select, never submits.
(function () {
  "use strict";
  var select = document.getElementById("timezone");
  if (!select || select.getAttribute("data-chosen") === "yes") {
    return;
  }
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (err) {
    return;
  }
  if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
    return;
  }
  var found = false;
  for (var i = 0; i < select.options.length; i += 1) {
    if (select.options[i].value === zone) {
      found = true;
      break;
    }
  }
  if (!found) {
    // An alias the list leaves out (Asia/Calcutta): offer it as the browser spells it.
    var option = document.createElement("option");
    option.value = zone;
    option.textContent = zone.replace(/_/g, " ");
    select.appendChild(option);
  }
  select.value = zone;
})();
