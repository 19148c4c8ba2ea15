"""The exam engine: the server is the clock.

Every state change goes through a function here. Each one locks the attempt row first
(`select_for_update`), so a save, an end-block, the expiry sweep and a second tab are
serialised per examinee and can never interleave; the lock order is always attempt → block →
response.

Time rules (docs/timing.md):
- A block's deadline is stored when it starts: start + block time, never past the exam day's end.
- The exam day is a fixed window from the start (tutorial + blocks + break pool). Everything
  outside a block spends break time, so unused tutorial time and time left in a block ended
  early become break time, and a break overrun shortens the rest of the day.
- A save is accepted until deadline + ANSWER_GRACE_SECONDS, for requests already in flight at
  the deadline: after the deadline nothing new is served (no item page, move or bundle), and
  only an item that was open or visited before it takes an answer. After the grace every
  write is refused and the block is closed.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q

from config.db import prepared_cursor as _prepared_cursor
from exams import exposure
from exams.models import Assignment, Attempt, AttemptBlock, Exam, Response
from questions.models import Bank, ItemSet, Question, QuestionVersion, Tag

PRACTICE_SECONDS_PER_ITEM = 90
# Client sequence numbers come from the browser's counter, a JavaScript number: 2**53 - 1 is
# the largest it holds exactly, and it is far inside PostgreSQL's bigint (`last_seq`, and the
# `::bigint` casts of `field_seqs`), so a stored seq can never overflow a later read.
MAX_SEQ = 2**53 - 1
# Response.position and AttemptBlock.current_position are PositiveSmallIntegerFields.
MAX_POSITION = 32767
ACTIVITY_RESOLUTION = timedelta(seconds=30)
MAX_PRACTICE_ITEMS = 40


class ExamError(Exception):
    """A refusal the examinee should read; the message says why."""

    code = "refused"


class BlockClosed(ExamError):
    code = "closed"


class ItemLocked(ExamError):
    code = "locked"


class NotAllowed(ExamError):
    code = "not_allowed"


class NotFound(ExamError):
    """No attempt with that id belongs to this user (the view answers 404)."""

    code = "not_found"


UNSET = object()


def _grace() -> timedelta:
    return timedelta(seconds=settings.ANSWER_GRACE_SECONDS)


# --------------------------------------------------------------------------- assembly


def _units_from(questions: Sequence[Question]) -> list[list[Question]]:
    """Group questions into delivery units: a whole item set stays together, in order."""
    by_set: dict[int, list[Question]] = defaultdict(list)
    units: list[list[Question]] = []
    for q in questions:
        if q.item_set_id is None:
            units.append([q])
        else:
            by_set[q.item_set_id].append(q)
    for members in by_set.values():
        units.append(sorted(members, key=lambda q: q.set_position or 0))
    return units


def _largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    norm = sum(weights.values())
    if norm <= 0 or total <= 0:
        return dict.fromkeys(weights, 0)
    exact = {k: total * w / norm for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:left]:
        counts[k] += 1
    return counts


@dataclass(frozen=True, slots=True)
class PoolItem:
    """What the draw needs of a question, read without building model instances."""

    pk: int
    current_version_id: int
    item_set_id: int | None
    set_position: int | None
    discipline: str | None
    system: str | None


def _tag_of(question, kind: str) -> str | None:
    if isinstance(question, PoolItem):
        return question.discipline if kind == Tag.Kind.DISCIPLINE else question.system
    for tag in question.tags.all():
        if tag.kind == kind:
            return tag.slug
    return None


def draw_items(
    *,
    questions: Sequence[Question],
    total: int,
    discipline_weights: dict[str, float],
    system_weights: dict[str, float],
    rng: random.Random,
) -> list[list[Question]]:
    """Draw delivery units adding up to `total` items, following the tag proportions.

    Disciplines get item quotas by the largest-remainder method over the disciplines present
    in the pool. Within a discipline, units are drawn without replacement with probability
    proportional to their system's weight divided by how common that system is in the pool
    (Efraimidis–Spirakis keys), so the system mix follows its weights too. Short quotas are
    topped up from the rest of the pool, so the exam always has `total` items if the pool has.
    """
    units = _units_from(questions)
    by_disc: dict[str, list[list[Question]]] = defaultdict(list)
    for unit in units:
        by_disc[_tag_of(unit[0], Tag.Kind.DISCIPLINE) or ""].append(unit)
    present = {d: discipline_weights.get(d, 0.0) for d in by_disc}
    if not any(present.values()):
        present = dict.fromkeys(by_disc, 1.0)
    quotas = _largest_remainder(present, total)

    system_freq: dict[str, int] = defaultdict(int)
    for unit in units:
        system_freq[_tag_of(unit[0], Tag.Kind.SYSTEM) or ""] += 1

    def key(unit: list[Question]) -> float:
        system = _tag_of(unit[0], Tag.Kind.SYSTEM) or ""
        weight = system_weights.get(system, 0.0) if system_weights else 1.0
        weight = max(weight, 0.05) / system_freq[system]
        return rng.random() ** (1.0 / weight)

    chosen: list[list[Question]] = []
    leftovers: list[list[Question]] = []
    count = 0
    for disc, disc_units in by_disc.items():
        ranked = sorted(disc_units, key=key, reverse=True)
        quota = quotas.get(disc, 0)
        taken = 0
        for unit in ranked:
            if taken + len(unit) <= quota and count + len(unit) <= total:
                chosen.append(unit)
                taken += len(unit)
                count += len(unit)
            else:
                leftovers.append(unit)
    rng.shuffle(leftovers)
    for unit in leftovers:
        if count >= total:
            break
        if count + len(unit) <= total:
            chosen.append(unit)
            count += len(unit)
    return chosen


def pack_blocks(
    *, units: list[list[Question]], block_count: int, per_block: int, rng: random.Random
) -> list[list[Question]]:
    """Spread units over blocks, largest first into the emptiest block, then shuffle each."""
    blocks: list[list[list[Question]]] = [[] for _ in range(block_count)]
    sizes = [0] * block_count
    for unit in sorted(units, key=len, reverse=True):
        target = min(range(block_count), key=lambda i: sizes[i])
        if sizes[target] + len(unit) > per_block:
            continue
        blocks[target].append(unit)
        sizes[target] += len(unit)
    result = []
    for block_units in blocks:
        rng.shuffle(block_units)
        result.append([q for unit in block_units for q in unit])
    return result


def pool_items(questions) -> list[PoolItem]:
    """The draw's view of a question queryset: two flat reads, whatever the bank's size.

    A start spike (a whole cohort pressing Start together) runs this once per examinee, so it
    avoids model instances and per-question tag prefetches.
    """
    rows = list(
        questions.order_by("pk").values_list(
            "pk", "current_version_id", "item_set_id", "set_position"
        )
    )
    first_tag: dict[tuple[int, str], str] = {}
    for question_id, kind, slug in (
        Question.tags.through.objects.filter(
            question_id__in=questions.values("pk"),
            tag__kind__in=(Tag.Kind.DISCIPLINE, Tag.Kind.SYSTEM),
        )
        .order_by("tag__slug")
        .values_list("question_id", "tag__kind", "tag__slug")
    ):
        first_tag.setdefault((question_id, kind), slug)
    return [
        PoolItem(
            pk=pk,
            current_version_id=version_id,
            item_set_id=item_set_id,
            set_position=set_position,
            discipline=first_tag.get((pk, Tag.Kind.DISCIPLINE)),
            system=first_tag.get((pk, Tag.Kind.SYSTEM)),
        )
        for pk, version_id, item_set_id, set_position in rows
    ]


def _pool_for(banks) -> list[PoolItem]:
    return pool_items(
        Question.objects.filter(bank__in=banks, is_retired=False, current_version__isnull=False)
    )


def exam_blocks(*, exam: Exam, rng: random.Random) -> list[list[Question]]:
    blueprint = exam.blueprint
    if exam.assembly == Exam.Assembly.FIXED:
        blocks: list[list[Question]] = [[] for _ in range(blueprint.block_count)]
        for item in exam.fixed_items.select_related("question").order_by(
            "block_number", "position"
        ):
            if 1 <= item.block_number <= blueprint.block_count:
                blocks[item.block_number - 1].append(item.question)
        if not any(blocks):
            raise ExamError("This exam's fixed form has no items yet.")
        return blocks
    pool = _pool_for(exam.banks.all())
    need = blueprint.total_items
    if len(pool) < need:
        raise ExamError(
            f"The question pool has {len(pool)} questions; this exam needs {need}. "
            "Ask your instructor to add questions or use a smaller blueprint."
        )
    units = draw_items(
        questions=pool,
        total=need,
        discipline_weights=exam.discipline_weights or {},
        system_weights=exam.system_weights or {},
        rng=rng,
    )
    return pack_blocks(
        units=units,
        block_count=blueprint.block_count,
        per_block=blueprint.items_per_block,
        rng=rng,
    )


# --------------------------------------------------------------------------- access


def available_assignments(*, user, exam: Exam, now: datetime) -> list[Assignment]:
    return [a for a in Assignment.objects.filter(exam=exam, cohort__members=user) if a.is_open(now)]


def attempts_left(*, user, exam: Exam, now: datetime) -> int | None:
    """None means unlimited (a public exam)."""
    if exam.is_public:
        return None
    assignments = available_assignments(user=user, exam=exam, now=now)
    if not assignments:
        return 0
    allowed = max(a.max_attempts for a in assignments)
    used = Attempt.objects.filter(user=user, exam=exam).count()
    return max(allowed - used, 0)


# --------------------------------------------------------------------------- start


def _create_attempt(
    *,
    user,
    exam: Exam | None,
    assignment: Assignment | None,
    kind: str,
    title: str,
    mode: str,
    blocks: list[list[Question]],
    block_seconds: int | None,
    break_seconds: int,
    tutorial_seconds: int,
    now: datetime,
    time_multiplier: Decimal = Decimal(1),
    extra_break_minutes: int = 0,
) -> Attempt:
    multiplier = Decimal(time_multiplier)
    timed = block_seconds is not None
    if timed:
        block_seconds = int(block_seconds * multiplier)
        break_seconds += int(extra_break_minutes) * 60
    else:
        break_seconds = 0
        tutorial_seconds = 0
    day_seconds = len(blocks) * block_seconds + break_seconds + tutorial_seconds if timed else None
    attempt = Attempt.objects.create(
        user=user,
        exam=exam,
        assignment=assignment,
        kind=kind,
        title=title,
        mode=mode,
        state=Attempt.State.TUTORIAL if tutorial_seconds else Attempt.State.BETWEEN_BLOCKS,
        block_count=len(blocks),
        block_seconds=block_seconds,
        break_seconds=break_seconds,
        tutorial_seconds=tutorial_seconds,
        time_multiplier=multiplier,
        started_at=now,
        tutorial_ends_at=now + timedelta(seconds=tutorial_seconds) if tutorial_seconds else None,
        day_deadline_at=now + timedelta(seconds=day_seconds) if day_seconds else None,
        break_started_at=None if tutorial_seconds else now,
        last_activity_at=now,
    )
    block_rows = AttemptBlock.objects.bulk_create(
        [AttemptBlock(attempt=attempt, number=i + 1) for i in range(len(blocks))]
    )
    Response.objects.bulk_create(
        [
            Response(
                attempt=attempt,
                block=block_row,
                position=pos + 1,
                question_id=question.pk,
                version_id=question.current_version_id,
            )
            for block_row, questions in zip(block_rows, blocks, strict=True)
            for pos, question in enumerate(questions)
        ]
    )
    return attempt


def attempt_start(*, user, exam: Exam, now: datetime, rng: random.Random | None = None) -> Attempt:
    """Start a sitting of `exam`: items are drawn once, here, and never change afterwards."""
    with transaction.atomic():
        # Serialise starts per user so a double click cannot use two attempts.
        get_user_model().objects.select_for_update().get(pk=user.pk)
        # One open attempt per exam: a second Start resumes the open one. Two open at once
        # would let the examinee end one, read its review (the keys), and answer the other.
        # The attempt_one_open_per_exam constraint holds this in the database as well.
        open_attempt = (
            Attempt.objects.select_for_update()
            .filter(user=user, exam=exam)
            .exclude(state=Attempt.State.FINISHED)
            .first()
        )
        if open_attempt is not None:
            _expire_locked(attempt=open_attempt, now=now)
            if open_attempt.state != Attempt.State.FINISHED:
                return open_attempt
        # Assignments are read with the examinee's override (a later close, more attempts,
        # more time); an archived exam or cohort opens nothing.
        from exams import access

        if exam.is_archived:
            raise NotAllowed("This exam has been archived.")
        assignment = None
        override = None
        if not exam.is_public:
            effective = access.best_open(user=user, exam=exam, now=now)
            if effective is None:
                raise NotAllowed("This exam is not open to you now.")
            if access.attempts_left(user=user, exam=exam, now=now) == 0:
                raise NotAllowed("You have used all your attempts at this exam.")
            assignment, override = effective.assignment, effective.override
        # Accommodations come only from the membership of the cohort that assigns this exam:
        # another instructor's cohort can neither stretch nor reset them, and a public exam
        # has none.
        accommodation = {}
        if assignment is not None:
            accommodation = (
                user.membership_set.filter(cohort_id=assignment.cohort_id)
                .values("time_multiplier", "extra_break_minutes")
                .first()
            ) or {}
        extra_block_seconds = 0
        if override is not None:
            extra_block_seconds = override.extra_block_minutes * 60
            accommodation["extra_break_minutes"] = (
                accommodation.get("extra_break_minutes", 0) + override.extra_break_minutes
            )
        blueprint = exam.blueprint
        blocks = exam_blocks(exam=exam, rng=rng or random.Random())
        timed = exam.mode == Exam.Mode.TIMED
        attempt = _create_attempt(
            user=user,
            exam=exam,
            assignment=assignment,
            kind=Attempt.Kind.EXAM,
            title=exam.title,
            mode=exam.mode,
            blocks=blocks,
            block_seconds=blueprint.block_minutes * 60 + extra_block_seconds if timed else None,
            break_seconds=blueprint.break_minutes * 60,
            tutorial_seconds=blueprint.tutorial_minutes * 60,
            now=now,
            **accommodation,
        )
        if override is not None:
            attempt.override_summary = override.summary[:300]
            attempt.save(update_fields=["override_summary"])
        return attempt


# --------------------------------------------------------------------------- practice


def practice_banks(*, user, now: datetime):
    """Banks an examinee may practise from: those of exams open to them that their owner has
    opened for practice. Which of their questions may be drawn is exposure.py's rule."""
    open_exam_ids = set(Exam.objects.filter(is_public=True).values_list("id", flat=True))
    for a in Assignment.objects.filter(cohort__members=user).select_related("exam"):
        if a.is_open(now):
            open_exam_ids.add(a.exam_id)
    return Bank.objects.filter(exams__id__in=open_exam_ids, is_open_for_practice=True).distinct()


