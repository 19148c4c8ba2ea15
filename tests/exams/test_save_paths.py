"""The one-statement save (`answer_save_fast`) against the locked reference path.

The same random stream of client actions (fresh, duplicate and stale sequence numbers, every
field, options that do not exist, saves inside and after the grace period) is applied to two
identical attempts: one through `answer_save` (the fast statement, falling back to the locked
path), one through `answer_save_locked` only. Every outcome and every stored field must match,
and the entry point must have taken the fast path for every plain save (the walks count it).
The same holds for moves (`item_visit`) and the clock poll (`clock_read`).
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from exams import answers, attempts, clock
from exams.clock import FAST, LOCKED
from exams.errors import BlockClosed, ExamError, NotFound
from exams.models import Attempt, AttemptBlock, Response

pytestmark = pytest.mark.django_db

ROW_FIELDS = [
    "choice",
    "first_choice",
    "change_count",
    "is_marked",
    "struck",
    "highlights",
    "note",
    "is_locked",
    "field_seqs",
    "answered_at",
    "answered_with_seconds_left",
    "time_spent_ms",
]


def _action(rng: random.Random, seq_top: int) -> tuple[int, dict]:
    roll = rng.random()
    if roll < 0.7 or seq_top == 0:
        seq = seq_top + 1
    elif roll < 0.85:
        seq = seq_top  # a retried request
    else:
        seq = rng.randint(1, seq_top)  # a late replay from the offline queue or another tab
    fields: dict = {}
    for name in rng.sample([f.name for f in answers.SAVE_FIELDS], rng.choice([0, 1, 1, 1, 2, 3])):
        if name == "choice":
            fields[name] = rng.choice([None, 0, 1, 2, 3, 4, 4, 7])  # 7: no such option
        elif name == "is_marked":
            fields[name] = rng.random() < 0.5
        elif name == "struck":
            fields[name] = sorted(rng.sample(range(5), rng.randint(0, 3)))
        elif name == "highlights":
            fields[name] = [[0, rng.randint(1, 40)]] if rng.random() < 0.7 else []
        else:
            fields[name] = rng.choice(["", "check the ECG", "ddx: MI vs PE ☐"])
    return seq, fields


def _apply(save, attempt, *, position, seq, now, fields, paths=None):
    """The outcome of one save, comparable across paths; `paths` counts the path taken."""
    try:
        result = save(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=position,
            seq=seq,
            now=now,
            **fields,
        )
    except ExamError as exc:
        return type(exc).__name__
    if paths is not None:
        # The plain case (every field given is newer, and the save lands) is the fast path's;
        # anything else (a stale field, an empty save) is the locked path's.
        plain = bool(fields) and not result.stale
        assert result.path == (FAST if plain else LOCKED), (seq, position, fields, result)
        paths[result.path] += 1
    return ("ok", sorted(result.applied), sorted(result.stale))


def _state(attempt: Attempt):
    attempt.refresh_from_db()
    rows = {
        r.position: {f: getattr(r, f) for f in ROW_FIELDS}
        for r in Response.objects.filter(block__attempt=attempt, block__number=1)
    }
    blocks = list(attempt.blocks.order_by("number").values_list("state", "close_reason"))
    return rows, blocks, attempt.state, attempt.last_seq, attempt.last_activity_at


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("exam_fixture", ["exam", "tutor_exam"])
def test_fast_save_agrees_with_the_locked_path(
    request, seed, exam_fixture, examinee, other_examinee, t0
):
    exam = request.getfixturevalue(exam_fixture)
    pair = []
    for user in (examinee, other_examinee):
        attempt = attempts.attempt_start(user=user, exam=exam, now=t0, rng=random.Random(seed))
        if attempt.state == Attempt.State.TUTORIAL:
            attempt = clock.tutorial_end(attempt=attempt, now=t0)
        pair.append(clock.block_start(attempt=attempt, now=t0))
    fast, reference = pair
    rng = random.Random(seed)
    now, seq_top = t0, 0
    paths = {FAST: 0, LOCKED: 0}
    for _ in range(150):
        # 150 steps of up to 9 s walk past the 10-minute deadline and its grace now and then.
        now += timedelta(seconds=rng.uniform(0, 9))
        seq, fields = _action(rng, seq_top)
        seq_top = max(seq_top, seq)
        position = rng.randint(1, 5)
        got = _apply(
            answers.answer_save, fast, position=position, seq=seq, now=now, fields=fields,
            paths=paths,
        )  # fmt: skip
        want = _apply(
            answers.answer_save_locked,
            reference,
            position=position,
            seq=seq,
            now=now,
            fields=fields,
        )
        assert got == want, (seq, position, fields, now - t0)
    assert _state(fast) == _state(reference)
    assert paths[FAST] >= 40, paths
    assert paths[LOCKED] >= 5, paths


def test_a_fresh_save_is_one_statement(attempt, t0, django_assert_num_queries):
    clock.tutorial_end(attempt=attempt, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    with django_assert_num_queries(1):
        result = answers.answer_save(
            attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=2, seq=5, choice=3, now=t0
        )
    assert (result.applied, result.path) == (["choice"], FAST)
    row = Response.objects.get(block__attempt=attempt, block__number=1, position=2)
    assert (row.choice, row.first_choice, row.field_seqs) == (3, 3, {"choice": 5})
    assert row.answered_at == t0
    assert row.answered_with_seconds_left == 10 * 60


def test_a_stale_save_tries_the_statement_once_then_the_locked_path(
    attempt, t0, django_assert_num_queries
):
    clock.tutorial_end(attempt=attempt, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    key = {"attempt_uuid": attempt.uuid, "user_id": attempt.user_id, "position": 2, "now": t0}
    answers.answer_save(**key, seq=5, choice=3)
    # The UPDATE that matches nothing, then the savepoint, the attempt (locked), the active
    # block, the response and the release: the statement is never run a second time.
    with django_assert_num_queries(6) as ctx:
        result = answers.answer_save(**key, seq=4, choice=1)
    assert (result.applied, result.stale, result.path) == ([], ["choice"], LOCKED)
    assert sum(q["sql"].lstrip().startswith("WITH a AS") for q in ctx.captured_queries) == 1
    assert Response.objects.get(block__attempt=attempt, block__number=1, position=2).choice == 3


def test_fast_save_refuses_another_users_attempt(attempt, other_examinee, t0):
    clock.tutorial_end(attempt=attempt, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    result = answers.answer_save_fast(
        attempt_uuid=attempt.uuid, user_id=other_examinee.pk, position=1, seq=1, choice=1, now=t0
    )
    assert result is None
    assert Response.objects.filter(attempt=attempt, choice__isnull=False).count() == 0


def test_fast_save_leaves_an_expired_block_to_the_locked_path(attempt, t0):
    clock.tutorial_end(attempt=attempt, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    late = t0 + timedelta(minutes=10, seconds=6)
    assert (
        answers.answer_save_fast(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=1,
            seq=1,
            choice=1,
            now=late,
        )
        is None
    )
    with pytest.raises(BlockClosed):
        answers.answer_save(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=1,
            seq=1,
            choice=1,
            now=late,
        )
    assert attempt.blocks.get(number=1).state == AttemptBlock.State.CLOSED
    assert Response.objects.filter(attempt=attempt, choice__isnull=False).count() == 0


def _clock_reference(attempt, now):
    """The clock poll's locking path, run alone."""
    return clock.clock_read_locked(attempt_uuid=attempt.uuid, user_id=attempt.user_id, now=now)


