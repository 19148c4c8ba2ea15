"""The one-statement save (`answer_save_fast`) against the locked reference path.

The same random stream of client actions (fresh, duplicate and stale sequence numbers, every
field, options that do not exist, saves inside and after the grace period) is applied to two
identical attempts: one through `answer_save` (the fast statement, falling back to the locked
path), one through `answer_save_locked` only. Every outcome and every stored field must match.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from exams import services
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
    for name in rng.sample(services.SAVE_FIELDS, rng.choice([0, 1, 1, 1, 2, 3])):
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


def _apply(save, attempt, *, position, seq, now, fields):
    try:
        result = save(attempt=attempt, position=position, seq=seq, now=now, fields=fields)
    except services.ExamError as exc:
        return type(exc).__name__
    return ("ok", sorted(result.applied), sorted(result.stale))


def _via_answer_save(*, attempt, position, seq, now, fields):
    return services.answer_save(attempt=attempt, position=position, seq=seq, now=now, **fields)


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
        attempt = services.attempt_start(user=user, exam=exam, now=t0, rng=random.Random(seed))
        if attempt.state == Attempt.State.TUTORIAL:
            attempt = services.tutorial_end(attempt=attempt, now=t0)
        pair.append(services.block_start(attempt=attempt, now=t0))
    fast, reference = pair
    rng = random.Random(seed)
    now, seq_top = t0, 0
    for _ in range(150):
        # 150 steps of up to 9 s walk past the 10-minute deadline and its grace now and then.
        now += timedelta(seconds=rng.uniform(0, 9))
        seq, fields = _action(rng, seq_top)
        seq_top = max(seq_top, seq)
        position = rng.randint(1, 5)
        got = _apply(_via_answer_save, fast, position=position, seq=seq, now=now, fields=fields)
        want = _apply(
            services.answer_save_locked,
            reference,
            position=position,
            seq=seq,
            now=now,
            fields=fields,
        )
        assert got == want, (seq, position, fields, now - t0)
    assert _state(fast) == _state(reference)


def test_a_fresh_save_is_one_statement(attempt, t0, django_assert_num_queries):
    services.tutorial_end(attempt=attempt, now=t0)
    attempt = services.block_start(attempt=attempt, now=t0)
    with django_assert_num_queries(1):
        result = services.answer_save(attempt=attempt, position=2, seq=5, choice=3, now=t0)
    assert result.applied == ["choice"]
    row = Response.objects.get(block__attempt=attempt, block__number=1, position=2)
    assert (row.choice, row.first_choice, row.field_seqs) == (3, 3, {"choice": 5})
    assert row.answered_at == t0
    assert row.answered_with_seconds_left == 10 * 60


def test_fast_save_refuses_another_users_attempt(attempt, other_examinee, t0):
    services.tutorial_end(attempt=attempt, now=t0)
    attempt = services.block_start(attempt=attempt, now=t0)
    result = services.answer_save_fast(
        attempt_uuid=attempt.uuid, user_id=other_examinee.pk, position=1, seq=1, choice=1, now=t0
    )
    assert result is None
    assert Response.objects.filter(attempt=attempt, choice__isnull=False).count() == 0


def test_fast_save_leaves_an_expired_block_to_the_locked_path(attempt, t0):
    services.tutorial_end(attempt=attempt, now=t0)
    attempt = services.block_start(attempt=attempt, now=t0)
    late = t0 + timedelta(minutes=10, seconds=6)
    assert (
        services.answer_save_fast(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=1,
            seq=1,
            choice=1,
            now=late,
        )
        is None
    )
    with pytest.raises(services.BlockClosed):
        services.answer_save(attempt=attempt, position=1, seq=1, choice=1, now=late)
    assert attempt.blocks.get(number=1).state == AttemptBlock.State.CLOSED
    assert Response.objects.filter(attempt=attempt, choice__isnull=False).count() == 0


def _clock_reference(attempt, now):
    """What the clock view computes on its locking path."""
    attempt = services.attempt_refresh(attempt=attempt, now=now)
    attempt.refresh_from_db()
    block = attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).first()
    last_seq = services.block_last_seq(attempt=attempt, block=block)
    return services.clock_state(attempt=attempt, now=now, block=block, last_seq=last_seq)


def test_clock_read_agrees_with_the_locking_clock_in_every_state(attempt, t0):
    def check(now, *, expect_fast=True):
        fast = services.clock_read(attempt_uuid=attempt.uuid, user_id=attempt.user_id, now=now)
        if not expect_fast:
            assert fast is None, "the clock has something to close: the locking path must run"
        reference = _clock_reference(attempt, now)
        if expect_fast:
            assert fast == reference
        return reference

    minute = timedelta(minutes=1)
    assert check(t0 + minute)["state"] == Attempt.State.TUTORIAL
    # The 5-minute tutorial runs out: the fast read leaves the move to the locking path.
    assert check(t0 + 6 * minute, expect_fast=False)["state"] == Attempt.State.BETWEEN_BLOCKS
    assert check(t0 + 7 * minute)["break_remaining"] is not None
    services.block_start(attempt=attempt, now=t0 + 7 * minute)
    services.answer_save(attempt=attempt, position=2, seq=41, choice=1, now=t0 + 8 * minute)
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


def test_clock_read_of_another_users_attempt_is_none(attempt, other_examinee, t0):
    assert services.clock_read(attempt_uuid=attempt.uuid, user_id=other_examinee.pk, now=t0) is None


VISIT_FIELDS = ["time_spent_ms", "is_locked", "choice"]


def _visit_via_view_path(*, attempt, position, now):
    """What exams:visit does: the SQL path, else the ORM one."""
    fast = services.item_visit_fast(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=position, now=now
    )
    if fast is not None:
        return fast[2]
    return services.item_visit(
        attempt=attempt, position=position, now=now
    ).current_response.is_locked


def _visit_reference(*, attempt, position, now):
    return services.item_visit(
        attempt=attempt, position=position, now=now
    ).current_response.is_locked


def _outcome(fn, **kwargs):
    try:
        return ("ok", fn(**kwargs))
    except services.ExamError as exc:
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
        attempt = services.attempt_start(user=user, exam=exam, now=t0, rng=random.Random(seed))
        attempt = services.tutorial_end(attempt=attempt, now=t0)
        pair.append(services.block_start(attempt=attempt, now=t0))
    fast, reference = pair
    rng = random.Random(seed)
    now, seq = t0, 0
    for block_number in (1, 2):
        for _ in range(60):
            # Up to 15 s a step: 60 steps walk past the 10-minute deadline now and then.
            now += timedelta(seconds=rng.uniform(0, 15))
            position = rng.randint(1, 6)  # 6: no such item
            if rng.random() < 0.3:
                seq += 1
                choice = rng.randint(0, 4)
                for a, path in ((fast, services.answer_save), (reference, services.answer_save)):
                    _outcome(path, attempt=a, position=position, seq=seq, choice=choice, now=now)
                continue
            got = _outcome(_visit_via_view_path, attempt=fast, position=position, now=now)
            want = _outcome(_visit_reference, attempt=reference, position=position, now=now)
            assert got == want, (block_number, position, now - t0)
        assert _visit_state(fast) == _visit_state(reference)
        for a in (fast, reference):
            services.block_end(attempt=a, now=now)
            services.block_start(attempt=a, now=now)


def test_a_move_in_the_grace_period_is_refused_and_time_counts_only_up_to_the_deadline(attempt, t0):
    services.tutorial_end(attempt=attempt, now=t0)
    attempt = services.block_start(attempt=attempt, now=t0)
    deadline = t0 + timedelta(minutes=10)
    late = deadline + timedelta(seconds=3)
    fast = services.item_visit_fast(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=2, now=late
    )
    assert fast is None, "the grace is for saves in flight, never for a move"
    with pytest.raises(services.BlockClosed):
        services.item_visit(attempt=attempt, position=2, now=late)
    assert attempt.blocks.get(number=1).current_position == 1
    services.close_expired_blocks(now=deadline + timedelta(seconds=6))
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
        attempt = services.attempt_start(user=user, exam=sequential_exam, now=t0)
        attempt = services.tutorial_end(attempt=attempt, now=t0)
        pair.append(services.block_start(attempt=attempt, now=t0))
    fast, reference = pair
    rng = random.Random(seed)
    # From 6-7 minutes in, up to 4 s a step: most walks cross the 10-minute deadline, its
    # grace and the close.
    now, seq_top = t0 + timedelta(minutes=6, seconds=rng.uniform(0, 60)), 0
    refused = set()
    for _ in range(120):
        now += timedelta(seconds=rng.uniform(0, 4))
        if rng.random() < 0.25:
            position = rng.randint(1, 6)
            for a in (fast, reference):
                _outcome(services.item_visit, attempt=a, position=position, now=now)
            continue
        seq, fields = _action(rng, seq_top)
        seq_top = max(seq_top, seq)
        position = rng.choice([4, 5, 6, 4, 5, 6, 1, 2, 3])
        got = _apply(_via_answer_save, fast, position=position, seq=seq, now=now, fields=fields)
        want = _apply(
            services.answer_save_locked,
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
