"""Media is served only to users who may see a question that uses it."""

from __future__ import annotations

import random

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from exams import practice
from exams.models import Blueprint, Exam
from questions.models import Bank, Media
from tests.exams.conftest import make_question

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bank(instructor):
    bank = Bank.objects.create(slug="media-bank", name="Media bank", is_open_for_practice=True)
    bank.owners.add(instructor)
    return bank


@pytest.fixture
def media(bank):
    item = Media(bank=bank, original_name="ecg.png", content_type="image/png", sha256="a" * 64)
    item.file.save("ecg.png", ContentFile(PNG), save=True)
    for n in range(3):
        question = make_question(bank, n, discipline="medicine", system="cardiovascular")
        question.current_version.media.add(item)
    return item


@pytest.fixture
def practising_examinee(examinee, instructor, bank, media):
    blueprint = Blueprint.objects.create(
        slug="media-1x3", name="1x3", block_count=1, items_per_block=3, block_minutes=10
    )
    exam = Exam.objects.create(
        title="Open exam", owner=instructor, blueprint=blueprint, is_public=True
    )
    exam.banks.add(bank)
    practice.practice_create(
        user=examinee,
        disciplines=[],
        systems=[],
        pool="all",
        count=3,
        mode="tutor",
        now=timezone.now(),
        rng=random.Random(1),
    )
    return examinee


def get(client, user, media):
    if user is not None:
        client.force_login(user)
    return client.get(reverse("questions:media", args=[media.uuid]))


def test_the_banks_owner_gets_the_media(client, instructor, media):
    response = get(client, instructor, media)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_an_examinee_with_the_question_in_an_attempt_gets_the_media(
    client, practising_examinee, media
):
    response = get(client, practising_examinee, media)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_anonymous_users_are_sent_to_sign_in(client, media):
    response = get(client, None, media)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_another_examinee_gets_404(client, practising_examinee, other_examinee, media):
    assert get(client, other_examinee, media).status_code == 404


def test_an_examinee_without_an_attempt_gets_404(client, examinee, media):
    assert get(client, examinee, media).status_code == 404


def test_another_instructor_gets_404(client, other_instructor, media):
    assert get(client, other_instructor, media).status_code == 404


def test_wrong_method_is_405(client, instructor, media):
    client.force_login(instructor)
    assert client.post(reverse("questions:media", args=[media.uuid])).status_code == 405


def test_media_whose_bytes_are_not_an_image_is_not_served_even_to_the_owner(
    client, instructor, bank
):
    # A row stored before sniffing existed, declared with a spelling the old check missed.
    item = Media(bank=bank, original_name="x.svg", content_type="image/svg+xml ", sha256="b" * 64)
    item.file.save("x.svg", ContentFile(b"<svg><script>alert(1)</script></svg>"), save=True)
    assert get(client, instructor, item).status_code == 404


def test_media_is_served_with_the_sniffed_type_not_the_stored_one(client, instructor, bank):
    item = Media(bank=bank, original_name="x.png", content_type="text/html", sha256="c" * 64)
    item.file.save("x.png", ContentFile(PNG), save=True)
    response = get(client, instructor, item)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_an_import_and_an_edit_record_which_media_each_version_shows(bank, t0):
    import base64
    import json

    from questions.importing import ImportFile
    from questions.models import Question
    from questions.services import question_edit, questions_import

    question = {
        "external_id": "m1",
        "stem": '<img src="media:ecg.png">',
        "options": ["a", "b"],
        "key": "A",
        "media": [{"name": "ecg.png", "data_base64": base64.b64encode(PNG).decode()}],
    }
    questions_import(
        bank=bank, files=[ImportFile("m.jsonl", json.dumps(question).encode())], now=t0
    )
    imported = Question.objects.get(external_id="m1")
    (media,) = imported.current_version.media.all()
    assert media.bank == bank and media.content_type == "image/png"
    edited = question_edit(question=imported, now=t0, source="Edited")
    assert list(edited.media.all()) == [media]
