// The on-screen calculator: a four-function calculator with square root, sign change and
// memory, driven by its buttons or, while it has focus, by the keyboard.
import { openDialog } from "./dialogs.js";

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

// The core is pure (no DOM): `createCalculator().press(key)` returns the display, so it is
// tested key by key (tests/e2e/test_tools_panels.py). The window drives one instance.
export function createCalculator() {
  const calc = { display: "0", acc: null, op: null, fresh: true, mem: 0 };
  const reset = () => {
    calc.display = "0";
    calc.acc = null;
    calc.op = null;
    calc.fresh = true;
  };
  function press(key) {
    const cur = parseFloat(calc.display);
    if (calc.display === "Error" && !["C", "CE"].includes(key)) reset();
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
      reset();
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
    return calc.display;
  }
  return {
    press,
    get display() {
      return calc.display;
    },
    get memory() {
      return calc.mem;
    },
  };
}

const calc = createCalculator();

export function calcPress(key) {
  calc.press(key);
  const display = document.getElementById("calc-display");
  if (display) display.textContent = calc.display;
  const mem = document.getElementById("calc-memory");
  if (mem) mem.textContent = calc.memory !== 0 ? "M = " + calcFormat(calc.memory) : "";
}

// A key pressed inside the calculator window; true when the calculator used it.
export function calcKeydown(e) {
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
  // Enter is always "=", as the window's hint says, even on a focused key (Space presses a
  // focused key): otherwise "6*7 Enter" pressed the focused key again and showed 77.
  e.preventDefault();
  calcPress(key);
  return true;
}

// Focus goes to the display, not a key, so typed digits and Enter drive the calculator.
export const openCalculator = () =>
  openDialog(document.getElementById("calc-dialog"), { focus: "#calc-display" });
