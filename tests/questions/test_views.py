"""The media endpoint, which examinees use too (the instructor pages are in tests/teach)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from questions.models import Bank, Media

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(instructor):
    bank = Bank.objects.create(slug="ck-core", name="CK core")
    bank.owners.add(instructor)
    item = Media(bank=bank, original_name="ecg.png", content_type="image/png", sha256="a" * 64)
    item.file.save("ecg.png", ContentFile(b"\x89PNG\r\n\x1a\nfake"), save=False)
    item.save()
    return item


def login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


def test_media_is_served_inline_to_the_banks_owner(instructor_client, media):
    # Who else may fetch it (examinees shown the question) is in tests/security/test_media_access.py.
    response = instructor_client.get(media.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_media_needs_a_signed_in_user(client, media):
    assert login_redirect(client.get(media.get_absolute_url()))


def test_unknown_media_is_not_found(examinee_client):
    url = reverse("questions:media", args=["00000000-0000-0000-0000-000000000000"])
    assert examinee_client.get(url).status_code == 404


def test_media_refuses_post(examinee_client, media):
    assert examinee_client.post(media.get_absolute_url()).status_code == 405
