"""Key exposure (exams/exposure.py): no path shows an examinee the key, explanation or peer
statistics of a question that sits in an open block of theirs, or in an exam assigned to them
that they have not finished; and one exam has at most one open attempt per examinee.

Every test here drives the real views and scans what reached the browser.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from exams import answers, attempts, clock, exposure, practice
from exams.models import Assignment, Attempt, Blueprint, Cohort, Exam, FixedItem, Response
from questions.models import Bank, Question
from tests.exams.conftest import make_question

pytestmark = pytest.mark.django_db


def secrets_of(question_ids) -> list[str]:
    """What must not reach the examinee: explanations, objectives, per-option explanations."""
    found = []
    for q in Question.objects.filter(id__in=list(question_ids)).select_related("current_version"):
        v = q.current_version
        found.append(v.explanation_html)
        found.append(v.objective_html)
        found.extend(o["explanation"] for o in v.options)
    return found


def assert_no_secret(bodies: list[str], question_ids) -> None:
    everything = "\n".join(bodies)
    for secret in secrets_of(question_ids):
        assert secret not in everything, secret


def open_exam_block(user, exam, now) -> Attempt:
    attempt = attempts.attempt_start(user=user, exam=exam, now=now, rng=random.Random(3))
    clock.tutorial_end(attempt=attempt, now=now)
    return clock.block_start(attempt=attempt, now=now)


def open_block_question_ids(attempt: Attempt) -> set[int]:
    return set(
        Response.objects.filter(attempt=attempt, block__state="active").values_list(
            "question_id", flat=True
        )
    )


def answer_and_read_practice(client, attempt: Attempt) -> list[str]:
    """Answer every item of a practice block through the views; every page it shows."""
    bodies = []
    count = Response.objects.filter(attempt=attempt).count()
    for pos in range(1, count + 1):
        client.post(
            reverse("exams:save", args=[attempt.uuid, pos]),
            {"seq": pos, "choice": 0},
            HTTP_ACCEPT="application/json",
        )
        bodies.append(client.get(reverse("exams:item", args=[attempt.uuid, pos])).content.decode())
        bodies.append(
            client.get(
                reverse("analytics:block_review", args=[attempt.uuid, 1]), {"item": pos}
            ).content.decode()
        )
    return bodies


# --- finding 1: practice pools while a timed block is open -------------------------------------


@pytest.mark.parametrize("pool", ["marked", "all", "unused", "incorrect", "omitted"])
@pytest.mark.parametrize("mode", ["tutor", "timed"])
def test_practice_from_any_pool_never_holds_a_question_of_an_open_timed_block(
    examinee, examinee_client, exam, practice_open, pool, mode
):
    now = timezone.now()
    # An earlier practice block of the whole bank answered half the questions wrong and left
    # the other half out: every question is in the "incorrect" or the "omitted" pool.
    earlier = practice.practice_create(
        user=examinee, disciplines=[], systems=[], pool="all", count=40, mode="timed", now=now
    )
    for r in Response.objects.filter(attempt=earlier).select_related("version"):
        if r.question_id % 2:
            continue
        answers.answer_save(
            attempt_uuid=earlier.uuid,
            user_id=earlier.user_id,
            position=r.position,
            seq=r.position,
            choice=(r.version.key_index + 1) % 5,
            now=now,
        )
    clock.block_end(attempt=earlier, now=now)
    live = open_exam_block(examinee, exam, now)
    held = open_block_question_ids(live)
    for pos in range(1, 6):
        answers.answer_save(
            attempt_uuid=live.uuid,
            user_id=live.user_id,
            position=pos,
            seq=100 + pos,
            is_marked=True,
            now=now,
        )

    page = examinee_client.get(reverse("exams:practice_new"))
    examinee_client.post(
        reverse("exams:practice_create"),
        {"pool": pool, "count": 40, "mode": mode},
        follow=True,
    )

    blocks = Attempt.objects.filter(user=examinee, kind="practice").exclude(pk=earlier.pk)
    drawn = set(Response.objects.filter(attempt__in=blocks).values_list("question_id", flat=True))
    assert not drawn & held
    bodies = [page.content.decode()]
    for attempt in blocks:
        bodies += answer_and_read_practice(examinee_client, attempt)
    assert_no_secret(bodies, held)


def test_pool_counts_leave_out_the_open_blocks_questions(examinee, exam, practice_open):
    now = timezone.now()
    live = open_exam_block(examinee, exam, now)
    for pos in range(1, 6):
        answers.answer_save(
            attempt_uuid=live.uuid,
            user_id=live.user_id,
            position=pos,
            seq=pos,
            is_marked=True,
            now=now,
        )

    counts = practice.practice_pool_counts(user=examinee, disciplines=[], systems=[], now=now)

    # 40 in the bank, 10 drawn for the open attempt (block 1 open, block 2 still to come).
    assert counts["marked"] == 0
    assert counts["all"] == 30
    assert counts["unused"] == 30


# --- banks behind assigned exams ----------------------------------------------------------------


@pytest.fixture
def assigned_exam(instructor, examinee, short_blueprint):
    """A private exam assigned to the examinee's cohort, open now, not yet started."""
    bank = Bank.objects.create(slug="assigned-bank", name="Assigned bank")
    bank.owners.add(instructor)
    for n in range(100, 120):
        make_question(bank, n, discipline="medicine", system="cardiovascular", key=n % 5)
    exam = Exam.objects.create(
        title="Assigned exam", owner=instructor, blueprint=short_blueprint, is_public=False
    )
    exam.banks.add(bank)
    cohort = Cohort.objects.create(owner=instructor, name="Cohort")
    cohort.members.add(examinee)
    now = timezone.now()
    Assignment.objects.create(
        exam=exam,
        cohort=cohort,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
        max_attempts=2,
    )
    return exam


