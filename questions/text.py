"""Question HTML as plain text, for lists, pickers and search snippets."""

from __future__ import annotations

import html
import re

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_SPACE = re.compile(r"\s+")
# Block ends become spaces, so "<p>a</p><p>b</p>" reads "a b", not "ab".
_BREAKS = re.compile(r"<(br|/p|/div|/li|/td|/th|/tr|/h[1-6])\b[^>]*>", re.IGNORECASE)


def plain_text(value: str | None, *, limit: int | None = None) -> str:
    """Tags stripped and entities decoded: "10&nbsp;individuals" reads "10 individuals".

    The result is text, not HTML: templates escape it as any other string.
    """
    if not value:
        return ""
    value = _BREAKS.sub(" ", value)
    text = html.unescape(nh3.clean(value, tags=set()))
    text = _SPACE.sub(" ", text.replace("\xa0", " ")).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


# Markers PostgreSQL's ts_headline puts around matches (private-use characters, never typed).
MARK_START = "\ue000"
MARK_STOP = "\ue001"


def highlighted(fragment: str | None) -> SafeString:
    """A ts_headline fragment of plain text as HTML: escaped, matches in <mark>."""
    text = escape(plain_text(fragment or ""))
    return mark_safe(  # noqa: S308 - every character but our markers was escaped above
        text.replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")
    )


def word_diff(old: str | None, new: str | None) -> SafeString:
    """A word diff of two HTML fields' plain text: removed words in <del>, added in <ins>."""
    import difflib

    a, b = plain_text(old).split(), plain_text(new).split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
    return mark_safe(" ".join(out))  # noqa: S308 - every word was escaped above


def version_fields(version) -> dict[str, str]:
    """A version's fields by label, as compared in a diff (HTML fields stay HTML)."""
    fields = {"Stem": version.stem_html}
    for i, option in enumerate(version.options):
        letter = chr(ord("A") + i)
        fields[f"Option {letter}"] = option.get("text", "")
        fields[f"Why {letter}"] = option.get("explanation", "")
    fields["Key"] = chr(ord("A") + version.key_index) + (" (voided)" if version.is_voided else "")
    fields["Explanation"] = version.explanation_html
    fields["Objective"] = version.objective_html
    fields["Difficulty"] = "" if version.difficulty is None else f"{version.difficulty:g}"
    fields["Source"] = version.source
    fields["Licence"] = version.licence
    return fields


def version_diff(old, new) -> list[dict]:
    """The fields that differ between two versions, each with its word diff; a field that
    becomes empty is flagged, since saving or importing it would clear it."""
    before = version_fields(old) if old is not None else {}
    after = version_fields(new)
    rows = []
    for label in list(dict.fromkeys([*before, *after])):
        a, b = before.get(label, ""), after.get(label, "")
        if a == b:
            continue
        rows.append(
            {
                "field": label,
                "diff": word_diff(a, b),
                "is_cleared": bool(plain_text(a)) and not plain_text(b),
            }
        )
    return rows
