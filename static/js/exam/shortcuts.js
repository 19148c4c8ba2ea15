// The keyboard on exam screens (docs/test-day-interface.md, "Keyboard shortcuts"). An answer
// letter always means the option; tools answer to their plain letter when it is not an option
// of the current item, and always to Alt+letter (read from the physical key, so macOS works).
// Esc closes the topmost window; inside the calculator the keys drive the calculator; while
// typing, or while a modal window is open, shortcuts are off.
import { calcKeydown, openCalculator } from "./calculator.js";
import { closeTopDialog, openHelp, openSettings } from "./dialogs.js";
import { $, toast } from "./dom.js";
import { highlightSelection } from "./highlights.js";
import { choose, openNotes, optionEls, toggleMark, toggleStrike } from "./item.js";
import { openLabs } from "./labs.js";
import { endBlock, goRel, goReview } from "./navigation.js";
import { closeNavDrawer, zoomBy } from "./prefs.js";
import { currentSwap, pageScreen } from "./state.js";

const TYPING =
  "input[type=text], input[type=search], input[type=number], textarea, select, [contenteditable]";

function onKeydown(e) {
  if (e.defaultPrevented || e.isComposing) return;
  const t = e.target;
  if (e.key === "Escape") {
    if (closeTopDialog() || closeNavDrawer()) e.preventDefault();
    return;
  }
  const calcDlg = document.getElementById("calc-dialog");
  if (calcDlg && calcDlg.open && calcDlg.contains(t) && !e.ctrlKey && !e.metaKey && !e.altKey) {
    calcKeydown(e);
    return;
  }
  if (t.closest && t.closest(TYPING)) return;
  if (e.ctrlKey || e.metaKey) return;
  if ($("dialog[open]:modal")) return; // a modal dialog owns the keyboard

  const swap = currentSwap();
  const screen = swap ? swap.dataset.screen : null;
  const alt = e.altKey;
  // With Alt, macOS turns letters into symbols: read the physical key instead.
  let letter = null;
  if (alt) letter = e.code && e.code.startsWith("Key") ? e.code.slice(3) : null;
  else if (e.key.length === 1 && /[a-z]/i.test(e.key)) letter = e.key.toUpperCase();

  if (screen === "item" && !alt) {
    const opts = optionEls(swap);
    if (letter) {
      const opt = opts.find((o) => o.dataset.letter === letter);
      if (opt) {
        e.preventDefault();
        choose(opt);
        return;
      }
    }
    if (/^[1-9]$/.test(e.key) && opts[Number(e.key) - 1]) {
      e.preventDefault();
      choose(opts[Number(e.key) - 1]);
      return;
    }
  }

  let action = null;
  if (!alt && e.key === "ArrowRight") action = "next";
  else if (!alt && e.key === "ArrowLeft") action = "prev";
  else if (!alt && e.key === "?") action = "help";
  else if (!alt && e.key === ",") action = "settings";
  else if (!alt && (e.key === "+" || e.key === "=")) action = "zoom-in";
  else if (!alt && (e.key === "-" || e.key === "_")) action = "zoom-out";
  else if (letter) {
    action = {
      N: "next",
      P: "prev",
      M: "mark",
      R: "review",
      L: "labs",
      T: "notes",
      S: "strike",
      H: "highlight",
      C: "calculator",
      E: alt ? "end-block" : null,
      G: "settings",
    }[letter];
  }
  if (!action) return;
  const inBlock = pageScreen === "block";
  const onItem = screen === "item";
  switch (action) {
    case "next":
      if (!onItem) return;
      if ($('[data-nav="next"]', swap)) goRel("next");
      else goReview();
      break;
    case "prev":
      if (!onItem) return;
      goRel("prev");
      break;
    case "mark":
      if (!onItem) return;
      toggleMark(true);
      break;
    case "review":
      if (!inBlock) return;
      goReview();
      break;
    case "labs":
      if (!inBlock) return;
      openLabs();
      break;
    case "calculator":
      if (!inBlock) return;
      openCalculator();
      break;
    case "notes":
      if (!onItem) return;
      openNotes();
      break;
    case "strike": {
      if (!onItem) return;
      const opt = t.closest && t.closest(".option");
      if (opt) toggleStrike(opt);
      else toast("Move to an option first (Tab, or the arrow keys), then press S.");
      break;
    }
    case "highlight":
      if (!onItem) return;
      if (!highlightSelection()) toast("Select some text in the question first, then press H.");
      break;
    case "help":
      openHelp();
      break;
    case "settings":
      openSettings();
      break;
    case "zoom-in":
      zoomBy(1);
      break;
    case "zoom-out":
      zoomBy(-1);
      break;
    case "end-block": {
      const link = $('[data-action="end-block"]');
      if (link) endBlock(link.href);
      break;
    }
    default:
      return;
  }
  e.preventDefault();
}

export function initShortcuts() {
  document.addEventListener("keydown", onKeydown);
}
