// Lab values and the calculator are non-modal panels, as in the exam software: dragged by
// their title bar (pointer), moved with the arrow keys and resized with Shift+arrows on the
// title bar's move handle, resized by the corner grip; where each was left is kept on the
// device. Their first place is beside the item, right of the options at 1366x768, so they
// cover nothing the examinee did not move them onto.
import { $ } from "./dom.js";
import { store } from "./storage.js";

const KEY = "mb:panel:";
const STEP = 16;
const MIN_W = 240;
const MIN_H = 160;

function bars() {
  const top = $(".exam-top");
  const bottom = $(".exam-bottom");
  return {
    top: top ? top.getBoundingClientRect().bottom : 0,
    bottom: bottom ? bottom.getBoundingClientRect().top : window.innerHeight,
  };
}

// Where a panel goes the first time: the right edge, under the top bar, as wide as fits
// beside the options column (which ends at most 52rem into the item area).
function defaultBox(dlg) {
  const { top, bottom } = bars();
  const options = $("#exam-swap .options") || $("#exam-swap .stem");
  const right = options ? options.getBoundingClientRect().right : window.innerWidth / 2;
  const room = window.innerWidth - right - 16;
  const wanted = dlg.id === "lab-dialog" ? 420 : 300;
  const width = Math.max(MIN_W, Math.min(wanted, room));
  const height =
    dlg.id === "lab-dialog" ? bottom - top - 16 : Math.min(dlg.scrollHeight || 460, bottom - top - 16);
  return { left: window.innerWidth - width - 8, top: top + 8, width, height };
}

function clamp(box) {
  const w = Math.max(MIN_W, Math.min(box.width, window.innerWidth));
  const h = Math.max(MIN_H, Math.min(box.height, window.innerHeight));
  return {
    width: w,
    height: h,
    left: Math.max(0, Math.min(box.left, window.innerWidth - w)),
    top: Math.max(0, Math.min(box.top, window.innerHeight - h)),
  };
}

function apply(dlg, box) {
  const b = clamp(box);
  dlg.style.left = b.left + "px";
  dlg.style.top = b.top + "px";
  dlg.style.width = b.width + "px";
  dlg.style.height = b.height + "px";
  dlg.classList.add("is-placed");
  return b;
}

function current(dlg) {
  const r = dlg.getBoundingClientRect();
  return { left: r.left, top: r.top, width: r.width, height: r.height };
}

// Only an open panel is measured: a shut dialog measures 0 x 0, and the corner grip's size is
// kept a moment after it changes, when the panel may have been closed already (it would then
// reopen shrunk into the top-left corner, over the options).
function remember(dlg) {
  if (!dlg.open) return;
  const box = current(dlg);
  if (box.width > 0 && box.height > 0) store.set(KEY + dlg.id, box);
}

// Called each time a panel opens: where it was left, or its first place.
export function placePanel(dlg) {
  if (!dlg || !dlg.classList.contains("tool-dialog") || dlg.id === "notes-dialog") return;
  apply(dlg, store.get(KEY + dlg.id, null) || defaultBox(dlg));
}

function bind(dlg) {
  const head = $(".dialog-head", dlg);
  if (!head || dlg.dataset.panel) return;
  dlg.dataset.panel = "1";
  let drag = null;
  head.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.target.closest("button:not(.panel-move)")) return;
    const box = current(dlg);
    drag = { x: e.clientX - box.left, y: e.clientY - box.top, w: box.width, h: box.height };
    head.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  head.addEventListener("pointermove", (e) => {
    if (!drag) return;
    apply(dlg, { left: e.clientX - drag.x, top: e.clientY - drag.y, width: drag.w, height: drag.h });
  });
  const end = () => {
    if (!drag) return;
    drag = null;
    remember(dlg);
  };
  head.addEventListener("pointerup", end);
  head.addEventListener("pointercancel", end);
  const handle = $(".panel-move", dlg);
  if (handle) {
    handle.addEventListener("keydown", (e) => {
      const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
      if (!d) return;
      e.preventDefault();
      e.stopPropagation();
      const b = current(dlg);
      if (e.shiftKey) {
        b.width += d[0] * STEP;
        b.height += d[1] * STEP;
      } else {
        b.left += d[0] * STEP;
        b.top += d[1] * STEP;
      }
      apply(dlg, b);
      remember(dlg);
    });
  }
  // The corner grip (CSS resize) changes the size: keep it too.
  if (window.ResizeObserver) {
    let timer = 0;
    new ResizeObserver(() => {
      if (!dlg.open) return;
      clearTimeout(timer);
      timer = setTimeout(() => remember(dlg), 200);
    }).observe(dlg);
  }
}

export function initPanels() {
  document.querySelectorAll("dialog.tool-dialog").forEach(bind);
  window.addEventListener("resize", () => {
    document.querySelectorAll("dialog.tool-dialog[open].is-placed").forEach((d) => apply(d, current(d)));
  });
}