POOLS = ("unused", "incorrect", "marked", "omitted", "all")


def _closed_responses(user):
    return Response.objects.filter(attempt__user=user, block__state=AttemptBlock.State.CLOSED)


def practice_pool(
    *, user, pool: str, disciplines: Sequence[str], systems: Sequence[str], now: datetime
):
    if pool not in POOLS:
        raise ExamError(f"Unknown pool {pool!r}.")
    qs = Question.objects.filter(
        bank__in=practice_banks(user=user, now=now),
        is_retired=False,
        current_version__isnull=False,
    )
    if disciplines:
        qs = qs.filter(tags__kind=Tag.Kind.DISCIPLINE, tags__slug__in=disciplines)
    if systems:
        qs = qs.filter(
            id__in=Question.objects.filter(
                tags__kind=Tag.Kind.SYSTEM, tags__slug__in=systems
            ).values("id")
        )
    seen = Response.objects.filter(attempt__user=user).values("question_id")
    closed = _closed_responses(user)
    if pool == "unused":
        qs = qs.exclude(id__in=seen)
    elif pool == "marked":
        qs = qs.filter(
            id__in=Response.objects.filter(attempt__user=user, is_marked=True).values("question_id")
        )
    elif pool == "omitted":
        qs = qs.filter(id__in=closed.filter(choice__isnull=True).values("question_id"))
    elif pool == "incorrect":
        # Incorrect means answered but not with the key of the version that was shown.
        wrong = closed.filter(choice__isnull=False).exclude(choice=F("version__key_index"))
        qs = qs.filter(id__in=wrong.values("question_id"))
    # Practice shows keys (tutor mode) and its review does: never draw a withheld question.
    return exposure.exposable(qs, user=user, now=now).distinct()


