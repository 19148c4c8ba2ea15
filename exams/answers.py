"""Saves and visits: what an examinee's click changes, and when it is refused.

Each operation has one entry point, called by the views and the tests alike:
- `answer_save`: one client action (an answer, a mark, strike-outs, highlights, a note),
  idempotent and ordered per field by the client's sequence number;
- `item_visit`: a move to another item (time per item, sequential sets).
Each tries its fast path first, hand-written SQL that does the common case in the fewest
statements and returns None, having written nothing, for anything else; then the locked path,
the ORM reference that applies the same rules with the attempt row locked, closes what the
clock says is over and explains a refusal. The result says which path ran (`clock.FAST` or
`clock.LOCKED`); tests/exams/test_save_paths.py holds the two paths equal.

The deadline rule is the clock's (exams/clock.py): a save lands until deadline + grace, and
inside the grace only on an item that was open or visited before the deadline; a move never
gets the grace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from config.db import prepared_cursor
from exams import clock
from exams.clock import FAST, LOCKED
from exams.errors import BlockClosed, ExamError, ItemLocked, NotFound
from exams.models import Attempt, AttemptBlock, Exam, Response
from questions.models import ItemSet, Question, QuestionVersion

# Client sequence numbers come from the browser's counter, a JavaScript number: 2**53 - 1 is
# the largest it holds exactly, and it is far inside PostgreSQL's bigint (`last_seq`, and the
# `::bigint` casts of `field_seqs`), so a stored seq can never overflow a later read.
MAX_SEQ = 2**53 - 1
# Response.position and AttemptBlock.current_position are PositiveSmallIntegerFields.
MAX_POSITION = 32767
# The attempt row is rewritten at most this often by saves: it only feeds the inactivity
# warning (minutes) and a floor for new tabs' sequence numbers.
ACTIVITY_RESOLUTION = timedelta(seconds=30)
MAX_OPTIONS = 26
MAX_NOTE = 5000
MAX_HIGHLIGHTS = 200


# --------------------------------------------------------------------------- the save fields


def _parse_choice(raw: str) -> int | None:
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("choice must be an option index") from None
    if not 0 <= value < MAX_OPTIONS:
        raise ValueError("choice must be an option index")
    return value


def _parse_marked(raw: str) -> bool:
    if raw not in ("", "0", "1"):
        raise ValueError("marked must be 1 or 0")
    return raw == "1"


def _parse_struck(raw: str) -> list[int]:
    if not raw:
        return []
    try:
        values = sorted({int(part) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise ValueError("struck must be option indexes") from None
    if any(not 0 <= v < MAX_OPTIONS for v in values):
        raise ValueError("struck must be option indexes")
    return values


def _parse_highlights(raw: str) -> list[list[int]]:
    if not raw:
        return []
    try:
        spans = json.loads(raw)
    except ValueError:
        raise ValueError("highlights must be a JSON list") from None
    if not isinstance(spans, list) or len(spans) > MAX_HIGHLIGHTS:
        raise ValueError("highlights must be a list of [start, end] pairs")
    for span in spans:
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(x, int) and 0 <= x < 1_000_000 for x in span)
            or span[0] >= span[1]
        ):
            raise ValueError("highlights must be a list of [start, end] pairs")
    return spans


def _json_list(value) -> str:
    return json.dumps(list(value))


@dataclass(frozen=True)
class SaveField:
    """One thing a save may change: the table that drives the form (exams/forms.py), the
    one-statement path and the locked path.

    `name` is the Response column and the service keyword; `key` the form field the browser
    posts; `parse` turns the posted text into the value (ValueError says why, naming the
    field); `cast` and `param` give the SQL path its parameter; `columns` are what the
    locked path writes (the answer also keeps its history).
    """

    name: str
    key: str
    parse: Callable[[str], object]
    max_length: int | None = None
    strip: bool = True
    cast: str = ""
    param: Callable[[object], object] = lambda value: value
    columns: tuple[str, ...] = ()

    @property
    def written(self) -> tuple[str, ...]:
        return self.columns or (self.name,)


SAVE_FIELDS: tuple[SaveField, ...] = (
    SaveField(
        "choice",
        "choice",
        _parse_choice,
        columns=(
            "choice",
            "first_choice",
            "change_count",
            "answered_at",
            "answered_with_seconds_left",
            "is_locked",
        ),
    ),
    SaveField("is_marked", "marked", _parse_marked, param=bool),
    SaveField("struck", "struck", _parse_struck, max_length=200, cast="::jsonb", param=_json_list),
    SaveField(
        "highlights",
        "highlights",
        _parse_highlights,
        max_length=20000,
        cast="::jsonb",
        param=_json_list,
    ),
    SaveField("note", "note", lambda raw: raw, max_length=MAX_NOTE, strip=False),
)
_BY_NAME = {f.name: f for f in SAVE_FIELDS}


def _given(fields: dict) -> list[SaveField]:
    """The table's rows for the fields a save sets, in table order; unknown names are a bug."""
    unknown = set(fields) - set(_BY_NAME)
    if unknown:
        raise TypeError(f"not a save field: {', '.join(sorted(unknown))}")
    return [f for f in SAVE_FIELDS if f.name in fields]


