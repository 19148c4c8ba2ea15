// How times are written: the countdowns, durations in the time summaries, spoken warnings.
import { $$ } from "./dom.js";

const pad = (n) => String(n).padStart(2, "0");

export function hms(seconds) {
  const neg = seconds < 0;
  // Count down in whole seconds, showing 00:00:00 only once time is really up.
  let s = neg ? Math.floor(-seconds) : Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return (neg ? "−" : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
}

export function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
}

export function spokenTime(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m ? m + " minute" + (m === 1 ? "" : "s") : s + " seconds";
}

export function formatDurations(root) {
  $$("[data-duration]", root).forEach((el) => {
    const v = Number(el.dataset.duration);
    if (!Number.isNaN(v)) el.textContent = duration(v);
  });
}
