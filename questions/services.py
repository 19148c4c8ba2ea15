"""Changing question banks: imports (all or nothing), edits, retiring, and exports.

A question is identified by (bank, external_id). Versions are immutable; an import or an edit
that changes content adds a version and moves `current_version`, so responses keep pointing at
the version that was shown.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse

from questions.formats import BINARY_EXPORTS, EXPORT_FORMATS, WRITERS
from questions.formats.common import (
    MEDIA_REF,
    ImportFile,
    ImportProblem,
    ParseContext,
    ParsedQuestion,
    fill_absent,
    inline_media,
)
from questions.importing import content_hash, finalize, outline, scan
from questions.models import Bank, ImportJob, ItemSet, Media, Question, QuestionVersion, Tag

__all__ = [
    "ImportFile",
    "ImportRejected",
    "ImportSummary",
    "Preview",
    "bank_column_map_set",
    "bank_create",
    "import_preview",
    "question_check",
    "question_draft",
    "question_edit",
    "question_save",
    "question_rekey",
    "question_retire",
    "staged_upload_delete",
    "staged_upload_is_fresh",
    "staged_upload_save",
    "staged_uploads_purge",
    "questions_export",
    "questions_import",
]

BATCH_SIZE = 500
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportSummary:
    new: int
    new_versions: int
    unchanged: int
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.new + self.new_versions + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "new": self.new,
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
        }
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data

    def __str__(self) -> str:
        return (
            f"imported {self.total} questions: {self.new} new, "
            f"{self.new_versions} new versions, {self.unchanged} unchanged"
        )


class ImportRejected(Exception):
    """The upload had problems; nothing was written. `problems` lists them, errors first."""

    def __init__(self, problems: list[ImportProblem], unsupported: list[ImportProblem] = ()):
        self.errors = list(problems)
        self.unsupported = list(unsupported)
        self.problems = self.errors + self.unsupported
        super().__init__(f"{len(self.problems)} problem(s) in the upload")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


@dataclass
class Preview:
    count: int
    problems: list[ImportProblem]
    unsupported: list[ImportProblem]
    sample: list[ParsedQuestion] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    # Against the bank (None without one, or when the upload has errors).
    new: int | None = None
    changed: int | None = None
    unchanged: int | None = None
    # The first changed questions, each {"external_id", "origin", "rows", "has_cleared"};
    # rows are version_diff's {"field", "diff", "is_cleared"}.
    changes: list[dict[str, Any]] = field(default_factory=list)
    cleared: int = 0  # changed questions in which the upload empties a filled field
    # Spreadsheet headers no column or mapping names: {"file", "headers"} per file.
    unknown_columns: list[dict[str, Any]] = field(default_factory=list)


def _context(column_map: dict[str, str] | None) -> ParseContext:
    context = outline()
    if column_map:
        context.column_map = dict(column_map)
    return context


def import_preview(
    *,
    files: Iterable[ImportFile],
    format: str = "auto",
    limit: int = 5,
    column_map: dict[str, str] | None = None,
    bank: Bank | None = None,
    changes_limit: int = 50,
) -> Preview:
    """Parse and check an upload without writing anything.

    `column_map` maps a spreadsheet's headers to our column names ("" ignores a column), for a
    column-mapping step; headers it leaves out go through the usual aliases. With `bank`, a
    clean upload is compared with the bank: how many questions are new, changed and unchanged,
    and for the first `changes_limit` changed ones the fields that change. The sample's files
    are inlined as data: URIs, so its pictures show before anything is stored.
    """
    context = _context(column_map)
    result = scan(files, format=format, context=context, sample=limit, keep=bank is not None)
    try:
        preview = Preview(
            result.count,
            result.problems,
            result.unsupported,
            [_inlined(q) for q in result.sample],
            result.warnings,
            unknown_columns=list(context.unknown_columns),
        )
        if bank is not None and bank.pk is not None and not result.problems and result.count:
            _compare_with_bank(bank, result.questions(), preview, changes_limit)
    finally:
        result.close()
    return preview


# The preview page carries its sample's files in its HTML: bounded, so a sample of large videos
# cannot make a page of hundreds of megabytes. A larger file shows as its alt text until imported.
PREVIEW_INLINE_MAX_BYTES = 5 * 1024 * 1024


def _inlined(q: ParsedQuestion) -> ParsedQuestion:
    """A copy of a checked question whose `media:` references are data: URIs."""
    copy = dataclasses.replace(q)
    q = dataclasses.replace(q, media=[m for m in q.media if len(m[2]) <= PREVIEW_INLINE_MAX_BYTES])
    copy.stem_html = inline_media(q, q.stem_html)
    copy.explanation_html = inline_media(q, q.explanation_html)
    copy.objective_html = inline_media(q, q.objective_html)
    copy.options = [
        {"text": inline_media(q, o["text"]), "explanation": inline_media(q, o["explanation"])}
        for o in q.options
    ]
    if q.item_set:
        copy.item_set = {
            **q.item_set,
            "stimulus_html": inline_media(q, q.item_set["stimulus_html"]),
        }
    return copy


def _compare_with_bank(
    bank: Bank, questions: Iterator[ParsedQuestion], preview: Preview, limit: int
) -> None:
    """Count what an import would do, as _write_batch decides it, and say what changes."""
    from questions.text import plain_text, version_diff, version_fields, word_diff

    preview.new = preview.changed = preview.unchanged = 0
    for batch in _batches(questions, BATCH_SIZE):
        _, new, changed = _classify(bank, batch)
        preview.new += len(new)
        preview.changed += len(changed)
        preview.unchanged += len(batch) - len(new) - len(changed)
        stored = {
            q.pk: q
            for q in Question.objects.filter(pk__in=[q.pk for _, q in changed])
            .select_related("current_version", "item_set")
            .prefetch_related("tags", "current_version__media")
        }
        for p, question in changed:
            question = stored[question.pk]
            old, after = question.current_version, _unsaved_version(p)
            old = _stored_version(old) if old is not None else None
            is_shown = len(preview.changes) < limit
            if is_shown:
                rows = version_diff(old, after)
            else:
                # Past the shown ones only the cleared flag counts: no word diffs to build.
                before, now = version_fields(old) if old else {}, version_fields(after)
                rows = [
                    {"field": label, "is_cleared": True}
                    for label, value in before.items()
                    if value != now.get(label, "")
                    and plain_text(value)
                    and not plain_text(now.get(label, ""))
                ]
            for label, a, b in _link_changes(question, p):
                rows.append(
                    {
                        "field": label,
                        "diff": word_diff(a, b) if is_shown else "",
                        "is_cleared": bool(a) and not b,
                    }
                )
            has_cleared = any(row["is_cleared"] for row in rows)
            preview.cleared += has_cleared
            if is_shown:
                preview.changes.append(
                    {
                        "external_id": p.external_id,
                        "origin": p.origin,
                        "rows": rows,
                        "has_cleared": has_cleared,
                    }
                )


def _link_changes(question: Question, p: ParsedQuestion) -> list[tuple[str, str, str]]:
    """Tags, item set and files: what a question links to beside its version's fields."""
    from questions.text import plain_text

    old = question.current_version
    tags_before = " ".join(sorted(f"{t.kind}:{t.slug}" for t in question.tags.all()))
    tags_after = " ".join(sorted({f"{k}:{s}" for k, slugs in p.tags.items() for s in slugs}))
    set_before = (
        f"{question.item_set.external_id} #{question.set_position}" if question.item_set else ""
    )
    set_after = f"{p.item_set['external_id']} #{p.item_set['position']}" if p.item_set else ""
    changes = [("Tags", tags_before, tags_after), ("Item set", set_before, set_after)]
    # The stimulus is compared as text: stored HTML links files by URL, the upload by name.
    stimulus_before = plain_text(question.item_set.stimulus_html) if question.item_set else ""
    stimulus_after = plain_text(p.item_set.get("stimulus_html", "")) if p.item_set else ""
    changes.append(("Stimulus", stimulus_before, stimulus_after))
    files_before = list(old.media.all()) if old else []
    # Files are compared by content: the same picture under another name is no change.
    if sorted(m.sha256 for m in files_before) != sorted(
        hashlib.sha256(data).hexdigest() for _, _, data in p.media
    ):
        changes.append(
            (
                "Files",
                " ".join(sorted(m.original_name for m in files_before)),
                " ".join(sorted(posixpath.basename(name) for name, _, _ in p.media)),
            )
        )
    return [(label, a, b) for label, a, b in changes if a != b]


