"""Key fixes rescore: change a question's key (or void it) and rescore every response to it.

Scores are never stored: every count reads `choice` against the key of the version a response
points at (questions.models.credited_q). A fix therefore makes a new version that differs only
in how it is scored (questions.services.question_rekey) and moves the responses that saw the
same options onto it; the stored analytics (per-block performance, item statistics) are then
rebuilt from the responses by a Celery task, as `manage.py rebuild_analytics` would.

The KeyChange row is the audit trail (who, when, what, which responses) and the job the
instructor watches. Applying the same fix twice changes nothing the second time, and the
recomputation replaces rows rather than adding to them, so a repeated task is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from analytics.models import KeyChange
from analytics.services import _replace_block_performance, item_statistics_refresh
from exams.models import AttemptBlock, Response
from questions.models import Question, QuestionVersion
from questions.services import question_rekey

# Blocks per transaction while recomputing; each batch commits, so the progress bar moves.
RECOMPUTE_BATCH = 50


@dataclass(frozen=True)
class Scope:
    """What a fix would do, shown before it is confirmed."""

    key_index: int
    is_voided: bool
    responses: int  # responses that move to the new version
    changed: int  # of those, responses whose score changes
    attempts: int  # attempts holding a response whose score changes
    all_attempts: int  # attempts holding any moved response
    skipped: int  # responses to versions with other options: not rescored

    @property
    def is_noop(self) -> bool:
        return self.responses == 0


def _same_options(a: list[dict], b: list[dict]) -> bool:
    return [o.get("text", "") for o in a] == [o.get("text", "") for o in b]


def _scope_rows(question: Question, current: QuestionVersion):
    """(matching response rows, skipped count) for the responses a fix of `current` covers."""
    versions = {
        v.pk: v
        for v in QuestionVersion.objects.filter(question=question).only(
            "pk", "options", "key_index", "is_voided"
        )
    }
    same = [pk for pk, v in versions.items() if _same_options(v.options, current.options)]
    rows = list(
        Response.objects.filter(question=question)
        .order_by("id")
        .values_list("id", "attempt_id", "block_id", "version_id", "choice")
    )
    matching = [r for r in rows if r[3] in same]
    return matching, len(rows) - len(matching), versions


def _credits(choice: int | None, *, key: int, voided: bool) -> bool:
    return voided or (choice is not None and choice == key)


def key_change_scope(*, question: Question, key_index: int, is_voided: bool) -> Scope:
    """Count what confirming this fix would rescore; writes nothing."""
    current = Question.objects.select_related("current_version").get(pk=question.pk).current_version
    if current is None:
        raise ValidationError("This question has no version to rescore.")
    if not 0 <= key_index < len(current.options):
        raise ValidationError({"key_index": "The key must point at one of the options."})
    matching, skipped, versions = _scope_rows(question, current)
    changed = [
        r
        for r in matching
        if versions[r[3]].credits(r[4]) != _credits(r[4], key=key_index, voided=is_voided)
    ]
    return Scope(
        key_index=key_index,
        is_voided=is_voided,
        responses=len(matching),
        changed=len(changed),
        attempts=len({r[1] for r in changed}),
        all_attempts=len({r[1] for r in matching}),
        skipped=skipped,
    )


def key_change_apply(
    *,
    question: Question,
    key_index: int,
    is_voided: bool,
    based_on: QuestionVersion,
    actor,
    now: datetime,
    reason: str = "",
) -> KeyChange:
    """Make the scoring version, move the responses to it, record the change, queue the work.

    `based_on` is the version the instructor saw the scope of: if the question has moved on
    since (another edit, or this same fix confirmed twice), the fix already made is returned
    when it is this one, and anything else is refused, so a double submit does nothing.
    """
    from analytics.tasks import rescore_key_change

    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        current = question.current_version
        if current is None:
            raise ValidationError("This question has no version to rescore.")
        if current.pk != based_on.pk:
            latest = KeyChange.objects.filter(question=question, to_version=current).first()
            if (
                latest is not None
                and latest.from_version_id == based_on.pk
                and (current.key_index, current.is_voided) == (key_index, is_voided)
            ):
                return latest
            raise ValidationError(
                "The question changed since you saw the scope; look at the new scope first."
            )
        matching, _, versions = _scope_rows(question, current)
        version = question_rekey(
            question=question, key_index=key_index, is_voided=is_voided, now=now
        )
        changed_attempts = {
            r[1] for r in matching if versions[r[3]].credits(r[4]) != version.credits(r[4])
        }
        response_ids = [r[0] for r in matching]
        # Lock order as in the engine (response rows by id) so a save in flight waits for us.
        list(Response.objects.select_for_update().filter(id__in=response_ids).order_by("id"))
        Response.objects.filter(id__in=response_ids).update(version=version)
        block_ids = sorted(
            set(
                AttemptBlock.objects.filter(
                    id__in={r[2] for r in matching}, state=AttemptBlock.State.CLOSED
                ).values_list("id", flat=True)
            )
        )
        if is_voided:
            kind = KeyChange.Kind.VOID
        elif current.is_voided and key_index == current.key_index:
            kind = KeyChange.Kind.RESTORE
        else:
            kind = KeyChange.Kind.KEY
        change = KeyChange.objects.create(
            question=question,
            from_version=current,
            to_version=version,
            kind=kind,
            old_key_index=current.key_index,
            new_key_index=key_index,
            actor=actor,
            reason=reason[:500],
            created_at=now,
            response_ids=response_ids,
            block_ids=block_ids,
            from_version_ids=sorted({r[3] for r in matching}),
            changed_count=sum(
                1 for r in matching if versions[r[3]].credits(r[4]) != version.credits(r[4])
            ),
            total=len(block_ids) + 1,
        )
        change.attempts.set(changed_attempts)
        rescore_key_change.delay_on_commit(change.pk)
    return change


def key_change_claim(*, key_change_id: int, now: datetime) -> bool:
    """Take a queued (or failed) recomputation; False if another worker has it or it is done."""
    return (
        KeyChange.objects.filter(id=key_change_id)
        .filter(Q(status=KeyChange.Status.QUEUED) | Q(status=KeyChange.Status.FAILED))
        .update(status=KeyChange.Status.RUNNING, started_at=now, progress=0, error="")
        == 1
    )


def key_change_recompute(*, key_change_id: int, now: datetime) -> KeyChange:
    """Rebuild the analytics the moved responses feed: per-block performance, item statistics.

    Each batch of blocks commits on its own (and moves the progress bar); every step replaces
    rows from the stored responses, so a crash half way is mended by running it again.
    """
    change = KeyChange.objects.get(pk=key_change_id)
    try:
        done = 0
        for start in range(0, len(change.block_ids), RECOMPUTE_BATCH):
            batch = change.block_ids[start : start + RECOMPUTE_BATCH]
            with transaction.atomic():
                # Blocks whose first analytics are still due get them from their own task.
                ready = list(
                    AttemptBlock.objects.select_for_update()
                    .filter(
                        id__in=batch,
                        state=AttemptBlock.State.CLOSED,
                        analytics_state=AttemptBlock.AnalyticsState.DONE,
                    )
                    .order_by("id")
                    .values_list("id", flat=True)
                )
                if ready:
                    _replace_block_performance(block_ids=ready, now=now)
                done += len(batch)
                KeyChange.objects.filter(pk=change.pk).update(progress=done)
        item_statistics_refresh(
            version_ids=[*change.from_version_ids, change.to_version_id], now=now
        )
        KeyChange.objects.filter(pk=change.pk).update(
            status=KeyChange.Status.DONE, progress=change.total, finished_at=now
        )
    except Exception as exc:
        KeyChange.objects.filter(pk=change.pk).update(
            status=KeyChange.Status.FAILED, error=str(exc)[:1000]
        )
        raise
    change.refresh_from_db()
    return change


@dataclass(frozen=True)
class ReportNote:
    block_number: int
    position: int
    kind: str
    changed_at: datetime


def key_change_notes(*, attempt) -> list[ReportNote]:
    """The rescores that changed this attempt's score, for its score report.

    Says which item and when, never the key: the report may be read before the review opens.
    """
    changes = list(attempt.key_changes.order_by("created_at", "id"))
    if not changes:
        return []
    positions = {
        r.question_id: (r.block.number, r.position)
        for r in Response.objects.filter(
            attempt=attempt, question_id__in={c.question_id for c in changes}
        ).select_related("block")
    }
    notes = []
    for change in changes:
        if change.question_id in positions:
            block_number, position = positions[change.question_id]
            notes.append(ReportNote(block_number, position, change.kind, change.created_at))
    return notes
