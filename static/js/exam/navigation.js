// Moving between the screens of a block without reloading the page: Previous / Next, the item
// list, the review screen, Back / Forward, End Block. Items are shown cache-first: the whole
// block is fetched ahead in one request (and every visited item remembered with the
// examinee's changes), so an item already held is shown at once and the server is only told
// of the move (a small "visit" POST that times the item and returns the clock); offline, held
// items still open. Tutor mode and sequential sets always go to the server.
import { Clock, leaveForAttempt } from "./clock.js";
import { confirmDialog } from "./dialogs.js";
import { $, $$, csrfToken, toast } from "./dom.js";
import { formatDurations } from "./format.js";
import { paintReview, queueNote, readNav, showItem } from "./item.js";
import { applyPrefs, closeNavDrawer, trackBars } from "./prefs.js";
import { Net, Queue } from "./queue.js";
import { blockItemsUrl, currentSwap, itemInfo, pageScreen, root, state } from "./state.js";

const pageCache = new Map(); // url -> outerHTML of #exam-swap, for offline navigation

// Leaving an item of a sequential set locks its answer: ask first, in the exam's own dialog.
async function confirmLeave(targetUrl) {
  const info = itemInfo();
  if (!info) return true;
  if (info.swap.dataset.setKind !== "sequential" || info.locked) return true;
  if (new URL(targetUrl, location.href).pathname === info.swap.dataset.url) return true;
  const ok = await confirmDialog(
    "This item is part of a sequential set. Once you leave it, your answer is locked and cannot be changed. Continue?",
    "Lock my answer and continue"
  );
  if (ok) {
    info.swap.dataset.locked = "1";
    const fs = $("fieldset.options", info.swap);
    if (fs) fs.disabled = true;
  }
  return ok;
}

function cacheKey(url) {
  const u = new URL(url, location.href);
  return u.pathname + u.search;
}

function rememberCurrent() {
  const swap = currentSwap();
  if (!swap || !swap.dataset.url) return;
  // Store what is on screen (with the examinee's changes) for offline navigation. A clone
  // copies attributes, not live properties, so write the live state into attributes first.
  $$("input[type=radio], input[type=checkbox]", swap).forEach((i) => {
    i.toggleAttribute("checked", i.checked);
  });
  $$("textarea", swap).forEach((t) => {
    t.textContent = t.value;
  });
  const fs = $("fieldset.options", swap);
  if (fs) fs.toggleAttribute("disabled", fs.disabled);
  const copy = swap.cloneNode(true);
  $$("dialog[open]", copy).forEach((d) => d.removeAttribute("open"));
  pageCache.set(cacheKey(swap.dataset.url), copy.outerHTML);
}

let navBusy = false;
export async function navigate(url, { push = true, skipConfirm = false } = {}) {
  if (navBusy) return;
  const swap = currentSwap();
  if (!swap) {
    window.location.assign(url);
    return;
  }
  if (!skipConfirm && !(await confirmLeave(url))) return;
  navBusy = true;
  try {
    queueNote(true);
    rememberCurrent();
    // Leaving an item of a sequential set locks it on the server, which then refuses any
    // change to it: let its queued changes arrive first.
    if (swap.dataset.setKind === "sequential") await Queue.flush(4000);
    if (showFromCache(swap, url, push)) return;
    let text = null;
    let fromCache = false;
    try {
      const res = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "HX-Request": "true", "HX-Target": "exam-swap", "HX-Current-URL": location.href },
      });
      const hx = res.headers.get("HX-Redirect") || res.headers.get("HX-Location");
      if (hx) {
        window.location.assign(hx);
        return;
      }
      if (!res.ok) {
        window.location.assign(url);
        return;
      }
      text = await res.text();
      Net.up();
      if (res.redirected) url = res.url;
      if (res.redirected && !text.includes('id="exam-swap"')) {
        // The block closed (or the session ended): follow the server to its screen.
        window.location.assign(res.url);
        return;
      }
    } catch (e) {
      Net.down();
      text = pageCache.get(cacheKey(url)) || null;
      fromCache = true;
      if (!text) {
        toast("You are offline and this screen has not been loaded yet. Your answers are safe; try again when the connection is back.");
        return;
      }
    }
    const doc = new DOMParser().parseFromString(text, "text/html");
    const fresh = doc.getElementById("exam-swap");
    if (!fresh) {
      window.location.assign(url);
      return;
    }
    const node = document.importNode(fresh, true);
    swap.replaceWith(node);
    if (push) history.pushState({ mb: true }, "", url);
    afterSwap(node, { fromServer: !fromCache });
    if (fromCache) toast("Offline: showing this item from memory. Your answers are kept on this device.");
  } finally {
    navBusy = false;
  }
}

