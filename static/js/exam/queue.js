// The save queue: never lose an answer. Every change goes into localStorage *before* it is
// sent, is sent in order with a per-attempt sequence number, and leaves the queue only when the
// server has answered it. The server applies a field only if its seq is newer, so replays
// (after a crash, a reload or coming back online), retries and a second tab are harmless.
// Also here: the connection state and the bottom bar's Saved / Saving… / Offline indicator,
// which both follow the queue.
import { $, announce, csrfToken, toast } from "./dom.js";
import { attemptId, currentSwap, itemInfo, pageBlock } from "./state.js";
import { store } from "./storage.js";

// ------------------------------------------------------------------ network state

export const Net = {
  offline: !navigator.onLine,
  down() {
    if (!this.offline) {
      this.offline = true;
      announce("Connection lost. Keep going: your answers are kept on this device.", true);
    }
    SaveState.render();
  },
  up() {
    if (this.offline) {
      this.offline = false;
      announce("Connection restored. Sending your saved answers.");
      Queue.pump();
    }
    SaveState.render();
  },
};

// ------------------------------------------------------------------ save state indicator

export const SaveState = {
  problem: "",
  showSavingTimer: null,
  render() {
    const el = document.getElementById("save-state");
    if (!el) return;
    const pending = Queue.read().length;
    let state;
    let text;
    if (Net.offline) {
      state = "offline";
      text =
        "Offline — answers kept on this device" +
        (pending ? " (" + pending + " waiting to send)" : "");
    } else if (this.problem && pending) {
      state = "error";
      text = this.problem;
    } else if (pending) {
      state = "saving";
      text = "Saving…";
    } else {
      state = "saved";
      text = "Saved";
    }
    if (el.dataset.state === state && $(".save-text", el).textContent === text) return;
    el.dataset.state = state;
    $(".save-text", el).textContent = text;
  },
};

// ------------------------------------------------------------------ the queue

const QKEY = "mb:q:" + attemptId;
const SKEY = "mb:seq:" + attemptId;
const BACKOFF = [1000, 2000, 4000, 8000, 15000, 30000];
// If localStorage is unavailable the queue still works for this page's lifetime.
let memoryQueue = [];
let storageOk = true;