def _unsaved_version(p: ParsedQuestion) -> QuestionVersion:
    """The version an import would write, unsaved, with files named by their sha256."""
    by_name = {name: hashlib.sha256(data).hexdigest() for name, _, data in p.media}

    def canon(value: str) -> str:
        def repl(match: re.Match[str]) -> str:
            digest = by_name.get(html.unescape(match.group(3)), match.group(3))
            return f'{match.group(1)}="media:sha256-{digest}"'

        return MEDIA_REF.sub(repl, value or "")

    return _mapped_version(p, canon, key_index=p.key_index, is_voided=False)


def _stored_version(version: QuestionVersion) -> QuestionVersion:
    """A stored version, unsaved, with its files' URLs as sha256 names like _unsaved_version,
    so the same picture in both is no change."""
    by_uuid = {str(m.uuid): m.sha256 for m in version.media.all()}

    def canon(value: str) -> str:
        def repl(match: re.Match[str]) -> str:
            digest = by_uuid.get(match.group(4))
            return f'{match.group(1)}="media:sha256-{digest}"' if digest else match.group(0)

        return _UUID_SRC.sub(repl, value or "")

    return _mapped_version(version, canon, key_index=version.key_index, is_voided=version.is_voided)


def _mapped_version(source: Any, canon: Callable[[str], str], **fields: Any) -> QuestionVersion:
    """A QuestionVersion or a ParsedQuestion as an unsaved version, its HTML through `canon`."""
    return QuestionVersion(
        stem_html=canon(source.stem_html),
        options=[
            {"text": canon(o.get("text", "")), "explanation": canon(o.get("explanation", ""))}
            for o in source.options
        ],
        explanation_html=canon(source.explanation_html),
        objective_html=canon(source.objective_html),
        difficulty=source.difficulty,
        source=source.source,
        licence=source.licence,
        **fields,
    )


