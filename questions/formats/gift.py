"""GIFT (Moodle's plain-text quiz format): multiple choice and true/false are imported.

Reference: Moodle's "GIFT format" documentation. Questions are separated by blank lines; `//`
lines are comments; `::title::` names a question (our external id); `[html]`, `[markdown]`,
`[plain]` or `[moodle]` sets the text format; `{ ... }` holds the answers: `=right`, `~wrong`,
`#feedback` after an answer, `####general feedback` at the end. `\\~ \\= \\# \\{ \\} \\:` escape.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import IO

import markdown as md

from questions.formats import csvfmt
from questions.formats.aiken import external_id_for
from questions.formats.common import (
    METADATA_KEY,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    ParsedQuestion,
    apply_metadata,
    decode_or_problem,
    metadata_json,
    text_to_html,
)

# What GIFT has no syntax for; our exports carry them in a `// mockboard: {json}` comment line,
# which Moodle skips like any comment.
_NOT_EXPRESSED = frozenset({"objective_html", "difficulty", "source", "licence", "item_set"})
_METADATA = re.compile(rf"^\s*//\s*{METADATA_KEY}:(.*)$")

_ESCAPE = re.compile(r"\\([~=#{}:n\\])")
_FORMAT = re.compile(r"^\[(html|markdown|plain|moodle)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_TF = re.compile(r"^(T|TRUE|F|FALSE)\s*$", re.IGNORECASE)


def sniff(text: str) -> bool:
    return bool(re.search(r"(?<!\\)\{", text)) and not text.lstrip().startswith(("{", "<"))


def unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for ch in "~=#{}:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def _unescaped(text: str, chars: str, start: int = 0) -> list[int]:
    positions, i = [], start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in chars:
            positions.append(i)
        i += 1
    return positions


def _find(text: str, token: str, start: int = 0) -> int:
    i = start
    while i <= len(text) - len(token):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(token, i):
            return i
        i += 1
    return -1


def _convert(text: str, fmt: str) -> str:
    text = unescape(text).strip()
    if fmt == "markdown":
        return md.markdown(text)
    if fmt == "plain":
        return text_to_html(text)
    return text


def parse(file: ImportFile, ctx: ParseContext) -> Parsed:
    text, problem = decode_or_problem(file)
    if problem:
        yield problem
        return
    category: list[str] = []
    block: list[tuple[int, str]] = []
    metadata: tuple[int, str] | None = None
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if line.lstrip().startswith("//"):
            found = _METADATA.match(line)
            if found:
                metadata = (number, found.group(1))
            continue
        if line.strip():
            block.append((number, line))
            continue
        if not block:
            continue
        if block[0][1].strip().startswith("$CATEGORY:"):
            path = block[0][1].strip()[len("$CATEGORY:") :].strip()
            category = [
                seg.strip() for seg in path.split("/") if seg.strip() and not seg.startswith("$")
            ]
            if category and category[0].lower() == "top":
                category = category[1:]
            block = block[1:]
        if block:
            yield from _question(file, block, category, ctx, metadata)
            metadata = None
        block = []


def _question(
    file: ImportFile,
    block: list[tuple[int, str]],
    category: list[str],
    ctx: ParseContext,
    metadata: tuple[int, str] | None = None,
) -> Parsed:
    for item in _choice_question(file, block, category, ctx):
        if isinstance(item, ParsedQuestion):
            absent = set(_NOT_EXPRESSED)
            if metadata is not None:
                given, error = apply_metadata(item, metadata[1])
                if error:
                    yield ImportProblem(f"{file.name}:{metadata[0]}", error)
                    return
                absent -= given
            if not item.tags:
                absent.add("tags")
            item.absent = frozenset(absent)
        yield item


def _choice_question(
    file: ImportFile, block: list[tuple[int, str]], category: list[str], ctx: ParseContext
) -> Parsed:
    text = "\n".join(line for _, line in block)
    starts, offset = [], 0
    for _, line in block:
        starts.append(offset)
        offset += len(line) + 1

    def line_of(pos: int) -> int:
        return block[bisect.bisect_right(starts, pos) - 1][0]

    origin = f"{file.name}:{block[0][0]}"
    braces = _unescaped(text, "{}")
    depth, open_at, pairs = 0, -1, []
    for pos in braces:
        if text[pos] == "{":
            if depth:
                yield ImportProblem(
                    f"{file.name}:{line_of(pos)}",
                    "unbalanced braces: '{' inside an answer block (escape it as \\{)",
                )
                return
            depth, open_at = 1, pos
        else:
            if not depth:
                yield ImportProblem(
                    f"{file.name}:{line_of(pos)}", "unbalanced braces: '}' has no matching '{'"
                )
                return
            depth = 0
            pairs.append((open_at, pos))
    if depth:
        yield ImportProblem(
            f"{file.name}:{line_of(open_at)}",
            f"unbalanced braces: '{{' opened on line {line_of(open_at)} is never closed",
        )
        return
    if not pairs:
        yield ImportProblem(origin, "no answer block { ... } in this question")
        return
    if len(pairs) > 1:
        yield ImportProblem(origin, "more than one answer block (cloze questions)", "unsupported")
        return
    (open_at, close_at) = pairs[0]
    head, body, tail = text[:open_at], text[open_at + 1 : close_at], text[close_at + 1 :]

    head = head.strip()
    title = ""
    if head.startswith("::"):
        end = _find(head, "::", 2)
        if end < 0:
            yield ImportProblem(origin, "title opened with '::' is never closed")
            return
        title = unescape(head[2:end]).strip()
        head = head[end + 2 :].strip()
    fmt = "moodle"
    match = _FORMAT.match(head)
    if match:
        fmt = match.group(1).lower()
        head = head[match.end() :]
    stem = head.strip()
    if tail.strip():
        stem = f"{stem} _____ {tail.strip()}"

    general = ""
    split = _find(body, "####")
    if split >= 0:
        body, general = body[:split], body[split + 4 :]
    answers = body.strip()
    kind = _kind(answers)
    name = title or "untitled"
    if kind:
        yield ImportProblem(origin, f"{kind} question {name!r} is not supported", "unsupported")
        return

    q = ParsedQuestion(
        external_id=title or external_id_for("gift", unescape(stem)),
        stem_html=_convert(stem, fmt),
        options=[],
        key_index=None,
        explanation_html=_convert(general, fmt),
        origin=origin,
        id_is_name=bool(title),
    )
    for segment in category:
        q.add_tag(ctx.outline_kind(segment) or "topic", segment)

    tf = _TF.match(_split_feedback(answers)[0])
    if tf:
        hashes = _unescaped(answers, "#")
        wrong = right = ""
        if len(hashes) == 1:
            wrong = answers[hashes[0] + 1 :]
        elif len(hashes) >= 2:
            wrong, right = answers[hashes[0] + 1 : hashes[1]], answers[hashes[1] + 1 :]
        is_true = tf.group(1).upper().startswith("T")
        q.options = [
            {"text": "True", "explanation": _convert(right if is_true else wrong, fmt)},
            {"text": "False", "explanation": _convert(wrong if is_true else right, fmt)},
        ]
        q.key_index, q.key_label = (0, "T") if is_true else (1, "F")
        yield q
        return

    marks = _unescaped(answers, "=~")
    if not marks or answers[: marks[0]].strip():
        yield ImportProblem(origin, "answers must start with '=' (right) or '~' (wrong)")
        return
    correct: list[int] = []
    for n, pos in enumerate(marks):
        end = marks[n + 1] if n + 1 < len(marks) else len(answers)
        piece = answers[pos + 1 : end].strip()
        weight = None
        wmatch = _WEIGHT.match(piece)
        if wmatch:
            weight = float(wmatch.group(1))
            piece = piece[wmatch.end() :]
        option_text, feedback = _split_feedback(piece)
        if answers[pos] == "=" or (weight is not None and weight >= 100):
            correct.append(len(q.options))
        elif weight is not None and weight > 0:
            yield ImportProblem(
                origin,
                f"multiple-response question {name!r} (weighted answers) is not supported",
                "unsupported",
            )
            return
        q.options.append(
            {"text": _convert(option_text, fmt), "explanation": _convert(feedback, fmt)}
        )
    if len(correct) > 1:
        yield ImportProblem(
            origin,
            f"multiple-response question {name!r} (several right answers) is not supported",
            "unsupported",
        )
        return
    if correct:
        q.key_index = correct[0]
    yield q


def _split_feedback(piece: str) -> tuple[str, str]:
    hashes = _unescaped(piece, "#")
    if not hashes:
        return piece, ""
    return piece[: hashes[0]], piece[hashes[0] + 1 :]


def _kind(answers: str) -> str | None:
    """The name of an answer block we do not import, or None for MC and true/false."""
    if not answers:
        return "essay"
    if answers.startswith("#"):
        return "numerical"
    if _TF.match(_split_feedback(answers)[0]):
        return None
    marks = _unescaped(answers, "=~")
    if marks and _find(answers, "->") >= 0:
        return "matching"
    if marks and all(answers[p] == "=" for p in marks):
        return "short answer"
    return None


def write(questions: Iterable[ParsedQuestion], out: IO[str]) -> int:
    count = 0
    for q in questions:
        q = csvfmt._inlined(q)
        out.write(f"// {METADATA_KEY}: {metadata_json(q)}\n")
        out.write(f"::{escape(q.external_id)}::[html]{escape(q.stem_html)} {{\n")
        for i, option in enumerate(q.options):
            mark = "=" if i == q.key_index else "~"
            line = f"  {mark}{escape(option['text'])}"
            if option.get("explanation"):
                line += f"#{escape(option['explanation'])}"
            out.write(line + "\n")
        if q.explanation_html:
            out.write(f"  ####{escape(q.explanation_html)}\n")
        out.write("}\n\n")
        count += 1
    return count
