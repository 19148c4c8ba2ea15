"""Invitations by email, through a real SMTP server (aiosmtpd): the test reads each received
message, takes its link and follows it with the test client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation
from accounts.roster import parse_invitees
from exams.models import Cohort
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "plum-orchard-lantern-42"


@pytest.fixture
def cohort(instructor):
    return Cohort.objects.create(owner=instructor, name="Step 2 CK spring")


@pytest.fixture
def invite(instructor_client, cohort, mailbox, eager_tasks, django_capture_on_commit_callbacks):
    """POST the invite form; queued mail is sent (eagerly) through the SMTP server."""

    def post(data=None, files=None, **extra):
        payload = {**(data or {}), **(files or {})}
        with django_capture_on_commit_callbacks(execute=True):
            return instructor_client.post(
                reverse("teach:cohort_invite", args=[cohort.uuid]), payload, **extra
            )

    return post


def signs_in(client, username: str, password: str) -> bool:
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    signed_in = response.status_code == 302 and "_auth_user_id" in client.session
    client.logout()
    return signed_in


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("class.csv", text.encode(), content_type="text/csv")


# The list ---------------------------------------------------------------------------------------


def test_a_list_takes_names_and_emails_in_either_order_with_or_without_a_header():
    rows = parse_invitees("Name,Email\nAda Lovelace, ADA@Example.org\nben@example.org\n")
    assert [(r.line, r.email, r.name) for r in rows] == [
        (2, "ada@example.org", "Ada Lovelace"),
        (3, "ben@example.org", ""),
    ]
    rows = parse_invitees("cy@example.org;Cy Young\n")
    assert [(r.email, r.name) for r in rows] == [("cy@example.org", "Cy Young")]


def test_every_bad_line_is_named():
    with pytest.raises(ValidationError) as caught:
        parse_invitees("Ada, ada@example.org\nBen, ben@\n\nCy\nAda again, ADA@example.org\n")
    assert caught.value.messages == [
        "Line 2: “ben@” is not a valid email address.",
        "Line 4: no email address.",
        "Line 5: ada@example.org is already on line 1.",
    ]


def test_a_bad_csv_invites_nobody_and_names_the_line(invite, cohort, mailbox):
    response = invite(files={"file": csv_file("Ada,ada@example.org\nBen,not-an-email\n")})
    assert response.status_code == 302
    assert not Invitation.objects.exists()
    assert mailbox.messages == []


def test_a_bad_csv_over_htmx_shows_the_line_once(invite, cohort):
    response = invite(
        files={"file": csv_file("Ada,ada@example.org\nBen,not-an-email\n")},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.count("Line 2: “not-an-email” is not a valid email address.") == 1
    assert "Nobody was invited" in body
    assert not Invitation.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_clearly(invite):
    response = invite(
        files={"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00a", content_type="text/csv")},
        HTTP_HX_REQUEST="true",
    )
    assert "not UTF-8 text" in response.content.decode()
    assert not Invitation.objects.exists()


# From the CSV to an account -----------------------------------------------------------------------


def test_an_invitee_from_a_csv_sets_a_password_through_the_emailed_link_once(
    invite, cohort, mailbox, client, django_user_model
):
    response = invite(
        files={
            "file": csv_file(
                "name,email\nZoe Adams,zoe@example.org\nYan Li,yan@example.org\n"
                "Xu Wen,xu@example.org\n"
            )
        }
    )
    assert response.status_code == 302
    messages = mailbox.wait_for(3)
    assert sorted(m["To"] for m in messages) == [
        "xu@example.org",
        "yan@example.org",
        "zoe@example.org",
    ]
    (zoe_mail,) = mailbox.to("zoe@example.org")
    assert "Step 2 CK spring" in zoe_mail["Subject"]
    link = mailbox.link(zoe_mail)
    assert link.startswith("http://testserver/accounts/invitations/")
    # Only the digest of the token is stored.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(token_hash=token).exists()

    page = client.get(link)
    assert page.status_code == 200
    assert b"zoe@example.org" in page.content
    response = client.post(
        link, {"username": "zoe", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    zoe = django_user_model.objects.get(username="zoe")
    assert (zoe.email, zoe.first_name, zoe.role) == ("zoe@example.org", "Zoe Adams", "examinee")
    assert list(cohort.members.all()) == [zoe]
    # The link works once.
    assert client.get(link).status_code == 404
    assert client.post(link, {"username": "zoe2"}).status_code == 404
    # And the password works, by username or by email.
    assert signs_in(client, "zoe", NEW_PASSWORD)
    assert signs_in(client, "ZOE@example.org", NEW_PASSWORD)


def test_a_weak_password_is_refused_by_djangos_validators(invite, mailbox, client):
    invite({"name": "Zoe", "email": "zoe@example.org"})
    link = mailbox.link(mailbox.wait_for(1)[0])
    response = client.post(link, {"username": "zoe", "password1": "zoe", "password2": "zoe"})
    assert response.status_code == 200
    assert b"too short" in response.content
    assert not Invitation.objects.filter(accepted_at__isnull=False).exists()


# Existing accounts, and never telling which -------------------------------------------------------


def test_an_existing_examinee_is_enrolled_not_duplicated(
    invite, cohort, mailbox, client, examinee, django_user_model
):
    examinee.email = "ada@example.org"
    examinee.save()
    invite({"email": "Ada@Example.org"})
    link = mailbox.link(mailbox.wait_for(1)[0])
    page = client.get(link)
    assert b"will be added to this cohort" in page.content
    assert client.post(link).status_code == 302
    assert list(cohort.members.all()) == [examinee]
    assert django_user_model.objects.filter(email__iexact="ada@example.org").count() == 1


def test_the_answer_is_the_same_for_new_examinee_and_instructor_addresses(
    invite, cohort, examinee, other_instructor
):
    examinee.email = "ada@example.org"
    examinee.save()
    other_instructor.email = "osei@example.org"
    other_instructor.save()
    answers = []
    for address in ("nobody@example.org", "ada@example.org", "osei@example.org"):
        response = invite({"email": address}, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        answers.append(body.split('role="status">')[1].split("<")[0])
    assert answers == ["1 person invited or enrolled: each gets an email."] * 3
    # Nobody was enrolled before following a link, so the member list tells nothing either.
    assert not cohort.members.exists()


def test_an_instructor_account_is_never_enrolled_as_an_examinee(
    invite, cohort, mailbox, client, other_instructor
):
    other_instructor.email = "osei@example.org"
    other_instructor.save()
    invite({"email": "osei@example.org"})
    link = mailbox.link(mailbox.wait_for(1)[0])
    assert client.post(link).status_code == 409
    assert not cohort.members.exists()


def test_an_expired_link_is_refused(cohort, instructor, mailbox, client):
    invitation = Invitation.objects.create(
        cohort=cohort,
        email="late@example.org",
        base_url="http://testserver",
        created_at=timezone.now(),
    )
    sent = timezone.now() - timedelta(days=30)
    assert services.invitation_send(invitation_id=invitation.pk, now=sent)
    link = mailbox.link(mailbox.wait_for(1)[0])
    assert client.get(link).status_code == 404
    assert b"expired or was already used" in client.get(link).content


def test_sending_twice_sends_one_mail(cohort, mailbox):
    invitation = Invitation.objects.create(
        cohort=cohort,
        email="one@example.org",
        base_url="http://testserver",
        created_at=timezone.now(),
    )
    now = timezone.now()
    assert services.invitation_send(invitation_id=invitation.pk, now=now) is True
    assert services.invitation_send(invitation_id=invitation.pk, now=now) is False
    assert len(mailbox.wait_for(1)) == 1


def test_a_failed_send_releases_the_claim_for_the_retry(cohort, mailbox, settings):
    invitation = Invitation.objects.create(
        cohort=cohort,
        email="two@example.org",
        base_url="http://testserver",
        created_at=timezone.now(),
    )
    settings.EMAIL_PORT = 1  # nothing listens there
    with pytest.raises(OSError):
        services.invitation_send(invitation_id=invitation.pk, now=timezone.now())
    invitation.refresh_from_db()
    assert (invitation.sent_at, invitation.token_hash) == (None, None)


def test_inviting_again_replaces_the_old_link(invite, mailbox, client):
    invite({"email": "zoe@example.org"})
    first = mailbox.link(mailbox.wait_for(1)[0])
    invite({"email": "zoe@example.org"})
    second = mailbox.link(mailbox.wait_for(2)[1])
    assert Invitation.objects.count() == 1
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_the_form_needs_exactly_one_way_of_inviting(invite):
    response = invite({}, HTTP_HX_REQUEST="true")
    assert "Enter one email, paste a list or upload a CSV" in response.content.decode()
    response = invite({"email": "a@example.org", "rows": "b@example.org"}, HTTP_HX_REQUEST="true")
    assert "one of the three at a time" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_pasted_list_invites_everyone(invite, cohort, mailbox):
    response = invite({"rows": "Ada, ada@example.org\nben@example.org"}, HTTP_HX_REQUEST="true")
    assert "2 people invited or enrolled" in response.content.decode()
    assert len(mailbox.wait_for(2)) == 2
    assert b"ada@example.org" in response.content  # the invitations table


# Who may invite ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"), [("anon", "login"), ("examinee", 403), ("other_instructor", 404)]
)
@pytest.mark.parametrize("name", ["teach:cohort_invite", "teach:cohort_join_link"])
def test_only_the_cohorts_owner_may_invite_or_change_its_join_link(
    client, cohort, examinee, other_instructor, who, expected, name
):
    if who != "anon":
        client.force_login({"examinee": examinee, "other_instructor": other_instructor}[who])
    response = client.post(
        reverse(name, args=[cohort.uuid]), {"email": "x@example.org", "action": "enable"}
    )
    if expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected
    assert not Invitation.objects.exists()
    assert not hasattr(cohort, "join_link") or cohort.join_link is None


@pytest.mark.parametrize("name", ["teach:cohort_invite", "teach:cohort_join_link"])
def test_invite_and_join_link_refuse_get(instructor_client, cohort, name):
    assert instructor_client.get(reverse(name, args=[cohort.uuid])).status_code == 405


def test_following_a_link_signs_out_whoever_used_the_browser_before(
    invite, mailbox, client, other_examinee, cohort
):
    invite({"email": "zoe@example.org"})
    link = mailbox.link(mailbox.wait_for(1)[0])
    client.force_login(other_examinee)
    client.post(link, {"username": "zoe", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert list(cohort.members.values_list("username", flat=True)) == ["zoe"]


def test_the_invitation_page_is_csrf_protected(invite, mailbox, cohort):
    from django.test import Client

    invite({"email": "zoe@example.org"})
    link = mailbox.link(mailbox.wait_for(1)[0])
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        link, {"username": "zoe", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 403
    assert not cohort.members.exists()


def test_sign_in_takes_a_username_or_an_email_and_a_wrong_password_either_way_fails(
    examinee, client
):
    examinee.email = "ada@example.org"
    examinee.save()
    assert signs_in(client, "ada", PASSWORD)
    assert signs_in(client, "Ada@Example.org", PASSWORD)
    assert not signs_in(client, "ada@example.org", "wrong-password")
    assert not signs_in(client, "nobody@example.org", PASSWORD)
