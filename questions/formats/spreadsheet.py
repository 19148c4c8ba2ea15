"""Formula-safe CSV for every export: a cell a spreadsheet would run as a formula is text.

Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ (or their full-width
forms, or a tab/CR before them) as a formula, which can run commands or leak data through
=HYPERLINK. Such cells get a leading apostrophe, the convention the spreadsheets themselves use.
Numbers stay numbers, so analytics columns such as -12.5 are still summed.
"""

from __future__ import annotations

import csv
import re
from typing import IO, Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# A plain decimal number is data, never a formula, even when negative.
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
# An apostrophe the author typed before a trigger: doubled on export, so import can strip one.
_QUOTED = re.compile("'+[=+\\-@\t\r＝＋－＠]")


def formula_safe(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_TRIGGERS):
        return value if _NUMBER.fullmatch(value) else "'" + value
    if _QUOTED.match(value):
        return "'" + value
    return value


def formula_unescape(value: str) -> str:
    """The reverse for our own CSV import, so an exported bank re-imports unchanged."""
    return value[1:] if _QUOTED.match(value) else value


class _SafeWriter:
    def __init__(self, out: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row) -> Any:
        return self._writer.writerow([formula_safe(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: IO[str], **kwargs: Any) -> _SafeWriter:
    """csv.writer whose every cell goes through formula_safe: use it for every export."""
    return _SafeWriter(out, **kwargs)
