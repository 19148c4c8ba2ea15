"""The authorisation matrix: every URL pattern × every role, with the expected outcome.

A URL added to the project without a row here fails `test_every_url_has_a_row`.

Outcomes:
- "ok": served (2xx, a redirect that is not to the login page, or a 400/409 refusal of an
  empty form — the caller was allowed in);
- "login": redirected to the login page;
- 403 / 404: refused. Other people's objects are 404, so their existence is not revealed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import services as services_accounts
from accounts.models import Invitation, token_digest
from analytics import rescore
from exams import attempts, clock
from exams.models import Assignment, Blueprint, Cohort, Exam
from questions.models import ImportJob, Media
from study.models import Card
from tests.conftest import PASSWORD
from tests.exams.conftest import make_question

ROLES = ("anon", "examinee", "other_examinee", "instructor", "other_instructor")

# Shorthands for the common shapes of rows.
SIGNED_IN = {
    "anon": "login",
    "examinee": "ok",
    "other_examinee": "ok",
    "instructor": "ok",
    "other_instructor": "ok",
}
PUBLIC = dict.fromkeys(ROLES, "ok")
EXAMINEE_OWNS = {
    "anon": "login",
    "examinee": "ok",
    "other_examinee": 404,
    "instructor": 404,
    "other_instructor": 404,
}
INSTRUCTORS = {
    "anon": "login",
    "examinee": 403,
    "other_examinee": 403,
    "instructor": "ok",
    "other_instructor": "ok",
}
INSTRUCTOR_OWNS = {
    "anon": "login",
    "examinee": 403,
    "other_examinee": 403,
    "instructor": "ok",
    "other_instructor": 404,
}


@dataclass(frozen=True)
class Row:
    method: str
    expect: dict
    args: str = ""  # which world object(s) the URL takes
    also_post: bool = False  # a GET form page that also takes its own POST


MATRIX: dict[str, Row] = {
    "home": Row("get", SIGNED_IN),
    "healthz": Row("get", PUBLIC),
    "livez": Row("get", PUBLIC),
    # Only with the METRICS_TOKEN bearer header (tests/scaling/test_operations.py): 404 for all.
    "metrics": Row("get", dict.fromkeys(ROLES, 404)),
    "accounts:login": Row("get", PUBLIC),
    # Signing out always lands on the sign-in page.
    "accounts:logout": Row("post", dict.fromkeys(ROLES, "login")),
    # Links from emails and the join link are for whoever holds them; what they do for each
    # kind of visitor is tested in tests/accounts.
    "accounts:invitation": Row("get", PUBLIC, "invitation_token", also_post=True),
    "accounts:join": Row("get", PUBLIC, "join_code", also_post=True),
    "accounts:password_reset": Row("get", PUBLIC, also_post=True),
    "accounts:password_reset_done": Row("get", PUBLIC),
    "accounts:password_reset_confirm": Row("get", PUBLIC, "reset_link", also_post=True),
    "accounts:password_reset_complete": Row("get", PUBLIC),
    "teach:instructor_home": Row("get", INSTRUCTORS),
    "teach:bank_list": Row("get", INSTRUCTORS),
    "teach:bank_create": Row("get", INSTRUCTORS, also_post=True),
    "teach:bank_detail": Row("get", INSTRUCTOR_OWNS, "bank"),
    "teach:bank_practice": Row("post", INSTRUCTOR_OWNS, "bank"),
    "teach:bank_export": Row("get", INSTRUCTOR_OWNS, "bank"),
    "teach:upload": Row("get", INSTRUCTOR_OWNS, "bank", also_post=True),
    "teach:upload_confirm": Row("post", INSTRUCTOR_OWNS, "bank"),
    "teach:upload_map": Row("post", INSTRUCTOR_OWNS, "bank"),
    "teach:import_job": Row("get", INSTRUCTOR_OWNS, "job"),
    "teach:question_detail": Row("get", INSTRUCTOR_OWNS, "question"),
    "teach:question_retire": Row("post", INSTRUCTOR_OWNS, "question"),
    "teach:question_version": Row("get", INSTRUCTOR_OWNS, "question_version"),
    "teach:question_edit": Row("get", INSTRUCTOR_OWNS, "question", also_post=True),
    "teach:key_fix": Row("get", INSTRUCTOR_OWNS, "question", also_post=True),
    "teach:key_change": Row("get", INSTRUCTOR_OWNS, "key_change"),
    # The bank's owner, and examinees shown a question that uses the file (the examinee's
    # attempt holds every question of the world's bank).
    "questions:media": Row(
        "get",
        {
            "anon": "login",
            "examinee": "ok",
            "other_examinee": 404,
            "instructor": "ok",
            "other_instructor": 404,
        },
        "media",
    ),
    "exams:examinee_home": Row("get", SIGNED_IN),
    "exams:lab_values": Row("get", SIGNED_IN),
    # Each user's own zone: nobody else's to read or change.
    "exams:time_zone": Row("get", SIGNED_IN, also_post=True),
    "exams:practice_new": Row("get", SIGNED_IN),
    "exams:practice_create": Row("post", SIGNED_IN),
    # Assigned to the examinee's cohort only.
    "exams:exam_start": Row(
        "post",
        {
            "anon": "login",
            "examinee": "ok",
            "other_examinee": 404,
            "instructor": 404,
            "other_instructor": 404,
        },
        "exam",
    ),
    "exams:attempt": Row("get", EXAMINEE_OWNS, "attempt"),
    "exams:clock": Row("get", EXAMINEE_OWNS, "attempt"),
    "exams:tutorial_end": Row("post", EXAMINEE_OWNS, "attempt"),
    "exams:block_start": Row("post", EXAMINEE_OWNS, "attempt"),
    "exams:block_end": Row("get", EXAMINEE_OWNS, "attempt", also_post=True),
    "exams:exam_suspend": Row("post", EXAMINEE_OWNS, "attempt"),
    "exams:exam_end": Row("get", EXAMINEE_OWNS, "attempt", also_post=True),
    "exams:review_screen": Row("get", EXAMINEE_OWNS, "attempt"),
    "exams:block_items": Row("get", EXAMINEE_OWNS, "attempt"),
    "exams:item": Row("get", EXAMINEE_OWNS, "attempt_item"),
    "exams:save": Row("post", EXAMINEE_OWNS, "attempt_item"),
    "exams:visit": Row("post", EXAMINEE_OWNS, "attempt_item"),
    "teach:exam_stats": Row("get", INSTRUCTOR_OWNS, "exam"),
    "teach:exam_items_csv": Row("get", INSTRUCTOR_OWNS, "exam"),
    "teach:exam_attempts_csv": Row("get", INSTRUCTOR_OWNS, "exam"),
    "teach:exam_items_xlsx": Row("get", INSTRUCTOR_OWNS, "exam"),
    "teach:exam_attempts_xlsx": Row("get", INSTRUCTOR_OWNS, "exam"),
    "teach:bank_items_csv": Row("get", INSTRUCTOR_OWNS, "bank"),
    "teach:bank_items_xlsx": Row("get", INSTRUCTOR_OWNS, "bank"),
    "teach:cohort_items_csv": Row("get", INSTRUCTOR_OWNS, "cohort"),
    "teach:cohort_items_xlsx": Row("get", INSTRUCTOR_OWNS, "cohort"),
    "teach:bank_stats": Row("get", INSTRUCTOR_OWNS, "bank"),
    "teach:cohort_stats": Row("get", INSTRUCTOR_OWNS, "cohort"),
    "teach:exam_list": Row("get", INSTRUCTORS),
    "teach:exam_create": Row("get", INSTRUCTORS, also_post=True),
    "teach:exam_detail": Row("get", INSTRUCTOR_OWNS, "exam"),
    "teach:fixed_form_edit": Row("post", INSTRUCTOR_OWNS, "exam"),
    "teach:fixed_form_autofill": Row("post", INSTRUCTOR_OWNS, "exam"),
    "teach:blueprint_create": Row("get", INSTRUCTORS, also_post=True),
    "teach:cohort_list": Row("get", INSTRUCTORS),
    "teach:cohort_create": Row("get", INSTRUCTORS, also_post=True),
    "teach:cohort_detail": Row("get", INSTRUCTOR_OWNS, "cohort"),
    "teach:cohort_members_add": Row("post", INSTRUCTOR_OWNS, "cohort"),
    "teach:cohort_member_remove": Row("post", INSTRUCTOR_OWNS, "cohort"),
    "teach:cohort_accommodation": Row("post", INSTRUCTOR_OWNS, "cohort"),
    "teach:cohort_member_edit": Row("get", INSTRUCTOR_OWNS, "cohort_member", also_post=True),
    "teach:cohort_invite": Row("post", INSTRUCTOR_OWNS, "cohort"),
    "teach:cohort_join_link": Row("post", INSTRUCTOR_OWNS, "cohort"),
    "teach:assignment_create": Row("get", INSTRUCTORS, also_post=True),
    "teach:exam_edit": Row("get", INSTRUCTOR_OWNS, "exam", also_post=True),
    "teach:exam_archive": Row("post", INSTRUCTOR_OWNS, "exam"),
    "teach:exam_delete": Row("post", INSTRUCTOR_OWNS, "exam"),
    "teach:gradebook": Row("get", INSTRUCTOR_OWNS, "exam"),
    "teach:blueprint_edit": Row("get", INSTRUCTOR_OWNS, "blueprint", also_post=True),
    "teach:blueprint_delete": Row("post", INSTRUCTOR_OWNS, "blueprint"),
    "teach:cohort_edit": Row("get", INSTRUCTOR_OWNS, "cohort", also_post=True),
    "teach:cohort_archive": Row("post", INSTRUCTOR_OWNS, "cohort"),
    "teach:cohort_delete": Row("post", INSTRUCTOR_OWNS, "cohort"),
    "teach:assignment_edit": Row("get", INSTRUCTOR_OWNS, "assignment", also_post=True),
    "teach:assignment_remove": Row("post", INSTRUCTOR_OWNS, "assignment"),
    "teach:assignment_override": Row("get", INSTRUCTOR_OWNS, "assignment", also_post=True),
    "analytics:progress": Row("get", SIGNED_IN),
    "analytics:attempt_review": Row("get", EXAMINEE_OWNS, "attempt"),
    "analytics:block_review": Row("get", EXAMINEE_OWNS, "attempt_block"),
    "analytics:score_report": Row("get", EXAMINEE_OWNS, "attempt"),
    # Study pages show the signed-in user's own cards, notes and plan (empty for others).
    "study:home": Row("get", SIGNED_IN),
    "study:review": Row("get", SIGNED_IN),
    "study:card_answer": Row("post", EXAMINEE_OWNS, "card"),
    "study:card_rate": Row("post", EXAMINEE_OWNS, "card"),
    "study:card_add": Row("post", EXAMINEE_OWNS, "attempt_block_item"),
    "study:note_save": Row("post", EXAMINEE_OWNS, "attempt_block_item"),
    "study:anki_export": Row("post", SIGNED_IN),
    "study:notebook": Row("get", SIGNED_IN),
    "study:notebook_markdown": Row("get", SIGNED_IN),
    "study:plan": Row("get", SIGNED_IN, also_post=True),
    "study:plan_ics": Row("get", SIGNED_IN),
    "study:cohort_study": Row("get", INSTRUCTOR_OWNS, "cohort"),
}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=None):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue  # Django's admin guards itself (staff only); tested below
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_has_a_row():
    assert url_names() == set(MATRIX), (
        "URLs without a row: "
        + ", ".join(sorted(url_names() - set(MATRIX)))
        + " | rows without a URL: "
        + ", ".join(sorted(set(MATRIX) - url_names()))
    )


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Built once for the module (some 300 tests read it) inside a transaction rolled back
    after the last one, as Django's TestCase.setUpTestData does; each test runs in a savepoint
    inside it, so a POST that changes the world is undone before the next test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(_world, db):
    return _world


def _build_world() -> dict:
    from questions.models import Bank

    user_model = get_user_model()
    examinee, other_examinee, instructor, other_instructor = (
        user_model.objects.create_user(username=name, password=PASSWORD, role=role)
        for name, role in (
            ("ada", "examinee"),
            ("ben", "examinee"),
            ("dr_ito", "instructor"),
            ("dr_osei", "instructor"),
        )
    )
    bank = Bank.objects.create(slug="matrix", name="Matrix bank")
    bank.owners.add(instructor)
    other_bank = Bank.objects.create(slug="other", name="Other bank")
    other_bank.owners.add(other_instructor)
    questions = [
        make_question(bank, n, discipline="medicine", system="cardiovascular") for n in range(6)
    ]
    blueprint = Blueprint.objects.create(
        slug="m-2x3", name="2x3", block_count=2, items_per_block=3, block_minutes=10
    )
    exam = Exam.objects.create(title="Matrix exam", owner=instructor, blueprint=blueprint)
    exam.banks.add(bank)
    cohort = Cohort.objects.create(owner=instructor, name="Cohort")
    cohort.members.add(examinee)
    now = timezone.now()
    own_blueprint = Blueprint.objects.create(
        slug="m-own",
        name="Own",
        block_count=1,
        items_per_block=1,
        block_minutes=1,
        owner=instructor,
    )
    assignment = Assignment.objects.create(
        exam=exam,
        cohort=cohort,
        opens_at=now - timezone.timedelta(days=1),
        closes_at=now + timezone.timedelta(days=1),
        max_attempts=5,
    )
    attempt = attempts.attempt_start(user=examinee, exam=exam, now=now, rng=random.Random(3))
    clock.block_start(attempt=attempt, now=now)
    clock.block_end(attempt=attempt, now=now)
    attempt = clock.block_start(attempt=attempt, now=now)
    media = Media(bank=bank, original_name="x.png", content_type="image/png", sha256="0" * 64)
    media.file.save("x.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    for question in questions:
        question.current_version.media.add(media)
    # A card on a question of a bank no exam uses: its key may be shown to the examinee.
    study_bank = Bank.objects.create(slug="matrix-study", name="Study bank")
    card = Card.objects.create(
        user=examinee,
        question=make_question(study_bank, 99, discipline="medicine", system="renal-urinary"),
        reason=Card.Reason.ADDED,
        due_at=now,
        created_at=now,
    )
    rekeyed = questions[5].current_version
    key_change = rescore.key_change_apply(
        question=questions[5],
        key_index=(rekeyed.key_index + 1) % len(rekeyed.options),
        is_voided=False,
        based_on=rekeyed,
        actor=instructor,
        now=now,
    )
    job = ImportJob(bank=bank, owner=instructor, filename="a.json", created_at=now)
    job.upload.save("a.json", ContentFile(b"[]"), save=True)
    Invitation.objects.create(
        cohort=cohort,
        email="new@example.org",
        base_url="http://testserver",
        created_at=now,
        sent_at=now,
        expires_at=now + timezone.timedelta(days=1),
        token_hash=token_digest("matrix-invitation-token"),
    )
    join_link = services_accounts.join_link_set(cohort=cohort, action="enable", now=now)
    users = {
        "examinee": examinee,
        "other_examinee": other_examinee,
        "instructor": instructor,
        "other_instructor": other_instructor,
    }
    return {
        "users": users,
        "bank": [bank.uuid],
        "job": [job.uuid],
        "key_change": [key_change.uuid],
        "question_version": [questions[0].uuid, 1],
        "question": [questions[0].uuid],
        "media": [media.uuid],
        "exam": [exam.uuid],
        "cohort": [cohort.uuid],
        "cohort_member": [cohort.uuid, examinee.pk],
        "assignment": [assignment.uuid],
        "blueprint": [own_blueprint.uuid],
        "attempt": [attempt.uuid],
        "attempt_item": [attempt.uuid, 1],
        "attempt_block": [attempt.uuid, 1],
        "attempt_block_item": [attempt.uuid, 1, 1],
        "card": [card.uuid],
        "invitation_token": ["matrix-invitation-token"],
        "join_code": [join_link.code],
        "reset_link": [urlsafe_base64_encode(force_bytes(examinee.pk)), "not-a-token"],
        "": [],
    }


def classify(response) -> str | int:
    if response.status_code in (301, 302):
        location = response["Location"]
        return "login" if location.startswith(reverse("accounts:login")) else "ok"
    if response.status_code in (403, 404, 405):
        return response.status_code
    if response.status_code >= 500:
        return response.status_code
    return "ok"  # 200, 400 (empty form refused after the permission check), 409, 429


def client_for(world, role: str, **kwargs) -> Client:
    client = Client(**kwargs)
    if role != "anon":
        client.force_login(world["users"][role])
    return client


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(world, name):
    # One world per URL, every role against it: the roles only read, or are refused, except
    # the owner's own POST, which runs last.
    row = MATRIX[name]
    url = reverse(name, args=world[row.args])
    got = {}
    for role in sorted(ROLES, key=lambda r: row.expect[r] == "ok"):
        got[role] = classify(getattr(client_for(world, role), row.method)(url))
    assert got == row.expect, f"{row.method.upper()} {url}"


def owner_of(row: Row) -> str:
    for role in ("instructor", "examinee"):
        if row.expect[role] == "ok":
            return role
    return "examinee"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_wrong_method_is_405(world, name):
    row = MATRIX[name]
    url = reverse(name, args=world[row.args])
    client = client_for(world, owner_of(row))
    wrong = "put" if row.method == "post" or row.also_post else "post"
    if name == "accounts:login":
        wrong = "put"
    if name == "accounts:logout":
        wrong = "get"  # Django signs out on POST only
    assert getattr(client, wrong)(url).status_code == 405, f"{wrong.upper()} {url}"


POSTS = sorted(n for n, r in MATRIX.items() if r.method == "post" and n != "accounts:logout")


@pytest.mark.parametrize("name", POSTS)
def test_csrf_is_enforced_on_state_changing_endpoints(world, name):
    row = MATRIX[name]
    client = client_for(world, owner_of(row), enforce_csrf_checks=True)
    response = client.post(reverse(name, args=world[row.args]))
    assert response.status_code == 403


def test_admin_is_for_staff_only(world):
    for role in ("examinee", "instructor"):
        response = client_for(world, role).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    staff = get_user_model().objects.create_user(
        username="root", password="x", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
