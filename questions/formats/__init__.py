"""Question file formats: one module per format, each with `parse` (and `write` for exports).

`detect` picks a format from a file's name and first bytes; docs/formats.md describes each.
"""

from __future__ import annotations

from questions.formats import aiken, csvfmt, gift, medqa, mockboard, moodlexml, qti
from questions.formats.common import ImportFile, decode_text, is_zip

PARSERS = {
    "json": mockboard.parse,
    "csv": csvfmt.parse,
    "moodlexml": moodlexml.parse,
    "gift": gift.parse,
    "aiken": aiken.parse,
    "qti": qti.parse,
    "medqa": medqa.parse,
}
IMPORT_FORMATS = ("auto", *PARSERS)
# Writers: text formats take a text stream, "qti" a binary one (a zip).
WRITERS = {
    "json": mockboard.write,
    "csv": csvfmt.write,
    "moodlexml": moodlexml.write,
    "gift": gift.write,
    "qti": qti.write,
}
EXPORT_FORMATS = tuple(WRITERS)
BINARY_EXPORTS = {"qti"}

_EXTENSIONS = {
    ".csv": "csv",
    ".gift": "gift",
    ".aiken": "aiken",
    ".zip": "qti",
}


def detect(file: ImportFile) -> str | None:
    """The format of a file, or None when neither its name nor its content tells."""
    head = file.head(20001)
    if is_zip(head):
        return "qti"
    name = file.name.lower()
    for ext, fmt in _EXTENSIONS.items():
        if name.endswith(ext) and fmt != "qti":
            return fmt
    try:
        text = decode_text(head) if len(head) <= 20000 else _head(head)
    except ValueError:
        # Let the parser chosen by the extension (or JSON) report the encoding problem.
        return "json" if name.endswith((".json", ".jsonl")) else "csv"
    if text.lstrip().startswith("<"):
        if moodlexml.sniff(text):
            return "moodlexml"
        if qti.sniff(text):
            return "qti"
        return "moodlexml" if "<question" in text[:5000] else "qti"
    if medqa.sniff(text):
        return "medqa"
    if mockboard.sniff(text):
        return "json"
    if csvfmt.sniff(text):
        return "csv"
    if aiken.sniff(text) and not gift.sniff(text):
        return "aiken"
    if gift.sniff(text):
        return "gift"
    if aiken.sniff(text):
        return "aiken"
    return None


def _head(data: bytes) -> str:
    head = data[:20000]
    # Cut at a line end so a multi-byte character is never split.
    cut = head.rfind(b"\n")
    return decode_text(head[: cut if cut > 0 else len(head)])
