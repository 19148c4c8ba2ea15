"""The clock: the state machine tutorial -> block -> break -> finished, its deadlines and
expiry, and what the browser's timer reads. The server is the clock.

Time rules (docs/timing.md):
- A block's deadline is stored when it starts: start + block time, never past the exam day's end.
- The exam day is a fixed window from the start (tutorial + blocks + break pool). Everything
  outside a block spends break time, so unused tutorial time and time left in a block ended
  early become break time, and a break overrun shortens the rest of the day.
- The deadline rule, written once here for Python (`is_over`, `write_cutoff`) and once for the
  hand-written statements (`sql_deadline_open`): after a deadline nothing new is served
  (`block_time_is_up`); a save already in flight lands until deadline + ANSWER_GRACE_SECONDS;
  after that every write is refused and whatever is open closes.

Every state change locks the attempt row first (`select_for_update`), so a save, an end-block,
the expiry sweep and a second tab are serialised per examinee and can never interleave; the
lock order is always attempt -> block -> response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from config.db import prepared_cursor
from exams.errors import ExamError, NotFound
from exams.models import Attempt, AttemptBlock, Response

FAST = "fast"
LOCKED = "locked"


# --------------------------------------------------------------------------- the deadline rule


def grace() -> timedelta:
    """How long after a deadline a request already in flight still lands."""
    return timedelta(seconds=settings.ANSWER_GRACE_SECONDS)


def write_cutoff(now: datetime) -> datetime:
    """The oldest deadline that still takes a write at `now`: one before it is over."""
    return now - grace()


def is_over(deadline: datetime | None, now: datetime) -> bool:
    """Past the deadline and its grace: nothing writes any more, and what is open closes."""
    return deadline is not None and deadline < write_cutoff(now)


def sql_deadline_open(column: str, *, at: str) -> str:
    """The deadline rule as a SQL condition: `column` (a deadline, NULL when untimed) has not
    passed at the parameter `at`. With `write_cutoff(now)` as `at` it is `not is_over`; with
    `now` it is `not block_time_is_up` (a move, which never gets the grace)."""
    return f"({column} IS NULL OR {column} >= {at})"


def block_time_is_up(*, block: AttemptBlock, now: datetime) -> bool:
    """Past the block's deadline, though perhaps still inside the grace: nothing new (an item
    page, a move, the bundle, the review screen) is served; only answers in flight land."""
    return block.deadline_at is not None and now > block.deadline_at


# --------------------------------------------------------------------------- the state machine


def lock(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().get(pk=attempt.pk)


def active_block(attempt: Attempt) -> AttemptBlock | None:
    return attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).first()


def accrue_time(block: AttemptBlock, until: datetime) -> None:
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

    accrue_time(block, closed_at)
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


def expire_locked(*, attempt: Attempt, now: datetime) -> tuple[bool, AttemptBlock | None]:
    """With the attempt locked: close what the clock says is over.

    Returns whether anything closed, and the block still active afterwards (if any).
    """
    if attempt.state == Attempt.State.FINISHED:
        return False, None
    changed = False
    # The attempt's state says whether a block is open: no query between blocks.
    block = active_block(attempt) if attempt.state == Attempt.State.IN_BLOCK else None
    if block is not None and is_over(block.deadline_at, now):
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
    if is_over(attempt.day_deadline_at, now) and attempt.state != Attempt.State.FINISHED:
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
        or is_over(attempt.day_deadline_at, now)
        or AttemptBlock.objects.filter(
            attempt=attempt,
            state=AttemptBlock.State.ACTIVE,
            deadline_at__lt=write_cutoff(now),
        ).exists()
    )
    if not due:
        return attempt
    with transaction.atomic():
        locked = lock(attempt)
        expire_locked(attempt=locked, now=now)
        return locked


def close_expired_blocks(*, now: datetime) -> int:
    """The beat sweep: close blocks (and exam days) whose examinee has gone away.

    Returns how many attempts changed. A synchronised cohort runs out of block time together,
    so the common case (a block past its deadline and grace, the exam day still running) is
    closed for the whole cohort at once by `_close_expired_blocks_in_bulk`; the rest (an exam
    day over, a tutorial run out, an attempt busy in a request) goes attempt by attempt through
    `expire_locked`, the reference the bulk statements follow.
    """
    cutoff = write_cutoff(now)
    closed_in_bulk = _close_expired_blocks_in_bulk(now=now)
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
    closed = closed_in_bulk
    for attempt_id in sorted(attempt_ids):
        with transaction.atomic():
            attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
            closed += int(expire_locked(attempt=attempt, now=now)[0])
    return closed


def _close_expired_blocks_in_bulk(*, now: datetime) -> int:
    """`expire_locked` for every attempt whose only due change is its active block running out
    (in a block, the block past deadline + grace, the exam day not over), in a fixed number of
    statements: lock the attempts, add the last item's time, close the blocks, move the
    attempts on. Attempts another request holds are skipped (SKIP LOCKED): the caller's
    one-by-one path, which runs next, finds them still due and waits for them.

    Returns how many attempts changed.
    """
    from analytics.tasks import queue_block_analytics

    attempt_t, block_t = Attempt._meta.db_table, AttemptBlock._meta.db_table
    response_t = Response._meta.db_table
    params = {
        "cutoff": write_cutoff(now),
        "in_block": Attempt.State.IN_BLOCK,
        "active": AttemptBlock.State.ACTIVE,
        "closed": AttemptBlock.State.CLOSED,
        "expired": AttemptBlock.CloseReason.EXPIRED,
        "pending": AttemptBlock.AnalyticsState.PENDING,
        "finished": Attempt.State.FINISHED,
        "between": Attempt.State.BETWEEN_BLOCKS,
    }
    due = f"""
        a.state = %(in_block)s AND {sql_deadline_open("a.day_deadline_at", at="%(cutoff)s")}
        AND b.attempt_id = a.id AND b.state = %(active)s AND b.deadline_at < %(cutoff)s
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # The attempts first, in id order like the one-by-one path (lock order attempt ->
        # block -> response); the conditions are checked again under the lock.
        cursor.execute(
            f"""
            SELECT a.id, b.id FROM {attempt_t} a, {block_t} b WHERE {due}
            ORDER BY a.id FOR UPDATE OF a SKIP LOCKED
            """,  # noqa: S608 - table names come from model metadata
            params,
        )
        rows = cursor.fetchall()
        if not rows:
            return 0
        params["attempts"] = [a for a, _ in rows]
        params["blocks"] = [b for _, b in rows]
        # accrue_time up to the deadline, to the millisecond, on the item that was on screen.
        cursor.execute(
            f"""
            UPDATE {response_t} r
               SET time_spent_ms = r.time_spent_ms + floor(
                   extract(epoch FROM b.deadline_at - b.current_since) * 1000)::int
              FROM {block_t} b
             WHERE b.id = ANY(%(blocks)s) AND r.block_id = b.id
               AND r.position = b.current_position AND b.current_since IS NOT NULL
               AND b.deadline_at > b.current_since
            """,  # noqa: S608
            params,
        )
        cursor.execute(
            f"""
            UPDATE {block_t}
               SET state = %(closed)s, closed_at = deadline_at, close_reason = %(expired)s,
                   current_since = NULL, analytics_state = %(pending)s
             WHERE id = ANY(%(blocks)s)
            """,  # noqa: S608
            params,
        )
        # Finished when no block is left open or pending, else on a break from the close.
        cursor.execute(
            f"""
            UPDATE {attempt_t} a
               SET state = CASE WHEN left_open THEN %(between)s ELSE %(finished)s END,
                   finished_at = CASE WHEN left_open THEN a.finished_at ELSE c.closed_at END,
                   break_started_at = CASE WHEN left_open THEN c.closed_at
                                           ELSE a.break_started_at END
              FROM (SELECT b.attempt_id, b.closed_at,
                           EXISTS (SELECT 1 FROM {block_t} o WHERE o.attempt_id = b.attempt_id
                                   AND o.state <> %(closed)s) AS left_open
                      FROM {block_t} b WHERE b.id = ANY(%(blocks)s)) c
             WHERE a.id = c.attempt_id
            """,  # noqa: S608
            params,
        )
        for block_id in params["blocks"]:
            queue_block_analytics(block_id=block_id)
    return len(rows)