# --------------------------------------------------------------------------- saves


@dataclass
class SaveResult:
    applied: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    attempt: Attempt | None = None
    block: AttemptBlock | None = None
    path: str = LOCKED


def _check_seq(seq: int) -> None:
    if not 1 <= seq <= MAX_SEQ:
        raise ExamError(f"A save needs a sequence number from 1 to {MAX_SEQ}.")


def answer_save(
    *, attempt_uuid, user_id: int, position: int, seq: int, now: datetime, **fields
) -> SaveResult:
    """Apply one client action to the examinee's own attempt (NotFound for anyone else's).

    `fields` are SAVE_FIELDS names; an absent one is left untouched. A field is written only
    if `seq` is newer than the last seq applied to that field, so a retried request, a replay
    from an offline queue and a slower second tab can never overwrite a newer value.

    The common case (an open block, every field newer) is one statement
    (`answer_save_fast`); anything else takes `answer_save_locked`, which also says why a
    save was refused and closes a block that has run out. Each path runs at most once.
    """
    _check_seq(seq)
    _given(fields)
    key = {"attempt_uuid": attempt_uuid, "user_id": user_id, "position": position}
    result = answer_save_fast(**key, seq=seq, now=now, **fields)
    if result is not None:
        return result
    return answer_save_locked(**key, seq=seq, now=now, **fields)


def answer_save_locked(
    *, attempt_uuid, user_id: int, position: int, seq: int, now: datetime, **fields
) -> SaveResult:
    """The save rules applied with the attempt locked, field by field: the reference that
    `answer_save_fast` must agree with (tests/exams/test_save_paths.py), and the path that
    explains a refusal."""
    _check_seq(seq)
    given = _given(fields)
    with transaction.atomic():
        # Always the attempt row first, then the block: every writer takes them in this order
        # (locking both in one statement let a save and the sweep deadlock).
        attempt = (
            Attempt.objects.select_for_update().filter(uuid=attempt_uuid, user_id=user_id).first()
        )
        if attempt is None:
            raise NotFound("No such exam session.")
        _, block = clock.expire_locked(attempt=attempt, now=now)
        if block is None:
            closed = True
        else:
            closed = False
            result = _save_locked(
                attempt=attempt,
                block=block,
                position=position,
                seq=seq,
                now=now,
                values=[(f, fields[f.name]) for f in given],
            )
    # Raised after the commit, so that closing an expired block is kept.
    if closed:
        raise BlockClosed("This block has ended; the answer was not saved.")
    return result


