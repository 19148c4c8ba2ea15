"""The exam engine's former single module, kept as a facade so `from exams import services`
still works. New code imports the module that holds the topic:

- exams/errors.py    the refusals (ExamError, BlockClosed, ItemLocked, NotAllowed, NotFound)
- exams/drawing.py   forms and blocks from blueprints; `apportion`, the one quota rule
- exams/access.py    which assignments are open to an examinee and how many attempts are left
- exams/attempts.py  attempt creation and start
- exams/clock.py     tutorial -> block -> break -> finished; the deadline rule; expiry; the
                     clock poll (`clock_read`); time summary
- exams/answers.py   saves and visits, one entry point each (`answer_save`, `item_visit`),
                     the save field table
- exams/practice.py  practice pools and blocks (exams/exposure.py says what may be drawn)

The few names whose signature changed in the split keep their old one here.
"""

from __future__ import annotations

from datetime import datetime

from exams import access
from exams.access import attempts_left  # noqa: F401
from exams.answers import (  # noqa: F401
    ACTIVITY_RESOLUTION,
    MAX_POSITION,
    MAX_SEQ,
    SaveResult,
    answer_save_fast,
    is_withheld,
    item_visit_fast,
)
from exams.answers import SAVE_FIELDS as _SAVE_FIELD_ROWS
from exams.answers import answer_save as _answer_save
from exams.answers import answer_save_locked as _answer_save_locked
from exams.answers import item_visit_locked as item_visit_own
from exams.attempts import (  # noqa: F401
    attempt_create as _create_attempt,
)
from exams.attempts import attempt_start  # noqa: F401
from exams.clock import (  # noqa: F401
    attempt_refresh,
    block_end,
    block_last_seq,
    block_start,
    block_time_is_up,
    clock_state,
    close_expired_blocks,
    time_summary,
    tutorial_end,
)
from exams.clock import clock_read_fast as clock_read  # noqa: F401
from exams.drawing import (  # noqa: F401
    PoolItem,
    apportion,
    draw_items,
    exam_blocks,
    pack_blocks,
    pool_items,
)
from exams.errors import BlockClosed, ExamError, ItemLocked, NotAllowed, NotFound  # noqa: F401
from exams.models import Assignment, Attempt, AttemptBlock, Exam
from exams.practice import (  # noqa: F401
    MAX_PRACTICE_ITEMS,
    POOLS,
    PRACTICE_SECONDS_PER_ITEM,
    practice_banks,
    practice_create,
    practice_pool,
    practice_pool_counts,
)

SAVE_FIELDS = tuple(f.name for f in _SAVE_FIELD_ROWS)
UNSET = object()


def _set(fields: dict) -> dict:
    return {name: value for name, value in fields.items() if value is not UNSET}


def available_assignments(*, user, exam: Exam, now: datetime) -> list[Assignment]:
    """`access.open_assignments` as bare assignments (each examinee's override is in
    the `access.Effective` rows it returns)."""
    return [e.assignment for e in access.open_assignments(user=user, exam=exam, now=now)]


def answer_save(*, attempt: Attempt, position: int, seq: int, now: datetime, **fields):
    """`answers.answer_save` for an attempt instance."""
    return _answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=position,
        seq=seq,
        now=now,
        **_set(fields),
    )


def answer_save_locked(*, attempt: Attempt, position: int, seq: int, now: datetime, fields: dict):
    """`answers.answer_save_locked` for an attempt instance and a dict of fields."""
    return _answer_save_locked(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=position,
        seq=seq,
        now=now,
        **_set(fields),
    )


def item_visit(*, attempt: Attempt, position: int, now: datetime) -> AttemptBlock:
    """`answers.item_visit_locked` for an attempt instance (the block, as before the split)."""
    return item_visit_own(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=position, now=now
    )