export const Queue = {
  inflight: false,
  failures: 0,
  retryTimer: null,
  rateLimitedUntil: 0,
  knownSeq: 0,
  // What a reply means for the rest of the page. clock.js sets these: the clock sits above
  // the queue (it empties the queue before the screen changes), so the queue calls up through
  // them rather than importing it.
  onClock: null, // (clock) the server's clock figures, carried by every answered reply
  onBlockClosed: null, // (entry) 409: the block closed before this entry arrived

  read() {
    if (!storageOk) return memoryQueue.slice();
    const q = store.get(QKEY, []);
    return Array.isArray(q) ? q : [];
  },

  write(q) {
    q.sort((a, b) => a.seq - b.seq);
    if (storageOk && !store.set(QKEY, q)) storageOk = false;
    memoryQueue = q.slice();
  },

  seenSeq(n) {
    if (n > this.knownSeq) this.knownSeq = n;
  },

  // Read-increment-write on a counter shared by this attempt's tabs. Two tabs racing may
  // take the same number; the server then keeps one value per field, which is harmless.
  nextSeq() {
    const stored = Number(store.get(SKEY, 0)) || 0;
    const inQueue = this.read().reduce((m, e) => Math.max(m, e.seq), 0);
    const seq = Math.max(stored, this.knownSeq, inQueue) + 1;
    store.set(SKEY, seq);
    this.knownSeq = seq;
    return seq;
  },

  add(url, pos, block, fields) {
    const entry = { seq: this.nextSeq(), url, pos, block, fields, at: Date.now() };
    const q = this.read();
    q.push(entry);
    this.write(q);
    SaveState.render();
    this.pump();
    return entry;
  },

  remove(seq) {
    this.write(this.read().filter((e) => e.seq !== seq));
  },

  retryNow() {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.failures = 0;
    this.pump();
  },

  scheduleRetry(afterMs) {
    if (this.retryTimer) return;
    const base =
      afterMs === undefined ? BACKOFF[Math.min(this.failures++, BACKOFF.length - 1)] : afterMs;
    const delay = base + Math.floor(Math.random() * 400);
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delay);
  },

  async pump() {
    if (this.inflight || this.retryTimer) return;
    const q = this.read();
    if (!q.length) {
      SaveState.problem = "";
      SaveState.render();
      return;
    }
    const entry = q[0];
    this.inflight = true;
    SaveState.render();
    const body = new URLSearchParams();
    body.set("seq", String(entry.seq));
    Object.keys(entry.fields || {}).forEach((k) => body.set(k, entry.fields[k]));
    let res;
    try {
      res = await fetch(entry.url, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: {
          "X-CSRFToken": csrfToken(),
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        },
        body: body.toString(),
      });
    } catch (e) {
      this.inflight = false;
      Net.down();
      this.scheduleRetry();
      return;
    }
    let data = null;
    const isJson = (res.headers.get("content-type") || "").includes("json");
    if (isJson) {
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
    }
    this.inflight = false;
    if (res.status === 429) {
      // Too many requests this second (the server's per-attempt limit): keep the entry and
      // send it again once the server says so. Not a failure: no growing backoff.
      const wait = Number(res.headers.get("Retry-After"));
      const waitMs = (Number.isFinite(wait) && wait > 0 ? wait : 1) * 1000;
      this.rateLimitedUntil = performance.now() + waitMs;
      this.scheduleRetry(waitMs);
      return;
    }
    if (res.status === 400 || res.status === 413) {
      // Refused for good (a value out of range, a body too large): sending it again would
      // be refused again, so drop it rather than retry forever.
      this.remove(entry.seq);
      this.failures = 0;
      Net.up();
      toast("One change could not be saved (the server did not accept it).");
      this.pump();
      return;
    }
    if (data && [200, 409, 423].includes(res.status)) {
      // Answered: the server applied it, ignored it as stale, or refused it for good.
      this.remove(entry.seq);
      this.failures = 0;
      SaveState.problem = "";
      Net.up();
      if (data.clock && this.onClock) this.onClock(data.clock);
      if (res.status === 409) {
        if (this.onBlockClosed) this.onBlockClosed(entry);
      } else if (res.status === 423) onLocked(entry);
      this.pump();
      return;
    }
    // Signed out (a login page instead of JSON), CSRF failure, or a server error: keep the
    // entry and try again; the examinee keeps working meanwhile.
    Net.up();
    SaveState.problem =
      res.status === 403 || res.redirected || !isJson
        ? "Not saved — please sign in again (answers kept on this device)"
        : "Not saved yet — retrying (answers kept on this device)";
    this.scheduleRetry();
    SaveState.render();
  },

  // Resolves true once the queue is empty, false after `ms`.
  flush(ms) {
    const until = performance.now() + ms;
    return new Promise((resolve) => {
      const check = () => {
        if (!this.read().length) return resolve(true);
        if (performance.now() > until) return resolve(false);
        // A wait the server asked for (429) is kept; a backoff after a failure is cut short.
        const limited = performance.now() < this.rateLimitedUntil;
        if (!this.inflight && this.retryTimer && navigator.onLine && !limited) this.retryNow();
        else this.pump();
        window.setTimeout(check, 100);
      };
      check();
    });
  },

  // Pending values for one item, oldest first, so the newest wins when applied in order.
  pendingFor(pos, block) {
    return this.read().filter((e) => e.pos === pos && (!block || !e.block || e.block === block));
  },
};

// Queues a change to the item on screen: the only way an answer, mark, strike-out, highlight
// or note reaches the server.
export function save(fields) {
  const info = itemInfo();
  if (!info) return;
  Queue.add(info.url, info.pos, pageBlock, fields);
}

// 423: the item is locked on the server (a sequential set left behind): show it read-only.
function onLocked(entry) {
  const swap = currentSwap();
  if (swap && swap.dataset.screen === "item" && Number(swap.dataset.position) === entry.pos) {
    swap.dataset.locked = "1";
    const fs = $("fieldset.options", swap);
    if (fs) fs.disabled = true;
  }
  toast("That answer is locked and could not be changed.");
}

// Another tab of this attempt changed the queue: show it, and help send it.
export function initQueue() {
  window.addEventListener("storage", (e) => {
    if (e.key === QKEY) {
      SaveState.render();
      Queue.pump();
    }
  });
}
