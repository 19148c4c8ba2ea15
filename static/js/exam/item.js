// The item on screen and its tools: choosing an answer (and submitting it in tutor mode), mark
// for review, strike-out, notes; the item list's answered / marked state; and drawing changes
// still in the save queue over a freshly shown item or review table, so the screen shows what
// the examinee did even when the server has not seen it yet.
import { openDialog, onDialogClose } from "./dialogs.js";
import { $, $$, announce, toast } from "./dom.js";
import { getHighlights, setHighlights } from "./highlights.js";
import { showImageTools } from "./images.js";
import { Queue, save } from "./queue.js";
import { currentSwap, itemInfo, pageBlock } from "./state.js";

// ------------------------------------------------------------------ the item list

const navState = new Map(); // position -> {answered, marked}

// The list as the server rendered it is read once per page: after that, every change is made
// here (and saved from here), so the client's state is the latest. A list rendered later can
// be older than it: an item fetched while an unmark was still on its way shows the item
// marked, and the save's acknowledgement has already taken it off the queue by the time the
// page arrives.
export function readNav(swap) {
  $$(".nav-item[data-pos]", swap).forEach((a) => {
    if (navState.has(Number(a.dataset.pos))) return;
    navState.set(Number(a.dataset.pos), {
      answered: a.classList.contains("is-answered"),
      marked: a.classList.contains("is-marked"),
    });
  });
}

export function paintNav(swap) {
  $$(".nav-item[data-pos]", swap || document).forEach((a) => {
    const st = navState.get(Number(a.dataset.pos));
    if (!st) return;
    a.classList.toggle("is-answered", st.answered);
    a.classList.toggle("is-marked", st.marked);
    const sr = $(".nav-status", a);
    if (sr) sr.textContent = (st.answered ? "answered" : "unanswered") + (st.marked ? ", marked" : "");
  });
}

function setNav(pos, patch) {
  const st = Object.assign({ answered: false, marked: false }, navState.get(pos) || {}, patch);
  navState.set(pos, st);
  paintNav();
}

// ------------------------------------------------------------------ pending changes on screen

// Draws an item just put on screen: its highlights, its note, and the queue's unsent changes.
export function showItem(swap) {
  const stem = $("#stem", swap);
  setHighlights(stem, getHighlights(stem));
  showImageTools(swap);
  const ta = $("#note-text", swap);
  if (ta) ta.dataset.savedValue = ta.value;
  overlayPending(swap);
  paintNav(swap);
  // The item's own mark box follows the list's latest state too (the page may be older).
  const st = navState.get(Number(swap.dataset.position));
  const box = $("#mark-box", swap);
  if (st && box && box.checked !== st.marked) {
    box.checked = st.marked;
    swap.dataset.marked = st.marked ? "1" : "0";
  }
  if (swap.dataset.setKind === "sequential" && swap.dataset.locked === "1") {
    const fs = $("fieldset.options", swap);
    if (fs) fs.disabled = true;
  }
}

// Replays queued (unsent or unacknowledged) values over a freshly shown item, so the screen
// shows what the examinee did even when the server has not seen it yet.
function overlayPending(swap) {
  const pos = Number(swap.dataset.position);
  Queue.pendingFor(pos, pageBlock).forEach((e) => applyFields(swap, e.fields));
  Queue.read().forEach((e) => {
    if (e.block && pageBlock && e.block !== pageBlock) return;
    const patch = {};
    if ("choice" in e.fields) patch.answered = e.fields.choice !== "";
    if ("marked" in e.fields) patch.marked = e.fields.marked === "1";
    if (Object.keys(patch).length) setNav(e.pos, patch);
  });
}

function applyFields(swap, f) {
  if ("choice" in f) {
    $$('input[name="choice"]', swap).forEach((r) => {
      r.checked = r.value === String(f.choice);
    });
    swap.dataset.choice = String(f.choice);
  }
  if ("marked" in f) {
    const box = $("#mark-box", swap);
    if (box) box.checked = f.marked === "1";
    swap.dataset.marked = f.marked;
  }
  if ("struck" in f) {
    const set = new Set(String(f.struck).split(",").filter(Boolean).map(Number));
    $$(".option", swap).forEach((o) => paintStrike(o, set.has(Number(o.dataset.index))));
  }
  if ("highlights" in f) {
    const stem = $("#stem", swap);
    try {
      setHighlights(stem, JSON.parse(f.highlights));
    } catch (e) {
      // a malformed entry is ignored; the server refuses it as well
    }
  }
  if ("note" in f) {
    const ta = $("#note-text", swap);
    if (ta && document.activeElement !== ta) ta.value = f.note;
    paintNoteDot(swap, f.note);
  }
}

// The review table comes from the server; pending local changes are shown on top of it.
export function paintReview(swap) {
  Queue.read().forEach((e) => {
    const row = $('tr[data-pos="' + e.pos + '"]', swap);
    if (!row) return;
    if ("choice" in e.fields && e.fields.choice !== "") {
      row.classList.add("is-answered");
      row.classList.remove("is-unanswered");
      row.children[1].textContent = "Answered (sending…)";
    }
  });
}