# --- staged uploads -------------------------------------------------------------------------

STAGING_DIR = "imports/staging"


def staged_upload_save(*, token: str, files: Iterable[tuple[str, IO[bytes]]]) -> list[str]:
    """Keep a previewed upload's files until it is confirmed (or expires); streamed, not read."""
    return [
        default_storage.save(f"{STAGING_DIR}/{token}/{name}", File(handle, name=name))
        for name, handle in files
    ]


def staged_upload_delete(*, token: str) -> None:
    directory = f"{STAGING_DIR}/{token}"
    try:
        _, names = default_storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        default_storage.delete(f"{directory}/{name}")
    default_storage.delete(directory)


def staged_upload_is_fresh(*, paths: list[str], now: datetime) -> bool:
    """Whether every staged file is still there and younger than UPLOAD_STAGING_SECONDS."""
    limit = timedelta(seconds=settings.UPLOAD_STAGING_SECONDS)
    try:
        return all(now - default_storage.get_modified_time(p) < limit for p in paths)
    except FileNotFoundError:
        return False


def staged_uploads_purge(*, now: datetime) -> int:
    """Delete previews nobody confirmed within UPLOAD_STAGING_SECONDS; the count removed.

    Age is the newest file's modification time, so the sweep needs no table and is idempotent.
    """
    limit = timedelta(seconds=settings.UPLOAD_STAGING_SECONDS)
    try:
        tokens, _ = default_storage.listdir(STAGING_DIR)
    except FileNotFoundError:
        return 0
    removed = 0
    for token in tokens:
        directory = f"{STAGING_DIR}/{token}"
        _, names = default_storage.listdir(directory)
        times = [default_storage.get_modified_time(f"{directory}/{n}") for n in names]
        if not times or now - max(times) >= limit:
            staged_upload_delete(token=token)
            removed += 1
    return removed


def bank_create(*, slug: str, name: str, owner: Any) -> Bank:
    with transaction.atomic():
        bank = Bank.objects.create(slug=slug, name=name)
        if owner is not None:
            bank.owners.add(owner)
    return bank


