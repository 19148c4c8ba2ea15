// Small DOM helpers every module uses: queries, screen-reader announcements, toasts and the
// CSRF token for fetch.
import { root } from "./state.js";

export const $ = (sel, scope) => (scope || document).querySelector(sel);
export const $$ = (sel, scope) => Array.from((scope || document).querySelectorAll(sel));

export function announce(text, assertive) {
  const el = document.getElementById(assertive ? "sr-assertive" : "sr-polite");
  if (!el) return;
  el.textContent = "";
  // A fresh text node after a tick makes screen readers announce repeats too.
  window.setTimeout(() => {
    el.textContent = text;
  }, 30);
}

export function toast(text) {
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

export function csrfToken() {
  try {
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
  } catch (e) {
    // fall through to the cookie
  }
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}
