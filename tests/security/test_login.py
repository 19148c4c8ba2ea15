"""Login: throttling after repeated failures, and the demo of a working sign-in."""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_correct_password_signs_in(client, examinee):
    response = client.post(
        reverse("accounts:login"), {"username": examinee.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("exams:examinee_home")).status_code == 200


def test_wrong_password_shows_an_error(client, examinee):
    response = client.post(
        reverse("accounts:login"), {"username": examinee.username, "password": "nope"}
    )
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_login_is_throttled_after_repeated_failures(client, examinee, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": examinee.username, "password": "x"})
    response = client.post(
        reverse("accounts:login"), {"username": examinee.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert client.get(reverse("exams:examinee_home")).status_code == 302


def test_login_page_refuses_other_methods(client):
    assert client.put(reverse("accounts:login")).status_code == 405