// ------------------------------------------------------------------ answering

export function optionEls(swap) {
  return $$(".option", swap || currentSwap());
}

export function choose(optionEl) {
  const info = itemInfo();
  if (!info || !optionEl) return;
  const radio = $('input[type="radio"]', optionEl);
  if (!radio || radio.disabled || radio.closest("fieldset:disabled")) {
    toast(info.locked ? "This answer is locked." : "This item can no longer be changed.");
    return;
  }
  if (!radio.checked) {
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
  }
  radio.focus();
}

export function onChoiceChange(radio) {
  const info = itemInfo();
  if (!info) return;
  info.swap.dataset.choice = radio.value;
  const opt = radio.closest(".option");
  if (opt && opt.classList.contains("is-struck")) {
    // Choosing a struck-out option restores it: an answer is never also struck out.
    paintStrike(opt, false);
    const struck = optionEls(info.swap).filter((o) => o.classList.contains("is-struck"));
    save({ struck: struck.map((o) => o.dataset.index).join(",") });
  }
  if (info.mode === "tutor") {
    // Tutor mode: the choice is sent by "Submit answer", because sending it reveals the key.
    return;
  }
  save({ choice: radio.value });
  setNav(info.pos, { answered: true });
}

// Tutor mode's "Submit answer": sends the choice and waits until the server has it. Resolves
// to the item's URL, to load again with the key and explanation, or null when there is nothing
// to show yet.
export async function submitTutor() {
  const info = itemInfo();
  if (!info) return null;
  const checked = $('input[name="choice"]:checked', info.swap);
  if (!checked) {
    toast("Choose an answer first.");
    return null;
  }
  save({ choice: checked.value });
  setNav(info.pos, { answered: true });
  const done = await Queue.flush(8000);
  if (!done) {
    toast("Your answer is kept on this device and will be submitted when the connection is back.");
    return null;
  }
  return info.swap.dataset.url;
}

// ------------------------------------------------------------------ strike-out

function paintStrike(optionEl, on) {
  optionEl.classList.toggle("is-struck", on);
  const btn = $(".strike-btn", optionEl);
  if (btn) btn.setAttribute("aria-pressed", on ? "true" : "false");
  const note = $(".struck-note", optionEl);
  if (note) note.textContent = on ? " (struck out)" : "";
}

export function toggleStrike(optionEl) {
  const info = itemInfo();
  if (!info || !optionEl) return;
  const on = !optionEl.classList.contains("is-struck");
  const radio = $('input[type="radio"]', optionEl);
  if (on && radio && radio.checked) {
    // The chosen answer cannot also be struck out (as on test day): choose another first.
    toast("Your selected answer cannot be struck out.");
    return;
  }
  paintStrike(optionEl, on);
  const struck = optionEls(info.swap)
    .filter((o) => o.classList.contains("is-struck"))
    .map((o) => o.dataset.index);
  save({ struck: struck.join(",") });
  announce("Option " + optionEl.dataset.letter + (on ? " struck out" : " restored"));
}

// ------------------------------------------------------------------ mark for review

export function toggleMark(fromKeyboard) {
  const info = itemInfo();
  if (!info) return;
  const box = $("#mark-box", info.swap);
  if (!box) return;
  if (fromKeyboard) box.checked = !box.checked;
  info.swap.dataset.marked = box.checked ? "1" : "0";
  save({ marked: box.checked ? "1" : "0" });
  setNav(info.pos, { marked: box.checked });
  announce(box.checked ? "Item marked for review" : "Mark removed");
}

// ------------------------------------------------------------------ notes

function paintNoteDot(swap, note) {
  const btn = $('[data-action="notes"]', swap);
  if (!btn) return;
  let dot = $(".note-dot", btn);
  if (note && !dot) {
    dot = document.createElement("span");
    dot.className = "note-dot";
    dot.setAttribute("aria-label", " (has a note)");
    dot.textContent = "•";
    btn.appendChild(dot);
  } else if (!note && dot) {
    dot.remove();
  }
}

let noteTimer = null;
// Saves the note 0.8 s after the last keystroke, or at once (window closed, item left).
export function queueNote(immediate) {
  const ta = $("#note-text", currentSwap() || document);
  if (!ta) return;
  window.clearTimeout(noteTimer);
  noteTimer = null;
  const send = () => {
    if (ta.dataset.savedValue === ta.value) return;
    ta.dataset.savedValue = ta.value;
    save({ note: ta.value });
    paintNoteDot(currentSwap(), ta.value);
  };
  if (immediate) send();
  else noteTimer = window.setTimeout(send, 800);
}

export const openNotes = () =>
  openDialog(document.getElementById("notes-dialog"), { focus: "#note-text" });

export function initNotes() {
  onDialogClose("notes-dialog", () => queueNote(true));
}
