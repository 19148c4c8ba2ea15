// The server is the clock. The countdowns run locally from the server's last figures, which
// arrive with every reply (saves, visits, polls). The browser polls only after 60 s without a
// reply, when the tab becomes visible again, and when the wall clock jumps (a sleeping laptop,
// a throttled background tab). Here too: what the page does when time runs out or the server
// has moved on (expired block, overrun break, inactivity), and leaving for the attempt's
// current screen.
import { closeDialog, openDialog } from "./dialogs.js";
import { $, $$, announce } from "./dom.js";
import { hms, spokenTime } from "./format.js";
import { timeShown } from "./prefs.js";
import { Net, Queue, save } from "./queue.js";
import { attemptUrl, clockUrl, itemInfo, pageBlock, pageScreen, state } from "./state.js";

export const Clock = {
  data: null,
  at: 0,
  grace: null, // seconds after a deadline before the server closes the block
  closesAt: null, // performance.now() at which the server closes the open block
  warned: false,
  expired: false,
  overrunAnnounced: false,
  inactiveSnoozedUntil: 0,

  set(c) {
    if (!c || typeof c !== "object") return;
    this.data = c;
    this.at = performance.now();
    if (typeof c.grace_seconds === "number") this.grace = c.grace_seconds;
    // When the server will close this block, on this page's clock, to the millisecond.
    this.closesAt =
      typeof c.closes_in_ms === "number" ? performance.now() + c.closes_in_ms : this.closesAt;
    if (typeof c.last_seq === "number") Queue.seenSeq(c.last_seq);
    this.checkState();
    this.render();
    if (c.inactive && pageScreen === "block" && Date.now() > this.inactiveSnoozedUntil) {
      showInactive();
    }
  },

  left(key) {
    if (!this.data) return null;
    const v = this.data[key];
    if (v === null || v === undefined) return null;
    return v - (performance.now() - this.at) / 1000;
  },

  // The server moved on without us (the sweep closed the block, another tab ended it):
  // go to wherever the attempt now is.
  checkState() {
    const c = this.data;
    const expected = {
      block: "in_block",
      between: "between_blocks",
      tutorial: "tutorial",
      finished: "finished",
    }[pageScreen];
    if (!expected || !c.state) return;
    const moved =
      c.state !== expected ||
      (pageScreen === "block" && pageBlock && c.block_number && c.block_number !== pageBlock);
    if (moved && pageScreen !== "finished") leaveForAttempt("state");
  },

  blockLength(data) {
    if (data && typeof data.block_seconds === "number") {
      this.knownLength = { block: data.block_number, seconds: data.block_seconds };
    }
    const known = this.knownLength;
    return known && data && known.block === data.block_number ? known.seconds : null;
  },

  render() {
    const elapsed = timeShown() === "elapsed";
    $$("[data-clock]").forEach((el) => {
      const v = this.left(el.dataset.clock);
      if (v === null) return;
      let shown = v < 0 && !el.dataset.allowNegative ? 0 : v;
      // The examinee may prefer time elapsed: the same server figures, counted up from the
      // block's length. Warnings and expiry still follow the time remaining.
      // Save and visit replies leave the length out (their one statement does not read it):
      // keep the last one the clock poll gave for this block.
      const length = this.blockLength(this.data);
      if (elapsed && typeof length === "number" && el.closest("#block-timer")) {
        shown = Math.max(0, length - shown);
        el.textContent = hms(Math.floor(shown + 1e-6));
      } else {
        el.textContent = hms(shown);
      }
      el.classList.toggle("is-negative", v < 0);
    });
    const block = this.left("block_remaining");
    const warnAt = (this.data && this.data.warn_seconds) || 120;
    const timer = document.getElementById("block-timer");
    if (timer) timer.classList.toggle("is-warning", block !== null && block <= warnAt);
    if (pageScreen === "block" && block !== null) {
      if (block <= warnAt && block > 0 && !this.warned) {
        this.warned = true;
        const banner = document.getElementById("time-warning");
        if (banner) {
          $(".time-warning-text", banner).textContent =
            "About " + spokenTime(block) + " remain in this block.";
          banner.hidden = false;
        }
        announce("Warning: about " + spokenTime(block) + " remain in this block.", true);
      }
      if (block <= 0 && !this.expired) {
        this.expired = true;
        expireBlock();
      }
    }
    if (pageScreen === "tutorial" && block !== null && block <= 0 && !this.expired) {
      this.expired = true;
      awaitServerMove();
    }
    if (pageScreen === "between") {
      const brk = this.left("break_remaining");
      const warn = document.getElementById("overrun-warning");
      if (brk !== null && warn) {
        warn.hidden = brk >= 0;
        if (brk < 0 && !this.overrunAnnounced) {
          this.overrunAnnounced = true;
          announce("Your break time is used up. Further break time shortens your exam day.", true);
        }
      }
      const day = this.left("day_remaining");
      if (day !== null && day <= 0 && !this.expired) {
        this.expired = true;
        awaitServerMove();
      }
    }
  },

  async poll() {
    if (!clockUrl) return;
    try {
      const res = await fetch(clockUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (res.ok && (res.headers.get("content-type") || "").includes("json")) {
        this.set(await res.json());
        Net.up();
      }
    } catch (e) {
      Net.down();
    }
  },
};

export function leaveForAttempt(why) {
  if (state.leaving) return;
  state.leaving = true;
  // Give queued answers a chance to reach the server before the screen changes.
  Queue.flush(4000).then(() => {
    window.location.assign(attemptUrl);
  });
  return why;
}

// At zero the server closes the block once its grace for answers in flight is over. Wait for
// that moment and then go to the attempt's screen: one request per examinee, where asking the
// clock each second would send a whole cohort's polls at once (their blocks end together).
// A random part of a second spreads the cohort's arrivals. Arriving early costs a request
// more, not an answer: the server's "time is up" page reloads itself when the grace is over.
function awaitServerClose() {
  if (typeof Clock.closesAt !== "number") {
    awaitServerMove();
    return;
  }
  const wait = Math.max(0, Clock.closesAt - performance.now()) + 100 + Math.random() * 1000;
  window.setTimeout(() => leaveForAttempt("expired"), wait);
}

// The tutorial or the exam day ran out: ask the server's clock until it has moved on rather
// than reloading into the same screen.
function awaitServerMove() {
  const started = performance.now();
  const tick = () => {
    if (state.leaving) return;
    if (performance.now() - started > 20000) {
      leaveForAttempt("timeout");
      return;
    }
    Clock.poll().finally(() => window.setTimeout(tick, 1000));
  };
  tick();
}

async function expireBlock() {
  const dlg = document.getElementById("expired-dialog");
  const text = document.getElementById("expired-text");
  // The "about a minute remains" notice is stale now: it must not stay behind the dialog.
  const banner = document.getElementById("time-warning");
  if (banner) banner.hidden = true;
  if (dlg && !dlg.open) dlg.showModal();
  announce("Block time has expired.", true);
  const done = await Queue.flush(4000);
  if (!done && !navigator.onLine) {
    if (text) {
      text.textContent =
        "You are offline. Your last answers are kept on this device and will be sent as soon as the connection is back.";
    }
    window.addEventListener(
      "online",
      () => {
        Queue.flush(6000).then(() => awaitServerClose());
      },
      { once: true }
    );
    return;
  }
  if (text) text.textContent = "Your answers are saved. Closing the block…";
  awaitServerClose();
}

// A save answered 409: the block this entry belongs to has closed on the server.
function onBlockClosed(entry) {
  if (pageScreen === "block" && entry.block === pageBlock) {
    Clock.expired = true;
    leaveForAttempt("closed");
  }
}

// ------------------------------------------------------------------ inactivity

function showInactive() {
  const dlg = document.getElementById("inactive-dialog");
  if (!dlg || dlg.open) return;
  openDialog(dlg, { modal: true });
  announce("Unauthorised break: the clock keeps running.", true);
}

export function resumeFromInactive() {
  const dlg = document.getElementById("inactive-dialog");
  closeDialog(dlg);
  // An empty save (only a seq) tells the server the examinee is back.
  const info = itemInfo();
  if (info) save({});
  Clock.inactiveSnoozedUntil = Date.now() + 60000;
}

// ------------------------------------------------------------------ start-up

// Takes every reply's clock from the save queue. Called before anything is sent.
export function connectClock() {
  Queue.onClock = (c) => Clock.set(c);
  Queue.onBlockClosed = onBlockClosed;
}

// The figures rendered into the page, so the countdown shows before any request. Returns
// whether there were any (without them, startClock polls at once).
export function setInitialClock() {
  const initial = document.getElementById("exam-clock");
  if (initial) {
    try {
      Clock.set(JSON.parse(initial.textContent));
    } catch (e) {
      // the poll started by startClock fills it in
    }
  }
  return !!initial;
}

export function startClock({ hadInitial }) {
  // Between responses the timer counts down on its own; a poll after a minute without any
  // reply from the server only catches what happened elsewhere (another tab, the sweep). A
  // sleeping laptop or a throttled background tab is caught sooner: the render tick notices
  // the wall clock jumping.
  document.addEventListener("mb:prefs", () => Clock.render());
  let lastTick = Date.now();
  window.setInterval(() => {
    const t = Date.now();
    if (t - lastTick > 5000) Clock.poll();
    lastTick = t;
    Clock.render();
  }, 250);
  window.setInterval(() => {
    if (performance.now() - Clock.at >= 60000) Clock.poll();
  }, 5000);
  if (!hadInitial) Clock.poll();
}
