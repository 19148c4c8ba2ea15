// Highlights in the question stem. They are stored as character offsets into the stem's
// textContent ("12-40,58-61"), so they survive re-rendering the same HTML, and drawn as
// <mark class="hl">. Selecting text highlights it at once; clicking a highlight removes it.
import { $, $$, announce } from "./dom.js";
import { save } from "./queue.js";
import { currentSwap } from "./state.js";

export function getHighlights(stem) {
  return (stem.dataset.highlights || "")
    .split(",")
    .filter(Boolean)
    .map((p) => p.split("-").map(Number))
    .filter((p) => p.length === 2 && p[0] < p[1]);
}

function mergeSpans(spans) {
  const sorted = spans
    .map((s) => [Math.max(0, s[0] | 0), s[1] | 0])
    .filter((s) => s[0] < s[1])
    .sort((a, b) => a[0] - b[0]);
  const out = [];
  sorted.forEach((s) => {
    const last = out[out.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else out.push([s[0], s[1]]);
  });
  return out;
}

function unwrapHighlights(stem) {
  $$("mark.hl", stem).forEach((m) => {
    const parent = m.parentNode;
    while (m.firstChild) parent.insertBefore(m.firstChild, m);
    parent.removeChild(m);
    parent.normalize();
  });
}

// Offsets are into the stem's textContent, so they survive re-rendering the same HTML.
export function setHighlights(stem, spans) {
  if (!stem) return;
  spans = mergeSpans(spans);
  unwrapHighlights(stem);
  stem.dataset.highlights = spans.map((s) => s[0] + "-" + s[1]).join(",");
  const clear = $('[data-action="clear-highlights"]', stem.parentNode);
  if (clear) clear.hidden = spans.length === 0;
  if (!spans.length) return;
  const walker = document.createTreeWalker(stem, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let offset = 0;
  while (walker.nextNode()) {
    const n = walker.currentNode;
    nodes.push({ node: n, start: offset, end: offset + n.data.length });
    offset += n.data.length;
  }
  // Wrap from the end so earlier offsets stay valid while nodes are split.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const { node, start, end } = nodes[i];
    for (let j = spans.length - 1; j >= 0; j--) {
      const a = Math.max(spans[j][0], start);
      const b = Math.min(spans[j][1], end);
      if (a >= b) continue;
      if (!node.data.slice(a - start, b - start).trim()) continue;
      const range = document.createRange();
      range.setStart(node, a - start);
      range.setEnd(node, b - start);
      const mark = document.createElement("mark");
      mark.className = "hl";
      mark.title = "Click to remove this highlight";
      range.surroundContents(mark);
    }
  }
}

function selectionSpan(stem) {
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  if (!stem.contains(range.commonAncestorContainer)) return null;
  const pre = document.createRange();
  pre.selectNodeContents(stem);
  pre.setEnd(range.startContainer, range.startOffset);
  const start = pre.toString().length;
  const end = start + range.toString().length;
  return end > start ? [start, end] : null;
}

// Highlights the selected stem text; false when nothing in the stem is selected.
export function highlightSelection() {
  const stem = $("#stem", currentSwap() || document);
  if (!stem) return false;
  const span = selectionSpan(stem);
  if (!span) return false;
  const spans = mergeSpans(getHighlights(stem).concat([span]));
  window.getSelection().removeAllRanges();
  setHighlights(stem, spans);
  save({ highlights: JSON.stringify(spans) });
  announce("Text highlighted");
  return true;
}

export function removeHighlightAt(stem, mark) {
  const pre = document.createRange();
  pre.selectNodeContents(stem);
  pre.setEndBefore(mark);
  const at = pre.toString().length;
  const spans = getHighlights(stem).filter((s) => !(s[0] <= at && at < s[1]));
  setHighlights(stem, spans);
  save({ highlights: JSON.stringify(spans) });
  announce("Highlight removed");
}

export function clearHighlights() {
  const stem = $("#stem", currentSwap());
  setHighlights(stem, []);
  save({ highlights: "[]" });
}