def bank_column_map_set(*, bank: Bank, column_map: dict[str, str]) -> Bank:
    """Remember a column-mapping step for the bank's next spreadsheets.

    The new choices join the remembered ones (a header chosen again takes the new column), so
    a bank whose files use several layouts keeps all of them.
    """
    from questions.formats.csvfmt import KNOWN, normalize_header

    bad = sorted({t for t in column_map.values() if t and t not in KNOWN})
    if bad:
        raise ValidationError(f"unknown target column(s): {', '.join(bad)}")
    with transaction.atomic():
        locked = Bank.objects.select_for_update().get(pk=bank.pk)
        chosen = {normalize_header(h) for h in column_map}
        merged = {h: t for h, t in locked.column_map.items() if normalize_header(h) not in chosen}
        merged.update({h.strip(): t for h, t in column_map.items() if h.strip()})
        locked.column_map = merged
        locked.save(update_fields=["column_map"])
    bank.column_map = merged
    return bank


def bank_practice_set(*, bank: Bank, is_open: bool) -> Bank:
    """Open or close a bank for examinees' practice blocks (exams/exposure.py still withholds
    its questions from anyone with an unfinished assigned exam or an open block holding them)."""
    with transaction.atomic():
        Bank.objects.filter(pk=bank.pk).update(is_open_for_practice=is_open)
    bank.is_open_for_practice = is_open
    return bank


def question_retire(*, question: Question, now: datetime) -> Question:
    """Take a question out of new exams; its versions and the responses to them stay."""
    with transaction.atomic():
        Question.objects.filter(pk=question.pk).update(is_retired=True)
    question.is_retired = True
    return question


def question_unretire(*, question: Question, now: datetime) -> Question:
    """Put a retired question back into the pool for new exams."""
    with transaction.atomic():
        Question.objects.filter(pk=question.pk).update(is_retired=False)
    question.is_retired = False
    return question


# --- media ---------------------------------------------------------------------------------


def media_url(media: Media) -> str:
    return reverse("questions:media", args=[media.uuid])


_UUID_SRC = re.compile(
    r"""(src|href)=(["'])([^"']*?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})[^"']*)\2"""
)


class _Resolver:
    """Stores media (deduplicated by sha256) and finds or makes tags and item sets."""

    def __init__(self, bank: Bank, *, dry_run: bool = False) -> None:
        self.bank = bank
        self.media: dict[str, Media] = {}
        self.tags: dict[tuple[str, str], int] = {}
        self.bank_tags: dict[tuple[str, str], int] = {}
        self.sets: dict[str, ItemSet] = {}
        if dry_run:
            return
        for kind, slug, pk in Tag.objects.filter(bank__isnull=True).values_list(
            "kind", "slug", "pk"
        ):
            self.tags[(kind, slug)] = pk
        for kind, slug, pk in Tag.objects.filter(bank=bank).values_list("kind", "slug", "pk"):
            self.bank_tags[(kind, slug)] = pk
        self.sets: dict[str, ItemSet] = {}

    def store_media(self, batch: list[ParsedQuestion]) -> None:
        wanted = {}
        for q in batch:
            for name, content_type, data in q.media:
                wanted.setdefault(hashlib.sha256(data).hexdigest(), (name, content_type, data))
        missing = [sha for sha in wanted if sha not in self.media]
        for m in Media.objects.filter(bank=self.bank, sha256__in=missing):
            self.media[m.sha256] = m
        for sha in missing:
            if sha in self.media:
                continue
            name, content_type, data = wanted[sha]
            base = posixpath.basename(name)[:150] or "file"
            media = Media(bank=self.bank, original_name=base, content_type=content_type, sha256=sha)
            media.file.save(base, ContentFile(data), save=False)
            media.save()
            self.media[sha] = media

    def link(self, q: ParsedQuestion, value: str) -> str:
        urls = {
            name: media_url(self.media[hashlib.sha256(data).hexdigest()])
            for name, _, data in q.media
        }

        def repl(match: re.Match[str]) -> str:
            url = urls.get(html.unescape(match.group(3)))
            return f'{match.group(1)}="{html.escape(url)}"' if url else match.group(0)

        return MEDIA_REF.sub(repl, value or "")

    def tag_ids(self, q: ParsedQuestion) -> list[int]:
        ids = []
        for kind, slugs in q.tags.items():
            for slug in slugs:
                pk = None if kind == "topic" else self.tags.get((kind, slug))
                if pk is None:
                    pk = self.bank_tags.get((kind, slug))
                if pk is None:
                    name = q.tag_names.get(f"{kind}:{slug}") or slug.replace("-", " ").capitalize()
                    tag, _ = Tag.objects.get_or_create(
                        kind=kind, slug=slug, bank=self.bank, defaults={"name": name}
                    )
                    pk = self.bank_tags[(kind, slug)] = tag.pk
                ids.append(pk)
        return ids

    def item_set(self, q: ParsedQuestion) -> ItemSet | None:
        if not q.item_set:
            return None
        set_id = q.item_set["external_id"]
        stimulus = self.link(q, q.item_set.get("stimulus_html", ""))
        item_set = self.sets.get(set_id)
        if item_set is None:
            item_set, _ = ItemSet.objects.get_or_create(
                bank=self.bank,
                external_id=set_id,
                defaults={"kind": q.item_set["kind"], "stimulus_html": stimulus},
            )
            self.sets[set_id] = item_set
        if (item_set.kind, item_set.stimulus_html) != (q.item_set["kind"], stimulus):
            item_set.kind, item_set.stimulus_html = q.item_set["kind"], stimulus
            item_set.save(update_fields=["kind", "stimulus_html"])
        return item_set


