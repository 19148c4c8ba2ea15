// Contrast and brightness on each image of an item, as in the 2026 test-day software. Purely a
// display aid: kept on this device per item (attempt, block, position, image index), never
// sent to the server. The levels are classes (CSS variables feed one `filter`), not style
// attributes: the CSP forbids those, and held copies of items are re-parsed from HTML.
//
// The buttons carry no text nodes (their glyphs come from CSS, their names from aria-label):
// stem highlights are offsets into the stem's text, which these controls must not shift.
import { $$, announce } from "./dom.js";
import { attemptId, pageBlock } from "./state.js";
import { store } from "./storage.js";

// Index 2 is 100 %; each step is 25 %.
const LEVELS = [50, 75, 100, 125, 150, 175, 200];
const DEFAULT = 2;
const KINDS = { c: "contrast", b: "brightness" };

function key(swap) {
  return "mb:img:" + attemptId + ":" + (pageBlock || 0) + ":" + swap.dataset.position;
}

function images(swap) {
  return $$(".stimulus img, #stem img, .opt-text img", swap);
}

function levels(swap) {
  return store.get(key(swap), {});
}

function paint(img, tools, lv) {
  const c = typeof lv.c === "number" ? lv.c : DEFAULT;
  const b = typeof lv.b === "number" ? lv.b : DEFAULT;
  LEVELS.forEach((_, i) => {
    img.classList.toggle("img-c-" + i, i === c && i !== DEFAULT);
    img.classList.toggle("img-b-" + i, i === b && i !== DEFAULT);
  });
  const n = Number(tools.dataset.img) + 1;
  const state = "contrast " + LEVELS[c] + " %, brightness " + LEVELS[b] + " %";
  tools.setAttribute("aria-label", "Image " + n + ": " + state);
  tools.dataset.state = "Contrast " + LEVELS[c] + " % · Brightness " + LEVELS[b] + " %";
}

function button(idx, adj, label) {
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "img-btn img-btn-" + adj.replace("+", "up").replace("-", "down");
  btn.dataset.action = "img-adjust";
  btn.dataset.img = String(idx);
  btn.dataset.adj = adj;
  btn.setAttribute("aria-label", label);
  btn.title = label;
  return btn;
}

// Adds the controls beside each image of an item just put on screen (once: a held copy of an
// item keeps them) and applies the levels kept for this item.
export function showImageTools(swap) {
  if (!swap || swap.dataset.screen !== "item") return;
  const kept = levels(swap);
  images(swap).forEach((img, idx) => {
    let tools = img.nextElementSibling;
    if (!tools || !tools.classList.contains("img-tools")) {
      tools = document.createElement("span");
      tools.className = "img-tools";
      tools.setAttribute("role", "group");
      tools.dataset.img = String(idx);
      tools.append(
        button(idx, "c-", "Less contrast"),
        button(idx, "c+", "More contrast"),
        button(idx, "b-", "Darker"),
        button(idx, "b+", "Brighter"),
        button(idx, "reset", "Reset this image")
      );
      img.after(tools);
      img.classList.add("img-adjustable");
    }
    paint(img, tools, kept[idx] || {});
  });
}

// A click on one of the buttons: one step up or down, or back to 100 %.
export function adjustImage(btn) {
  const swap = btn.closest("#exam-swap");
  if (!swap) return;
  const idx = Number(btn.dataset.img);
  const img = images(swap)[idx];
  const tools = btn.closest(".img-tools");
  if (!img || !tools) return;
  const all = levels(swap);
  const lv = Object.assign({ c: DEFAULT, b: DEFAULT }, all[idx] || {});
  const adj = btn.dataset.adj;
  if (adj === "reset") {
    lv.c = DEFAULT;
    lv.b = DEFAULT;
  } else {
    const kind = adj[0];
    const step = adj[1] === "+" ? 1 : -1;
    lv[kind] = Math.min(LEVELS.length - 1, Math.max(0, lv[kind] + step));
  }
  all[idx] = lv;
  store.set(key(swap), all);
  paint(img, tools, lv);
  const what = adj === "reset" ? "reset" : KINDS[adj[0]] + " " + LEVELS[lv[adj[0]]] + " %";
  announce("Image " + (idx + 1) + " " + what);
}
