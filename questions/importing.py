"""Reading an upload: pick formats, parse, sanitise and validate every question.

Nothing here touches the database except to read the outline's tag slugs (see `outline`).
`scan` reads the whole upload once and keeps the checked questions in a temporary file, so the
writer in questions/services.py can stream them back in batches without holding them all.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.utils.text import slugify

from questions.formats import IMPORT_FORMATS, PARSERS, SPREADSHEETS, detect, identify
from questions.formats.common import (
    MAX_FILE_BYTES,
    MAX_MEDIA_BYTES,
    MAX_OPTIONS,
    SET_KINDS,
    TAG_KINDS,
    ArchiveError,
    ImportFile,
    ImportProblem,
    ParseContext,
    ParsedQuestion,
    content_hash,
    extract_data_uris,
    html_is_empty,
    is_zip,
    letter,
    media_refs,
    question_text_fields,
    read_zip,
    sanitize_html,
    sniff_media_type,
    tag_slug,
    text_problem,
)

__all__ = [
    "IMPORT_FORMATS",
    "ImportFile",
    "ImportProblem",
    "ParseContext",
    "ParsedQuestion",
    "Scan",
    "content_hash",
    "iter_questions",
    "outline",
    "scan",
]


def outline() -> ParseContext:
    """The shared outline's tags, for matching category names and tag names to outline slugs."""
    from questions.models import Tag

    context = ParseContext()
    for kind, slug, name in Tag.objects.filter(bank__isnull=True).values_list(
        "kind", "slug", "name"
    ):
        if kind in {"discipline", "system"}:
            context.outline[slug] = kind
        for alias in {tag_slug(name), slugify(name)} - {slug}:
            context.aliases.setdefault(alias, slug)
    return context


def _expand(
    file: ImportFile, fmt: str, context: ParseContext
) -> Iterator[tuple[ImportFile, str] | ImportProblem]:
    """Pairs of (file, format) to parse; a zip that is not a QTI package is its members."""
    size = file.size
    if size > MAX_FILE_BYTES:
        yield ImportProblem(f"{file.name}:1", f"file is {size} bytes (limit {MAX_FILE_BYTES})")
        return
    if fmt in {"auto", "csv", *SPREADSHEETS}:
        kind, refusal = identify(file)
        if refusal:
            yield ImportProblem(f"{file.name}:1", refusal)
            return
        if kind is not None:
            # A spreadsheet chosen as "csv" is still read as the spreadsheet it is.
            yield file, kind
            return
        if fmt in SPREADSHEETS:
            yield ImportProblem(f"{file.name}:1", f"not an .{fmt} spreadsheet")
            return
    if is_zip(file.head(4)) and fmt in {"auto", "qti"}:
        try:
            members = read_zip(file)
            is_package = fmt == "qti" or "imsmanifest.xml" in members
            if not is_package:
                is_package = any(
                    n.endswith(".xml") and b"assessmentItem" in d for n, d in members.items()
                )
            if not is_package:
                # Unpacked here: charge what parsers will get (nested archives when unpacked).
                for n, data in enumerate(members.values(), start=1):
                    if not is_zip(data):
                        try:
                            context.charge(len(data))
                        except ArchiveError as exc:
                            raise ArchiveError(f"item {n}: {exc}") from None
        except ArchiveError as exc:
            message = str(exc)
            head, sep, rest = message.partition(": ")
            if sep and head.startswith("item "):
                yield ImportProblem(f"{file.name}:{head}", rest)
            else:
                yield ImportProblem(f"{file.name}:item 0", message)
            return
        if is_package:
            # The QTI parser reads (and charges) the package itself.
            del members
            yield file, "qti"
            return
        for name in list(members):
            member = ImportFile(f"{file.name}/{name}", members.pop(name))
            chosen = detect(member)
            if chosen is None:
                yield ImportProblem(f"{member.name}:1", "cannot tell this file's format")
            else:
                yield member, chosen
        return
    try:
        context.charge(size)
    except ArchiveError as exc:
        yield ImportProblem(f"{file.name}:1", str(exc))
        return
    if fmt == "auto":
        chosen = detect(file)
        if chosen is None:
            yield ImportProblem(
                f"{file.name}:1",
                "cannot tell this file's format (choose one: " + ", ".join(PARSERS) + ")",
            )
            return
        fmt = chosen
    yield file, fmt


