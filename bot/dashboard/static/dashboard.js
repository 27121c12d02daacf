// The dashboard's only script: print buttons (no inline handlers, so the CSP can forbid them).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
