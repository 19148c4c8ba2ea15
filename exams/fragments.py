"""An item's examinee-facing markup that depends on its question version alone, rendered once.

A block's bundle renders every item of the block, and a whole cohort fetches its bundles in the
same seconds after a deadline; the answer options are most of that template work and are the
same for every examinee shown the version. So they are rendered once per version and kept in
this process, with a slot wherever the examinee's own state goes (chosen, struck out, the tutor's
marks after a submitted answer); each request fills the slots, which is a join of strings.

Why this is safe to share:
* a version is immutable (questions.models.QuestionVersion): a new edit is a new row, so a new
  key, and the key also holds the content hash in case a row is ever rewritten in place;
* the template is given the option texts and indices and nothing else: no key, explanation or
  statistic can reach the shared markup (the tutor's marks come only through the slots);
* the cache is this process's memory, so a Redis outage cannot touch an exam page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from questions.models import QuestionVersion

# The importers refuse NUL, so it marks a slot; one that reached an option's text anyway is
# shown as U+FFFD, as an HTML parser would show it.
_MARK = "\x00"
_OPTION_SLOTS = ("class", "checked", "struck_note", "pressed")
MAX_FRAGMENTS = 4096  # ~3 KB each: a full-length form is 320 versions, a large bank a few thousand


@dataclass(frozen=True)
class Fragment:
    """Rendered markup split at its slots: parts[0::2] are markup, parts[1::2] slot names."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, rendered: str) -> Fragment:
        parts = tuple(rendered.split(_MARK))
        if len(parts) % 2 == 0:
            raise ValueError("unbalanced slot marker in a rendered fragment")
        return cls(parts)

    def fill(self, values: dict[str, str]) -> SafeString:
        out = list(self.parts)
        out[1::2] = [values[name] for name in self.parts[1::2]]
        return mark_safe("".join(out))  # noqa: S308 - our template's output; slot values are fixed strings


class _Store:
    """A bounded LRU of fragments, shared by the threads of one process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple, Fragment] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Fragment | None:
        with self.lock:
            found = self.items.get(key)
            if found is None:
                self.misses += 1
                return None
            self.items.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple, fragment: Fragment) -> None:
        with self.lock:
            self.items[key] = fragment
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.hits = self.misses = 0


store = _Store(MAX_FRAGMENTS)


def _slot(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


def _render_options(version: QuestionVersion) -> str:
    options = []
    for i, opt in enumerate(version.options):
        text = opt.get("text", "").replace(_MARK, "\ufffd")
        row = {"index": i, "letter": chr(65 + i), "html": mark_safe(text)}  # noqa: S308 - sanitised on import
        for name in _OPTION_SLOTS:
            row[f"slot_{name}"] = mark_safe(_slot(f"{name}:{i}"))  # noqa: S308
        options.append(row)
    return render_to_string("exams/_item_options.html", {"options": options})


def options_fragment(version: QuestionVersion) -> Fragment:
    """The version's options with their slots, from the store or rendered now."""
    key = (version.pk, version.content_hash)
    found = store.get(key)
    if found is not None:
        return found
    fragment = Fragment.parse(_render_options(version))
    store.put(key, fragment)
    return fragment


def option_states(
    *,
    count: int,
    choice: int | None,
    struck: Iterable[int],
    key_index: int | None = None,
) -> dict[str, str]:
    """The slot values of one examinee's view of the options. `key_index` is given only when
    the tutor's answer is to be shown (tutor mode, answer submitted, key allowed)."""
    struck = set(struck)
    values = {}
    for i in range(count):
        classes = ""
        if i in struck:
            classes += " is-struck"
        if key_index is not None and i == key_index:
            classes += " is-key"
        if key_index is not None and i == choice and i != key_index:
            classes += " is-wrong"
        values[f"class:{i}"] = classes
        values[f"checked:{i}"] = " checked" if choice == i else ""
        values[f"struck_note:{i}"] = " (struck out)" if i in struck else ""
        values[f"pressed:{i}"] = "true" if i in struck else "false"
    return values


def options_html(
    *,
    version: QuestionVersion,
    choice: int | None,
    struck: Iterable[int],
    key_index: int | None = None,
) -> SafeString:
    """The options as one examinee sees them: the version's fragment with their state."""
    values = option_states(
        count=len(version.options), choice=choice, struck=struck, key_index=key_index
    )
    return options_fragment(version).fill(values)


def highlights_attr(highlights: Iterable) -> str:
    """The stem's saved highlights as the data attribute highlights.js reads: "s-e,s-e"."""
    return ",".join(f"{h[0]}-{h[1]}" for h in highlights)


def stem_html(version: QuestionVersion) -> SafeString:
    return mark_safe(version.stem_html)  # noqa: S308 - sanitised on import