@pytest.mark.parametrize("is_open_for_practice", [False, True])
@pytest.mark.parametrize("pool", ["all", "unused"])
def test_assigned_exam_not_started_is_no_practice_material(
    examinee, examinee_client, assigned_exam, pool, is_open_for_practice
):
    bank = assigned_exam.banks.get()
    bank.is_open_for_practice = is_open_for_practice
    bank.save(update_fields=["is_open_for_practice"])
    secret_ids = set(bank.questions.values_list("id", flat=True))

    examinee_client.post(
        reverse("exams:practice_create"), {"pool": pool, "count": 10, "mode": "tutor"}, follow=True
    )

    blocks = Attempt.objects.filter(user=examinee, kind="practice")
    assert not Response.objects.filter(attempt__in=blocks, question_id__in=secret_ids).exists()
    bodies = []
    for attempt in blocks:
        bodies += answer_and_read_practice(examinee_client, attempt)
    assert_no_secret(bodies, secret_ids)


def test_a_bank_opened_for_practice_serves_once_the_assigned_exam_is_finished(
    examinee, assigned_exam
):
    now = timezone.now()
    bank = assigned_exam.banks.get()
    bank.is_open_for_practice = True
    bank.save(update_fields=["is_open_for_practice"])
    attempt = open_exam_block(examinee, assigned_exam, now)
    clock.block_end(attempt=attempt, now=now)
    attempt = clock.block_start(attempt=attempt, now=now)
    clock.block_end(attempt=attempt, now=now)
    assert Attempt.objects.get(pk=attempt.pk).is_finished

    counts = practice.practice_pool_counts(user=examinee, disciplines=[], systems=[], now=now)

    assert counts["all"] == 20


def test_a_bank_closed_for_practice_is_not_drawn_from(examinee, exam):
    counts = practice.practice_pool_counts(
        user=examinee, disciplines=[], systems=[], now=timezone.now()
    )
    assert counts["all"] == 0


# --- tutor mode ---------------------------------------------------------------------------------


def test_tutor_feedback_is_withheld_while_a_timed_block_holds_the_question(
    examinee, examinee_client, exam, practice_open
):
    now = timezone.now()
    # The tutor block was built first (nothing was open), then the timed exam drew from it.
    tutor = practice.practice_create(
        user=examinee, disciplines=[], systems=[], pool="all", count=40, mode="tutor", now=now
    )
    live = open_exam_block(examinee, exam, now)
    held = open_block_question_ids(live)

    bodies = answer_and_read_practice(examinee_client, tutor)

    assert_no_secret(bodies, held)
    assert exposure.HIDDEN_NOTE in "".join(bodies)
    # Positive control: the tutor block's other questions show their explanation.
    free = set(Response.objects.filter(attempt=tutor).values_list("question_id", flat=True))
    free -= set(Response.objects.filter(attempt=live).values_list("question_id", flat=True))
    shown = secrets_of(free)
    assert sum(1 for s in shown if s in "".join(bodies)) >= len(free)


# --- finding 4: one open attempt per exam; review while another block is open -----------------


