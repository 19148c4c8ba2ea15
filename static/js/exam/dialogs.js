// The exam's windows (<dialog>): open with focus inside, close back to the control that opened
// them, Esc closes the topmost one (never the "time expired" one), and a confirm in the exam's
// own style.
import { $ } from "./dom.js";
import { placePanel } from "./panels.js";

const dialogStack = [];
// Run when the dialog with that id closes, before focus returns to its opener (item.js saves
// the note when the notes window closes).
const closeHooks = new Map();

export function onDialogClose(id, fn) {
  closeHooks.set(id, fn);
}

export function openDialog(dlg, { modal = false, focus } = {}) {
  if (!dlg) return;
  if (dlg.open) {
    const target = focus ? $(focus, dlg) : null;
    (target || dlg).focus();
    return;
  }
  dlg._opener = document.activeElement;
  if (modal) dlg.showModal();
  else dlg.show();
  placePanel(dlg);
  dialogStack.push(dlg);
  const target = (focus && $(focus, dlg)) || $("button, input, textarea, [tabindex]", dlg);
  if (target) target.focus();
}

export function closeDialog(dlg) {
  if (!dlg || !dlg.open) return;
  const hadFocus = dlg.contains(document.activeElement);
  dlg.close();
  // The close event (which returns focus to the opener) comes a task later: until then focus
  // would stay in the shut window, and a shortcut pressed at once (Esc, then Alt+C) would be
  // taken for typing in its search box and lost.
  if (hadFocus) {
    const opener = dlg._opener;
    if (opener && document.contains(opener) && opener !== document.body) opener.focus();
    else document.activeElement.blur();
  }
}

export function initDialogs() {
  document.addEventListener(
    "close",
    (e) => {
      const dlg = e.target;
      if (!(dlg instanceof HTMLDialogElement)) return;
      const i = dialogStack.indexOf(dlg);
      if (i >= 0) dialogStack.splice(i, 1);
      const hook = closeHooks.get(dlg.id);
      if (hook) hook();
      const opener = dlg._opener;
      if (opener && document.contains(opener)) opener.focus();
    },
    true
  );
}

export function closeTopDialog() {
  for (let i = dialogStack.length - 1; i >= 0; i--) {
    const d = dialogStack[i];
    if (d.open && d.id !== "expired-dialog") {
      closeDialog(d);
      return true;
    }
  }
  return false;
}

// A promise-based confirm in the exam's own style (window.confirm looks like a browser).
export function confirmDialog(text, yesLabel) {
  const dlg = document.getElementById("confirm-dialog");
  if (!dlg) return Promise.resolve(window.confirm(text));
  $("#confirm-text", dlg).textContent = text;
  $('[data-action="confirm-yes"]', dlg).textContent = yesLabel || "Continue";
  return new Promise((resolve) => {
    const onClick = (e) => {
      const yes = e.target.closest('[data-action="confirm-yes"]');
      const no = e.target.closest('[data-action="confirm-no"]');
      if (!yes && !no) return;
      cleanup();
      closeDialog(dlg);
      resolve(!!yes);
    };
    const onClose = () => {
      // A "close" event is delivered after the fact: the one from the previous confirm
      // (answered "no") can arrive once this one is already open. Only a real close counts.
      if (dlg.open) return;
      cleanup();
      resolve(false);
    };
    function cleanup() {
      dlg.removeEventListener("click", onClick);
      dlg.removeEventListener("close", onClose);
    }
    dlg.addEventListener("click", onClick);
    dlg.addEventListener("close", onClose);
    openDialog(dlg, { modal: true, focus: '[data-action="confirm-no"]' });
  });
}

export const openHelp = () =>
  openDialog(document.getElementById("help-dialog"), { modal: true });

// Settings and the tutorial: windows over the block, which keeps running (nothing is sent).
export const openSettings = () =>
  openDialog(document.getElementById("settings-dialog"), {
    modal: true,
    focus: "#settings-form input:checked",
  });

export const openTutorial = () =>
  openDialog(document.getElementById("tutorial-dialog"), {
    modal: true,
    focus: ".dialog-actions .button",
  });
