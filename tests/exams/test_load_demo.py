"""`manage.py load_demo` against the real database: idempotent, and what it promises exists."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from exams.demo import medqa_overlaid
from exams.models import Blueprint, Exam
from questions import outline
from questions.models import Bank, ItemSet, Question, QuestionVersion, Tag

pytestmark = pytest.mark.django_db


def _load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Bank, Question, QuestionVersion, ItemSet, Tag, Blueprint, Exam)
    } | {"question_tags": Question.tags.through.objects.count()}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """Load once for the module (the import is the slow part); rolled back afterwards."""
    with django_db_blocker.unblock():
        from django.db import transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        output = _load()
        yield output
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def test_loading_twice_duplicates_nothing(loaded):
    before = _counts()
    second = _load()
    assert _counts() == before
    assert "0 new, 0 new versions" in second
    assert "accounts created: none" in second


def test_output_gives_the_demo_credentials_and_url(loaded):
    assert "http://127.0.0.1:8000/" in loaded
    assert "examinee" in loaded and "instructor" in loaded and "mockboard-demo" in loaded


def _logs_in(client, username: str, password: str) -> bool:
    """Through the real login view (the lockout backend needs a request)."""
    client.logout()
    client.post(reverse("accounts:login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


def test_demo_accounts_log_in_with_their_roles(loaded, client):
    assert _logs_in(client, "examinee", "mockboard-demo")
    assert _logs_in(client, "instructor", "mockboard-demo")
    assert User.objects.get(username="examinee").role == User.Role.EXAMINEE
    assert User.objects.get(username="instructor").is_instructor
    assert User.objects.get(username="examinee").first_name == "Demo"


def test_reloading_keeps_a_changed_password(loaded, client):
    user = User.objects.get(username="examinee")
    user.set_password("a-new-secret-9")
    user.save()
    _load()
    assert _logs_in(client, "examinee", "a-new-secret-9")
    assert not _logs_in(client, "examinee", "mockboard-demo")


def test_demo_bank_holds_all_medqa_and_original_questions(loaded):
    bank = Bank.objects.get(slug="demo-step2ck")
    assert bank.name == "Step 2 CK demo bank"
    # Its exams are public, not assigned: the demo examinee may practise from it.
    assert bank.is_open_for_practice
    assert list(bank.owners.values_list("username", flat=True)) == ["instructor"]
    medqa = bank.questions.filter(external_id__startswith="medqa-us-test-")
    originals = bank.questions.filter(external_id__startswith="orig-")
    assert medqa.count() == 594
    assert originals.count() >= 40
    for q in originals.select_related("current_version"):
        assert q.current_version.licence == "CC BY 4.0"


def test_every_active_demo_question_teaches(loaded):
    """An explanation, one per option, and an objective: tutor mode and review need all three."""
    active = Question.objects.filter(bank__slug="demo-step2ck", is_retired=False)
    assert active.count() > 540
    for q in active.select_related("current_version"):
        version = q.current_version
        assert version.explanation_html.strip(), q.external_id
        assert version.objective_html.strip(), q.external_id
        assert all(o["explanation"].strip() for o in version.options), q.external_id


def test_medqa_questions_say_who_wrote_their_explanations(loaded):
    version = Question.objects.get(external_id="medqa-us-test-2").current_version
    assert "written for Mockboard's demo" in version.source
    assert "not reviewed by a physician" in version.source
    assert "CC BY 4.0" in version.licence and "MIT" in version.licence


def test_questions_whose_key_was_questioned_are_retired(loaded):
    retired = set(medqa_overlaid().retired)
    assert (
        set(
            Question.objects.filter(bank__slug="demo-step2ck", is_retired=True).values_list(
                "external_id", flat=True
            )
        )
        == retired
    )


def test_every_demo_question_has_one_outline_discipline_system_and_task(loaded):
    bank = Bank.objects.get(slug="demo-step2ck")
    allowed = {
        "discipline": outline.DISCIPLINE_SLUGS,
        "system": {e.slug for e in outline.SYSTEMS},
        "task": outline.TASK_SLUGS,
    }
    for q in bank.questions.prefetch_related("tags"):
        by_kind: dict[str, list[Tag]] = {}
        for tag in q.tags.all():
            by_kind.setdefault(tag.kind, []).append(tag)
        assert set(by_kind) == set(allowed), q.external_id
        for kind, tags in by_kind.items():
            assert len(tags) == 1, q.external_id
            assert tags[0].bank_id is None and tags[0].slug in allowed[kind]


def test_item_sets_are_imported_in_order(loaded):
    bank = Bank.objects.get(slug="demo-step2ck")
    sets = {s.kind: s for s in bank.item_sets.all()}
    assert {"sequential", "abstract"} <= set(sets)
    sequential = list(sets["sequential"].questions.order_by("set_position"))
    assert [q.set_position for q in sequential] == [1, 2, 3]
    assert "ST-segment elevation" in sets["sequential"].stimulus_html
    assert sets["abstract"].questions.count() == 2


def test_blueprint_presets_exist_with_their_shapes(loaded):
    shapes = {
        b.slug: (b.block_count, b.items_per_block, b.block_minutes, b.break_minutes,
                 b.tutorial_minutes, b.owner_id)
        for b in Blueprint.objects.all()
    }  # fmt: skip
    assert shapes["step2ck-2026"] == (16, 20, 30, 55, 5, None)
    assert shapes["step2ck-2026-sample"] == (6, 20, 30, 55, 5, None)
    assert shapes["step2ck-legacy"] == (8, 40, 60, 45, 15, None)
    assert shapes["self-assessment"] == (4, 40, 60, 45, 0, None)
    assert shapes["demo-4x20"] == (4, 20, 30, 30, 5, None)
    assert shapes["quick-2x10"] == (2, 10, 15, 10, 0, None)


def test_demo_exams_are_public_timed_and_weighted_by_the_outline(loaded):
    instructor = User.objects.get(username="instructor")
    bank = Bank.objects.get(slug="demo-step2ck")
    expected = {
        "Step 2 CK full-length (2026 format)": "step2ck-2026",
        "Step 2 CK sample form: 120 items": "step2ck-2026-sample",
        "Step 2 CK practice exam": "demo-4x20",
        "Quick practice: 2 × 10": "quick-2x10",
    }
    for title, blueprint in expected.items():
        exam = Exam.objects.get(owner=instructor, title=title)
        assert exam.is_public and exam.mode == Exam.Mode.TIMED
        assert exam.assembly == Exam.Assembly.PROPORTIONS
        assert exam.blueprint.slug == blueprint
        assert list(exam.banks.all()) == [bank]
        assert exam.discipline_weights == outline.STEP2CK_DISCIPLINE_WEIGHTS
        assert exam.system_weights == outline.STEP2CK_SYSTEM_WEIGHTS


def test_the_full_length_exam_draws_16_blocks_of_20_distinct_questions(loaded, t0):
    import random

    from exams.drawing import exam_blocks

    exam = Exam.objects.get(title="Step 2 CK full-length (2026 format)")
    for seed in range(3):
        blocks = exam_blocks(exam=exam, rng=random.Random(seed))
        assert [len(b) for b in blocks] == [20] * 16
        ids = [q.pk for b in blocks for q in b]
        assert len(set(ids)) == 320
        assert not Question.objects.filter(pk__in=ids, is_retired=True).exists()