def test_clock_read_agrees_with_the_locking_clock_in_every_state(attempt, t0):
    def check(now, *, expect_fast=True):
        read = clock.clock_read(attempt_uuid=attempt.uuid, user_id=attempt.user_id, now=now)
        if not expect_fast:
            assert read.path == LOCKED, "the clock has something to close: the locking path runs"
            return read.state
        assert read.path == FAST
        assert read.state == _clock_reference(attempt, now)
        return read.state

    minute = timedelta(minutes=1)
    assert check(t0 + minute)["state"] == Attempt.State.TUTORIAL
    # The 5-minute tutorial runs out: the fast read leaves the move to the locking path.
    assert check(t0 + 6 * minute, expect_fast=False)["state"] == Attempt.State.BETWEEN_BLOCKS
    assert check(t0 + 7 * minute)["break_remaining"] is not None
    clock.block_start(attempt=attempt, now=t0 + 7 * minute)
    answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=2,
        seq=41,
        choice=1,
        now=t0 + 8 * minute,
    )
    in_block = check(t0 + 8 * minute)
    assert (in_block["state"], in_block["block_number"], in_block["last_seq"]) == (
        Attempt.State.IN_BLOCK,
        1,
        41,
    )
    # Past the block's deadline and the grace: closed by the locking path, never by a read.
    closed = check(t0 + 17 * minute + timedelta(seconds=6), expect_fast=False)
    assert closed["state"] == Attempt.State.BETWEEN_BLOCKS
    assert attempt.blocks.get(number=1).state == AttemptBlock.State.CLOSED


