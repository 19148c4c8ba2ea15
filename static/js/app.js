// Small progressive enhancements shared by every page; exam pages load the modules under js/exam/ as well.
(function () {
  function bindConfirms(root) {
    root.querySelectorAll("[data-confirm]:not([data-confirm-bound])").forEach((el) => {
      el.dataset.confirmBound = "1";
      el.addEventListener("click", (event) => {
        if (!window.confirm(el.dataset.confirm)) event.preventDefault();
      });
    });
  }
  document.addEventListener("DOMContentLoaded", () => bindConfirms(document));
  // Content swapped in by htmx needs the same behaviour as the first page load.
  document.addEventListener("htmx:load", (event) => bindConfirms(event.target));
})();
