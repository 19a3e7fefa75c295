// Poll an upload's status and reload the page when it has finished.
(function () {
  var box = document.getElementById("job");
  if (!box) { return; }
  var bar = document.getElementById("progress"), step = document.getElementById("step");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (bar) { bar.value = s.fraction; }
        if (step) { step.textContent = s.step || ""; }
        if (s.status === "done" || s.status === "failed") { window.location.reload(); }
        else { setTimeout(poll, 400); }
      })
      .catch(function () { setTimeout(poll, 1500); });
  }
  setTimeout(poll, 300);
})();
