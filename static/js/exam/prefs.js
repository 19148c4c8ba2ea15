// Display preferences kept on the device: text size, reverse colour, the item list shown or
// hidden, and whether the block timer shows time remaining or time elapsed (only the display:
// the server stays the clock). exam-prefs.js applies the first two before the first paint;
// this module owns the controls that change them (the bottom bar's buttons and the Settings
// window).
import { $$, announce } from "./dom.js";
import { store } from "./storage.js";

const html = document.documentElement;
const ZOOM_LEVELS = 6;
const ZOOM_DEFAULT = 1;
// On a phone the item list is a drawer over the item (exam.css, same width): closed unless the
// examinee opens it, closed again on moving to an item, and never remembered.
const PHONE = window.matchMedia("(max-width: 760px)");
let drawerOpen = false;

function prefs() {
  return store.get("mb:prefs", {});
}

function savePrefs(p) {
  store.set("mb:prefs", p);
  applyPrefs();
  // The clock redraws at once (time remaining / elapsed) rather than on its next tick.
  document.dispatchEvent(new CustomEvent("mb:prefs"));
}

export function applyPrefs() {
  const p = prefs();
  const zoom = typeof p.zoom === "number" ? p.zoom : ZOOM_DEFAULT;
  for (let i = 0; i < ZOOM_LEVELS; i++) html.classList.toggle("zoom-" + i, i === zoom);
  html.classList.toggle("reverse-contrast", !!p.contrast);
  html.classList.toggle("nav-hidden", p.navHidden === true);
  html.classList.toggle("nav-open", PHONE.matches && drawerOpen);
  const expanded = PHONE.matches ? drawerOpen : !p.navHidden;
  $$('[data-action="contrast"]').forEach((b) =>
    b.setAttribute("aria-pressed", p.contrast ? "true" : "false")
  );
  $$('[data-action="toggle-navigator"]').forEach((b) =>
    b.setAttribute("aria-expanded", expanded ? "true" : "false")
  );
  const elapsed = p.time === "elapsed";
  $$("#block-timer .timer-label").forEach((l) => {
    l.textContent = elapsed ? "Block time elapsed:" : "Block time remaining:";
  });
  paintSettings(p, zoom);
}

// The Settings window's radio buttons follow the preferences (another tab, the A−/A+ buttons).
function paintSettings(p, zoom) {
  const form = document.getElementById("settings-form");
  if (!form) return;
  const want = {
    zoom: String(zoom),
    scheme: p.contrast ? "reverse" : "normal",
    time: p.time === "elapsed" ? "elapsed" : "remaining",
  };
  $$("input[type=radio]", form).forEach((r) => {
    r.checked = want[r.name] === r.value;
  });
}

// "remaining" (the default) or "elapsed": what the block timer shows.
export function timeShown() {
  return prefs().time === "elapsed" ? "elapsed" : "remaining";
}

// A change in the Settings window: applied at once and kept on the device.
export function onSettingChange(input) {
  const p = prefs();
  if (input.name === "zoom") {
    p.zoom = Math.min(ZOOM_LEVELS - 1, Math.max(0, Number(input.value) || 0));
    savePrefs(p);
    announce("Text size " + (p.zoom + 1) + " of " + ZOOM_LEVELS);
  } else if (input.name === "scheme") {
    p.contrast = input.value === "reverse";
    savePrefs(p);
    announce(p.contrast ? "Reverse colour on" : "Reverse colour off");
  } else if (input.name === "time") {
    p.time = input.value === "elapsed" ? "elapsed" : "remaining";
    savePrefs(p);
    announce(p.time === "elapsed" ? "The block timer shows time elapsed" : "The block timer shows time remaining");
  }
}

export function zoomBy(delta) {
  const p = prefs();
  const current = typeof p.zoom === "number" ? p.zoom : ZOOM_DEFAULT;
  p.zoom = Math.min(ZOOM_LEVELS - 1, Math.max(0, current + delta));
  savePrefs(p);
  announce("Text size " + (p.zoom + 1) + " of " + ZOOM_LEVELS);
}

export function toggleContrast() {
  const p = prefs();
  p.contrast = !p.contrast;
  savePrefs(p);
  announce(p.contrast ? "Reverse colour on" : "Reverse colour off");
}

export function toggleNavigator() {
  if (PHONE.matches) {
    drawerOpen = !drawerOpen;
    applyPrefs();
    if (drawerOpen) {
      const current = document.querySelector("#item-nav .is-current, #item-nav a");
      if (current) current.focus();
    }
    return;
  }
  const p = prefs();
  p.navHidden = !p.navHidden;
  savePrefs(p);
}

// Closes the phone's item drawer; true when it was open (Esc, a tap outside it, a move).
export function closeNavDrawer() {
  if (!drawerOpen) return false;
  drawerOpen = false;
  applyPrefs();
  return true;
}

// The item list and a set's stimulus stick just under the top bar and above the bottom bar,
// which wrap to two rows or more at large text sizes: exam.css reads their real heights from
// --exam-top-h and --exam-bottom-h, kept current here (the top bar is replaced on each move).
let barObserver = null;
export function trackBars() {
  if (!window.ResizeObserver) return;
  if (barObserver) barObserver.disconnect();
  const bars = [
    ["--exam-top-h", document.querySelector("#exam-swap .exam-top") || document.querySelector(".exam-top")],
    ["--exam-bottom-h", document.querySelector(".exam-bottom")],
  ].filter(([, el]) => el);
  barObserver = new ResizeObserver(() => {
    bars.forEach(([name, el]) => html.style.setProperty(name, el.getBoundingClientRect().height + "px"));
  });
  bars.forEach(([, el]) => barObserver.observe(el));
}

// Applies the preferences now and again whenever another tab changes them.
export function initPrefs() {
  applyPrefs();
  PHONE.addEventListener("change", applyPrefs);
  window.addEventListener("storage", (e) => {
    if (e.key === "mb:prefs") applyPrefs();
  });
}
