// Fetch the Overview's findings (an HTML fragment of this server, escaped there) into
// section#insights once the page has drawn: they take a moment on a large workspace, and
// the numbers below them should not wait.
(function () {
  function load() {
    var box = document.getElementById("insights");
    if (!box || !box.dataset.src) { return; }
    fetch(box.dataset.src, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; box.dataset.loaded = "yes"; })
      .catch(function () {
        var note = box.querySelector("[data-loading]");
        if (note) { note.textContent = box.dataset.failed || note.textContent; }
        box.dataset.loaded = "failed";
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", load);
  } else { load(); }
})();
