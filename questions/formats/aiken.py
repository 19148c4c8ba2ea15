"""Aiken: a question, lettered options (`A.` or `A)`), then `ANSWER: X`. Plain text only."""

from __future__ import annotations

import hashlib
import re

from questions.formats.common import (
    LETTERS,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    ParsedQuestion,
    decode_or_problem,
    text_to_html,
)

# Aiken has a stem, options and a key, nothing more: a re-import keeps the rest.
NOT_EXPRESSED = frozenset(
    {
        "explanation_html",
        "option_explanations",
        "objective_html",
        "difficulty",
        "source",
        "licence",
        "item_set",
        "tags",
    }
)
OPTION = re.compile(r"^([A-Z])[.)]\s+(.*\S)\s*$")
ANSWER = re.compile(r"^ANSWER:\s*(\S*)\s*$", re.IGNORECASE)


def sniff(text: str) -> bool:
    return bool(re.search(r"^ANSWER:\s*[A-Z]\s*$", text, re.MULTILINE | re.IGNORECASE))


def external_id_for(prefix: str, stem: str) -> str:
    # Aiken and MedQA carry no ids: a question is known by its wording.
    return f"{prefix}-{hashlib.sha1(stem.strip().encode()).hexdigest()[:12]}"  # noqa: S324


def parse(file: ImportFile, ctx: ParseContext) -> Parsed:
    text, problem = decode_or_problem(file)
    if problem:
        yield problem
        return
    stem_lines: list[str] = []
    options: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            if options:
                # Moodle's Aiken reader also allows a blank line only between questions.
                continue
            if stem_lines:
                stem_lines.append("")
            continue
        answer = ANSWER.match(line)
        option = OPTION.match(line)
        if answer:
            origin = f"{file.name}:{start or number}"
            if not stem_lines:
                yield ImportProblem(
                    f"{file.name}:{number}", "ANSWER line with no question before it"
                )
            else:
                label = answer.group(1).upper().rstrip(".)")
                stem = "\n".join(stem_lines).strip()
                expected = LETTERS[: len(options)]
                if not label:
                    key = None
                elif len(label) == 1 and label in LETTERS:
                    key = LETTERS.index(label)
                else:
                    key = -1
                if options and "".join(o[0] for o in options) != expected:
                    yield ImportProblem(
                        origin,
                        f"options must be lettered in order from A (found {''.join(o[0] for o in options)})",
                    )
                else:
                    yield ParsedQuestion(
                        external_id=external_id_for("aiken", stem),
                        stem_html=text_to_html(stem),
                        options=[{"text": text_to_html(o[1]), "explanation": ""} for o in options],
                        key_index=key,
                        key_label=label,
                        origin=origin,
                        absent=NOT_EXPRESSED,
                    )
            stem_lines, options, start = [], [], 0
        elif option and stem_lines:
            options.append((option.group(1), option.group(2)))
        elif options:
            yield ImportProblem(
                f"{file.name}:{number}",
                f"expected an option or ANSWER line, found {line[:40]!r} (missing ANSWER?)",
            )
            stem_lines, options, start = [line], [], number
        else:
            if not stem_lines:
                start = number
            stem_lines.append(line)
    if stem_lines:
        yield ImportProblem(f"{file.name}:{start}", "question has no ANSWER line (missing key)")
