"""MedQA JSON Lines (Jin et al. 2021): question, options {"A": ...}, answer_idx, answer, meta_info."""

from __future__ import annotations

import json

from questions.formats.aiken import external_id_for
from questions.formats.common import (
    LETTERS,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    ParsedQuestion,
    decode_or_problem,
    tag_slug,
    text_to_html,
)

SOURCE = "MedQA (Jin et al., Applied Sciences 2021; arXiv:2009.13081)"
LICENCE = "MIT (MedQA repository)"


def sniff(text: str) -> bool:
    head = text.lstrip()[:5000]
    return head.startswith("{") and '"answer_idx"' in head and '"options"' in head


def parse(file: ImportFile, ctx: ParseContext) -> Parsed:
    text, problem = decode_or_problem(file)
    if problem:
        yield problem
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        origin = f"{file.name}:{number}"
        try:
            raw = json.loads(line)
        except ValueError as exc:
            yield ImportProblem(origin, f"invalid JSON: {getattr(exc, 'msg', exc)}")
            continue
        if not isinstance(raw, dict):
            yield ImportProblem(origin, "expected a JSON object")
            continue
        question, options = raw.get("question"), raw.get("options")
        if not isinstance(question, str):
            yield ImportProblem(origin, 'missing "question"')
            continue
        if not isinstance(options, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in options.items()
        ):
            yield ImportProblem(origin, '"options" must map letters to text')
            continue
        letters = sorted(options)
        if any(k not in LETTERS for k in letters) or "".join(letters) != LETTERS[: len(letters)]:
            yield ImportProblem(origin, f"option letters must run from A: {''.join(letters)!r}")
            continue
        stem = question.strip()
        # Some upstream stems end with a stray quotation mark.
        if stem.endswith('"') and stem.count('"') % 2 == 1:
            stem = stem[:-1].rstrip()
        answer_idx = raw.get("answer_idx")
        key = None
        label = ""
        if isinstance(answer_idx, str) and answer_idx.strip():
            label = answer_idx.strip().upper()
            key = letters.index(label) if label in letters else -1
        answer = raw.get("answer")
        if (
            key is not None
            and key >= 0
            and isinstance(answer, str)
            and answer.strip() != options[label].strip()
        ):
            yield ImportProblem(origin, f"answer {answer!r} is not the text of option {label}")
            continue
        q = ParsedQuestion(
            external_id=external_id_for("medqa", stem),
            stem_html=text_to_html(stem),
            options=[{"text": text_to_html(options[k]), "explanation": ""} for k in letters],
            key_index=key,
            key_label=label,
            source=SOURCE,
            licence=LICENCE,
            origin=origin,
        )
        # MedQA has no explanations, objectives or item sets: a re-import keeps the bank's.
        absent = {
            "explanation_html",
            "option_explanations",
            "objective_html",
            "difficulty",
            "item_set",
            "tags:discipline",
            "tags:system",
            "tags:task",
        }
        meta = raw.get("meta_info")
        if isinstance(meta, str) and meta.strip():
            q.tags["topic"] = [tag_slug(f"medqa {meta.replace('&', ' ')}")]
            q.tag_names[f"topic:{q.tags['topic'][0]}"] = f"MedQA {meta}"
        else:
            absent.add("tags")
        q.absent = frozenset(absent)
        yield q