def iter_questions(
    files: Iterable[ImportFile], *, format: str = "auto", context: ParseContext | None = None
) -> Iterator[ParsedQuestion | ImportProblem]:
    """Every question of every file, sanitised and checked, or the problems found instead."""
    if format not in IMPORT_FORMATS:
        yield ImportProblem(
            "format", f"unknown format {format!r} (one of {', '.join(IMPORT_FORMATS)})"
        )
        return
    context = context or ParseContext()
    for file in files:
        for entry in _expand(file, format, context):
            if isinstance(entry, ImportProblem):
                yield entry
                continue
            member, fmt = entry
            for item in PARSERS[fmt](member, context):
                if isinstance(item, ImportProblem):
                    yield item
                    continue
                problems = finalize(item, context)
                if problems:
                    yield from problems
                else:
                    yield item


def finalize(q: ParsedQuestion, context: ParseContext | None = None) -> list[ImportProblem]:
    """Sanitise every HTML field, then check the rules every question must meet."""
    problems: list[ImportProblem] = []
    # Malformed text first: the sanitiser, PostgreSQL and the page encoder would all fail on it.
    for label, value in question_text_fields(q):
        found = text_problem(value) if isinstance(value, str) else None
        if found:
            problems.append(ImportProblem(q.origin, f"{label} contains {found}"))
            return problems
    extract_data_uris(q)
    if context is not None and context.aliases:
        for kind in ("discipline", "system", "task"):
            if kind in q.tags:
                resolved = []
                for slug in q.tags[kind]:
                    target = context.resolve(slug)
                    if target != slug and f"{kind}:{slug}" in q.tag_names:
                        q.tag_names[f"{kind}:{target}"] = q.tag_names.pop(f"{kind}:{slug}")
                    if target not in resolved:
                        resolved.append(target)
                q.tags[kind] = resolved

    def problem(message: str) -> None:
        problems.append(ImportProblem(q.origin, message))

    q.external_id = q.external_id.strip()
    q.stem_html = sanitize_html(q.stem_html)
    q.explanation_html = sanitize_html(q.explanation_html)
    q.objective_html = sanitize_html(q.objective_html)
    q.options = [
        {
            "text": sanitize_html(o.get("text", "")),
            "explanation": sanitize_html(o.get("explanation", "")),
        }
        for o in q.options
    ]
    q.source = q.source.strip()
    q.licence = q.licence.strip()
    if q.item_set:
        q.item_set["stimulus_html"] = sanitize_html(q.item_set.get("stimulus_html", ""))

    if not q.external_id:
        problem("missing external id")
    elif len(q.external_id) > 200:
        problem("external id is longer than 200 characters")
    if html_is_empty(q.stem_html):
        problem("empty stem")
    count = len(q.options)
    if count < 2:
        problem(f"too few options ({count}; a question needs at least 2)")
    elif count > MAX_OPTIONS:
        problem(f"too many options ({count}; at most {MAX_OPTIONS}, A to Z)")
    else:
        for i, option in enumerate(q.options):
            if html_is_empty(option["text"]):
                problem(f"option {letter(i)} is empty")
    if q.key_index is None:
        problem("missing key (no correct answer is marked)")
    elif not 0 <= q.key_index < count:
        label = q.key_label or str(q.key_index)
        span = f"A to {letter(count - 1)}" if count else "none"
        problem(f"key {label} points at no option (options: {span})")
    if q.difficulty is not None and not 0 <= q.difficulty <= 1:
        problem(f"difficulty {q.difficulty} is outside 0 to 1")
    if len(q.source) > 300:
        problem("source is longer than 300 characters")
    if len(q.licence) > 200:
        problem("licence is longer than 200 characters")
    for kind in q.tags:
        if kind not in TAG_KINDS:
            problem(f"unknown tag kind {kind!r}")
    if q.item_set:
        item_set = q.item_set
        if not item_set.get("external_id"):
            problem("item set without an id")
        elif len(item_set["external_id"]) > 200:
            problem("item set id is longer than 200 characters")
        if item_set.get("kind") not in SET_KINDS:
            problem(f"item set kind {item_set.get('kind')!r} is not one of {', '.join(SET_KINDS)}")
        if not 1 <= int(item_set.get("position") or 0) <= 32767:
            problem("item set position must be from 1")

    # Media: every reference must resolve; files nothing refers to are dropped.
    referenced: set[str] = set()
    for value in _html_fields(q):
        referenced |= media_refs(value)
    media: list[tuple[str, str, bytes]] = []
    names = set()
    for name, declared, data in q.media:
        if name not in referenced or name in names:
            continue
        names.add(name)
        if not data:
            problem(f"media {name!r} is empty")
            continue
        if len(data) > MAX_MEDIA_BYTES:
            problem(f"media {name!r} is {len(data)} bytes (limit {MAX_MEDIA_BYTES})")
            continue
        # The stored and served type is what the bytes are, whatever the file declared.
        content_type = sniff_media_type(data)
        if content_type is None:
            problem(
                f"media {name!r} (declared {declared or 'without a type'}) is not an image, "
                "audio or video file we recognise; only images, audio and video "
                "(PNG, JPEG, GIF, WebP, MP3, OGG, WAV, FLAC, MP4, WebM)"
            )
            continue
        media.append((name, content_type, data))
    q.media = media
    for name in sorted(referenced - names):
        problem(f"missing media file {name!r}")
    return problems