def _version(r: _Resolver, question: Question, q: ParsedQuestion, number: int, digest: str):
    return QuestionVersion(
        question=question,
        number=number,
        stem_html=r.link(q, q.stem_html),
        options=[
            {"text": r.link(q, o["text"]), "explanation": r.link(q, o["explanation"])}
            for o in q.options
        ],
        key_index=q.key_index,
        explanation_html=r.link(q, q.explanation_html),
        objective_html=r.link(q, q.objective_html),
        difficulty=q.difficulty,
        source=q.source,
        licence=q.licence,
        content_hash=digest,
    )


# --- import ------------------------------------------------------------------------------


def questions_import(
    *,
    bank: Bank,
    files: Iterable[ImportFile],
    format: str = "auto",
    skip_unsupported: bool = False,
    now: datetime,
    progress: Progress | None = None,
    dry_run: bool = False,
    column_map: dict[str, str] | None = None,
) -> ImportSummary:
    """Import every question of the upload, or nothing: raises ImportRejected on any problem.

    With `dry_run` the upload is checked and counted against the bank, and nothing is written.
    """
    result = scan(files, format=format, context=_context(column_map), keep=True)
    try:
        problems = list(result.problems)
        unsupported = [] if skip_unsupported else list(result.unsupported)
        if problems or unsupported:
            raise ImportRejected(problems, unsupported)
        if result.count == 0:
            raise ImportRejected([ImportProblem("upload", "no questions found")])
        with transaction.atomic():
            if bank.pk is not None:
                # One import per bank at a time, so version numbers never collide.
                Bank.objects.select_for_update().get(pk=bank.pk)
            counts = {"new": 0, "new_versions": 0, "unchanged": 0}
            resolver = _Resolver(bank, dry_run=dry_run)
            done = 0
            for batch in _batches(result.questions(), BATCH_SIZE):
                _write_batch(resolver, batch, counts, dry_run=dry_run)
                done += len(batch)
                if progress is not None:
                    progress(done, result.count)
    finally:
        result.close()
    return ImportSummary(**counts, warnings=tuple(str(w) for w in result.warnings))


def _batches(items: Iterator[ParsedQuestion], size: int) -> Iterator[list[ParsedQuestion]]:
    batch: list[ParsedQuestion] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _classify(
    bank: Bank, batch: list[ParsedQuestion]
) -> tuple[dict[str, str], list[ParsedQuestion], list[tuple[ParsedQuestion, Question]]]:
    """The batch's digests, its new questions, and its changed ones with the stored question.

    Fields a file cannot express are filled from the stored question first, so they count as
    unchanged (and the preview never shows them as cleared)."""
    existing = {}
    if bank.pk is not None:
        existing = {
            q.external_id: q
            for q in Question.objects.filter(
                bank=bank, external_id__in=[p.external_id for p in batch]
            ).select_related("current_version")
        }
    _keep_absent_fields(bank, batch, existing)
    digests = {p.external_id: content_hash(p) for p in batch}
    new: list[ParsedQuestion] = []
    changed: list[tuple[ParsedQuestion, Question]] = []
    for p in batch:
        question = existing.get(p.external_id)
        if question is None:
            new.append(p)
        elif not (
            question.current_version
            and question.current_version.content_hash == digests[p.external_id]
        ):
            changed.append((p, question))
    return digests, new, changed


