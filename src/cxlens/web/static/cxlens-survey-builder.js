// The survey builder works without JavaScript: "add a question", "move up" and the like
// post the form and the server shows it again. This only keeps the reader's place: the
// page comes back scrolled to where the button was, not to the top.
(function () {
  var KEY = "cxlens-builder-scroll";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (form.id !== "builder" || !button || button.value === "save") {
      return;
    }
    try { sessionStorage.setItem(KEY, String(window.scrollY)); } catch (e) { /* private mode */ }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var saved = null;
    try {
      saved = sessionStorage.getItem(KEY);
      sessionStorage.removeItem(KEY);
    } catch (e) { return; }
    if (saved !== null && document.getElementById("builder") &&
        !document.getElementById("builder-errors")) {
      window.scrollTo(0, parseInt(saved, 10) || 0);
    }
  });
})();
