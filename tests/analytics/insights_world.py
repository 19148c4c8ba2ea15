"""Cohorts for the instructor-insights tests (tests/analytics/test_insights, tests/teach)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from analytics.models import BlockPerformance
from exams.models import Assignment, Attempt, AttemptBlock, Blueprint, Cohort, Exam, Response
from questions.models import Bank, Question, QuestionVersion, Tag

LETTERS = "ABCD"


class Builder:
    """Just enough of an exam history to analyse: no services, rows written directly."""

    def __init__(self, owner, t0, slug="cardio"):
        self.t0 = t0
        self.owner = owner
        self.bank = Bank.objects.create(slug=slug, name=slug.title())
        self.bank.owners.add(owner)
        self.blueprint = Blueprint.objects.create(
            slug=f"bp-{slug}", name="Short", block_count=2, items_per_block=4, block_minutes=60
        )
        self.questions: dict[str, Question] = {}
        self.versions: dict[str, QuestionVersion] = {}

    def question(self, external_id, key, *, bank=None, options=4):
        question = Question.objects.create(bank=bank or self.bank, external_id=external_id)
        version = self.version(question, key, number=1, options=options)
        self.questions[external_id] = question
        return question, version

    def version(self, question, key, *, number, options=4):
        version = QuestionVersion.objects.create(
            question=question,
            number=number,
            stem_html=f"<p>{question.external_id} v{number}</p>",
            options=[{"text": f"Option {LETTERS[i]}"} for i in range(options)],
            key_index=key,
            content_hash=f"{question.external_id}-{number}",
        )
        question.current_version = version
        question.save(update_fields=["current_version"])
        self.versions[question.external_id] = version
        return version

    def exam(self, title="Form A", owner=None):
        exam = Exam.objects.create(title=title, owner=owner or self.owner, blueprint=self.blueprint)
        exam.banks.add(self.bank)
        return exam

    def attempt(self, exam, user, blocks, *, minutes=0, finished=True):
        """``blocks`` is a list of (state, [(external_id, choice or None), ...])."""
        started = self.t0 + timedelta(minutes=minutes)
        attempt = Attempt.objects.create(
            user=user,
            exam=exam,
            title=exam.title if exam else "Practice",
            kind=Attempt.Kind.EXAM if exam else Attempt.Kind.PRACTICE,
            block_count=len(blocks),
            started_at=started,
            last_activity_at=started,
            state=Attempt.State.FINISHED if finished else Attempt.State.IN_BLOCK,
            finished_at=started + timedelta(hours=1) if finished else None,
        )
        for number, (state, answers) in enumerate(blocks, start=1):
            block = AttemptBlock.objects.create(
                attempt=attempt,
                number=number,
                state=state,
                started_at=started,
                closed_at=started + timedelta(minutes=30) if state == "closed" else None,
            )
            for position, (external_id, choice) in enumerate(answers, start=1):
                question = self.questions[external_id]
                Response.objects.create(
                    attempt=attempt,
                    block=block,
                    position=position,
                    question=question,
                    version=self.versions[external_id],
                    choice=choice,
                    time_spent_ms=60_000,
                )
        return attempt


def make_users(django_user_model, names):
    return [
        django_user_model.objects.create_user(username=name, password="x", first_name=name.title())
        for name in names
    ]


# Five examinees on a fixed form of four items, one closed block each. Keys are A, B, C, D.
# Right/wrong:  Q1 Q2 Q3 Q4   total
#   amy          1  1  1  1     4
#   bob          1  1  1  0     3
#   cai          1  1  0  0     2
#   dev          1  0  0  1     2
#   eli          0  0  0  -     0   (Q4 omitted)
FIXED_CHOICES = {
    "amy": [0, 1, 2, 3],
    "bob": [0, 1, 2, 0],
    "cai": [0, 1, 3, 1],
    "dev": [0, 2, 3, 3],
    "eli": [1, 2, 0, None],
}
FIXED_CORRECT = np.array(
    [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 0, 0]], dtype=float
)


@pytest.fixture
def fixed_form(instructor, django_user_model, t0):
    build = Builder(instructor, t0)
    for i, external_id in enumerate(["Q1", "Q2", "Q3", "Q4"]):
        build.question(external_id, key=i)
    exam = build.exam()
    users = make_users(django_user_model, FIXED_CHOICES)
    for minute, (user, choices) in enumerate(zip(users, FIXED_CHOICES.values(), strict=True)):
        answers = list(zip(["Q1", "Q2", "Q3", "Q4"], choices, strict=True))
        build.attempt(exam, user, [("closed", answers)], minutes=minute)
    return build, exam


@pytest.fixture
def cohort_history(instructor, examinee, other_examinee, django_user_model, t0):
    build = Builder(instructor, t0)
    build.question("Q1", key=0)
    build.question("Q2", key=0)
    assigned = build.exam("Assigned")
    elsewhere = build.exam("Not assigned")
    cohort = Cohort.objects.create(owner=instructor, name="Spring")
    cohort.members.add(examinee, other_examinee)
    Assignment.objects.create(
        exam=assigned, cohort=cohort, opens_at=t0, closes_at=t0 + timedelta(days=7)
    )
    (outsider,) = make_users(django_user_model, ["zed"])
    cardio = Tag.objects.create(kind=Tag.Kind.SYSTEM, slug="cardio", name="Cardiovascular")
    surgery = Tag.objects.create(kind=Tag.Kind.DISCIPLINE, slug="surgery", name="Surgery")

    def sit(exam, user, tallies, answers):
        attempt = build.attempt(exam, user, [("closed", answers)])
        block = attempt.blocks.get()
        for tag, (correct, total) in tallies.items():
            BlockPerformance.objects.create(
                block=block, attempt=attempt, tag=tag, correct=correct, total=total, computed_at=t0
            )

    sit(assigned, examinee, {cardio: (1, 4), surgery: (3, 4)}, [("Q1", 0), ("Q2", 1)])
    sit(assigned, other_examinee, {cardio: (2, 4)}, [("Q1", 0), ("Q2", 0)])
    sit(elsewhere, examinee, {cardio: (4, 4)}, [("Q1", 0)])
    sit(assigned, outsider, {cardio: (0, 4)}, [("Q1", 1)])
    return cohort, cardio, surgery
