// The practice builder page: "all / none" per subject group, and pool counts refreshed from the
// server as subjects are ticked.
import { $, $$ } from "./dom.js";

export function initPracticeBuilder() {
  const form = document.getElementById("practice-form");
  if (!form) return;
  $$("[data-check-group]", form).forEach((group) => {
    group.addEventListener("click", (e) => {
      const all = e.target.closest("[data-check-all]");
      const none = e.target.closest("[data-check-none]");
      if (!all && !none) return;
      $$("input[type=checkbox]:not(:disabled)", group).forEach((c) => {
        c.checked = !!all;
      });
      refreshCounts();
    });
  });
  let timer = null;
  form.addEventListener("change", (e) => {
    if (e.target.matches("input[type=checkbox]")) {
      window.clearTimeout(timer);
      timer = window.setTimeout(refreshCounts, 250);
    }
  });
  async function refreshCounts() {
    const params = new URLSearchParams();
    $$("input[type=checkbox]:checked", form).forEach((c) => params.append(c.name, c.value));
    try {
      const res = await fetch(form.dataset.countsUrl + "?" + params.toString(), {
        credentials: "same-origin",
      });
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      $$("[data-pool-count]", doc).forEach((el) => {
        const mine = $('[data-pool-count="' + el.dataset.poolCount + '"]', form);
        if (mine) mine.textContent = el.textContent;
      });
      const help = document.getElementById("pool-help");
      if (help) help.textContent = "Counts updated for the subjects you ticked.";
    } catch (err) {
      // Counts are a convenience; the server checks the pool again on submit.
    }
  }
}