// Online, an item the browser already holds (fetched ahead, or visited and remembered with
// the examinee's changes) is shown at once and the server is only told of the move: a small
// POST that times the item and returns the clock, instead of rendering the page again.
// Not in tutor mode (the key arrives with the page) and not inside a sequential set (the
// server locks answers on leaving, so it must see the moves in order, one page at a time).
function showFromCache(swap, url, push) {
  if (Net.offline || pageScreen !== "block" || root.dataset.mode === "tutor") return false;
  if (swap.dataset.screen !== "item" || swap.dataset.setKind === "sequential") return false;
  if (cacheKey(url) === cacheKey(swap.dataset.url || "")) return false;
  const cached = pageCache.get(cacheKey(url));
  if (!cached || cached.includes('data-set-kind="sequential"')) return false;
  const fresh = new DOMParser().parseFromString(cached, "text/html").getElementById("exam-swap");
  if (!fresh || fresh.dataset.screen !== "item" || !fresh.dataset.visitUrl) return false;
  const node = document.importNode(fresh, true);
  swap.replaceWith(node);
  if (push) history.pushState({ mb: true }, "", url);
  afterSwap(node, { fromServer: false });
  Visits.send(node.dataset.visitUrl);
  return true;
}

// One visit in flight at a time, and only the latest waiting one is sent next, so the
// server sees the moves in the order they were made.
const Visits = {
  busy: false,
  next: null,
  send(url) {
    this.next = url;
    if (!this.busy) this.run();
  },
  async run() {
    this.busy = true;
    while (this.next) {
      const url = this.next;
      this.next = null;
      try {
        const res = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        });
        if (res.status === 409) {
          leaveForAttempt("closed");
          break;
        }
        if (res.status === 429) {
          // Over the per-attempt limit: tell the server of the latest move a moment later.
          const wait = Number(res.headers.get("Retry-After"));
          await new Promise((r) => setTimeout(r, (wait > 0 ? wait : 1) * 1000));
          if (!this.next) this.next = url;
          continue;
        }
        if (res.ok) {
          const data = await res.json();
          if (data.clock) Clock.set(data.clock);
          Net.up();
        }
      } catch (e) {
        Net.down(); // the move is not timed on the server; answers are unaffected
      }
    }
    this.busy = false;
  },
};

// Fetch every item of the open block ahead, in one request (read-only on the server: no
// visit, no lock, never the key), so the examinee can keep moving between items and
// answering while the connection is down. Changes made offline are drawn on top from the
// save queue. One request per page load, started after a random pause, because a whole
// cohort loads its blocks at nearly the same moment.
let prefetchRun = 0;
async function prefetchBlock() {
  if (!blockItemsUrl || prefetchRun) return;
  prefetchRun = 1;
  await new Promise((r) => setTimeout(r, 1500 + Math.random() * 8000));
  if (Net.offline || state.leaving) return;
  try {
    const res = await fetch(blockItemsUrl, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "HX-Request": "true" },
    });
    if (!res.ok || res.redirected) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    doc.querySelectorAll('[data-screen="item"][data-url]').forEach((fresh) => {
      const key = cacheKey(fresh.dataset.url);
      // The server sends one navigator for all items; mark this item as the current one.
      $$(".nav-item[data-pos]", fresh).forEach((a) => {
        const here = a.dataset.pos === fresh.dataset.position;
        a.classList.toggle("is-current", here);
        if (here) a.setAttribute("aria-current", "page");
        else a.removeAttribute("aria-current");
      });
      // A copy the examinee has already loaded by visiting is at least as new.
      if (!pageCache.has(key)) pageCache.set(key, fresh.outerHTML);
    });
    root.dataset.heldItems = String(pageCache.size); // for the browser tests
  } catch (e) {
    prefetchRun = 0; // offline: try again on the next screen from the server
  }
}

