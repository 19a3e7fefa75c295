// Ask before a form with data-confirm="question" is sent (no inline onsubmit: the
// Content-Security-Policy allows scripts only from /static).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm &&
      !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);
