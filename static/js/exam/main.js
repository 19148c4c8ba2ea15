// Mockboard test-day interface: the entry point, loaded with <script type="module"> on every
// exam page. It only wires the modules together, in this order; each rule lives in the module
// named after it (docs/test-day-interface.md, "Front-end modules").
//
// Two rules shape everything:
//  * Never lose an answer (queue.js). Every action goes into a queue in localStorage *before*
//    it is sent, is sent in order with a per-attempt sequence number, and leaves the queue only
//    when the server has answered it.
//  * The server is the clock (clock.js). The timer counts down locally from the server's last
//    figures and re-syncs on every response (saves, visits, polls); it polls after 60 s without
//    a reply, when the tab becomes visible again and when the wall clock jumps, so a sleeping
//    laptop cannot drift it.
//
// No framework; htmx (window.htmx) loads the lab values fragment. CSP forbids inline script and
// style attributes, so state lives in data-* attributes and classes.
import { initActions } from "./actions.js";
import { Clock, connectClock, setInitialClock, startClock } from "./clock.js";
import { initDialogs } from "./dialogs.js";
import { formatDurations } from "./format.js";
import { initNotes } from "./item.js";
import { initLabSearch, loadLabs } from "./labs.js";
import { initNavigation, showFirstScreen } from "./navigation.js";
import { initPanels } from "./panels.js";
import { initPracticeBuilder } from "./practice.js";
import { initPrefs } from "./prefs.js";
import { initQueue, Net, Queue, SaveState } from "./queue.js";
import { initShortcuts } from "./shortcuts.js";
import { pageScreen, root } from "./state.js";

document.documentElement.classList.add("js");
initPrefs();

// Pages without an attempt (My exams, the practice builder, the lab values page).
formatDurations(document);
initLabSearch(document);
initPracticeBuilder();

if (root) startExam();

function startExam() {
  connectClock();
  window.addEventListener("offline", () => Net.down());
  window.addEventListener("online", () => {
    Net.up();
    Queue.retryNow();
    Clock.poll();
  });
  initQueue();
  initDialogs();
  initPanels();
  initNotes();
  initNavigation();
  initActions();
  initShortcuts();

  const hadInitial = setInitialClock();
  showFirstScreen();
  SaveState.render();
  // Replay anything a crash or reload left behind.
  Queue.pump();
  startClock({ hadInitial });
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
}
