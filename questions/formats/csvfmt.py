"""Spreadsheet rows: one question per row, columns named in the header (docs/formats.md)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable, Iterator
from typing import IO

from questions.formats import spreadsheet
from questions.formats.aiken import external_id_for
from questions.formats.common import (
    LETTERS,
    TAG_KINDS,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    ParsedQuestion,
    decode_or_problem,
    inline_media,
    letter,
)
from questions.formats.spreadsheet import formula_unescape

OPTION_COLUMNS = [f"option_{c.lower()}" for c in LETTERS]
EXPLANATION_COLUMNS = [f"explanation_{c.lower()}" for c in LETTERS]
BASE_COLUMNS = ["external_id", "stem", "key", "explanation", "objective", *TAG_KINDS]
EXTRA_COLUMNS = [
    "difficulty",
    "source",
    "licence",
    "item_set",
    "item_set_kind",
    "item_set_position",
    "item_set_stimulus",
]
_OPTION_INDEX = {column: i for i, column in enumerate(OPTION_COLUMNS)}
KNOWN = set(BASE_COLUMNS) | set(EXTRA_COLUMNS) | set(OPTION_COLUMNS) | set(EXPLANATION_COLUMNS)
TAG_SPLIT = re.compile(r"\s*[;|]\s*")


# Headers as people write them, after `normalize_header`, to our column names. A spreadsheet
# made by hand says "Question", "A" ... "E" and "Answer"; ours says stem, option_a and key.
_OPTION_WORDS = ("option", "choice", "answer", "opt", "alternative", "distractor")
_EXPLANATION_WORDS = ("explanation", "feedback", "rationale")


def normalize_header(header: str) -> str:
    text = re.sub(r"[\s_\-.:/()\[\]#]+", " ", header.strip().lstrip("\ufeff").lower())
    return " ".join(text.split())


def _aliases() -> dict[str, str]:
    table: dict[str, list[str]] = {
        "external_id": ["id", "question id", "qid", "item id", "identifier", "external id"],
        "stem": ["question", "question text", "question stem", "prompt", "vignette", "text"],
        "key": [
            "answer",
            "correct",
            "correct answer",
            "correct option",
            "correct choice",
            "correct response",
            "right answer",
            "answer key",
            "solution",
        ],
        "explanation": ["rationale", "feedback", "general feedback", "answer explanation"],
        "objective": ["learning objective", "educational objective", "objectives"],
        "discipline": ["disciplines", "subject"],
        "system": ["systems", "organ system"],
        "task": ["tasks", "physician task"],
        "topic": ["topics", "category", "categories", "tags"],
        "licence": ["license"],
        "item_set_stimulus": ["stimulus"],
    }
    aliases = {normalize_header(c): c for c in KNOWN}
    for column, names in table.items():
        for name in names:
            aliases[normalize_header(name)] = column
    for i, upper in enumerate(LETTERS):
        low = upper.lower()
        option, explanation = OPTION_COLUMNS[i], EXPLANATION_COLUMNS[i]
        aliases[low] = option
        for word in _OPTION_WORDS:
            aliases[f"{word} {low}"] = option
            aliases[f"{word} {i + 1}"] = option
        for word in _EXPLANATION_WORDS:
            aliases[f"{word} {low}"] = explanation
            aliases[f"option {low} {word}"] = explanation
            aliases[f"choice {low} {word}"] = explanation
    return aliases


ALIASES = _aliases()
_KEY_LABEL = re.compile(r"^\(?([A-Za-z])[).]?$")


def column_for(header: str, column_map: dict[str, str] | None = None) -> str | None:
    """Our column for a header: an explicit mapping first, then aliases; "" means ignore it."""
    if column_map:
        for given, target in column_map.items():
            if normalize_header(given) == normalize_header(header):
                return target
    return ALIASES.get(normalize_header(header))


def sniff(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if "," not in first and ";" not in first:
        return False
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return False
    columns = {column_for(h) for h in header}
    return {"stem", "option_a", "key"} <= columns


def parse(file: ImportFile, ctx: ParseContext) -> Parsed:
    text, problem = decode_or_problem(file)
    if problem:
        yield problem
        return
    if not text.strip():
        yield ImportProblem(f"{file.name}:1", "the file is empty")
        return
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]] | ImportProblem]:
        previous_end = 0
        while True:
            start = previous_end + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                what = "header" if start == 1 else "row"
                yield ImportProblem(f"{file.name}:{start}", f"unreadable CSV {what} ({exc})")
                return
            previous_end = reader.line_num
            yield start, row

    yield from parse_rows(file.name, rows(), ctx)


def parse_rows(
    name: str, rows: Iterable[tuple[int, list[str]] | ImportProblem], ctx: ParseContext
) -> Parsed:
    """Questions from a header row and one row per question: CSV and spreadsheets alike."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        yield ImportProblem(f"{name}:1", "the file is empty")
        return
    if isinstance(first, ImportProblem):
        yield first
        return
    line, header = first
    origin = f"{name}:{line}"
    mapping = ctx.column_map or {}
    bad_targets = sorted({t for t in mapping.values() if t and t not in KNOWN})
    if bad_targets:
        yield ImportProblem("column mapping", f"unknown target column(s): {', '.join(bad_targets)}")
        return
    columns: list[str | None] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for raw in header:
        text = str(raw).strip()
        if not text:
            columns.append(None)
            continue
        column = column_for(text, mapping)
        if column is None:
            unknown.append(text)
        elif column and column in seen:
            yield ImportProblem(origin, f"columns {seen[column]!r} and {text!r} both give {column}")
            return
        elif column:
            seen[column] = text
        columns.append(column or None)
    if unknown:
        ctx.unknown_columns.append({"file": name, "headers": unknown})
        yield ImportProblem(origin, f"unknown column(s): {', '.join(unknown)}")
        return
    missing = [c for c in ("stem", "key", "option_a") if c not in seen]
    if missing:
        yield ImportProblem(origin, f"missing column(s): {', '.join(missing)}")
        return
    absent = _absent(set(seen))
    for entry in rows:
        if isinstance(entry, ImportProblem):
            yield entry
            return
        line, row = entry
        if not any(str(cell).strip() for cell in row):
            continue
        origin = f"{name}:{line}"
        if len(row) > len(columns) and any(str(c).strip() for c in row[len(columns) :]):
            yield ImportProblem(
                origin, f"{len(row)} cells but the header has {len(columns)} columns"
            )
            continue
        cells = {c: str(v) for c, v in zip(columns, row, strict=False) if c}
        yield from _row(cells, origin, absent)