def practice_pool_counts(
    *, user, disciplines: Sequence[str], systems: Sequence[str], now: datetime
) -> dict[str, int]:
    return {
        pool: practice_pool(
            user=user, pool=pool, disciplines=disciplines, systems=systems, now=now
        ).count()
        for pool in POOLS
    }


def practice_create(
    *,
    user,
    disciplines: Sequence[str],
    systems: Sequence[str],
    pool: str,
    count: int,
    mode: str,
    now: datetime,
    rng: random.Random | None = None,
) -> Attempt:
    if not 1 <= count <= MAX_PRACTICE_ITEMS:
        raise ExamError(f"A practice block has 1 to {MAX_PRACTICE_ITEMS} items.")
    if mode not in Exam.Mode.values:
        raise ExamError(f"Unknown mode {mode!r}.")
    rng = rng or random.Random()
    with transaction.atomic():
        candidates = pool_items(
            practice_pool(user=user, pool=pool, disciplines=disciplines, systems=systems, now=now)
        )
        if not candidates:
            raise ExamError("No questions match these choices. Widen the subjects or the pool.")
        units = draw_items(
            questions=candidates,
            total=min(count, len(candidates)),
            discipline_weights={},
            system_weights={},
            rng=rng,
        )
        items = [q for unit in units for q in unit]
        attempt = _create_attempt(
            user=user,
            exam=None,
            assignment=None,
            kind=Attempt.Kind.PRACTICE,
            title=f"Practice block · {len(items)} items · {Exam.Mode(mode).label}",
            mode=mode,
            blocks=[items],
            block_seconds=PRACTICE_SECONDS_PER_ITEM * len(items)
            if mode == Exam.Mode.TIMED
            else None,
            break_seconds=0,
            tutorial_seconds=0,
            now=now,
        )
        return block_start(attempt=attempt, now=now)


# --------------------------------------------------------------------------- clock


def _lock(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().get(pk=attempt.pk)


def _active_block(attempt: Attempt) -> AttemptBlock | None:
    return attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).first()


def _accrue_time(block: AttemptBlock, until: datetime) -> None:
    """Add the time since the examinee arrived on the current item to that item."""
    if block.current_since is None:
        return
    end = min(until, block.deadline_at) if block.deadline_at else until
    elapsed_ms = max(0, int((end - block.current_since).total_seconds() * 1000))
    if elapsed_ms:
        Response.objects.filter(block=block, position=block.current_position).update(
            time_spent_ms=F("time_spent_ms") + elapsed_ms
        )
    block.current_since = until


def _close_block(
    *, attempt: Attempt, block: AttemptBlock, reason: str, closed_at: datetime, now: datetime
) -> None:
    from analytics.tasks import queue_block_analytics

    _accrue_time(block, closed_at)
    block.state = AttemptBlock.State.CLOSED
    block.closed_at = closed_at
    block.close_reason = reason
    block.current_since = None
    block.analytics_state = AttemptBlock.AnalyticsState.PENDING
    block.save(
        update_fields=[
            "state",
            "started_at",
            "closed_at",
            "close_reason",
            "current_since",
            "analytics_state",
            "current_position",
        ]
    )
    queue_block_analytics(block_id=block.id)
    if not attempt.blocks.exclude(state=AttemptBlock.State.CLOSED).exists():
        attempt.state = Attempt.State.FINISHED
        attempt.finished_at = closed_at
    else:
        attempt.state = Attempt.State.BETWEEN_BLOCKS
        attempt.break_started_at = closed_at
    attempt.save(update_fields=["state", "finished_at", "break_started_at"])