def _write_batch(
    r: _Resolver, batch: list[ParsedQuestion], counts: dict[str, int], *, dry_run: bool
) -> None:
    digests, new, changed = _classify(r.bank, batch)
    counts["unchanged"] += len(batch) - len(new) - len(changed)
    counts["new"] += len(new)
    counts["new_versions"] += len(changed)
    if dry_run or not (new or changed):
        return

    r.store_media([*new, *(p for p, _ in changed)])
    created = Question.objects.bulk_create(
        [Question(bank=r.bank, external_id=p.external_id) for p in new]
    )
    pairs = list(zip(new, created, strict=True)) + changed
    numbers = dict(
        QuestionVersion.objects.filter(question__in=[q for _, q in changed])
        .values("question")
        .annotate(top=Max("number"))
        .values_list("question", "top")
    )
    versions = QuestionVersion.objects.bulk_create(
        [_version(r, q, p, numbers.get(q.pk, 0) + 1, digests[p.external_id]) for p, q in pairs]
    )
    through = Question.tags.through
    through.objects.filter(question__in=[q for _, q in changed]).delete()
    links = []
    for (p, question), version in zip(pairs, versions, strict=True):
        question.current_version = version
        item_set = r.item_set(p)
        question.item_set = item_set
        question.set_position = p.item_set["position"] if item_set else None
        links.extend(through(question_id=question.pk, tag_id=t) for t in set(r.tag_ids(p)))
    _point_at_versions([q for _, q in pairs])
    through.objects.bulk_create(links, ignore_conflicts=True)
    _link_media(r, [(p, version) for (p, _), version in zip(pairs, versions, strict=True)])


def _keep_absent_fields(
    bank: Bank, batch: list[ParsedQuestion], existing: dict[str, Question]
) -> None:
    """A file that cannot express a field (Aiken has no tags) keeps the stored value of it."""
    wanted = [p for p in batch if p.absent and p.external_id in existing]
    if not wanted:
        return
    stored = (
        Question.objects.filter(pk__in=[existing[p.external_id].pk for p in wanted])
        .exclude(current_version=None)
        .select_related("current_version", "item_set")
        .prefetch_related("tags")
    )
    by_id = {q.external_id: q for q in stored}
    names = _MediaNames(bank)
    for p in wanted:
        question = by_id.get(p.external_id)
        if question is not None:
            fill_absent(
                p,
                parsed_from_version(question, question.current_version, names, question.tags.all()),
            )


def _link_media(r: _Resolver, pairs: list[tuple[ParsedQuestion, QuestionVersion]]) -> None:
    """Record which files each new version shows: the media view checks this relation."""
    through = QuestionVersion.media.through
    through.objects.bulk_create(
        [
            through(
                questionversion_id=version.pk,
                media_id=r.media[hashlib.sha256(data).hexdigest()].pk,
            )
            for p, version in pairs
            for _, _, data in p.media
        ],
        ignore_conflicts=True,
    )


def _point_at_versions(questions: list[Question]) -> None:
    """Set current_version, item_set and set_position for many questions in one statement."""
    # bulk_update builds one CASE per row and field, which costs seconds per thousand rows.
    table = Question._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS q SET current_version_id = u.version_id, "  # noqa: S608 - our table
            "item_set_id = u.item_set_id, set_position = u.position "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::int[]) "
            "AS u(id, version_id, item_set_id, position) WHERE q.id = u.id",
            [
                [q.pk for q in questions],
                [q.current_version_id for q in questions],
                [q.item_set_id for q in questions],
                [q.set_position for q in questions],
            ],
        )


# --- edit and export -------------------------------------------------------------------------


