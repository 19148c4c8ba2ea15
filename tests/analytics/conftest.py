"""Builders for attempts, blocks and responses, made straight with the ORM.

The exam engine is not needed to test analytics: a closed block is just rows in a given state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from exams.models import Attempt, AttemptBlock, Blueprint, Exam, Response
from questions.models import Bank, Question, QuestionVersion, Tag


@dataclass
class Build:
    t0: datetime
    owner: object
    bank: Bank | None = None
    tags: dict[str, Tag] = field(default_factory=dict)
    _questions: int = 0

    def tag(self, kind: str, slug: str) -> Tag:
        key = f"{kind}:{slug}"
        if key not in self.tags:
            self.tags[key] = Tag.objects.create(
                kind=kind, slug=slug, name=slug.replace("-", " ").title()
            )
        return self.tags[key]

    def question(
        self, *, key: int = 0, options: int = 5, tags: tuple[str, ...] = ()
    ) -> QuestionVersion:
        """tags are "kind:slug" strings, e.g. "system:cardiovascular"."""
        if self.bank is None:
            self.bank = Bank.objects.create(slug="test-bank", name="Test bank")
        self._questions += 1
        n = self._questions
        question = Question.objects.create(bank=self.bank, external_id=f"q{n}")
        version = QuestionVersion.objects.create(
            question=question,
            number=1,
            stem_html=f"<p>Stem of question {n}.</p>",
            options=[
                {
                    "text": f"Q{n} option {chr(65 + i)}",
                    "explanation": f"Q{n} why {chr(65 + i)}",
                }
                for i in range(options)
            ],
            key_index=key,
            explanation_html=f"<p>Q{n} secret explanation.</p>",
            objective_html=f"<p>Q{n} educational objective.</p>",
            content_hash=f"{n:064d}",
        )
        question.current_version = version
        question.save(update_fields=["current_version"])
        for spec in tags:
            kind, slug = spec.split(":")
            question.tags.add(self.tag(kind, slug))
        return version

    def exam(self, *, title: str = "Self-assessment 1", mode: str = "timed") -> Exam:
        blueprint, _ = Blueprint.objects.get_or_create(
            slug="test-blueprint",
            defaults={
                "name": "Test",
                "block_count": 2,
                "items_per_block": 5,
                "block_minutes": 60,
            },
        )
        return Exam.objects.create(title=title, owner=self.owner, blueprint=blueprint, mode=mode)

    def attempt(
        self,
        *,
        user,
        exam: Exam | None = None,
        mode: str = "timed",
        finished: bool = True,
        started_at: datetime | None = None,
        block_count: int = 1,
    ) -> Attempt:
        started_at = started_at or self.t0
        return Attempt.objects.create(
            user=user,
            exam=exam,
            kind=Attempt.Kind.EXAM if exam else Attempt.Kind.PRACTICE,
            title=exam.title if exam else "Practice block",
            mode=mode,
            state=Attempt.State.FINISHED if finished else Attempt.State.IN_BLOCK,
            block_count=block_count,
            block_seconds=3600 if mode == "timed" else None,
            started_at=started_at,
            finished_at=started_at + timedelta(hours=1) if finished else None,
            last_activity_at=started_at,
        )

    def block(
        self,
        *,
        attempt: Attempt,
        number: int = 1,
        closed: bool = True,
        analytics_state: str | None = None,
    ) -> AttemptBlock:
        started = attempt.started_at + timedelta(hours=number - 1)
        if analytics_state is None:
            analytics_state = "pending" if closed else "not_due"
        return AttemptBlock.objects.create(
            attempt=attempt,
            number=number,
            state=AttemptBlock.State.CLOSED if closed else AttemptBlock.State.ACTIVE,
            started_at=started,
            deadline_at=started + timedelta(hours=1),
            closed_at=started + timedelta(minutes=50) if closed else None,
            close_reason=AttemptBlock.CloseReason.ENDED if closed else "",
            analytics_state=analytics_state,
        )

    def response(
        self,
        *,
        block: AttemptBlock,
        position: int,
        version: QuestionVersion,
        choice: int | None,
        first_choice: int | None = None,
        time_ms: int = 60_000,
        seconds_left: int | None = 1200,
        marked: bool = False,
        changes: int = 0,
    ) -> Response:
        if first_choice is None:
            first_choice = choice
        return Response.objects.create(
            attempt=block.attempt,
            block=block,
            position=position,
            question=version.question,
            version=version,
            choice=choice,
            first_choice=first_choice,
            change_count=changes or (1 if first_choice != choice else 0),
            is_marked=marked,
            time_spent_ms=time_ms,
            answered_with_seconds_left=seconds_left if choice is not None else None,
            answered_at=block.started_at + timedelta(minutes=position)
            if choice is not None
            else None,
        )

    def closed_block(
        self, *, user, answers: list[tuple[QuestionVersion, int | None]], **attempt_kwargs
    ) -> AttemptBlock:
        """A one-block finished attempt with the given (version, choice) answers."""
        attempt = self.attempt(user=user, **attempt_kwargs)
        block = self.block(attempt=attempt)
        for position, (version, choice) in enumerate(answers, start=1):
            self.response(block=block, position=position, version=version, choice=choice)
        return block


@pytest.fixture
def build(t0, instructor) -> Build:
    return Build(t0=t0, owner=instructor)


def compute_block_and_items(*, block, now):
    """What the worker does for a closed block: its analytics, then the due item statistics."""
    from analytics import services

    services.block_analytics_compute(block=block, now=now)
    services.item_statistics_refresh_due(now=now)


# The insights tests' cohorts live in their own module; importing the fixtures here makes them
# visible to every test module in this folder without importing fixtures into test modules.
from tests.analytics.insights_world import cohort_history, fixed_form  # noqa: E402, F401
