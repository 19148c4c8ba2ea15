"""Mockboard's own format: a JSON document or JSON Lines (docs/formats.md has the schema)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import IO, Any

from questions.formats.common import (
    LETTERS,
    TAG_KINDS,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    ParsedQuestion,
    decode_or_problem,
    letter,
)

FIELDS = {
    "external_id",
    "stem",
    "options",
    "key",
    "explanation",
    "objective",
    "tags",
    "difficulty",
    "source",
    "licence",
    "item_set",
    "media",
}


def sniff(text: str) -> bool:
    head = text.lstrip()[:2000]
    return head.startswith(("{", "[")) and '"answer_idx"' not in head


def parse(file: ImportFile, ctx: ParseContext) -> Parsed:
    text, problem = decode_or_problem(file)
    if problem:
        yield problem
        return
    stripped = text.lstrip()
    if stripped.startswith("{"):
        first_line = stripped.split("\n", 1)[0]
        try:
            first = json.loads(first_line)
        except ValueError:
            first = None
        if isinstance(first, dict) and "questions" not in first:
            yield from _parse_lines(file, text)
            return
        yield from _parse_document(file, text)
        return
    if stripped.startswith("["):
        yield from _parse_document(file, text)
        return
    if not stripped:
        yield ImportProblem(f"{file.name}:1", "the file is empty")
        return
    yield ImportProblem(f"{file.name}:1", "expected a JSON object or JSON Lines")


def _parse_document(file: ImportFile, text: str) -> Parsed:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        yield ImportProblem(f"{file.name}:{line}", f"invalid JSON: {getattr(exc, 'msg', exc)}")
        return
    if isinstance(doc, list):
        questions = doc
    elif isinstance(doc, dict):
        if doc.get("format", "mockboard") != "mockboard":
            yield ImportProblem(f"{file.name}:1", f"unknown format {doc.get('format')!r}")
            return
        if doc.get("version", 1) != 1:
            yield ImportProblem(f"{file.name}:1", f"unsupported version {doc.get('version')!r}")
            return
        questions = doc.get("questions")
        if not isinstance(questions, list):
            yield ImportProblem(f"{file.name}:1", '"questions" must be a list')
            return
    else:
        yield ImportProblem(f"{file.name}:1", "expected a JSON object")
        return
    for n, raw in enumerate(questions, start=1):
        yield from question_from_dict(raw, f"{file.name}:item {n}")


def _parse_lines(file: ImportFile, text: str) -> Parsed:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        origin = f"{file.name}:{number}"
        try:
            raw = json.loads(line)
        except ValueError as exc:
            yield ImportProblem(origin, f"invalid JSON: {getattr(exc, 'msg', exc)}")
            continue
        yield from question_from_dict(raw, origin)


def _html(raw: dict[str, Any], name: str, origin: str, problems: list[ImportProblem]) -> str:
    value = raw.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(ImportProblem(origin, f'"{name}" must be a string'))
        return ""
    return value


def question_from_dict(raw: Any, origin: str) -> Parsed:
    if not isinstance(raw, dict):
        yield ImportProblem(origin, "a question must be a JSON object")
        return
    problems: list[ImportProblem] = []
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        problems.append(ImportProblem(origin, f"unknown field(s): {', '.join(unknown)}"))
    external_id = raw.get("external_id")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    if not isinstance(external_id, str):
        problems.append(ImportProblem(origin, 'missing "external_id"'))
        external_id = ""
    q = ParsedQuestion(
        external_id=external_id.strip(),
        stem_html=_html(raw, "stem", origin, problems),
        options=[],
        key_index=None,
        explanation_html=_html(raw, "explanation", origin, problems),
        objective_html=_html(raw, "objective", origin, problems),
        source=_html(raw, "source", origin, problems),
        licence=_html(raw, "licence", origin, problems),
        origin=origin,
    )
    options = raw.get("options")
    if not isinstance(options, list):
        problems.append(ImportProblem(origin, '"options" must be a list'))
        options = []
    for n, option in enumerate(options):
        if isinstance(option, str):
            q.options.append({"text": option, "explanation": ""})
        elif isinstance(option, dict) and isinstance(option.get("text"), str):
            explanation = option.get("explanation") or ""
            if not isinstance(explanation, str):
                problems.append(
                    ImportProblem(origin, f"option {letter(n)}: explanation must be a string")
                )
                explanation = ""
            q.options.append({"text": option["text"], "explanation": explanation})
        else:
            problems.append(
                ImportProblem(
                    origin, f'option {letter(n)} must be a string or {{"text", "explanation"}}'
                )
            )
    key = raw.get("key")
    if isinstance(key, bool):
        key = None
    if isinstance(key, int):
        q.key_index, q.key_label = key, str(key)
    elif isinstance(key, str) and key.strip():
        label = key.strip().upper()
        q.key_label = label
        if len(label) == 1 and label in LETTERS:
            q.key_index = LETTERS.index(label)
        elif label.isdigit():
            q.key_index = int(label)
        else:
            q.key_index = -1
    difficulty = raw.get("difficulty")
    if difficulty is not None:
        if isinstance(difficulty, (int, float)) and not isinstance(difficulty, bool):
            q.difficulty = float(difficulty)
        else:
            problems.append(ImportProblem(origin, '"difficulty" must be a number from 0 to 1'))
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict):
        problems.append(ImportProblem(origin, '"tags" must be an object of lists'))
        tags = {}
    for kind, values in tags.items():
        if kind not in TAG_KINDS:
            problems.append(
                ImportProblem(origin, f"unknown tag kind {kind!r} (use {', '.join(TAG_KINDS)})")
            )
            continue
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.append(ImportProblem(origin, f'tags "{kind}" must be a list of strings'))
            continue
        for value in values:
            q.add_tag(kind, value)
    item_set = raw.get("item_set")
    if item_set is not None:
        if not isinstance(item_set, dict) or not isinstance(item_set.get("id"), str):
            problems.append(ImportProblem(origin, '"item_set" needs an "id"'))
        else:
            position = item_set.get("position")
            if not isinstance(position, int) or isinstance(position, bool) or position < 1:
                problems.append(
                    ImportProblem(origin, "item_set position must be a whole number from 1")
                )
                position = 1
            stimulus = item_set.get("stimulus") or ""
            q.item_set = {
                "external_id": item_set["id"].strip(),
                "kind": item_set.get("kind") or "sequential",
                "position": position,
                "stimulus_html": stimulus if isinstance(stimulus, str) else "",
            }
    media = raw.get("media") or []
    if not isinstance(media, list):
        problems.append(ImportProblem(origin, '"media" must be a list'))
        media = []
    for entry in media:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(
                ImportProblem(origin, 'each media entry needs "name" and "data_base64"')
            )
            continue
        try:
            data = base64.b64decode(entry.get("data_base64") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            problems.append(
                ImportProblem(origin, f"media {entry['name']!r}: data_base64 is not valid base64")
            )
            continue
        content_type = entry.get("content_type") or ""
        q.media.append((entry["name"], content_type if isinstance(content_type, str) else "", data))
    yield from problems
    if not problems:
        yield q


def question_to_dict(q: ParsedQuestion) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_id": q.external_id,
        "stem": q.stem_html,
        "options": [
            {"text": o["text"], "explanation": o.get("explanation", "")} for o in q.options
        ],
        "key": letter(q.key_index or 0),
        "explanation": q.explanation_html,
        "objective": q.objective_html,
        "tags": {kind: list(q.tags.get(kind, [])) for kind in TAG_KINDS if q.tags.get(kind)},
        "difficulty": q.difficulty,
        "source": q.source,
        "licence": q.licence,
    }
    if q.item_set:
        data["item_set"] = {
            "id": q.item_set["external_id"],
            "kind": q.item_set["kind"],
            "position": q.item_set["position"],
            "stimulus": q.item_set.get("stimulus_html", ""),
        }
    if q.media:
        data["media"] = [
            {"name": name, "content_type": ctype, "data_base64": base64.b64encode(data).decode()}
            for name, ctype, data in q.media
        ]
    return data


def write(questions: Iterable[ParsedQuestion], out: IO[str]) -> int:
    """Stream a JSON document, one question per line inside the list."""
    out.write('{"format": "mockboard", "version": 1, "questions": [\n')
    count = 0
    for q in questions:
        if count:
            out.write(",\n")
        out.write(json.dumps(question_to_dict(q), ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count