def answer_save_fast(
    *, attempt_uuid, user_id: int, position: int, seq: int, now: datetime, **fields
) -> SaveResult | None:
    """The save's hot path: one UPDATE that checks ownership, the clock and every field's seq.

    Returns None, having written nothing, whenever the save is not the plain case: not the
    examinee's attempt, no open block, past a deadline (+ grace), a stale field, a locked
    item, an option that does not exist, an item the save may not change (a sequential set's
    item not on screen, an unvisited one in the grace: `_check_may_change`), a seq out of
    range. `answer_save` then takes the locked path, which applies the same rules field by
    field and explains a refusal.

    Why this is safe without `select_for_update`: the attempt row is taken FOR KEY SHARE,
    which conflicts with the FOR UPDATE that every state change (end, expiry, sweep, visit)
    takes first, so a block cannot close while a save into it is being written, and a save
    that waited for a close sees the attempt's new state and matches nothing. KEY SHARE does
    not conflict with plain UPDATEs of the attempt, so two tabs' saves never block each other
    on it. The lock order stays attempt → response, as everywhere else.
    """
    given = _given(fields)
    if not 1 <= seq <= MAX_SEQ or not given:
        # An empty save only marks activity (back from the inactivity dialog): rare, and the
        # locked path does it.
        return None
    names = [f.name for f in given]
    params: dict = {
        "uuid": attempt_uuid,
        "user_id": user_id,
        "position": position,
        "seq": seq,
        "now": now,
        "cutoff": clock.write_cutoff(now),
        "seqs": json.dumps(dict.fromkeys(names, seq)),
    }
    sets = ["field_seqs = r.field_seqs || %(seqs)s::jsonb"]
    conds = [
        f"COALESCE((r.field_seqs ->> '{name}')::bigint, 0) < %(seq)s"  # noqa: S608 - fixed names
        for name in names
    ]
    # `_check_may_change`: away from the item on screen, never an item of a sequential set,
    # and after the deadline (in the grace) only an item visited before it.
    conds.append(
        f"""(r.position = b.current_position OR (
            NOT EXISTS (SELECT 1 FROM {Question._meta.db_table} q
                        JOIN {ItemSet._meta.db_table} s ON s.id = q.item_set_id
                        WHERE q.id = r.question_id AND s.kind = 'sequential')
            AND ({clock.sql_deadline_open("b.deadline_at", at="%(now)s")}
                 OR r.time_spent_ms > 0)))"""  # noqa: S608 - model metadata
    )
    joins = ""
    for f in given:
        params[f.name] = f.param(fields[f.name])
        if f.name != "choice":
            sets.append(f"{f.name} = %({f.name})s{f.cast}")
            continue
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
            "v.id = r.version_id",
        ]
        joins = f", {QuestionVersion._meta.db_table} v"
    sql = f"""
        WITH a AS MATERIALIZED (
            SELECT id, mode, day_deadline_at, last_activity_at, last_seq
            FROM {Attempt._meta.db_table}
            WHERE uuid = %(uuid)s AND user_id = %(user_id)s AND state = 'in_block'
              AND {clock.sql_deadline_open("day_deadline_at", at="%(cutoff)s")}
            FOR KEY SHARE
        )
        UPDATE {Response._meta.db_table} r SET {", ".join(sets)}
        FROM a, {AttemptBlock._meta.db_table} b{joins}
        WHERE b.attempt_id = a.id AND b.state = 'active'
          AND {clock.sql_deadline_open("b.deadline_at", at="%(cutoff)s")}
          AND r.block_id = b.id AND r.position = %(position)s
          AND {" AND ".join(conds)}
        RETURNING a.id, a.mode, a.day_deadline_at, a.last_activity_at, a.last_seq,
                  b.id, b.number, b.deadline_at
    """  # noqa: S608 - table names come from model metadata, values are parameters
    with prepared_cursor() as cursor:
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
    return SaveResult(applied=names, stale=[], attempt=attempt, block=block, path=FAST)


def _save_locked(
    *,
    attempt: Attempt,
    block: AttemptBlock,
    position: int,
    seq: int,
    now: datetime,
    values: list[tuple[SaveField, object]],
) -> SaveResult:
    try:
        response = Response.objects.select_related("version", "question__item_set").get(
            block=block, position=position
        )
    except Response.DoesNotExist:
        raise ExamError("There is no such item in this block.") from None
    result = SaveResult(attempt=attempt, block=block, path=LOCKED)
    seqs = dict(response.field_seqs)
    if any(seq > seqs.get(f.name, 0) for f, _ in values):
        # Only a save that would change something is refused: a retry of one already applied
        # stays a harmless no-op.
        _check_may_change(response=response, block=block, now=now)
    update_fields: set[str] = set()
    for f, value in values:
        if seq <= seqs.get(f.name, 0):
            result.stale.append(f.name)
            continue
        if f.name == "choice":
            _apply_choice(response=response, choice=value, attempt=attempt, block=block, now=now)
        else:
            setattr(response, f.name, value)
        update_fields |= set(f.written)
        seqs[f.name] = seq
        result.applied.append(f.name)
    if result.applied:
        response.field_seqs = seqs
        update_fields.add("field_seqs")
        response.save(update_fields=sorted(update_fields))
    # The attempt row is rewritten at most every ACTIVITY_RESOLUTION: it only feeds the
    # inactivity warning (minutes) and a floor for new tabs' sequence numbers, which
    # `clock.block_last_seq` computes exactly from the block's responses when a page loads.
    # Skipping it on most saves is one statement less on the hottest path.
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
    if clock.block_time_is_up(block=block, now=now) and response.time_spent_ms == 0:
        # Inside the grace only an answer already in flight lands: one to the item that was
        # open at the deadline (moves stop there) or to one visited before it (time counted).
        raise BlockClosed("Time ran out before this item was opened; the answer was not saved.")