def test_clock_read_of_another_users_attempt_is_not_found(attempt, other_examinee, t0):
    key = {"attempt_uuid": attempt.uuid, "user_id": other_examinee.pk, "now": t0}
    assert clock.clock_read_fast(**key) is None
    with pytest.raises(NotFound):
        clock.clock_read(**key)


VISIT_FIELDS = ["time_spent_ms", "is_locked", "choice"]


def _visit_via_entry_point(*, attempt, position, now, paths):
    """What exams:visit does: `item_visit`, the SQL path, else the ORM one."""
    visit = answers.item_visit(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=position, now=now
    )
    # Every move that is made is a plain one: the locked path only ever refuses.
    assert visit.path == FAST, (position, now)
    paths[visit.path] += 1
    return visit.is_locked


def _visit_reference(*, attempt, position, now):
    return answers.item_visit_locked(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=position, now=now
    ).current_response.is_locked


def _outcome(fn, **kwargs):
    try:
        return ("ok", fn(**kwargs))
    except ExamError as exc:
        return type(exc).__name__


def _visit_state(attempt):
    attempt.refresh_from_db()
    blocks = [
        (b.state, b.current_position, b.current_since, b.closed_at)
        for b in attempt.blocks.order_by("number")
    ]
    rows = sorted(
        (r.block.number, r.position, *(getattr(r, f) for f in VISIT_FIELDS))
        for r in Response.objects.filter(attempt=attempt).select_related("block")
    )
    return blocks, rows, attempt.state, attempt.last_activity_at


@pytest.mark.parametrize("seed", range(4))
def test_fast_visit_agrees_with_the_locked_path(
    seed, examinee, other_examinee, instructor, short_blueprint, t0
):
    from exams.models import Exam
    from questions.models import Bank, ItemSet
    from tests.exams.conftest import make_question

    bank = Bank.objects.create(slug=f"visit-bank-{seed}", name="Visit bank")
    case = ItemSet.objects.create(
        bank=bank, kind=ItemSet.Kind.SEQUENTIAL, external_id="case", stimulus_html="<p>Case</p>"
    )
    for n in range(3):
        make_question(
            bank, 500 + n, discipline="medicine", system="renal-urinary", item_set=case,
            set_position=n + 1,
        )  # fmt: skip
    for n in range(7):
        make_question(bank, 600 + n, discipline="surgery", system="respiratory")
    exam = Exam.objects.create(
        title="Visits", owner=instructor, blueprint=short_blueprint, is_public=True
    )
    exam.banks.add(bank)
    pair = []
    for user in (examinee, other_examinee):
        attempt = attempts.attempt_start(user=user, exam=exam, now=t0, rng=random.Random(seed))
        attempt = clock.tutorial_end(attempt=attempt, now=t0)
        pair.append(clock.block_start(attempt=attempt, now=t0))
    fast, reference = pair
    rng = random.Random(seed)
    now, seq = t0, 0
    paths = {FAST: 0, LOCKED: 0}
    for block_number in (1, 2):
        for _ in range(60):
            # Up to 15 s a step: 60 steps walk past the 10-minute deadline now and then.
            now += timedelta(seconds=rng.uniform(0, 15))
            position = rng.randint(1, 6)  # 6: no such item
            if rng.random() < 0.3:
                seq += 1
                choice = rng.randint(0, 4)
                for a in (fast, reference):
                    _outcome(
                        answers.answer_save, attempt_uuid=a.uuid, user_id=a.user_id,
                        position=position, seq=seq, choice=choice, now=now,
                    )  # fmt: skip
                continue
            got = _outcome(
                _visit_via_entry_point, attempt=fast, position=position, now=now, paths=paths
            )
            want = _outcome(_visit_reference, attempt=reference, position=position, now=now)
            assert got == want, (block_number, position, now - t0)
        assert _visit_state(fast) == _visit_state(reference)
        for a in (fast, reference):
            clock.block_end(attempt=a, now=now)
            clock.block_start(attempt=a, now=now)
    assert paths[FAST] >= 20, paths