def _end_day(*, attempt: Attempt, now: datetime) -> None:
    """The exam day is over: close whatever is open; blocks never started count as omitted."""
    deadline = attempt.day_deadline_at
    for block in attempt.blocks.exclude(state=AttemptBlock.State.CLOSED).order_by("number"):
        if block.state == AttemptBlock.State.PENDING:
            block.started_at = deadline
        _close_block(
            attempt=attempt,
            block=block,
            reason=AttemptBlock.CloseReason.DAY_ENDED
            if block.state == AttemptBlock.State.PENDING
            else AttemptBlock.CloseReason.EXPIRED,
            closed_at=min(deadline, block.deadline_at or deadline),
            now=now,
        )


def _expire_locked(*, attempt: Attempt, now: datetime) -> tuple[bool, AttemptBlock | None]:
    """With the attempt locked: close what the clock says is over.

    Returns whether anything closed, and the block still active afterwards (if any).
    """
    if attempt.state == Attempt.State.FINISHED:
        return False, None
    changed = False
    # The attempt's state says whether a block is open: no query between blocks.
    block = _active_block(attempt) if attempt.state == Attempt.State.IN_BLOCK else None
    if block is not None and block.deadline_at and now > block.deadline_at + _grace():
        _close_block(
            attempt=attempt,
            block=block,
            reason=AttemptBlock.CloseReason.EXPIRED,
            closed_at=block.deadline_at,
            now=now,
        )
        block = None
        changed = True
    if (
        attempt.state == Attempt.State.TUTORIAL
        and attempt.tutorial_ends_at
        and now >= attempt.tutorial_ends_at
    ):
        attempt.state = Attempt.State.BETWEEN_BLOCKS
        attempt.break_started_at = attempt.tutorial_ends_at
        attempt.save(update_fields=["state", "break_started_at"])
        changed = True
    if (
        attempt.day_deadline_at
        and now > attempt.day_deadline_at + _grace()
        and attempt.state != Attempt.State.FINISHED
    ):
        _end_day(attempt=attempt, now=now)
        block = None
        changed = True
    return changed, block


def attempt_refresh(*, attempt: Attempt, now: datetime) -> Attempt:
    """Apply the clock on a read: every request sees a state the deadlines allow."""
    if attempt.state == Attempt.State.FINISHED:
        return attempt
    due = (
        (
            attempt.state == Attempt.State.TUTORIAL
            and attempt.tutorial_ends_at
            and now >= attempt.tutorial_ends_at
        )
        or (attempt.day_deadline_at and now > attempt.day_deadline_at + _grace())
        or AttemptBlock.objects.filter(
            attempt=attempt,
            state=AttemptBlock.State.ACTIVE,
            deadline_at__lt=now - _grace(),
        ).exists()
    )
    if not due:
        return attempt
    with transaction.atomic():
        locked = _lock(attempt)
        _expire_locked(attempt=locked, now=now)
        return locked


def close_expired_blocks(*, now: datetime) -> int:
    """The beat sweep: close blocks (and exam days) whose examinee has gone away."""
    cutoff = now - _grace()
    attempt_ids = set(
        AttemptBlock.objects.filter(
            state=AttemptBlock.State.ACTIVE, deadline_at__lt=cutoff
        ).values_list("attempt_id", flat=True)
    )
    attempt_ids |= set(
        Attempt.objects.exclude(state=Attempt.State.FINISHED)
        .filter(
            Q(day_deadline_at__lt=cutoff)
            | Q(state=Attempt.State.TUTORIAL, tutorial_ends_at__lt=now)
        )
        .values_list("id", flat=True)
    )
    closed = 0
    for attempt_id in sorted(attempt_ids):
        with transaction.atomic():
            attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
            closed += int(_expire_locked(attempt=attempt, now=now)[0])
    return closed


def tutorial_end(*, attempt: Attempt, now: datetime) -> Attempt:
    with transaction.atomic():
        attempt = _lock(attempt)
        _expire_locked(attempt=attempt, now=now)
        if attempt.state == Attempt.State.TUTORIAL:
            # Unused tutorial time becomes break time, because the day's end does not move.
            attempt.state = Attempt.State.BETWEEN_BLOCKS
            attempt.tutorial_ends_at = now
            attempt.break_started_at = now
            attempt.last_activity_at = now
            attempt.save(
                update_fields=["state", "tutorial_ends_at", "break_started_at", "last_activity_at"]
            )
        return attempt


def block_start(*, attempt: Attempt, now: datetime) -> Attempt:
    with transaction.atomic():
        attempt = _lock(attempt)
        _expire_locked(attempt=attempt, now=now)
        if attempt.state == Attempt.State.IN_BLOCK or attempt.state == Attempt.State.FINISHED:
            return attempt  # a double click, or a second tab: nothing more to start
        if attempt.state == Attempt.State.TUTORIAL:
            attempt.tutorial_ends_at = now
        block = attempt.blocks.filter(state=AttemptBlock.State.PENDING).order_by("number").first()
        if block is None:
            raise ExamError("There is no block left to start.")
        block.state = AttemptBlock.State.ACTIVE
        block.started_at = now
        if attempt.block_seconds is not None:
            deadline = now + timedelta(seconds=attempt.block_seconds)
            if attempt.day_deadline_at:
                deadline = min(deadline, attempt.day_deadline_at)
            block.deadline_at = deadline
        block.current_position = 1
        block.current_since = now
        block.save(
            update_fields=[
                "state",
                "started_at",
                "deadline_at",
                "current_position",
                "current_since",
            ]
        )
        attempt.state = Attempt.State.IN_BLOCK
        attempt.break_started_at = None
        attempt.last_activity_at = now
        attempt.save(
            update_fields=["state", "tutorial_ends_at", "break_started_at", "last_activity_at"]
        )
        return attempt


def block_end(*, attempt: Attempt, now: datetime) -> Attempt:
    """End the active block early. Idempotent: ending a closed block again changes nothing."""
    with transaction.atomic():
        attempt = _lock(attempt)
        changed, block = _expire_locked(attempt=attempt, now=now)
        if changed or block is None:
            return attempt
        _close_block(
            attempt=attempt,
            block=block,
            reason=AttemptBlock.CloseReason.ENDED,
            closed_at=now,
            now=now,
        )
        attempt.last_activity_at = now
        attempt.save(update_fields=["last_activity_at"])
        return attempt


def item_visit(*, attempt: Attempt, position: int, now: datetime) -> AttemptBlock:
    """Move to another item; see `item_visit_own`."""
    return item_visit_own(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=position, now=now
    )


