// A small formatting toolbar for the question editor's HTML fields. A plain textarea keeps
// the HTML the server sanitises (questions/formats/common.py) exactly what the instructor
// sees, and needs no inline style or script, so it works under the site's strict CSP.
const BUTTONS = [
  ["b", "Bold", "<strong>", "</strong>"],
  ["i", "Italic", "<em>", "</em>"],
  ["x²", "Superscript", "<sup>", "</sup>"],
  ["x₂", "Subscript", "<sub>", "</sub>"],
  ["¶", "Paragraph", "<p>", "</p>"],
  ["•", "List item", "<li>", "</li>"],
];

function wrap(area, before, after) {
  const { selectionStart: start, selectionEnd: end, value } = area;
  area.setRangeText(before + value.slice(start, end) + after, start, end, "end");
  area.focus();
  area.dispatchEvent(new Event("input", { bubbles: true }));
}

function insertImage(area) {
  const name = window.prompt("File name of an image added below (or already in this question):");
  if (name) wrap(area, `<img src="media:${name}" alt="`, `">`);
}

export function enhance(area) {
  if (area.dataset.toolbar) return;
  area.dataset.toolbar = "1";
  const bar = document.createElement("div");
  bar.className = "editor-toolbar";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Formatting");
  for (const [label, title, before, after] of BUTTONS) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.title = title;
    button.setAttribute("aria-label", title);
    button.addEventListener("click", () => wrap(area, before, after));
    bar.append(button);
  }
  const image = document.createElement("button");
  image.type = "button";
  image.textContent = "🖼";
  image.title = "Image";
  image.setAttribute("aria-label", "Insert image");
  image.addEventListener("click", () => insertImage(area));
  bar.append(image);
  area.before(bar);
}

document.querySelectorAll("textarea[data-rich]").forEach(enhance);
