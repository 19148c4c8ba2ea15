"""The exam engine's clock and save rules, with fixed times."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection

from exams import answers, attempts, clock, practice
from exams.errors import BlockClosed, ExamError, ItemLocked
from exams.models import Attempt, AttemptBlock, Response

pytestmark = pytest.mark.django_db

BLOCK = timedelta(minutes=10)
GRACE = timedelta(seconds=5)


def started(attempt, t0):
    """End the tutorial at t0 + 1 min and start block 1."""
    clock.tutorial_end(attempt=attempt, now=t0 + timedelta(minutes=1))
    return clock.block_start(attempt=attempt, now=t0 + timedelta(minutes=1))


def block(attempt, number=1) -> AttemptBlock:
    return attempt.blocks.get(number=number)


def test_attempt_draws_every_item_once_and_fixes_the_day(attempt, t0):
    responses = Response.objects.filter(attempt=attempt)
    assert responses.count() == 10
    assert responses.values("question").distinct().count() == 10
    assert attempt.state == Attempt.State.TUTORIAL
    # 2 blocks x 10 min + 10 min break + 5 min tutorial
    assert attempt.day_deadline_at == t0 + timedelta(minutes=35)


def test_block_deadline_is_stored_when_the_block_starts(attempt, t0):
    attempt = started(attempt, t0)
    b = block(attempt)
    assert b.state == AttemptBlock.State.ACTIVE
    assert b.deadline_at == t0 + timedelta(minutes=1) + BLOCK


def test_answer_before_deadline_is_saved(attempt, t0):
    attempt = started(attempt, t0)
    result = answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=1,
        seq=1,
        choice=2,
        now=t0 + timedelta(minutes=5),
    )
    assert result.applied == ["choice"]
    assert Response.objects.get(block=block(attempt), position=1).choice == 2


def test_answer_within_grace_is_accepted(attempt, t0):
    attempt = started(attempt, t0)
    deadline = block(attempt).deadline_at
    answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=1,
        seq=1,
        choice=1,
        now=deadline + GRACE - timedelta(milliseconds=1),
    )
    assert Response.objects.get(block=block(attempt), position=1).choice == 1


def test_answer_after_deadline_is_refused(attempt, t0):
    attempt = started(attempt, t0)
    deadline = block(attempt).deadline_at
    with pytest.raises(BlockClosed):
        answers.answer_save(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=1,
            seq=1,
            choice=1,
            now=deadline + GRACE + timedelta(seconds=1),
        )
    assert Response.objects.get(block=block(attempt), position=1).choice is None
    b = block(attempt)
    assert b.state == AttemptBlock.State.CLOSED
    assert b.close_reason == AttemptBlock.CloseReason.EXPIRED
    assert b.closed_at == deadline


def test_vanished_examinee_block_is_closed_by_the_sweep(attempt, t0):
    attempt = started(attempt, t0)
    deadline = block(attempt).deadline_at
    assert clock.close_expired_blocks(now=deadline) == 0
    assert clock.close_expired_blocks(now=deadline + GRACE + timedelta(seconds=1)) == 1
    b = block(attempt)
    assert b.state == AttemptBlock.State.CLOSED
    assert b.analytics_state in {"pending", "claimed", "done"}
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.BETWEEN_BLOCKS


def test_closed_block_can_never_reopen(attempt, t0):
    attempt = started(attempt, t0)
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=3))
    attempt = clock.block_start(attempt=attempt, now=t0 + timedelta(minutes=4))
    assert block(attempt, 1).state == AttemptBlock.State.CLOSED
    assert block(attempt, 2).state == AttemptBlock.State.ACTIVE
    with pytest.raises(ExamError):
        # Block 1's position 1 is not in the active block 2's... saves go to block 2 only.
        answers.answer_save(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=99,
            seq=5,
            choice=0,
            now=t0 + timedelta(minutes=5),
        )
    before = list(Response.objects.filter(block=block(attempt, 1)).values_list("choice"))
    answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=1,
        seq=6,
        choice=3,
        now=t0 + timedelta(minutes=5),
    )
    after = list(Response.objects.filter(block=block(attempt, 1)).values_list("choice"))
    assert before == after


def test_end_block_submitted_twice_changes_nothing_the_second_time(attempt, t0):
    attempt = started(attempt, t0)
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=3))
    first = block(attempt)
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=4))
    second = block(attempt)
    assert (first.closed_at, first.close_reason) == (second.closed_at, second.close_reason)
    assert block(attempt, 2).state == AttemptBlock.State.PENDING


def test_unused_tutorial_and_early_end_become_break_time(attempt, t0):
    attempt = started(attempt, t0)  # tutorial used 1 of 5 minutes
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=4))  # 7 of 10 min unused
    attempt.refresh_from_db()
    blocks_left = 1
    # break pool 10 + 4 unused tutorial + 7 unused block
    assert attempt.break_remaining_seconds(t0 + timedelta(minutes=4), blocks_left) == 21 * 60


def test_break_overrun_is_taken_off_the_last_block(attempt, t0):
    attempt = started(attempt, t0)
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=11))  # full block
    # The day ends at t0+35; the examinee comes back from the break 20 minutes later than
    # the 10 + 4 minutes of break they had, at t0 + 31: only 4 minutes of day are left.
    late = t0 + timedelta(minutes=31)
    attempt.refresh_from_db()
    assert attempt.break_remaining_seconds(late, 1) == -6 * 60
    attempt = clock.block_start(attempt=attempt, now=late)
    assert block(attempt, 2).deadline_at == t0 + timedelta(minutes=35)


def test_exam_day_end_closes_everything_and_finishes(attempt, t0):
    attempt = started(attempt, t0)
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=2))
    clock.close_expired_blocks(now=t0 + timedelta(minutes=36))
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.FINISHED
    b2 = block(attempt, 2)
    assert b2.state == AttemptBlock.State.CLOSED
    assert b2.close_reason == AttemptBlock.CloseReason.DAY_ENDED


def test_last_block_end_finishes_the_attempt(attempt, t0):
    attempt = started(attempt, t0)
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=2))
    clock.block_start(attempt=attempt, now=t0 + timedelta(minutes=3))
    attempt = clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=4))
    assert attempt.state == Attempt.State.FINISHED
    assert attempt.finished_at == t0 + timedelta(minutes=4)


def test_duplicate_save_is_idempotent(attempt, t0):
    attempt = started(attempt, t0)
    now = t0 + timedelta(minutes=2)
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=3, choice=2, now=now
    )
    again = answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=3, choice=2, now=now
    )
    assert again.applied == [] and again.stale == ["choice"]
    r = Response.objects.get(block=block(attempt), position=1)
    assert (r.choice, r.change_count) == (2, 0)


def test_stale_save_never_overwrites_a_newer_one(attempt, t0):
    attempt = started(attempt, t0)
    now = t0 + timedelta(minutes=2)
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=7, choice=4, now=now
    )
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=6, choice=1, now=now
    )
    assert Response.objects.get(block=block(attempt), position=1).choice == 4


def test_out_of_order_saves_of_different_fields_both_apply(attempt, t0):
    attempt = started(attempt, t0)
    now = t0 + timedelta(minutes=2)
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=2, seq=11, choice=0, now=now
    )
    answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=2,
        seq=10,
        is_marked=True,
        now=now,
    )
    r = Response.objects.get(block=block(attempt), position=2)
    assert r.choice == 0 and r.is_marked is True


def test_answer_changes_are_counted_and_the_first_choice_kept(attempt, t0):
    attempt = started(attempt, t0)
    now = t0 + timedelta(minutes=2)
    for seq, choice in enumerate([1, 3, 2], start=1):
        answers.answer_save(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=3,
            seq=seq,
            choice=choice,
            now=now,
        )
    r = Response.objects.get(block=block(attempt), position=3)
    assert (r.first_choice, r.choice, r.change_count) == (1, 2, 2)


def test_strikes_highlights_and_notes_are_saved(attempt, t0):
    attempt = started(attempt, t0)
    answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=1,
        seq=1,
        struck=[0, 3],
        highlights=[[2, 9]],
        note="recheck K+",
        now=t0 + timedelta(minutes=2),
    )
    r = Response.objects.get(block=block(attempt), position=1)
    assert (r.struck, r.highlights, r.note) == ([0, 3], [[2, 9]], "recheck K+")


def test_time_per_item_is_measured_by_the_server(attempt, t0):
    attempt = started(attempt, t0)  # on item 1 since t0+1
    answers.item_visit(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=2,
        now=t0 + timedelta(minutes=1, seconds=40),
    )
    answers.item_visit(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=1,
        now=t0 + timedelta(minutes=2),
    )
    times = dict(
        Response.objects.filter(block=block(attempt)).values_list("position", "time_spent_ms")
    )
    assert times[1] == 40_000 and times[2] == 20_000


def test_inactivity_is_reported_and_the_clock_keeps_running(attempt, t0, settings):
    settings.INACTIVITY_WARNING_SECONDS = 300
    attempt = started(attempt, t0)
    quiet = clock.clock_state(attempt=attempt, now=t0 + timedelta(minutes=5))
    idle = clock.clock_state(attempt=attempt, now=t0 + timedelta(minutes=6, seconds=1))
    assert quiet["inactive"] is False
    assert idle["inactive"] is True
    assert idle["block_remaining"] < quiet["block_remaining"]


def test_tutor_mode_locks_an_answer_once_given(examinee, tutor_exam, t0):
    attempt = attempts.attempt_start(user=examinee, exam=tutor_exam, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    assert attempt.block_seconds is None
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=1, choice=1, now=t0
    )
    with pytest.raises(ItemLocked):
        answers.answer_save(
            attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=2, choice=2, now=t0
        )


def test_untimed_blocks_have_no_deadline_and_never_expire(examinee, tutor_exam, t0):
    attempt = attempts.attempt_start(user=examinee, exam=tutor_exam, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    assert clock.close_expired_blocks(now=t0 + timedelta(days=3)) == 0
    assert block(attempt).state == AttemptBlock.State.ACTIVE


def test_double_start_click_starts_one_block(attempt, t0):
    clock.block_start(attempt=attempt, now=t0)
    clock.block_start(attempt=attempt, now=t0 + timedelta(seconds=1))
    assert attempt.blocks.filter(state=AttemptBlock.State.ACTIVE).count() == 1
    assert attempt.blocks.filter(state=AttemptBlock.State.CLOSED).count() == 0


def test_sequential_set_locks_earlier_answers_on_moving_on(examinee, exam, bank, t0):
    from questions.models import ItemSet
    from tests.exams.conftest import make_question

    item_set = ItemSet.objects.create(
        bank=bank, kind=ItemSet.Kind.SEQUENTIAL, external_id="case-1", stimulus_html="<p>Case</p>"
    )
    Response.objects.all().delete()
    for q in bank.questions.all():
        q.delete()
    for n, pos in ((900, 1), (901, 2)):
        make_question(
            bank,
            n,
            discipline="medicine",
            system="cardiovascular",
            item_set=item_set,
            set_position=pos,
        )
    for n in range(8):
        make_question(bank, 1000 + n, discipline="surgery", system="respiratory")
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=t0, rng=random.Random(3))
    set_rows = Response.objects.filter(attempt=attempt, question__item_set=item_set)
    positions = sorted(set_rows.values_list("block__number", "position"))
    assert positions[0][0] == positions[1][0], "a set stays in one block"
    assert positions[1][1] == positions[0][1] + 1, "in order, together"
    attempt = clock.tutorial_end(attempt=attempt, now=t0)
    # start the block holding the set
    for _ in range(positions[0][0] - 1):
        attempt = clock.block_start(attempt=attempt, now=t0)
        attempt = clock.block_end(attempt=attempt, now=t0)
    attempt = clock.block_start(attempt=attempt, now=t0)
    first = positions[0][1]
    answers.item_visit(attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=first, now=t0)
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=first, seq=1, choice=0, now=t0
    )
    answers.item_visit(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=first + 1, now=t0
    )
    with pytest.raises(ItemLocked):
        answers.answer_save(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=first,
            seq=2,
            choice=1,
            now=t0,
        )


def test_proportions_follow_discipline_weights(examinee, instructor, bank, t0):
    from exams.models import Blueprint, Exam

    bp = Blueprint.objects.create(
        slug="t-1x20", name="1x20", block_count=1, items_per_block=20, block_minutes=30
    )
    exam = Exam.objects.create(
        title="Weighted",
        owner=instructor,
        blueprint=bp,
        is_public=True,
        discipline_weights={"medicine": 1, "surgery": 1},
    )
    exam.banks.add(bank)
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=t0, rng=random.Random(5))
    slugs = list(
        Response.objects.filter(attempt=attempt, question__tags__kind="discipline").values_list(
            "question__tags__slug", flat=True
        )
    )
    # 8 medicine and 8 surgery questions exist; both quotas of 10 are short, so the rest is
    # topped up from the other disciplines.
    assert slugs.count("medicine") == 8 and slugs.count("surgery") == 8
    assert len(slugs) == 20


def test_pool_too_small_is_a_clear_error(examinee, instructor, bank, t0):
    from exams.models import Blueprint, Exam

    bp = Blueprint.objects.create(
        slug="t-big", name="big", block_count=4, items_per_block=20, block_minutes=30
    )
    exam = Exam.objects.create(title="Too big", owner=instructor, blueprint=bp, is_public=True)
    exam.banks.add(bank)
    with pytest.raises(ExamError, match="has 40 questions; this exam needs 80"):
        attempts.attempt_start(user=examinee, exam=exam, now=t0)
    assert not Attempt.objects.exists()


def test_practice_block_from_unused_questions_in_tutor_mode(examinee, exam, practice_open, t0):
    attempt = practice.practice_create(
        user=examinee,
        disciplines=["medicine"],
        systems=[],
        pool="unused",
        count=5,
        mode="tutor",
        now=t0,
    )
    assert attempt.kind == Attempt.Kind.PRACTICE
    assert attempt.state == Attempt.State.IN_BLOCK
    qs = Response.objects.filter(attempt=attempt)
    assert qs.count() == 5
    assert set(qs.values_list("question__tags__slug", flat=True)) >= {"medicine"}
    counts = practice.practice_pool_counts(
        user=examinee, disciplines=["medicine"], systems=[], now=t0
    )
    assert counts["unused"] == 8 - 5


def test_practice_pools_incorrect_marked_omitted(examinee, exam, practice_open, t0):
    attempt = practice.practice_create(
        user=examinee, disciplines=[], systems=[], pool="all", count=3, mode="timed", now=t0
    )
    rows = list(
        Response.objects.filter(attempt=attempt).select_related("version").order_by("position")
    )
    answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=1,
        seq=1,
        choice=(rows[0].version.key_index + 1) % 5,
        now=t0,
    )
    answers.answer_save(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=2,
        seq=2,
        choice=rows[1].version.key_index,
        is_marked=True,
        now=t0,
    )
    clock.block_end(attempt=attempt, now=t0 + timedelta(minutes=1))
    counts = practice.practice_pool_counts(user=examinee, disciplines=[], systems=[], now=t0)
    assert (counts["incorrect"], counts["marked"], counts["omitted"]) == (1, 1, 1)


def test_concurrent_saves_from_two_tabs_keep_the_newest(attempt, t0, django_db_blocker):
    # Real row locks are exercised in tests/exams/test_concurrency.py; here, two tabs
    # interleaving sequence numbers on one item end with the highest seq's value.
    attempt = started(attempt, t0)
    now = t0 + timedelta(minutes=2)
    for seq, choice in [(21, 1), (23, 3), (22, 2)]:
        answers.answer_save(
            attempt_uuid=attempt.uuid,
            user_id=attempt.user_id,
            position=4,
            seq=seq,
            choice=choice,
            now=now,
        )
    assert Response.objects.get(block=block(attempt), position=4).choice == 3
    assert connection.vendor == "postgresql"


def test_moving_between_items_counts_as_activity(attempt, t0, settings):
    settings.INACTIVITY_WARNING_SECONDS = 300
    attempt = started(attempt, t0)
    answers.item_visit(
        attempt_uuid=attempt.uuid,
        user_id=attempt.user_id,
        position=2,
        now=t0 + timedelta(minutes=5),
    )
    attempt.refresh_from_db()
    state = clock.clock_state(attempt=attempt, now=t0 + timedelta(minutes=7))
    assert state["inactive"] is False


def test_an_empty_save_after_a_long_pause_counts_as_activity(attempt, t0, settings):
    settings.INACTIVITY_WARNING_SECONDS = 300
    attempt = started(attempt, t0)
    later = t0 + timedelta(minutes=8)
    assert clock.clock_state(attempt=attempt, now=later)["inactive"] is True
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=1, seq=1, now=later
    )
    attempt.refresh_from_db()
    assert clock.clock_state(attempt=attempt, now=later)["inactive"] is False
