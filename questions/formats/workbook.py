"""Spreadsheets read directly: .xlsx (python-calamine) and .ods (OpenDocument).

The first sheet is read like a CSV file (questions/formats/csvfmt.py): a header row, then one
question per row, with the same column names and aliases. Problems name the file and the row.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from questions.formats import csvfmt
from questions.formats.common import (
    MAX_ARCHIVE_RATIO,
    MAX_ARCHIVE_TOTAL_BYTES,
    ArchiveError,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    XmlError,
    local,
    parse_xml,
    read_zip,
)

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# A question has at most 26 options with explanations and a dozen more columns: anything wider
# is padding (ODS repeats an empty cell to the sheet's last column).
MAX_COLUMNS = 200
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def cell_text(value: Any) -> str:
    """A cell as the text a CSV would hold: 3 not 3.0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _check_archive(file: ImportFile, ctx: ParseContext) -> None:
    """The zip limits every archive gets, before a reader expands the sheet."""
    try:
        with zipfile.ZipFile(file.path or io.BytesIO(file.data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(f"not a readable spreadsheet ({exc})") from None
    total = 0
    for info in infos:
        total += info.file_size
        if (
            info.compress_size
            and info.file_size > 1024 * 1024
            and info.file_size / info.compress_size > MAX_ARCHIVE_RATIO
        ):
            raise ArchiveError(f"{info.filename} compresses too well; refused as a likely zip bomb")
    if total > MAX_ARCHIVE_TOTAL_BYTES:
        raise ArchiveError(f"the workbook expands to more than {MAX_ARCHIVE_TOTAL_BYTES} bytes")
    ctx.charge(total)


def parse_xlsx(file: ImportFile, ctx: ParseContext) -> Parsed:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        _check_archive(file, ctx)
        # calamine (Rust) reads the sheet XML several times faster than openpyxl's read_only
        # mode: 10,000 rows in well under a second instead of five to nine (docs/benchmarks.md).
        if file.path:
            workbook = CalamineWorkbook.from_path(file.path)
        else:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(file.data))
    except ArchiveError as exc:
        yield ImportProblem(f"{file.name}:1", str(exc))
        return
    except PasswordError:
        yield ImportProblem(f"{file.name}:1", "the workbook is password-protected")
        return
    except (CalamineError, OSError, ValueError) as exc:
        yield ImportProblem(f"{file.name}:1", f"cannot read this file as an .xlsx workbook ({exc})")
        return
    except BaseException as exc:  # a Rust panic is a BaseException (pyo3's PanicException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        yield ImportProblem(f"{file.name}:1", f"damaged .xlsx workbook ({type(exc).__name__})")
        return
    try:
        if not workbook.sheet_names:
            yield ImportProblem(f"{file.name}:1", "the workbook has no sheet")
            return

        def rows() -> Iterator[tuple[int, list[str]] | ImportProblem]:
            number = 0
            try:
                sheet = workbook.get_sheet_by_index(0)
                # iter_rows starts at the sheet's first row, even when it is empty, so the
                # numbers are the row numbers the spreadsheet shows.
                for number, row in enumerate(sheet.iter_rows(), start=1):  # noqa: B007
                    yield number, [cell_text(v) for v in row[:MAX_COLUMNS]]
            except BaseException as exc:  # noqa: BLE001 - a damaged sheet fails inside calamine
                if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                    raise
                yield ImportProblem(
                    f"{file.name}:{number + 1}", f"damaged .xlsx workbook ({type(exc).__name__})"
                )

        yield from csvfmt.parse_rows(file.name, rows(), ctx)
    finally:
        workbook.close()


def parse_ods(file: ImportFile, ctx: ParseContext) -> Parsed:
    try:
        members = read_zip(file, budget=ctx)
    except ArchiveError as exc:
        yield ImportProblem(f"{file.name}:1", str(exc))
        return
    content = members.get("content.xml")
    if content is None or members.get("mimetype", b"").strip() != ODS_MIMETYPE:
        yield ImportProblem(f"{file.name}:1", "not an OpenDocument spreadsheet (.ods)")
        return
    del members
    try:
        doc = parse_xml(content)
    except XmlError as exc:
        yield ImportProblem(f"{file.name}/content.xml:{exc.line}", exc.message)
        return
    table = next((el for el in doc.root.iter() if el.tag == f"{{{TABLE_NS}}}table"), None)
    if table is None:
        yield ImportProblem(f"{file.name}:1", "the spreadsheet has no sheet")
        return
    yield from csvfmt.parse_rows(file.name, _ods_rows(table), ctx)


def _ods_rows(table) -> Iterator[tuple[int, list[str]]]:
    number = 0
    for row in table.iter(f"{{{TABLE_NS}}}table-row"):
        repeat = _count(row.get(f"{{{TABLE_NS}}}number-rows-repeated"))
        cells: list[str] = []
        pending = 0
        for cell in row:
            if local(cell.tag) not in {"table-cell", "covered-table-cell"}:
                continue
            times = _count(cell.get(f"{{{TABLE_NS}}}number-columns-repeated"))
            value = _ods_value(cell)
            if not value:
                # Empty cells count only when a filled one follows (trailing padding is huge).
                pending += times
                continue
            cells.extend([""] * min(pending, MAX_COLUMNS))
            pending = 0
            cells.extend([value] * min(times, MAX_COLUMNS))
            if len(cells) >= MAX_COLUMNS:
                break
        if not cells:
            number += repeat
            continue
        for _ in range(min(repeat, 1000)):
            number += 1
            yield number, cells[:MAX_COLUMNS]


def _count(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def _ods_value(cell) -> str:
    kind = cell.get(f"{{{OFFICE_NS}}}value-type")
    if kind in {"float", "percentage", "currency"}:
        raw = cell.get(f"{{{OFFICE_NS}}}value", "")
        try:
            return cell_text(float(raw))
        except ValueError:
            return raw
    if kind == "date":
        return cell.get(f"{{{OFFICE_NS}}}date-value", "")
    if kind == "boolean":
        return "TRUE" if cell.get(f"{{{OFFICE_NS}}}boolean-value") == "true" else "FALSE"
    paragraphs = []
    for p in cell:
        if local(p.tag) == "p":
            paragraphs.append(_ods_text(p))
    return "\n".join(paragraphs)


def _ods_text(element) -> str:
    parts = [element.text or ""]
    for child in element:
        name = local(child.tag)
        if name == "s":
            spaces = _count(child.get("{urn:oasis:names:tc:opendocument:xmlns:text:1.0}c"))
            parts.append(" " * min(spaces, 1000))
        elif name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        else:
            parts.append(_ods_text(child))
        parts.append(child.tail or "")
    return "".join(parts)