def _absent(present: set[str]) -> frozenset[str]:
    """The fields a file without some columns cannot express: a re-import keeps them."""
    absent = {
        field
        for column, field in (
            ("explanation", "explanation_html"),
            ("objective", "objective_html"),
            ("difficulty", "difficulty"),
            ("source", "source"),
            ("licence", "licence"),
            ("item_set", "item_set"),
        )
        if column not in present
    }
    if not present & set(EXPLANATION_COLUMNS):
        absent.add("option_explanations")
    absent |= {f"tags:{kind}" for kind in TAG_KINDS if kind not in present}
    return frozenset(absent)


def _key_index(key: str, options: list[dict[str, str]]) -> int:
    """A letter ("B", "b)", "(B)"), a number from 1, or the text of the right option."""
    found = _KEY_LABEL.match(key)
    if found:
        return LETTERS.index(found.group(1).upper())
    if key.isdigit() and 1 <= int(key) <= len(options):
        return int(key) - 1
    texts = [o["text"].strip().casefold() for o in options]
    if key.casefold() in texts and texts.count(key.casefold()) == 1:
        return texts.index(key.casefold())
    return -1


def _row(cells: dict[str, str], origin: str, absent: frozenset[str] = frozenset()) -> Parsed:
    # Each cell cleaned once: a row is read field by field, 26 option columns among them.
    values = {}
    for name, raw in cells.items():
        text = raw.strip() if raw else ""
        if text:
            values[name] = formula_unescape(text)

    def get(name: str) -> str:
        return values.get(name, "")

    q = ParsedQuestion(
        external_id=get("external_id"),
        stem_html=get("stem"),
        options=[],
        key_index=None,
        explanation_html=get("explanation"),
        objective_html=get("objective"),
        source=get("source"),
        licence=get("licence"),
        origin=origin,
        absent=absent,
    )
    if "external_id" not in cells:
        # A sheet without ids: a question is known by its wording, as in Aiken.
        q.external_id = external_id_for("csv", q.stem_html) if q.stem_html else ""
    last = max((_OPTION_INDEX[c] for c in values if c in _OPTION_INDEX), default=-1)
    for i in range(last + 1):
        q.options.append(
            {"text": get(OPTION_COLUMNS[i]), "explanation": get(EXPLANATION_COLUMNS[i])}
        )
    key = get("key")
    if key:
        q.key_label = key.upper() if len(key) <= 3 else key[:40]
        q.key_index = _key_index(key, q.options)
    for kind in TAG_KINDS:
        for value in TAG_SPLIT.split(get(kind)):
            if value:
                q.add_tag(kind, value)
    if get("difficulty"):
        try:
            q.difficulty = float(get("difficulty"))
        except ValueError:
            yield ImportProblem(origin, f"difficulty {get('difficulty')!r} is not a number")
            return
    if get("item_set"):
        position = get("item_set_position") or "1"
        if not position.isdigit() or int(position) < 1:
            yield ImportProblem(
                origin, f"item_set_position {position!r} is not a whole number from 1"
            )
            return
        q.item_set = {
            "external_id": get("item_set"),
            "kind": get("item_set_kind") or "sequential",
            "position": int(position),
            "stimulus_html": get("item_set_stimulus"),
        }
    yield q


