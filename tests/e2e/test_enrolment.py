"""Enrolment in a real browser (issue #12, point 9's first half): the instructor invites three
examinees by uploading a CSV; the Celery worker mails the links through a real SMTP server; one
invitee follows the link from the received message, sets a password, signs in and finds the
cohort's exam on their home page."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

CSV = "name,email\nZoe Adams,zoe@example.org\nYan Li,yan@example.org\nXu Wen,xu@example.org\n"
NEW_PASSWORD = "plum-orchard-lantern-42"


def test_invited_by_csv_an_examinee_accepts_by_email_and_sees_the_assignment(
    live_server,
    browser,
    page,
    login,
    instructor,
    short_exam,
    smtp_server,
    celery_worker_process,
    screenshot,
    tmp_path,
):
    from django.utils import timezone

    from exams.models import Assignment, Cohort

    smtp_server.clear()
    cohort = Cohort.objects.create(owner=instructor, name="Spring pilot")
    now = timezone.now()
    Assignment.objects.create(
        exam=short_exam,
        cohort=cohort,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=7),
        max_attempts=1,
    )
    roster = tmp_path / "spring.csv"
    roster.write_text(CSV)

    login(page, "dr_ito")
    page.goto(f"{live_server.url}/teach/cohorts/{cohort.uuid}/")
    page.set_input_files("#id_file", str(roster))
    page.click("text=Send invitations")
    page.wait_for_selector("#members >> text=3 people invited or enrolled")
    for address in ("zoe@example.org", "yan@example.org", "xu@example.org"):
        assert address in page.inner_text("#members")
    screenshot(page, "instructor-invitations", full_page=True)

    messages = smtp_server.wait_for(3, timeout=30)
    assert sorted(m["To"] for m in messages) == [
        "xu@example.org",
        "yan@example.org",
        "zoe@example.org",
    ]
    (zoe_mail,) = smtp_server.to("zoe@example.org")
    link = smtp_server.link(zoe_mail)
    assert link.startswith(live_server.url)

    invitee = browser.new_context(viewport={"width": 1366, "height": 820}).new_page()
    try:
        invitee.goto(link)
        invitee.fill("#id_username", "zoe")
        invitee.fill("#id_password1", NEW_PASSWORD)
        invitee.fill("#id_password2", NEW_PASSWORD)
        invitee.click("text=Set password and join")
        invitee.wait_for_url(f"{live_server.url}/accounts/login/")
        assert "You are in Spring pilot" in invitee.inner_text("main")
        invitee.fill("#id_username", "zoe@example.org")
        invitee.fill("#id_password", NEW_PASSWORD)
        invitee.click("button[type=submit]")
        invitee.wait_for_url(f"{live_server.url}/exams/")
        assert short_exam.title in invitee.inner_text("main")
        # The link worked once.
        invitee.goto(link)
        assert "This link cannot be used" in invitee.inner_text("main")
    finally:
        invitee.context.close()
    assert list(cohort.members.values_list("username", flat=True)) == ["zoe"]
