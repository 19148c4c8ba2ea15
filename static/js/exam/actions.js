// What the mouse and the forms do on exam screens: every [data-action] button, links between
// items, choosing and marking, notes typing, strike-out by right-click, highlight by selecting,
// and the forms that must wait for the save queue. The keyboard is in shortcuts.js.
import { calcPress, openCalculator } from "./calculator.js";
import { resumeFromInactive } from "./clock.js";
import { closeDialog, openHelp, openSettings, openTutorial } from "./dialogs.js";
import { toast } from "./dom.js";
import { clearHighlights, highlightSelection, removeHighlightAt } from "./highlights.js";
import { adjustImage } from "./images.js";
import {
  onChoiceChange,
  openNotes,
  queueNote,
  submitTutor,
  toggleMark,
  toggleStrike,
} from "./item.js";
import { followLabContents, openLabs } from "./labs.js";
import { endBlock, navigate } from "./navigation.js";
import { closeNavDrawer, onSettingChange, toggleContrast, toggleNavigator, zoomBy } from "./prefs.js";
import { Queue } from "./queue.js";
import { currentSwap } from "./state.js";

export function initActions() {
  document.addEventListener("change", (e) => {
    const t = e.target;
    if (t.matches('#answer-form input[name="choice"]')) onChoiceChange(t);
    else if (t.matches("#mark-box")) toggleMark(false);
    else if (t.matches("#settings-form input")) onSettingChange(t);
  });

  document.addEventListener("input", (e) => {
    if (e.target.matches("#note-text")) queueNote(false);
  });

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form.id === "answer-form" || form.id === "settings-form") {
      // With JavaScript the queue saves; the form is the no-JavaScript fallback.
      e.preventDefault();
      return;
    }
    if (form.matches("[data-flush-before-submit]") && !form.dataset.flushed) {
      e.preventDefault();
      Queue.flush(6000).then((done) => {
        if (!done) {
          toast("Your last answers have not reached the server yet. Wait until the bottom bar says Saved.");
          return;
        }
        form.dataset.flushed = "1";
        form.submit();
      });
    }
  });

  document.addEventListener("click", (e) => {
    const t = e.target;
    // A tap outside the phone's item drawer closes it (its own toggle button toggles it).
    if (t.closest && !t.closest("#item-nav, [data-action='toggle-navigator']")) closeNavDrawer();
    const hl = t.closest && t.closest("#stem mark.hl");
    if (hl) {
      const sel = window.getSelection();
      if (!sel || sel.isCollapsed) removeHighlightAt(hl.closest("#stem"), hl);
      return;
    }
    const nav = t.closest("a[data-nav]");
    if (nav && currentSwap() && !e.ctrlKey && !e.metaKey && !e.shiftKey && e.button === 0) {
      e.preventDefault();
      navigate(nav.href);
      return;
    }
    const el = t.closest("[data-action]");
    if (!el) return;
    const action = el.dataset.action;
    switch (action) {
      case "strike":
        e.preventDefault();
        toggleStrike(el.closest(".option"));
        break;
      case "submit-tutor":
        // Sending the answer reveals the key: load the item again to show it.
        submitTutor().then((url) => {
          if (url) navigate(url, { push: false, skipConfirm: true });
        });
        break;
      case "clear-highlights":
        clearHighlights();
        break;
      case "toggle-navigator":
        toggleNavigator();
        break;
      case "labs":
        e.preventDefault();
        openLabs();
        break;
      case "calculator":
        openCalculator();
        break;
      case "notes":
        openNotes();
        break;
      case "help":
        openHelp();
        break;
      case "settings":
        openSettings();
        break;
      case "tutorial":
        openTutorial();
        break;
      case "img-adjust":
        e.preventDefault();
        adjustImage(el);
        break;
      case "close-dialog":
        closeDialog(el.closest("dialog"));
        break;
      case "zoom-in":
        zoomBy(1);
        break;
      case "zoom-out":
        zoomBy(-1);
        break;
      case "contrast":
        toggleContrast();
        break;
      case "dismiss-warning": {
        const banner = document.getElementById("time-warning");
        if (banner) banner.hidden = true;
        break;
      }
      case "resume":
        resumeFromInactive();
        break;
      case "end-block":
        e.preventDefault();
        endBlock(el.href);
        break;
      default:
        break;
    }
  });

  document.addEventListener("click", (e) => {
    const key = e.target.closest && e.target.closest("button[data-calc]");
    if (key) calcPress(key.dataset.calc);
    followLabContents(e);
  });

  // Right-click strikes an option out, as in the exam software.
  document.addEventListener("contextmenu", (e) => {
    const opt = e.target.closest && e.target.closest("#exam-swap .option");
    if (!opt) return;
    e.preventDefault();
    toggleStrike(opt);
  });

  // Selecting stem text highlights it at once.
  document.addEventListener("mouseup", (e) => {
    if (e.button !== 0) return;
    const stem = e.target.closest && e.target.closest("#stem");
    if (!stem) return;
    window.setTimeout(() => highlightSelection(), 0);
  });

  // By touch a long press selects text and no mouseup follows: highlight once the selection
  // has stayed still for a moment (the examinee may still be dragging its handles).
  let lastPointer = "mouse";
  let touchTimer = 0;
  document.addEventListener("pointerdown", (e) => (lastPointer = e.pointerType), true);
  document.addEventListener("selectionchange", () => {
    if (lastPointer !== "touch") return;
    window.clearTimeout(touchTimer);
    touchTimer = window.setTimeout(() => highlightSelection(), 700);
  });
}
