"""Question file formats: one module per format, each with `parse` (and `write` for exports).

`detect` picks a format from a file's name and first bytes; docs/formats.md describes each.
"""

from __future__ import annotations

import io
import zipfile

from questions.formats import aiken, csvfmt, gift, medqa, mockboard, moodlexml, qti, workbook
from questions.formats.common import ImportFile, decode_text, is_zip

PARSERS = {
    "json": mockboard.parse,
    "csv": csvfmt.parse,
    "moodlexml": moodlexml.parse,
    "gift": gift.parse,
    "aiken": aiken.parse,
    "qti": qti.parse,
    "medqa": medqa.parse,
    "xlsx": workbook.parse_xlsx,
    "ods": workbook.parse_ods,
}
SPREADSHEETS = {"xlsx", "ods"}
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


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS = "save the questions as CSV, .xlsx, .ods, Moodle XML, GIFT, Aiken, QTI or JSON"
_OFFICE_PARTS = {
    "word/document.xml": "a Word document (.docx)",
    "ppt/presentation.xml": "a PowerPoint presentation (.pptx)",
}


def identify(file: ImportFile) -> tuple[str | None, str | None]:
    """A spreadsheet's format ("xlsx", "ods"), or a refusal for a file no parser reads.

    (None, None) means "not a container we know": the text sniffing in `detect` decides.
    Office files are zips and would otherwise be unpacked and fed to the QTI or XML parsers,
    which then report confusing errors about <assessmentItem>.
    """
    head = file.head(8)
    name = file.name.lower()
    if head.startswith(_OLE2):
        return None, (
            "an old binary Office file (.xls or .doc) is not read: open it and save it as "
            f".xlsx or CSV ({_SAVE_AS})"
        )
    if head.startswith(b"%PDF"):
        return None, f"a PDF document holds no questions Mockboard can read ({_SAVE_AS})"
    if not is_zip(head):
        if name.endswith((".xlsx", ".xlsm", ".ods")):
            return None, "named as a spreadsheet but is not one (an .xlsx or .ods file is a zip)"
        return None, None
    try:
        with zipfile.ZipFile(file.path or io.BytesIO(file.data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:200] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, KeyError):
        return None, None
    if "xl/workbook.xml" in names:
        return "xlsx", None
    if mimetype.strip() == workbook.ODS_MIMETYPE:
        return "ods", None
    for part, what in _OFFICE_PARTS.items():
        if part in names:
            return None, f"{what} holds no questions Mockboard can read ({_SAVE_AS})"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return (
            None,
            f"an OpenDocument {mimetype.decode(errors='replace').rsplit('.', 1)[-1]} file holds no questions Mockboard can read ({_SAVE_AS})",
        )
    return None, None


def detect(file: ImportFile) -> str | None:
    """The format of a file, or None when neither its name nor its content tells."""
    head = file.head(20001)
    if is_zip(head):
        kind, _ = identify(file)
        return kind or "qti"
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
