"""Instructor services: blueprints, exams, fixed forms, cohorts, assignments, accommodations."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from exams import authoring
from exams.models import Assignment, Blueprint, Cohort, Exam, FixedItem, Membership
from questions.models import Bank, Question, QuestionVersion, Tag

pytestmark = pytest.mark.django_db


def make_question(bank, external_id, *, tags=(), retired=False):
    question = Question.objects.create(bank=bank, external_id=external_id, is_retired=retired)
    version = QuestionVersion.objects.create(
        question=question,
        number=1,
        stem_html=f"<p>{external_id}</p>",
        options=[{"text": "A", "explanation": ""}, {"text": "B", "explanation": ""}],
        key_index=0,
        content_hash="0" * 64,
    )
    question.current_version = version
    question.save(update_fields=["current_version"])
    question.tags.set(tags)
    return question


@pytest.fixture
def preset():
    return Blueprint.objects.create(
        slug="mini", name="Mini", block_count=2, items_per_block=3, block_minutes=10
    )


@pytest.fixture
def bank(instructor):
    bank = Bank.objects.create(slug="b1", name="Bank one")
    bank.owners.add(instructor)
    return bank


@pytest.fixture
def other_bank(other_instructor):
    bank = Bank.objects.create(slug="b2", name="Bank two")
    bank.owners.add(other_instructor)
    return bank


@pytest.fixture
def tag():
    def get(kind, slug):
        return Tag.objects.get_or_create(kind=kind, slug=slug, bank=None, defaults={"name": slug})[
            0
        ]

    return get


@pytest.fixture
def pool(bank, tag):
    """Eight medicine and four surgery questions, half cardiovascular, half respiratory."""
    questions = []
    for i in range(12):
        discipline = "medicine" if i < 8 else "surgery"
        system = "cardiovascular" if i % 2 else "respiratory"
        questions.append(
            make_question(
                bank,
                f"Q{i:02d}",
                tags=[tag("discipline", discipline), tag("system", system)],
            )
        )
    return questions


@pytest.fixture
def exam(instructor, preset, bank, pool):
    return authoring.exam_create(
        owner=instructor,
        title="Mock 1",
        blueprint=preset,
        banks=[bank],
        assembly=Exam.Assembly.FIXED,
        discipline_weights={"medicine": 2, "surgery": 1},
        system_weights={"cardiovascular": 1, "respiratory": 1},
    )


@pytest.fixture
def cohort(instructor):
    return authoring.cohort_create(owner=instructor, name="June group")


# --------------------------------------------------------------------------- blueprints


def test_custom_blueprint_is_owned_and_gets_a_unique_slug(instructor):
    first = authoring.blueprint_create(
        owner=instructor, name="Short day", block_count=2, items_per_block=20, block_minutes=30
    )
    second = authoring.blueprint_create(
        owner=instructor, name="Short day", block_count=3, items_per_block=20, block_minutes=30
    )
    assert first.owner == instructor
    assert first.slug != second.slug
    assert first.day_minutes == 60


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("block_count", 0),
        ("block_count", 41),
        ("items_per_block", 0),
        ("items_per_block", 61),
        ("block_minutes", 0),
        ("block_minutes", 241),
        ("name", "  "),
    ],
)
def test_blueprint_outside_the_limits_is_refused_and_nothing_written(instructor, field, value):
    args = {"name": "B", "block_count": 2, "items_per_block": 10, "block_minutes": 20}
    args[field] = value
    with pytest.raises(ValidationError) as exc:
        authoring.blueprint_create(owner=instructor, **args)
    assert field in exc.value.error_dict
    assert not Blueprint.objects.filter(owner__isnull=False).exists()


def test_examinee_cannot_own_a_blueprint(examinee):
    with pytest.raises(ValidationError):
        authoring.blueprint_create(
            owner=examinee, name="X", block_count=1, items_per_block=1, block_minutes=1
        )
    assert not Blueprint.objects.filter(owner__isnull=False).exists()


# --------------------------------------------------------------------------- exams


def test_exam_create_defaults_to_the_step2ck_outline_weights(instructor, preset, bank):
    from questions import outline

    exam = authoring.exam_create(owner=instructor, title="Mock", blueprint=preset, banks=[bank])
    assert exam.discipline_weights == dict(outline.STEP2CK_DISCIPLINE_WEIGHTS)
    assert exam.system_weights == dict(outline.STEP2CK_SYSTEM_WEIGHTS)
    assert list(exam.banks.all()) == [bank]
    assert (exam.mode, exam.assembly, exam.is_public) == ("timed", "proportions", False)


def test_exam_cannot_use_another_instructors_bank(instructor, preset, bank, other_bank):
    with pytest.raises(ValidationError) as exc:
        authoring.exam_create(
            owner=instructor, title="Mock", blueprint=preset, banks=[bank, other_bank]
        )
    assert "banks" in exc.value.error_dict
    assert Exam.objects.count() == 0


def test_exam_cannot_use_another_instructors_blueprint(instructor, other_instructor, bank):
    theirs = authoring.blueprint_create(
        owner=other_instructor, name="Theirs", block_count=1, items_per_block=5, block_minutes=5
    )
    with pytest.raises(ValidationError) as exc:
        authoring.exam_create(owner=instructor, title="Mock", blueprint=theirs, banks=[bank])
    assert "blueprint" in exc.value.error_dict
    assert Exam.objects.count() == 0


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"medicine": -1}, "zero or more"),
        ({"medicine": "lots"}, "not a number"),
        ({"Not A Slug": 1}, "not a tag slug"),
        ({"medicine": 0, "surgery": 0}, "above zero"),
    ],
)
def test_bad_weights_are_refused(instructor, preset, bank, weights, message):
    with pytest.raises(ValidationError) as exc:
        authoring.exam_create(
            owner=instructor,
            title="Mock",
            blueprint=preset,
            banks=[bank],
            discipline_weights=weights,
            system_weights={},
        )
    assert message in str(exc.value.error_dict["discipline_weights"])
    assert Exam.objects.count() == 0


def test_exam_needs_a_title_a_bank_and_known_modes(instructor, preset):
    with pytest.raises(ValidationError) as exc:
        authoring.exam_create(
            owner=instructor, title="", blueprint=preset, banks=[], mode="speedrun", assembly="x"
        )
    assert {"title", "banks", "mode", "assembly"} <= set(exc.value.error_dict)


def test_apportion_sums_to_the_total_and_follows_the_weights():
    counts = authoring.apportion(40, {"medicine": 60, "surgery": 25, "pediatrics": 22})
    assert sum(counts.values()) == 40
    assert counts["medicine"] > counts["surgery"] > 0
    assert authoring.apportion(5, {"a": 0, "b": 0}) == {"a": 0, "b": 0}


def test_pool_report_counts_active_questions_per_tag_against_the_need(exam, bank, tag):
    make_question(bank, "RETIRED", tags=[tag("discipline", "surgery")], retired=True)
    report = authoring.exam_pool_report(exam=exam)
    assert (report.total_need, report.total_available) == (6, 12)
    by_slug = {r.slug: r for r in report.disciplines}
    assert (by_slug["medicine"].need, by_slug["medicine"].available) == (4, 8)
    assert (by_slug["surgery"].need, by_slug["surgery"].available) == (2, 4)
    assert by_slug["medicine"].status == "ok"


def test_pool_report_flags_a_weighted_area_with_no_questions(exam):
    Exam.objects.filter(pk=exam.pk).update(discipline_weights={"psychiatry": 1, "medicine": 1})
    exam.refresh_from_db()
    rows = {r.slug: r for r in authoring.exam_pool_report(exam=exam).disciplines}
    assert (rows["psychiatry"].need, rows["psychiatry"].available) == (3, 0)
    assert rows["psychiatry"].status == "bad"


# --------------------------------------------------------------------------- fixed forms


def test_fixed_form_set_writes_the_items(exam, pool):
    authoring.fixed_form_set(exam=exam, items=[(1, 1, pool[0]), (1, 2, pool[1]), (2, 1, pool[2])])
    assert list(
        FixedItem.objects.filter(exam=exam).values_list("block_number", "position", "question")
    ) == [(1, 1, pool[0].pk), (1, 2, pool[1].pk), (2, 1, pool[2].pk)]


def test_fixed_form_set_replaces_the_previous_form(exam, pool):
    authoring.fixed_form_set(exam=exam, items=[(1, 1, pool[0])])
    authoring.fixed_form_set(exam=exam, items=[(2, 1, pool[5])])
    assert list(exam.fixed_items.values_list("question", flat=True)) == [pool[5].pk]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other_bank", "not in this exam's banks"),
        ("retired", "is retired"),
        ("repeat", "more than once"),
        ("block", "Block 3 does not exist"),
        ("overfull", "outside 1–3"),
        ("same_slot", "used twice"),
    ],
)
def test_fixed_form_set_refuses_a_bad_form_and_keeps_the_old_one(
    exam, pool, other_bank, bank, case, message
):
    authoring.fixed_form_set(exam=exam, items=[(1, 1, pool[0])])
    items = [(1, 1, pool[1])]
    if case == "other_bank":
        items.append((1, 2, make_question(other_bank, "ELSEWHERE")))
    elif case == "retired":
        items.append((1, 2, make_question(bank, "OLD", retired=True)))
    elif case == "repeat":
        items.append((2, 1, pool[1]))
    elif case == "block":
        items.append((3, 1, pool[2]))
    elif case == "overfull":
        items += [(1, 2, pool[2]), (1, 3, pool[3]), (1, 4, pool[4])]
    elif case == "same_slot":
        items.append((1, 1, pool[2]))
    with pytest.raises(ValidationError) as exc:
        authoring.fixed_form_set(exam=exam, items=items)
    assert message in " ".join(exc.value.messages)
    assert list(exam.fixed_items.values_list("question", flat=True)) == [pool[0].pk]


def test_fixed_form_add_appends_to_a_block_and_remove_closes_the_gap(exam, pool):
    authoring.fixed_form_add(exam=exam, block_number=1, questions=[pool[0], pool[1]])
    authoring.fixed_form_add(exam=exam, block_number=1, questions=[pool[2]])
    assert list(exam.fixed_items.values_list("position", "question")) == [
        (1, pool[0].pk),
        (2, pool[1].pk),
        (3, pool[2].pk),
    ]
    authoring.fixed_form_remove(exam=exam, question=pool[1])
    assert list(exam.fixed_items.values_list("position", "question")) == [
        (1, pool[0].pk),
        (2, pool[2].pk),
    ]


def test_fixed_form_add_past_the_block_size_is_refused(exam, pool):
    authoring.fixed_form_add(exam=exam, block_number=2, questions=pool[:3])
    with pytest.raises(ValidationError):
        authoring.fixed_form_add(exam=exam, block_number=2, questions=[pool[3]])
    assert exam.fixed_items.count() == 3


def test_autofill_fills_every_slot_following_the_proportions(exam):
    items = authoring.fixed_form_autofill(exam=exam, seed=7)
    assert len(items) == 6
    per_block = Counter(i.block_number for i in items)
    assert per_block == {1: 3, 2: 3}
    disciplines = Counter(
        Question.objects.get(pk=i.question_id).tags.get(kind="discipline").slug for i in items
    )
    assert disciplines == {"medicine": 4, "surgery": 2}


def test_autofill_is_repeatable_for_a_seed(exam):
    first = [i.question_id for i in authoring.fixed_form_autofill(exam=exam, seed=3)]
    again = [i.question_id for i in authoring.fixed_form_autofill(exam=exam, seed=3)]
    assert first == again


def test_pool_questions_leave_out_what_the_form_uses(exam, pool):
    authoring.fixed_form_set(exam=exam, items=[(1, 1, pool[0])])
    remaining = authoring.exam_pool_questions(exam=exam)
    assert pool[0] not in remaining
    assert remaining.count() == 11
    assert list(authoring.exam_pool_questions(exam=exam, text="Q05")) == [pool[5]]


# --------------------------------------------------------------------------- cohorts


def test_cohort_add_members_adds_examinees(cohort, examinee, other_examinee):
    result = authoring.cohort_add_members(cohort=cohort, usernames=["ada", " ben ", "ada"])
    assert result.added == [examinee, other_examinee]
    assert result.not_added == 0
    assert set(cohort.members.all()) == {examinee, other_examinee}


def test_unknown_names_and_instructors_are_counted_alike_and_never_added(
    cohort, examinee, other_instructor
):
    unknown = authoring.cohort_add_members(cohort=cohort, usernames=["ghost"])
    instructor = authoring.cohort_add_members(cohort=cohort, usernames=["dr_osei"])
    assert (unknown.added, unknown.not_added) == (instructor.added, instructor.not_added) == ([], 1)
    both = authoring.cohort_add_members(cohort=cohort, usernames=["ada", "ghost", "dr_osei"])
    assert (both.added, both.not_added) == ([examinee], 2)
    assert list(cohort.members.all()) == [examinee]


def test_cohort_needs_an_instructor_and_a_name(examinee, instructor):
    with pytest.raises(ValidationError):
        authoring.cohort_create(owner=examinee, name="X")
    with pytest.raises(ValidationError):
        authoring.cohort_create(owner=instructor, name="   ")
    assert Cohort.objects.count() == 0


def test_remove_member(cohort, examinee, other_examinee):
    authoring.cohort_add_members(cohort=cohort, usernames=["ada", "ben"])
    authoring.cohort_remove_member(cohort=cohort, member=examinee)
    assert list(cohort.members.all()) == [other_examinee]
    with pytest.raises(ValidationError):
        authoring.cohort_remove_member(cohort=cohort, member=examinee)


# --------------------------------------------------------------------------- accommodations


def membership(cohort, user):
    return Membership.objects.get(cohort=cohort, user=user)


def test_accommodation_sets_the_members_time_and_break(cohort, examinee):
    authoring.cohort_add_members(cohort=cohort, usernames=["ada"])
    authoring.accommodation_set(
        cohort=cohort, member=examinee, time_multiplier=Decimal("1.5"), extra_break_minutes=30
    )
    row = membership(cohort, examinee)
    assert (row.time_multiplier, row.extra_break_minutes) == (Decimal("1.50"), 30)


def test_accommodation_stays_with_its_cohort(cohort, examinee, other_instructor):
    other = authoring.cohort_create(owner=other_instructor, name="Elsewhere")
    authoring.cohort_add_members(cohort=cohort, usernames=["ada"])
    authoring.cohort_add_members(cohort=other, usernames=["ada"])
    authoring.accommodation_set(
        cohort=other, member=examinee, time_multiplier=Decimal("3"), extra_break_minutes=240
    )
    row = membership(cohort, examinee)
    assert (row.time_multiplier, row.extra_break_minutes) == (Decimal("1.00"), 0)


@pytest.mark.parametrize(
    ("multiplier", "extra"), [(Decimal("0.9"), 0), (Decimal("3.01"), 0), (Decimal("2"), -5)]
)
def test_accommodation_outside_the_limits_changes_nothing(cohort, examinee, multiplier, extra):
    authoring.cohort_add_members(cohort=cohort, usernames=["ada"])
    with pytest.raises(ValidationError):
        authoring.accommodation_set(
            cohort=cohort, member=examinee, time_multiplier=multiplier, extra_break_minutes=extra
        )
    row = membership(cohort, examinee)
    assert (row.time_multiplier, row.extra_break_minutes) == (Decimal("1.00"), 0)


def test_accommodation_only_for_members_of_the_cohort(cohort, examinee):
    with pytest.raises(ValidationError) as exc:
        authoring.accommodation_set(
            cohort=cohort, member=examinee, time_multiplier=Decimal("2"), extra_break_minutes=0
        )
    assert "member" in exc.value.error_dict
    assert not Membership.objects.filter(user=examinee).exists()


def test_the_database_refuses_an_accommodation_out_of_range(cohort, examinee):
    from django.db import IntegrityError, transaction

    authoring.cohort_add_members(cohort=cohort, usernames=["ada"])
    for values in ({"time_multiplier": Decimal("3.5")}, {"extra_break_minutes": 241}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.filter(cohort=cohort, user=examinee).update(**values)


# --------------------------------------------------------------------------- assignments


def test_assignment_create(exam, cohort, t0):
    assignment = authoring.assignment_create(
        exam=exam, cohort=cohort, opens_at=t0, closes_at=t0 + timedelta(days=3), max_attempts=2
    )
    assert assignment.is_open(t0 + timedelta(hours=1))
    assert not assignment.is_open(t0 + timedelta(days=3))


def test_assignment_window_must_close_after_it_opens(exam, cohort, t0):
    with pytest.raises(ValidationError) as exc:
        authoring.assignment_create(
            exam=exam, cohort=cohort, opens_at=t0, closes_at=t0, max_attempts=1
        )
    assert "closes_at" in exc.value.error_dict
    assert Assignment.objects.count() == 0


def test_assignment_needs_at_least_one_attempt(exam, cohort, t0):
    with pytest.raises(ValidationError):
        authoring.assignment_create(
            exam=exam, cohort=cohort, opens_at=t0, closes_at=t0 + timedelta(1), max_attempts=0
        )
    assert Assignment.objects.count() == 0


def test_assignment_exam_and_cohort_must_share_an_owner(exam, other_instructor, t0):
    theirs = authoring.cohort_create(owner=other_instructor, name="Theirs")
    with pytest.raises(ValidationError) as exc:
        authoring.assignment_create(
            exam=exam, cohort=theirs, opens_at=t0, closes_at=t0 + timedelta(1), max_attempts=1
        )
    assert "cohort" in exc.value.error_dict
    assert Assignment.objects.count() == 0