def write(questions: Iterable[ParsedQuestion], out: IO[str]) -> int:
    """Write with a header naming every column; options and explanations up to the widest row."""
    # The width is only known after a pass; 26 columns of options keeps the stream single-pass.
    columns = [
        "external_id",
        "stem",
        *OPTION_COLUMNS,
        "key",
        "explanation",
        "objective",
        *TAG_KINDS,
        *EXTRA_COLUMNS,
        *EXPLANATION_COLUMNS,
    ]
    writer = spreadsheet.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for q in questions:
        q = _inlined(q)
        row = {
            "external_id": q.external_id,
            "stem": q.stem_html,
            "key": letter(q.key_index or 0),
            "explanation": q.explanation_html,
            "objective": q.objective_html,
            "difficulty": "" if q.difficulty is None else repr(q.difficulty),
            "source": q.source,
            "licence": q.licence,
        }
        for kind in TAG_KINDS:
            row[kind] = "; ".join(q.tags.get(kind, []))
        for i, option in enumerate(q.options):
            row[OPTION_COLUMNS[i]] = option["text"]
            row[EXPLANATION_COLUMNS[i]] = option.get("explanation", "")
        if q.item_set:
            row["item_set"] = q.item_set["external_id"]
            row["item_set_kind"] = q.item_set["kind"]
            row["item_set_position"] = str(q.item_set["position"])
            row["item_set_stimulus"] = q.item_set.get("stimulus_html", "")
        writer.writerow([row.get(c, "") for c in columns])
        count += 1
    return count


def _inlined(q: ParsedQuestion) -> ParsedQuestion:
    """A copy whose media travel inside the HTML as data: URIs (a cell has no room for files)."""
    if not q.media:
        return q
    copy = dataclasses.replace(
        q,
        stem_html=inline_media(q, q.stem_html),
        explanation_html=inline_media(q, q.explanation_html),
        objective_html=inline_media(q, q.objective_html),
        options=[
            {
                "text": inline_media(q, o["text"]),
                "explanation": inline_media(q, o.get("explanation", "")),
            }
            for o in q.options
        ],
        media=[],
    )
    if q.item_set:
        copy.item_set = {
            **q.item_set,
            "stimulus_html": inline_media(q, q.item_set.get("stimulus_html", "")),
        }
    return copy
