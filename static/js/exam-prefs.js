// Loaded without `defer` in <head> so the examinee's text size and reverse colour apply before
// the first paint (no flash of the wrong theme). js/exam/prefs.js owns the controls that change them.
(function () {
  "use strict";
  try {
    var prefs = JSON.parse(window.localStorage.getItem("mb:prefs") || "{}");
    var html = document.documentElement;
    if (typeof prefs.zoom === "number") html.classList.add("zoom-" + prefs.zoom);
    if (prefs.contrast) html.classList.add("reverse-contrast");
  } catch (e) {
    // Storage blocked (private mode): defaults apply.
  }
})();
