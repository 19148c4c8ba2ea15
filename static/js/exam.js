// Mockboard test-day interface: save queue, server clock, item tools and keyboard shortcuts.
//
// Two rules shape everything here:
//  * Never lose an answer. Every action goes into a queue in localStorage *before* it is sent,
//    is sent in order with a per-attempt sequence number, and leaves the queue only when the
//    server has answered it. The server applies a field only if its seq is newer, so replays,
//    retries and a second tab are harmless.
//  * The server is the clock. The timer counts down locally from the server's last figure and
//    re-syncs on every save or visit reply, after 60 s without any reply, when the tab becomes
//    visible again, and when the wall clock jumps, so a sleeping laptop cannot drift it.
//
// No framework; htmx (window.htmx) loads the lab values fragment. CSP forbids inline script and
// style attributes, so state lives in data-* attributes and classes.
(function () {
  "use strict";

  const html = document.documentElement;
  html.classList.add("js");

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ------------------------------------------------------------------ storage

  const store = {
    get(key, fallback) {
      try {
        const raw = window.localStorage.getItem(key);
        return raw === null ? fallback : JSON.parse(raw);
      } catch (e) {
        return fallback;
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(key, JSON.stringify(value));
        return true;
      } catch (e) {
        return false;
      }
    },
  };

  // ------------------------------------------------------------------ formatting

  const pad = (n) => String(n).padStart(2, "0");

  function hms(seconds) {
    const neg = seconds < 0;
    // Count down in whole seconds, showing 00:00:00 only once time is really up.
    let s = neg ? Math.floor(-seconds) : Math.ceil(seconds);
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    return (neg ? "−" : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function spokenTime(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return m ? m + " minute" + (m === 1 ? "" : "s") : s + " seconds";
  }

  function announce(text, assertive) {
    const el = document.getElementById(assertive ? "sr-assertive" : "sr-polite");
    if (!el) return;
    el.textContent = "";
    // A fresh text node after a tick makes screen readers announce repeats too.
    window.setTimeout(() => {
      el.textContent = text;
    }, 30);
  }

  function formatDurations(root) {
    $$("[data-duration]", root).forEach((el) => {
      const v = Number(el.dataset.duration);
      if (!Number.isNaN(v)) el.textContent = duration(v);
    });
  }

  // ------------------------------------------------------------------ display preferences

  const ZOOM_LEVELS = 6;
  const ZOOM_DEFAULT = 1;

  function prefs() {
    return store.get("mb:prefs", {});
  }

  function savePrefs(p) {
    store.set("mb:prefs", p);
    applyPrefs();
  }

  function applyPrefs() {
    const p = prefs();
    const zoom = typeof p.zoom === "number" ? p.zoom : ZOOM_DEFAULT;
    for (let i = 0; i < ZOOM_LEVELS; i++) html.classList.toggle("zoom-" + i, i === zoom);
    html.classList.toggle("reverse-contrast", !!p.contrast);
    html.classList.toggle("nav-hidden", p.navHidden === true);
    $$('[data-action="contrast"]').forEach((b) =>
      b.setAttribute("aria-pressed", p.contrast ? "true" : "false")
    );
    $$('[data-action="toggle-navigator"]').forEach((b) =>
      b.setAttribute("aria-expanded", p.navHidden ? "false" : "true")
    );
  }

  function zoomBy(delta) {
    const p = prefs();
    const current = typeof p.zoom === "number" ? p.zoom : ZOOM_DEFAULT;
    p.zoom = Math.min(ZOOM_LEVELS - 1, Math.max(0, current + delta));
    savePrefs(p);
    announce("Text size " + (p.zoom + 1) + " of " + ZOOM_LEVELS);
  }

  function toggleContrast() {
    const p = prefs();
    p.contrast = !p.contrast;
    savePrefs(p);
    announce(p.contrast ? "Reverse colour on" : "Reverse colour off");
  }

  function toggleNavigator() {
    const p = prefs();
    p.navHidden = !p.navHidden;
    savePrefs(p);
  }

  applyPrefs();
  window.addEventListener("storage", (e) => {
    if (e.key === "mb:prefs") applyPrefs();
  });

  // ------------------------------------------------------------------ pages without an attempt

  function initLabSearch(root) {
    const input = $("[data-lab-search]", root);
    if (!input || input.dataset.bound) return;
    input.dataset.bound = "1";
    input.addEventListener("input", () => {
      const terms = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      $$("[data-lab-row]", root).forEach((row) => {
        const text = (row.textContent + " " + (row.dataset.key || "")).toLowerCase();
        const ok = terms.every((t) => text.includes(t));
        row.hidden = !ok;
        if (ok) shown++;
      });
      $$(".lab-section", root).forEach((sec) => {
        sec.hidden = !$$("[data-lab-row]", sec).some((r) => !r.hidden);
      });
      const empty = $("[data-lab-empty]", root);
      if (empty) empty.hidden = shown > 0;
      const count = $("#lab-count", root);
      if (count) count.textContent = terms.length ? shown + " matching values" : "";
    });
  }

  function initPracticeBuilder() {
    const form = document.getElementById("practice-form");
    if (!form) return;
    $$("[data-check-group]", form).forEach((group) => {
      group.addEventListener("click", (e) => {
        const all = e.target.closest("[data-check-all]");
        const none = e.target.closest("[data-check-none]");
        if (!all && !none) return;
        $$("input[type=checkbox]:not(:disabled)", group).forEach((c) => {
          c.checked = !!all;
        });
        refreshCounts();
      });
    });
    let timer = null;
    form.addEventListener("change", (e) => {
      if (e.target.matches("input[type=checkbox]")) {
        window.clearTimeout(timer);
        timer = window.setTimeout(refreshCounts, 250);
      }
    });
    async function refreshCounts() {
      const params = new URLSearchParams();
      $$("input[type=checkbox]:checked", form).forEach((c) => params.append(c.name, c.value));
      try {
        const res = await fetch(form.dataset.countsUrl + "?" + params.toString(), {
          credentials: "same-origin",
        });
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        $$("[data-pool-count]", doc).forEach((el) => {
          const mine = $('[data-pool-count="' + el.dataset.poolCount + '"]', form);
          if (mine) mine.textContent = el.textContent;
        });
        const help = document.getElementById("pool-help");
        if (help) help.textContent = "Counts updated for the subjects you ticked.";
      } catch (err) {
        // Counts are a convenience; the server checks the pool again on submit.
      }
    }
  }

  formatDurations(document);
  initLabSearch(document);
  initPracticeBuilder();

  const root = document.getElementById("exam-root");
  if (!root) return;

  // ================================================================== exam screens

  const attemptId = root.dataset.attempt;
  const attemptUrl = root.dataset.attemptUrl;
  const clockUrl = root.dataset.clockUrl;
  const pageScreen = root.dataset.screen; // block | between | tutorial | finished
  const pageBlock = root.dataset.block ? Number(root.dataset.block) : null;

  function csrfToken() {
    try {
      const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) {
      // fall through to the cookie
    }
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // ------------------------------------------------------------------ clock

  const Clock = {
    data: null,
    at: 0,
    warned: false,
    expired: false,
    overrunAnnounced: false,
    inactiveSnoozedUntil: 0,

    set(c) {
      if (!c || typeof c !== "object") return;
      this.data = c;
      this.at = performance.now();
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

    render() {
      $$("[data-clock]").forEach((el) => {
        const v = this.left(el.dataset.clock);
        if (v === null) return;
        const shown = v < 0 && !el.dataset.allowNegative ? 0 : v;
        el.textContent = hms(shown);
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
          announce(
            "Warning: about " + spokenTime(block) + " remain in this block.",
            true
          );
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

  let leaving = false;
  function leaveForAttempt(why) {
    if (leaving) return;
    leaving = true;
    // Give queued answers a chance to reach the server before the screen changes.
    Queue.flush(4000).then(() => {
      window.location.assign(attemptUrl);
    });
    return why;
  }

  // At zero the server closes the block (after a few seconds' grace for answers in flight).
  // Ask its clock until it has moved on rather than reloading into the same screen.
  function awaitServerMove() {
    const started = performance.now();
    const tick = () => {
      if (leaving) return;
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
          Queue.flush(6000).then(() => awaitServerMove());
        },
        { once: true }
      );
      return;
    }
    if (text) text.textContent = "Your answers are saved. Closing the block…";
    awaitServerMove();
  }

  // ------------------------------------------------------------------ network state

  const Net = {
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
  window.addEventListener("offline", () => Net.down());
  window.addEventListener("online", () => {
    Net.up();
    Queue.retryNow();
    Clock.poll();
  });

  // ------------------------------------------------------------------ save state indicator

  const SaveState = {
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

  // ------------------------------------------------------------------ the save queue

  const QKEY = "mb:q:" + attemptId;
  const SKEY = "mb:seq:" + attemptId;
  const BACKOFF = [1000, 2000, 4000, 8000, 15000, 30000];
  // If localStorage is unavailable the queue still works for this page's lifetime.
  let memoryQueue = [];
  let storageOk = true;

  const Queue = {
    inflight: false,
    failures: 0,
    retryTimer: null,
    rateLimitedUntil: 0,
    knownSeq: 0,

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
        if (data.clock) Clock.set(data.clock);
        if (res.status === 409) onBlockClosed(entry);
        else if (res.status === 423) onLocked(entry);
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

  window.addEventListener("storage", (e) => {
    if (e.key === QKEY) {
      SaveState.render();
      Queue.pump();
    }
  });

  function onBlockClosed(entry) {
    if (pageScreen === "block" && entry.block === pageBlock) {
      Clock.expired = true;
      leaveForAttempt("closed");
    }
  }

  function onLocked(entry) {
    const swap = currentSwap();
    if (swap && swap.dataset.screen === "item" && Number(swap.dataset.position) === entry.pos) {
      swap.dataset.locked = "1";
      const fs = $("fieldset.options", swap);
      if (fs) fs.disabled = true;
    }
    toast("That answer is locked and could not be changed.");
  }

  // ------------------------------------------------------------------ toasts

  function toast(text) {
    let el = document.getElementById("exam-toast");
    if (!el) {
      el = document.createElement("div");
      el.id = "exam-toast";
      el.className = "exam-toast";
      el.setAttribute("role", "status");
      root.appendChild(el);
    }
    el.textContent = text;
    el.hidden = false;
    window.clearTimeout(el._t);
    el._t = window.setTimeout(() => {
      el.hidden = true;
    }, 6000);
  }

  // ------------------------------------------------------------------ item state

  const currentSwap = () => document.getElementById("exam-swap");
  const navState = new Map(); // position -> {answered, marked}
  const pageCache = new Map(); // url -> outerHTML of #exam-swap, for offline navigation

  function itemInfo() {
    const swap = currentSwap();
    if (!swap || swap.dataset.screen !== "item") return null;
    return {
      swap,
      pos: Number(swap.dataset.position),
      url: swap.dataset.saveUrl,
      locked: swap.dataset.locked === "1",
      mode: swap.dataset.mode,
      submitted: swap.dataset.submitted === "1",
    };
  }

  function save(fields) {
    const info = itemInfo();
    if (!info) return;
    Queue.add(info.url, info.pos, pageBlock, fields);
  }

  function readNav(swap) {
    $$(".nav-item[data-pos]", swap).forEach((a) => {
      navState.set(Number(a.dataset.pos), {
        answered: a.classList.contains("is-answered"),
        marked: a.classList.contains("is-marked"),
      });
    });
  }

  function paintNav(swap) {
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

  // ------------------------------------------------------------------ answering

  function optionEls(swap) {
    return $$(".option", swap || currentSwap());
  }

  function choose(optionEl) {
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

  function onChoiceChange(radio) {
    const info = itemInfo();
    if (!info) return;
    info.swap.dataset.choice = radio.value;
    if (info.mode === "tutor") {
      // Tutor mode: the choice is sent by "Submit answer", because sending it reveals the key.
      return;
    }
    save({ choice: radio.value });
    setNav(info.pos, { answered: true });
  }

  async function submitTutor() {
    const info = itemInfo();
    if (!info) return;
    const checked = $('input[name="choice"]:checked', info.swap);
    if (!checked) {
      toast("Choose an answer first.");
      return;
    }
    save({ choice: checked.value });
    setNav(info.pos, { answered: true });
    const done = await Queue.flush(8000);
    if (!done) {
      toast("Your answer is kept on this device and will be submitted when the connection is back.");
      return;
    }
    navigate(info.swap.dataset.url, { push: false, skipConfirm: true });
  }

  function paintStrike(optionEl, on) {
    optionEl.classList.toggle("is-struck", on);
    const btn = $(".strike-btn", optionEl);
    if (btn) btn.setAttribute("aria-pressed", on ? "true" : "false");
    const note = $(".struck-note", optionEl);
    if (note) note.textContent = on ? " (struck out)" : "";
  }

  function toggleStrike(optionEl) {
    const info = itemInfo();
    if (!info || !optionEl) return;
    const on = !optionEl.classList.contains("is-struck");
    paintStrike(optionEl, on);
    const struck = optionEls(info.swap)
      .filter((o) => o.classList.contains("is-struck"))
      .map((o) => o.dataset.index);
    save({ struck: struck.join(",") });
    announce("Option " + optionEl.dataset.letter + (on ? " struck out" : " restored"));
  }

  function toggleMark(fromKeyboard) {
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

  // ------------------------------------------------------------------ highlights

  function getHighlights(stem) {
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
  function setHighlights(stem, spans) {
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

  function highlightSelection() {
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

  function removeHighlightAt(stem, mark) {
    const pre = document.createRange();
    pre.selectNodeContents(stem);
    pre.setEndBefore(mark);
    const at = pre.toString().length;
    const spans = getHighlights(stem).filter((s) => !(s[0] <= at && at < s[1]));
    setHighlights(stem, spans);
    save({ highlights: JSON.stringify(spans) });
    announce("Highlight removed");
  }

  // ------------------------------------------------------------------ notes

  let noteTimer = null;
  function queueNote(immediate) {
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

  // ------------------------------------------------------------------ dialogs

  const dialogStack = [];

  function openDialog(dlg, { modal = false, focus } = {}) {
    if (!dlg) return;
    if (dlg.open) {
      const target = focus ? $(focus, dlg) : null;
      (target || dlg).focus();
      return;
    }
    dlg._opener = document.activeElement;
    if (modal) dlg.showModal();
    else dlg.show();
    dialogStack.push(dlg);
    const target = (focus && $(focus, dlg)) || $("button, input, textarea, [tabindex]", dlg);
    if (target) target.focus();
  }

  function closeDialog(dlg) {
    if (!dlg || !dlg.open) return;
    dlg.close();
  }

  document.addEventListener(
    "close",
    (e) => {
      const dlg = e.target;
      if (!(dlg instanceof HTMLDialogElement)) return;
      const i = dialogStack.indexOf(dlg);
      if (i >= 0) dialogStack.splice(i, 1);
      if (dlg.id === "notes-dialog") queueNote(true);
      const opener = dlg._opener;
      if (opener && document.contains(opener)) opener.focus();
    },
    true
  );

  function closeTopDialog() {
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
  function confirmDialog(text, yesLabel) {
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

  function showInactive() {
    const dlg = document.getElementById("inactive-dialog");
    if (!dlg || dlg.open) return;
    openDialog(dlg, { modal: true });
    announce("Unauthorised break: the clock keeps running.", true);
  }

  function resumeFromInactive() {
    const dlg = document.getElementById("inactive-dialog");
    closeDialog(dlg);
    // An empty save (only a seq) tells the server the examinee is back.
    const info = itemInfo();
    if (info) save({});
    Clock.inactiveSnoozedUntil = Date.now() + 60000;
  }

  // ------------------------------------------------------------------ lab values

  let labLoading = null;
  function loadLabs() {
    const body = document.getElementById("lab-body");
    if (!body) return Promise.resolve();
    if (body.dataset.loaded) return Promise.resolve();
    if (labLoading) return labLoading;
    const url = body.dataset.url;
    const done = () => {
      body.dataset.loaded = "1";
      initLabSearch(body);
    };
    if (window.htmx && typeof window.htmx.ajax === "function") {
      labLoading = window.htmx
        .ajax("GET", url, { target: body, swap: "innerHTML" })
        .then(() => {
          if ($(".lab-values", body)) done();
        })
        .catch(() => {})
        .finally(() => {
          labLoading = null;
        });
    } else {
      labLoading = fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then((r) => r.text())
        .then((t) => {
          body.innerHTML = t;
          done();
        })
        .catch(() => {})
        .finally(() => {
          labLoading = null;
        });
    }
    return labLoading;
  }

  async function openLabs() {
    const dlg = document.getElementById("lab-dialog");
    if (!dlg) return;
    openDialog(dlg);
    await loadLabs();
    const search = $("[data-lab-search]", dlg);
    if (search && dlg.open) search.focus();
  }

  // ------------------------------------------------------------------ calculator

  const calc = { display: "0", acc: null, op: null, fresh: true, mem: 0 };

  function calcFormat(n) {
    if (!Number.isFinite(n)) return "Error";
    const p = parseFloat(n.toPrecision(12));
    const s = String(p);
    return s.length > 14 ? p.toExponential(8) : s;
  }

  function calcApply(a, b, op) {
    switch (op) {
      case "+":
        return a + b;
      case "-":
        return a - b;
      case "*":
        return a * b;
      case "/":
        return b === 0 ? NaN : a / b;
      default:
        return b;
    }
  }

  function calcPress(key) {
    const cur = parseFloat(calc.display);
    if (calc.display === "Error" && !["C", "CE"].includes(key)) calcReset();
    if (/^[0-9]$/.test(key)) {
      if (calc.fresh || calc.display === "0") calc.display = key;
      else if (calc.display.replace(/[-.]/g, "").length < 14) calc.display += key;
      calc.fresh = false;
    } else if (key === ".") {
      if (calc.fresh) calc.display = "0.";
      else if (!calc.display.includes(".")) calc.display += ".";
      calc.fresh = false;
    } else if (["+", "-", "*", "/"].includes(key)) {
      if (calc.op && calc.acc !== null && !calc.fresh) {
        calc.display = calcFormat(calcApply(calc.acc, cur, calc.op));
      }
      calc.acc = parseFloat(calc.display);
      calc.op = key;
      calc.fresh = true;
    } else if (key === "=") {
      if (calc.op && calc.acc !== null) {
        calc.display = calcFormat(calcApply(calc.acc, cur, calc.op));
        calc.acc = null;
        calc.op = null;
      }
      calc.fresh = true;
    } else if (key === "sqrt") {
      calc.display = cur < 0 ? "Error" : calcFormat(Math.sqrt(cur));
      calc.fresh = true;
    } else if (key === "neg") {
      if (calc.display !== "0") calc.display = calcFormat(-cur);
    } else if (key === "C") {
      calcReset();
    } else if (key === "CE") {
      calc.display = "0";
      calc.fresh = true;
    } else if (key === "back") {
      if (!calc.fresh) calc.display = calc.display.length > 1 ? calc.display.slice(0, -1) : "0";
      if (calc.display === "-") calc.display = "0";
    } else if (key === "MC") {
      calc.mem = 0;
    } else if (key === "MR") {
      calc.display = calcFormat(calc.mem);
      calc.fresh = true;
    } else if (key === "M+") {
      calc.mem += Number.isFinite(cur) ? cur : 0;
      calc.fresh = true;
    } else if (key === "M-") {
      calc.mem -= Number.isFinite(cur) ? cur : 0;
      calc.fresh = true;
    }
    const display = document.getElementById("calc-display");
    if (display) display.textContent = calc.display;
    const mem = document.getElementById("calc-memory");
    if (mem) mem.textContent = calc.mem !== 0 ? "M = " + calcFormat(calc.mem) : "";
  }

  function calcReset() {
    calc.display = "0";
    calc.acc = null;
    calc.op = null;
    calc.fresh = true;
  }

  function calcKeydown(e) {
    const k = e.key;
    let key = null;
    if (/^[0-9]$/.test(k) || ["+", "-", "*", "/", "."].includes(k)) key = k;
    else if (k === "x" || k === "X") key = "*";
    else if (k === "Enter" || k === "=") key = "=";
    else if (k === "Backspace") key = "back";
    else if (k === "Delete") key = "CE";
    else if (k === "c" || k === "C") key = "C";
    else if (k === "r" || k === "R") key = "sqrt";
    if (!key) return false;
    // Enter on a focused calculator button presses that button instead.
    if (k === "Enter" && e.target.matches && e.target.matches("button[data-calc]")) return false;
    e.preventDefault();
    calcPress(key);
    return true;
  }

  // ------------------------------------------------------------------ navigation

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
  async function navigate(url, { push = true, skipConfirm = false } = {}) {
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
  const blockItemsUrl = root.dataset.blockItemsUrl;
  let prefetchRun = 0;
  async function prefetchBlock() {
    if (!blockItemsUrl || prefetchRun) return;
    prefetchRun = 1;
    await new Promise((r) => setTimeout(r, 1500 + Math.random() * 8000));
    if (Net.offline || leaving) return;
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

  function afterSwap(swap, { fromServer, focus = true }) {
    if (swap.dataset.title) document.title = swap.dataset.title + " · Mockboard";
    if (swap.dataset.screen === "item") {
      if (fromServer) {
        readNav(swap);
        pageCache.set(cacheKey(swap.dataset.url), swap.outerHTML);
        prefetchBlock();
      }
      const stem = $("#stem", swap);
      setHighlights(stem, getHighlights(stem));
      const ta = $("#note-text", swap);
      if (ta) ta.dataset.savedValue = ta.value;
      overlayPending(swap);
      paintNav(swap);
      if (swap.dataset.setKind === "sequential" && swap.dataset.locked === "1") {
        const fs = $("fieldset.options", swap);
        if (fs) fs.disabled = true;
      }
    }
    if (swap.dataset.screen === "review") paintReview(swap);
    formatDurations(swap);
    applyPrefs();
    if (window.htmx && typeof window.htmx.process === "function") window.htmx.process(swap);
    const heading = $("#item-heading", swap);
    if (heading && focus) heading.focus({ preventScroll: true });
    if (focus) window.scrollTo(0, 0);
  }

  // The review table comes from the server; pending local changes are shown on top of it.
  function paintReview(swap) {
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

  window.addEventListener("popstate", () => {
    const swap = currentSwap();
    if (!swap) return;
    // A fragment link (skip link, lab-values contents) changes only the hash.
    if (swap.dataset.url && cacheKey(location.href) === cacheKey(swap.dataset.url)) return;
    navigate(location.href, { push: false, skipConfirm: true });
  });

  function goRel(which) {
    const swap = currentSwap();
    if (!swap) return;
    const link = $('[data-nav="' + which + '"]', swap);
    if (link) navigate(link.href);
  }

  function goReview() {
    const swap = currentSwap();
    const link = swap && $('a[data-nav="review"]', swap);
    if (link) navigate(link.href);
  }

  async function endBlock(href) {
    if (!(await confirmLeave(href))) return;
    queueNote(true);
    const done = await Queue.flush(6000);
    if (!done) {
      toast("Your last answers have not reached the server yet. Wait until the bottom bar says Saved, then end the block.");
      return;
    }
    window.location.assign(href);
  }

  // ------------------------------------------------------------------ events

  document.addEventListener("change", (e) => {
    const t = e.target;
    if (t.matches('#answer-form input[name="choice"]')) onChoiceChange(t);
    else if (t.matches("#mark-box")) toggleMark(false);
  });

  document.addEventListener("input", (e) => {
    if (e.target.matches("#note-text")) queueNote(false);
  });

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form.id === "answer-form") {
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
        submitTutor();
        break;
      case "clear-highlights": {
        const stem = $("#stem", currentSwap());
        setHighlights(stem, []);
        save({ highlights: "[]" });
        break;
      }
      case "toggle-navigator":
        toggleNavigator();
        break;
      case "labs":
        e.preventDefault();
        openLabs();
        break;
      case "calculator":
        openDialog(document.getElementById("calc-dialog"), { focus: 'button[data-calc="7"]' });
        break;
      case "notes":
        openDialog(document.getElementById("notes-dialog"), { focus: "#note-text" });
        break;
      case "help":
        openDialog(document.getElementById("help-dialog"), { modal: true });
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
    // Inside the lab-values window, contents links scroll the window instead of the page URL.
    const toc = e.target.closest && e.target.closest("#lab-dialog .lab-toc a");
    if (toc) {
      e.preventDefault();
      const target = document.getElementById(toc.getAttribute("href").slice(1));
      if (target) target.scrollIntoView({ block: "start" });
    }
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

  const TYPING = "input[type=text], input[type=search], input[type=number], textarea, select, [contenteditable]";

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    const t = e.target;
    if (e.key === "Escape") {
      if (closeTopDialog()) e.preventDefault();
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
        openDialog(document.getElementById("calc-dialog"), { focus: 'button[data-calc="7"]' });
        break;
      case "notes":
        if (!onItem) return;
        openDialog(document.getElementById("notes-dialog"), { focus: "#note-text" });
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
        openDialog(document.getElementById("help-dialog"), { modal: true });
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
  });

  // ------------------------------------------------------------------ start-up

  const initial = document.getElementById("exam-clock");
  if (initial) {
    try {
      Clock.set(JSON.parse(initial.textContent));
    } catch (e) {
      // the poll below fills it in
    }
  }
  const first = currentSwap();
  if (first) {
    history.replaceState({ mb: true }, "", location.href);
    afterSwap(first, { fromServer: true, focus: false });
  }
  SaveState.render();
  // Replay anything a crash or reload left behind.
  Queue.pump();
  // Between responses the timer counts down on its own; a poll after a minute without any
  // reply from the server only catches what happened elsewhere (another tab, the sweep). A
  // sleeping laptop or a throttled background tab is caught sooner: the render tick notices
  // the wall clock jumping.
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
  if (!initial) Clock.poll();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      Clock.poll();
      Queue.pump();
    }
  });
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) Clock.poll();
  });
  if (pageScreen === "block") {
    // Loaded ahead so the lab values open instantly, and offline too.
    window.setTimeout(loadLabs, 1500);
  }
  // Every handler is in place (keyboard shortcuts included): the browser tests wait for this.
  root.dataset.ready = "1";
})();