# --------------------------------------------------------------------------- visits


@dataclass(frozen=True)
class Visit:
    """A move done: the attempt and block as the clock needs them, whether the visited item's
    answer is locked, and which path ran (`FAST` or `LOCKED`)."""

    attempt: Attempt
    block: AttemptBlock
    is_locked: bool
    path: str


def item_visit(*, attempt_uuid, user_id: int, position: int, now: datetime) -> Visit:
    """Move to another item of the examinee's own attempt (NotFound for anyone else's): the
    server measures time per item, and moving on from an item of a sequential set locks it.
    The browser's cached moves (exams:visit) come here: `item_visit_fast` in the plain case,
    else `item_visit_locked`, which closes what is due and says why a move is refused."""
    key = {"attempt_uuid": attempt_uuid, "user_id": user_id, "position": position, "now": now}
    fast = item_visit_fast(**key)
    if fast is not None:
        attempt, block, is_locked = fast
        return Visit(attempt=attempt, block=block, is_locked=is_locked, path=FAST)
    block = item_visit_locked(**key)
    return Visit(
        attempt=block.attempt,
        block=block,
        is_locked=block.current_response.is_locked,
        path=LOCKED,
    )


def item_visit_locked(*, attempt_uuid, user_id: int, position: int, now: datetime) -> AttemptBlock:
    """Move to another item with the attempt locked: the reference `item_visit_fast` must
    equal, the path that closes what is due and says why a move is refused, and the item
    page's path (it needs the visited row, which this reads in the same query).

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
        _, block = clock.expire_locked(attempt=attempt, now=now)
        # After the deadline nothing new is shown: the grace is for requests in flight.
        if block is None or clock.block_time_is_up(block=block, now=now):
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
    """`item_visit_locked` in hand-written SQL: the path `item_visit` tries first.

    The same rules and the same lock order (the attempt FOR UPDATE in its own statement, then
    the response, then the block), in five prepared statements instead of the ORM's nine.
    Returns None, having written nothing, when the move is not the plain case (not this
    user's attempt, no open block, a deadline passed (the grace is for saves in flight, never
    for a move), no such item): `item_visit` then takes `item_visit_locked`, which closes
    what is due and says why. Otherwise (attempt, block, whether the item's answer is
    locked). tests/exams/test_save_paths.py holds both paths equal.
    """
    with transaction.atomic(), prepared_cursor() as cursor:
        # The attempt alone first: locking it in the statement that reads the block would
        # hand back the block as it was before a concurrent move we waited for.
        cursor.execute(
            f"""
            SELECT id, mode, day_deadline_at, last_seq, last_activity_at
            FROM {Attempt._meta.db_table}
            WHERE uuid = %s AND user_id = %s AND state = 'in_block'
              AND {clock.sql_deadline_open("day_deadline_at", at="%s")}
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
              AND {clock.sql_deadline_open("b.deadline_at", at="%s")}
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
        # The search column is the largest of a version's and no exam screen reads it.
        .defer("version__search_vector")
        .order_by()
    }


def _visit_locked(*, block: AttemptBlock, position: int, now: datetime) -> Response:
    rows = _visit_rows(block, [position, block.current_position])
    if position not in rows:
        raise ExamError("There is no such item in this block.")
    clock.accrue_time(block, now)
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
