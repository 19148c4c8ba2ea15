// Lab values: the search box that filters rows (in the exam's window and on the full page),
// and the window's content, loaded once with htmx (ahead of time on block screens, so it
// opens instantly and offline too).
import { $, $$ } from "./dom.js";
import { openDialog } from "./dialogs.js";

export function initLabSearch(scope) {
  const input = $("[data-lab-search]", scope);
  if (!input || input.dataset.bound) return;
  input.dataset.bound = "1";
  input.addEventListener("input", () => {
    const terms = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    $$("[data-lab-row]", scope).forEach((row) => {
      const text = (row.textContent + " " + (row.dataset.key || "")).toLowerCase();
      const ok = terms.every((t) => text.includes(t));
      row.hidden = !ok;
      if (ok) shown++;
    });
    $$(".lab-section", scope).forEach((sec) => {
      sec.hidden = !$$("[data-lab-row]", sec).some((r) => !r.hidden);
    });
    const empty = $("[data-lab-empty]", scope);
    if (empty) empty.hidden = shown > 0;
    const count = $("#lab-count", scope);
    if (count) count.textContent = terms.length ? shown + (shown === 1 ? " matching value" : " matching values") : "";
  });
}

let labLoading = null;
export function loadLabs() {
  const body = document.getElementById("lab-body");
  if (!body) return Promise.resolve();
  if (body.dataset.loaded) return Promise.resolve();
  if (labLoading) return labLoading;
  const url = body.dataset.url;
  const done = () => {
    body.dataset.loaded = "1";
    initLabSearch(body);
  };
  if (window.htmx && typeof window.htmx.ajax === "function") {
    labLoading = window.htmx
      .ajax("GET", url, { target: body, swap: "innerHTML" })
      .then(() => {
        if ($(".lab-values", body)) done();
      })
      .catch(() => {})
      .finally(() => {
        labLoading = null;
      });
  } else {
    labLoading = fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then((r) => r.text())
      .then((t) => {
        body.innerHTML = t;
        done();
      })
      .catch(() => {})
      .finally(() => {
        labLoading = null;
      });
  }
  return labLoading;
}

export async function openLabs() {
  const dlg = document.getElementById("lab-dialog");
  if (!dlg) return;
  openDialog(dlg);
  await loadLabs();
  const search = $("[data-lab-search]", dlg);
  if (search && dlg.open) search.focus();
}

// Inside the lab-values window, contents links scroll the window instead of the page URL.
export function followLabContents(e) {
  const toc = e.target.closest && e.target.closest("#lab-dialog .lab-toc a");
  if (!toc) return;
  e.preventDefault();
  const target = document.getElementById(toc.getAttribute("href").slice(1));
  if (target) target.scrollIntoView({ block: "start" });
}