// Everything a screen needs once it is in the page (the first one included).
export function afterSwap(swap, { fromServer, focus = true }) {
  if (swap.dataset.title) document.title = swap.dataset.title + " · Mockboard";
  if (swap.dataset.screen === "item") {
    if (fromServer) {
      readNav(swap);
      pageCache.set(cacheKey(swap.dataset.url), swap.outerHTML);
      prefetchBlock();
    }
    showItem(swap);
  }
  if (swap.dataset.screen === "review") paintReview(swap);
  formatDurations(swap);
  if (!closeNavDrawer()) applyPrefs();
  trackBars();
  if (window.htmx && typeof window.htmx.process === "function") window.htmx.process(swap);
  const heading = $("#item-heading", swap);
  if (heading && focus) heading.focus({ preventScroll: true });
  if (focus) window.scrollTo(0, 0);
}

export function goRel(which) {
  const swap = currentSwap();
  if (!swap) return;
  const link = $('[data-nav="' + which + '"]', swap);
  if (link) navigate(link.href);
}

export function goReview() {
  const swap = currentSwap();
  const link = swap && $('a[data-nav="review"]', swap);
  if (link) navigate(link.href);
}

// End Block: only once every queued answer has reached the server. Offline, it says so at
// once and goes on by itself when the connection returns (unless the examinee cancels).
export async function endBlock(href) {
  if (!(await confirmLeave(href))) return;
  queueNote(true);
  if (Net.offline || !navigator.onLine) {
    endWhenOnline(href);
    return;
  }
  const done = await Queue.flush(6000);
  if (!done) {
    toast("Your last answers have not reached the server yet. Wait until the bottom bar says Saved, then end the block.");
    return;
  }
  window.location.assign(href);
}

let pendingEnd = null;
function endWhenOnline(href) {
  let note = document.getElementById("end-pending");
  if (!note) {
    note = document.createElement("div");
    note.id = "end-pending";
    note.className = "end-pending";
    note.setAttribute("role", "alert");
    const text = document.createElement("span");
    text.className = "end-pending-text";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = "Keep working";
    cancel.addEventListener("click", () => {
      pendingEnd = null;
      note.hidden = true;
    });
    note.append(text, cancel);
    root.appendChild(note);
  }
  note.firstChild.textContent =
    "You are offline, so the block cannot end yet. Your answers are kept on this device; End Block will continue as soon as the connection returns.";
  note.hidden = false;
  if (pendingEnd) return;
  pendingEnd = href;
  const resume = async () => {
    if (!pendingEnd) return;
    if (Net.offline || !navigator.onLine) {
      window.addEventListener("online", resume, { once: true });
      return;
    }
    note.firstChild.textContent = "Connection restored. Sending your answers, then ending the block…";
    const done = await Queue.flush(8000);
    const target = pendingEnd;
    if (!target) return;
    if (!done) {
      window.setTimeout(resume, 2000);
      return;
    }
    pendingEnd = null;
    window.location.assign(target);
  };
  window.addEventListener("online", resume, { once: true });
}

// Back / Forward move between screens as links do; the first screen is drawn as if it had
// just arrived from the server.
export function initNavigation() {
  window.addEventListener("popstate", () => {
    const swap = currentSwap();
    if (!swap) return;
    // A fragment link (skip link, lab-values contents) changes only the hash.
    if (swap.dataset.url && cacheKey(location.href) === cacheKey(swap.dataset.url)) return;
    navigate(location.href, { push: false, skipConfirm: true });
  });
}

export function showFirstScreen() {
  const first = currentSwap();
  if (first) {
    history.replaceState({ mb: true }, "", location.href);
    afterSwap(first, { fromServer: true, focus: false });
  }
}
