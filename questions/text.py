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
