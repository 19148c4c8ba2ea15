"""Join links and password resets, with mail through the real SMTP server; one invitation goes
through the real Celery worker."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, PasswordReset
from accounts.roster import Invitee
from exams.models import Cohort
from tests.accounts.test_invitations import NEW_PASSWORD, signs_in
from tests.conftest import PASSWORD


@pytest.fixture
def cohort(instructor):
    return Cohort.objects.create(owner=instructor, name="Step 2 CK spring")


@pytest.fixture
def join_url(cohort):
    link = services.join_link_set(cohort=cohort, action="enable", now=timezone.now())
    return reverse("accounts:join", args=[link.code])


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks, eager_tasks, mailbox):
    return lambda: django_capture_on_commit_callbacks(execute=True)


# Join links ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_in_examinee_joins_through_the_link(examinee_client, examinee, cohort, join_url):
    assert b"Join Step 2 CK spring" in examinee_client.get(join_url).content
    assert examinee_client.post(join_url).status_code == 302
    assert list(cohort.members.all()) == [examinee]


@pytest.mark.django_db
def test_an_instructor_cannot_join_as_an_examinee(client, other_instructor, cohort, join_url):
    client.force_login(other_instructor)
    assert client.post(join_url).status_code == 403
    assert not cohort.members.exists()


@pytest.mark.django_db
def test_a_visitor_signs_up_through_the_link_and_confirms_by_email(
    client, cohort, join_url, on_commit, mailbox, django_user_model
):
    with on_commit():
        response = client.post(
            join_url,
            {
                "username": "yan",
                "email": "Yan@example.org",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )
    assert b"Check your email" in response.content
    assert not django_user_model.objects.filter(username="yan").exists()
    link = mailbox.link(mailbox.wait_for(1)[0])
    assert client.post(link).status_code == 302
    yan = django_user_model.objects.get(username="yan")
    assert yan.email == "yan@example.org" and list(cohort.members.all()) == [yan]
    assert signs_in(client, "yan", NEW_PASSWORD)


@pytest.mark.django_db
def test_signing_up_with_an_address_that_has_an_account_says_the_same(
    client, cohort, join_url, on_commit, mailbox, examinee, django_user_model
):
    examinee.email = "ada@example.org"
    examinee.save()
    with on_commit():
        response = client.post(
            join_url,
            {
                "username": "ada2",
                "email": "ada@example.org",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )
    assert b"Check your email" in response.content
    # Following the emailed link enrols the existing account; no second account is made.
    client.post(mailbox.link(mailbox.wait_for(1)[0]))
    assert list(cohort.members.all()) == [examinee]
    assert not django_user_model.objects.filter(username="ada2").exists()


@pytest.mark.django_db
def test_a_sign_up_with_a_weak_password_is_refused(client, join_url):
    response = client.post(
        join_url,
        {"username": "yan", "email": "yan@example.org", "password1": "yan", "password2": "yan"},
    )
    assert response.status_code == 200 and b"too short" in response.content
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_link_turned_off_or_replaced_stops_working(instructor_client, examinee, cohort, join_url):
    examinee_client = Client()
    examinee_client.force_login(examinee)
    toggle = reverse("teach:cohort_join_link", args=[cohort.uuid])
    instructor_client.post(toggle, {"action": "disable"})
    assert examinee_client.get(join_url).status_code == 404
    assert examinee_client.post(join_url).status_code == 404
    instructor_client.post(toggle, {"action": "regenerate"})
    cohort.join_link.refresh_from_db()
    assert examinee_client.get(join_url).status_code == 404
    new_url = reverse("accounts:join", args=[cohort.join_link.code])
    assert examinee_client.post(new_url).status_code == 302
    assert cohort.members.count() == 1


@pytest.mark.django_db
def test_the_cohort_page_shows_the_join_link_and_invitations(instructor_client, cohort, join_url):
    Invitation.objects.create(
        cohort=cohort, email="zoe@example.org", base_url="http://x", created_at=timezone.now()
    )
    page = instructor_client.get(reverse("teach:cohort_detail", args=[cohort.uuid]))
    assert join_url.encode() in page.content
    assert b"zoe@example.org" in page.content


@pytest.mark.django_db
def test_the_join_page_is_csrf_protected(examinee, cohort, join_url):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(examinee)
    assert strict.post(join_url).status_code == 403
    assert not cohort.members.exists()


# Password reset ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_password_is_reset_through_the_emailed_link(client, examinee, on_commit, mailbox):
    examinee.email = "ada@example.org"
    examinee.save()
    with on_commit():
        response = client.post(reverse("accounts:password_reset"), {"email": "ADA@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    link = mailbox.link(mailbox.wait_for(1)[0])
    form_page = client.get(link, follow=True)  # Django moves the token into the session
    assert b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert signs_in(client, "ada", NEW_PASSWORD)
    assert not signs_in(client, "ada", PASSWORD)
    # The link was single-use.
    assert b"This link cannot be used" in client.get(link, follow=True).content


@pytest.mark.django_db
def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client, on_commit, mailbox
):
    with on_commit():
        response = client.post(reverse("accounts:password_reset"), {"email": "no@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mailbox.messages == []


@pytest.mark.django_db
def test_resets_are_limited_per_email_and_per_client_address(
    client, examinee, on_commit, mailbox, settings
):
    settings.MAIL_REQUEST_EMAIL_LIMIT = 2
    settings.MAIL_REQUEST_ADDRESS_LIMIT = 4
    examinee.email = "ada@example.org"
    examinee.save()
    url = reverse("accounts:password_reset")
    for _ in range(3):
        with on_commit():
            assert client.post(url, {"email": "ada@example.org"}).status_code == 302
    assert len(mailbox.wait_for(2)) == 2  # the third looked the same but sent nothing
    assert client.post(url, {"email": "other@example.org"}).status_code == 302
    assert client.post(url, {"email": "third@example.org"}).status_code == 429
    assert PasswordReset.objects.count() == 4


@pytest.mark.django_db
def test_the_reset_request_is_csrf_protected(examinee):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("accounts:password_reset"), {"email": "ada@example.org"})
    assert response.status_code == 403


# The real worker ----------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_invitation_queued_on_commit(
    celery_worker_process, smtp_server, instructor, client, django_user_model
):
    smtp_server.clear()
    cohort = Cohort.objects.create(owner=instructor, name="Worker cohort")
    services.invitations_create(
        cohort=cohort,
        invited_by=instructor,
        invitees=[Invitee(line=1, email="wren@example.org", name="Wren")],
        base_url="http://testserver",
        now=timezone.now(),
    )
    (message,) = smtp_server.wait_for(1, timeout=30)
    assert message["To"] == "wren@example.org"
    link = smtp_server.link(message)
    client.post(link, {"username": "wren", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert list(cohort.members.values_list("username", flat=True)) == ["wren"]
    assert Invitation.objects.get().sent_at is not None