def tutorial_end(*, attempt: Attempt, now: datetime) -> Attempt:
    with transaction.atomic():
        attempt = lock(attempt)
        expire_locked(attempt=attempt, now=now)
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
        attempt = lock(attempt)
        expire_locked(attempt=attempt, now=now)
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
        attempt = lock(attempt)
        changed, block = expire_locked(attempt=attempt, now=now)
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


def exam_suspend(*, attempt: Attempt, now: datetime) -> Attempt:
    """Leave the exam between blocks, to come back to it later (docs/timing.md, "Suspend").

    Nothing stops: the exam day's end is fixed, so time away is break time, and a return after
    the break pool is spent shortens the next block; after the day's end the blocks not taken
    close as "exam day ended". Suspending from the tutorial ends it (its unused time becomes
    break time). A block cannot be suspended, as on test day: it must be ended first.
    """
    with transaction.atomic():
        attempt = lock(attempt)
        expire_locked(attempt=attempt, now=now)
        if attempt.state == Attempt.State.IN_BLOCK:
            raise ExamError("A block cannot be suspended: end the block first.")
        if attempt.state == Attempt.State.TUTORIAL:
            attempt.state = Attempt.State.BETWEEN_BLOCKS
            attempt.tutorial_ends_at = now
            attempt.break_started_at = now
        if attempt.state != Attempt.State.FINISHED:
            attempt.last_activity_at = now
            attempt.save(
                update_fields=["state", "tutorial_ends_at", "break_started_at", "last_activity_at"]
            )
        return attempt