def test_a_move_in_the_grace_period_is_refused_and_time_counts_only_up_to_the_deadline(attempt, t0):
    clock.tutorial_end(attempt=attempt, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    deadline = t0 + timedelta(minutes=10)
    late = deadline + timedelta(seconds=3)
    fast = answers.item_visit_fast(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=2, now=late
    )
    assert fast is None, "the grace is for saves in flight, never for a move"
    with pytest.raises(BlockClosed):
        answers.item_visit(attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=2, now=late)
    assert attempt.blocks.get(number=1).current_position == 1
    clock.close_expired_blocks(now=deadline + timedelta(seconds=6))
    first = Response.objects.get(attempt=attempt, block__number=1, position=1)
    assert first.time_spent_ms == 10 * 60 * 1000


@pytest.mark.parametrize("seed", range(6))
def test_fast_save_agrees_with_the_locked_path_in_sequential_sets(
    seed, examinee, other_examinee, sequential_exam, t0
):
    """Saves (fast vs locked) and moves (the same on both) over a block whose items 4-6 are a
    sequential set: a set's item not on screen, reached or not, is refused the same way on
    both paths, and so is an unvisited item inside the grace."""
    pair = []
    for user in (examinee, other_examinee):
        attempt = attempts.attempt_start(user=user, exam=sequential_exam, now=t0)
        attempt = clock.tutorial_end(attempt=attempt, now=t0)
        pair.append(clock.block_start(attempt=attempt, now=t0))
    fast, reference = pair
    rng = random.Random(seed)
    # From 6-7 minutes in, up to 4 s a step: most walks cross the 10-minute deadline, its
    # grace and the close.
    now, seq_top = t0 + timedelta(minutes=6, seconds=rng.uniform(0, 60)), 0
    refused = set()
    paths = {FAST: 0, LOCKED: 0}
    for _ in range(120):
        now += timedelta(seconds=rng.uniform(0, 4))
        if rng.random() < 0.25:
            position = rng.randint(1, 6)
            for a in (fast, reference):
                _outcome(
                    answers.item_visit, attempt_uuid=a.uuid, user_id=a.user_id,
                    position=position, now=now,
                )  # fmt: skip
            continue
        seq, fields = _action(rng, seq_top)
        seq_top = max(seq_top, seq)
        position = rng.choice([4, 5, 6, 4, 5, 6, 1, 2, 3])
        got = _apply(
            answers.answer_save, fast, position=position, seq=seq, now=now, fields=fields,
            paths=paths,
        )  # fmt: skip
        want = _apply(
            answers.answer_save_locked,
            reference,
            position=position,
            seq=seq,
            now=now,
            fields=fields,
        )
        assert got == want, (seq, position, fields, now - t0)
        if isinstance(got, str):
            refused.add(got)
    assert _state(fast) == _state(reference)
    assert "ItemLocked" in refused, "the walk must try sequential items off screen"
    assert paths[FAST] >= 10, paths