def item_visit_own(*, attempt_uuid, user_id: int, position: int, now: datetime) -> AttemptBlock:
    """Move to another item; the server measures time per item and locks sequential sets.

    The attempt is found and locked in one statement by its public id and owner (NotFound
    for anyone else), which keeps the item page within its query budget.

    The returned block carries the locked, refreshed attempt as `block.attempt` and the
    visited item's row (version, question, item set and statistic joined) as
    `block.current_response`, read in the visit's own query so the item page needs no other.
    """
    with transaction.atomic():
        # Always the attempt row first, then the block: every writer takes them in this order
        # (locking both in one statement let a save and the sweep deadlock).
        attempt = (
            Attempt.objects.select_for_update().filter(uuid=attempt_uuid, user_id=user_id).first()
        )
        if attempt is None:
            raise NotFound("No such exam session.")
        _, block = _expire_locked(attempt=attempt, now=now)
        # After the deadline nothing new is shown: the grace is for requests in flight.
        if block is None or block_time_is_up(block=block, now=now):
            closed = True
        else:
            closed = False
            block.attempt = attempt
            if block.current_position != position:
                current = _visit_locked(block=block, position=position, now=now)
                # Reading and moving between items is activity too (the inactivity warning).
                attempt.last_activity_at = now
                attempt.save(update_fields=["last_activity_at"])
            else:
                current = _visit_rows(block, [position]).get(position)
                if current is None:
                    raise ExamError("There is no such item in this block.")
            block.current_response = current
    if closed:
        raise BlockClosed("This block has ended.")
    return block