class _MediaNames:
    """Maps stored media URLs back to `media:NAME` references with the files' bytes."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.by_uuid: dict[str, Media] = {}
        self.loaded = False
        self.data: dict[str, bytes] = {}

    def _load(self) -> None:
        if not self.loaded:
            self.by_uuid = {str(m.uuid): m for m in Media.objects.filter(bank=self.bank)}
            self.loaded = True

    def unlink(self, value: str, used: dict[str, Media]) -> str:
        if "src=" not in value and "href=" not in value:
            return value

        def repl(match: re.Match[str]) -> str:
            self._load()
            media = self.by_uuid.get(match.group(4))
            if media is None:
                return match.group(0)
            name = f"{str(media.uuid)[:8]}-{media.original_name}"
            used[name] = media
            return f'{match.group(1)}="media:{html.escape(name)}"'

        return _UUID_SRC.sub(repl, value)

    def read(self, media: Media) -> bytes:
        if media.sha256 not in self.data:
            with media.file.open("rb") as handle:
                self.data = {media.sha256: handle.read()}  # keep one: bounded memory
        return self.data[media.sha256]


def parsed_from_version(
    question: Question, version: QuestionVersion, names: _MediaNames, tags: Iterable[Tag]
) -> ParsedQuestion:
    used: dict[str, Media] = {}
    q = ParsedQuestion(
        external_id=question.external_id,
        stem_html=names.unlink(version.stem_html, used),
        options=[
            {
                "text": names.unlink(o.get("text", ""), used),
                "explanation": names.unlink(o.get("explanation", ""), used),
            }
            for o in version.options
        ],
        key_index=version.key_index,
        explanation_html=names.unlink(version.explanation_html, used),
        objective_html=names.unlink(version.objective_html, used),
        difficulty=version.difficulty,
        source=version.source,
        licence=version.licence,
        origin=question.external_id,
    )
    for tag in sorted(tags, key=lambda t: (t.kind, t.slug)):
        q.tags.setdefault(tag.kind, []).append(tag.slug)
    if question.item_set_id:
        item_set = question.item_set
        q.item_set = {
            "external_id": item_set.external_id,
            "kind": item_set.kind,
            "position": question.set_position,
            "stimulus_html": names.unlink(item_set.stimulus_html, used),
        }
    q.media = [(name, m.content_type, names.read(m)) for name, m in used.items()]
    return q


def question_edit(
    *,
    question: Question,
    now: datetime,
    stem_html: str | None = None,
    options: list[dict[str, str]] | None = None,
    key_index: int | None = None,
    explanation_html: str | None = None,
    objective_html: str | None = None,
    difficulty: float | None = None,
    source: str | None = None,
    licence: str | None = None,
) -> QuestionVersion:
    """Save an edit as a new version (always), sanitised and checked like an import."""
    with transaction.atomic():
        question = Question.objects.select_for_update().select_related("bank").get(pk=question.pk)
        current = QuestionVersion.objects.filter(question=question).order_by("-number").first()
        names = _MediaNames(question.bank)
        q = parsed_from_version(question, current, names, question.tags.all())
        for attr, value in {
            "stem_html": stem_html,
            "explanation_html": explanation_html,
            "objective_html": objective_html,
            "source": source,
            "licence": licence,
            "key_index": key_index,
            "difficulty": difficulty,
        }.items():
            if value is not None:
                setattr(q, attr, value)
        if options is not None:
            q.options = [
                {"text": o.get("text", ""), "explanation": o.get("explanation", "")}
                for o in options
            ]
        problems = finalize(q)
        if problems:
            raise ValidationError([p.message for p in problems])
        resolver = _Resolver(question.bank)
        resolver.store_media([q])
        version = _version(resolver, question, q, current.number + 1, content_hash(q))
        version.save()
        _link_media(resolver, [(q, version)])
        question.current_version = version
        question.save(update_fields=["current_version"])
    return version


def question_draft(*, question: Question) -> ParsedQuestion:
    """The current version as an editable question: HTML with `media:NAME` references, the
    files' bytes, tags and item set (the editor's starting point)."""
    current = question.current_version
    return parsed_from_version(question, current, _MediaNames(question.bank), question.tags.all())


def question_check(*, draft: ParsedQuestion) -> list[str]:
    """Sanitise and check an edited question exactly as an import would; the problems."""
    return [p.message for p in finalize(draft)]


def question_save(*, question: Question, draft: ParsedQuestion, now: datetime) -> QuestionVersion:
    """Save the editor's question as a new version, with its tags, item set and media.

    The same sanitising and rules as an import (finalize); an edit that changes nothing is
    refused, so a double submit never makes an empty version.
    """
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        current = QuestionVersion.objects.filter(question=question).order_by("-number").first()
        draft.external_id = question.external_id
        draft.origin = question.external_id
        problems = question_check(draft=draft)
        if problems:
            raise ValidationError(problems)
        digest = content_hash(draft)
        if current is not None and digest == current.content_hash:
            raise ValidationError("Nothing changed, so no new version was made.")
        resolver = _Resolver(question.bank)
        resolver.store_media([draft])
        version = _version(
            resolver, question, draft, (current.number if current else 0) + 1, digest
        )
        version.save()
        _link_media(resolver, [(draft, version)])
        item_set = resolver.item_set(draft)
        question.item_set = item_set
        question.set_position = draft.item_set["position"] if item_set else None
        question.current_version = version
        question.save(update_fields=["current_version", "item_set", "set_position"])
        question.tags.set(set(resolver.tag_ids(draft)))
    return version


def question_rekey(
    *, question: Question, key_index: int | None, is_voided: bool, now: datetime
) -> QuestionVersion:
    """A new version that differs from the current one only in how it is scored.

    The caller (analytics/rescore.py) moves the responses to it; the content is copied, so the
    examinee saw exactly this text, and nothing else about the question changes.
    """
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        current = QuestionVersion.objects.filter(question=question).order_by("-number").first()
        if current is None:
            raise ValidationError("This question has no version to rescore.")
        key = current.key_index if key_index is None else key_index
        if not 0 <= key < len(current.options):
            raise ValidationError({"key_index": "The key must point at one of the options."})
        if (key, is_voided) == (current.key_index, current.is_voided):
            raise ValidationError("That is already how this question is scored.")
        media = list(current.media.all())
        version = QuestionVersion.objects.get(pk=current.pk)
        version.pk = None
        version.number = current.number + 1
        version.key_index = key
        version.is_voided = is_voided
        # The hash an import of the corrected question would give, so re-importing the fixed
        # file is "unchanged"; a voided version never equals any file's content.
        parsed = parsed_from_version(
            question, current, _MediaNames(question.bank), question.tags.all()
        )
        parsed.key_index = key
        digest = content_hash(parsed)
        if is_voided:
            digest = hashlib.sha256(f"{digest}:voided".encode()).hexdigest()
        version.content_hash = digest
        version.created_at = now
        version.save(force_insert=True)
        version.media.set(media)
        question.current_version = version
        question.save(update_fields=["current_version"])
    return version


def iter_bank(bank: Bank, *, include_retired: bool = False) -> Iterator[ParsedQuestion]:
    """The bank's current versions as parsed questions, streamed in external-id order."""
    names = _MediaNames(bank)
    questions = (
        Question.objects.filter(bank=bank, current_version__isnull=False)
        .select_related("current_version", "item_set")
        .prefetch_related("tags")
        .order_by("external_id")
    )
    if not include_retired:
        questions = questions.filter(is_retired=False)
    for question in questions.iterator(chunk_size=BATCH_SIZE):
        yield parsed_from_version(question, question.current_version, names, question.tags.all())


def questions_export(*, bank: Bank, format: str, out: IO) -> int:
    """Write the bank in an export format; `out` is binary for qti, text otherwise."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r} (one of {', '.join(EXPORT_FORMATS)})")
    return WRITERS[format](iter_bank(bank), out)


def is_binary_export(format: str) -> bool:
    return format in BINARY_EXPORTS


def job_progress_writer(job: ImportJob) -> Progress:
    """A progress callback that commits outside the import's transaction, so pollers see it."""
    from django.db import connections

    connection = connections.create_connection("default")
    table = ImportJob._meta.db_table

    def write(done: int, total: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET progress = %s, total = %s WHERE id = %s",  # noqa: S608 - table name is ours
                [done, total, job.pk],
            )

    write.close = connection.close  # type: ignore[attr-defined]
    return write