def exam_end(*, attempt: Attempt, now: datetime) -> Attempt:
    """End the whole exam now: an open block closes as ended by the examinee, and every block
    not started closes as "not taken", its items scored as omitted. Idempotent."""
    with transaction.atomic():
        attempt = lock(attempt)
        expire_locked(attempt=attempt, now=now)
        if attempt.state == Attempt.State.FINISHED:
            return attempt
        if attempt.state == Attempt.State.TUTORIAL:
            attempt.tutorial_ends_at = now
            attempt.save(update_fields=["tutorial_ends_at"])
        for block in attempt.blocks.exclude(state=AttemptBlock.State.CLOSED).order_by("number"):
            reason = AttemptBlock.CloseReason.ENDED
            if block.state == AttemptBlock.State.PENDING:
                block.started_at = now
                reason = AttemptBlock.CloseReason.NOT_TAKEN
            _close_block(attempt=attempt, block=block, reason=reason, closed_at=now, now=now)
        attempt.last_activity_at = now
        attempt.save(update_fields=["last_activity_at"])
        return attempt


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


def clock_read_fast(*, attempt_uuid, user_id: int, now: datetime) -> dict | None:
    """The clock poll's answer in one read-only statement, or None when the attempt is not
    this user's or the clock has something to close (`clock_read` then takes the locking path,
    `clock_read_locked`). Browsers poll this every minute, so it is the most frequent request
    of a sitting cohort after the save."""
    with prepared_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, a.state, a.mode, a.tutorial_ends_at, a.day_deadline_at,
                   a.last_activity_at, a.last_seq, a.block_seconds, b.number, b.deadline_at,
                   b.started_at,
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
     block_seconds, number, deadline_at, started_at, best_seq, pending) = row  # fmt: skip
    if state != Attempt.State.FINISHED and (
        (state == Attempt.State.TUTORIAL and tutorial_ends_at and now >= tutorial_ends_at)
        or is_over(day_deadline_at, now)
        or is_over(deadline_at, now)
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
            attempt=attempt,
            number=number,
            deadline_at=deadline_at,
            # clock_state reports the block's length from it (the "time elapsed" display).
            started_at=started_at,
            state=AttemptBlock.State.ACTIVE,
        )
    return clock_state(
        attempt=attempt, now=now, block=block, last_seq=best_seq or 0, blocks_left=pending
    )