def item_visit_fast(
    *, attempt_uuid, user_id: int, position: int, now: datetime
) -> tuple[Attempt, AttemptBlock, bool] | None:
    """`item_visit_own` for the browser's cached moves (exams:visit), in hand-written SQL.

    The same rules and the same lock order (the attempt FOR UPDATE in its own statement, then
    the response, then the block), in five prepared statements instead of the ORM's nine.
    Returns None, having written nothing, when the move is not the plain case (not this
    user's attempt, no open block, a deadline passed (the grace is for saves in flight, never
    for a move), no such item): the caller then takes
    `item_visit_own`, which closes what is due and says why. Otherwise (attempt, block,
    whether the item's answer is locked). tests/exams/test_save_paths.py holds both paths
    equal.
    """
    with transaction.atomic(), _prepared_cursor() as cursor:
        # The attempt alone first: locking it in the statement that reads the block would
        # hand back the block as it was before a concurrent move we waited for.
        cursor.execute(
            f"""
            SELECT id, mode, day_deadline_at, last_seq, last_activity_at
            FROM {Attempt._meta.db_table}
            WHERE uuid = %s AND user_id = %s AND state = 'in_block'
              AND (day_deadline_at IS NULL OR day_deadline_at >= %s)
            FOR UPDATE
            """,  # noqa: S608 - table names come from model metadata
            [attempt_uuid, user_id, now],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        attempt_id, mode, day_deadline_at, last_seq, last_activity_at = row
        cursor.execute(
            f"""
            SELECT b.id, b.number, b.deadline_at, b.current_position, b.current_since,
                   t.is_locked, l.id, l.is_locked, s.kind
            FROM {AttemptBlock._meta.db_table} b
            JOIN {Response._meta.db_table} t ON t.block_id = b.id AND t.position = %s
            LEFT JOIN {Response._meta.db_table} l
                   ON l.block_id = b.id AND l.position = b.current_position
            LEFT JOIN {Question._meta.db_table} q ON q.id = l.question_id
            LEFT JOIN {ItemSet._meta.db_table} s ON s.id = q.item_set_id
            WHERE b.attempt_id = %s AND b.state = 'active'
              AND (b.deadline_at IS NULL OR b.deadline_at >= %s)
            """,  # noqa: S608 - table names come from model metadata
            [position, attempt_id, now],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        (block_id, number, deadline_at, current_position, current_since, target_locked,
         leaving_id, leaving_locked, leaving_kind) = row  # fmt: skip
        if current_position != position:
            elapsed_ms = 0
            if current_since is not None:
                end = min(now, deadline_at) if deadline_at else now
                elapsed_ms = max(0, int((end - current_since).total_seconds() * 1000))
            lock = leaving_kind == ItemSet.Kind.SEQUENTIAL and not leaving_locked
            if leaving_id is not None and (elapsed_ms or lock):
                cursor.execute(
                    f"UPDATE {Response._meta.db_table} SET"  # noqa: S608 - model metadata
                    " time_spent_ms = time_spent_ms + %s, is_locked = is_locked OR %s"
                    " WHERE id = %s",
                    [elapsed_ms, lock, leaving_id],
                )
            cursor.execute(
                f"UPDATE {AttemptBlock._meta.db_table}"  # noqa: S608 - model metadata
                " SET current_position = %s, current_since = %s WHERE id = %s",
                [position, now, block_id],
            )
            # Reading and moving between items is activity too (the inactivity warning).
            cursor.execute(
                f"UPDATE {Attempt._meta.db_table}"  # noqa: S608 - model metadata
                " SET last_activity_at = %s WHERE id = %s",
                [now, attempt_id],
            )
            last_activity_at = now
    attempt, block = _in_block_snapshot(
        attempt=(
            attempt_id,
            attempt_uuid,
            user_id,
            mode,
            day_deadline_at,
            last_activity_at,
            last_seq,
        ),
        block=(block_id, number, deadline_at),
    )
    block.current_position = position
    return attempt, block, target_locked


def _in_block_snapshot(*, attempt: tuple, block: tuple) -> tuple[Attempt, AttemptBlock]:
    """Unsaved instances, from the columns a hand-written statement returned, of an attempt
    inside an open block: what `clock_state` needs to answer, without reading them again."""
    attempt_id, uuid, user_id, mode, day_deadline_at, last_activity_at, last_seq = attempt
    block_id, number, deadline_at = block
    a = Attempt(
        id=attempt_id,
        uuid=uuid,
        user_id=user_id,
        mode=mode,
        state=Attempt.State.IN_BLOCK,
        day_deadline_at=day_deadline_at,
        last_activity_at=last_activity_at,
        last_seq=last_seq,
    )
    b = AttemptBlock(
        id=block_id,
        attempt=a,
        number=number,
        deadline_at=deadline_at,
        state=AttemptBlock.State.ACTIVE,
    )
    return a, b


def _visit_rows(block: AttemptBlock, positions: list[int]) -> dict[int, Response]:
    return {
        r.position: r
        # order_by(): Response's default ordering joins the attempt and the block to sort.
        for r in Response.objects.filter(block=block, position__in=positions)
        .select_related("version__statistic", "question__item_set")
        .order_by()
    }


def _visit_locked(*, block: AttemptBlock, position: int, now: datetime) -> Response:
    rows = _visit_rows(block, [position, block.current_position])
    if position not in rows:
        raise ExamError("There is no such item in this block.")
    _accrue_time(block, now)
    leaving = rows.get(block.current_position)
    if (
        leaving is not None
        and leaving.question.item_set is not None
        and leaving.question.item_set.kind == ItemSet.Kind.SEQUENTIAL
        and not leaving.is_locked
    ):
        # Once the examinee moves on from an item of a sequential set, its answer is final,
        # as on the real exam.
        Response.objects.filter(pk=leaving.pk).update(is_locked=True)
    block.current_position = position
    block.current_since = now
    block.save(update_fields=["current_position", "current_since"])
    return rows[position]


def block_time_is_up(*, block: AttemptBlock, now: datetime) -> bool:
    """Past the block's deadline, though perhaps still inside the grace: nothing new (an item
    page, a move, the bundle, the review screen) is served; only answers in flight land."""
    return block.deadline_at is not None and now > block.deadline_at


def is_withheld(*, response: Response, current_position: int) -> bool:
    """An item of a sequential set the examinee has not reached: it must not leave the server.

    The examinee reaches a set's item by moving to it; moving away locks it (`_visit_locked`),
    so the reached items are the one on screen and the locked ones. Needs
    `response.question.item_set` (select_related)."""
    item_set = response.question.item_set
    return (
        item_set is not None
        and item_set.kind == ItemSet.Kind.SEQUENTIAL
        and response.position != current_position
        and not response.is_locked
    )


def _check_may_change(*, response: Response, block: AttemptBlock, now: datetime) -> None:
    """Which item a save may change, besides the clock and the seqs. `answer_save_fast` states
    the same rules in SQL (tests/exams/test_save_paths.py holds the two equal)."""
    if response.position == block.current_position:
        return
    item_set = response.question.item_set
    if item_set is not None and item_set.kind == ItemSet.Kind.SEQUENTIAL:
        # As on the real exam: a set's items are answered one at a time, in order.
        if response.is_locked:
            raise ItemLocked("You have moved on from this item of a sequential set.")
        raise ItemLocked("This item of a sequential set has not been reached yet.")
    if block_time_is_up(block=block, now=now) and response.time_spent_ms == 0:
        # Inside the grace only an answer already in flight lands: one to the item that was
        # open at the deadline (moves stop there) or to one visited before it (time counted).
        raise BlockClosed("Time ran out before this item was opened; the answer was not saved.")


@dataclass
class SaveResult:
    applied: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    attempt: Attempt | None = None
    block: AttemptBlock | None = None


SAVE_FIELDS = ("choice", "is_marked", "struck", "highlights", "note")


def _check_seq(seq: int) -> None:
    if not 1 <= seq <= MAX_SEQ:
        raise ExamError(f"A save needs a sequence number from 1 to {MAX_SEQ}.")


def answer_save(
    *,
    attempt: Attempt,
    position: int,
    seq: int,
    now: datetime,
    choice=UNSET,
    is_marked=UNSET,
    struck=UNSET,
    highlights=UNSET,
    note=UNSET,
) -> SaveResult:
    """Apply one client action. Idempotent and ordered per field by the client's `seq`.

    A field is written only if `seq` is newer than the last seq applied to that field, so a
    retried request, a replay from an offline queue and a slower second tab can never
    overwrite a newer value.

    The common case (an open block, every field newer) is one statement
    (`answer_save_fast`); anything else takes the locked path below, which also says why a
    save was refused and closes a block that has run out.
    """
    fields = {
        "choice": choice,
        "is_marked": is_marked,
        "struck": struck,
        "highlights": highlights,
        "note": note,
    }
    _check_seq(seq)
    fast = answer_save_fast(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=position,
        seq=seq,
        now=now,
        **fields,
    )
    if fast is not None:
        return fast
    return answer_save_locked(attempt=attempt, position=position, seq=seq, now=now, fields=fields)


def answer_save_locked(
    *, attempt: Attempt, position: int, seq: int, now: datetime, fields: dict
) -> SaveResult:
    """The save rules applied with the attempt locked, field by field: the reference that
    `answer_save_fast` must agree with (tests/exams/test_save_paths.py), and the path that
    explains a refusal. `fields` maps SAVE_FIELDS names to values or UNSET."""
    _check_seq(seq)
    fields = {name: fields.get(name, UNSET) for name in SAVE_FIELDS}
    with transaction.atomic():
        # Always the attempt row first, then the block: every writer takes them in this order
        # (locking both in one statement let a save and the sweep deadlock).
        attempt = _lock(attempt)
        _, block = _expire_locked(attempt=attempt, now=now)
        if block is None:
            closed = True
        else:
            closed = False
            result = _save_locked(
                attempt=attempt, block=block, position=position, seq=seq, now=now, fields=fields
            )
    # Raised after the commit, so that closing an expired block is kept.
    if closed:
        raise BlockClosed("This block has ended; the answer was not saved.")
    return result


def answer_save_fast(
    *,
    attempt_uuid,
    user_id: int,
    position: int,
    seq: int,
    now: datetime,
    choice=UNSET,
    is_marked=UNSET,
    struck=UNSET,
    highlights=UNSET,
    note=UNSET,
) -> SaveResult | None:
    """The save's hot path: one UPDATE that checks ownership, the clock and every field's seq.

    Returns None, having written nothing, whenever the save is not the plain case: not the
    examinee's attempt, no open block, past a deadline (+ grace), a stale field, a locked
    item, an option that does not exist, an item the save may not change (a sequential set's
    item not on screen, an unvisited one in the grace: `_check_may_change`), a seq out of
    range. `answer_save` then takes the locked path, which
    applies the same rules field by field and explains a refusal.

    Why this is safe without `select_for_update`: the attempt row is taken FOR KEY SHARE,
    which conflicts with the FOR UPDATE that every state change (end, expiry, sweep, visit)
    takes first, so a block cannot close while a save into it is being written, and a save
    that waited for a close sees the attempt's new state and matches nothing. KEY SHARE does
    not conflict with plain UPDATEs of the attempt, so two tabs' saves never block each other
    on it. The lock order stays attempt → response, as everywhere else.
    """
    values = {
        "choice": choice,
        "is_marked": is_marked,
        "struck": struck,
        "highlights": highlights,
        "note": note,
    }
    given = [name for name in SAVE_FIELDS if values[name] is not UNSET]
    if not 1 <= seq <= MAX_SEQ or not given:
        # An empty save only marks activity (back from the inactivity dialog): rare, and the
        # locked path does it.
        return None
    params: dict = {
        "uuid": attempt_uuid,
        "user_id": user_id,
        "position": position,
        "seq": seq,
        "now": now,
        "cutoff": now - _grace(),
        "seqs": json.dumps(dict.fromkeys(given, seq)),
    }
    sets = ["field_seqs = r.field_seqs || %(seqs)s::jsonb"]
    conds = [
        f"COALESCE((r.field_seqs ->> '{name}')::bigint, 0) < %(seq)s"  # noqa: S608 - fixed names
        for name in given
    ]
    # `_check_may_change`: away from the item on screen, never an item of a sequential set,
    # and after the deadline (in the grace) only an item visited before it.
    conds.append(
        f"""(r.position = b.current_position OR (
            NOT EXISTS (SELECT 1 FROM {Question._meta.db_table} q
                        JOIN {ItemSet._meta.db_table} s ON s.id = q.item_set_id
                        WHERE q.id = r.question_id AND s.kind = 'sequential')
            AND (b.deadline_at IS NULL OR b.deadline_at >= %(now)s OR r.time_spent_ms > 0)))"""  # noqa: S608 - model metadata
    )
    joins = ""
    if "choice" in given:
        params["choice"] = choice
        same = "r.choice IS NOT DISTINCT FROM %(choice)s::smallint"
        sets += [
            "choice = %(choice)s",
            "first_choice = COALESCE(r.first_choice, %(choice)s)",
            f"change_count = r.change_count + (r.choice IS NOT NULL AND NOT {same})::int",
            f"answered_at = CASE WHEN {same} THEN r.answered_at"
            " WHEN %(choice)s::smallint IS NULL THEN NULL ELSE %(now)s END",
            f"answered_with_seconds_left = CASE WHEN {same} THEN r.answered_with_seconds_left"
            " ELSE trunc(extract(epoch FROM b.deadline_at - %(now)s))::int END",
            # Tutor mode shows the key right after an answer, so the answer is final.
            "is_locked = r.is_locked OR (a.mode = 'tutor' AND %(choice)s::smallint IS NOT NULL)",
        ]
        conds += [
            "NOT r.is_locked",
            "(%(choice)s::smallint IS NULL OR %(choice)s < jsonb_array_length(v.options))",
        ]
        joins = f", {QuestionVersion._meta.db_table} v"
        conds.append("v.id = r.version_id")
    if "is_marked" in given:
        params["is_marked"] = bool(is_marked)
        sets.append("is_marked = %(is_marked)s")
    if "struck" in given:
        params["struck"] = json.dumps(list(struck))
        sets.append("struck = %(struck)s::jsonb")
    if "highlights" in given:
        params["highlights"] = json.dumps(list(highlights))
        sets.append("highlights = %(highlights)s::jsonb")
    if "note" in given:
        params["note"] = note
        sets.append("note = %(note)s")
    sql = f"""
        WITH a AS MATERIALIZED (
            SELECT id, mode, day_deadline_at, last_activity_at, last_seq
            FROM {Attempt._meta.db_table}
            WHERE uuid = %(uuid)s AND user_id = %(user_id)s AND state = 'in_block'
              AND (day_deadline_at IS NULL OR day_deadline_at >= %(cutoff)s)
            FOR KEY SHARE
        )
        UPDATE {Response._meta.db_table} r SET {", ".join(sets)}
        FROM a, {AttemptBlock._meta.db_table} b{joins}
        WHERE b.attempt_id = a.id AND b.state = 'active'
          AND (b.deadline_at IS NULL OR b.deadline_at >= %(cutoff)s)
          AND r.block_id = b.id AND r.position = %(position)s
          AND {" AND ".join(conds)}
        RETURNING a.id, a.mode, a.day_deadline_at, a.last_activity_at, a.last_seq,
                  b.id, b.number, b.deadline_at
    """  # noqa: S608 - table names come from model metadata, values are parameters
    with _prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        attempt_id, mode, day_deadline_at, last_activity_at, last_seq, block_id, number, dl = row
        if now - last_activity_at >= ACTIVITY_RESOLUTION:
            # Same rule as the locked path: the attempt row is written at most every
            # ACTIVITY_RESOLUTION. GREATEST keeps it monotonic without a lock.
            cursor.execute(
                f"UPDATE {Attempt._meta.db_table} SET"  # noqa: S608 - model metadata
                " last_activity_at = GREATEST(last_activity_at, %s),"
                " last_seq = GREATEST(last_seq, %s) WHERE id = %s",
                [now, seq, attempt_id],
            )
            last_activity_at = max(last_activity_at, now)
            last_seq = max(last_seq, seq)
    attempt, block = _in_block_snapshot(
        attempt=(
            attempt_id,
            attempt_uuid,
            user_id,
            mode,
            day_deadline_at,
            last_activity_at,
            last_seq,
        ),
        block=(block_id, number, dl),
    )
    return SaveResult(applied=given, stale=[], attempt=attempt, block=block)


def _save_locked(
    *,
    attempt: Attempt,
    block: AttemptBlock,
    position: int,
    seq: int,
    now: datetime,
    fields: dict,
) -> SaveResult:
    try:
        response = Response.objects.select_related("version", "question__item_set").get(
            block=block, position=position
        )
    except Response.DoesNotExist:
        raise ExamError("There is no such item in this block.") from None
    result = SaveResult(attempt=attempt, block=block)
    seqs = dict(response.field_seqs)
    if any(value is not UNSET and seq > seqs.get(name, 0) for name, value in fields.items()):
        # Only a save that would change something is refused: a retry of one already applied
        # stays a harmless no-op.
        _check_may_change(response=response, block=block, now=now)
    update_fields: set[str] = set()
    for name, value in fields.items():
        if value is UNSET:
            continue
        if seq <= seqs.get(name, 0):
            result.stale.append(name)
            continue
        if name == "choice":
            _apply_choice(response=response, choice=value, attempt=attempt, block=block, now=now)
            update_fields |= {
                "choice",
                "first_choice",
                "change_count",
                "answered_at",
                "answered_with_seconds_left",
                "is_locked",
            }
        else:
            setattr(response, name, value)
            update_fields.add(name)
        seqs[name] = seq
        result.applied.append(name)
    if result.applied:
        response.field_seqs = seqs
        update_fields.add("field_seqs")
        response.save(update_fields=sorted(update_fields))
    # The attempt row is rewritten at most every ACTIVITY_RESOLUTION: it only feeds the
    # inactivity warning (minutes) and a floor for new tabs' sequence numbers, which
    # `block_last_seq` computes exactly from the block's responses when a page loads. Skipping
    # it on most saves is one statement less on the hottest path.
    # Any save is activity, even an empty one (the browser sends one when the examinee comes
    # back from the "unauthorised break" dialog).
    if now - attempt.last_activity_at >= ACTIVITY_RESOLUTION:
        attempt.last_seq = max(attempt.last_seq, seq)
        attempt.last_activity_at = now
        attempt.save(update_fields=["last_seq", "last_activity_at"])
    return result


def _apply_choice(
    *, response: Response, choice, attempt: Attempt, block: AttemptBlock, now: datetime
) -> None:
    if response.is_locked:
        raise ItemLocked("This answer is locked and can no longer change.")
    if choice is not None and not 0 <= choice < len(response.version.options):
        raise ExamError("That option does not exist.")
    if choice == response.choice:
        return
    if response.choice is not None:
        response.change_count += 1
    if response.first_choice is None and choice is not None:
        response.first_choice = choice
    response.choice = choice
    response.answered_at = now if choice is not None else None
    response.answered_with_seconds_left = (
        int((block.deadline_at - now).total_seconds()) if block.deadline_at else None
    )
    if attempt.mode == Exam.Mode.TUTOR and choice is not None:
        # Tutor mode shows the key right after an answer, so the answer cannot change after.
        response.is_locked = True


# --------------------------------------------------------------------------- reads


def block_last_seq(*, attempt: Attempt, block: AttemptBlock | None) -> int:
    """The highest client sequence number applied in the open block (saves go nowhere else)."""
    if block is None:
        return attempt.last_seq
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT max(s.value::bigint) FROM {Response._meta.db_table} r,
                   jsonb_each_text(r.field_seqs) AS s
            WHERE r.block_id = %s
            """,  # noqa: S608 - the table name comes from model metadata
            [block.pk],
        )
        (best,) = cursor.fetchone()
    return max(attempt.last_seq, best or 0)


def clock_read(*, attempt_uuid, user_id: int, now: datetime) -> dict | None:
    """The clock poll's answer in one read-only statement, or None when the attempt is not
    this user's or the clock has something to close (the caller then takes the locking path,
    `attempt_refresh`). Browsers poll this every minute, so it is the most frequent request
    of a sitting cohort after the save."""
    with _prepared_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, a.state, a.mode, a.tutorial_ends_at, a.day_deadline_at,
                   a.last_activity_at, a.last_seq, a.block_seconds, b.number, b.deadline_at,
                   (SELECT max(s.value::bigint)
                      FROM {Response._meta.db_table} r, jsonb_each_text(r.field_seqs) s
                     WHERE r.block_id = b.id),
                   (SELECT count(*) FROM {AttemptBlock._meta.db_table} p
                     WHERE p.attempt_id = a.id AND p.state = 'pending')
            FROM {Attempt._meta.db_table} a
            LEFT JOIN {AttemptBlock._meta.db_table} b
                   ON b.attempt_id = a.id AND b.state = 'active'
            WHERE a.uuid = %s AND a.user_id = %s
            """,  # noqa: S608 - table names come from model metadata
            [attempt_uuid, user_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    (attempt_id, state, mode, tutorial_ends_at, day_deadline_at, last_activity_at, last_seq,
     block_seconds, number, deadline_at, best_seq, pending) = row  # fmt: skip
    cutoff = now - _grace()
    if state != Attempt.State.FINISHED and (
        (state == Attempt.State.TUTORIAL and tutorial_ends_at and now >= tutorial_ends_at)
        or (day_deadline_at and day_deadline_at < cutoff)
        or (deadline_at and deadline_at < cutoff)
        or (state == Attempt.State.IN_BLOCK and number is None)
    ):
        return None
    attempt = Attempt(
        id=attempt_id,
        uuid=attempt_uuid,
        user_id=user_id,
        state=state,
        mode=mode,
        tutorial_ends_at=tutorial_ends_at,
        day_deadline_at=day_deadline_at,
        last_activity_at=last_activity_at,
        last_seq=last_seq,
        block_seconds=block_seconds,
    )
    block = None
    if number is not None:
        block = AttemptBlock(
            attempt=attempt, number=number, deadline_at=deadline_at, state=AttemptBlock.State.ACTIVE
        )
    return clock_state(
        attempt=attempt, now=now, block=block, last_seq=best_seq or 0, blocks_left=pending
    )


def clock_state(
    *,
    attempt: Attempt,
    now: datetime,
    block: AttemptBlock | None = None,
    last_seq: int | None = None,
    blocks_left: int | None = None,
) -> dict:
    """What the browser's timer displays; it re-syncs to this on every response.

    `last_seq` is the caller's exact figure when it has one; otherwise the attempt's, which
    can lag by ACTIVITY_RESOLUTION and is only a floor for the client's counter.
    """
    if block is None and attempt.state == Attempt.State.IN_BLOCK:
        block = _active_block(attempt)
    block_remaining = block.remaining_seconds(now) if block is not None else None
    if attempt.state == Attempt.State.TUTORIAL and attempt.tutorial_ends_at:
        block_remaining = max(0, int((attempt.tutorial_ends_at - now).total_seconds()))
    day = attempt.day_remaining(now)
    break_left = None
    if attempt.state == Attempt.State.BETWEEN_BLOCKS and attempt.day_deadline_at:
        if blocks_left is None:
            blocks_left = attempt.blocks.filter(state=AttemptBlock.State.PENDING).count()
        break_left = attempt.break_remaining_seconds(now, blocks_left)
    idle = (now - attempt.last_activity_at).total_seconds()
    return {
        "state": attempt.state,
        "block_number": block.number if block is not None else None,
        "block_remaining": block_remaining,
        "day_remaining": int(day.total_seconds()) if day is not None else None,
        "break_remaining": break_left,
        "server_now": now.isoformat(),
        "warn_seconds": 120,
        "inactive": attempt.state == Attempt.State.IN_BLOCK
        and idle >= settings.INACTIVITY_WARNING_SECONDS,
        "inactivity_seconds": int(idle),
        "last_seq": max(attempt.last_seq, last_seq or 0),
    }


def time_summary(*, attempt: Attempt, now: datetime) -> dict:
    blocks = list(attempt.blocks.order_by("number"))
    rows = []
    in_blocks = 0.0
    for b in blocks:
        used = None
        if b.started_at:
            end = b.closed_at or now
            used = max(0, int((end - b.started_at).total_seconds()))
            in_blocks += used
        rows.append(
            {
                "number": b.number,
                "state": b.state,
                "state_display": b.get_state_display(),
                "started_at": b.started_at,
                "closed_at": b.closed_at,
                "used_seconds": used,
                "allowed_seconds": attempt.block_seconds,
                "close_reason_display": b.get_close_reason_display() if b.close_reason else "",
            }
        )
    tutorial_used = 0
    if attempt.tutorial_seconds:
        tutorial_end_at = attempt.tutorial_ends_at or now
        tutorial_used = max(
            0, int((min(tutorial_end_at, now) - attempt.started_at).total_seconds())
        )
    end = attempt.finished_at or now
    elapsed = (end - attempt.started_at).total_seconds()
    break_used = max(0, int(elapsed - in_blocks - tutorial_used))
    blocks_left = sum(1 for b in blocks if b.state == AttemptBlock.State.PENDING)
    day = attempt.day_remaining(now)
    return {
        "blocks": rows,
        "tutorial_used_seconds": tutorial_used,
        "tutorial_allowed_seconds": attempt.tutorial_seconds,
        "break_used_seconds": break_used,
        "break_allowed_seconds": attempt.break_seconds,
        "break_remaining_seconds": attempt.break_remaining_seconds(now, blocks_left)
        if attempt.state != Attempt.State.FINISHED
        else None,
        "day_remaining_seconds": int(day.total_seconds()) if day is not None else None,
        "blocks_left": blocks_left,
    }
