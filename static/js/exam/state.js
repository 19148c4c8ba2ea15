// What every exam module shares: the page's attempt (read once from #exam-root's data-*
// attributes) and the few flags that more than one module reads. Nothing else is global.

export const root = document.getElementById("exam-root");

const data = root ? root.dataset : {};
export const attemptId = data.attempt;
export const attemptUrl = data.attemptUrl;
export const clockUrl = data.clockUrl;
export const blockItemsUrl = data.blockItemsUrl;
export const pageScreen = data.screen; // block | between | tutorial | finished
export const pageBlock = data.block ? Number(data.block) : null;

export const state = {
  // Set once the page is on its way to the attempt's current screen (clock.js): nothing new
  // is started after that.
  leaving: false,
};

// The swappable part of the screen (an item, the review table); navigation.js replaces it.
export const currentSwap = () => document.getElementById("exam-swap");

// The item on screen, or null on any other screen.
export function itemInfo() {
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
