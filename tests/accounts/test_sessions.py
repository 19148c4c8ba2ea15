"""The prepared-statement session read and user fetch keep Django's rules."""

from datetime import timedelta

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.backends import ModelBackend
from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_signed_in_examinee_is_recognised(examinee_client):
    response = examinee_client.get(reverse("exams:examinee_home"))
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "ada"


def test_an_expired_session_is_not_loaded(examinee_client):
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = examinee_client.get(reverse("exams:examinee_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_deactivated_user_is_signed_out(examinee_client, examinee):
    examinee.is_active = False
    examinee.save()
    response = examinee_client.get(reverse("exams:examinee_home"))
    assert response.status_code == 302


def test_the_store_reads_what_django_wrote_and_nothing_for_unknown_keys(examinee):
    store = SessionStore()
    store[SESSION_KEY] = str(examinee.pk)
    store[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
    store.save()
    again = SessionStore(session_key=store.session_key)
    assert again[SESSION_KEY] == str(examinee.pk)
    missing = SessionStore(session_key="x" * 32)
    assert missing.get(SESSION_KEY) is None
    assert missing.session_key is None


def test_get_user_matches_djangos_own(examinee):
    fast = ModelBackend().get_user(str(examinee.pk))
    assert fast == examinee
    assert (fast.username, fast.role, fast.email, fast.last_login) == (
        examinee.username,
        examinee.role,
        examinee.email,
        examinee.last_login,
    )
    assert ModelBackend().get_user("not-a-number") is None
    assert ModelBackend().get_user(str(examinee.pk + 999)) is None