@pytest.fixture
def fixed_exam(instructor, bank):
    """A public one-block fixed form: every attempt holds the same five questions."""
    blueprint = Blueprint.objects.create(
        slug="test-1x5",
        name="Test 1 x 5",
        block_count=1,
        items_per_block=5,
        block_minutes=10,
        break_minutes=0,
        tutorial_minutes=0,
    )
    exam = Exam.objects.create(
        title="Fixed exam",
        owner=instructor,
        blueprint=blueprint,
        is_public=True,
        assembly=Exam.Assembly.FIXED,
    )
    exam.banks.add(bank)
    for pos, q in enumerate(bank.questions.order_by("external_id")[:5], start=1):
        FixedItem.objects.create(exam=exam, block_number=1, position=pos, question=q)
    return exam


def test_starting_again_resumes_the_open_attempt(examinee, examinee_client, exam):
    url = reverse("exams:exam_start", args=[exam.uuid])

    first = examinee_client.post(url)
    second = examinee_client.post(url)

    assert first["Location"] == second["Location"]
    assert Attempt.objects.filter(user=examinee, exam=exam).count() == 1


def test_the_database_refuses_a_second_open_attempt(examinee, exam, t0):
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=t0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(
            user=examinee,
            exam=exam,
            title=exam.title,
            block_count=2,
            started_at=t0,
            last_activity_at=t0,
        )
    assert attempts.attempt_start(user=examinee, exam=exam, now=t0) == attempt


def test_a_finished_attempt_allows_a_new_one(examinee, fixed_exam):
    now = timezone.now()
    first = attempts.attempt_start(user=examinee, exam=fixed_exam, now=now)
    first = clock.block_start(attempt=first, now=now)
    clock.block_end(attempt=first, now=now)

    second = attempts.attempt_start(user=examinee, exam=fixed_exam, now=now)

    assert second.pk != first.pk


def test_review_of_a_finished_attempt_hides_what_an_open_block_holds(
    examinee, examinee_client, fixed_exam
):
    now = timezone.now()
    first = clock.block_start(
        attempt=attempts.attempt_start(user=examinee, exam=fixed_exam, now=now), now=now
    )
    for pos in range(1, 6):
        answers.answer_save(
            attempt_uuid=first.uuid, user_id=first.user_id, position=pos, seq=pos, choice=1, now=now
        )
    clock.block_end(attempt=first, now=now)
    review = reverse("analytics:block_review", args=[first.uuid, 1])
    # Positive control: with nothing open the review shows the explanations.
    before = examinee_client.get(review, {"item": 1}).content.decode()
    assert "SECRET-EXPLANATION" in before
    second = clock.block_start(
        attempt=attempts.attempt_start(user=examinee, exam=fixed_exam, now=now), now=now
    )
    held = open_block_question_ids(second)
    assert len(held) == 5

    bodies = [examinee_client.get(review, {"item": pos}).content.decode() for pos in range(1, 6)]
    bodies.append(examinee_client.get(review, HTTP_HX_REQUEST="true").content.decode())
    bodies.append(
        examinee_client.get(reverse("analytics:attempt_review", args=[first.uuid])).content.decode()
    )
    bodies.append(
        examinee_client.get(reverse("analytics:score_report", args=[first.uuid])).content.decode()
    )

    assert_no_secret(bodies, held)
    assert "Correct answer" not in "".join(bodies[:5])
    assert all(exposure.HIDDEN_NOTE in body for body in bodies[:5])


def test_a_new_version_does_not_bypass_the_rule(examinee, fixed_exam):
    now = timezone.now()
    live = clock.block_start(
        attempt=attempts.attempt_start(user=examinee, exam=fixed_exam, now=now), now=now
    )
    response = Response.objects.select_related("version").get(attempt=live, position=1)
    old = response.version
    new = type(old).objects.create(
        question_id=old.question_id,
        number=2,
        stem_html=old.stem_html,
        options=old.options,
        key_index=old.key_index,
        explanation_html="<p>NEW VERSION EXPLANATION</p>",
        content_hash="f" * 64,
    )
    Question.objects.filter(pk=old.question_id).update(current_version=new)

    assert not exposure.may_see_key(user=examinee, question_id=old.question_id, now=now)


def test_an_open_attempt_whose_day_is_over_is_finished_and_a_new_one_starts(examinee, exam, t0):
    first = attempts.attempt_start(user=examinee, exam=exam, now=t0)

    second = attempts.attempt_start(user=examinee, exam=exam, now=t0 + timedelta(days=1))

    assert second.pk != first.pk
    assert Attempt.objects.get(pk=first.pk).is_finished
