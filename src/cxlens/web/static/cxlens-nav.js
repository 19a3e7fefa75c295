// The header's menus (<details class="menu" name="topmenu">: the workspace switcher and the
// navigation's groups) open and close without this file, by mouse and keyboard, and the
// `name` keeps one open at a time. This adds what a menu button is expected to do: Escape
// closes the open menu and puts the focus back on its button; a click or the focus moving
// elsewhere closes it.
(function () {
  "use strict";
  function closeOthers(target) {
    document.querySelectorAll("details.menu[name=topmenu][open]").forEach(function (d) {
      if (!d.contains(target)) d.open = false;
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.menu[name=topmenu][open]").forEach(function (d) {
      var hadFocus = d.contains(document.activeElement);
      d.open = false;
      if (hadFocus) d.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (e) { closeOthers(e.target); });
  // On a phone the navigation starts closed: the page's content comes first, and the Menu
  // button opens it. The server renders it open (so it works without this file; base.html's
  // <noscript> style shows it) and marked data-phone-closed, which hides it until here.
  var main = document.querySelector("details.mainnav");
  if (main) {
    if (window.matchMedia("(max-width: 700px)").matches) { main.open = false; }
    main.removeAttribute("data-phone-closed");
  }
  document.addEventListener("focusin", function (e) { closeOthers(e.target); });
})();