def _html_fields(q: ParsedQuestion) -> Iterator[str]:
    from questions.formats.common import question_html_fields

    return question_html_fields(q)


@dataclass
class Scan:
    count: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    unsupported: list[ImportProblem] = field(default_factory=list)
    # Not errors: what was done that the instructor should know (a repeated name renamed).
    warnings: list[ImportProblem] = field(default_factory=list)
    sample: list[ParsedQuestion] = field(default_factory=list)
    spool: IO[bytes] | None = None

    def questions(self) -> Iterator[ParsedQuestion]:
        """The checked questions, read back from the spool in file order."""
        if self.spool is None:
            return
        self.spool.seek(0)
        while True:
            try:
                # The spool is a private temporary file this process wrote a moment ago.
                yield pickle.load(self.spool)  # noqa: S301
            except EOFError:
                return

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


MAX_PROBLEMS = 1000


def scan(
    files: Iterable[ImportFile],
    *,
    format: str = "auto",
    context: ParseContext | None = None,
    keep: bool = False,
    sample: int = 0,
) -> Scan:
    """Read the whole upload, collecting problems; with `keep`, spool the questions."""
    result = Scan(spool=tempfile.TemporaryFile() if keep else None)  # noqa: SIM115 - Scan.close
    seen: dict[str, str] = {}
    sets: dict[str, tuple[str, str, str]] = {}
    positions: dict[tuple[str, int], str] = {}
    for item in iter_questions(files, format=format, context=context):
        if isinstance(item, ImportProblem):
            bucket = result.unsupported if item.kind == "unsupported" else result.problems
            if len(bucket) < MAX_PROBLEMS:
                bucket.append(item)
            continue
        first = seen.get(item.external_id)
        if first is not None and item.id_is_name:
            # Moodle names are labels, not ids: real exports repeat them (Moodle's own GIFT
            # fixture has two "2-08 TSL"). The same file always derives the same ids.
            name, n = item.external_id, 2
            while f"{name} ({n})" in seen:
                n += 1
            item.external_id = f"{name} ({n})"[:200]
            if len(result.warnings) < MAX_PROBLEMS:
                result.warnings.append(
                    ImportProblem(
                        item.origin,
                        f"the name {name!r} is also used at {first}: "
                        f"imported as {item.external_id!r}",
                        "warning",
                    )
                )
            first = seen.get(item.external_id)
        if first is not None:
            result.problems.append(
                ImportProblem(
                    item.origin, f"duplicate external id {item.external_id!r} (first at {first})"
                )
            )
            continue
        seen[item.external_id] = item.origin
        if item.item_set:
            set_id = item.item_set["external_id"]
            shape = (item.item_set["kind"], item.item_set["stimulus_html"], item.origin)
            earlier = sets.setdefault(set_id, shape)
            if earlier[:2] != shape[:2]:
                result.problems.append(
                    ImportProblem(
                        item.origin,
                        f"item set {set_id!r} has a different kind or stimulus than at {earlier[2]}",
                    )
                )
            key = (set_id, item.item_set["position"])
            if key in positions:
                result.problems.append(
                    ImportProblem(
                        item.origin,
                        f"item set {set_id!r} position {key[1]} is also used at {positions[key]}",
                    )
                )
            positions[key] = item.origin
        result.count += 1
        if len(result.sample) < sample:
            result.sample.append(item)
        if result.spool is not None:
            pickle.dump(item, result.spool, protocol=pickle.HIGHEST_PROTOCOL)
    return result
