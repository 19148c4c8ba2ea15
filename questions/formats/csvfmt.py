"""Spreadsheet rows: one question per row, columns named in the header (docs/formats.md)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable
from typing import IO

from questions.formats import spreadsheet
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
KNOWN = set(BASE_COLUMNS) | set(EXTRA_COLUMNS) | set(OPTION_COLUMNS) | set(EXPLANATION_COLUMNS)
TAG_SPLIT = re.compile(r"\s*[;|]\s*")


def sniff(text: str) -> bool:
    header = text.lstrip("\ufeff").split("\n", 1)[0].lower()
    return "stem" in header and "option_a" in header and ("," in header or ";" in header)


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
    try:
        header = next(reader)
    except csv.Error as exc:
        yield ImportProblem(f"{file.name}:1", f"unreadable CSV header ({exc})")
        return
    columns = [h.strip().lower() for h in header]
    unknown = [c for c in columns if c and c not in KNOWN]
    if unknown:
        yield ImportProblem(f"{file.name}:1", f"unknown column(s): {', '.join(unknown)}")
        return
    missing = [c for c in ("external_id", "stem", "key", "option_a") if c not in columns]
    if missing:
        yield ImportProblem(f"{file.name}:1", f"missing column(s): {', '.join(missing)}")
        return
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield ImportProblem(f"{file.name}:{start}", f"unreadable CSV row ({exc})")
            return
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        origin = f"{file.name}:{start}"
        if len(row) > len(columns):
            yield ImportProblem(
                origin, f"{len(row)} cells but the header has {len(columns)} columns"
            )
            continue
        cells = dict(zip(columns, row, strict=False))
        yield from _row(cells, origin)


def _row(cells: dict[str, str], origin: str) -> Parsed:
    def get(name: str) -> str:
        return formula_unescape((cells.get(name) or "").strip())

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
    )
    last = max((i for i, col in enumerate(OPTION_COLUMNS) if get(col)), default=-1)
    for i in range(last + 1):
        q.options.append(
            {"text": get(OPTION_COLUMNS[i]), "explanation": get(EXPLANATION_COLUMNS[i])}
        )
    key = get("key").upper()
    if key:
        q.key_label = key
        q.key_index = LETTERS.index(key) if len(key) == 1 and key in LETTERS else -1
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
