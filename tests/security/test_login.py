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


# Issue #10, finding 5: throttling must never let someone else lock the real user out.

PROXY = "10.0.0.2"


def sign_in(client, username, password, *, address, forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def test_wrong_passwords_from_elsewhere_never_lock_the_user_out_behind_a_proxy(
    client, examinee, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(6):
        sign_in(client, examinee.username, "x", address=PROXY, forwarded="203.0.113.9")
    locked = sign_in(client, examinee.username, PASSWORD, address=PROXY, forwarded="203.0.113.9")
    assert locked.status_code == 429
    response = sign_in(client, examinee.username, PASSWORD, address=PROXY, forwarded="198.51.100.7")
    assert response.status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_throttle(client, examinee, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 3
    # Only the entry our proxy appended counts; what the client wrote to its left does not.
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        sign_in(client, examinee.username, "x", address=PROXY, forwarded=f"{forged}, 203.0.113.9")
    response = sign_in(
        client, examinee.username, PASSWORD, address=PROXY, forwarded="4.4.4.4, 203.0.113.9"
    )
    assert response.status_code == 429


def test_forwarded_for_is_ignored_without_trusted_proxies(client, examinee, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.AXES_FAILURE_LIMIT = 3
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        sign_in(client, examinee.username, "x", address="203.0.113.9", forwarded=forged)
    response = sign_in(
        client, examinee.username, PASSWORD, address="203.0.113.9", forwarded="4.4.4.4"
    )
    assert response.status_code == 429


def test_one_address_guessing_many_usernames_is_throttled(
    client, examinee, other_examinee, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for n in range(6):
        sign_in(client, f"guess{n}", "x", address="203.0.113.9")
    response = sign_in(client, other_examinee.username, PASSWORD, address="203.0.113.9")
    assert response.status_code == 429
    # Everyone else, at their own address, signs in as usual.
    assert sign_in(client, examinee.username, PASSWORD, address="198.51.100.7").status_code == 302


def test_a_few_typos_by_classmates_sharing_an_address_lock_nobody_else_out(
    client, examinee, other_examinee, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for n in range(4):
        sign_in(client, f"classmate{n}", "typo", address="203.0.113.9")
    assert sign_in(client, examinee.username, PASSWORD, address="203.0.113.9").status_code == 302


def test_failures_during_a_lockout_do_not_extend_it(client, examinee, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in(client, examinee.username, "x", address="203.0.113.9")
    first_locked_at = AccessAttempt.objects.get().attempt_time
    for _ in range(3):
        assert sign_in(client, examinee.username, "x", address="203.0.113.9").status_code == 429
    assert AccessAttempt.objects.get().attempt_time == first_locked_at
    # An hour after the lock began, the real password works again.
    AccessAttempt.objects.update(attempt_time=first_locked_at - timedelta(hours=1, seconds=1))
    response = sign_in(client, examinee.username, PASSWORD, address="203.0.113.9")
    assert response.status_code == 302


def test_signing_in_to_ones_own_account_does_not_clear_the_addresss_count(
    client, examinee, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for n in range(5):
        sign_in(client, f"guess{n}", "x", address="203.0.113.9")
    assert sign_in(client, examinee.username, PASSWORD, address="203.0.113.9").status_code == 302
    client.logout()
    sign_in(client, "guess5", "x", address="203.0.113.9")
    assert sign_in(client, examinee.username, PASSWORD, address="203.0.113.9").status_code == 429