@dataclass(frozen=True)
class ClockRead:
    """What the clock poll answers, and which path computed it (`FAST` or `LOCKED`)."""

    state: dict
    path: str


def clock_read(*, attempt_uuid, user_id: int, now: datetime) -> ClockRead:
    """The clock poll: the one read-only statement when nothing is due, else the locking path,
    which closes what the deadlines say is over first. NotFound for anyone else's attempt."""
    fast = clock_read_fast(attempt_uuid=attempt_uuid, user_id=user_id, now=now)
    if fast is not None:
        return ClockRead(state=fast, path=FAST)
    return ClockRead(
        state=clock_read_locked(attempt_uuid=attempt_uuid, user_id=user_id, now=now), path=LOCKED
    )


def clock_read_locked(*, attempt_uuid, user_id: int, now: datetime) -> dict:
    """The clock poll through the ORM, after `attempt_refresh`: the reference `clock_read_fast`
    must equal (tests/exams/test_save_paths.py)."""
    attempt = Attempt.objects.filter(uuid=attempt_uuid, user_id=user_id).first()
    if attempt is None:
        raise NotFound("No such exam session.")
    attempt = attempt_refresh(attempt=attempt, now=now)
    block = attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).first()
    last_seq = block_last_seq(attempt=attempt, block=block)
    return clock_state(attempt=attempt, now=now, block=block, last_seq=last_seq)


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
        block = active_block(attempt)
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
        # The block's length, so the page can show time elapsed instead of time remaining.
        "block_seconds": int((block.deadline_at - block.started_at).total_seconds())
        if block is not None and block.deadline_at and block.started_at
        else None,
        "day_remaining": int(day.total_seconds()) if day is not None else None,
        "break_remaining": break_left,
        "server_now": now.isoformat(),
        "warn_seconds": 120,
        # The server closes a block this long after its deadline: the browser waits for that
        # moment instead of asking each second (a cohort's blocks end together), and needs the
        # time to the close to the millisecond for it (block_remaining is whole seconds).
        "grace_seconds": int(grace().total_seconds()),
        "closes_in_ms": max(0, int((block.deadline_at + grace() - now).total_seconds() * 1000))
        if block is not None and block.deadline_at and attempt.state == Attempt.State.IN_BLOCK
        else None,
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
    break_remaining = (
        attempt.break_remaining_seconds(now, blocks_left)
        if attempt.state != Attempt.State.FINISHED
        else None
    )
    # The break pool grows by unused tutorial time and time left in blocks ended early, so the
    # "allowed" figure is what the pool has held so far: used plus what is left (docs/timing.md).
    break_pool = attempt.break_seconds
    if break_remaining is not None:
        break_pool = break_used + break_remaining
    return {
        "blocks": rows,
        "tutorial_used_seconds": tutorial_used,
        "tutorial_allowed_seconds": attempt.tutorial_seconds,
        "break_used_seconds": break_used,
        "break_allowed_seconds": attempt.break_seconds,
        "break_pool_seconds": break_pool,
        "break_remaining_seconds": break_remaining,
        "day_remaining_seconds": int(day.total_seconds()) if day is not None else None,
        "blocks_left": blocks_left,
    }
