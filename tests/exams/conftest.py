"""Builders for the exam engine's tests: a small tagged bank and exams on short blueprints."""

from __future__ import annotations

import hashlib
import random

import pytest

from exams import attempts
from exams.models import Blueprint, Exam
from questions.models import Bank, ItemSet, Question, QuestionVersion, Tag

DISCIPLINES = ["medicine", "surgery", "pediatrics", "obstetrics-gynecology", "psychiatry"]
SYSTEMS = ["cardiovascular", "respiratory", "gastrointestinal", "renal-urinary"]


def make_question(
    bank: Bank,
    n: int,
    *,
    discipline: str,
    system: str,
    key: int = 0,
    item_set: ItemSet | None = None,
    set_position: int | None = None,
) -> Question:
    [q] = make_questions(
        bank,
        [(n, discipline, system, key)],
        item_set=item_set,
        set_position=set_position,
    )
    return q


def make_questions(
    bank: Bank,
    specs: list[tuple[int, str, str, int]],
    *,
    item_set: ItemSet | None = None,
    set_position: int | None = None,
) -> list[Question]:
    """Questions (n, discipline, system, key) with one version each, in a few bulk statements:
    many tests start from a 40-question bank."""
    questions = Question.objects.bulk_create(
        Question(bank=bank, external_id=f"q{n}", item_set=item_set, set_position=set_position)
        for n, *_ in specs
    )
    versions = QuestionVersion.objects.bulk_create(
        QuestionVersion(
            question=q,
            number=1,
            stem_html=f"<p>Stem of question {n}: a 54-year-old patient.</p>",
            options=[
                {"text": f"Option {letter} of {n}", "explanation": f"Why {letter} ({n})"}
                for letter in "ABCDE"
            ],
            key_index=key,
            explanation_html=f"<p>SECRET-EXPLANATION-{n}</p>",
            objective_html=f"<p>Objective {n}</p>",
            content_hash=hashlib.sha256(str(n).encode()).hexdigest(),
        )
        for q, (n, _, _, key) in zip(questions, specs, strict=True)
    )
    for q, v in zip(questions, versions, strict=True):
        q.current_version = v
    Question.objects.bulk_update(questions, ["current_version"])
    tags = {}
    for _, discipline, system, _ in specs:
        for kind, slug in ((Tag.Kind.DISCIPLINE, discipline), (Tag.Kind.SYSTEM, system)):
            if (kind, slug) not in tags:
                tags[kind, slug], _ = Tag.objects.get_or_create(
                    kind=kind, slug=slug, bank=None, defaults={"name": slug.title()}
                )
    Question.tags.through.objects.bulk_create(
        Question.tags.through(question=q, tag=tags[kind, slug])
        for q, (_, discipline, system, _) in zip(questions, specs, strict=True)
        for kind, slug in ((Tag.Kind.DISCIPLINE, discipline), (Tag.Kind.SYSTEM, system))
    )
    return questions


@pytest.fixture
def bank(instructor):
    bank = Bank.objects.create(slug="test-bank", name="Test bank")
    bank.owners.add(instructor)
    make_questions(
        bank,
        [
            (n, DISCIPLINES[n % len(DISCIPLINES)], SYSTEMS[n % len(SYSTEMS)], n % 5)
            for n in range(40)
        ],
    )
    return bank


@pytest.fixture
def practice_open(bank):
    """The test bank opened for practice by its owner (banks are exam material by default)."""
    bank.is_open_for_practice = True
    bank.save(update_fields=["is_open_for_practice"])
    return bank


@pytest.fixture
def short_blueprint():
    return Blueprint.objects.create(
        slug="test-2x5",
        name="Test 2 x 5",
        block_count=2,
        items_per_block=5,
        block_minutes=10,
        break_minutes=10,
        tutorial_minutes=5,
    )


@pytest.fixture
def exam(instructor, bank, short_blueprint):
    exam = Exam.objects.create(
        title="Short exam",
        owner=instructor,
        blueprint=short_blueprint,
        is_public=True,
        discipline_weights={
            "medicine": 60,
            "surgery": 25,
            "pediatrics": 20,
            "obstetrics-gynecology": 15,
            "psychiatry": 12,
        },
    )
    exam.banks.add(bank)
    return exam


@pytest.fixture
def tutor_exam(instructor, bank, short_blueprint):
    exam = Exam.objects.create(
        title="Tutor exam",
        owner=instructor,
        blueprint=short_blueprint,
        is_public=True,
        mode=Exam.Mode.TUTOR,
    )
    exam.banks.add(bank)
    return exam


@pytest.fixture
def attempt(examinee, exam, t0):
    return attempts.attempt_start(user=examinee, exam=exam, now=t0, rng=random.Random(1))


@pytest.fixture
def sequential_exam(instructor, short_blueprint):
    """A fixed form whose block 1 is three single items, then a sequential set at 4, 5, 6."""
    from exams.models import FixedItem

    bank = Bank.objects.create(slug="sequential-bank", name="Sequential bank")
    case = ItemSet.objects.create(
        bank=bank, kind=ItemSet.Kind.SEQUENTIAL, external_id="case", stimulus_html="<p>Case</p>"
    )
    singles = [
        make_question(bank, 700 + n, discipline="surgery", system="respiratory") for n in range(5)
    ]
    chain = [
        make_question(
            bank,
            800 + n,
            discipline="medicine",
            system="cardiovascular",
            item_set=case,
            set_position=n + 1,
        )
        for n in range(3)
    ]
    exam = Exam.objects.create(
        title="Sequential",
        owner=instructor,
        blueprint=short_blueprint,
        is_public=True,
        assembly=Exam.Assembly.FIXED,
    )
    exam.banks.add(bank)
    layout = [(1, q) for q in singles[:3] + chain] + [(2, q) for q in singles[3:]]
    slots: dict[int, int] = {}
    for block_number, q in layout:
        slots[block_number] = slots.get(block_number, 0) + 1
        FixedItem.objects.create(
            exam=exam, block_number=block_number, position=slots[block_number], question=q
        )
    return exam
